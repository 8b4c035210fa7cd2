// SPDX-License-Identifier: MIT
#pragma once
/// \file geometric_brownian_motion.hpp
/// Geometric Brownian motion dX = m X dt + c X dW (multiplicative, diagonal noise: each component
/// has its own Wiener process). Not affine-Gaussian, but solvable given the path:
///   X_t = X_0 exp((m - c^2/2) t + c W_t),
/// which makes it the standard strong-convergence test problem.

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <cmath>
#include <concepts>

namespace sdeflow {

template <std::floating_point Scalar = double>
class geometric_brownian_motion {
 public:
  using scalar_type = Scalar;

  geometric_brownian_motion(Scalar rate, Scalar volatility) : m_(rate), c_(volatility) {
    detail::require(std::isfinite(rate), "geometric_brownian_motion", "rate", rate, "must be finite");
    detail::require(std::isfinite(volatility) && volatility >= 0, "geometric_brownian_motion", "volatility",
                    volatility, "must be finite and >= 0");
  }

  template <State X>
  void drift(const X& x, Scalar, X& out) const { out = m_ * x; }
  template <State X>
  void diffusion(const X& x, Scalar, X& out) const { out = c_ * x; }

  /// Exact solution X_t = X_0 exp((m - c^2/2) t + c W_t), element-wise; W has the shape of x0.
  template <class D1, class D2>
  [[nodiscard]] typename D1::PlainObject exact(const Eigen::MatrixBase<D1>& x0, Scalar t,
                                               const Eigen::MatrixBase<D2>& W) const {
    return (x0.array() * ((m_ - c_ * c_ / 2) * t + c_ * W.array()).exp()).matrix();
  }
  [[nodiscard]] Scalar rate() const { return m_; }
  [[nodiscard]] Scalar volatility() const { return c_; }

 private:
  Scalar m_, c_;
};

}  // namespace sdeflow
