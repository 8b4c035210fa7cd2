// SPDX-License-Identifier: MIT
#pragma once
/// \file observer.hpp
/// The bookkeeping every driver shares (integrate, integrate_adaptive, the sampling engine): the
/// report, the observer protocol, the finiteness check and early stop. Written once, here.
///
/// Observer protocol. An observer is called at the initial point (index 0) and after every step
/// (index k = 1..N, at grid time t_k), in one of two forms:
///   obs(k, t_k, x)          the plain form, as Boost.Odeint's observers;
///   obs(const step_info&)   the rich form: index, time, state and, for diffusion samplers, the model's
///                           x0_hat (denoised) of the step's first evaluation (nullptr where there is none).
/// If it returns something convertible to bool, false stops the run after that point
/// (report.stopped_early is then true when steps remained).
///
/// \code
///   auto obs = [](const sdeflow::step_info<Eigen::MatrixXd>& s) { return s.index < 10; };   // stop after 10 steps
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace sdeflow {

/// What a run did.
struct integration_report {
  std::size_t steps = 0;         ///< steps taken
  std::size_t evaluations = 0;   ///< drift (score / model) evaluations, i.e. NFE
  bool stopped_early = false;    ///< the observer asked to stop before the last grid point
};

/// What an observer sees at grid point `index`.
template <State X>
struct step_info {
  std::size_t index;          ///< grid point: 0 is the initial state, k the state after step k
  scalar_of<X> t;             ///< its time t_k
  const X& x;                 ///< the state at t_k
  const X* denoised;          ///< the model's x0_hat at the start of step k (nullptr when there is none)
  std::size_t steps = 0;      ///< N, the steps the run will take (0 when not known in advance: adaptive runs)
};

/// An observer of states X: callable as obs(k, t, x) or obs(step_info<X>).
template <class O, class X>
concept Observer = State<X> && (std::invocable<O&, const step_info<X>&> ||
                                std::invocable<O&, std::size_t, scalar_of<X>, const X&>);

/// The default observer: does nothing.
struct no_observer {
  template <State X>
  void operator()(const step_info<X>&) const noexcept {}
};

/// A type-erased observer, for options structs: holds any Observer<O, X> (empty by default).
template <State X>
class any_observer {
 public:
  any_observer() = default;
  template <class O>
    requires(!std::same_as<std::remove_cvref_t<O>, any_observer> && Observer<std::remove_cvref_t<O>, X>)
  any_observer(O&& obs)  // NOLINT(google-explicit-constructor): options take lambdas directly
      : f_([o = std::forward<O>(obs)](const step_info<X>& s) mutable { return call(o, s); }) {}

  /// Anything else is not an observer: fail here, at the user's assignment, naming the concept.
  template <class O>
    requires(!std::same_as<std::remove_cvref_t<O>, any_observer> && !Observer<std::remove_cvref_t<O>, X>)
  any_observer(O&&) {  // NOLINT(google-explicit-constructor)
    static_assert(Observer<std::remove_cvref_t<O>, X>,
                  "not an Observer<O, X>: an observer is callable as obs(k, t, x) or obs(step_info<X>)");
  }

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(f_); }
  bool operator()(const step_info<X>& s) const { return f_ ? f_(s) : true; }

  /// Calls obs in whichever form it takes; false means stop.
  template <class O>
  static bool call(O& obs, const step_info<X>& s) {
    if constexpr (std::invocable<O&, const step_info<X>&>) {
      if constexpr (std::is_convertible_v<std::invoke_result_t<O&, const step_info<X>&>, bool>) {
        return static_cast<bool>(obs(s));
      } else {
        obs(s);
        return true;
      }
    } else {
      if constexpr (std::is_convertible_v<std::invoke_result_t<O&, std::size_t, scalar_of<X>, const X&>, bool>) {
        return static_cast<bool>(obs(s.index, s.t, s.x));
      } else {
        obs(s.index, s.t, s.x);
        return true;
      }
    }
  }

 private:
  std::function<bool(const step_info<X>&)> f_;
};

namespace detail {

/// The throw of check_finite, out of line so that the check itself inlines into the step loop.
[[noreturn]] inline void throw_non_finite(std::size_t k, double t) {
  throw non_finite_error(message("the state became non-finite at step ", k, " (t = ", t, ")"), k, t);
}

template <State X>
SDEFLOW_ALWAYS_INLINE void check_finite(const X& x, std::size_t k, scalar_of<X> t) {
  if (!x.allFinite()) [[unlikely]] throw_non_finite(k, static_cast<double>(t));
}

/// Calls the observer at point k; false means stop.
template <class Obs, State X>
bool observe(Obs& obs, std::size_t k, scalar_of<X> t, const X& x, const X* denoised = nullptr, std::size_t steps = 0) {
  return any_observer<X>::call(obs, step_info<X>{k, t, x, denoised, steps});
}

/// The loop bookkeeping shared by every driver: counts, finiteness and the observer.
template <State X, class Obs>
class run_monitor {
 public:
  using S = scalar_of<X>;
  /// steps: N, the steps the run will take (shown to the observer as step_info::steps).
  run_monitor(Obs& obs, std::size_t steps) : obs_(obs), steps_(steps) {}

  /// The initial point: checks it and shows it to the observer. False: stop before any step.
  bool start(const X& x, S t0) {
    check_finite(x, 0, t0);
    if (!observe(obs_, 0, t0, x, static_cast<const X*>(nullptr), steps_)) {
      report.stopped_early = true;
      return false;
    }
    return true;
  }

  /// After step k - 1 -> k (k = 1..N): counts it, checks the state, shows it. False: stop.
  bool stepped(const X& x, std::size_t k, S t, std::size_t evaluations, bool last, const X* denoised = nullptr) {
    ++report.steps;
    report.evaluations += evaluations;
    check_finite(x, k, t);
    if (!observe(obs_, k, t, x, denoised, steps_)) {
      report.stopped_early = !last;
      return false;
    }
    return true;
  }

  integration_report report;

 private:
  Obs& obs_;
  std::size_t steps_;
};

}  // namespace detail
}  // namespace sdeflow
