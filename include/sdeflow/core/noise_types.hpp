// SPDX-License-Identifier: MIT
#pragma once
/// \file noise_types.hpp
/// Noise structure and stochastic calculus of an SDE system, as part of its type.
///
/// Noise types (dW has m rows per sample):
/// - additive_noise:  dx = f dt + g(t) dW, g a scalar, m = d (system has `diffusion(t) -> scalar`).
/// - diagonal_noise:  dx = f dt + g(x, t) .* dW, m = d (system has `diffusion(x, t, out)`, out d x n).
/// - scalar_noise:    dx = f dt + g(x, t) dW with ONE Wiener process per sample, m = 1
///                    (`diffusion(x, t, out)`, out d x n; declare `using noise_type = sdeflow::scalar_noise;`).
/// - general_noise:   dx = f dt + G(x, t) dW, G d x m, m Wiener processes (`diffusion(x, t, out)` with out
///                    (d m) x n, column j holding G_j column-major; declare `using noise_type =
///                    sdeflow::general_noise;` and `wiener_dimension() -> m`).
/// Without a declaration, `diffusion(t)` means additive and `diffusion(x, t, out)` diagonal noise.
///
/// Calculus: Ito by default; declare `static constexpr sdeflow::calculus calculus =
/// sdeflow::calculus::stratonovich;` for a Stratonovich SDE. (For additive noise the two coincide.)
///
/// A stepper lists what it supports with `template <class Noise, calculus C> static constexpr bool supports`;
/// `integrate` static_asserts it, with a message naming the stepper's limits, the noise type and the calculus.

#include <sdeflow/core/concepts.hpp>

#include <string_view>
#include <type_traits>

namespace sdeflow {

enum class calculus { ito, stratonovich };

struct additive_noise {
  static constexpr std::string_view name = "additive";
};
struct diagonal_noise {
  static constexpr std::string_view name = "diagonal";
};
struct scalar_noise {
  static constexpr std::string_view name = "scalar";
};
struct general_noise {
  static constexpr std::string_view name = "general";
};

namespace detail {
template <class Sys, class X>
consteval auto noise_tag() {
  if constexpr (requires { typename Sys::noise_type; }) {
    return typename Sys::noise_type{};
  } else if constexpr (HasScalarDiffusion<Sys, X>) {
    return additive_noise{};
  } else {
    return diagonal_noise{};
  }
}
}  // namespace detail

/// The noise type of system Sys on states X.
template <class Sys, class X>
using noise_of = decltype(detail::noise_tag<Sys, X>());

/// The calculus of system Sys (Ito unless it declares otherwise).
template <class Sys>
inline constexpr calculus calculus_of = [] {
  if constexpr (requires { Sys::calculus; }) {
    return static_cast<calculus>(Sys::calculus);
  } else {
    return calculus::ito;
  }
}();

/// Number of Wiener processes per sample (rows of dW) for a state with d rows.
template <class Sys, class X>
[[nodiscard]] Eigen::Index wiener_dimension(const Sys& sys, Eigen::Index d) {
  using N = noise_of<Sys, X>;
  if constexpr (std::is_same_v<N, scalar_noise>) {
    return 1;
  } else if constexpr (std::is_same_v<N, general_noise>) {
    return static_cast<Eigen::Index>(sys.wiener_dimension());
  } else {
    return d;
  }
}

/// The Brownian increment's type: X itself when m = d, a dynamic-row batch otherwise.
template <class Sys, class X>
using increment_of = std::conditional_t<std::is_same_v<noise_of<Sys, X>, additive_noise> ||
                                            std::is_same_v<noise_of<Sys, X>, diagonal_noise>,
                                        X, Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic>>;

/// A one-step method for SdeSystem driven by a Brownian increment dW (m x n).
template <class St, class Sys, class X>
concept SdeStepper = SdeSystem<Sys, X> && requires(const St& st, const Sys& sys, X& x, scalar_of<X> t,
                                                   const increment_of<Sys, X>& dW,
                                                   typename St::template workspace<X>& ws) {
  { St::stochastic } -> std::convertible_to<bool>;
  requires St::stochastic;
  requires(requires { st.step(sys, x, t, t, dW, ws); } || requires { st.step(sys, x, t, t, dW, dW, ws); });
};

/// Stepper St can integrate system Sys on states X (its noise type and calculus are supported).
template <class St, class Sys, class X>
concept Supports = St::template supports<noise_of<Sys, X>, calculus_of<Sys>>;

namespace detail {
/// One static_assert per (noise type, calculus), so the error message names both; the stepper is
/// named in the instantiation context (check_support<Stepper, Noise, C>).
template <class St, class Noise, calculus C>
consteval bool check_support() {
  constexpr bool ok = St::template supports<Noise, C>;
  constexpr bool ito = C == calculus::ito;
  static_assert(ok || !(std::is_same_v<Noise, additive_noise> && ito), "this stepper does not support additive noise with Ito calculus");
  static_assert(ok || !(std::is_same_v<Noise, additive_noise> && !ito), "this stepper does not support additive noise with Stratonovich calculus");
  static_assert(ok || !(std::is_same_v<Noise, diagonal_noise> && ito), "this stepper does not support diagonal noise with Ito calculus");
  static_assert(ok || !(std::is_same_v<Noise, diagonal_noise> && !ito), "this stepper does not support diagonal noise with Stratonovich calculus");
  static_assert(ok || !(std::is_same_v<Noise, scalar_noise> && ito), "this stepper does not support scalar noise with Ito calculus");
  static_assert(ok || !(std::is_same_v<Noise, scalar_noise> && !ito), "this stepper does not support scalar noise with Stratonovich calculus");
  static_assert(ok || !(std::is_same_v<Noise, general_noise> && ito), "this stepper does not support general noise with Ito calculus");
  static_assert(ok || !(std::is_same_v<Noise, general_noise> && !ito), "this stepper does not support general noise with Stratonovich calculus");
  return ok;
}
}  // namespace detail

}  // namespace sdeflow
