// SPDX-License-Identifier: MIT
#pragma once
/// \file k_samplers.hpp
/// Samplers in the EDM variable (Karras et al. 2022): x~ = x / s, sigma~ = sigma / s, where the
/// probability-flow ODE is dx~/dsigma~ = (x~ - D(x~, sigma~)) / sigma~ with D the denoiser x0_hat.
/// Written for any NoiseSchedule (for VE and EDM, s = 1 and these are the usual formulas); the result
/// is mapped back with x = s' x~ at each grid time. Names follow k-diffusion.
///
/// - samplers::euler:          x~' = x~ + (sigma~' - sigma~) d,  d = (x~ - D) / sigma~.  1 NFE per step.
/// - samplers::euler_ancestral:Euler to sigma_down, then + sigma_up z, with
///                            sigma_up = eta min(sigma~', sqrt(sigma~'^2 (sigma~^2 - sigma~'^2) / sigma~^2)),
///                            sigma_down = sqrt(sigma~'^2 - sigma_up^2).  1 NFE per step.
/// - samplers::edm_heun:       Karras et al. Algorithm 2: optional churn (gamma = min(S_churn / N, sqrt 2 - 1)
///                            for sigma~ in [S_tmin, S_tmax], capped so sigma^ stays within the schedule),
///                            an Euler step and a trapezoidal correction, Euler on the last step to sigma = 0.
///                            2N - 1 NFE (deterministic).
/// - samplers::dpmpp_2m:       DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2), lambda = -ln sigma~, h = lambda' - lambda,
///                            x~' = (sigma~'/sigma~) x~ - (e^{-h} - 1) D,  D = (1 + 1/(2r)) x0_i - 1/(2r) x0_{i-1},
///                            r = h_prev / h; first order on the first step and on a final step to sigma = 0.
/// - samplers::dpmpp_2m_sde:   DPM-Solver++(2M) SDE (Lu et al. 2022, stochastic variant; k-diffusion's midpoint form):
///                            x~' = (sigma~'/sigma~) e^{-eta h} x~ + (1 - e^{-(1+eta) h}) x0_i
///                                  + 1/2 (1 - e^{-(1+eta) h}) (x0_i - x0_{i-1}) / r + sigma~' sqrt(1 - e^{-2 eta h}) z.

/// The one-call forms sample_euler, sample_euler_ancestral, sample_edm_heun, sample_dpmpp_2m and
/// sample_dpmpp_2m_sde run these objects on the engine (samplers/engine.hpp).
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/schedules.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace sdeflow {
namespace samplers {

namespace detail {
/// The grid check of the EDM-frame samplers (validate_grid): they divide by s(t) and by sigma~(t) =
/// sigma(t)/s(t), so every grid point needs s(t) > 0, and every point but the last sigma~(t) > 0 and
/// finite (the last may be sigma = 0: the step to the data is then first order).
template <class P, class G>
void edm_grid(const P& p, const G& grid, const char* who) {
  for (std::size_t k = 0; k < grid.size(); ++k) {
    const auto t = grid[k];
    const auto s = p.mean_scale(t);
    const auto r = p.marginal_std(t) / s;
    const bool ok = s > 0 && std::isfinite(r) && (r > 0 || k + 1 == grid.size());
    if (!ok) {
      throw invalid_argument(sdeflow::detail::message(
          who, ": grid point ", k, " (t = ", t, ") has s(t) = ", s, " and sigma(t)/s(t) = ", r,
          "; this sampler works in x / s and needs s(t) > 0 everywhere and sigma(t) > 0 before the last point "
          "(rectified flow has s(1) = 0: start the grid below 1, e.g. at 1 - 1e-3, or use samplers::flow)"));
    }
  }
}

/// The ancestral split of a step sigma~ -> sigma~' (k-diffusion's get_ancestral_step): the deterministic
/// part goes to down, then fresh noise of std up restores sigma~' (down^2 + up^2 = sigma~'^2), with
/// up = eta min(sigma~', sqrt(sigma~'^2 (sigma~^2 - sigma~'^2) / sigma~^2)). For eta = 1 this is DDPM's
/// posterior variance in the EDM variable; for eta = 0, down = sigma~' and no noise.
template <class S>
struct ancestral_split {
  S down, up;
  ancestral_split(S r, S rn, double eta) {
    up = static_cast<S>(eta) * std::min(rn, std::sqrt(std::max(S(0), rn * rn * (r * r - rn * rn) / (r * r))));
    down = std::sqrt(std::max(S(0), rn * rn - up * up));
  }
};

/// The check of an ancestral sampler's eta.
inline void require_eta_unit(double eta, const char* who) {
  sdeflow::detail::require(std::isfinite(eta) && eta >= 0 && eta <= 1, who, "eta", eta, "must lie in [0, 1]");
}

/// (s, s', sigma~ = sigma/s, sigma~') of a step.
template <class P, class S>
struct edm_frame {
  S s, sn, r, rn;
  edm_frame(const P& p, S t, S tn)
      : s(p.mean_scale(t)), sn(p.mean_scale(tn)), r(p.marginal_std(t) / s), rn(p.marginal_std(tn) / sn) {}
};

}  // namespace detail

/// Euler in the EDM variable (k-diffusion's sample_euler).
struct euler {
  /// Rejects a grid this sampler cannot run (detail::edm_grid), before the first step.
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "euler");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }
  void validate() const {}
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return sdeflow::detail::prediction_workspace<X>(x); }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>&) const {
    m.predict(x, c.t, ws.x0, ws.eps);
    const detail::edm_frame<schedule_of<M>, scalar_of<X>> f(m.process(), c.t, c.t_next);
    // x~' = x~ + (r' - r) (x~ - x0) / r, written in x.
    x = f.sn * (x / f.s + ((f.rn - f.r) / f.r) * (x / f.s - ws.x0));
  }
};

/// Euler ancestral (k-diffusion's sample_euler_ancestral); eta in [0, 1].
struct euler_ancestral {
  /// Rejects a grid this sampler cannot run (detail::edm_grid), before the first step.
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "euler_ancestral");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }

  double eta = 1.0;

  void validate() const {
    detail::require_eta_unit(eta, "euler_ancestral");
  }
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return sdeflow::detail::prediction_workspace<X>(x); }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    m.predict(x, c.t, ws.x0, ws.eps);
    const detail::edm_frame<schedule_of<M>, S> f(m.process(), c.t, c.t_next);
    const detail::ancestral_split<S> a(f.r, f.rn, eta);
    x = x / f.s + ((a.down - f.r) / f.r) * (x / f.s - ws.x0);
    if (a.up > 0) {
      noise.normal(0, ws.z);
      x += a.up * ws.z;
    }
    x *= f.sn;
  }
};

/// EDM Heun (Karras et al. 2022, Algorithm 2) with its churn settings; the defaults (S_churn = 0)
/// are deterministic. 2N - 1 NFE on a grid ending at sigma = 0, 2N otherwise.
struct edm_heun {
  /// Rejects a grid this sampler cannot run (detail::edm_grid), before the first step.
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "edm_heun");
  }
  double s_churn = 0.0;
  double s_tmin = 0.0;
  double s_tmax = std::numeric_limits<double>::infinity();
  double s_noise = 1.0;

  void validate() const {
    sdeflow::detail::require(std::isfinite(s_churn) && s_churn >= 0, "edm_heun", "s_churn", s_churn, "must be finite and >= 0");
    sdeflow::detail::require(std::isfinite(s_noise) && s_noise >= 0, "edm_heun", "s_noise", s_noise, "must be finite and >= 0");
    sdeflow::detail::require(!std::isnan(s_tmin), "edm_heun", "s_tmin", s_tmin, "must not be NaN");
    sdeflow::detail::require(!std::isnan(s_tmax) && s_tmax >= s_tmin, "edm_heun", "s_tmax", s_tmax,
                             "must be >= s_tmin (not NaN)");
  }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    using sdeflow::detail::like;
    struct ws { X x0, eps, z, d, xt, xn; };
    return ws{like(x), like(x), like(x), like(x), like(x), like(x)};
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M& m, const G& grid) const {
    const auto& p = m.process();
    return 2 * grid.steps() - (p.marginal_std(grid.back()) == 0 ? 1 : 0);
  }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    const detail::edm_frame<schedule_of<M>, S> f(p, c.t, c.t_next);
    ws.xt = x / f.s;  // x~
    // Churn: raise the noise level to r_hat = r (1 + gamma) by adding fresh noise, capped so that
    // sigma^ stays within the schedule.
    S r_hat = f.r;
    S t_hat = c.t;
    if (s_churn > 0 && f.r >= s_tmin && f.r <= s_tmax) {
      const double gamma = std::min(s_churn / static_cast<double>(c.steps), std::numbers::sqrt2 - 1);
      r_hat = std::min(static_cast<S>(f.r * (1 + gamma)), sigma_ratio(p, p.horizon()));
      if (r_hat > f.r) {
        t_hat = time_at_sigma_ratio(p, r_hat);
        noise.normal(0, ws.z);
        ws.xt += (std::sqrt(r_hat * r_hat - f.r * f.r) * static_cast<S>(s_noise)) * ws.z;
      }
    }
    ws.xn = p.mean_scale(t_hat) * ws.xt;
    m.predict(ws.xn, t_hat, ws.x0, ws.eps);
    ws.d = (ws.xt - ws.x0) / r_hat;
    ws.xn = ws.xt + (f.rn - r_hat) * ws.d;  // Euler, in x~
    if (f.rn > 0) {
      // Trapezoidal correction with the slope at the Euler point.
      x = f.sn * ws.xn;
      m.predict(x, c.t_next, ws.x0, ws.eps);
      ws.xn = ws.xt + ((f.rn - r_hat) / 2) * (ws.d + (ws.xn - ws.x0) / f.rn);
    }
    x = f.sn * ws.xn;
  }
};

/// DPM-Solver++(2M) (eta = 0) and its SDE variant (eta > 0); the history (x0_hat and h of the
/// previous step) lives in the workspace.
struct dpmpp_2m_sde {
  /// Rejects a grid this sampler cannot run (detail::edm_grid), before the first step.
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "dpmpp_2m_sde");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }

  double eta = 1.0;

  void validate() const {
    sdeflow::detail::require(std::isfinite(eta) && eta >= 0, "dpmpp_2m_sde", "eta", eta, "must be finite and >= 0");
  }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    using sdeflow::detail::like;
    struct ws {
      X x0, eps, z, xt, x0_prev;
      scalar_of<X> h_prev = 0;
      bool have_prev = false;
    };
    return ws{like(x), like(x), like(x), like(x), like(x)};
  }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    m.predict(x, c.t, ws.x0, ws.eps);
    const detail::edm_frame<schedule_of<M>, S> f(m.process(), c.t, c.t_next);
    const S e = static_cast<S>(eta);
    if (f.rn == 0) {
      x = f.sn * ws.x0;  // the last step to sigma = 0 is first order: x~' = x0_hat
    } else {
      const S h = std::log(f.r) - std::log(f.rn);  // lambda' - lambda with lambda = -ln sigma~
      const S a = -std::expm1(-(1 + e) * h);        // 1 - e^{-(1+eta) h}
      ws.xt = ((f.rn / f.r) * std::exp(-e * h)) * (x / f.s) + a * ws.x0;
      if (ws.have_prev) {
        // D = (1 + 1/(2 rr)) x0 - 1/(2 rr) x0_prev enters with weight a (for eta > 0 the midpoint form).
        ws.xt += (a / (2 * (ws.h_prev / h))) * (ws.x0 - ws.x0_prev);
      }
      if (e > 0) {
        noise.normal(0, ws.z);
        ws.xt += (f.rn * std::sqrt(-std::expm1(-2 * e * h))) * ws.z;
      }
      x = f.sn * ws.xt;
      ws.h_prev = h;
    }
    ws.x0_prev = ws.x0;
    ws.have_prev = true;
  }
};

/// DPM-Solver++(2M): the deterministic member (eta = 0) of dpmpp_2m_sde, with no eta to set.
struct dpmpp_2m : private dpmpp_2m_sde {
  dpmpp_2m() : dpmpp_2m_sde{0.0} {}
  using dpmpp_2m_sde::evaluations;
  using dpmpp_2m_sde::step;
  using dpmpp_2m_sde::validate;
  using dpmpp_2m_sde::workspace;
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "dpmpp_2m");
  }
};

}  // namespace samplers

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_euler(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                            const sampler_options<X>& opt = {}) {
  return sample(samplers::euler{}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_euler_ancestral(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                      double eta = 1.0, const sampler_options<X>& opt = {}) {
  samplers::euler_ancestral s;
  s.eta = eta;
  return sample(s, m, std::move(x), grid, opt);
}

/// Churn settings of Karras et al. (2022), Algorithm 2: the edm_heun sampler's members.
using edm_churn = samplers::edm_heun;

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_edm_heun(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                               const edm_churn& churn = {}, const sampler_options<X>& opt = {}) {
  return sample(churn, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpmpp_2m(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                               const sampler_options<X>& opt = {}) {
  return sample(samplers::dpmpp_2m{}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpmpp_2m_sde(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                   double eta = 1.0, const sampler_options<X>& opt = {}) {
  samplers::dpmpp_2m_sde s;
  s.eta = eta;
  return sample(s, m, std::move(x), grid, opt);
}

}  // namespace sdeflow
