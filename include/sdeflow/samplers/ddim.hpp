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
  detail::require(std::isfinite(eta) && eta >= 0 && eta <= 1, "sample_ddim", "eta", eta, "must lie in [0, 1]");
  const auto& p = m.process();
  X z(x.rows(), x.cols());
  return detail::sampler_loop(m, std::move(x), grid, opt, "sample_ddim",
                              [&](std::size_t i, S t, S tn, X& y, const X& x0, const X& eps) {
                                const S s = p.mean_scale(t), sd = p.marginal_std(t);
                                const S sn = p.mean_scale(tn), sdn = p.marginal_std(tn);
                                S c = 0;
                                if (eta > 0 && sdn > 0) {
                                  const S q = s * sdn / sn;
                                  c = static_cast<S>(eta) * (sdn / sd) * std::sqrt(std::max(S(0), sd * sd - q * q));
                                }
                                y = sn * x0 + std::sqrt(std::max(S(0), sdn * sdn - c * c)) * eps;
                                if (c > 0) {
                                  detail::draw_noise(opt, i, z);
                                  y += c * z;
                                }
                              });
}

template <class Model, State X>
[[nodiscard]] sample_result<X> sample_ddpm(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                           ddpm_variance variance = ddpm_variance::posterior,
                                           const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  const auto& p = m.process();
  X z(x.rows(), x.cols());
  return detail::sampler_loop(m, std::move(x), grid, opt, "sample_ddpm",
                              [&](std::size_t i, S t, S tn, X& y, const X& x0, const X&) {
                                const S s = p.mean_scale(t), sd = p.marginal_std(t);
                                const S sn = p.mean_scale(tn), sdn = p.marginal_std(tn);
                                const S r = s / sn;
                                const S omega2 = std::max(S(0), sd * sd - r * r * sdn * sdn);
                                y = (r * sdn * sdn / (sd * sd)) * y + (sn * omega2 / (sd * sd)) * x0;
                                if (sdn > 0) {
                                  const S var = variance == ddpm_variance::posterior ? sdn * sdn * omega2 / (sd * sd) : omega2;
                                  detail::draw_noise(opt, i, z);
                                  y += std::sqrt(var) * z;
                                }
                              });
}

}  // namespace sdeflow
