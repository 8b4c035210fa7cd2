// SPDX-License-Identifier: MIT
#pragma once
/// \file dpm_solvers.hpp
/// Few-step samplers in the EDM variable x~ = x / s, sigma~ = sigma / s (see k_samplers.hpp), where the
/// probability-flow ODE is dx~/dsigma~ = (x~ - D) / sigma~ and, in lambda = -ln sigma~, the exact solution
/// from lambda to lambda + h is x~' = e^{-h} x~ + int e^{-(lambda + h - u)} D du (Lu et al. 2022, Eq. 9).
/// D is the model's x0_hat. The names are k-diffusion's (sample_*) and, in brackets, diffusers'.
///
/// - samplers::dpm_2 (KDPM2DiscreteScheduler): Euler in sigma~ to the geometric midpoint
///   sigma~_m = sqrt(sigma~ sigma~'), then the whole step with the slope there (Karras et al. 2022, the
///   "DPM-Solver-2" variant of Sec. 3, in sigma):
///     d = (x~ - D) / sigma~,  x~_m = x~ + (sigma~_m - sigma~) d,  d_m = (x~_m - D(x~_m, sigma~_m)) / sigma~_m,
///     x~' = x~ + (sigma~' - sigma~) d_m.
///   Second order; on a final step to sigma~' = 0 it takes x~' = D (first order, 1 NFE). 2N - 1 NFE to 0.
/// - samplers::dpm_2_ancestral (KDPM2AncestralDiscreteScheduler): dpm_2 to sigma_down, then + sigma_up z
///   (the ancestral split of k_samplers.hpp, eta in [0, 1]). eta = 0 is dpm_2.
/// - samplers::dpmpp_2s_ancestral (DPMSolverSinglestepScheduler, order 2, with noise): DPM-Solver++(2S)
///   with r = 1/2 (Lu et al. 2022, Algorithm 1) to sigma_down, h = ln(sigma~ / sigma_down):
///     x~_m = e^{-h/2} x~ + (1 - e^{-h/2}) D,  x~' = e^{-h} x~ + (1 - e^{-h}) D(x~_m, sigma~ e^{-h/2}),
///   then + sigma_up z. samplers::dpmpp_2s is its eta = 0 member (second order, 2N - 1 NFE to 0).
/// - samplers::dpmpp_sde (k-diffusion's sample_dpmpp_sde; DPMSolverSDEScheduler): single-step DPM-Solver++
///   with ancestral noise at both stages, h = ln(sigma~ / sigma~'), sigma~_s = sigma~ e^{-r h}:
///     x~_s = (d1/sigma~) x~ + (1 - d1/sigma~) D + s_noise u1 z1,       (d1, u1) = split(sigma~ -> sigma~_s)
///     x~' = (d2/sigma~) x~ + (1 - d2/sigma~) [(1 - 1/(2r)) D + 1/(2r) D(x~_s)] + s_noise u2 z2,
///                                                                      (d2, u2) = split(sigma~ -> sigma~')
///   with split the ancestral split above. z1 and z2 are the normalized increments of one Brownian path
///   (in the grid's time t) over [t, t_s] and [t, t']: draw 0 is the increment over [t, t_s], draw 1 over
///   [t_s, t'], and z2 combines them. With a Brownian-tree source this is k-diffusion's use of its tree;
///   with counter noise the same law. The path runs in the grid's time t: for VE and EDM (t = sigma) the
///   correlation of z1 and z2 is k-diffusion's (its tree runs in sigma); under VP it follows t instead. (Independent z1, z2 are wrong: the second stage's noise must contain
///   the first's; the battery measured a within-mode spread 10% too small, z = -7, with them.)
///   eta = 0, r = 1/2 is dpmpp_2s. 2 draws and 2N - 1 NFE to sigma = 0.
/// - samplers::dpmpp_3m_sde (DPMSolverMultistepScheduler, solver_order 3, sde-dpmsolver++):
///   DPM-Solver++(3M) with the SDE term of k-diffusion's sample_dpmpp_3m_sde. With h = lambda' - lambda,
///   h_e = (1 + eta) h, the history x0_1, x0_2 and step sizes h_1, h_2 of the two previous steps,
///     x~' = (sigma~'/sigma~) e^{-eta h} x~ + (1 - e^{-h_e}) D + phi_2 d1 - phi_3 d2 + sigma~' sqrt(1 - e^{-2 eta h}) z,
///     r0 = h_1 / h, r1 = h_2 / h, d1_0 = (D - x0_1) / r0, d1_1 = (x0_1 - x0_2) / r1,
///     d1 = d1_0 + (d1_0 - d1_1) r0 / (r0 + r1), d2 = (d1_0 - d1_1) / (r0 + r1),
///     phi_2 = (e^{-h_e} - 1) / h_e + 1, phi_3 = phi_2 / h_e - 1/2;
///   with one previous step only phi_2 (D - x0_1) / r0, with none the first-order step; a final step to
///   sigma~' = 0 takes x~' = D. samplers::dpmpp_3m is its eta = 0 member. N NFE. As published (weight =
///   third_order_weight::published) it is second order: d2 ~ h^2 D''/2 enters with h phi_3(-h) ~ h/6, half
///   the Taylor weight of the exact solution's h^3 phi_3(-h) D'' term; weight = taylor doubles it and is
///   third order (see third_order_weight).
/// - samplers::lms (LMSDiscreteScheduler): the linear multistep method in sigma~ (k-diffusion's
///   sample_lms), order q = min(k + 1, order) at step k, order up to 4:
///     x~' = x~ + sum_j c_j d_{k-j},  c_j = int_{sigma~_k}^{sigma~_{k+1}} prod_{m != j} (u - sigma~_{k-m}) /
///     (sigma~_{k-j} - sigma~_{k-m}) du,
///   the Adams-Bashforth weights of the derivatives d = (x~ - D) / sigma~ at the last q grid points (exact
///   for polynomials of degree q - 1 in sigma~; on an equal grid the AB2..AB4 weights). N NFE.
/// - samplers::deis (DEISMultistepScheduler; Zhang & Chen 2023, "Fast sampling of diffusion models with
///   exponential integrator", rho-AB-DEIS with rho = sigma~): the same derivatives d = eps_hat, interpolated
///   by a polynomial in ln sigma~ instead of sigma~, integrated over sigma~, order up to 3:
///     x~' = x~ + sum_j c_j d_{k-j},  c_j = int_{ln sigma~_k}^{ln sigma~_{k+1}} l_j(v) e^v dv,
///   l_j the Lagrange basis on the nodes ln sigma~_{k-m} (diffusers' ind_fn integrals for orders 2 and 3).
///   A final step to sigma~' = 0 takes x~' = D. N NFE.
///
/// A midpoint's time is found by time_at_sigma_ratio (bisection): for VE and EDM, t = sigma~.
///
/// \code
///   auto grid = sdeflow::karras_schedule(edm, 0.002, 80.0, 10);
///   auto out = sdeflow::sample(sdeflow::samplers::dpmpp_3m{}, net, xT, grid);
///   auto lms = sdeflow::sample(sdeflow::samplers::lms{.order = 4}, net, xT, grid);
///   auto deis = sdeflow::sample(sdeflow::samplers::deis{.order = 3}, net, xT, grid);
/// \endcode
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/k_samplers.hpp>
#include <sdeflow/samplers/schedules.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace sdeflow {
namespace samplers {

namespace detail {

/// x0_hat at the EDM-frame point (x~, sigma~ = r): the model sees x = s(t) x~ at the t where sigma/s = r.
/// ws.xs holds the model's input, ws.x0 (and ws.eps) its prediction.
template <class M, State X, class W>
void predict_at_ratio(const M& m, const X& xt, scalar_of<X> r, W& ws) {
  const auto& p = m.process();
  const auto t = time_at_sigma_ratio(p, r);
  ws.xs = p.mean_scale(t) * xt;
  m.predict(ws.xs, t, ws.x0, ws.eps);
}

/// The buffers of the two-evaluation samplers.
template <State X>
struct two_stage_workspace {
  X x0, eps, z, xt, xm, xs;
  explicit two_stage_workspace(const X& x)
      : x0(sdeflow::detail::like(x)), eps(sdeflow::detail::like(x)), z(sdeflow::detail::like(x)),
        xt(sdeflow::detail::like(x)), xm(sdeflow::detail::like(x)), xs(sdeflow::detail::like(x)) {}
};

/// NFE of the two-evaluation samplers: two per step, one on a final step to sigma = 0.
template <class M, class G>
[[nodiscard]] std::size_t two_stage_evaluations(const M& m, const G& grid) {
  return 2 * grid.steps() - (m.process().marginal_std(grid.back()) == 0 ? 1 : 0);
}

/// One step of dpm_2 (Exponential = false) or DPM-Solver++(2S) (Exponential = true) to sigma_down, then
/// the ancestral noise sigma_up z (none for eta = 0).
template <bool Exponential, class M, State X, class W>
void midpoint_step(double eta, const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) {
  using S = scalar_of<X>;
  m.predict(x, c.t, ws.x0, ws.eps);
  const edm_frame<schedule_of<M>, S> f(m.process(), c.t, c.t_next);
  const ancestral_split<S> a(f.r, f.rn, eta);
  ws.xt = x / f.s;
  if (a.down == 0) {
    ws.xt = ws.x0;  // the step to sigma~ = 0: x~' = D, first order, one evaluation
  } else {
    const S h = std::log(f.r) - std::log(a.down);  // the step in lambda = -ln sigma~
    const S rm = f.r * std::exp(-h / 2);            // the geometric midpoint sqrt(sigma~ sigma_down)
    if constexpr (Exponential) {
      ws.xm = std::exp(-h / 2) * ws.xt - std::expm1(-h / 2) * ws.x0;
      predict_at_ratio(m, ws.xm, rm, ws);
      ws.xt = std::exp(-h) * ws.xt - std::expm1(-h) * ws.x0;
    } else {
      ws.xm = ws.xt + ((rm - f.r) / f.r) * (ws.xt - ws.x0);
      predict_at_ratio(m, ws.xm, rm, ws);
      ws.xt += ((a.down - f.r) / rm) * (ws.xm - ws.x0);
    }
  }
  if (a.up > 0) {
    noise.normal(0, ws.z);
    ws.xt += a.up * ws.z;
  }
  x = f.sn * ws.xt;
}

/// The Lagrange basis polynomial of node j among nodes[0..q), at u.
template <class S>
[[nodiscard]] S lagrange_basis(const std::array<S, 4>& nodes, std::size_t q, std::size_t j, S u) {
  S l = 1;
  for (std::size_t k = 0; k < q; ++k) {
    if (k != j) l *= (u - nodes[k]) / (nodes[j] - nodes[k]);
  }
  return l;
}

/// The integral over [a, b] of the Lagrange basis polynomial of node j among nodes[0..q): the LMS weight.
/// Three-point Gauss-Legendre, exact for the degree q - 1 <= 3 integrand.
template <class S>
[[nodiscard]] S lagrange_weight(const std::array<S, 4>& nodes, std::size_t q, std::size_t j, S a, S b) {
  const S mid = (a + b) / 2, half = (b - a) / 2;
  const S off = half * std::sqrt(S(3) / S(5));
  return half * (S(5) / 9 * lagrange_basis(nodes, q, j, mid - off) + S(8) / 9 * lagrange_basis(nodes, q, j, mid) +
                 S(5) / 9 * lagrange_basis(nodes, q, j, mid + off));
}

/// The DEIS weight: the integral over sigma~ in [e^a, e^b] of the Lagrange basis polynomial of node j in
/// v = ln sigma~, i.e. int_a^b l_j(v) e^v dv, by composite five-point Gauss-Legendre on panels of width
/// <= 1/4 in v (exact for polynomials of degree 9 per panel; the remainder of e^v on a panel of width w is
/// ~ w^10 / 10!^2-small, below 1e-13 of the weight, for any step, also the few-step grids' wide ones).
template <class S>
[[nodiscard]] S deis_weight(const std::array<S, 4>& log_nodes, std::size_t q, std::size_t j, S a, S b) {
  const S x1 = std::sqrt(S(5) - 2 * std::sqrt(S(10) / 7)) / 3, x2 = std::sqrt(S(5) + 2 * std::sqrt(S(10) / 7)) / 3;
  const S w0 = S(128) / 225, w1 = (322 + 13 * std::sqrt(S(70))) / 900, w2 = (322 - 13 * std::sqrt(S(70))) / 900;
  const auto f = [&](S v) { return lagrange_basis(log_nodes, q, j, v) * std::exp(v); };
  const auto panels = static_cast<int>(std::ceil(std::fabs(b - a) / S(0.25)));
  S sum = 0;
  for (int k = 0; k < std::max(panels, 1); ++k) {
    const S lo = a + (b - a) * static_cast<S>(k) / static_cast<S>(std::max(panels, 1));
    const S hi = a + (b - a) * static_cast<S>(k + 1) / static_cast<S>(std::max(panels, 1));
    const S mid = (lo + hi) / 2, half = (hi - lo) / 2;
    sum += half * (w0 * f(mid) + w1 * (f(mid - half * x1) + f(mid + half * x1)) + w2 * (f(mid - half * x2) + f(mid + half * x2)));
  }
  return sum;
}

/// The workspace of the multistep methods in sigma~: up to four derivatives d = (x~ - D) / sigma~ and
/// their nodes (sigma~ for LMS, ln sigma~ for DEIS).
template <State X>
struct sigma_multistep_workspace {
  X x0, eps, xt;
  std::array<X, 4> d;                  ///< d[0] the newest
  std::array<scalar_of<X>, 4> nodes{};  ///< the node of each
  std::size_t kept = 0;
  explicit sigma_multistep_workspace(const X& x)
      : x0(sdeflow::detail::like(x)), eps(sdeflow::detail::like(x)), xt(sdeflow::detail::like(x)),
        d{sdeflow::detail::like(x), sdeflow::detail::like(x), sdeflow::detail::like(x), sdeflow::detail::like(x)} {}
};

/// One step of LMS (LogNodes = false: d interpolated in sigma~) or DEIS (true: in ln sigma~), both
/// integrated over sigma~, of order q = min(k + 1, order).
template <bool LogNodes, class M, State X, class W>
void sigma_multistep(int order, const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws) {
  using S = scalar_of<X>;
  m.predict(x, c.t, ws.x0, ws.eps);
  const edm_frame<schedule_of<M>, S> f(m.process(), c.t, c.t_next);
  const std::size_t q = std::min(ws.kept + 1, static_cast<std::size_t>(order));
  for (std::size_t k = q - 1; k > 0; --k) {  // age the history; d[0] gets the oldest (free) buffer
    std::swap(ws.d[k], ws.d[k - 1]);
    ws.nodes[k] = ws.nodes[k - 1];
  }
  ws.xt = x / f.s;
  ws.d[0] = (ws.xt - ws.x0) / f.r;
  ws.nodes[0] = LogNodes ? std::log(f.r) : f.r;
  ws.kept = q;
  if (LogNodes && f.rn == 0) {
    ws.xt = ws.x0;  // DEIS's step to sigma~ = 0 (ln 0 is no node): x~' = D, first order
  } else {
    for (std::size_t j = 0; j < q; ++j) {
      const S w = LogNodes ? deis_weight(ws.nodes, q, j, std::log(f.r), std::log(f.rn))
                           : lagrange_weight(ws.nodes, q, j, f.r, f.rn);
      ws.xt += w * ws.d[j];
    }
  }
  x = f.sn * ws.xt;
}

}  // namespace detail

namespace detail {
/// The four midpoint samplers: Exponential picks DPM-Solver++(2S) over DPM-2, Ancestral adds the eta member.
template <bool Exponential>
struct midpoint_protocol {
  static constexpr const char* deterministic_name = Exponential ? "dpmpp_2s" : "dpm_2";
  static constexpr const char* ancestral_name = Exponential ? "dpmpp_2s_ancestral" : "dpm_2_ancestral";
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M& m, const G& grid) const { return two_stage_evaluations(m, grid); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return two_stage_workspace<X>(x); }
};

template <bool Exponential>
struct midpoint_deterministic : midpoint_protocol<Exponential> {
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    edm_grid(p, grid, midpoint_protocol<Exponential>::deterministic_name);
  }
  void validate() const {}
  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    midpoint_step<Exponential>(0.0, m, x, c, ws, noise);
  }
};

template <bool Exponential>
struct midpoint_ancestral {
  double eta = 1.0;

  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    edm_grid(p, grid, midpoint_protocol<Exponential>::ancestral_name);
  }
  void validate() const { require_eta_unit(eta, midpoint_protocol<Exponential>::ancestral_name); }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M& m, const G& grid) const { return two_stage_evaluations(m, grid); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return two_stage_workspace<X>(x); }
  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    midpoint_step<Exponential>(eta, m, x, c, ws, noise);
  }
};
}  // namespace detail

/// DPM-2 (k-diffusion's sample_dpm_2 without churn): second order, 2 NFE per step.
using dpm_2 = detail::midpoint_deterministic<false>;
/// DPM-2 ancestral (k-diffusion's sample_dpm_2_ancestral); eta in [0, 1], eta = 0 is dpm_2.
using dpm_2_ancestral = detail::midpoint_ancestral<false>;
/// DPM-Solver++(2S) ancestral (k-diffusion's sample_dpmpp_2s_ancestral); eta in [0, 1].
using dpmpp_2s_ancestral = detail::midpoint_ancestral<true>;
/// DPM-Solver++(2S): the deterministic member (eta = 0) of dpmpp_2s_ancestral, second order.
using dpmpp_2s = detail::midpoint_deterministic<true>;

/// The weight DPM-Solver++(3M) gives its second difference d2 ~ h^2 D''/2 (see the file comment).
/// published: -phi_3 = h phi_3(-h) ~ h/6, as in dpm-solver, diffusers and k-diffusion; the h^3 D'' term of
///   the exact solution then has half its Taylor weight, so the method is second order (measured slope
///   2.06 on the flow map, docs/samplers.md). The default: it is what k-diffusion and diffusers compute.
/// taylor: twice that, the Taylor weight h^3 phi_3(-h) D''; third order (measured 3.00). Which of the two
///   is more accurate at few steps depends on the problem (docs/samplers.md has both on two mixtures).
enum class third_order_weight { published, taylor };
// (phi_2 / h_e - 1/2 loses ~6 eps / h^2 relative accuracy as h -> 0: fine in double; with float states,
// beyond a few hundred steps, use dpmpp_2m.)

/// DPM-Solver++ SDE (k-diffusion's sample_dpmpp_sde): single-step, two evaluations, eta >= 0, midpoint
/// fraction r in (0, 1]; eta = 0 and r = 1/2 is dpmpp_2s.
struct dpmpp_sde {
  double eta = 1.0;
  double s_noise = 1.0;
  double r = 0.5;

  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "dpmpp_sde");
  }
  void validate() const {
    sdeflow::detail::require(std::isfinite(eta) && eta >= 0 && eta <= 1, "dpmpp_sde", "eta", eta, "must lie in [0, 1]");
    sdeflow::detail::require(std::isfinite(s_noise) && s_noise >= 0, "dpmpp_sde", "s_noise", s_noise, "must be finite and >= 0");
    sdeflow::detail::require(std::isfinite(r) && r > 0 && r <= 1, "dpmpp_sde", "r", r, "must lie in (0, 1]");
  }
  [[nodiscard]] std::size_t draws_per_step() const { return 2; }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M& m, const G& grid) const { return detail::two_stage_evaluations(m, grid); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return detail::two_stage_workspace<X>(x); }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    m.predict(x, c.t, ws.x0, ws.eps);
    const detail::edm_frame<schedule_of<M>, S> f(p, c.t, c.t_next);
    ws.xt = x / f.s;
    if (f.rn == 0) {
      x = f.sn * ws.x0;  // the step to sigma~ = 0: x~' = D, first order, one evaluation
      return;
    }
    // Stage 1: to lambda + r h (sigma~_s = sigma~ e^{-r h}), ancestrally.
    const S h = std::log(f.r) - std::log(f.rn);
    const S rs = r == 1 ? f.rn : f.r * std::exp(-static_cast<S>(r) * h);
    const S ts = r == 1 ? c.t_next : time_at_sigma_ratio(p, rs);
    const detail::ancestral_split<S> a1(f.r, rs, eta);
    const bool noisy = eta > 0;
    ws.xm = (a1.down / f.r) * ws.xt - std::expm1(std::log(a1.down) - std::log(f.r)) * ws.x0;
    if (noisy) {
      noise.normal_over(0, c.t, ts, ws.z);  // (W(t_s) - W(t)) / sqrt|t_s - t|
      ws.xm += (static_cast<S>(s_noise) * a1.up) * ws.z;
    }
    ws.xs = p.mean_scale(ts) * ws.xm;
    ws.xm = ws.x0;  // keep D: the second evaluation overwrites x0
    m.predict(ws.xs, ts, ws.x0, ws.eps);
    // Stage 2: the whole step with D_d = (1 - 1/(2r)) D + 1/(2r) D(x~_s), ancestrally.
    const S fac = 1 / (2 * static_cast<S>(r));
    const detail::ancestral_split<S> a2(f.r, f.rn, eta);
    ws.xt = (a2.down / f.r) * ws.xt - std::expm1(std::log(a2.down) - std::log(f.r)) * ((1 - fac) * ws.xm + fac * ws.x0);
    if (noisy) {
      // (W(t') - W(t)) / sqrt|t' - t| of the same path: stage 1's increment plus an independent one over
      // [t_s, t'] (none when r = 1: t_s = t').
      const S wa = std::sqrt(std::fabs(ts - c.t)), wb = std::sqrt(std::fabs(c.t_next - ts));
      if (wb > 0) {
        noise.normal_over(1, ts, c.t_next, ws.xs);
        ws.xt += (static_cast<S>(s_noise) * a2.up / std::sqrt(wa * wa + wb * wb)) * (wa * ws.z + wb * ws.xs);
      } else {
        ws.xt += (static_cast<S>(s_noise) * a2.up) * ws.z;
      }
    }
    x = f.sn * ws.xt;
  }
};

/// DPM-Solver++(3M) SDE (k-diffusion's sample_dpmpp_3m_sde); eta >= 0, eta = 0 is dpmpp_3m.
struct dpmpp_3m_sde {
  double eta = 1.0;
  third_order_weight weight = third_order_weight::published;

  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "dpmpp_3m_sde");
  }
  void validate() const {
    sdeflow::detail::require(std::isfinite(eta) && eta >= 0, "dpmpp_3m_sde", "eta", eta, "must be finite and >= 0");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    using sdeflow::detail::like;
    struct ws {
      X x0, eps, z, xt, x0_1, x0_2;
      scalar_of<X> h_1 = 0, h_2 = 0;
      int history = 0;  ///< previous steps whose x0_hat is kept (0, 1 or 2)
    };
    return ws{like(x), like(x), like(x), like(x), like(x), like(x)};
  }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    m.predict(x, c.t, ws.x0, ws.eps);
    const detail::edm_frame<schedule_of<M>, S> f(m.process(), c.t, c.t_next);
    S h = 0;
    if (f.rn == 0) {
      x = f.sn * ws.x0;  // the last step to sigma = 0 is first order: x~' = x0_hat
    } else {
      const S e = static_cast<S>(eta);
      h = std::log(f.r) - std::log(f.rn);
      const S he = (1 + e) * h;
      const S phi2 = std::expm1(-he) / he + 1;
      ws.xt = ((f.rn / f.r) * std::exp(-e * h)) * (x / f.s) - std::expm1(-he) * ws.x0;
      if (ws.history >= 2) {
        const S r0 = ws.h_1 / h, r1 = ws.h_2 / h;
        const S phi3 = (weight == third_order_weight::taylor ? 2 : 1) * (phi2 / he - S(0.5));
        // d1 = d1_0 + (d1_0 - d1_1) r0 / (r0 + r1), d2 = (d1_0 - d1_1) / (r0 + r1), written in x0, x0_1, x0_2.
        const S a0 = 1 / r0, a1 = 1 / r1;  // d1_0 = a0 (D - x0_1), d1_1 = a1 (x0_1 - x0_2)
        const S w1 = phi2 * (1 + r0 / (r0 + r1)) - phi3 / (r0 + r1);  // weight of d1_0
        const S w2 = -phi2 * r0 / (r0 + r1) + phi3 / (r0 + r1);       // weight of d1_1
        ws.xt += (w1 * a0) * (ws.x0 - ws.x0_1) + (w2 * a1) * (ws.x0_1 - ws.x0_2);
      } else if (ws.history == 1) {
        ws.xt += (phi2 * h / ws.h_1) * (ws.x0 - ws.x0_1);  // phi_2 (D - x0_1) / r0
      }
      if (e > 0) {
        noise.normal(0, ws.z);
        ws.xt += (f.rn * std::sqrt(-std::expm1(-2 * e * h))) * ws.z;
      }
      x = f.sn * ws.xt;
    }
    // Shift the history without copying: x0_2 <- x0_1 <- x0 (x0's buffer is refilled by the next predict).
    std::swap(ws.x0_2, ws.x0_1);
    std::swap(ws.x0_1, ws.x0);
    ws.h_2 = ws.h_1;
    ws.h_1 = h;
    ws.history = std::min(ws.history + 1, 2);
  }
};

/// DPM-Solver++(3M): the deterministic member (eta = 0) of dpmpp_3m_sde.
struct dpmpp_3m {
  third_order_weight weight = third_order_weight::published;

  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "dpmpp_3m");
  }
  void validate() const {}
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }
  template <class M, State X>
  auto workspace(const M& m, const X& x) const { return dpmpp_3m_sde{0.0, weight}.workspace(m, x); }
  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    dpmpp_3m_sde{0.0, weight}.step(m, x, c, ws, noise);
  }
};

namespace detail {
/// LMS (LogNodes = false, orders 1..4) and DEIS (LogNodes = true, orders 1..3): see sigma_multistep.
template <bool LogNodes>
struct sigma_multistep_sampler {
  static constexpr int max_order = LogNodes ? 3 : 4;
  static constexpr const char* name = LogNodes ? "deis" : "lms";
  int order = max_order;

  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    edm_grid(p, grid, name);
  }
  void validate() const {
    sdeflow::detail::require(order >= 1 && order <= max_order, name, "order", order,
                             LogNodes ? "must lie in [1, 3]" : "must lie in [1, 4]");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const { return sigma_multistep_workspace<X>(x); }
  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>&) const {
    sigma_multistep<LogNodes>(order, m, x, c, ws);
  }
};
}  // namespace detail

/// Linear multistep in sigma~ (k-diffusion's sample_lms), order 1..4 (default 4).
using lms = detail::sigma_multistep_sampler<false>;
/// DEIS (Zhang & Chen 2023), the rho-AB form of diffusers' DEISMultistepScheduler, order 1..3 (default 3).
using deis = detail::sigma_multistep_sampler<true>;

}  // namespace samplers

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpm_2(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                            const sampler_options<X>& opt = {}) {
  return sample(samplers::dpm_2{}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpm_2_ancestral(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                      double eta = 1.0, const sampler_options<X>& opt = {}) {
  return sample(samplers::dpm_2_ancestral{eta}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpmpp_2s_ancestral(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                         double eta = 1.0, const sampler_options<X>& opt = {}) {
  return sample(samplers::dpmpp_2s_ancestral{eta}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpmpp_sde(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                double eta = 1.0, const sampler_options<X>& opt = {}) {
  return sample(samplers::dpmpp_sde{eta}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_dpmpp_3m_sde(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                                   double eta = 1.0, const sampler_options<X>& opt = {}) {
  return sample(samplers::dpmpp_3m_sde{eta}, m, std::move(x), grid, opt);
}

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_lms(const Model& m, X x, const time_grid<scalar_of<X>>& grid, int order = 4,
                                          const sampler_options<X>& opt = {}) {
  return sample(samplers::lms{order}, m, std::move(x), grid, opt);
}

}  // namespace sdeflow
