// SPDX-License-Identifier: MIT
#pragma once
/// \file unipc.hpp
/// UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion
/// Models"; diffusers' UniPCMultistepScheduler), data-prediction form, in the EDM variable x~ = x / s,
/// sigma~ = sigma / s, lambda = -ln sigma~ (see k_samplers.hpp). With D_j the model's x0_hat at grid point j,
/// a step from lambda_s to lambda_t = lambda_s + h of order p uses the p - 1 previous points
/// r_m = (lambda_{s-m} - lambda_s) / h (negative) and their differences D1_m = (D_{s-m} - D_s) / r_m:
///
///   UniP-p (predictor):  x~_t = e^{-h} x~_s + (1 - e^{-h}) D_s - B(h) sum_m rho_m D1_m,
///   UniC-p (corrector, once D_t = D(x~_t) is known):
///                        x~_t^c = e^{-h} x~_s + (1 - e^{-h}) D_s - B(h) (sum_m rho^c_m D1_m + rho^c_t (D_t - D_s)),
///
/// with B(h) = -h (bh1) or e^{-h} - 1 (bh2), and the rho solving R rho = b: R_{i m} = r_m^{i - 1} (the
/// corrector's last column has r = 1), b_i = (i - 1)! h phi_{i+1}(-h) / B(h) where h phi_{i+1}(-h) is the
/// sequence g_1 = (e^{-h} - 1)/(-h) - 1, g_{i+1} = g_i / (-h) - 1/(i+1)! (the paper's Eq. 10 and diffusers'
/// recursion). The predictor of order 2 takes rho = 1/2 and the corrector of order 1 rho^c_t = 1/2, as in
/// the paper. The corrector reuses D_t as the next step's D_s, so it costs no evaluation: N NFE. The order
/// of step k is min(order, k + 1), and with lower_order_final also at most N - k (diffusers' default, for
/// stability on the last steps); the corrector of step k uses the order of step k - 1. The last step is not
/// corrected (that would need one more evaluation). A final step to sigma~ = 0 takes x~' = D_s.
/// Measured on the flow map (docs/samplers.md): UniP-p has order p, UniPC-p order p + 1 (lower_order_final
/// off; with it, the first-order last step caps a whole run at 2). UniP-2 with bh2 is DPM-Solver++(2M).
///
/// \code
///   auto out = sdeflow::sample(sdeflow::samplers::unipc{.order = 3, .variant = sdeflow::samplers::unipc_variant::bh2},
///                              net, xT, sdeflow::karras_schedule(edm, 0.002, 80.0, 10));
/// \endcode
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/k_samplers.hpp>

#include <Eigen/LU>

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace sdeflow {
namespace samplers {

/// B(h) of UniPC: bh1 = -h, bh2 = e^{-h} - 1 (diffusers' solver_type "bh1" / "bh2").
enum class unipc_variant { bh1, bh2 };

namespace detail {

/// The rho of UniP (corrector = false; p - 1 weights for the previous points) or UniC (corrector = true;
/// p weights, the last for D_t), for the step h with previous points at r[0..p-1) (relative, negative).
template <class S>
[[nodiscard]] std::array<S, 3> unipc_rho(bool corrector, int p, const std::array<S, 2>& r, S h, unipc_variant v) {
  const S hh = -h;
  const S bh = v == unipc_variant::bh1 ? hh : std::expm1(hh);
  std::array<S, 3> b{};
  S g = std::expm1(hh) / hh - 1;
  S fact = 1;
  for (int i = 1; i <= p; ++i) {
    b[static_cast<std::size_t>(i - 1)] = g * fact / bh;
    fact *= static_cast<S>(i + 1);
    g = g / hh - 1 / fact;
  }
  std::array<S, 3> rho{};
  const int n = corrector ? p : p - 1;  // unknowns
  if (n <= 0) return rho;
  if (!corrector && p == 2) {
    rho[0] = S(0.5);
    return rho;
  }
  if (corrector && p == 1) {
    rho[0] = S(0.5);
    return rho;
  }
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, 0, 3, 3> R(n, n);
  Eigen::Matrix<S, Eigen::Dynamic, 1, 0, 3, 1> rhs(n);
  for (int i = 0; i < n; ++i) {
    rhs(i) = b[static_cast<std::size_t>(i)];
    for (int m = 0; m < n; ++m) {
      const S node = (corrector && m == n - 1) ? S(1) : r[static_cast<std::size_t>(m)];
      R(i, m) = std::pow(node, i);
    }
  }
  const Eigen::Matrix<S, Eigen::Dynamic, 1, 0, 3, 1> sol = R.partialPivLu().solve(rhs);  // evaluated: the LU is a temporary
  for (int i = 0; i < n; ++i) rho[static_cast<std::size_t>(i)] = sol(i);
  return rho;
}

}  // namespace detail

/// UniPC (UniP-p with the UniC corrector), orders 1..3, B(h) = bh1 or bh2.
struct unipc {
  int order = 2;
  unipc_variant variant = unipc_variant::bh2;
  bool corrector = true;          ///< UniC after every step but the last (false: UniP alone)
  bool lower_order_final = true;  ///< step k has order at most N - k (diffusers' default)

  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    detail::edm_grid(p, grid, "unipc");
  }
  void validate() const {
    sdeflow::detail::require(order >= 1 && order <= 3, "unipc", "order", order, "must lie in [1, 3]");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.steps(); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    using sdeflow::detail::like;
    struct ws {
      X x0, eps, xt, last, pred;  ///< last: x~ where the previous step started; pred: where it predicted to land
      std::array<X, 3> D;                  ///< D[0] the newest x0_hat (at lambda[0])
      std::array<scalar_of<X>, 3> lambda{};
      std::size_t kept = 0;
      int last_order = 0;                  ///< the order of the previous step (its corrector's order)
    };
    return ws{like(x), like(x), like(x), like(x), like(x), {like(x), like(x), like(x)}, {}, 0, 0};
  }

  template <class M, State X, class W>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>&) const {
    using S = scalar_of<X>;
    m.predict(x, c.t, ws.x0, ws.eps);
    const detail::edm_frame<schedule_of<M>, S> f(m.process(), c.t, c.t_next);
    const S lam = -std::log(f.r);
    ws.xt = x / f.s;
    if (corrector && ws.kept > 0) {
      // UniC of the previous step, from ws.last at lambda[0] to here, with D_t = this evaluation.
      const S h = lam - ws.lambda[0];
      const int p = ws.last_order;
      std::array<S, 2> r{};
      for (int i = 1; i < p; ++i) r[static_cast<std::size_t>(i - 1)] = (ws.lambda[static_cast<std::size_t>(i)] - ws.lambda[0]) / h;
      const auto rho = detail::unipc_rho(true, p, r, h, variant);
      const S bh = variant == unipc_variant::bh1 ? -h : std::expm1(-h);
      // Corrected value plus whatever was changed between steps (x / s - pred: zero unless the state was
      // edited through sampling_run::state(), e.g. inpainting), so edits survive the correction.
      ws.xt += std::exp(-h) * ws.last - std::expm1(-h) * ws.D[0] - (bh * rho[static_cast<std::size_t>(p - 1)]) * (ws.x0 - ws.D[0]) -
               ws.pred;
      for (int i = 1; i < p; ++i) {
        const auto k = static_cast<std::size_t>(i);
        ws.xt -= (bh * rho[k - 1] / r[k - 1]) * (ws.D[k] - ws.D[0]);
      }
    }
    // This point's x0_hat joins the history (no copy: D[0] takes x0's buffer).
    std::swap(ws.D[2], ws.D[1]);
    std::swap(ws.D[1], ws.D[0]);
    std::swap(ws.D[0], ws.x0);
    ws.lambda[2] = ws.lambda[1];
    ws.lambda[1] = ws.lambda[0];
    ws.lambda[0] = lam;
    ws.kept = std::min<std::size_t>(ws.kept + 1, 3);
    if (f.rn == 0) {
      x = f.sn * ws.D[0];  // the last step to sigma = 0 is first order: x~' = D
      return;
    }
    int p = std::min(order, static_cast<int>(ws.kept));
    if (lower_order_final) p = std::min(p, static_cast<int>(c.steps - c.index));
    const S h = std::log(f.r) - std::log(f.rn);
    std::array<S, 2> r{};
    for (int i = 1; i < p; ++i) r[static_cast<std::size_t>(i - 1)] = (ws.lambda[static_cast<std::size_t>(i)] - lam) / h;
    const auto rho = detail::unipc_rho(false, p, r, h, variant);
    const S bh = variant == unipc_variant::bh1 ? -h : std::expm1(-h);
    ws.last = ws.xt;
    ws.xt = std::exp(-h) * ws.last - std::expm1(-h) * ws.D[0];
    for (int i = 1; i < p; ++i) {
      const auto k = static_cast<std::size_t>(i);
      ws.xt -= (bh * rho[k - 1] / r[k - 1]) * (ws.D[k] - ws.D[0]);
    }
    ws.last_order = p;
    ws.pred = ws.xt;
    x = f.sn * ws.xt;
  }
};

}  // namespace samplers

template <class Model, State X>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_unipc(const Model& m, X x, const time_grid<scalar_of<X>>& grid, int order = 2,
                                            const sampler_options<X>& opt = {}) {
  samplers::unipc s;
  s.order = order;
  return sample(s, m, std::move(x), grid, opt);
}

}  // namespace sdeflow
