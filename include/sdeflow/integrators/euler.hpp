// SPDX-License-Identifier: MIT
#pragma once
/// \file euler.hpp
/// Explicit Euler for ODE systems: x <- x + h F(x, t). Order 1, one evaluation per step.
/// Also the first step of every stepper family here; h may be negative (reverse time).

#include <sdeflow/core/concepts.hpp>

namespace sdeflow {

struct euler {
  static constexpr bool stochastic = false;
  static constexpr int order = 1;
  static constexpr int evaluations = 1;

  template <State X>
  struct workspace {
    explicit workspace(const X& like) : k1(like.rows(), like.cols()) {}
    X k1;
  };

  template <class Sys, State X>
    requires OdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, workspace<X>& w) const {
    sys.drift(x, t, w.k1);
    x += h * w.k1;
  }
};

}  // namespace sdeflow
