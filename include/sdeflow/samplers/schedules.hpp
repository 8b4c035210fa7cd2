// SPDX-License-Identifier: MIT
#pragma once
/// \file schedules.hpp
/// Decreasing time grids for the samplers (T -> t_end). Each returns a validated time_grid.
/// - uniform_schedule(T, t_end, N):            t_i = T + i (t_end - T) / N.
/// - quadratic_schedule(T, t_end, N):          t_i = t_end + (T - t_end) (1 - i/N)^2 (dense near the data).
/// - log_snr_schedule(p, T, t_end, N):         uniform in the half log-SNR lambda = ln(s / sigma) (Lu et al. 2022).
/// - karras_schedule(p, smin, smax, N, rho):   sigma_i = (smax^{1/rho} + i/(N-1) (smin^{1/rho} - smax^{1/rho}))^rho
///                                             for i < N, then sigma_N = 0 (Karras et al. 2022, Eq. 5), where
///                                             sigma means sigma(t)/s(t), mapped to times of the process.
/// - exponential_schedule(p, smin, smax, N):    sigma_i = exp(ln smax + i/(N-1) (ln smin - ln smax)) for i < N,
///                                             then 0 (uniform in log sigma; k-diffusion's get_sigmas_exponential).
/// - polyexponential_schedule(p, smin, smax, N, rho = 1): sigma_i = exp(ln smin + (1 - i/(N-1))^rho
///                                             (ln smax - ln smin)) for i < N, then 0 (k-diffusion's
///                                             get_sigmas_polyexponential; rho = 1 is exponential, rho > 1
///                                             spends more steps at small sigma).
/// - timesteps(...) in processes/discrete_schedule.hpp: linspace / leading / trailing DDPM spacing.
/// - time_grid<>::from_points(list): any user list.
/// - time_at_sigma_ratio(p, r):                the t where sigma(t)/s(t) = r (bisection; the ratio increases with t).

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/time_grid.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace sdeflow {

/// sigma(t) / s(t): the noise level in the EDM variable x / s.
template <NoiseSchedule P>
[[nodiscard]] typename P::scalar_type sigma_ratio(const P& p, typename P::scalar_type t) {
  return p.marginal_std(t) / p.mean_scale(t);
}

/// The time t in [0, horizon] with sigma(t)/s(t) = r. Throws invalid_argument if r is out of range.
template <NoiseSchedule P>
[[nodiscard]] typename P::scalar_type time_at_sigma_ratio(const P& p, typename P::scalar_type r) {
  using S = typename P::scalar_type;
  S lo = 0;
  S hi = p.horizon();
  const S rmax = sigma_ratio(p, hi);
  detail::require(std::isfinite(r) && r >= 0, "time_at_sigma_ratio", "r", r, "must be finite and >= 0");
  // Allow rounding above the top (e.g. pow(pow(smax, 1/rho), rho)): that is the horizon.
  detail::require(!(r > rmax * (1 + 64 * std::numeric_limits<S>::epsilon())), "time_at_sigma_ratio", "r", r,
                  "exceeds sigma/s at the horizon");
  if (r >= rmax) return hi;
  if (r == 0) return S(0);
  for (int it = 0; it < 400 && hi - lo > 2 * std::numeric_limits<S>::epsilon() * hi; ++it) {
    const S mid = (lo + hi) / 2;
    (sigma_ratio(p, mid) < r ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

template <std::floating_point S>
[[nodiscard]] time_grid<S> uniform_schedule(S T, S t_end, std::size_t steps) {
  detail::require(std::isfinite(T), "uniform_schedule", "T", T, "must be finite");
  detail::require(std::isfinite(t_end), "uniform_schedule", "t_end", t_end, "must be finite");
  detail::require(t_end < T, "uniform_schedule", "t_end", t_end, detail::message("must be below T = ", T).c_str());
  return time_grid<S>::uniform(T, t_end, steps);
}

template <std::floating_point S>
[[nodiscard]] time_grid<S> quadratic_schedule(S T, S t_end, std::size_t steps) {
  detail::require(std::isfinite(T), "quadratic_schedule", "T", T, "must be finite");
  detail::require(std::isfinite(t_end), "quadratic_schedule", "t_end", t_end, "must be finite");
  detail::require(t_end < T, "quadratic_schedule", "t_end", t_end, detail::message("must be below T = ", T).c_str());
  std::vector<S> t(detail::grid_points(steps, "quadratic_schedule"));
  for (std::size_t i = 0; i <= steps; ++i) {
    const S u = 1 - static_cast<S>(i) / static_cast<S>(steps);
    t[i] = t_end + (T - t_end) * u * u;
  }
  t[0] = T;
  t[steps] = t_end;
  return time_grid<S>::computed(std::move(t), "quadratic_schedule");
}

template <NoiseSchedule P>
[[nodiscard]] time_grid<typename P::scalar_type> log_snr_schedule(const P& p, typename P::scalar_type T,
                                                                  typename P::scalar_type t_end, std::size_t steps) {
  using S = typename P::scalar_type;
  detail::require(std::isfinite(T), "log_snr_schedule", "T", T, "must be finite");
  detail::require(std::isfinite(t_end), "log_snr_schedule", "t_end", t_end, "must be finite");
  detail::require(t_end < T, "log_snr_schedule", "t_end", t_end, detail::message("must be below T = ", T).c_str());
  detail::require(p.marginal_std(t_end) > 0, "log_snr_schedule", "t_end", t_end,
                  "must have sigma(t_end) > 0 (log-SNR is infinite where sigma = 0)");
  const S l0 = -std::log(sigma_ratio(p, T));
  const S l1 = -std::log(sigma_ratio(p, t_end));
  std::vector<S> t(detail::grid_points(steps, "log_snr_schedule"));
  t[0] = T;
  t[steps] = t_end;
  for (std::size_t i = 1; i < steps; ++i) {
    const S lam = l0 + (l1 - l0) * static_cast<S>(i) / static_cast<S>(steps);
    t[i] = time_at_sigma_ratio(p, std::exp(-lam));
  }
  return time_grid<S>::computed(std::move(t), "log_snr_schedule");
}

namespace detail {
/// The checks of the sigma-list schedules (Karras, exponential, polyexponential).
template <class S>
void require_sigma_range(S sigma_min, S sigma_max, S rho, const char* who) {
  require(std::isfinite(sigma_min) && sigma_min > 0, who, "sigma_min", sigma_min, "must be finite and > 0");
  require(std::isfinite(sigma_max) && sigma_max > sigma_min, who, "sigma_max", sigma_max, "must be finite and > sigma_min");
  require(std::isfinite(rho) && rho > 0, who, "rho", rho, "must be finite and > 0");
}

/// A grid of `steps` steps whose first steps points have sigma/s = sigma_at(u), u = i / (steps - 1) in
/// [0, 1] (u = 0 for one step), mapped to times, then a last point at t = 0 (sigma = 0 for VE and EDM):
/// k-diffusion's get_sigmas_* followed by append_zero.
template <NoiseSchedule P, class F>
[[nodiscard]] time_grid<typename P::scalar_type> sigma_list_grid(const P& p, std::size_t steps, F sigma_at, const char* who) {
  using S = typename P::scalar_type;
  std::vector<S> t(grid_points(steps, who));
  const S floor = sigma_ratio(p, S(0));
  for (std::size_t i = 0; i < steps; ++i) {
    const S u = steps == 1 ? S(0) : static_cast<S>(i) / static_cast<S>(steps - 1);
    const S target = sigma_at(i, u);
    // A sigma below the process's own at t = 0 has no time: refuse it (it would map to t ~ 0 twice).
    require(!(target < floor * (1 - 64 * std::numeric_limits<S>::epsilon())), who, "sigma_min", target,
            message("is below the process's sigma/s at t = 0, ", floor).c_str());
    t[i] = time_at_sigma_ratio(p, target);
  }
  t[steps] = 0;
  return time_grid<S>::computed(std::move(t), who);
}
}  // namespace detail

template <NoiseSchedule P>
[[nodiscard]] time_grid<typename P::scalar_type> karras_schedule(const P& p, typename P::scalar_type sigma_min,
                                                                 typename P::scalar_type sigma_max, std::size_t steps,
                                                                 typename P::scalar_type rho = 7) {
  using S = typename P::scalar_type;
  detail::require_sigma_range(sigma_min, sigma_max, rho, "karras_schedule");
  const S a = std::pow(sigma_max, 1 / rho);
  const S b = std::pow(sigma_min, 1 / rho);
  return detail::sigma_list_grid(
      p, steps, [&](std::size_t i, S u) { return i == 0 ? sigma_max : std::pow(a + u * (b - a), rho); },
      "karras_schedule");
}

template <NoiseSchedule P>
[[nodiscard]] time_grid<typename P::scalar_type> polyexponential_schedule(const P& p, typename P::scalar_type sigma_min,
                                                                          typename P::scalar_type sigma_max,
                                                                          std::size_t steps,
                                                                          typename P::scalar_type rho = 1) {
  using S = typename P::scalar_type;
  detail::require_sigma_range(sigma_min, sigma_max, rho, "polyexponential_schedule");
  const S lo = std::log(sigma_min), hi = std::log(sigma_max);
  return detail::sigma_list_grid(
      p, steps,
      [&](std::size_t i, S u) {
        return i == 0 ? sigma_max : i + 1 == steps ? sigma_min : std::exp(lo + std::pow(1 - u, rho) * (hi - lo));
      },
      "polyexponential_schedule");
}

template <NoiseSchedule P>
[[nodiscard]] time_grid<typename P::scalar_type> exponential_schedule(const P& p, typename P::scalar_type sigma_min,
                                                                      typename P::scalar_type sigma_max, std::size_t steps) {
  return polyexponential_schedule(p, sigma_min, sigma_max, steps, typename P::scalar_type(1));
}

}  // namespace sdeflow
