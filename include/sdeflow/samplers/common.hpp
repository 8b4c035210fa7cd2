// SPDX-License-Identifier: MIT
#pragma once
/// \file common.hpp
/// What every diffusion sampler shares:
/// - sampler_options<X>: seed and sample offset of the noise, a temperature that scales every injected
///   noise (1 = exact; below 1 sharpens), and a per-step callback that sees (step, t, t_next, x, x0_hat)
///   and returns false to stop early.
/// - initial_noise(p, d, n, opt): the prior draw at T, N(0, prior_std^2 I) times the temperature.
/// - sdedit_start(p, x0, t0, opt): SDEdit (Meng et al. 2022): x0 pushed to t0 < T by the forward kernel,
///   the start for partial denoising on a grid beginning at t0.
/// Noise of step i is normal_source(seed, stream 0) at counter i (and i * K + j for samplers that draw K
/// times per step), sample offset + column: batch splits reproduce bit-identical samples.

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/random.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/integrators/integrate.hpp>
#include <sdeflow/sample.hpp>

#include <cmath>
#include <cstdint>
#include <functional>

namespace sdeflow {

/// What the per-step callback sees.
template <State X>
struct step_info {
  std::size_t step;       ///< 0-based step index
  scalar_of<X> t;         ///< time at the start of the step
  scalar_of<X> t_next;    ///< time at its end
  const X& x;             ///< state after the step
  const X& denoised;      ///< the model's x0_hat at (x_t, t)
};

template <State X>
struct sampler_options {
  std::uint64_t seed = 0;
  std::uint64_t sample_offset = 0;
  double temperature = 1.0;                              ///< scales the prior draw and every injected noise
  std::function<bool(const step_info<X>&)> callback{};  ///< return false to stop early
};

namespace detail {

template <State X>
void validate_sampler(const time_grid<scalar_of<X>>& grid, const sampler_options<X>& opt, const char* where) {
  require(grid.backwards(), where, "grid.back()", grid.back(), "must be below grid.front(): samplers run T -> 0");
  require(std::isfinite(opt.temperature) && opt.temperature >= 0, where, "temperature", opt.temperature,
          "must be finite and >= 0");
}

/// Standard normals for (step counter) scaled by the temperature.
template <State X>
void draw_noise(const sampler_options<X>& opt, std::uint64_t counter, X& z) {
  normal_source(opt.seed, 0).fill(z, counter, opt.sample_offset);
  if (opt.temperature != 1.0) z *= static_cast<scalar_of<X>>(opt.temperature);
}

/// Common loop bookkeeping: callback, finiteness, counts. Returns false to stop.
template <State X>
bool after_step(const sampler_options<X>& opt, integration_report& rep, std::size_t i, scalar_of<X> t,
                scalar_of<X> t_next, const X& x, const X& x0) {
  ++rep.steps;
  check_finite(x, i + 1, t_next);
  if (opt.callback && !opt.callback(step_info<X>{i, t, t_next, x, x0})) {
    rep.stopped_early = true;
    return false;
  }
  return true;
}

/// The loop shared by the one-evaluation-per-step samplers: at each grid time, one model evaluation
/// gives x0_hat and eps_hat, `update(i, t, t_next, x, x0, eps)` moves x, then callback and checks.
template <class Model, State X, class Update>
sample_result<X> sampler_loop(const Model& m, X x, const time_grid<scalar_of<X>>& grid, const sampler_options<X>& opt,
                              const char* where, Update&& update) {
  validate_sampler(grid, opt, where);
  X x0(x.rows(), x.cols()), eps(x.rows(), x.cols());
  integration_report rep;
  check_finite(x, 0, grid[0]);
  for (std::size_t i = 0; i < grid.steps(); ++i) {
    const scalar_of<X> t = grid[i], tn = grid[i + 1];
    m.predict(x, t, x0, eps);
    ++rep.evaluations;
    update(i, t, tn, x, x0, eps);
    if (!after_step(opt, rep, i, t, tn, x, x0)) break;
  }
  return {std::move(x), rep};
}

}  // namespace detail

/// n prior draws at the start of a sampler: prior_std (or sigma(t0) for schedules without one) times
/// the temperature times N(0, I), from stream 1 of the seed.
template <NoiseSchedule P, State X = batch<typename P::scalar_type>>
[[nodiscard]] X initial_noise(const P& p, Eigen::Index d, Eigen::Index n, const sampler_options<X>& opt = {}) {
  detail::require(d >= 1, "initial_noise", "d", d, "must be at least 1");
  detail::require(n >= 0, "initial_noise", "n", n, "must be >= 0");
  X x(d, n);
  normal_source(opt.seed, 1).fill(x, 0, opt.sample_offset);
  typename P::scalar_type sd;
  if constexpr (requires { p.prior_std(); }) {
    sd = p.prior_std();
  } else {
    sd = p.marginal_std(p.horizon());
  }
  x *= static_cast<scalar_of<X>>(sd * opt.temperature);
  return x;
}

/// SDEdit start: s(t0) x0 + sigma(t0) eps (eps from stream 1, scaled by the temperature).
template <NoiseSchedule P, State X>
[[nodiscard]] X sdedit_start(const P& p, const X& x0, typename P::scalar_type t0, const sampler_options<X>& opt = {}) {
  detail::require(std::isfinite(t0) && t0 > 0, "sdedit_start", "t0", t0, "must be finite and > 0");
  X z(x0.rows(), x0.cols());
  normal_source(opt.seed, 1).fill(z, 0, opt.sample_offset);
  return p.mean_scale(t0) * x0 + (p.marginal_std(t0) * static_cast<scalar_of<X>>(opt.temperature)) * z;
}

}  // namespace sdeflow
