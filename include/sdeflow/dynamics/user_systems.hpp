// SPDX-License-Identifier: MIT
#pragma once
/// \file user_systems.hpp
/// Plain user ODEs and SDEs from lambdas or function objects.
/// - ode(f):     dx/dt = f(x, t).
/// - sde(f, g):  dx = f(x, t) dt + g dW, where g is either g(t) -> scalar (the same noise scale on
///               every component) or g(x, t) -> d x n (diagonal noise, element-wise).
/// f and g may return Eigen expressions; results are shape-checked (dimension_mismatch otherwise).
///
/// \code
///   auto ou = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return -x; },   // drift
///                          [](double) { return 0.5; });                           // g(t)
/// \endcode

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>

#include <utility>

namespace sdeflow {

template <class F>
class ode_system {
 public:
  explicit ode_system(F f) : f_(std::move(f)) {}
  template <State X>
    requires VectorField<F, X>
  void drift(const X& x, scalar_of<X> t, X& out) const {
    detail::assign_checked(out, f_, x, t, "ODE right-hand side");
  }

 private:
  F f_;
};

template <class F, class G>
class sde_system {
 public:
  sde_system(F f, G g) : f_(std::move(f)), g_(std::move(g)) {}
  template <State X>
    requires VectorField<F, X>
  void drift(const X& x, scalar_of<X> t, X& out) const {
    detail::assign_checked(out, f_, x, t, "SDE drift");
  }
  /// Scalar noise: g(t).
  template <std::floating_point S>
    requires TimeFunction<G, S>
  [[nodiscard]] S diffusion(S t) const {
    return static_cast<S>(g_(t));
  }
  /// Diagonal noise: g(x, t), element-wise.
  template <State X>
    requires(!TimeFunction<G, scalar_of<X>> && VectorField<G, X>)
  void diffusion(const X& x, scalar_of<X> t, X& out) const {
    detail::assign_checked(out, g_, x, t, "SDE diffusion");
  }

 private:
  F f_;
  G g_;
};

/// dx/dt = f(x, t).
template <class F>
[[nodiscard]] ode_system<F> ode(F f) {
  return ode_system<F>(std::move(f));
}
/// dx = f(x, t) dt + g dW (g(t) scalar or g(x, t) diagonal).
template <class F, class G>
[[nodiscard]] sde_system<F, G> sde(F f, G g) {
  return sde_system<F, G>(std::move(f), std::move(g));
}

}  // namespace sdeflow
