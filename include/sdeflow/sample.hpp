// SPDX-License-Identifier: MIT
#pragma once
/// \file sample.hpp
/// One-call sampling from a diffusion model given its forward AffineProcess and a score:
/// - sample_reverse_sde:      prior draw at T, then the reverse-time SDE down to t_end (Euler-Maruyama by default).
/// - sample_probability_flow: prior draw at T, then the probability-flow ODE down to t_end (RK4 by default).
/// Both accept an initial batch instead of (d, n) to start from any x_T.
///
/// Noise: the prior uses stream 1 of the seed, the SDE steps stream 0; sample j of the batch is
/// global sample `sample_offset + j`, so batches drawn in pieces reproduce a batch drawn at once.
///
/// \code
///   auto out = sdeflow::sample_reverse_sde(vp, score, 2, 10000, {.steps = 500, .t_end = 1e-3, .seed = 7});
///   Eigen::MatrixXd x = out.samples;      // 2 x 10000
///   std::size_t nfe = out.report.evaluations;
/// \endcode

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/random.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/dynamics/probability_flow.hpp>
#include <sdeflow/dynamics/reverse_sde.hpp>
#include <sdeflow/integrators/euler_maruyama.hpp>
#include <sdeflow/integrators/integrate.hpp>
#include <sdeflow/integrators/rk4.hpp>
#include <sdeflow/processes/affine.hpp>

#include <cmath>
#include <cstdint>

namespace sdeflow {

template <std::floating_point Scalar = double>
struct sample_options {
  std::size_t steps = 500;        ///< number of integration steps from T to t_end
  Scalar t_end = Scalar(1e-3);    ///< where to stop (0 <= t_end < T); small positive avoids the t = 0 singularity
  std::uint64_t seed = 0;         ///< noise seed
  std::uint64_t sample_offset = 0;  ///< global index of the first sample in this batch
};

template <State X>
struct sample_result {
  X samples;
  integration_report report;
};

namespace detail {
template <AffineProcess P>
time_grid<typename P::scalar_type> sampling_grid(const P& p, const sample_options<typename P::scalar_type>& opt,
                                                const char* where) {
  const auto T = p.horizon();
  require(std::isfinite(opt.t_end) && opt.t_end >= 0 && opt.t_end < T, where, "t_end", opt.t_end,
          "must lie in [0, horizon)");
  require(opt.steps >= 1, where, "steps", opt.steps, "must be at least 1");
  return time_grid<typename P::scalar_type>::uniform(T, opt.t_end, opt.steps);
}
}  // namespace detail

/// Reverse-time SDE from the given x_T (d x n, one sample per column).
template <class Stepper = euler_maruyama, AffineProcess P, class Score, State X>
[[nodiscard]] sample_result<X> sample_reverse_sde(const P& p, const Score& score, X x_T,
                                                  const sample_options<typename P::scalar_type>& opt = {},
                                                  const Stepper& stepper = {}) {
  const auto grid = detail::sampling_grid(p, opt, "sample_reverse_sde");
  const reverse_sde<P, Score> sys(p, score);
  auto rep = integrate(stepper, sys, x_T, grid, brownian_increments(opt.seed, opt.sample_offset, 0));
  return {std::move(x_T), rep};
}

/// Reverse-time SDE from n prior draws in dimension d.
template <class Stepper = euler_maruyama, AffineProcess P, class Score>
[[nodiscard]] sample_result<batch<typename P::scalar_type>> sample_reverse_sde(
    const P& p, const Score& score, Eigen::Index d, Eigen::Index n,
    const sample_options<typename P::scalar_type>& opt = {}, const Stepper& stepper = {}) {
  return sample_reverse_sde(p, score, sample_prior(p, d, n, normal_source(opt.seed, 1), opt.sample_offset), opt,
                            stepper);
}

/// Probability-flow ODE from the given x_T.
template <class Stepper = rk4, AffineProcess P, class Score, State X>
[[nodiscard]] sample_result<X> sample_probability_flow(const P& p, const Score& score, X x_T,
                                                       const sample_options<typename P::scalar_type>& opt = {},
                                                       const Stepper& stepper = {}) {
  const auto grid = detail::sampling_grid(p, opt, "sample_probability_flow");
  const probability_flow<P, Score> sys(p, score);
  auto rep = integrate(stepper, sys, x_T, grid);
  return {std::move(x_T), rep};
}

/// Probability-flow ODE from n prior draws in dimension d.
template <class Stepper = rk4, AffineProcess P, class Score>
[[nodiscard]] sample_result<batch<typename P::scalar_type>> sample_probability_flow(
    const P& p, const Score& score, Eigen::Index d, Eigen::Index n,
    const sample_options<typename P::scalar_type>& opt = {}, const Stepper& stepper = {}) {
  return sample_probability_flow(p, score, sample_prior(p, d, n, normal_source(opt.seed, 1), opt.sample_offset), opt,
                                 stepper);
}

}  // namespace sdeflow
