// SPDX-License-Identifier: MIT
#pragma once
/// \file euler_maruyama.hpp
/// Euler-Maruyama for Ito SDEs (Kloeden & Platen 1992, Sec. 9.1):
///   x <- x + h f(x, t) + g(x, t) dW,   dW ~ N(0, |h| I)  (scalar g, or element-wise for diagonal noise).
/// Strong order 1/2 (1 for additive noise), weak order 1. One drift evaluation per step.
/// With a backwards grid (h < 0) it integrates a reverse-time SDE such as reverse_sde.

#include <sdeflow/core/concepts.hpp>

namespace sdeflow {

struct euler_maruyama {
  static constexpr bool stochastic = true;
  static constexpr int evaluations = 1;

  template <State X>
  struct workspace {
    explicit workspace(const X& like) : f(like.rows(), like.cols()), g(like.rows(), like.cols()) {}
    X f, g;
  };

  template <class Sys, State X>
    requires SdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, const X& dW, workspace<X>& w) const {
    sys.drift(x, t, w.f);
    if constexpr (ScalarNoiseSde<Sys, X>) {
      const scalar_of<X> g = sys.diffusion(t);
      x += h * w.f + g * dW;
    } else {
      sys.diffusion(x, t, w.g);
      x += h * w.f + w.g.cwiseProduct(dW);
    }
  }
};

}  // namespace sdeflow
