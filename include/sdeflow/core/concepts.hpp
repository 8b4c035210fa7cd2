// SPDX-License-Identifier: MIT
#pragma once
/// \file concepts.hpp
/// What users plug in, as C++20 concepts built from small named pieces, so a compiler error names
/// the piece that failed. Each concept is constrained on the exact call the library makes.
///
/// User callables (t is the state's scalar type, x a batch of type X):
/// - VectorField<F, X>:      f(x, t) -> something convertible to X (an Eigen expression is fine).
/// - ScoreFunction<F, X>:    a VectorField used as grad_x log p_t(x); d x n in, d x n out.
/// - TimeFunction<F, S>:     f(t) -> S, e.g. a scalar diffusion coefficient g(t).
///
/// Systems (what integrators step; all write into caller-owned storage so the loop never allocates):
/// - OdeSystem<S, X>:        s.drift(x, t, out)                    dx/dt = F(x, t)
/// - AdditiveNoiseSde<S, X>:  OdeSystem + s.diffusion(t) -> scalar   dx = f dt + g(t) dW
/// - StateDiffusionSde<S, X>: OdeSystem + s.diffusion(x, t, out)     dx = f dt + g(x,t) dW (noise.hpp)
/// - SdeSystem<S, X>:        either of the two above.
///
/// Processes:
/// - NoiseSchedule<P>:       s(t) and sigma(t) of x_t = s x_0 + sigma eps (what samplers need).
/// - AffineProcess<P>:       forward SDE with p(x_t | x_0) = N(s(t) x_0, sigma(t)^2 I).
///
/// Models (what a diffusion sampler calls):
/// - DiffusionModel<M, X>:   m.process() is a NoiseSchedule and m.predict(x, t, x0_hat, eps_hat) fills both.
///
/// Noise and steppers:
/// - NoiseSource<N, X>:        n.normal(k, t, t_next, z) fills z with standard normals for draw k spanning
///                             [t, t_next] (noise/: counter-based, Brownian tree, recorded, user generator).
/// - BrownianIncrements<N, X>: n.increment(k, t, h, dW) fills dW ~ N(0, |h| I) for step k.
/// - OdeStepper:               st.step(sys, x, t, h, workspace)  (SdeStepper: core/noise_types.hpp).
/// Samplers (samplers/engine.hpp) and observers (core/observer.hpp) have concepts beside their drivers.

#include <sdeflow/core/types.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace sdeflow {

// ---- user callables --------------------------------------------------------------------------

/// f(x, t) returns something an X can be built from.
template <class F, class X>
concept VectorField = State<X> && requires(const F& f, const X& x, scalar_of<X> t) {
  { f(x, t) } -> std::convertible_to<X>;
};

/// A score grad_x log p_t(x): takes a d x n batch and a time, returns d x n.
template <class F, class X>
concept ScoreFunction = VectorField<F, X>;

/// f(t) returns a scalar.
template <class F, class S>
concept TimeFunction = std::floating_point<S> && requires(const F& f, S t) {
  { f(t) } -> std::convertible_to<S>;
};

// ---- systems ---------------------------------------------------------------------------------

/// Has `drift(x, t, out)`, writing F(x, t) into out (same shape as x).
template <class Sys, class X>
concept HasDrift = State<X> && requires(const Sys& s, const X& x, scalar_of<X> t, X& out) {
  s.drift(x, t, out);
};

/// dx/dt = F(x, t).
template <class Sys, class X>
concept OdeSystem = HasDrift<Sys, X>;

/// Has a state-independent scalar diffusion `diffusion(t)`.
template <class Sys, class X>
concept HasScalarDiffusion = State<X> && requires(const Sys& s, scalar_of<X> t) {
  { s.diffusion(t) } -> std::convertible_to<scalar_of<X>>;
};

/// Has a state-dependent diffusion `diffusion(x, t, out)` (out: X, or a dynamic matrix for general noise).
template <class Sys, class X>
concept HasDiagonalDiffusion =
    State<X> && (requires(const Sys& s, const X& x, scalar_of<X> t, X& out) { s.diffusion(x, t, out); } ||
                 requires(const Sys& s, const X& x, scalar_of<X> t,
                          Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic>& out) { s.diffusion(x, t, out); });

/// dx = f(x,t) dt + g(t) dW with one scalar g for every component (additive noise).
template <class Sys, class X>
concept AdditiveNoiseSde = HasDrift<Sys, X> && HasScalarDiffusion<Sys, X>;

/// dx = f(x,t) dt + g(x,t) dW with a state-dependent diffusion (diagonal, scalar or general noise,
/// see core/noise_types.hpp).
template <class Sys, class X>
concept StateDiffusionSde = HasDrift<Sys, X> && HasDiagonalDiffusion<Sys, X> && !HasScalarDiffusion<Sys, X>;

/// An Ito SDE the integrators can step.
template <class Sys, class X>
concept SdeSystem = AdditiveNoiseSde<Sys, X> || StateDiffusionSde<Sys, X>;

// ---- processes -------------------------------------------------------------------------------

/// Anything with a Gaussian perturbation kernel x_t = s(t) x_0 + sigma(t) eps at the times it is
/// queried: what the diffusion samplers need (continuous processes and discrete DDPM tables alike).
template <class P>
concept NoiseSchedule = requires(const P& p, typename P::scalar_type t) {
  requires std::floating_point<typename P::scalar_type>;
  { p.mean_scale(t) } -> std::convertible_to<typename P::scalar_type>;
  { p.marginal_std(t) } -> std::convertible_to<typename P::scalar_type>;
};

/// Forward diffusion with Gaussian transition kernel N(s(t) x_0, sigma(t)^2 I):
/// drift f(x,t) = drift_rate(t) x with drift_rate = s'/s, and scalar diffusion g(t).
template <class P>
concept AffineProcess = NoiseSchedule<P> && requires(const P& p, typename P::scalar_type t) {
  { p.drift_rate(t) } -> std::convertible_to<typename P::scalar_type>;
  { p.diffusion(t) } -> std::convertible_to<typename P::scalar_type>;
  { p.horizon() } -> std::convertible_to<typename P::scalar_type>;
  { p.prior_std() } -> std::convertible_to<typename P::scalar_type>;
};

// ---- models ----------------------------------------------------------------------------------

/// m.process() returns a NoiseSchedule (x_t = s(t) x_0 + sigma(t) eps).
template <class M>
concept HasNoiseSchedule = requires(const M& m) {
  requires NoiseSchedule<std::remove_cvref_t<decltype(m.process())>>;
};

/// The schedule type of a model.
template <HasNoiseSchedule M>
using schedule_of = std::remove_cvref_t<decltype(std::declval<const M&>().process())>;

/// m.predict(x, t, x0, eps) writes the denoised estimate x0_hat and the noise estimate eps_hat.
template <class M, class X>
concept PredictsDenoised = State<X> && HasNoiseSchedule<M> &&
                           requires(const M& m, const X& x, typename schedule_of<M>::scalar_type t, X& x0, X& eps) {
                             m.predict(x, t, x0, eps);
                           };

/// What every diffusion sampler calls on a model: its schedule and one prediction (x0_hat, eps_hat)
/// per evaluation. `sdeflow::model` (models/parameterization.hpp) turns a network of any
/// parameterization, or a score, into one.
template <class M, class X>
concept DiffusionModel = HasNoiseSchedule<M> && PredictsDenoised<M, X>;

// ---- noise and steppers ----------------------------------------------------------------------

/// Standard normal draws: n.normal(k, t, t_next, z) fills z (shape preset) with N(0, 1) values for
/// draw k, which spans [t, t_next] (t == t_next for a draw at one time, such as a Langevin step).
template <class N, class X>
concept NoiseSource = State<X> && requires(N& n, std::uint64_t k, scalar_of<X> t, X& z) {
  n.normal(k, t, t, z);
};

/// Fills the Brownian increment of step k (from t to t + h) into dW, whose shape is preset.
template <class N, class X>
concept BrownianIncrements = State<X> && requires(N& n, std::size_t k, scalar_of<X> t, scalar_of<X> h, X& dW) {
  n.increment(k, t, h, dW);
};

/// A deterministic one-step method for OdeSystem.
template <class St, class Sys, class X>
concept OdeStepper = OdeSystem<Sys, X> && requires(const St& st, const Sys& sys, X& x, scalar_of<X> t,
                                                   typename St::template workspace<X>& ws) {
  { St::stochastic } -> std::convertible_to<bool>;
  requires !St::stochastic;
  st.step(sys, x, t, t, ws);
};

}  // namespace sdeflow
