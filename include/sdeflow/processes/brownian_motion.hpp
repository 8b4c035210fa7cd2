// SPDX-License-Identifier: MIT
#pragma once
/// \file brownian_motion.hpp
/// Scaled Brownian motion dx = c dW: s(t) = 1, sigma(t) = c sqrt(t), g = c. As a diffusion process
/// its prior at T is N(0, c^2 T I).

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <cmath>
#include <concepts>

namespace sdeflow {

template <std::floating_point Scalar = double>
class brownian_motion {
 public:
  using scalar_type = Scalar;

  explicit brownian_motion(Scalar scale = Scalar(1), Scalar horizon = Scalar(1)) : c_(scale), T_(horizon) {
    detail::require(std::isfinite(scale) && scale > 0, "brownian_motion", "scale", scale, "must be finite and > 0");
    detail::require(std::isfinite(horizon) && horizon > 0, "brownian_motion", "horizon", horizon,
                    "must be finite and > 0");
  }

  [[nodiscard]] Scalar mean_scale(Scalar) const { return Scalar(1); }
  [[nodiscard]] Scalar marginal_std(Scalar t) const { return c_ * std::sqrt(t); }
  [[nodiscard]] Scalar drift_rate(Scalar) const { return Scalar(0); }
  [[nodiscard]] Scalar diffusion(Scalar) const { return c_; }
  [[nodiscard]] Scalar horizon() const { return T_; }
  [[nodiscard]] Scalar prior_std() const { return c_ * std::sqrt(T_); }
  [[nodiscard]] Scalar scale() const { return c_; }

  template <State X>
  void drift(const X& x, Scalar, X& out) const { out.setZero(x.rows(), x.cols()); }

 private:
  Scalar c_, T_;
};

}  // namespace sdeflow
