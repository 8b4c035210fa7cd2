// SPDX-License-Identifier: MIT
#pragma once
/// \file dpm_adaptive.hpp
/// samplers::dpm_adaptive: DPM-Solver with adaptive step size (Lu et al. 2022, "DPM-Solver: a fast ODE
/// solver for diffusion probabilistic model sampling in around 10 steps", Sec. 3.3 and Alg. 4 and 5;
/// k-diffusion's sample_dpm_adaptive). It works in the EDM frame x~ = x / s, sigma~ = sigma / s of
/// k_samplers.hpp, in lambda = -ln sigma~, with the model's noise prediction eps~ = (x~ - D) / sigma~.
///
/// A step from lambda to lambda + h (sigma~ = e^{-lambda}, sigma~' = e^{-lambda - h}, E(u) = e^u - 1) pairs
/// two DPM-Solver updates of neighbouring orders (Lu et al. 2022, Alg. 1 and 2, here with alpha = 1):
///   order 3 (default): u1 = x~ - sigma~_1 E(h/3) eps~,                          sigma~_1 = e^{-lambda - h/3},
///                      u2 = x~ - sigma~_2 E(2h/3) eps~ - 2 sigma~_2 (E(2h/3)/(2h/3) - 1) (eps~_1 - eps~),
///                      high = x~ - sigma~' E(h) eps~ - 3/2 sigma~' (E(h)/h - 1) (eps~_2 - eps~),   (DPM-Solver-3)
///                      low  = x~ - sigma~' E(h) eps~ - 3/2 sigma~' E(h) (eps~_1 - eps~),           (DPM-Solver-2, r = 1/3)
///   order 2:           u1 = x~ - sigma~_1 E(h/2) eps~,  high = x~ - sigma~' E(h) eps~_1 (DPM-Solver-2),
///                      low = x~ - sigma~' E(h) eps~ (DPM-Solver-1, i.e. DDIM),
/// eps~_i the model at (u_i, sigma~_i). The error is the RMS over the whole batch of (low - high) / delta,
/// delta = max(atol, rtol max(|low|, |x~_prev|)) elementwise, x~_prev the last accepted low. A PID
/// controller on 1/error (Soderlind 2003, digital filters with coefficients pcoeff, icoeff, dcoeff over
/// the order k = order, 1.5 with noise; atan limiter of Soderlind & Wang 2006) scales h by
///   f = 1 + atan(e0^{b1} e1^{b2} e2^{b3} - 1),  b1 = (p + i + d)/k, b2 = -(p + 2d)/k, b3 = d/k,
/// e_j the last inverse errors; a step is accepted when f >= accept_safety. The defaults are
/// k-diffusion's (rtol 0.05, atol 0.0078, h_init 0.05, integral control, accept_safety 0.81), set for
/// data in [-1, 1].
///
/// On the engine: the sampler integrates adaptively between consecutive grid points, so every grid
/// point is hit exactly and seen by the observer, and the step size carries over from one interval to the
/// next. k-diffusion's sample_dpm_adaptive(sigma_min, sigma_max) is the grid {t(sigma_max), t(sigma_min)};
/// add a last point at sigma = 0 for the final denoising step x~' = D (one evaluation), which lambda
/// cannot reach. The NFE depends on the model: report.evaluations counts it; evaluations() is the
/// fewest possible (one accepted attempt per interval). The step size is one for the whole batch (the
/// error norm is over the batch), so the batch is coupled, as in k-diffusion: tiles need an explicit
/// tile_columns and then run as batches of their own.
///
/// With eta > 0 each accepted step goes deterministically to the ancestral sigma_down of (sigma~, sigma~')
/// (k_samplers.hpp's split), but not below the interval's end sigma~_end, and adds s_noise sqrt(sigma~'^2 -
/// sigma_d^2) z, z the accepted step's draw over [t, t'] (a Brownian tree gives the increment of its
/// path; its resolution must then be finer than the smallest accepted step). Draw j of an interval is its
/// j-th accepted step, so max_steps draws are reserved per interval. The step that lands on the end point
/// goes there without noise, as in k-diffusion.
/// The eps~ at the current state is kept across rejected attempts (k-diffusion re-evaluates it), so
/// an attempt costs order - 1 evaluations after the first.
///
/// \code
///   auto grid = sdeflow::time_grid<>::from_points({80.0, 0.002, 0.0});   // EDM: t = sigma
///   auto out = sdeflow::sample(sdeflow::samplers::dpm_adaptive{.rtol = 0.01}, net, xT, grid);
///   // out.report.evaluations: the NFE the tolerance took
/// \endcode
#include <sdeflow/samplers/dpm_solvers.hpp>
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/k_samplers.hpp>
#include <sdeflow/samplers/schedules.hpp>

#include <array>
#include <cmath>
#include <limits>

namespace sdeflow {
namespace samplers {

struct dpm_adaptive {
  int order = 3;                ///< 3: DPM-Solver-3 with an embedded DPM-Solver-2; 2: DPM-Solver-2 with DDIM
  double rtol = 0.05;           ///< relative tolerance
  double atol = 0.0078;         ///< absolute tolerance (k-diffusion's: about 1/128 of data in [-1, 1])
  double h_init = 0.05;         ///< first step in lambda = -ln sigma~
  double pcoeff = 0.0;          ///< PID controller: proportional
  double icoeff = 1.0;          ///< integral
  double dcoeff = 0.0;          ///< derivative
  double accept_safety = 0.81;  ///< accept when the proposed factor is at least this
  double eta = 0.0;             ///< ancestral noise in [0, 1]; 0: deterministic (the probability-flow ODE)
  double s_noise = 1.0;         ///< scales the ancestral noise
  std::size_t max_steps = 1000; ///< attempts per grid interval before it throws

  /// The NFE is counted, not known before the run: evaluations() is a lower bound.
  static constexpr bool adaptive = true;
  /// One step size for the batch.
  static constexpr bool couples_batch = true;

  void validate() const {
    const char* w = "dpm_adaptive";
    sdeflow::detail::require(order == 2 || order == 3, w, "order", order, "must be 2 or 3");
    sdeflow::detail::require(std::isfinite(rtol) && rtol >= 0, w, "rtol", rtol, "must be finite and >= 0");
    sdeflow::detail::require(std::isfinite(atol) && atol > 0, w, "atol", atol,
                             "must be finite and > 0 (an entry that is 0 in both solutions has no other scale)");
    sdeflow::detail::require(std::isfinite(h_init) && h_init > 0, w, "h_init", h_init, "must be finite and > 0");
    sdeflow::detail::require(std::isfinite(pcoeff), w, "pcoeff", pcoeff, "must be finite");
    sdeflow::detail::require(std::isfinite(dcoeff), w, "dcoeff", dcoeff, "must be finite");
    sdeflow::detail::require(std::isfinite(icoeff) && pcoeff + icoeff + dcoeff > 0, w, "icoeff", icoeff,
                             "must be finite, with pcoeff + icoeff + dcoeff > 0 (else a large error never shrinks h)");
    sdeflow::detail::require(std::isfinite(accept_safety) && accept_safety > 0 && accept_safety <= 1, w, "accept_safety",
                             accept_safety, "must lie in (0, 1]");
    detail::require_eta_unit(eta, w);
    sdeflow::detail::require(std::isfinite(s_noise) && s_noise >= 0, w, "s_noise", s_noise, "must be finite and >= 0");
    sdeflow::detail::require(max_steps >= 1 && max_steps <= (std::size_t{1} << 20), w, "max_steps", max_steps,
                             "must lie in [1, 2^20]");
  }
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "dpm_adaptive");
  }
  /// The fewest evaluations a run can take: `order` per interval, one for a last step to sigma = 0.
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M& m, const G& grid) const {
    const bool to_zero = m.process().marginal_std(grid.back()) == 0;
    return static_cast<std::size_t>(order) * grid.steps() - (to_zero ? static_cast<std::size_t>(order) - 1 : 0);
  }
  [[nodiscard]] std::size_t draws_per_step() const { return eta > 0 ? max_steps : 1; }

  template <State X>
  struct workspace_type {
    X x0, eps, xs, xt, u, e0, e1, e2, low, high, prev, z;
    double h = 0;                  ///< the proposed step in lambda (0: not started)
    std::array<double, 3> inv{};   ///< the controller's last inverse errors
    bool have_inv = false;
    explicit workspace_type(const X& x)
        : x0(sdeflow::detail::like(x)), eps(sdeflow::detail::like(x)), xs(sdeflow::detail::like(x)),
          xt(sdeflow::detail::like(x)), u(sdeflow::detail::like(x)), e0(sdeflow::detail::like(x)),
          e1(sdeflow::detail::like(x)), e2(sdeflow::detail::like(x)), low(sdeflow::detail::like(x)),
          high(sdeflow::detail::like(x)), prev(sdeflow::detail::like(x)), z(sdeflow::detail::like(x)) {}
  };
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return workspace_type<X>(x); }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    const detail::edm_frame<schedule_of<M>, S> f(p, c.t, c.t_next);
    if (f.rn == 0) {  // the last step to sigma~ = 0: x~' = D
      m.predict(x, c.t, ws.x0, ws.eps);
      x = f.sn * ws.x0;
      return;
    }
    ws.xt = x / f.s;
    ws.prev = ws.xt;
    if (ws.h == 0) ws.h = h_init;
    const double lam_end = -std::log(static_cast<double>(f.rn));
    double lam = -std::log(static_cast<double>(f.r));
    const double span = lam_end - lam;
    // eps~ at (x~, sigma~): D from the model at the time where sigma/s = sigma~.
    const auto eps_at = [&](const X& y, double lam_y, X& out) {
      const S r = static_cast<S>(std::exp(-lam_y));
      detail::predict_at_ratio(m, y, r, ws);
      out = (y - ws.x0) / r;
    };
    const double k = eta > 0 ? 1.5 : static_cast<double>(order);
    const double b1 = (pcoeff + icoeff + dcoeff) / k, b2 = -(pcoeff + 2 * dcoeff) / k, b3 = dcoeff / k;
    bool have_e0 = false;
    std::size_t attempts = 0, accepted = 0, nonfinite = 0;
    while (lam < lam_end) {
      if (attempts == max_steps) {
        throw integration_error(sdeflow::detail::message("dpm_adaptive: max_steps = ", max_steps, " attempts in step ",
                                                         c.index, " (t = ", c.t, " -> ", c.t_next, "), ", accepted,
                                                         " accepted, at lambda = ", lam, " of ", lam_end,
                                                         "; loosen rtol/atol or raise max_steps"),
                                static_cast<double>(c.t));
      }
      ++attempts;
      // Land on the end when the proposal would stop within 1e-6 of the interval short of it.
      double lam_t = lam + ws.h;
      if (lam_t >= lam_end - 1e-6 * span) lam_t = lam_end;
      const S r_s = static_cast<S>(std::exp(-lam)), r_t = static_cast<S>(std::exp(-lam_t));
      const detail::ancestral_split<S> a(r_s, r_t, eta);
      // Where the deterministic update goes: sigma_down, never below the interval's end (the model is not
      // evaluated below the grid's last sigma; as k-diffusion), the noise then making up sigma~' exactly.
      const S r_d = eta > 0 ? std::max(a.down, f.rn) : r_t;
      const S up = eta > 0 ? std::sqrt(std::max(S(0), r_t * r_t - r_d * r_d)) : S(0);
      const double h = eta > 0 ? -std::log(static_cast<double>(r_d)) - lam : lam_t - lam;
      if (!have_e0) {
        if (accepted == 0) {
          m.predict(x, c.t, ws.x0, ws.eps);  // at the grid point: the model at c.t itself
          ws.e0 = (ws.xt - ws.x0) / f.r;
        } else {
          eps_at(ws.xt, lam, ws.e0);
        }
        if (!ws.e0.allFinite()) {
          throw non_finite_error(sdeflow::detail::message("dpm_adaptive: the model's prediction is not finite at lambda = ",
                                                          lam, " in step ", c.index),
                                 c.index, static_cast<double>(c.t));
        }
        have_e0 = true;
      }
      const S Eh = static_cast<S>(std::expm1(h));
      if (order == 3) {
        const double l1 = lam + h / 3, l2 = lam + 2 * h / 3;
        const S r1 = static_cast<S>(std::exp(-l1)), r2 = static_cast<S>(std::exp(-l2));
        ws.u = ws.xt - (r1 * static_cast<S>(std::expm1(h / 3))) * ws.e0;
        eps_at(ws.u, l1, ws.e1);
        const S E2 = static_cast<S>(std::expm1(2 * h / 3));
        const S phi2 = h == 0 ? S(0) : E2 / static_cast<S>(2 * h / 3) - 1;
        ws.u = ws.xt - (r2 * E2) * ws.e0 - (2 * r2 * phi2) * (ws.e1 - ws.e0);
        eps_at(ws.u, l2, ws.e2);
        const S phi = h == 0 ? S(0) : Eh / static_cast<S>(h) - 1;
        ws.high = ws.xt - (r_d * Eh) * ws.e0 - (S(1.5) * r_d * phi) * (ws.e2 - ws.e0);
        ws.low = ws.xt - (r_d * Eh) * ws.e0 - (S(1.5) * r_d * Eh) * (ws.e1 - ws.e0);
      } else {
        const double l1 = lam + h / 2;
        const S r1 = static_cast<S>(std::exp(-l1));
        ws.u = ws.xt - (r1 * static_cast<S>(std::expm1(h / 2))) * ws.e0;
        eps_at(ws.u, l1, ws.e1);
        ws.high = ws.xt - (r_d * Eh) * ws.e1;
        ws.low = ws.xt - (r_d * Eh) * ws.e0;
      }
      // The scaled RMS error over the batch.
      const double err = std::sqrt(((ws.low - ws.high).array().template cast<double>() /
                                    (rtol * ws.low.array().abs().max(ws.prev.array().abs()).template cast<double>()).max(atol))
                                       .square()
                                       .mean());
      double factor;
      bool accept;
      if (!std::isfinite(err)) {
        // A stage left the model's domain: shrink hard and retry, a few times.
        if (++nonfinite == 8) {
          throw non_finite_error(sdeflow::detail::message("dpm_adaptive: the model's prediction at the stages of step ",
                                                          c.index, " stayed non-finite over 8 attempts down to h = ",
                                                          ws.h, " (lambda = ", lam, ")"),
                                 c.index, static_cast<double>(c.t));
        }
        factor = 0.25;
        accept = false;
      } else {
        nonfinite = 0;
        const double inv = 1 / (err + 1e-8);
        if (!ws.have_inv) {
          ws.inv = {inv, inv, inv};
          ws.have_inv = true;
        }
        ws.inv[0] = inv;
        factor = std::pow(ws.inv[0], b1) * std::pow(ws.inv[1], b2) * std::pow(ws.inv[2], b3);
        factor = 1 + std::atan(factor - 1);
        accept = factor >= accept_safety;
        if (accept) {
          ws.inv[2] = ws.inv[1];
          ws.inv[1] = ws.inv[0];
        }
      }
      ws.h *= factor;
      if (!accept) continue;
      ws.prev = ws.low;
      ws.xt = ws.high;
      if (up > 0 && s_noise > 0) {
        const S ts = accepted == 0 ? c.t : time_at_sigma_ratio(p, r_s);
        const S tt = lam_t == lam_end ? c.t_next : time_at_sigma_ratio(p, r_t);
        noise.normal_over(accepted, ts, tt, ws.z);
        ws.xt += (static_cast<S>(s_noise) * up) * ws.z;
      }
      ++accepted;
      lam = lam_t;
      have_e0 = false;
    }
    x = f.sn * ws.xt;
  }
};

}  // namespace samplers

/// DPM-Solver with adaptive steps (k-diffusion's sample_dpm_adaptive) on `grid`; see samplers::dpm_adaptive.
template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpm_adaptive(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                   const samplers::dpm_adaptive& settings = {},
                                                   const sampler_options<X>& opt = {}) {
  return sample(settings, m, std::move(x), grid, opt);
}

}  // namespace sdeflow
