// SPDX-License-Identifier: MIT
#pragma once
/// \file ornstein_uhlenbeck.hpp
/// Ornstein-Uhlenbeck process dx = -theta (x - mu) dt + c dW (mu the same in every component).
/// Closed form: E[x_t | x_0] = mu + (x_0 - mu) e^{-theta t},
///              Var[x_t | x_0] = c^2 (1 - e^{-2 theta t}) / (2 theta); stationary N(mu, c^2 / (2 theta)).

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <cmath>
#include <concepts>

namespace sdeflow {

template <std::floating_point Scalar = double>
class ornstein_uhlenbeck {
 public:
  using scalar_type = Scalar;

  ornstein_uhlenbeck(Scalar theta, Scalar mu, Scalar scale) : theta_(theta), mu_(mu), c_(scale) {
    detail::require(std::isfinite(theta) && theta > 0, "ornstein_uhlenbeck", "theta", theta, "must be finite and > 0");
    detail::require(std::isfinite(mu), "ornstein_uhlenbeck", "mu", mu, "must be finite");
    detail::require(std::isfinite(scale) && scale > 0, "ornstein_uhlenbeck", "scale", scale, "must be finite and > 0");
  }

  template <State X>
  void drift(const X& x, Scalar, X& out) const { out = -theta_ * (x.array() - mu_).matrix(); }
  [[nodiscard]] Scalar diffusion(Scalar) const { return c_; }

  /// E[x_t | x_0] for a scalar component x_0.
  [[nodiscard]] Scalar mean(Scalar x0, Scalar t) const { return mu_ + (x0 - mu_) * std::exp(-theta_ * t); }
  /// Var[x_t | x_0] per component.
  [[nodiscard]] Scalar variance(Scalar t) const { return -c_ * c_ * std::expm1(-2 * theta_ * t) / (2 * theta_); }
  [[nodiscard]] Scalar stationary_variance() const { return c_ * c_ / (2 * theta_); }
  [[nodiscard]] Scalar theta() const { return theta_; }
  [[nodiscard]] Scalar mu() const { return mu_; }
  [[nodiscard]] Scalar scale() const { return c_; }

 private:
  Scalar theta_, mu_, c_;
};

}  // namespace sdeflow
