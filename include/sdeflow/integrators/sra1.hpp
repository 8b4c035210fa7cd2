// SPDX-License-Identifier: MIT
#pragma once
/// \file sra1.hpp
/// SRA1 (Rossler 2010, "Runge-Kutta methods for the strong approximation of solutions of stochastic
/// differential equations", SIAM J. Numer. Anal. 48(3), Table 5.1): a two-stage stochastic Runge-Kutta
/// method of strong order 1.5 for additive noise dx = f(x, t) dt + g(t) dW. With chi = I10 / |h| the
/// scaled space-time integral of the same path (brownian_increments::increment_with_area):
///   H = x + 3/4 h f(x, t) + 3/2 g(t + h) chi,
///   x <- x + h (1/3 f(x, t) + 2/3 f(H, t + 3h/4)) + g(t + h) (dW - chi) + g(t) chi.
/// For constant g the noise term is g dW; for time-dependent g it is the exact integral of a linear g.
/// Ito and Stratonovich coincide for additive noise. Two drift evaluations per step. Works backwards in
/// time too (h < 0): the noise terms then use |h| through chi.

#include <sdeflow/core/noise_types.hpp>

#include <type_traits>

namespace sdeflow {

struct sra1 {
  static constexpr bool stochastic = true;
  static constexpr double strong_order = 1.5;  ///< for the worst noise type it supports
  static constexpr bool needs_area = true;
  static constexpr int evaluations = 2;
  template <class Noise, calculus C>
  static constexpr bool supports = std::is_same_v<Noise, additive_noise>;
  static constexpr std::string_view supported = "additive noise (Ito or Stratonovich)";

  template <State X>
  struct workspace {
    workspace(const X& like, Eigen::Index) : f1(like.rows(), like.cols()), f2(like.rows(), like.cols()), H(like.rows(), like.cols()) {}
    X f1, f2, H;
  };

  // Constrained on SdeSystem only, so that integrate's support check (naming noise and calculus) is what
  // rejects other noise types.
  template <class Sys, State X, class W>
    requires SdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, const W& dW, const W& chi, workspace<X>& w) const {
    using S = scalar_of<X>;
    const S g0 = sys.diffusion(t);
    const S g1 = sys.diffusion(t + h);
    sys.drift(x, t, w.f1);
    w.H = x + (S(0.75) * h) * w.f1 + (S(1.5) * g1) * chi;
    sys.drift(w.H, t + S(0.75) * h, w.f2);
    x += h * (w.f1 / 3 + (S(2) / 3) * w.f2) + g1 * (dW - chi) + g0 * chi;
  }
};

}  // namespace sdeflow
