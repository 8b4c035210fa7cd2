// SPDX-License-Identifier: MIT
#pragma once
/// \file likelihood.hpp
/// Exact log-likelihoods and an invertible encoding through the probability-flow ODE
/// dx/dt = f~(x, t) = a(t) x - 1/2 g(t)^2 score(x, t)  (a = drift_rate, g = diffusion):
///
///   log p_{t0}(x) = log p_T(x_T) + int_{t0}^{T} div f~(x_t, t) dt,
///   div f~ = d a(t) - 1/2 g(t)^2 div score(x_t, t)
///
/// (instantaneous change of variables: Chen et al. 2018, Thm. 1; Song et al. 2021, Eq. 39). The state
/// and the running integral are solved together, forward from t0 to T, by adaptive Dormand-Prince
/// (integrators/dormand_prince.hpp), whose error control covers the integral too.
///
/// - log_likelihood(process, score, x, options[, prior]): per-column log p_{t0}(x), its parts and,
///   for Hutchinson, its standard error. The divergence is exact (divergence_estimator::exact, via
///   score.divergence, d JVPs, or dual numbers: dynamics/divergence.hpp) or Hutchinson's estimate
///   with `probes` fixed probes per sample (Rademacher or Gaussian), each integrated separately so the
///   spread across probes gives the standard error of their mean. The prior defaults to
///   N(0, prior_std^2 I); pass the exact log p_T when it is known.
/// - bits_per_dim(log_p, d[, scale]): -log2 p / d, optionally for data that were scaled by `scale`.
/// - encode(process, score, x, options) / decode(process, score, z, options): data at t0 to the
///   latent at T and back, with the same ODE and solver (deterministic, so decode(encode(x)) = x up
///   to the solver tolerance).
///
/// t0 > 0 is needed for scores that blow up at t = 0 (epsilon networks divide by sigma(t)); the
/// likelihood is then that of the data perturbed to t0, as in Song et al. 2021 (t0 = 1e-5).

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/noise/random.hpp>
#include <sdeflow/dynamics/divergence.hpp>
#include <sdeflow/dynamics/probability_flow.hpp>
#include <sdeflow/integrators/dormand_prince.hpp>
#include <sdeflow/processes/affine.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <utility>
#include <vector>

namespace sdeflow {

enum class divergence_estimator { exact, hutchinson };

struct likelihood_options {
  divergence_estimator divergence = divergence_estimator::exact;
  probe_kind probes_kind = probe_kind::rademacher;
  std::size_t probes = 16;       ///< Hutchinson probes per sample (>= 2 for a standard error)
  std::uint64_t seed = 0;        ///< probe stream
  std::uint64_t sample_offset = 0;  ///< column j uses the probes of sample sample_offset + j
  double t_start = 0;            ///< t0: the data time (> 0 for scores singular at t = 0)
  double t_end = -1;             ///< T: negative means the process's horizon()
  dopri5_options ode{.rtol = 1e-8, .atol = 1e-9};
};

template <class S>
struct likelihood_result {
  using row_type = Eigen::Matrix<S, 1, Eigen::Dynamic>;
  row_type log_likelihood;      ///< log p_{t0}(x_j): prior_log_density + delta_log_p
  row_type prior_log_density;   ///< log p_T(z_j)
  row_type delta_log_p;         ///< int_{t0}^{T} div f~ dt (mean over probes for Hutchinson)
  row_type standard_error;      ///< Hutchinson: sd over probes / sqrt(probes); exact: 0
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> latent;  ///< z_j = x_T
  adaptive_report report;
};

namespace detail {

/// The checked span [t0, T] of a PF-ODE solve: t_end < 0 means the process's horizon.
inline std::pair<double, double> time_span(double t_start, double t_end, double horizon, const char* where) {
  require(std::isfinite(t_start) && t_start >= 0, where, "t_start", t_start, "must be finite and >= 0");
  require(!std::isnan(t_end), where, "t_end", t_end, "must be a number (negative: the horizon)");
  const double T = t_end < 0 ? horizon : t_end;
  require(std::isfinite(T) && T > t_start, where, "t_end", T, "must be finite and > t_start");
  require(T <= horizon, where, "t_end", T, message("must not exceed the process's horizon ", horizon).c_str());
  return {t_start, T};
}

/// PF-ODE on an augmented state: rows [0, d) are x, rows d.. the running integrals of the divergence
/// (one row for the exact divergence, one per probe for Hutchinson).
template <AffineProcess P, class Score>
class augmented_flow {
 public:
  using S = typename P::scalar_type;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

  augmented_flow(const P& p, const Score& score, Eigen::Index d, std::vector<M> probes)
      : flow_(p, std::cref(score)), d_(d), probes_(std::move(probes)) {}

  /// Const and safe to share: the x block and its drift are per-thread scratch (thread_local).
  void drift(const M& y, S t, M& out) const {
    thread_local M x_, dx_;
    x_ = y.topRows(d_);
    dx_.resize(d_, y.cols());
    flow_.drift(x_, t, dx_);
    out.topRows(d_) = dx_;
    const P& p = flow_.process();
    const Score& score = flow_.score().get();
    const S g = p.diffusion(t);
    const S half_g2 = g * g / 2;
    const S base = static_cast<S>(d_) * p.drift_rate(t);
    if (probes_.empty()) {
      out.row(d_) = (base - half_g2 * score_divergence(score, x_, t).array()).matrix();
    } else {
      for (std::size_t m = 0; m < probes_.size(); ++m) {
        out.row(d_ + static_cast<Eigen::Index>(m)) =
            (base - half_g2 * probe_quadratic(score, x_, t, probes_[m]).array()).matrix();
      }
    }
  }

 private:
  probability_flow<P, std::reference_wrapper<const Score>> flow_;
  Eigen::Index d_;
  std::vector<M> probes_;
};

}  // namespace detail

/// log p_{t0}(x_j) for each column of x under the PF-ODE of (process, score). `prior(z)` returns
/// log p_T per column of the latent batch z (default: N(0, prior_std^2 I)).
template <AffineProcess P, class Score, class Derived, class Prior>
  requires ScoreFunction<Score, Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic>>
[[nodiscard]] likelihood_result<typename P::scalar_type> log_likelihood(const P& process, const Score& score,
                                                                       const Eigen::MatrixBase<Derived>& x,
                                                                       const likelihood_options& opt, const Prior& prior) {
  using S = typename P::scalar_type;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  const auto [t_start, t_end] = detail::time_span(opt.t_start, opt.t_end, static_cast<double>(process.horizon()),
                                                  "log_likelihood");
  if (opt.divergence == divergence_estimator::hutchinson) {
    detail::require(opt.probes >= 2, "log_likelihood", "probes", opt.probes,
                    "must be at least 2 (the standard error needs two)");
    detail::require(opt.probes < detail::index_limit, "log_likelihood", "probes", opt.probes, "must be below 2^32");
  }
  detail::require(x.rows() >= 1, "log_likelihood", "x.rows()", x.rows(), "must be at least 1");
  const Eigen::Index d = x.rows(), n = x.cols();
  if (n == 0) {  // the empty-batch rule: no probes, no prior, no solve
    likelihood_result<S> empty;
    empty.latent.resize(d, 0);
    return empty;
  }
  const S t0 = static_cast<S>(t_start);
  const S T = static_cast<S>(t_end);

  std::vector<M> probes;
  if (opt.divergence == divergence_estimator::hutchinson) {
    const normal_source source(opt.seed, 0x68757463u);  // "hutc": a stream of its own
    for (std::size_t m = 0; m < opt.probes; ++m) {
      M v(d, n);
      fill_probes(v, opt.probes_kind, source, m, opt.sample_offset);
      probes.push_back(std::move(v));
    }
  }
  const Eigen::Index extra = probes.empty() ? 1 : static_cast<Eigen::Index>(probes.size());
  M y = M::Zero(d + extra, n);
  y.topRows(d) = x.derived().template cast<S>();
  const detail::augmented_flow<P, Score> sys(process, score, d, std::move(probes));

  likelihood_result<S> r;
  r.report = integrate_adaptive(sys, y, t0, T, opt.ode);
  r.latent = y.topRows(d);
  r.prior_log_density = prior(r.latent);
  detail::require(r.prior_log_density.size() == n, "log_likelihood", "prior(z).size()", r.prior_log_density.size(),
                  "must equal the number of columns");
  const M integrals = y.bottomRows(extra);
  r.delta_log_p = integrals.colwise().mean();
  if (extra > 1) {
    const S k = static_cast<S>(extra);
    const auto centred = integrals.rowwise() - r.delta_log_p;
    r.standard_error = (centred.array().square().colwise().sum() / (k - 1) / k).sqrt().matrix();
  } else {
    r.standard_error = likelihood_result<S>::row_type::Zero(n);
  }
  r.log_likelihood = r.prior_log_density + r.delta_log_p;
  return r;
}

/// As above with the default prior N(0, prior_std^2 I) at T.
template <AffineProcess P, class Score, class Derived>
  requires ScoreFunction<Score, Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic>>
[[nodiscard]] likelihood_result<typename P::scalar_type> log_likelihood(const P& process, const Score& score,
                                                                       const Eigen::MatrixBase<Derived>& x,
                                                                       const likelihood_options& opt = {}) {
  return log_likelihood(process, score, x, opt, [&](const auto& z) { return prior_log_density(process, z); });
}

/// Bits per dimension -log2 p(x) / d of each column's log-likelihood (nats). If the model saw the data
/// scaled, x = scale * x_raw, the raw data's density is p(x) scale^d, and that is what is reported.
template <class Derived>
[[nodiscard]] Eigen::Matrix<typename Derived::Scalar, 1, Eigen::Dynamic> bits_per_dim(
    const Eigen::MatrixBase<Derived>& log_p, Eigen::Index d, double scale = 1) {
  using S = typename Derived::Scalar;
  detail::require(d >= 1, "bits_per_dim", "d", d, "must be at least 1");
  detail::require(std::isfinite(scale) && scale > 0, "bits_per_dim", "scale", scale, "must be finite and > 0");
  const S dd = static_cast<S>(d);
  return ((-(log_p.derived().array()) - dd * static_cast<S>(std::log(scale))) / (dd * std::numbers::ln2_v<S>)).matrix();
}

/// Options of encode/decode: the time span and the adaptive solver's tolerances.
struct flow_options {
  double t_start = 0;  ///< data time t0
  double t_end = -1;   ///< latent time T (negative: horizon())
  dopri5_options ode{.rtol = 1e-9, .atol = 1e-10};
};

namespace detail {
template <AffineProcess P, class Score, class Derived>
  requires ScoreFunction<Score, Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic>>
[[nodiscard]] std::pair<Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic>, adaptive_report>
solve_flow(const P& process, const Score& score, const Eigen::MatrixBase<Derived>& x, const flow_options& opt,
           bool forward, const char* where) {
  using S = typename P::scalar_type;
  const auto [t0, T] = time_span(opt.t_start, opt.t_end, static_cast<double>(process.horizon()), where);
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> y = x.derived().template cast<S>();
  const probability_flow<P, std::reference_wrapper<const Score>> sys(process, std::cref(score));
  const S a = static_cast<S>(t0), b = static_cast<S>(T);
  const adaptive_report rep = forward ? integrate_adaptive(sys, y, a, b, opt.ode) : integrate_adaptive(sys, y, b, a, opt.ode);
  return {std::move(y), rep};
}
}  // namespace detail

/// Data (columns of x, at t_start) to latents at t_end along the PF-ODE.
template <AffineProcess P, class Score, class Derived>
  requires ScoreFunction<Score, Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic>>
[[nodiscard]] Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic> encode(
    const P& process, const Score& score, const Eigen::MatrixBase<Derived>& x, const flow_options& opt = {}) {
  return detail::solve_flow(process, score, x, opt, true, "encode").first;
}

/// Latents (columns of z, at t_end) to data at t_start along the PF-ODE.
template <AffineProcess P, class Score, class Derived>
  requires ScoreFunction<Score, Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic>>
[[nodiscard]] Eigen::Matrix<typename P::scalar_type, Eigen::Dynamic, Eigen::Dynamic> decode(
    const P& process, const Score& score, const Eigen::MatrixBase<Derived>& z, const flow_options& opt = {}) {
  return detail::solve_flow(process, score, z, opt, false, "decode").first;
}

}  // namespace sdeflow
