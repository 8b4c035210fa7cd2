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
    if constexpr (X::SizeAtCompileTime != Eigen::Dynamic && X::SizeAtCompileTime <= 16) {
      // A small fixed-size state (Eigen::Vector3d): the stages live in locals, which the compiler keeps
      // in registers once the drift is inlined; through the workspace every stage would make a round
      // trip through memory (and a store-forwarding stall when the drift writes scalars). Same bits as
      // the dynamic path (tested), unless the compiler contracts a * b + c into an FMA here and not in
      // Eigen's packet code (-march with FMA and -ffp-contract=fast/on): then equal to rounding.
      // The stage updates run as plain loops over the entries: Eigen would mix 2-lane packets with a
      // scalar tail and shuffle between them (and the drift), which costs more than it saves here.
      using S = scalar_of<X>;
      const S half = h / 2;
      X k1, k2, k3, k4, xs;
      sys.drift(x, t, k1);
      for (Eigen::Index i = 0; i < x.size(); ++i) xs(i) = x(i) + half * k1(i);
      sys.drift(xs, t + half, k2);
      for (Eigen::Index i = 0; i < x.size(); ++i) xs(i) = x(i) + half * k2(i);
      sys.drift(xs, t + half, k3);
      for (Eigen::Index i = 0; i < x.size(); ++i) xs(i) = x(i) + h * k3(i);
      sys.drift(xs, t + h, k4);
      const S sixth = h / 6;
      for (Eigen::Index i = 0; i < x.size(); ++i) x(i) += sixth * (k1(i) + 2 * k2(i) + 2 * k3(i) + k4(i));
    } else {
      stages(sys, x, t, h, w.k1, w.k2, w.k3, w.k4, w.xs);
    }
  }

 private:
  template <class Sys, State X>
  static void stages(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, X& k1, X& k2, X& k3, X& k4, X& xs) {
    using S = scalar_of<X>;
    const S half = h / 2;
    sys.drift(x, t, k1);
    xs = x + half * k1;
    sys.drift(xs, t + half, k2);
    xs = x + half * k2;
    sys.drift(xs, t + half, k3);
    xs = x + h * k3;
    sys.drift(xs, t + h, k4);
    x += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
};

}  // namespace sdeflow
