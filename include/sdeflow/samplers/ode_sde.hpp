// SPDX-License-Identifier: MIT
#pragma once
/// \file ode_sde.hpp
/// Samplers that integrate a differential equation of the model with one of the integrators, on the
/// engine (samplers/engine.hpp):
/// - samplers::reverse_sde<Stepper = euler_maruyama>: the reverse-time SDE (Anderson 1982; Song et al.
///   2021, Eq. 6) dx = [f - g^2 score] dt + g dW_bar, score = -eps_hat / sigma; the Brownian increment of
///   step k is the noise source's draw k. AffineProcess schedules. NFE: Stepper::evaluations N.
/// - samplers::probability_flow<Stepper = rk4>: the probability-flow ODE (Song et al. 2021, Eq. 13)
///   dx/dt = f - 1/2 g^2 score. AffineProcess schedules. Deterministic.
/// - samplers::flow<Stepper = rk4>: the same ODE in velocity form, dx/dt = s'(t) x0_hat + sigma'(t) eps_hat,
///   for flow matching / rectified flow and any schedule with derivatives; it stays regular where f and
///   g are not (rectified flow at t = 1). With a flow-velocity model it is the model itself.
/// - velocity_field<M>: that velocity as an OdeSystem.
/// One-call forms: sample_reverse_sde, sample_probability_flow (from a process and a score), sample_flow
/// (from a model).
///
/// \code
///   auto grid = sdeflow::uniform_schedule(1.0, 1e-3, 500);
///   auto sde = sdeflow::sample_reverse_sde(vp, score, 2, 10000, grid, {.seed = 7});
///   auto ode = sdeflow::sample(sdeflow::samplers::probability_flow<sdeflow::heun>{}, net, sde.samples, grid);
/// \endcode

#include <sdeflow/dynamics/probability_flow.hpp>
#include <sdeflow/dynamics/reverse_sde.hpp>
#include <sdeflow/integrators/euler_maruyama.hpp>
#include <sdeflow/integrators/rk4.hpp>
#include <sdeflow/models/parameterization.hpp>
#include <sdeflow/samplers/engine.hpp>

#include <cmath>
#include <functional>
#include <utility>

namespace sdeflow {

/// dx/dt = s' x0_hat + sigma' eps_hat of a model, as an OdeSystem.
template <class Model>
class velocity_field {
 public:
  explicit velocity_field(Model m) : m_(std::move(m)) {}

  /// out = s' x0_hat + sigma' eps_hat. Const and safe to share across threads: the x0_hat scratch is
  /// per thread (thread_local), so a step allocates nothing once a thread has seen the batch size.
  template <State X>
  void drift(const X& x, scalar_of<X> t, X& out) const {
    thread_local X x0;
    x0.resize(x.rows(), x.cols());
    m_.predict(x, t, x0, out);
    const auto& p = m_.process();
    out = static_cast<scalar_of<X>>(marginal_std_derivative(p, t)) * out +
          static_cast<scalar_of<X>>(mean_scale_derivative(p, t)) * x0;
  }

 private:
  Model m_;
};

namespace samplers {

namespace detail {
/// An ODE stepper on a system built from the model, one step per grid interval.
template <class Stepper, class System>
struct ode_sampler {
  Stepper stepper{};

  void validate() const {}
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    if constexpr (requires { System::check_grid(p, grid, stepper); }) System::check_grid(p, grid, stepper);
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const {
    return static_cast<std::size_t>(Stepper::evaluations) * grid.steps();
  }
  template <class M, State X>
  auto workspace(const M& m, const X& x) const {
    struct ws {
      typename Stepper::template workspace<X> st;
      typename System::template type<M> sys;
    };
    return ws{typename Stepper::template workspace<X>(x), System::make(m)};
  }
  template <class M, State X, class W>
  void step(const M&, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>&) const {
    stepper.step(ws.sys, x, c.t, c.t_next - c.t, ws.st);
  }
};

struct make_probability_flow {
  template <class M>
  using type = sdeflow::probability_flow<schedule_of<M>, M>;
  template <class M>
  static type<M> make(const M& m) { return type<M>(m.process(), m); }
};

struct make_velocity_field {
  template <class M>
  using type = velocity_field<M>;
  template <class M>
  static type<M> make(const M& m) { return type<M>(m); }
  /// The velocity s'(t) x0_hat + sigma'(t) eps_hat needs finite s' and sigma' wherever the stepper
  /// evaluates it: every grid point but the last, and the last too for a stepper with more than one
  /// stage (heun, rk4). On VP and VE sigma'(0) is infinite (sigma ~ sqrt t near 0).
  template <class P, class G, class Stepper>
  static void check_grid(const P& p, const G& grid, const Stepper&) {
    const std::size_t last = Stepper::evaluations > 1 ? grid.size() : grid.size() - 1;
    for (std::size_t k = 0; k < last; ++k) {
      const auto t = grid[k];
      bool ok = false;
      try {
        ok = std::isfinite(mean_scale_derivative(p, t)) && std::isfinite(marginal_std_derivative(p, t));
      } catch (const invalid_argument&) {
        ok = false;
      }
      if (!ok) {
        throw invalid_argument(sdeflow::detail::message(
            "flow: grid point ", k, " (t = ", t, ") has no finite ds/dt and dsigma/dt (sigma(t) = ",
            p.marginal_std(t), "; on VP and VE dsigma/dt is infinite at t = 0): end the grid at t > 0 (e.g. 1e-3), "
            "or use a sampler that steps to sigma = 0 exactly (dpmpp_2m, ddim, euler)"));
      }
    }
  }
};
}  // namespace detail

/// The probability-flow ODE with an ODE stepper (euler, heun, rk4): probability_flow<heun>{.stepper = {}}.
template <class Stepper = rk4>
using probability_flow = detail::ode_sampler<Stepper, detail::make_probability_flow>;

/// The velocity-form PF-ODE (flow matching) with an ODE stepper (euler, heun, rk4).
template <class Stepper = rk4>
using flow = detail::ode_sampler<Stepper, detail::make_velocity_field>;

/// The reverse-time SDE with an SDE stepper that takes Brownian increments (euler_maruyama, milstein,
/// stochastic_heun).
template <class Stepper = euler_maruyama>
struct reverse_sde {
  Stepper stepper{};

  void validate() const {}
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const {
    return static_cast<std::size_t>(Stepper::evaluations) * grid.steps();
  }
  template <class M, State X>
  auto workspace(const M& m, const X& x) const {
    using Sys = sdeflow::reverse_sde<schedule_of<M>, M>;
    struct ws {
      Sys sys;
      typename Stepper::template workspace<X> st;
      X dW;
    };
    return ws{Sys(m.process(), m), typename Stepper::template workspace<X>(x, x.rows()), sdeflow::detail::like(x)};
  }
  template <class M, State X, class W>
    requires AffineProcess<schedule_of<M>>
  void step(const M&, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    noise.increment(0, ws.dW);
    stepper.step(ws.sys, x, c.t, c.t_next - c.t, ws.dW, ws.st);
  }
};

}  // namespace samplers

namespace detail {
/// (p, score) as a score model.
template <AffineProcess P, class Score>
[[nodiscard]] auto score_model(const P& p, const Score& score) {
  return model(p, std::cref(score), prediction::score);
}
}  // namespace detail

/// The reverse-time SDE from x_T over `grid` (decreasing, inside [0, T]).
template <class Stepper = euler_maruyama, AffineProcess P, class Score, State X>
  requires ScoreFunction<Score, X>
[[nodiscard]] sample_result<X> sample_reverse_sde(const P& p, const Score& score, X x_T,
                                                  const time_grid<scalar_of<X>>& grid,
                                                  const sampler_options<X>& opt = {}, const Stepper& stepper = {}) {
  return sample(samplers::reverse_sde<Stepper>{stepper}, detail::score_model(p, score), std::move(x_T), grid, opt);
}

/// The reverse-time SDE from n prior draws in dimension d (initial_noise on the grid).
template <class Stepper = euler_maruyama, AffineProcess P, class Score>
  requires ScoreFunction<Score, batch<typename P::scalar_type>>
[[nodiscard]] sample_result<batch<typename P::scalar_type>> sample_reverse_sde(
    const P& p, const Score& score, Eigen::Index d, Eigen::Index n, const time_grid<typename P::scalar_type>& grid,
    const sampler_options<batch<typename P::scalar_type>>& opt = {}, const Stepper& stepper = {}) {
  return sample_reverse_sde(p, score, initial_noise(p, d, n, grid, opt), grid, opt, stepper);
}

/// The probability-flow ODE from x_T over `grid`.
template <class Stepper = rk4, AffineProcess P, class Score, State X>
  requires ScoreFunction<Score, X>
[[nodiscard]] sample_result<X> sample_probability_flow(const P& p, const Score& score, X x_T,
                                                       const time_grid<scalar_of<X>>& grid,
                                                       const sampler_options<X>& opt = {}, const Stepper& stepper = {}) {
  return sample(samplers::probability_flow<Stepper>{stepper}, detail::score_model(p, score), std::move(x_T), grid, opt);
}

/// The probability-flow ODE from n prior draws in dimension d.
template <class Stepper = rk4, AffineProcess P, class Score>
  requires ScoreFunction<Score, batch<typename P::scalar_type>>
[[nodiscard]] sample_result<batch<typename P::scalar_type>> sample_probability_flow(
    const P& p, const Score& score, Eigen::Index d, Eigen::Index n, const time_grid<typename P::scalar_type>& grid,
    const sampler_options<batch<typename P::scalar_type>>& opt = {}, const Stepper& stepper = {}) {
  return sample_probability_flow(p, score, initial_noise(p, d, n, grid, opt), grid, opt, stepper);
}

/// The velocity-form PF-ODE of model m from x_T over `grid`.
template <class Model, State X, class Stepper = rk4>
  requires DiffusionModel<Model, X>
[[nodiscard]] sample_result<X> sample_flow(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                           const Stepper& stepper = {}, const sampler_options<X>& opt = {}) {
  return sample(samplers::flow<Stepper>{stepper}, m, std::move(x), grid, opt);
}

}  // namespace sdeflow
