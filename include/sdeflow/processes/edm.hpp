// SPDX-License-Identifier: MIT
#pragma once
/// \file edm.hpp
/// The EDM process (Karras et al. 2022, "Elucidating the design space of diffusion-based generative
/// models"): sigma itself is the time. x_t = x_0 + t eps, so s = 1, sigma(t) = t, f = 0, g(t) = sqrt(2 t).
/// The horizon is sigma_max (default 80) and the prior N(0, sigma_max^2 I).

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <cmath>
#include <concepts>

namespace sdeflow {

template <std::floating_point Scalar = double>
class edm_process {
 public:
  using scalar_type = Scalar;

  explicit edm_process(Scalar sigma_max = Scalar(80)) : smax_(sigma_max) {
    detail::require(std::isfinite(sigma_max) && sigma_max > 0, "edm_process", "sigma_max", sigma_max,
                    "must be finite and > 0");
  }
  [[nodiscard]] Scalar mean_scale(Scalar) const { return Scalar(1); }
  [[nodiscard]] Scalar marginal_std(Scalar t) const { return t; }
  [[nodiscard]] Scalar mean_scale_derivative(Scalar) const { return Scalar(0); }
  [[nodiscard]] Scalar marginal_std_derivative(Scalar) const { return Scalar(1); }
  [[nodiscard]] Scalar drift_rate(Scalar) const { return Scalar(0); }
  [[nodiscard]] Scalar diffusion(Scalar t) const { return std::sqrt(2 * t); }
  [[nodiscard]] Scalar horizon() const { return smax_; }
  [[nodiscard]] Scalar prior_std() const { return smax_; }

  template <State X>
  void drift(const X& x, Scalar, X& out) const { out.setZero(x.rows(), x.cols()); }

 private:
  Scalar smax_;
};

}  // namespace sdeflow
