// SPDX-License-Identifier: MIT
#pragma once
/// \file k_samplers.hpp
/// Samplers in the EDM variable (Karras et al. 2022): x~ = x / s, sigma~ = sigma / s, where the
/// probability-flow ODE is dx~/dsigma~ = (x~ - D(x~, sigma~)) / sigma~ with D the denoiser x0_hat.
/// Written for any NoiseSchedule (for VE and EDM, s = 1 and these are the usual formulas); the result
/// is mapped back with x = s' x~ at each grid time. Names follow k-diffusion.
///
/// - sample_euler:            x~' = x~ + (sigma~' - sigma~) d,  d = (x~ - D) / sigma~.  1 NFE per step.
/// - sample_euler_ancestral:  Euler to sigma_down, then + sigma_up z, with
///                            sigma_up = eta min(sigma~', sqrt(sigma~'^2 (sigma~^2 - sigma~'^2) / sigma~^2)),
///                            sigma_down = sqrt(sigma~'^2 - sigma_up^2).  1 NFE per step.
/// - sample_edm_heun:         Karras et al. Algorithm 2: optional churn (gamma = min(S_churn / N, sqrt 2 - 1)
///                            for sigma~ in [S_tmin, S_tmax], capped so sigma^ stays within the schedule),
///                            an Euler step and a trapezoidal correction, Euler on the last step to sigma = 0.
///                            2N - 1 NFE (deterministic).
/// - sample_dpmpp_2m:         DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2), lambda = -ln sigma~, h = lambda' - lambda,
///                            x~' = (sigma~'/sigma~) x~ - (e^{-h} - 1) D,  D = (1 + 1/(2r)) x0_i - 1/(2r) x0_{i-1},
///                            r = h_prev / h; first order on the first step and on a final step to sigma = 0.
/// - sample_dpmpp_2m_sde:     DPM-Solver++(2M) SDE (Lu et al. 2022, stochastic variant; k-diffusion's midpoint form):
///                            x~' = (sigma~'/sigma~) e^{-eta h} x~ + (1 - e^{-(1+eta) h}) x0_i
///                                  + 1/2 (1 - e^{-(1+eta) h}) (x0_i - x0_{i-1}) / r + sigma~' sqrt(1 - e^{-2 eta h}) z.

#include <sdeflow/samplers/common.hpp>
#include <sdeflow/samplers/schedules.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sdeflow {

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_euler(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                            const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  const auto& p = m.process();
  return detail::sampler_loop(m, std::move(x), grid, opt, "sample_euler",
                              [&](std::size_t, S t, S tn, X& y, const X& x0, const X&) {
                                const S s = p.mean_scale(t), sn = p.mean_scale(tn);
                                const S r = p.marginal_std(t) / s, rn = p.marginal_std(tn) / sn;
                                // x~' = x~ + (r' - r) (x~ - x0) / r, written in x.
                                y = sn * (y / s + ((rn - r) / r) * (y / s - x0));
                              });
}

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_euler_ancestral(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                      double eta = 1.0, const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  detail::require(std::isfinite(eta) && eta >= 0 && eta <= 1, "sample_euler_ancestral", "eta", eta, "must lie in [0, 1]");
  const auto& p = m.process();
  X z(x.rows(), x.cols());
  return detail::sampler_loop(
      m, std::move(x), grid, opt, "sample_euler_ancestral", [&](std::size_t i, S t, S tn, X& y, const X& x0, const X&) {
        const S s = p.mean_scale(t), sn = p.mean_scale(tn);
        const S r = p.marginal_std(t) / s, rn = p.marginal_std(tn) / sn;
        const S up = static_cast<S>(eta) * std::min(rn, std::sqrt(std::max(S(0), rn * rn * (r * r - rn * rn) / (r * r))));
        const S down = std::sqrt(std::max(S(0), rn * rn - up * up));
        y = y / s + ((down - r) / r) * (y / s - x0);
        if (up > 0) {
          detail::draw_noise(opt, i, z);
          y += up * z;
        }
        y *= sn;
      });
}

/// Churn settings of Karras et al. (2022), Algorithm 2. The defaults (S_churn = 0) are deterministic.
struct edm_churn {
  double s_churn = 0.0;
  double s_tmin = 0.0;
  double s_tmax = std::numeric_limits<double>::infinity();
  double s_noise = 1.0;
};

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_edm_heun(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                               const edm_churn& churn = {}, const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  detail::validate_sampler(grid, opt, "sample_edm_heun");
  detail::require(std::isfinite(churn.s_churn) && churn.s_churn >= 0, "sample_edm_heun", "s_churn", churn.s_churn,
                  "must be finite and >= 0");
  detail::require(std::isfinite(churn.s_noise) && churn.s_noise >= 0, "sample_edm_heun", "s_noise", churn.s_noise,
                  "must be finite and >= 0");
  const auto& p = m.process();
  const S r_top = sigma_ratio(p, p.horizon());
  X x0(x.rows(), x.cols()), eps(x.rows(), x.cols()), z(x.rows(), x.cols()), d(x.rows(), x.cols()),
      xt(x.rows(), x.cols()), xn(x.rows(), x.cols());
  integration_report rep;
  detail::check_finite(x, 0, grid[0]);
  const auto N = static_cast<double>(grid.steps());
  for (std::size_t i = 0; i < grid.steps(); ++i) {
    const S t = grid[i], tn = grid[i + 1];
    const S s = p.mean_scale(t), sn = p.mean_scale(tn);
    const S r = p.marginal_std(t) / s, rn = p.marginal_std(tn) / sn;
    xt = x / s;  // x~
    // Churn: raise the noise level to r_hat = r (1 + gamma) by adding fresh noise.
    S r_hat = r;
    S t_hat = t;
    if (churn.s_churn > 0 && r >= churn.s_tmin && r <= churn.s_tmax) {
      const double gamma = std::min(churn.s_churn / N, std::numbers::sqrt2 - 1);
      r_hat = std::min(static_cast<S>(r * (1 + gamma)), r_top);
      if (r_hat > r) {
        t_hat = time_at_sigma_ratio(p, r_hat);
        detail::draw_noise(opt, i, z);
        xt += (std::sqrt(r_hat * r_hat - r * r) * static_cast<S>(churn.s_noise)) * z;
      }
    }
    const S s_hat = p.mean_scale(t_hat);
    xn = s_hat * xt;
    m.predict(xn, t_hat, x0, eps);
    ++rep.evaluations;
    d = (xt - x0) / r_hat;
    xn = xt + (rn - r_hat) * d;  // Euler, in x~
    if (rn > 0) {
      // Trapezoidal correction with the slope at the Euler point.
      x = sn * xn;
      m.predict(x, tn, x0, eps);
      ++rep.evaluations;
      xn = xt + ((rn - r_hat) / 2) * (d + (xn - x0) / rn);
    }
    x = sn * xn;
    if (!detail::after_step(opt, rep, i, t, tn, x, x0)) break;
  }
  return {std::move(x), rep};
}

namespace detail {
template <class Model, State X>
sample_result<X> dpmpp_2m(const Model& m, X x, const time_grid<scalar_of<X>>& grid, double eta,
                          const sampler_options<X>& opt, const char* where) {
  using S = scalar_of<X>;
  const auto& p = m.process();
  X x0_prev(x.rows(), x.cols()), z(x.rows(), x.cols()), xt(x.rows(), x.cols());
  S h_prev = 0;
  bool have_prev = false;
  const S e = static_cast<S>(eta);
  return sampler_loop(m, std::move(x), grid, opt, where, [&](std::size_t i, S t, S tn, X& y, const X& x0, const X&) {
    const S s = p.mean_scale(t), sn = p.mean_scale(tn);
    const S r = p.marginal_std(t) / s, rn = p.marginal_std(tn) / sn;
    if (rn == 0) {
      y = sn * x0;  // the last step to sigma = 0 is first order: x~' = x0_hat
    } else {
      const S h = std::log(r) - std::log(rn);  // lambda' - lambda with lambda = -ln sigma~
      const S a = -std::expm1(-(1 + e) * h);    // 1 - e^{-(1+eta) h}
      xt = ((rn / r) * std::exp(-e * h)) * (y / s) + a * x0;
      if (have_prev) {
        // D = (1 + 1/(2 rr)) x0 - 1/(2 rr) x0_prev enters with weight a (for eta > 0 the midpoint form).
        xt += (a / (2 * (h_prev / h))) * (x0 - x0_prev);
      }
      if (e > 0) {
        draw_noise(opt, i, z);
        xt += (rn * std::sqrt(-std::expm1(-2 * e * h))) * z;
      }
      y = sn * xt;
      h_prev = h;
    }
    x0_prev = x0;
    have_prev = true;
  });
}
}  // namespace detail

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_dpmpp_2m(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                               const sampler_options<X>& opt = {}) {
  return detail::dpmpp_2m(m, std::move(x), grid, 0.0, opt, "sample_dpmpp_2m");
}

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_dpmpp_2m_sde(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                   double eta = 1.0, const sampler_options<X>& opt = {}) {
  detail::require(std::isfinite(eta) && eta >= 0, "sample_dpmpp_2m_sde", "eta", eta, "must be finite and >= 0");
  return detail::dpmpp_2m(m, std::move(x), grid, eta, opt, "sample_dpmpp_2m_sde");
}

}  // namespace sdeflow
