// SPDX-License-Identifier: MIT
#pragma once
/// \file integrate.hpp
/// The driver: runs a stepper over a time grid, calls an observer at every grid point, and reports
/// the number of steps and right-hand-side evaluations (NFE).
///
///   integrate(stepper, ode_system, x, grid [, observer])
///   integrate(stepper, sde_system, x, grid, noise [, observer])    noise: a NoiseSource (noise/)
///
/// The observer follows the protocol of core/observer.hpp: obs(k, t_k, x) or obs(step_info) for
/// k = 0 (initial state) .. N; returning false stops the run after that point. Workspaces are created
/// once per call; the step loop allocates nothing. After every step the state is checked: a NaN or
/// infinity throws non_finite_error naming the step index and time. The noise source gives the
/// Brownian increment of step k natively (brownian_increments, brownian_tree) or, for a source with
/// only `normal` (a recorded table, your generator), as sqrt(|h|) times its draw k.
///
/// \code
///   std::vector<Eigen::MatrixXd> path;
///   auto report = sdeflow::integrate(sdeflow::rk4{}, sys, x, grid,
///                                    [&](std::size_t, double, const Eigen::MatrixXd& xk) { path.push_back(xk); });
/// \endcode

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/execution.hpp>
#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/core/observer.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/noise/sources.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace sdeflow {

namespace detail {

template <class Stepper, State X, class StepFn, class Obs>
integration_report drive(X& x, const time_grid<scalar_of<X>>& grid, StepFn&& step, Obs& obs) {
  run_monitor<X, Obs> mon(obs, grid.steps());
  if (!mon.start(x, grid[0])) return mon.report;
  const std::size_t n = grid.steps();
  for (std::size_t k = 0; k < n; ++k) {
    step(k, grid[k], grid.step(k));
    if (!mon.stepped(x, k + 1, grid[k + 1], static_cast<std::size_t>(Stepper::evaluations), k + 1 == n)) break;
  }
  return mon.report;
}

/// One ODE step on the state x it was built for, with its own workspace.
template <class Stepper, class Sys, State X>
struct ode_step {
  ode_step(const Stepper& st, const Sys& s, X& state) : stepper(&st), sys(&s), x(&state), ws(state) {}
  void operator()(std::size_t, scalar_of<X> t, scalar_of<X> h) { stepper->step(*sys, *x, t, h, ws); }
  const Stepper* stepper;
  const Sys* sys;
  X* x;
  typename Stepper::template workspace<X> ws;
};

/// One SDE step on x: the Brownian increment of step k from `noise` (held by value, or by reference when
/// N is a reference), then the stepper.
template <class Stepper, class Sys, State X, class N>
struct sde_step {
  using W = increment_of<Sys, X>;
  sde_step(const Stepper& st, const Sys& s, X& state, N n)
      : stepper(&st), sys(&s), x(&state), noise(std::forward<N>(n)),
        ws(state, wiener_dimension<Sys, X>(s, state.rows())),
        dW(wiener_dimension<Sys, X>(s, state.rows()), state.cols()) {
    if constexpr (requires { Stepper::needs_area; }) area.resize(dW.rows(), dW.cols());
  }
  void operator()(std::size_t k, scalar_of<X> t, scalar_of<X> h) {
    if constexpr (requires { Stepper::needs_area; }) {
      static_assert(requires(std::remove_cvref_t<N>& nz, W& w) {
                      nz.increment_with_area(std::size_t{}, scalar_of<X>{}, scalar_of<X>{}, w, w);
                    },
                    "this stepper needs the space-time integral: use brownian_increments or brownian_tree as the noise");
      noise.increment_with_area(k, t, h, dW, area);
      stepper->step(*sys, *x, t, h, dW, area, ws);
    } else {
      brownian_step(noise, k, t, h, dW);
      stepper->step(*sys, *x, t, h, dW, ws);
    }
  }
  const Stepper* stepper;
  const Sys* sys;
  X* x;
  N noise;
  typename Stepper::template workspace<X> ws;
  W dW, area;
};

/// True when `noise` can be split by columns: by its type, and for a type-erased source by what it holds.
template <class N>
bool splits_by_columns(const N& noise) {
  if constexpr (!ColumnSplittable<N>) {
    return false;
  } else if constexpr (requires { { noise.splits() } -> std::convertible_to<bool>; }) {
    return noise.splits();
  } else {
    return true;
  }
}

/// The tile width of an integrate run, or 0 for the whole batch (see tile_width in core/execution.hpp).
template <class Sys, State X>
Eigen::Index integrate_tile_width(const execution& exec, const X& x, bool noise_splits) {
  const char* why = whole_batch_v<Sys> ? "the system declares whole_batch (it couples or batches the samples)"
                    : !noise_splits    ? "the noise source cannot be split by columns (use brownian_increments or brownian_tree)"
                                       : nullptr;
  return tile_width(exec, x, why, "integrate");
}

/// Runs the grid over column tiles of x: `make(x_tile, j0, worker)` builds the step function of the
/// tile whose first column is j0. Without an observer every tile runs the whole grid on its own (it
/// stays in cache, and the workers never wait for each other); with one, all tiles take step k, the
/// tiles are written back to x and the observer sees the whole state.
template <class Stepper, State X, class Make, class Obs>
integration_report drive_tiled(const execution& exec, Eigen::Index tile, X& x, const time_grid<scalar_of<X>>& grid,
                               Make&& make, Obs& obs) {
  const Eigen::Index n = x.cols();
  const std::size_t tiles = tile_span::count(tile, n);
  const auto first = [&](std::size_t i) { return tile_span::of(i, tile, n).first; };
  const auto width = [&](std::size_t i) { return tile_span::of(i, tile, n).width; };
  worker_pool pool(exec.threads);
  if constexpr (std::is_same_v<std::remove_cvref_t<Obs>, no_observer>) {
    std::vector<integration_report> reports(tiles);
    auto job = [&](std::size_t i, unsigned w) {
      X xt = x.middleCols(first(i), width(i));
      auto step = make(xt, first(i), w);
      no_observer none;
      try {
        reports[i] = drive<Stepper>(xt, grid, step, none);
      } catch (...) {
        x.middleCols(first(i), width(i)) = xt;  // as untiled: the tile's last completed step (or its NaN state)
        throw;
      }
      x.middleCols(first(i), width(i)) = xt;
    };
    pool.run(tiles, job);
    return reports.front();
  } else {
    run_monitor<X, Obs> mon(obs, grid.steps());
    if (!mon.start(x, grid[0])) return mon.report;
    std::vector<X> xs;
    xs.reserve(tiles);
    for (std::size_t i = 0; i < tiles; ++i) xs.emplace_back(x.middleCols(first(i), width(i)));
    using Step = decltype(make(xs[0], Eigen::Index{}, 0u));
    std::vector<Step> steps;
    steps.reserve(tiles);
    for (std::size_t i = 0; i < tiles; ++i) steps.push_back(make(xs[i], first(i), static_cast<unsigned>(i % pool.threads())));
    const std::size_t N = grid.steps();
    for (std::size_t k = 0; k < N; ++k) {
      auto job = [&](std::size_t i, unsigned) {
        steps[i](k, grid[k], grid.step(k));
        x.middleCols(first(i), width(i)) = xs[i];
      };
      pool.run(tiles, job);
      if (!mon.stepped(x, k + 1, grid[k + 1], static_cast<std::size_t>(Stepper::evaluations), k + 1 == N)) break;
    }
    return mon.report;
  }
}

}  // namespace detail

/// Integrate an ODE system over `grid`, in place on x, under an execution policy (tiles, threads).
template <class Stepper, class Sys, State X, class Obs = no_observer>
  requires OdeStepper<Stepper, Sys, X> && Observer<std::remove_cvref_t<Obs>, X>
integration_report integrate(const execution& exec, const Stepper& stepper, const Sys& sys, X& x,
                             const time_grid<scalar_of<X>>& grid, Obs&& observer = {}) {
  const Eigen::Index tile = detail::integrate_tile_width<Sys, X>(exec, x, true);
  if (detail::empty_batch(x)) return {};
  if (tile == 0) return detail::drive<Stepper>(x, grid, detail::ode_step<Stepper, Sys, X>(stepper, sys, x), observer);
  const detail::per_worker<Sys> systems(sys, exec.threads);
  return detail::drive_tiled<Stepper>(
      exec, tile, x, grid,
      [&](X& xt, Eigen::Index, unsigned w) { return detail::ode_step<Stepper, Sys, X>(stepper, systems[w], xt); },
      observer);
}

/// Integrate an ODE system over `grid`, in place on x (default execution: cache-sized tiles, one thread).
template <class Stepper, class Sys, State X, class Obs = no_observer>
  requires OdeStepper<Stepper, Sys, X> && Observer<std::remove_cvref_t<Obs>, X>
integration_report integrate(const Stepper& stepper, const Sys& sys, X& x, const time_grid<scalar_of<X>>& grid,
                             Obs&& observer = {}) {
  return integrate(execution{}, stepper, sys, x, grid, std::forward<Obs>(observer));
}

/// Integrate an SDE system over `grid`, in place on x, with Brownian increments from `noise`, under an
/// execution policy. Fails to compile, naming the stepper, the noise type and the calculus, when the
/// stepper does not support the system.
template <class Stepper, class Sys, State X, class Noise, class Obs = no_observer>
  requires SdeStepper<Stepper, Sys, X> && detail::SdeNoise<std::remove_cvref_t<Noise>, increment_of<Sys, X>> &&
           Observer<std::remove_cvref_t<Obs>, X>
integration_report integrate(const execution& exec, const Stepper& stepper, const Sys& sys, X& x,
                             const time_grid<scalar_of<X>>& grid, Noise&& noise, Obs&& observer = {}) {
  constexpr bool supported = detail::check_support<Stepper, noise_of<Sys, X>, calculus_of<Sys>>();
  if constexpr (!supported) {
    return {};
  } else {
    using N = std::remove_cvref_t<Noise>;
    const Eigen::Index tile = detail::integrate_tile_width<Sys, X>(exec, x, detail::splits_by_columns(noise));
    if (detail::empty_batch(x)) return {};
    detail::check_draws(noise, grid.steps(), "integrate");
    if (tile == 0) {
      // A const source is copied (its draws are a function of the keys, so the copy gives the same ones).
      using Held = std::conditional_t<std::is_const_v<std::remove_reference_t<Noise>>, N, N&>;
      return detail::drive<Stepper>(x, grid, detail::sde_step<Stepper, Sys, X, Held>(stepper, sys, x, noise), observer);
    }
    if constexpr (detail::ColumnSplittable<N>) {
      const detail::per_worker<Sys> systems(sys, exec.threads);
      return detail::drive_tiled<Stepper>(
          exec, tile, x, grid,
          [&](X& xt, Eigen::Index j0, unsigned w) {
            return detail::sde_step<Stepper, Sys, X, N>(stepper, systems[w], xt,
                                                        noise.columns_from(static_cast<std::uint64_t>(j0)));
          },
          observer);
    } else {
      return {};  // unreachable: tile_width returns 0
    }
  }
}

/// Integrate an SDE system over `grid`, in place on x (default execution: cache-sized tiles when the
/// noise splits by columns, one thread).
template <class Stepper, class Sys, State X, class Noise, class Obs = no_observer>
  requires SdeStepper<Stepper, Sys, X> && detail::SdeNoise<std::remove_cvref_t<Noise>, increment_of<Sys, X>> &&
           Observer<std::remove_cvref_t<Obs>, X>
integration_report integrate(const Stepper& stepper, const Sys& sys, X& x, const time_grid<scalar_of<X>>& grid,
                             Noise&& noise, Obs&& observer = {}) {
  return integrate(execution{}, stepper, sys, x, grid, std::forward<Noise>(noise), std::forward<Obs>(observer));
}

}  // namespace sdeflow
