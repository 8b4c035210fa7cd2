// SPDX-License-Identifier: MIT
#pragma once
/// \file types.hpp
/// State and batch types. A batch is a d x n Eigen matrix with one sample per column; a single
/// state is the n = 1 case. Any plain Eigen matrix with a floating-point scalar is a state type,
/// so fixed-size states such as `Eigen::Matrix<double, 2, 1>` or `Eigen::Matrix<float, 2, Eigen::Dynamic>` work.

#include <Eigen/Core>

#include <concepts>
#include <type_traits>

/// Forces inlining of a tiny function on a hot path where the compiler's heuristics keep a call (the
/// per-step finiteness check: as a call it forces a small state out to memory and back every step).
#if defined(__GNUC__) || defined(__clang__)
#define SDEFLOW_ALWAYS_INLINE [[gnu::always_inline]] inline
#elif defined(_MSC_VER)
#define SDEFLOW_ALWAYS_INLINE __forceinline
#else
#define SDEFLOW_ALWAYS_INLINE inline
#endif

namespace sdeflow {

/// A d x n batch of samples (one per column), d fixed at compile time or Eigen::Dynamic.
template <class Scalar = double, int Rows = Eigen::Dynamic>
using batch = Eigen::Matrix<Scalar, Rows, Eigen::Dynamic>;

/// Plain (storage-owning) Eigen matrix with a floating-point scalar: the types integrators step.
template <class X>
concept State = std::is_base_of_v<Eigen::PlainObjectBase<std::remove_cvref_t<X>>, std::remove_cvref_t<X>> &&
                std::floating_point<typename std::remove_cvref_t<X>::Scalar>;

/// Scalar type of a state type.
template <State X>
using scalar_of = typename std::remove_cvref_t<X>::Scalar;

/// Any Eigen dense expression (a matrix, a block, a product ...) with a floating-point scalar.
template <class E>
concept DenseExpression = std::is_base_of_v<Eigen::DenseBase<std::remove_cvref_t<E>>, std::remove_cvref_t<E>> &&
                          std::floating_point<typename std::remove_cvref_t<E>::Scalar>;

namespace detail {
/// The one rule for empty batches: a state with no entries (0 columns, or 0 rows) is valid input to
/// every driver (integrate, integrate_adaptive, integrate_sde_adaptive, the sampling engine, encode,
/// decode, log_likelihood), which returns it unchanged at once with a zero report, calling no drift,
/// model, noise source or observer. (An MPI rank that holds no samples runs exactly this.)
template <class X>
[[nodiscard]] constexpr bool empty_batch(const X& x) noexcept {
  return x.size() == 0;
}
}  // namespace detail

}  // namespace sdeflow
