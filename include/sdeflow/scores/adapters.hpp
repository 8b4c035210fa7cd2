// SPDX-License-Identifier: MIT
#pragma once
/// \file adapters.hpp
/// Turn a model's output into a score under an AffineProcess (x_t = s x_0 + sigma eps):
/// - epsilon_score: noise prediction eps_hat(x, t)      -> score = -eps_hat / sigma.
/// - denoiser_score: data prediction D(x, t) ~ E[x_0|x_t] -> score = (s D - x) / sigma^2.
/// Both are ScoreFunctions. The model is any callable model(x, t) returning a d x n result; its
/// shape is checked, and sigma(t) = 0 (the score is undefined there) throws invalid_argument.
///
/// \code
///   auto score = sdeflow::epsilon_score(vp, [&](const Eigen::MatrixXd& x, double t) { return net(x, t); });
/// \endcode

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>

#include <utility>

namespace sdeflow {

template <AffineProcess P, class Model>
class epsilon_score {
 public:
  using scalar_type = typename P::scalar_type;
  epsilon_score(P process, Model model) : p_(std::move(process)), model_(std::move(model)) {}

  template <State X>
  [[nodiscard]] X operator()(const X& x, scalar_type t) const {
    const scalar_type sigma = p_.marginal_std(t);
    detail::require(sigma > 0, "epsilon_score", "marginal_std(t)", sigma, "must be > 0 (score undefined at this t)");
    X out;
    detail::assign_checked(out, model_, x, t, "epsilon model");
    out *= -1 / sigma;
    return out;
  }
  [[nodiscard]] const P& process() const noexcept { return p_; }
  [[nodiscard]] const Model& model() const noexcept { return model_; }

 private:
  P p_;
  Model model_;
};

template <AffineProcess P, class Model>
class denoiser_score {
 public:
  using scalar_type = typename P::scalar_type;
  denoiser_score(P process, Model model) : p_(std::move(process)), model_(std::move(model)) {}

  template <State X>
  [[nodiscard]] X operator()(const X& x, scalar_type t) const {
    const scalar_type sigma = p_.marginal_std(t);
    detail::require(sigma > 0, "denoiser_score", "marginal_std(t)", sigma, "must be > 0 (score undefined at this t)");
    X out;
    detail::assign_checked(out, model_, x, t, "denoiser model");
    out = (p_.mean_scale(t) * out - x) / (sigma * sigma);
    return out;
  }
  [[nodiscard]] const P& process() const noexcept { return p_; }
  [[nodiscard]] const Model& model() const noexcept { return model_; }

 private:
  P p_;
  Model model_;
};

template <AffineProcess P, class Model>
epsilon_score(P, Model) -> epsilon_score<P, Model>;
template <AffineProcess P, class Model>
denoiser_score(P, Model) -> denoiser_score<P, Model>;

}  // namespace sdeflow
