// SPDX-License-Identifier: MIT
#pragma once
/// \file rectified_flow.hpp
/// The linear interpolant of rectified flow / flow matching (Liu et al. 2022; Lipman et al. 2022),
/// on this library's clock (data at t = 0, noise at t = 1):
///   x_t = (1 - t) x_0 + t eps,   s = 1 - t,  sigma = t,  conditional velocity dx/dt = eps - x_0.
/// As an SDE it has drift (s'/s) x = -x / (1 - t) and g^2 = 2 t / (1 - t), both singular at t = 1,
/// so sample it through its velocity (probability-flow) form, which is regular: dx/dt = s' x0 + sigma' eps.
/// Flow-matching code with the opposite clock (t = 0 noise, t = 1 data) maps by t_ours = 1 - t_theirs
/// and u_ours = -u_theirs.

#include <sdeflow/core/types.hpp>

#include <concepts>

namespace sdeflow {

template <std::floating_point Scalar = double>
class rectified_flow {
 public:
  using scalar_type = Scalar;

  [[nodiscard]] Scalar mean_scale(Scalar t) const { return 1 - t; }
  [[nodiscard]] Scalar marginal_std(Scalar t) const { return t; }
  [[nodiscard]] Scalar mean_scale_derivative(Scalar) const { return Scalar(-1); }
  [[nodiscard]] Scalar marginal_std_derivative(Scalar) const { return Scalar(1); }
  [[nodiscard]] Scalar drift_rate(Scalar t) const { return -1 / (1 - t); }
  [[nodiscard]] Scalar diffusion(Scalar t) const { return std::sqrt(2 * t / (1 - t)); }
  [[nodiscard]] Scalar horizon() const { return Scalar(1); }
  [[nodiscard]] Scalar prior_std() const { return Scalar(1); }

  template <State X>
  void drift(const X& x, Scalar t, X& out) const { out = drift_rate(t) * x; }
};

}  // namespace sdeflow
