// SPDX-License-Identifier: MIT
#pragma once
/// \file heun.hpp
/// Heun's method (explicit trapezoid, RK2) for ODE systems:
///   k1 = F(x, t),  k2 = F(x + h k1, t + h),  x <- x + h/2 (k1 + k2).
/// Order 2, two evaluations per step.

#include <sdeflow/core/concepts.hpp>

namespace sdeflow {

struct heun {
  static constexpr bool stochastic = false;
  static constexpr int order = 2;
  static constexpr int evaluations = 2;

  template <State X>
  struct workspace {
    explicit workspace(const X& like) : k1(like.rows(), like.cols()), k2(like.rows(), like.cols()), xe(like.rows(), like.cols()) {}
    X k1, k2, xe;
  };

  template <class Sys, State X>
    requires OdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, workspace<X>& w) const {
    sys.drift(x, t, w.k1);
    w.xe = x + h * w.k1;
    sys.drift(w.xe, t + h, w.k2);
    x += (h / 2) * (w.k1 + w.k2);
  }
};

}  // namespace sdeflow
