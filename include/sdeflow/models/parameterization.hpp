// SPDX-License-Identifier: MIT
#pragma once
/// \file parameterization.hpp
/// A network's output, whatever it predicts, turned into the two quantities every sampler needs:
/// the denoised estimate x0_hat and the noise estimate eps_hat, with x = s x0 + sigma eps.
///
/// | prediction | output o                     | x0_hat                         | eps_hat                        |
/// |------------|------------------------------|--------------------------------|--------------------------------|
/// | score      | grad log p_t                 | (x + sigma^2 o) / s            | -sigma o                       |
/// | epsilon    | eps                          | (x - sigma o) / s              | o                              |
/// | data       | x0 (a denoiser D)            | o                              | (x - s o) / sigma              |
/// | v          | s eps - sigma x0 (Salimans & Ho 2022) | (s x - sigma o)/(s^2+sigma^2) | (sigma x + s o)/(s^2+sigma^2) |
/// | flow       | dx/dt = s' x0 + sigma' eps   | (sigma' x - sigma o) / J       | (s o - s' x) / J,  J = s sigma' - sigma s' |
///
/// For rectified flow (s = 1 - t, sigma = t) the flow row is u = eps - x0, x0 = x - t u, eps = x + (1 - t) u.
/// `model` is also a ScoreFunction (score = -eps_hat / sigma), so any parameterization drives the
/// reverse SDE and the PF-ODE too. Rows that divide by s or J throw invalid_argument where that is 0;
/// a data prediction at sigma = 0 gives eps_hat = 0 (the limit -sigma grad log p -> 0 for data with a
/// density), so ODE samplers may evaluate at the clean end t = 0.
///
/// \code
///   sdeflow::model net(vp, [&](const Eigen::MatrixXd& x, double t) { return eps_net(x, t); },
///                      sdeflow::prediction::epsilon);
///   Eigen::MatrixXd x0(2, n), eps(2, n);
///   net.predict(x, 0.5, x0, eps);
/// \endcode

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/execution.hpp>

#include <cmath>
#include <string_view>
#include <utility>

namespace sdeflow {

enum class prediction { score, epsilon, data, v, flow };

[[nodiscard]] constexpr std::string_view to_string(prediction p) noexcept {
  switch (p) {
    case prediction::score: return "score";
    case prediction::epsilon: return "epsilon";
    case prediction::data: return "data";
    case prediction::v: return "v";
    case prediction::flow: return "flow";
  }
  return "?";
}

/// ds/dt and dsigma/dt of a schedule: the process's own derivatives when it has them, otherwise
/// from an AffineProcess's drift rate a = s'/s and diffusion g (sigma' = (g^2 + 2 a sigma^2) / (2 sigma)).
template <NoiseSchedule P>
[[nodiscard]] typename P::scalar_type mean_scale_derivative(const P& p, typename P::scalar_type t) {
  if constexpr (requires { p.mean_scale_derivative(t); }) {
    return p.mean_scale_derivative(t);
  } else if constexpr (AffineProcess<P>) {
    return p.drift_rate(t) * p.mean_scale(t);
  } else {
    throw invalid_argument(detail::message("mean_scale_derivative: this schedule has no time derivative (t = ", t, ")"));
  }
}
template <NoiseSchedule P>
[[nodiscard]] typename P::scalar_type marginal_std_derivative(const P& p, typename P::scalar_type t) {
  if constexpr (requires { p.marginal_std_derivative(t); }) {
    return p.marginal_std_derivative(t);
  } else if constexpr (AffineProcess<P>) {
    const auto sd = p.marginal_std(t);
    const auto g = p.diffusion(t);
    detail::require(sd > 0, "marginal_std_derivative", "marginal_std(t)", sd, "must be > 0");
    return (g * g + 2 * p.drift_rate(t) * sd * sd) / (2 * sd);
  } else {
    throw invalid_argument(detail::message("marginal_std_derivative: this schedule has no time derivative (t = ", t, ")"));
  }
}

/// A model of any parameterization under a NoiseSchedule.
template <NoiseSchedule P, class Model>
class model {
 public:
  using scalar_type = typename P::scalar_type;
  using process_type = P;
  static constexpr bool whole_batch = detail::whole_batch_v<Model>;

  model(P process, Model m, prediction kind) : p_(std::move(process)), m_(std::move(m)), kind_(kind) {}

  /// One model evaluation: x0_hat and eps_hat at (x, t), written into x0 and eps (plain matrices of
  /// x's shape; they need not have x's compile-time size).
  template <State X, State X0, State E>
  void predict(const X& x, scalar_type t, X0& x0, E& eps) const {
    const scalar_type s = p_.mean_scale(t);
    const scalar_type sd = p_.marginal_std(t);
    if constexpr (requires { detail::unwrap(m_).evaluate(x, t, eps); }) {
      detail::unwrap(m_).evaluate(x, t, eps);  // a network that writes into caller storage (sdeflow::mlp)
      if (eps.rows() != x.rows() || eps.cols() != x.cols()) {
        throw dimension_mismatch(detail::message("model returned a ", eps.rows(), " x ", eps.cols(), " result for a ",
                                                 x.rows(), " x ", x.cols(), " state at t = ", t));
      }
    } else {
      auto&& raw = m_(x, t);  // held in eps for now
      if (raw.rows() != x.rows() || raw.cols() != x.cols()) {
        throw dimension_mismatch(detail::message("model returned a ", raw.rows(), " x ", raw.cols(), " result for a ",
                                                 x.rows(), " x ", x.cols(), " state at t = ", t));
      }
      eps = std::forward<decltype(raw)>(raw);
    }
    switch (kind_) {
      case prediction::score:
        require_positive(s, "mean_scale(t)", t);
        x0 = (x + (sd * sd) * eps) / s;
        eps *= -sd;
        break;
      case prediction::epsilon:
        require_positive(s, "mean_scale(t)", t);
        x0 = (x - sd * eps) / s;
        break;
      case prediction::data:
        x0 = eps;
        // At sigma = 0 (clean data) E[eps | x] = -sigma grad log p -> 0 for data with a density.
        if (sd > 0) {
          eps = (x - s * x0) / sd;
        } else {
          eps.setZero();
        }
        break;
      case prediction::v: {
        const scalar_type n2 = s * s + sd * sd;
        x0 = (s * x - sd * eps) / n2;
        eps = (sd * x + s * eps) / n2;
        break;
      }
      case prediction::flow: {
        const scalar_type ds = mean_scale_derivative(p_, t);
        const scalar_type dsd = marginal_std_derivative(p_, t);
        const scalar_type J = s * dsd - sd * ds;
        require_positive(std::fabs(J), "|s sigma' - sigma s'|", t);
        x0 = (dsd * x - sd * eps) / J;
        eps = (s * eps - ds * x) / J;
        break;
      }
    }
  }

  /// The score -eps_hat / sigma into out (the network's raw output, unchanged, for a score model).
  template <State X, State O>
  void score(const X& x, scalar_type t, O& out) const {
    if (kind_ == prediction::score) {
      detail::assign_checked(out, m_, x, t, "model");
      return;
    }
    const scalar_type sd = p_.marginal_std(t);
    require_positive(sd, "marginal_std(t)", t);
    X x0(x.rows(), x.cols());
    predict(x, t, x0, out);
    out *= -1 / sd;
  }

  /// The score -eps_hat / sigma: a model is a ScoreFunction.
  template <State X>
  [[nodiscard]] X operator()(const X& x, scalar_type t) const {
    X out(x.rows(), x.cols());
    score(x, t, out);
    return out;
  }

  /// The score's Jacobian applied to v per column, when the network has jvp(x, t, v): every
  /// parameterization gives score = a(t) o + b(t) x (score_coefficients), so J_score v = a J_o v + b v.
  template <State X, State V>
    requires requires(const Model& m, const X& x, scalar_type t, const V& v) { detail::unwrap(m).jvp(x, t, v); }
  [[nodiscard]] X jvp(const X& x, scalar_type t, const V& v) const {
    const auto [a, b] = score_coefficients(t);
    X out = detail::unwrap(m_).jvp(x, t, v);
    if (out.rows() != x.rows() || out.cols() != x.cols()) {
      throw dimension_mismatch(detail::message("model jvp returned a ", out.rows(), " x ", out.cols(),
                                               " result for a ", x.rows(), " x ", x.cols(), " state at t = ", t));
    }
    out *= a;
    out += b * v;
    return out;
  }

  /// The score's divergence per column, when the network has divergence(x, t): a div o + b d.
  template <State X>
    requires requires(const Model& m, const X& x, scalar_type t) { detail::unwrap(m).divergence(x, t); }
  [[nodiscard]] Eigen::Matrix<scalar_type, 1, Eigen::Dynamic> divergence(const X& x, scalar_type t) const {
    const auto [a, b] = score_coefficients(t);
    Eigen::Matrix<scalar_type, 1, Eigen::Dynamic> div = detail::unwrap(m_).divergence(x, t);
    if (div.size() != x.cols()) {
      throw dimension_mismatch(detail::message("model divergence returned ", div.size(), " values for ", x.cols(),
                                               " columns at t = ", t));
    }
    return (a * div.array() + b * static_cast<scalar_type>(x.rows())).matrix();
  }

  /// (a, b) with score = a o + b x for this parameterization, o the network output:
  /// score (1, 0); epsilon (-1/sigma, 0); data (s/sigma^2, -1/sigma^2); v (-s/(sigma n), -1/n) with
  /// n = s^2 + sigma^2; flow (-s/(sigma J), s'/(sigma J)) with J = s sigma' - sigma s'.
  [[nodiscard]] std::pair<scalar_type, scalar_type> score_coefficients(scalar_type t) const {
    const scalar_type s = p_.mean_scale(t);
    const scalar_type sd = p_.marginal_std(t);
    if (kind_ != prediction::score) require_positive(sd, "marginal_std(t)", t);
    switch (kind_) {
      case prediction::score: return {scalar_type(1), scalar_type(0)};
      case prediction::epsilon: return {-1 / sd, scalar_type(0)};
      case prediction::data: return {s / (sd * sd), -1 / (sd * sd)};
      case prediction::v: {
        const scalar_type n2 = s * s + sd * sd;
        return {-s / (sd * n2), -1 / n2};
      }
      case prediction::flow: {
        const scalar_type ds = mean_scale_derivative(p_, t);
        const scalar_type J = s * marginal_std_derivative(p_, t) - sd * ds;
        require_positive(std::fabs(J), "|s sigma' - sigma s'|", t);
        return {-s / (sd * J), ds / (sd * J)};
      }
    }
    return {scalar_type(1), scalar_type(0)};
  }

  [[nodiscard]] const P& process() const noexcept { return p_; }
  [[nodiscard]] const Model& network() const noexcept { return m_; }
  [[nodiscard]] prediction kind() const noexcept { return kind_; }

 private:
  void require_positive(scalar_type v, const char* what, scalar_type t) const {
    if (!(v > 0)) {
      throw invalid_argument(detail::message("model (", to_string(kind_), " prediction): ", what, " = ", v,
                                             " at t = ", t, "; the conversion divides by it"));
    }
  }
  P p_;
  Model m_;
  prediction kind_;
};

template <NoiseSchedule P, class Model>
model(P, Model, prediction) -> model<P, Model>;

/// Express the exact x0 / eps of a batch in a given parameterization: the inverse of model::predict.
/// Used to build exact models of any kind from an analytic score, and to test round trips.
template <NoiseSchedule P, State X>
[[nodiscard]] X to_prediction(const P& p, prediction kind, const X& x, const X& x0, const X& eps,
                              typename P::scalar_type t) {
  const auto s = p.mean_scale(t);
  const auto sd = p.marginal_std(t);
  switch (kind) {
    case prediction::score: return -eps / sd;
    case prediction::epsilon: return eps;
    case prediction::data: return x0;
    case prediction::v: return s * eps - sd * x0;
    case prediction::flow: return mean_scale_derivative(p, t) * x0 + marginal_std_derivative(p, t) * eps;
  }
  return x;
}

}  // namespace sdeflow
