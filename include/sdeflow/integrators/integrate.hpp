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
#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/core/observer.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/noise/sources.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace sdeflow {

namespace detail {

template <class Stepper, State X, class StepFn, class Obs>
integration_report drive(X& x, const time_grid<scalar_of<X>>& grid, StepFn&& step, Obs& obs) {
  run_monitor<X, Obs> mon(obs);
  if (!mon.start(x, grid[0])) return mon.report;
  const std::size_t n = grid.steps();
  for (std::size_t k = 0; k < n; ++k) {
    step(k, grid[k], grid.step(k));
    if (!mon.stepped(x, k + 1, grid[k + 1], static_cast<std::size_t>(Stepper::evaluations), k + 1 == n)) break;
  }
  return mon.report;
}

}  // namespace detail

/// Integrate an ODE system over `grid`, in place on x.
template <class Stepper, class Sys, State X, class Obs = no_observer>
  requires OdeStepper<Stepper, Sys, X> && Observer<std::remove_cvref_t<Obs>, X>
integration_report integrate(const Stepper& stepper, const Sys& sys, X& x, const time_grid<scalar_of<X>>& grid,
                             Obs&& observer = {}) {
  typename Stepper::template workspace<X> ws(x);
  return detail::drive<Stepper>(
      x, grid, [&](std::size_t, scalar_of<X> t, scalar_of<X> h) { stepper.step(sys, x, t, h, ws); }, observer);
}

/// Integrate an SDE system over `grid`, in place on x, with Brownian increments from `noise`.
/// Fails to compile, naming the stepper, the noise type and the calculus, when the stepper does not
/// support the system.
template <class Stepper, class Sys, State X, class Noise, class Obs = no_observer>
  requires SdeStepper<Stepper, Sys, X> && detail::SdeNoise<std::remove_cvref_t<Noise>, increment_of<Sys, X>> &&
           Observer<std::remove_cvref_t<Obs>, X>
integration_report integrate(const Stepper& stepper, const Sys& sys, X& x, const time_grid<scalar_of<X>>& grid,
                             Noise&& noise, Obs&& observer = {}) {
  constexpr bool supported = detail::check_support<Stepper, noise_of<Sys, X>, calculus_of<Sys>>();
  if constexpr (!supported) {
    return {};
  } else {
    const Eigen::Index m = wiener_dimension<Sys, X>(sys, x.rows());
    typename Stepper::template workspace<X> ws(x, m);
    increment_of<Sys, X> dW(m, x.cols());
    if constexpr (requires { Stepper::needs_area; }) {
      static_assert(requires(std::remove_cvref_t<Noise>& n, increment_of<Sys, X>& w) {
                      n.increment_with_area(std::size_t{}, scalar_of<X>{}, scalar_of<X>{}, w, w);
                    },
                    "this stepper needs the space-time integral: use brownian_increments or brownian_tree as the noise");
      increment_of<Sys, X> area(m, x.cols());
      return detail::drive<Stepper>(
          x, grid,
          [&](std::size_t k, scalar_of<X> t, scalar_of<X> h) {
            noise.increment_with_area(k, t, h, dW, area);
            stepper.step(sys, x, t, h, dW, area, ws);
          },
          observer);
    } else {
      return detail::drive<Stepper>(
          x, grid,
          [&](std::size_t k, scalar_of<X> t, scalar_of<X> h) {
            detail::brownian_step(noise, k, t, h, dW);
            stepper.step(sys, x, t, h, dW, ws);
          },
          observer);
    }
  }
}

}  // namespace sdeflow
