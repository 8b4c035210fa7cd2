// SPDX-License-Identifier: MIT
#pragma once
/// \file milstein.hpp
/// Milstein's method for Ito SDEs with diagonal or scalar noise (Kloeden & Platen 1992, Eq. 10.3.3):
///   x <- x + h f + g dW + 1/2 g g' (dW^2 - |h|),          strong order 1.
/// g' = dg_i/dx_i comes from the system's `diffusion_derivative(x, t, out)` when it has one (diagonal
/// noise); otherwise the derivative-free form (Kloeden & Platen Eq. 11.1.5) is used:
///   xb = x + h f + g sqrt|h|,  x <- x + h f + g dW + (g(xb) - g(x)) (dW^2 - |h|) / (2 sqrt|h|).
/// Diagonal noise must be commutative: component i's diffusion depends on x_i only. With additive noise
/// the correction vanishes and this is Euler-Maruyama (strong order 1 there). One drift evaluation and
/// one or two diffusion evaluations per step.

#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/integrators/euler_maruyama.hpp>

#include <cmath>
#include <type_traits>

namespace sdeflow {

struct milstein {
  static constexpr bool stochastic = true;
  static constexpr double strong_order = 1.0;  ///< for the worst noise type it supports
  static constexpr int evaluations = 1;
  template <class Noise, calculus C>
  static constexpr bool supports = (C == calculus::ito || std::is_same_v<Noise, additive_noise>) &&
                                   !std::is_same_v<Noise, general_noise>;
  static constexpr std::string_view supported = "Ito SDEs with additive, diagonal or scalar noise";

  template <State X>
  struct workspace {
    workspace(const X& like, Eigen::Index)
        : f(like.rows(), like.cols()), g(like.rows(), like.cols()), g2(like.rows(), like.cols()),
          xb(like.rows(), like.cols()) {}
    X f, g, g2, xb;
  };

  template <class Sys, State X, class W>
    requires SdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, const W& dW, workspace<X>& w) const {
    using S = scalar_of<X>;
    using Noise = noise_of<Sys, X>;
    sys.drift(x, t, w.f);
    if constexpr (std::is_same_v<Noise, additive_noise>) {
      x += h * w.f + sys.diffusion(t) * dW;
    } else {
      const S ah = std::fabs(h);
      const S sq = std::sqrt(ah);
      sys.diffusion(x, t, w.g);
      if constexpr (std::is_same_v<Noise, diagonal_noise> && requires { sys.diffusion_derivative(x, t, w.g2); }) {
        sys.diffusion_derivative(x, t, w.g2);  // dg_i / dx_i
        w.g2.array() *= w.g.array() * S(0.5);  // 1/2 g g'
        w.g2.array() *= dW.array().square() - ah;
      } else {
        w.xb = x + h * w.f + sq * w.g;
        sys.diffusion(w.xb, t, w.g2);
        w.g2 -= w.g;
        if constexpr (std::is_same_v<Noise, diagonal_noise>) {
          w.g2.array() *= (dW.array().square() - ah) / (2 * sq);
        } else {  // scalar noise: one dW per sample
          w.g2.array().rowwise() *= (dW.row(0).array().square() - ah) / (2 * sq);
        }
      }
      x += h * w.f;
      detail::add_noise<Noise>(x, w.g, dW);
      x += w.g2;
    }
  }
};

}  // namespace sdeflow
