// SPDX-License-Identifier: MIT
#pragma once
/// \file dormand_prince.hpp
/// Adaptive Dormand-Prince 5(4) for ODE systems (Dormand & Prince 1980; Hairer, Norsett & Wanner,
/// "Solving ODEs I", Sec. II.5 and Table 5.2): seven stages with FSAL, a 5th-order solution and an
/// embedded 4th-order error estimate, and a PI step-size controller (Gustafsson 1991; Hairer & Wanner II,
/// Sec. IV.2): factor = safety * err^{-alpha} * err_prev^{beta}, alpha = 0.17, beta = 0.04, clamped to
/// [min_factor, max_factor], no growth right after a rejection. The error norm is the RMS over all
/// entries of the batch of err_i / (atol + rtol max(|x_i|, |x_new_i|)): one step size for the whole batch.
///
/// Output at requested times uses the method's own continuous extension of order 4 on each accepted
/// step (Shampine 1986, "Some practical Runge-Kutta formulas", Math. Comp. 46; Hairer, Norsett & Wanner
/// I, Sec. II.6, the dense output of DOPRI5): with D = x_{n+1} - x_n, theta = (t - t_n) / h, u = 1 - theta,
///   x(t) ~ x_n + theta D + theta u (h k1 - D) + theta^2 u (2 D - h k1 - h k7) + theta^2 u^2 h sum_i d_i k_i,
/// d = (-12715105075/11282082432, 0, 87487479700/32700410799, -10690763975/1880347072,
///      701980252875/199316789632, -1453857185/822651844, 69997945/29380423).
/// Its local error is O(h^5), one order above the cubic Hermite through the end points and slopes, and
/// it costs no extra drift evaluation; requested times never shorten a step. Works forwards and
/// backwards (t1 < t0).
///
/// \code
///   sdeflow::dopri5_options opt{.rtol = 1e-8, .atol = 1e-10};
///   auto rep = sdeflow::integrate_adaptive(sys, x, 0.0, 1.0, opt, {0.25, 0.5, 0.75, 1.0},
///                                          [&](std::size_t i, double t, const Eigen::MatrixXd& xi) { ... });
///   // rep.accepted, rep.rejected, rep.evaluations
/// \endcode

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/integrators/integrate.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sdeflow {

struct dopri5_options {
  double rtol = 1e-6;
  double atol = 1e-9;
  double safety = 0.9;
  double min_factor = 0.2;
  double max_factor = 10.0;
  double dt_initial = 0.0;  ///< 0: chosen automatically (Hairer's starting-step heuristic)
  double dt_min = 0.0;      ///< 0: 1e-14 |t1 - t0|
  std::size_t max_steps = 100000;
};

struct adaptive_report {
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  std::size_t evaluations = 0;
  bool stopped_early = false;   ///< the observer returned false (the state is then at the end of that step)
};

namespace detail {
/// The one validation of an adaptive step-size control (dopri5_options, sde_adaptive_options: the same
/// fields): every field checked, NaN included, so a NaN never picks a default or disables a check.
template <class Options>
void validate_step_control(const Options& o, const char* w) {
  require(std::isfinite(o.rtol) && o.rtol >= 0, w, "rtol", o.rtol, "must be finite and >= 0");
  require(std::isfinite(o.atol) && o.atol >= 0, w, "atol", o.atol, "must be finite and >= 0");
  require(o.rtol > 0 || o.atol > 0, w, "rtol + atol", o.rtol + o.atol, "must be > 0");
  require(std::isfinite(o.safety) && o.safety > 0 && o.safety <= 1, w, "safety", o.safety, "must lie in (0, 1]");
  require(std::isfinite(o.min_factor) && o.min_factor > 0 && o.min_factor < 1, w, "min_factor", o.min_factor,
          "must lie in (0, 1)");
  require(std::isfinite(o.max_factor) && o.max_factor > 1, w, "max_factor", o.max_factor, "must be finite and > 1");
  require(std::isfinite(o.dt_initial) && o.dt_initial >= 0, w, "dt_initial", o.dt_initial, "must be finite and >= 0");
  require(std::isfinite(o.dt_min) && o.dt_min >= 0, w, "dt_min", o.dt_min, "must be finite and >= 0");
  require(o.max_steps >= 1, w, "max_steps", o.max_steps, "must be at least 1");
}
inline void validate(const dopri5_options& o) { validate_step_control(o, "dopri5_options"); }
}  // namespace detail

/// Integrate an ODE system adaptively from t0 to t1, in place on x; `observer(i, t_i, x(t_i))` is
/// called for each requested output time (monotone, within [t0, t1]). An observer that returns false
/// stops the run at the end of the step holding that output time (report.stopped_early).
template <class Sys, State X, class Obs = no_observer>
  requires OdeSystem<Sys, X> && Observer<std::remove_cvref_t<Obs>, X>
adaptive_report integrate_adaptive(const Sys& sys, X& x, scalar_of<X> t0, scalar_of<X> t1, const dopri5_options& opt = {},
                                   const std::vector<scalar_of<X>>& output_times = {}, Obs&& observer = {}) {
  using S = scalar_of<X>;
  detail::validate(opt);
  detail::require(std::isfinite(t0), "integrate_adaptive", "t0", t0, "must be finite");
  detail::require(std::isfinite(t1) && t1 != t0, "integrate_adaptive", "t1", t1, "must be finite and differ from t0");
  const S dir = t1 > t0 ? S(1) : S(-1);
  for (std::size_t i = 0; i < output_times.size(); ++i) {
    const S ti = output_times[i];
    const bool inside = std::isfinite(ti) && dir * (ti - t0) >= 0 && dir * (t1 - ti) >= 0;
    const bool ordered = i == 0 || dir * (ti - output_times[i - 1]) > 0;
    if (!inside || !ordered) {
      throw invalid_argument(detail::message("integrate_adaptive: output_times[", i, "] = ", ti,
                                             " must lie in [t0, t1] and follow the previous output time"));
    }
  }
  if (detail::empty_batch(x)) return {};
  detail::check_finite(x, 0, t0);
  // Butcher tableau (Hairer et al. Table 5.2).
  constexpr S a21 = S(1) / 5;
  constexpr S a31 = S(3) / 40, a32 = S(9) / 40;
  constexpr S a41 = S(44) / 45, a42 = S(-56) / 15, a43 = S(32) / 9;
  constexpr S a51 = S(19372) / 6561, a52 = S(-25360) / 2187, a53 = S(64448) / 6561, a54 = S(-212) / 729;
  constexpr S a61 = S(9017) / 3168, a62 = S(-355) / 33, a63 = S(46732) / 5247, a64 = S(49) / 176, a65 = S(-5103) / 18656;
  constexpr S b1 = S(35) / 384, b3 = S(500) / 1113, b4 = S(125) / 192, b5 = S(-2187) / 6784, b6 = S(11) / 84;
  constexpr S e1 = S(71) / 57600, e3 = S(-71) / 16695, e4 = S(71) / 1920, e5 = S(-17253) / 339200, e6 = S(22) / 525,
              e7 = S(-1) / 40;
  constexpr S c2 = S(1) / 5, c3 = S(3) / 10, c4 = S(4) / 5, c5 = S(8) / 9;
  // Shampine's dense-output weights d_i (see the file comment).
  constexpr S q1 = S(-12715105075.0) / S(11282082432.0), q3 = S(87487479700.0) / S(32700410799.0),
              q4 = S(-10690763975.0) / S(1880347072.0), q5 = S(701980252875.0) / S(199316789632.0),
              q6 = S(-1453857185.0) / S(822651844.0), q7 = S(69997945.0) / S(29380423.0);

  const auto r = x.rows(), c = x.cols();
  X k1(r, c), k2(r, c), k3(r, c), k4(r, c), k5(r, c), k6(r, c), k7(r, c), xs(r, c), xn(r, c), err(r, c), out(r, c);
  adaptive_report rep;
  auto norm = [&](const X& e, const X& a, const X& b) {
    const auto sc = (opt.atol + opt.rtol * a.array().abs().max(b.array().abs()).template cast<double>());
    const double v = std::sqrt((e.array().template cast<double>() / sc).square().mean());
    return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
  };
  sys.drift(x, t0, k1);
  ++rep.evaluations;
  if (!k1.allFinite()) {
    throw non_finite_error(detail::message("integrate_adaptive: the drift at t0 = ", t0,
                                           " is not finite (the state is); no step size can help"),
                           0, static_cast<double>(t0));
  }
  const double span = std::fabs(static_cast<double>(t1 - t0));
  const double dt_min = opt.dt_min > 0 ? opt.dt_min : 1e-14 * span;
  double h = opt.dt_initial;
  if (h == 0) {
    // Hairer et al., Sec. II.4: h0 = 0.01 |x| / |f| in the scaled norm, refined with one more evaluation.
    const double d0 = norm(x, x, x);
    const double d1 = norm(k1, x, x);
    // Both trial steps stay inside [t0, t1] (Hairer's hmax = |t1 - t0|): the drift may not exist outside,
    // e.g. a VP flow from T = 1 with a tiny drift would otherwise be probed at t = 1 - 50.
    const double h0 = std::min((d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1, span / 2);
    xs = x + (dir * static_cast<S>(h0)) * k1;
    sys.drift(xs, t0 + dir * static_cast<S>(h0), k2);
    ++rep.evaluations;
    k3 = k2 - k1;
    const double d2 = norm(k3, x, x) / h0;
    const double m = std::max(d1, d2);
    // A non-finite probe (a drift singular at an end, as an epsilon network at sigma = 0) says nothing about
    // the scale: start small and let the controller (and its non-finite report) take over.
    const double h1 = !std::isfinite(m) ? h0 * 1e-3 : m <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / m, 0.2);
    h = std::min(100 * h0, h1);
  }
  h = std::min(h, span);
  S t = t0;
  double err_prev = 1e-4;
  bool last_rejected = false;
  bool last_nonfinite = false;  // the last rejected step's error was NaN or infinite
  std::size_t next_out = 0;
  bool stop = false;
  while (dir * (t1 - t) > 0) {
    if (rep.accepted + rep.rejected >= opt.max_steps) {
      throw integration_error(detail::message("integrate_adaptive: max_steps = ", opt.max_steps, " reached at t = ", t,
                                              " (accepted ", rep.accepted, ", rejected ", rep.rejected, ")"),
                              static_cast<double>(t));
    }
    if (h < dt_min) {
      if (last_nonfinite) {
        throw non_finite_error(detail::message("integrate_adaptive: the drift gave non-finite values at t = ", t,
                                               " for every step size down to dt_min = ", dt_min),
                               rep.accepted, static_cast<double>(t));
      }
      throw integration_error(detail::message("integrate_adaptive: step size ", h, " fell below dt_min = ", dt_min,
                                              " at t = ", t),
                              static_cast<double>(t));
    }
    const bool final_step = h >= std::fabs(static_cast<double>(t1 - t));
    const S hs = final_step ? (t1 - t) : dir * static_cast<S>(h);
    xs = x + (hs * a21) * k1;
    sys.drift(xs, t + c2 * hs, k2);
    xs = x + hs * (a31 * k1 + a32 * k2);
    sys.drift(xs, t + c3 * hs, k3);
    xs = x + hs * (a41 * k1 + a42 * k2 + a43 * k3);
    sys.drift(xs, t + c4 * hs, k4);
    xs = x + hs * (a51 * k1 + a52 * k2 + a53 * k3 + a54 * k4);
    sys.drift(xs, t + c5 * hs, k5);
    xs = x + hs * (a61 * k1 + a62 * k2 + a63 * k3 + a64 * k4 + a65 * k5);
    const S tn = final_step ? t1 : t + hs;
    sys.drift(xs, tn, k6);
    xn = x + hs * (b1 * k1 + b3 * k3 + b4 * k4 + b5 * k5 + b6 * k6);
    sys.drift(xn, tn, k7);
    rep.evaluations += 6;
    err = hs * (e1 * k1 + e3 * k3 + e4 * k4 + e5 * k5 + e6 * k6 + e7 * k7);
    const double en = norm(err, x, xn);
    if (en <= 1.0) {
      // Dense output on (t, tn]: the continuous extension (err, no longer needed, holds h sum_i d_i k_i, d_i = q_i here).
      if (next_out < output_times.size() && dir * (tn - output_times[next_out]) >= 0) {
        err = hs * (q1 * k1 + q3 * k3 + q4 * k4 + q5 * k5 + q6 * k6 + q7 * k7);
      }
      while (next_out < output_times.size() && dir * (tn - output_times[next_out]) >= 0) {
        const S th = (output_times[next_out] - t) / hs;
        const S u = 1 - th;
        // The file comment's polynomial, collected by term: x + wd D + w1 h k1 + w7 h k7 + we (h sum d_i k_i).
        const S wd = th - th * u + 2 * th * th * u, w1 = th * u * u, w7 = -th * th * u, we = th * th * u * u;
        if (output_times[next_out] == tn) {
          out = xn;  // the step's end state exactly, not x + (xn - x)
        } else {
          out = x + wd * (xn - x) + (w1 * hs) * k1 + (w7 * hs) * k7 + we * err;
        }
        if (!detail::observe(observer, next_out, output_times[next_out], out)) stop = true;
        ++next_out;
        if (stop) break;
      }
      t = tn;
      x.swap(xn);
      k1.swap(k7);
      ++rep.accepted;
      detail::check_finite(x, rep.accepted, t);
      if (stop) {
        rep.stopped_early = dir * (t1 - t) > 0;  // as the fixed-step driver: not when the stop is at t1
        break;
      }
      double factor = en == 0 ? opt.max_factor : opt.safety * std::pow(en, -0.17) * std::pow(err_prev, 0.04);
      factor = std::clamp(factor, opt.min_factor, opt.max_factor);
      if (last_rejected) factor = std::min(factor, 1.0);
      h = std::fabs(static_cast<double>(hs)) * factor;
      err_prev = std::max(en, 1e-4);
      last_rejected = false;
      last_nonfinite = false;
    } else {
      ++rep.rejected;
      last_nonfinite = !std::isfinite(en);
      const double factor = std::isfinite(en) ? std::max(opt.min_factor, opt.safety * std::pow(en, -0.2)) : opt.min_factor;
      h = std::fabs(static_cast<double>(hs)) * factor;
      last_rejected = true;
    }
  }
  return rep;
}

}  // namespace sdeflow
