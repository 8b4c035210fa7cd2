// SPDX-License-Identifier: MIT
#pragma once
/// \file integrate.hpp
/// The driver: runs a stepper over a time grid, calls an observer at every grid point, and reports
/// the number of steps and right-hand-side evaluations (NFE).
///
///   integrate(stepper, ode_system, x, grid [, observer])
///   integrate(stepper, sde_system, x, grid, noise [, observer])    noise: BrownianIncrements
///
/// The observer is called as obs(k, t_k, x) for k = 0 (initial state) .. N; if it returns bool,
/// returning false stops the run after that point. Workspaces are created once per call; the step
/// loop allocates nothing. After every step the state is checked: a NaN or infinity throws
/// non_finite_error naming the step index and time.
///
/// \code
///   std::vector<Eigen::MatrixXd> path;
///   auto report = sdeflow::integrate(sdeflow::rk4{}, sys, x, grid,
///                                    [&](std::size_t, double, const Eigen::MatrixXd& xk) { path.push_back(xk); });
/// \endcode

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/noise.hpp>
#include <sdeflow/core/time_grid.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace sdeflow {

/// What a run did.
struct integration_report {
  std::size_t steps = 0;         ///< steps taken
  std::size_t evaluations = 0;   ///< drift (score / model) evaluations, i.e. NFE
  bool stopped_early = false;    ///< the observer asked to stop
};

/// The default observer: does nothing.
struct no_observer {
  template <class S, class X>
  void operator()(std::size_t, S, const X&) const noexcept {}
};

namespace detail {

template <State X>
void check_finite(const X& x, std::size_t k, scalar_of<X> t) {
  if (!x.allFinite()) {
    throw non_finite_error(message("integrate: the state became non-finite at step ", k, " (t = ", t, ")"), k,
                           static_cast<double>(t));
  }
}

/// Calls the observer; false means stop.
template <class Obs, class S, class X>
bool observe(Obs& obs, std::size_t k, S t, const X& x) {
  if constexpr (std::is_convertible_v<std::invoke_result_t<Obs&, std::size_t, S, const X&>, bool>) {
    return static_cast<bool>(obs(k, t, x));
  } else {
    obs(k, t, x);
    return true;
  }
}

template <class Stepper, class X, class StepFn, class Obs>
integration_report drive(X& x, const time_grid<scalar_of<X>>& grid, StepFn&& step, Obs& obs) {
  integration_report rep;
  check_finite(x, 0, grid[0]);
  if (!observe(obs, 0, grid[0], x)) {
    rep.stopped_early = true;
    return rep;
  }
  for (std::size_t k = 0; k < grid.steps(); ++k) {
    step(k, grid[k], grid.step(k));
    ++rep.steps;
    rep.evaluations += static_cast<std::size_t>(Stepper::evaluations);
    check_finite(x, k + 1, grid[k + 1]);
    if (!observe(obs, k + 1, grid[k + 1], x)) {
      rep.stopped_early = k + 1 < grid.steps();
      break;
    }
  }
  return rep;
}

}  // namespace detail

/// Integrate an ODE system over `grid`, in place on x.
template <class Stepper, class Sys, State X, class Observer = no_observer>
  requires OdeStepper<Stepper, Sys, X>
integration_report integrate(const Stepper& stepper, const Sys& sys, X& x, const time_grid<scalar_of<X>>& grid,
                             Observer&& observer = {}) {
  typename Stepper::template workspace<X> ws(x);
  return detail::drive<Stepper>(
      x, grid, [&](std::size_t, scalar_of<X> t, scalar_of<X> h) { stepper.step(sys, x, t, h, ws); }, observer);
}

/// Integrate an SDE system over `grid`, in place on x, with Brownian increments from `noise`.
/// Fails to compile, naming the stepper, the noise type and the calculus, when the stepper does not
/// support the system.
template <class Stepper, class Sys, State X, class Noise, class Observer = no_observer>
  requires SdeStepper<Stepper, Sys, X> && BrownianIncrements<std::remove_cvref_t<Noise>, X>
integration_report integrate(const Stepper& stepper, const Sys& sys, X& x, const time_grid<scalar_of<X>>& grid,
                             Noise&& noise, Observer&& observer = {}) {
  constexpr bool supported = detail::check_support<Stepper, noise_of<Sys, X>, calculus_of<Sys>>();
  if constexpr (!supported) {
    return {};
  } else {
    const Eigen::Index m = wiener_dimension<Sys, X>(sys, x.rows());
    typename Stepper::template workspace<X> ws(x, m);
    increment_of<Sys, X> dW(m, x.cols());
    if constexpr (requires { Stepper::needs_area; }) {
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
            noise.increment(k, t, h, dW);
            stepper.step(sys, x, t, h, dW, ws);
          },
          observer);
    }
  }
}

}  // namespace sdeflow
