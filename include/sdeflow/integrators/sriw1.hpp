// SPDX-License-Identifier: MIT
#pragma once
/// \file sriw1.hpp
/// SRIW1 (Rossler 2010, "Runge-Kutta methods for the strong approximation of solutions of stochastic
/// differential equations", SIAM J. Numer. Anal. 48(3), Sec. 5 and Table 5.2 (SRI1W1 / "SRIW1" in
/// DifferentialEquations.jl, "SRID1" in torchsde)): a four-stage stochastic Runge-Kutta method of strong
/// order 1.5 for Ito SDEs dx = f(x, t) dt + g(x, t) dW with scalar or diagonal noise (additive noise too).
///
/// With dW the step's Brownian increment, chi = I10 / |h| the scaled space-time integral of the same path
/// (brownian_increments::increment_with_area or brownian_tree), s = sqrt|h| and the iterated Ito
/// integrals of one Wiener component (Kloeden & Platen 1992, Eq. 5.2.34)
///   J11 = I_(1,1) / s = (dW^2 - |h|) / (2 s),    J111 = I_(1,1,1) / |h| = (dW^3 - 3 |h| dW) / (6 |h|),
/// the step is (products with g are per Wiener component: elementwise for diagonal noise, g's column
/// times the sample's scalar for scalar noise)
///   g1 = g(x, t)
///   H2 = x + 3/4 h f(x, t) + 3/2 g1 chi                              (drift stage, at t + 3h/4)
///   K2 = x + 1/4 h f(x, t) + 1/2 s g1,          g2 = g(K2, t + h/4)
///   K3 = x +     h f(x, t) -     s g1,          g3 = g(K3, t + h)
///   K4 = x + 1/4 h f(x, t) + s (-5 g1 + 3 g2 + 1/2 g3),   g4 = g(K4, t + h/4)
///   x <- x + h (1/3 f(x, t) + 2/3 f(H2, t + 3h/4)) + sum_i g_i (b1_i dW + b2_i J11 + b3_i chi + b4_i J111)
/// with b1 = (-1, 4/3, 2/3, 0), b2 = (-1, 4/3, -1/3, 0), b3 = (2, -4/3, -2/3, 0), b4 = (-2, 5/3, -2/3, 1).
/// Two drift and four diffusion evaluations per step.
///
/// Diagonal noise must be commutative, as for milstein: component i's diffusion depends on x_i only (the
/// stages K_j are then evaluated for all components at once). Works backwards in time (h < 0), the noise
/// terms then using |h|, as sra1.

#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/integrators/euler_maruyama.hpp>

#include <array>
#include <cmath>
#include <type_traits>

namespace sdeflow {

struct sriw1 {
  static constexpr bool stochastic = true;
  static constexpr double strong_order = 1.5;  ///< for the worst noise type it supports
  static constexpr bool needs_area = true;
  static constexpr int evaluations = 2;  ///< drift evaluations (and four of the diffusion)
  template <class Noise, calculus C>
  static constexpr bool supports = std::is_same_v<Noise, additive_noise> ||
                                   (C == calculus::ito && !std::is_same_v<Noise, general_noise>);
  static constexpr std::string_view supported = "Ito SDEs with additive, diagonal (commutative) or scalar noise";

  template <State X>
  struct workspace {
    using M = Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic>;
    workspace(const X& like, Eigen::Index m)
        : f1(like.rows(), like.cols()), f2(like.rows(), like.cols()), H(like.rows(), like.cols()),
          g{X(like.rows(), like.cols()), X(like.rows(), like.cols()), X(like.rows(), like.cols()),
            X(like.rows(), like.cols())},
          j11(m, like.cols()), j111(m, like.cols()), c(m, like.cols()) {}
    X f1, f2, H;
    std::array<X, 4> g;
    M j11, j111, c;
  };

  template <class Sys, State X, class W>
    requires SdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, const W& dW, const W& chi, workspace<X>& w) const {
    using S = scalar_of<X>;
    using Noise = noise_of<Sys, X>;
    // Rossler (2010), Table 5.2: the weights of the noise terms per stage.
    static constexpr std::array<S, 4> b1{S(-1), S(4) / 3, S(2) / 3, S(0)};
    static constexpr std::array<S, 4> b2{S(-1), S(4) / 3, S(-1) / 3, S(0)};
    static constexpr std::array<S, 4> b3{S(2), S(-4) / 3, S(-2) / 3, S(0)};
    static constexpr std::array<S, 4> b4{S(-2), S(5) / 3, S(-2) / 3, S(1)};
    const S ah = std::fabs(h);
    const S s = std::sqrt(ah);
    w.j11.array() = (dW.array().square() - ah) / (2 * s);
    w.j111.array() = dW.array() * (dW.array().square() - 3 * ah) / (6 * ah);
    sys.drift(x, t, w.f1);
    if constexpr (std::is_same_v<Noise, additive_noise>) {
      // g(t) only: the stages K_j only set times, and g1 chi is a scalar times chi.
      const S g_quarter = S(sys.diffusion(t + h / 4));  // stages 2 and 4 share the time t + h/4
      const std::array<S, 4> gs{S(sys.diffusion(t)), g_quarter, S(sys.diffusion(t + h)), g_quarter};
      w.H = x + (S(0.75) * h) * w.f1 + (S(1.5) * gs[0]) * chi;
      sys.drift(w.H, t + S(0.75) * h, w.f2);
      x += h * (w.f1 / 3 + (S(2) / 3) * w.f2);
      for (std::size_t i = 0; i < 4; ++i) {
        x += gs[i] * (b1[i] * dW + b2[i] * w.j11 + b3[i] * chi + b4[i] * w.j111);
      }
    } else {
      sys.diffusion(x, t, w.g[0]);
      w.H = x + (h / 4) * w.f1 + (s / 2) * w.g[0];
      sys.diffusion(w.H, t + h / 4, w.g[1]);
      w.H = x + h * w.f1 - s * w.g[0];
      sys.diffusion(w.H, t + h, w.g[2]);
      w.H = x + (h / 4) * w.f1 + s * (S(-5) * w.g[0] + S(3) * w.g[1] + S(0.5) * w.g[2]);
      sys.diffusion(w.H, t + h / 4, w.g[3]);
      w.H = x + (S(0.75) * h) * w.f1;
      w.c = S(1.5) * chi;
      detail::add_noise<Noise>(w.H, w.g[0], w.c);
      sys.drift(w.H, t + S(0.75) * h, w.f2);
      x += h * (w.f1 / 3 + (S(2) / 3) * w.f2);
      for (std::size_t i = 0; i < 4; ++i) {
        w.c = b1[i] * dW + b2[i] * w.j11 + b3[i] * chi + b4[i] * w.j111;
        detail::add_noise<Noise>(x, w.g[i], w.c);
      }
    }
  }
};

}  // namespace sdeflow
