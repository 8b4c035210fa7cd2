// SPDX-License-Identifier: MIT
#pragma once
/// \file stochastic_heun.hpp
/// The stochastic Heun method for Stratonovich SDEs (Kloeden & Platen 1992; Rumelin 1982):
///   xe = x + h f(x, t) + G(x, t) dW,
///   x <- x + h/2 (f(x, t) + f(xe, t + h)) + 1/2 (G(x, t) + G(xe, t + h)) dW.
/// Converges to the Stratonovich solution: strong order 1 for commutative noise (additive, diagonal,
/// scalar), 1/2 for general noise. Two drift and two diffusion evaluations per step.

#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/integrators/euler_maruyama.hpp>

#include <type_traits>

namespace sdeflow {

struct stochastic_heun {
  static constexpr bool stochastic = true;
  static constexpr double strong_order = 1.0;  ///< for the worst noise type it supports
  static constexpr int evaluations = 2;
  template <class Noise, calculus C>
  static constexpr bool supports = C == calculus::stratonovich || std::is_same_v<Noise, additive_noise>;
  static constexpr std::string_view supported = "Stratonovich SDEs (any noise type); Ito only with additive noise";

  template <State X>
  struct workspace {
    workspace(const X& like, Eigen::Index)
        : f1(like.rows(), like.cols()), f2(like.rows(), like.cols()), xe(like.rows(), like.cols()),
          g1(like.rows(), like.cols()), g2(like.rows(), like.cols()) {}
    X f1, f2, xe, g1, g2;
    Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic> gm1, gm2;  // general noise only
  };

  template <class Sys, State X, class W>
    requires SdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, const W& dW, workspace<X>& w) const {
    using Noise = noise_of<Sys, X>;
    sys.drift(x, t, w.f1);
    if constexpr (std::is_same_v<Noise, additive_noise>) {
      const auto g1 = sys.diffusion(t);
      w.xe = x + h * w.f1 + g1 * dW;
      sys.drift(w.xe, t + h, w.f2);
      x += (h / 2) * (w.f1 + w.f2) + ((g1 + sys.diffusion(t + h)) / 2) * dW;
    } else {
      auto& g1 = pick<Noise>(w.g1, w.gm1);
      auto& g2 = pick<Noise>(w.g2, w.gm2);
      sys.diffusion(x, t, g1);
      w.xe = x + h * w.f1;
      detail::add_noise<Noise>(w.xe, g1, dW);
      sys.drift(w.xe, t + h, w.f2);
      sys.diffusion(w.xe, t + h, g2);
      g1 += g2;
      g1 *= 0.5;
      x += (h / 2) * (w.f1 + w.f2);
      detail::add_noise<Noise>(x, g1, dW);
    }
  }

 private:
  template <class Noise, class A, class B>
  static auto& pick(A& a, B& b) {
    if constexpr (std::is_same_v<Noise, general_noise>) {
      return b;
    } else {
      return a;
    }
  }
};

}  // namespace sdeflow
