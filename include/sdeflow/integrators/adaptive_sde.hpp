// SPDX-License-Identifier: MIT
#pragma once
/// \file adaptive_sde.hpp
/// Adaptive SDE stepping by step doubling on a virtual Brownian tree: each attempt compares one step of
/// size h with two steps of h/2 over the same stretch of the tree's Brownian path; the error
/// RMS((x_half - x_full) / (atol + rtol max(|x|, |x_half|))) decides, and an accepted step keeps the
/// two-half-step result. The path is the tree's, queried at the attempted times, so a rejected step does
/// not change the Brownian path that later steps see (Gaines & Lyons 1997; Ilie, Jackson & Enright 2015).
/// Step sizes are kept on the tree's grid (multiples of twice its resolution); the controller uses the
/// stepper's strong order p: factor = safety err^{-1/(p + 1/2)}. dt_min and max_steps end the run with
/// sdeflow::integration_error, never a hang.
///
/// \code
///   sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, seed);
///   auto rep = sdeflow::integrate_sde_adaptive(sdeflow::sra1{}, sys, x, 0.0, 1.0, tree, {.rtol = 1e-3, .atol = 1e-3});
/// \endcode

#include <sdeflow/noise/brownian_tree.hpp>
#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/core/observer.hpp>
#include <sdeflow/integrators/dormand_prince.hpp>
#include <sdeflow/integrators/integrate.hpp>

#include <algorithm>
#include <cmath>

namespace sdeflow {

struct sde_adaptive_options {
  double rtol = 1e-3;
  double atol = 1e-3;
  double safety = 0.9;
  double min_factor = 0.2;
  double max_factor = 5.0;
  double dt_initial = 0.0;  ///< 0: (t1 - t0) / 64
  double dt_min = 0.0;      ///< 0: twice the tree's resolution (the smallest step it can resolve)
  std::size_t max_steps = 100000;
};

namespace detail {
inline void validate(const sde_adaptive_options& o) { validate_step_control(o, "sde_adaptive_options"); }
}  // namespace detail

/// Integrate from t0 to t1 on the tree's path, forwards (t1 > t0) or backwards (t1 < t0, e.g. a
/// reverse-time SDE from T down to t_end: the steps are negative and see the time-reversed increments);
/// the tree must span both ends. The observer (core/observer.hpp) sees every accepted step; false stops.
template <class Stepper, class Sys, State X, class Obs = no_observer>
  requires SdeStepper<Stepper, Sys, X> && Observer<std::remove_cvref_t<Obs>, X>
adaptive_report integrate_sde_adaptive(const Stepper& stepper, const Sys& sys, X& x, double t0, double t1,
                                       brownian_tree& tree, const sde_adaptive_options& opt = {},
                                       Obs&& observer = {}) {
  constexpr bool supported = detail::check_support<Stepper, noise_of<Sys, X>, calculus_of<Sys>>();
  if constexpr (!supported) {
    return {};
  } else {
    using S = scalar_of<X>;
    const char* w = "integrate_sde_adaptive";
    detail::validate(opt);
    detail::require(std::isfinite(t0), w, "t0", t0, "must be finite");
    detail::require(std::isfinite(t1) && t1 != t0, w, "t1", t1, "must be finite and differ from t0");
    if (detail::empty_batch(x)) return {};
    const double dir = t1 > t0 ? 1.0 : -1.0;
    const double quantum = 2 * tree.resolution();
    const double dt_min = std::max(opt.dt_min, quantum);
    auto snap = [&](double h) { return std::max(quantum, std::round(h / quantum) * quantum); };
    double h = snap(opt.dt_initial > 0 ? opt.dt_initial : std::fabs(t1 - t0) / 64);
    const Eigen::Index m = wiener_dimension<Sys, X>(sys, x.rows());
    typename Stepper::template workspace<X> ws(x, m);
    increment_of<Sys, X> dW(m, x.cols()), chi(m, x.cols());
    X full(x.rows(), x.cols()), half(x.rows(), x.cols());
    auto advance = [&](X& y, double t, double step) {
      if constexpr (requires { Stepper::needs_area; }) {
        tree.increment_with_area(0, static_cast<S>(t), static_cast<S>(step), dW, chi);
        stepper.step(sys, y, static_cast<S>(t), static_cast<S>(step), dW, chi, ws);
      } else {
        tree.increment(0, static_cast<S>(t), static_cast<S>(step), dW);
        stepper.step(sys, y, static_cast<S>(t), static_cast<S>(step), dW, ws);
      }
    };
    const double exponent = 1.0 / (Stepper::strong_order + 0.5);
    adaptive_report rep;
    double t = t0;
    bool last_nonfinite = false;  // the last rejected step's error was NaN or infinite
    detail::check_finite(x, 0, static_cast<S>(t));
    if (!detail::observe(observer, 0, static_cast<S>(t), x)) {
      rep.stopped_early = true;
      return rep;
    }
    while (dir * (t1 - t) > 0.5 * tree.resolution()) {
      if (rep.accepted + rep.rejected >= opt.max_steps) {
        throw integration_error(detail::message(w, ": max_steps = ", opt.max_steps, " reached at t = ", t), t);
      }
      if (h < dt_min) {
        if (last_nonfinite) {
          throw non_finite_error(detail::message(w, ": the drift or diffusion gave non-finite values at t = ", t,
                                                 " for every step size down to dt_min = ", dt_min),
                                 rep.accepted, t);
        }
        throw integration_error(detail::message(w, ": step size ", h, " fell below dt_min = ", dt_min, " at t = ", t), t);
      }
      const double step = dir * std::min(h, dir * (t1 - t));
      full = x;
      advance(full, t, step);
      half = x;
      advance(half, t, step / 2);
      advance(half, t + step / 2, step / 2);
      rep.evaluations += 3 * static_cast<std::size_t>(Stepper::evaluations);
      const auto sc = (opt.atol + opt.rtol * x.array().abs().max(half.array().abs()).template cast<double>());
      double err = std::sqrt(((half - full).array().template cast<double>() / sc).square().mean());
      if (!std::isfinite(err)) err = std::numeric_limits<double>::infinity();
      if (err <= 1.0) {
        x.swap(half);
        t += step;
        last_nonfinite = false;
        ++rep.accepted;
        detail::check_finite(x, rep.accepted, static_cast<S>(t));
        if (!detail::observe(observer, rep.accepted, static_cast<S>(t), x)) {
          rep.stopped_early = dir * (t1 - t) > 0.5 * tree.resolution();
          break;
        }
        const double factor = err == 0 ? opt.max_factor : std::clamp(opt.safety * std::pow(err, -exponent), opt.min_factor, opt.max_factor);
        h = snap(std::fabs(step) * factor);
      } else {
        ++rep.rejected;
        last_nonfinite = !std::isfinite(err);
        const double factor = std::isfinite(err) ? std::max(opt.min_factor, opt.safety * std::pow(err, -exponent)) : opt.min_factor;
        const double next = std::round(std::fabs(step) * factor / quantum) * quantum;
        h = next < quantum ? 0.0 : next;  // below the tree's resolution: reported as dt_min
      }
    }
    return rep;
  }
}

}  // namespace sdeflow
