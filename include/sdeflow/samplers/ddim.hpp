// SPDX-License-Identifier: MIT
#pragma once
/// \file ddim.hpp
/// DDIM and DDPM ancestral sampling, written for any NoiseSchedule (x_t = s x0 + sigma eps), so they
/// run on discrete DDPM tables and on continuous VP, VE, sub-VP, EDM and rectified-flow schedules alike.
/// One model evaluation per step gives x0_hat and eps_hat at (x, t); with (s, sigma) at t and (s', sigma')
/// at the next time t':
///
/// - sample_ddim (Song, Meng & Ermon 2021, Eq. 12):
///     x' = s' x0_hat + sqrt(sigma'^2 - c^2) eps_hat + c z,
///     c  = eta (sigma'/sigma) sqrt(sigma^2 - (s sigma'/s')^2).
///   For VP tables this is MATH.md's c = eta sqrt((1-abar')/(1-abar)) sqrt(1 - abar/abar'). eta = 0 is
///   deterministic and equals the Euler step of the probability-flow ODE in the variable sigma/s.
/// - sample_ddpm (Ho et al. 2020): the Gaussian posterior q(x' | x, x0_hat) of the forward kernel
///   x = r x' + omega z, r = s/s', omega^2 = sigma^2 - r^2 sigma'^2:
///     mean = (r sigma'^2 / sigma^2) x + (s' omega^2 / sigma^2) x0_hat,
///     variance = sigma'^2 omega^2 / sigma^2 (ddpm_variance::posterior, "beta tilde") or omega^2
///     (ddpm_variance::forward, "beta"). No noise is added on a final step to sigma' = 0.

#include <sdeflow/samplers/common.hpp>

#include <algorithm>
#include <cmath>

namespace sdeflow {

enum class ddpm_variance { posterior, forward };

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_ddim(const Model& m, X x, const time_grid<scalar_of<X>>& grid, double eta = 0.0,
                                           const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  detail::validate_sampler(grid, opt, "sample_ddim");
  detail::require(std::isfinite(eta) && eta >= 0 && eta <= 1, "sample_ddim", "eta", eta, "must lie in [0, 1]");
  const auto& p = m.process();
  X x0(x.rows(), x.cols()), eps(x.rows(), x.cols()), z(x.rows(), x.cols());
  integration_report rep;
  detail::check_finite(x, 0, grid[0]);
  for (std::size_t i = 0; i < grid.steps(); ++i) {
    const S t = grid[i], tn = grid[i + 1];
    m.predict(x, t, x0, eps);
    ++rep.evaluations;
    const S s = p.mean_scale(t), sd = p.marginal_std(t);
    const S sn = p.mean_scale(tn), sdn = p.marginal_std(tn);
    S c = 0;
    if (eta > 0 && sdn > 0) {
      const S q = s * sdn / sn;
      c = static_cast<S>(eta) * (sdn / sd) * std::sqrt(std::max(S(0), sd * sd - q * q));
    }
    const S keep = std::sqrt(std::max(S(0), sdn * sdn - c * c));
    x = sn * x0 + keep * eps;
    if (c > 0) {
      detail::draw_noise(opt, i, z);
      x += c * z;
    }
    if (!detail::after_step(opt, rep, i, t, tn, x, x0)) break;
  }
  return {std::move(x), rep};
}

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_ddpm(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                           ddpm_variance variance = ddpm_variance::posterior,
                                           const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  detail::validate_sampler(grid, opt, "sample_ddpm");
  const auto& p = m.process();
  X x0(x.rows(), x.cols()), eps(x.rows(), x.cols()), z(x.rows(), x.cols());
  integration_report rep;
  detail::check_finite(x, 0, grid[0]);
  for (std::size_t i = 0; i < grid.steps(); ++i) {
    const S t = grid[i], tn = grid[i + 1];
    m.predict(x, t, x0, eps);
    ++rep.evaluations;
    const S s = p.mean_scale(t), sd = p.marginal_std(t);
    const S sn = p.mean_scale(tn), sdn = p.marginal_std(tn);
    const S r = s / sn;
    const S omega2 = std::max(S(0), sd * sd - r * r * sdn * sdn);
    x = (r * sdn * sdn / (sd * sd)) * x + (sn * omega2 / (sd * sd)) * x0;
    if (sdn > 0) {
      const S var = variance == ddpm_variance::posterior ? sdn * sdn * omega2 / (sd * sd) : omega2;
      detail::draw_noise(opt, i, z);
      x += std::sqrt(var) * z;
    }
    if (!detail::after_step(opt, rep, i, t, tn, x, x0)) break;
  }
  return {std::move(x), rep};
}

}  // namespace sdeflow
