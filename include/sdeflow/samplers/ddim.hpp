// SPDX-License-Identifier: MIT
#pragma once
/// \file ddim.hpp
/// DDIM and DDPM ancestral sampling, written for any NoiseSchedule (x_t = s x0 + sigma eps), so they
/// run on discrete DDPM tables and on continuous VP, VE, sub-VP, EDM and rectified-flow schedules alike.
/// One model evaluation per step (N NFE) gives x0_hat and eps_hat at (x, t); with (s, sigma) at t and (s', sigma')
/// at the next time t':
///
/// - samplers::ddim (Song, Meng & Ermon 2021, Eq. 12):
///     x' = s' x0_hat + sqrt(sigma'^2 - c^2) eps_hat + c z,
///     c  = eta (sigma'/sigma) sqrt(sigma^2 - (s sigma'/s')^2).
///   For VP tables this is MATH.md's c = eta sqrt((1-abar')/(1-abar)) sqrt(1 - abar/abar'). eta = 0 is
///   deterministic and equals the Euler step of the probability-flow ODE in the variable sigma/s.
/// - samplers::ddpm (Ho et al. 2020): the Gaussian posterior q(x' | x, x0_hat) of the forward kernel
///   x = r x' + omega z, r = s/s', omega^2 = sigma^2 - r^2 sigma'^2:
///     mean = (r sigma'^2 / sigma^2) x + (s' omega^2 / sigma^2) x0_hat,
///     variance = sigma'^2 omega^2 / sigma^2 (ddpm_variance::posterior, "beta tilde") or omega^2
///     (ddpm_variance::forward, "beta"). No noise is added on a final step to sigma' = 0.

/// `sample_ddim` / `sample_ddpm` are the one-call forms over the engine (samplers/engine.hpp).
#include <sdeflow/samplers/engine.hpp>

#include <algorithm>
#include <cmath>

namespace sdeflow {

enum class ddpm_variance { posterior, forward };

namespace samplers {

/// DDIM; eta in [0, 1] (0: deterministic, 1: DDPM with the posterior variance).
struct ddim {
  double eta = 0.0;

  void validate() const {
    detail::require(std::isfinite(eta) && eta >= 0 && eta <= 1, "ddim", "eta", eta, "must lie in [0, 1]");
  }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    return detail::prediction_workspace<X>(x);
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    m.predict(x, c.t, ws.x0, ws.eps);
    const S s = p.mean_scale(c.t), sd = p.marginal_std(c.t);
    const S sn = p.mean_scale(c.t_next), sdn = p.marginal_std(c.t_next);
    S ci = 0;
    if (eta > 0 && sdn > 0) {
      const S q = s * sdn / sn;
      ci = static_cast<S>(eta) * (sdn / sd) * std::sqrt(std::max(S(0), sd * sd - q * q));
    }
    x = sn * ws.x0 + std::sqrt(std::max(S(0), sdn * sdn - ci * ci)) * ws.eps;
    if (ci > 0) {
      noise.normal(0, ws.z);
      x += ci * ws.z;
    }
  }
};

/// DDPM ancestral sampling with the posterior ("beta tilde") or forward ("beta") variance.
struct ddpm {
  ddpm_variance variance = ddpm_variance::posterior;

  void validate() const {}
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    return detail::prediction_workspace<X>(x);
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    m.predict(x, c.t, ws.x0, ws.eps);
    const S s = p.mean_scale(c.t), sd = p.marginal_std(c.t);
    const S sn = p.mean_scale(c.t_next), sdn = p.marginal_std(c.t_next);
    const S r = s / sn;
    const S omega2 = std::max(S(0), sd * sd - r * r * sdn * sdn);
    x = (r * sdn * sdn / (sd * sd)) * x + (sn * omega2 / (sd * sd)) * ws.x0;
    if (sdn > 0) {
      const S var = variance == ddpm_variance::posterior ? sdn * sdn * omega2 / (sd * sd) : omega2;
      noise.normal(0, ws.z);
      x += std::sqrt(var) * ws.z;
    }
  }
};

}  // namespace samplers

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_ddim(const Model& m, X x, const time_grid<scalar_of<X>>& grid, double eta = 0.0,
                                           const sampler_options<X>& opt = {}) {
  return sample(samplers::ddim{eta}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_ddpm(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                           ddpm_variance variance = ddpm_variance::posterior,
                                           const sampler_options<X>& opt = {}) {
  return sample(samplers::ddpm{variance}, m, std::move(x), grid, opt);
}

}  // namespace sdeflow
