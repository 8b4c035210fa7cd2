// SPDX-License-Identifier: MIT
#pragma once
/// \file rk4.hpp
/// The classical fourth-order Runge-Kutta method for ODE systems:
///   k1 = F(x, t), k2 = F(x + h/2 k1, t + h/2), k3 = F(x + h/2 k2, t + h/2), k4 = F(x + h k3, t + h),
///   x <- x + h/6 (k1 + 2 k2 + 2 k3 + k4).
/// Order 4, four evaluations per step.

#include <sdeflow/core/concepts.hpp>

namespace sdeflow {

struct rk4 {
  static constexpr bool stochastic = false;
  static constexpr int order = 4;
  static constexpr int evaluations = 4;

  template <State X>
  struct workspace {
    explicit workspace(const X& like)
        : k1(like.rows(), like.cols()), k2(like.rows(), like.cols()), k3(like.rows(), like.cols()),
          k4(like.rows(), like.cols()), xs(like.rows(), like.cols()) {}
    X k1, k2, k3, k4, xs;
  };

  template <class Sys, State X>
    requires OdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, workspace<X>& w) const {
    using S = scalar_of<X>;
    const S half = h / 2;
    sys.drift(x, t, w.k1);
    w.xs = x + half * w.k1;
    sys.drift(w.xs, t + half, w.k2);
    w.xs = x + half * w.k2;
    sys.drift(w.xs, t + half, w.k3);
    w.xs = x + h * w.k3;
    sys.drift(w.xs, t + h, w.k4);
    x += (h / 6) * (w.k1 + 2 * w.k2 + 2 * w.k3 + w.k4);
  }
};

}  // namespace sdeflow
