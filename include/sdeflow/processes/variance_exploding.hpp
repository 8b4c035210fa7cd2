// SPDX-License-Identifier: MIT
#pragma once
/// \file variance_exploding.hpp
/// The variance-exploding SDE (Song et al. 2021; NCSN, Song & Ermon 2019):
///   sigma_ve(t) = smin (smax/smin)^(t/T),  dx = sigma_ve(t) sqrt(2 ln(smax/smin) / T) dW.
/// The transition from x(0) is exact: s = 1, marginal_std(t) = sqrt(sigma_ve(t)^2 - smin^2), which is
/// 0 at t = 0. (score_sde instead reports sigma_ve(t) and treats x(0) as already perturbed by smin;
/// noise_level(t) gives that value.) The prior is N(0, smax^2 I).

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <cmath>
#include <concepts>

namespace sdeflow {

template <std::floating_point Scalar = double>
class ve_process {
 public:
  using scalar_type = Scalar;

  explicit ve_process(Scalar sigma_min = Scalar(0.01), Scalar sigma_max = Scalar(50), Scalar horizon = Scalar(1))
      : smin_(sigma_min), smax_(sigma_max), T_(horizon) {
    detail::require(std::isfinite(sigma_min) && sigma_min > 0, "ve_process", "sigma_min", sigma_min,
                    "must be finite and > 0");
    detail::require(std::isfinite(sigma_max) && sigma_max > sigma_min, "ve_process", "sigma_max", sigma_max,
                    "must be finite and > sigma_min");
    detail::require(std::isfinite(horizon) && horizon > 0, "ve_process", "horizon", horizon, "must be finite and > 0");
    log_ratio_ = std::log(smax_ / smin_);
  }

  /// sigma_ve(t) = smin (smax/smin)^(t/T).
  [[nodiscard]] Scalar noise_level(Scalar t) const { return smin_ * std::exp(log_ratio_ * t / T_); }
  [[nodiscard]] Scalar mean_scale(Scalar) const { return Scalar(1); }
  [[nodiscard]] Scalar marginal_std(Scalar t) const {
    // sigma_ve^2 - smin^2 = smin^2 (exp(2 L t / T) - 1), written with expm1 for accuracy near t = 0.
    return smin_ * std::sqrt(std::expm1(2 * log_ratio_ * t / T_));
  }
  [[nodiscard]] Scalar drift_rate(Scalar) const { return Scalar(0); }
  [[nodiscard]] Scalar diffusion(Scalar t) const { return noise_level(t) * std::sqrt(2 * log_ratio_ / T_); }
  [[nodiscard]] Scalar horizon() const { return T_; }
  [[nodiscard]] Scalar prior_std() const { return smax_; }
  [[nodiscard]] Scalar sigma_min() const { return smin_; }
  [[nodiscard]] Scalar sigma_max() const { return smax_; }

  template <State X>
  void drift(const X& x, Scalar, X& out) const { out.setZero(x.rows(), x.cols()); }

 private:
  Scalar smin_, smax_, T_, log_ratio_{};
};

}  // namespace sdeflow
