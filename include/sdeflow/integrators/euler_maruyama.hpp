// SPDX-License-Identifier: MIT
#pragma once
/// \file euler_maruyama.hpp
/// Euler-Maruyama for Ito SDEs (Kloeden & Platen 1992, Sec. 9.1):
///   x <- x + h f(x, t) + G(x, t) dW,   dW ~ N(0, |h| I_m).
/// Strong order 1/2 (1 for additive noise), weak order 1. One drift evaluation per step.
/// Noise: additive, diagonal, scalar and general (see core/noise_types.hpp); Ito only (on a Stratonovich
/// SDE it would converge to the wrong solution, so it does not compile). With a backwards grid
/// (h < 0) it integrates a reverse-time SDE such as reverse_sde.

#include <sdeflow/core/noise_types.hpp>

#include <type_traits>

namespace sdeflow {

namespace detail {
/// x += G dW for any noise type; G is the system's diffusion written by diffusion(x, t, out).
template <class Noise, State X, class G, class W>
void add_noise(X& x, const G& g, const W& dW) {
  if constexpr (std::is_same_v<Noise, diagonal_noise>) {
    x += g.cwiseProduct(dW);
  } else if constexpr (std::is_same_v<Noise, scalar_noise>) {
    x.array() += g.array().rowwise() * dW.row(0).array();
  } else {  // general: column j of g is G_j (d x m, column-major)
    const Eigen::Index d = x.rows();
    const Eigen::Index m = dW.rows();
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      x.col(j).noalias() +=
          Eigen::Map<const Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic>>(g.col(j).data(), d, m) *
          dW.col(j);
    }
  }
}

/// Storage for the diffusion of a state-dependent system: X, or (d m) x n for general noise.
template <class Sys, State X>
using diffusion_storage = std::conditional_t<std::is_same_v<noise_of<Sys, X>, general_noise>,
                                             Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic>, X>;
}  // namespace detail

struct euler_maruyama {
  static constexpr bool stochastic = true;
  static constexpr double strong_order = 0.5;  ///< for the worst noise type it supports
  static constexpr int evaluations = 1;
  template <class Noise, calculus C>
  static constexpr bool supports = C == calculus::ito || std::is_same_v<Noise, additive_noise>;
  static constexpr std::string_view supported = "Ito SDEs with additive, diagonal, scalar or general noise";

  template <State X>
  struct workspace {
    workspace(const X& like, Eigen::Index) : f(like.rows(), like.cols()), g(like.rows(), like.cols()) {}
    X f, g;
    Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic> gm;  // general noise only, sized by its first use
  };

  template <class Sys, State X, class W>
    requires SdeSystem<Sys, X>
  void step(const Sys& sys, X& x, scalar_of<X> t, scalar_of<X> h, const W& dW, workspace<X>& w) const {
    using Noise = noise_of<Sys, X>;
    sys.drift(x, t, w.f);
    if constexpr (std::is_same_v<Noise, additive_noise>) {
      const scalar_of<X> g = sys.diffusion(t);
      x += h * w.f + g * dW;
    } else if constexpr (std::is_same_v<Noise, general_noise>) {
      sys.diffusion(x, t, w.gm);
      x += h * w.f;
      detail::add_noise<Noise>(x, w.gm, dW);
    } else {
      sys.diffusion(x, t, w.g);
      x += h * w.f;
      detail::add_noise<Noise>(x, w.g, dW);
    }
  }
};

}  // namespace sdeflow
