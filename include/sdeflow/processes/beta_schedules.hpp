// SPDX-License-Identifier: MIT
#pragma once
/// \file beta_schedules.hpp
/// Noise-rate schedules beta(t) for the variance-preserving family (vp_process, sub_vp_process).
/// A schedule is a small struct with
///   beta(t)      the instantaneous rate,
///   integral(t)  B(t) = int_0^t beta(u) du, in closed form,
///   horizon()    the end time T.
///
/// - linear_beta: beta(t) = bmin + (t/T)(bmax - bmin) (Ho et al. 2020; Song et al. 2021, defaults 0.1, 20).
/// - cosine_beta: abar(t) = cos^2(u(t)) / cos^2(u(0)), u(t) = ((t/T) + o)/(1 + o) pi/2, o = 0.008
///                (Nichol & Dhariwal 2021), B = -ln abar, beta = -d ln abar / dt = pi tan(u) / (T (1 + o)).
///                beta diverges at t = T, so it is clipped at max_beta (default 1000): past the time t*
///                where beta reaches the cap (t* = 0.998 T for the defaults, where abar = 1e-5), beta stays
///                at the cap and B grows linearly, B(t) = B(t*) + max_beta (t - t*). beta and B stay
///                consistent, so the process is exactly affine and s(T) = exp(-B(T)/2) ~ 1.2e-3 > 0.

#include <sdeflow/core/error.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <limits>
#include <numbers>

namespace sdeflow {

template <std::floating_point Scalar = double>
struct linear_beta {
  using scalar_type = Scalar;

  explicit linear_beta(Scalar beta_min = Scalar(0.1), Scalar beta_max = Scalar(20), Scalar horizon = Scalar(1))
      : bmin(beta_min), bmax(beta_max), T(horizon) {
    detail::require(std::isfinite(beta_min) && beta_min >= 0, "linear_beta", "beta_min", beta_min,
                    "must be finite and >= 0");
    detail::require(std::isfinite(beta_max) && beta_max > beta_min, "linear_beta", "beta_max", beta_max,
                    "must be finite and > beta_min");
    detail::require(std::isfinite(horizon) && horizon > 0, "linear_beta", "horizon", horizon, "must be finite and > 0");
  }
  [[nodiscard]] Scalar beta(Scalar t) const noexcept { return bmin + (t / T) * (bmax - bmin); }
  [[nodiscard]] Scalar integral(Scalar t) const noexcept { return bmin * t + (bmax - bmin) * t * t / (2 * T); }
  [[nodiscard]] Scalar horizon() const noexcept { return T; }

  Scalar bmin, bmax, T;
};

template <std::floating_point Scalar = double>
struct cosine_beta {
  using scalar_type = Scalar;

  explicit cosine_beta(Scalar offset = Scalar(0.008), Scalar horizon = Scalar(1), Scalar max_beta = Scalar(1000))
      : o(offset), T(horizon), beta_cap(max_beta) {
    detail::require(std::isfinite(offset) && offset > 0, "cosine_beta", "offset", offset, "must be finite and > 0");
    detail::require(std::isfinite(horizon) && horizon > 0, "cosine_beta", "horizon", horizon, "must be finite and > 0");
    detail::require(std::isfinite(max_beta) && max_beta > 0, "cosine_beta", "max_beta", max_beta,
                    "must be finite and > 0");
    // beta(t*) = max_beta: u* = atan(max_beta T (1 + o) / pi), t* = T ((2 u* / pi)(1 + o) - o).
    const Scalar u_star = std::atan(beta_cap * T * (1 + o) / std::numbers::pi_v<Scalar>);
    t_star = std::max(Scalar(0), T * ((2 * u_star / std::numbers::pi_v<Scalar>) * (1 + o) - o));
  }
  [[nodiscard]] Scalar angle(Scalar t) const noexcept {
    return ((t / T) + o) / (1 + o) * std::numbers::pi_v<Scalar> / 2;
  }
  [[nodiscard]] Scalar beta(Scalar t) const noexcept {
    if (t >= t_star) return beta_cap;
    return std::numbers::pi_v<Scalar> * std::tan(angle(t)) / (T * (1 + o));
  }
  [[nodiscard]] Scalar integral(Scalar t) const noexcept {
    const Scalar tc = std::min(t, t_star);
    const Scalar B = -2 * std::log(std::cos(angle(tc)) / std::cos(angle(Scalar(0))));
    return t > t_star ? B + beta_cap * (t - t_star) : B;
  }
  [[nodiscard]] Scalar horizon() const noexcept { return T; }
  /// Where beta reaches max_beta and the closed-form cosine part ends.
  [[nodiscard]] Scalar clip_time() const noexcept { return t_star; }

  Scalar o, T, beta_cap, t_star{};
};

}  // namespace sdeflow
