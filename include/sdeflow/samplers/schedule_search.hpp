// SPDX-License-Identifier: MIT
#pragma once
/// \file schedule_search.hpp
/// A schedule optimizer in the spirit of "Align Your Steps" (Sabour, Fidler & Kreis 2024): for a given
/// sampler, model, batch of prior draws x_T and step budget, choose the interior grid points that
/// minimize the flow-map error
///     E(grid) = mean over the batch of |x_N(grid) - x_ref|,
/// x_ref the probability-flow ODE solved from the same x_T by adaptive Dormand-Prince (tight tolerance,
/// in the EDM frame dx~/dsigma~ = eps_hat, which stays regular at sigma = 0 for VP too). AYS minimizes a bound on the
/// KL divergence of the whole path; this minimizes the error of the sampler actually used, which is what
/// a user can measure, and the result is a plain time_grid to reuse.
///
/// Search: the end points stay; coordinate descent over the interior points, each placed by a
/// golden-section search over the whole interval between its neighbours (linear in u = ln(sigma/s), in t
/// next to a final point at sigma = 0), kept when it lowers E; sweeps until one gains less than
/// relative_gain or max_sweeps. Every trial is one sampler run on the batch (N NFE each); the result
/// reports the trials. A local search: the start matters (try karras_schedule and exponential_schedule). Deterministic samplers only (E of a stochastic one
/// would need common noise; pass options with a fixed seed and it is minimized for that noise).
///
/// \code
///   auto start = sdeflow::karras_schedule(edm, 0.002, 80.0, 10);
///   auto xT = sdeflow::initial_noise(edm, 2, 512, start, {.seed = 1});
///   auto found = sdeflow::optimize_schedule(sdeflow::samplers::dpmpp_2m{}, model, xT, start);
///   // found.grid: reuse it; found.error vs found.initial_error: what it bought on this batch
/// \endcode
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/integrators/dormand_prince.hpp>
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/schedules.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sdeflow {

struct schedule_search_options {
  std::size_t max_sweeps = 20;     ///< coordinate-descent sweeps over the interior points
  double tolerance = 1e-3;         ///< golden-section width, as a fraction of the interval between neighbours
  double relative_gain = 1e-3;     ///< stop after a sweep that lowers the error by less than this fraction
  double reference_rtol = 1e-10;   ///< Dormand-Prince tolerances of the reference flow map
  double reference_atol = 1e-10;
};

template <std::floating_point S>
struct schedule_search_result {
  time_grid<S> grid;              ///< the optimized grid (same end points and step count)
  double initial_error = 0;       ///< E of the starting grid on the batch
  double error = 0;               ///< E of the optimized grid on the batch
  std::size_t trials = 0;         ///< sampler runs made (each N NFE on the batch)
  std::size_t sweeps = 0;
};

namespace detail {
/// The probability-flow ODE in the EDM frame: time sigma~ = sigma/s, state x~ = x/s, dx~/dsigma~ = eps_hat
/// (= (x~ - x0_hat)/sigma~), regular down to sigma~ = 0 for every schedule with s > 0 (the velocity form
/// needs dsigma/dt, infinite at t = 0 under VP).
template <class M>
class edm_frame_field {
 public:
  explicit edm_frame_field(const M& m) : m_(&m) {}
  template <State X>
  void drift(const X& x, scalar_of<X> r, X& out) const {
    thread_local X xs, x0;
    const auto& p = m_->process();
    const auto t = time_at_sigma_ratio(p, r);
    xs = p.mean_scale(t) * x;
    x0.resize(x.rows(), x.cols());
    m_->predict(xs, t, x0, out);
  }

 private:
  const M* m_;
};
}  // namespace detail

/// The flow-map reference of a model from x_T at t0 to t1 (t0 > t1): the probability-flow ODE solved by
/// adaptive Dormand-Prince in the EDM frame (sigma~ as time), mapped back to x at t1.
template <class M, State X>
[[nodiscard]] X flow_map_reference(const M& m, X x, scalar_of<X> t0, scalar_of<X> t1, double rtol = 1e-10,
                                   double atol = 1e-10) {
  const auto& p = m.process();
  detail::require(t1 < t0, "flow_map_reference", "t1", t1, detail::message("must be below t0 = ", t0).c_str());
  const auto s0 = p.mean_scale(t0), s1 = p.mean_scale(t1);
  detail::require(s0 > 0 && s1 > 0, "flow_map_reference", "mean_scale", s0 > 0 ? s1 : s0,
                  "must be > 0 at both ends (the EDM frame divides by s)");
  x /= s0;
  const detail::edm_frame_field<M> field(m);
  (void)integrate_adaptive(field, x, sigma_ratio(p, t0), sigma_ratio(p, t1), {.rtol = rtol, .atol = atol});
  x *= s1;
  return x;
}

/// Mean over the columns of |a - b|: the flow-map error of a batch.
template <State X>
[[nodiscard]] double flow_map_error(const X& a, const X& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    throw dimension_mismatch(detail::message("flow_map_error: ", a.rows(), " x ", a.cols(), " against ", b.rows(), " x ",
                                             b.cols()));
  }
  detail::require(a.cols() > 0, "flow_map_error", "columns", a.cols(), "must be at least 1");
  return static_cast<double>((a - b).colwise().norm().mean());
}

template <class Smp, class M, State X>
  requires Sampler<Smp, M, X>
[[nodiscard]] schedule_search_result<scalar_of<X>> optimize_schedule(const Smp& sampler, const M& m, const X& x_T,
                                                                     const time_grid<scalar_of<X>>& start,
                                                                     const schedule_search_options& opt = {},
                                                                     const sampler_options<X>& run_options = {}) {
  using S = scalar_of<X>;
  const char* who = "optimize_schedule";
  detail::require(opt.max_sweeps >= 1, who, "max_sweeps", opt.max_sweeps, "must be at least 1");
  detail::require(std::isfinite(opt.tolerance) && opt.tolerance > 0 && opt.tolerance < 1, who, "tolerance", opt.tolerance,
                  "must lie in (0, 1)");
  detail::require(std::isfinite(opt.relative_gain) && opt.relative_gain >= 0, who, "relative_gain", opt.relative_gain,
                  "must be finite and >= 0");
  detail::require(start.steps() >= 2, who, "start.steps()", start.steps(), "must be at least 2 (one interior point)");
  detail::require(x_T.cols() >= 1, who, "x_T.cols()", x_T.cols(), "must be at least 1");
  const auto& p = m.process();
  const X ref = flow_map_reference(m, x_T, start.front(), start.back(), opt.reference_rtol, opt.reference_atol);
  std::vector<S> t = start.points();
  const std::size_t N = start.steps();
  // u_i = ln(sigma/s) of every point that has sigma > 0 (a final point at sigma = 0 is no coordinate).
  std::vector<S> u(N + 1);
  for (std::size_t i = 0; i <= N; ++i) {
    const S r = sigma_ratio(p, t[i]);
    u[i] = r > 0 ? std::log(r) : -std::numeric_limits<S>::infinity();
  }
  schedule_search_result<S> out{start, 0, 0, 0, 0};
  const auto error_of = [&](const std::vector<S>& pts) {
    ++out.trials;
    return flow_map_error(sample(sampler, m, x_T, time_grid<S>::from_points(pts), run_options).samples, ref);
  };
  double best = error_of(t);
  out.initial_error = best;
  // Coordinate descent with a golden-section line search per point: point i moves over the open interval
  // between its neighbours, parametrized by a in (0, 1) linearly in u = ln(sigma/s) (in t when the lower
  // neighbour is at sigma = 0). The end points stay.
  const auto place = [&](std::size_t i, S a) {
    const S lo = u[i + 1], hi = u[i - 1];
    if (std::isfinite(lo)) return time_at_sigma_ratio(p, std::exp(lo + a * (hi - lo)));
    return t[i + 1] + a * (t[i - 1] - t[i + 1]);
  };
  const S g = (std::sqrt(S(5)) - 1) / 2;
  double previous = best;
  for (std::size_t sweep = 0; sweep < opt.max_sweeps; ++sweep) {
    ++out.sweeps;
    for (std::size_t i = 1; i < N; ++i) {
      std::vector<S> trial = t;
      const auto at = [&](S a) {
        trial[i] = place(i, a);
        if (!(trial[i] < trial[i - 1] && trial[i] > trial[i + 1])) return std::numeric_limits<double>::infinity();
        return error_of(trial);
      };
      S a = 0, b = 1;
      S c = b - g * (b - a), d = a + g * (b - a);
      double fc = at(c), fd = at(d);
      while (b - a > static_cast<S>(opt.tolerance)) {
        if (fc < fd) {
          b = d;
          d = c;
          fd = fc;
          c = b - g * (b - a);
          fc = at(c);
        } else {
          a = c;
          c = d;
          fc = fd;
          d = a + g * (b - a);
          fd = at(d);
        }
      }
      const S a_best = fc < fd ? c : d;
      const double f_best = std::min(fc, fd);
      if (f_best < best) {
        best = f_best;
        t[i] = place(i, a_best);
        const S r = sigma_ratio(p, t[i]);
        u[i] = r > 0 ? std::log(r) : -std::numeric_limits<S>::infinity();
      }
    }
    if (previous - best <= opt.relative_gain * previous) break;  // a sweep that bought (almost) nothing
    previous = best;
  }
  out.grid = time_grid<S>::from_points(t);
  out.error = best;
  return out;
}

}  // namespace sdeflow
