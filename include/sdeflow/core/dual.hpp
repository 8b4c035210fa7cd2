// SPDX-License-Identifier: MIT
#pragma once
/// \file dual.hpp
/// Forward-mode dual numbers a + b eps (eps^2 = 0) usable as an Eigen scalar, so a score written
/// generically in its scalar type yields its exact Jacobian-vector product: evaluate it on
/// x + v eps and read the eps parts (Griewank & Walther, "Evaluating Derivatives", 2nd ed., ch. 3).
///
/// \code
///   auto score = [](const auto& x, double t) { return (-x / (1 + t)).eval(); };   // generic in x's scalar
///   Eigen::MatrixXd jv = sdeflow::dual_jvp(score, x, 0.5, v);                     // exact J v per column
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <Eigen/Core>

#include <cmath>
#include <concepts>
#include <limits>
#include <type_traits>

namespace sdeflow {

template <std::floating_point S>
struct dual {
  S v{};  ///< value
  S d{};  ///< derivative (the eps part)

  constexpr dual() = default;
  constexpr dual(S value) : v(value) {}  // NOLINT(google-explicit-constructor): scalars promote
  constexpr dual(S value, S derivative) : v(value), d(derivative) {}
  template <class I>
    requires std::integral<I>
  constexpr dual(I value) : v(static_cast<S>(value)) {}  // NOLINT(google-explicit-constructor)

  constexpr dual& operator+=(const dual& o) { v += o.v; d += o.d; return *this; }
  constexpr dual& operator-=(const dual& o) { v -= o.v; d -= o.d; return *this; }
  constexpr dual& operator*=(const dual& o) { d = d * o.v + v * o.d; v *= o.v; return *this; }
  constexpr dual& operator/=(const dual& o) { d = (d * o.v - v * o.d) / (o.v * o.v); v /= o.v; return *this; }
};

template <class S> constexpr dual<S> operator+(dual<S> a, const dual<S>& b) { return a += b; }
template <class S> constexpr dual<S> operator-(dual<S> a, const dual<S>& b) { return a -= b; }
template <class S> constexpr dual<S> operator*(dual<S> a, const dual<S>& b) { return a *= b; }
template <class S> constexpr dual<S> operator/(dual<S> a, const dual<S>& b) { return a /= b; }
template <class S> constexpr dual<S> operator+(dual<S> a, S b) { a.v += b; return a; }
template <class S> constexpr dual<S> operator+(S a, dual<S> b) { b.v += a; return b; }
template <class S> constexpr dual<S> operator-(dual<S> a, S b) { a.v -= b; return a; }
template <class S> constexpr dual<S> operator-(S a, const dual<S>& b) { return {a - b.v, -b.d}; }
template <class S> constexpr dual<S> operator*(const dual<S>& a, S b) { return {a.v * b, a.d * b}; }
template <class S> constexpr dual<S> operator*(S a, const dual<S>& b) { return {a * b.v, a * b.d}; }
template <class S> constexpr dual<S> operator/(const dual<S>& a, S b) { return {a.v / b, a.d / b}; }
template <class S> constexpr dual<S> operator/(S a, const dual<S>& b) { return {a / b.v, -a * b.d / (b.v * b.v)}; }
template <class S> constexpr dual<S> operator-(const dual<S>& a) { return {-a.v, -a.d}; }
template <class S> constexpr dual<S> operator+(const dual<S>& a) { return a; }
// Comparisons look at values only (branching code is differentiated piecewise).
template <class S> constexpr bool operator==(const dual<S>& a, const dual<S>& b) { return a.v == b.v; }
template <class S> constexpr auto operator<=>(const dual<S>& a, const dual<S>& b) { return a.v <=> b.v; }

template <class S> dual<S> exp(const dual<S>& a) { const S e = std::exp(a.v); return {e, e * a.d}; }
template <class S> dual<S> expm1(const dual<S>& a) { return {std::expm1(a.v), std::exp(a.v) * a.d}; }
template <class S> dual<S> log(const dual<S>& a) { return {std::log(a.v), a.d / a.v}; }
template <class S> dual<S> log1p(const dual<S>& a) { return {std::log1p(a.v), a.d / (1 + a.v)}; }
template <class S> dual<S> sqrt(const dual<S>& a) { const S r = std::sqrt(a.v); return {r, a.d / (2 * r)}; }
template <class S> dual<S> sin(const dual<S>& a) { return {std::sin(a.v), std::cos(a.v) * a.d}; }
template <class S> dual<S> cos(const dual<S>& a) { return {std::cos(a.v), -std::sin(a.v) * a.d}; }
template <class S> dual<S> tanh(const dual<S>& a) { const S h = std::tanh(a.v); return {h, (1 - h * h) * a.d}; }
template <class S> dual<S> abs(const dual<S>& a) { return a.v < 0 ? -a : a; }
template <class S> dual<S> pow(const dual<S>& a, S p) { return {std::pow(a.v, p), p * std::pow(a.v, p - 1) * a.d}; }
template <class S> bool isfinite(const dual<S>& a) { return std::isfinite(a.v) && std::isfinite(a.d); }
template <class S> bool isnan(const dual<S>& a) { return std::isnan(a.v) || std::isnan(a.d); }
template <class S> bool isinf(const dual<S>& a) { return std::isinf(a.v) || std::isinf(a.d); }

namespace detail {
template <class R>
struct scalar_of_result {
  using type = void;
};
template <class R>
  requires requires { typename std::remove_cvref_t<R>::Scalar; }
struct scalar_of_result<R> {
  using type = typename std::remove_cvref_t<R>::Scalar;
};
}  // namespace detail

/// A score that can be evaluated on a batch of dual<S>: callable as score(x, t) with x an Eigen matrix
/// of dual<S>, returning a matrix of dual<S>. A callable taking `const Eigen::MatrixXd&` is not one,
/// although Eigen's converting constructor makes the call look valid: the result's scalar type tells.
template <class Score, class S>
concept DualEvaluable =
    std::floating_point<S> &&
    std::invocable<const Score&, const Eigen::Matrix<dual<S>, Eigen::Dynamic, Eigen::Dynamic>&, S> &&
    std::same_as<typename detail::scalar_of_result<std::invoke_result_t<
                     const Score&, const Eigen::Matrix<dual<S>, Eigen::Dynamic, Eigen::Dynamic>&, S>>::type,
                 dual<S>>;

/// The message of every entry point that needs the score's Jacobian and finds no way to it.
#define SDEFLOW_DUAL_MESSAGE                                                                                  \
  "sdeflow: this score offers neither divergence(x, t) nor jvp(x, t, v), and cannot be evaluated on dual " \
  "numbers: give it divergence(x, t) or jvp(x, t, v) (a network wrapped as a model or by epsilon_score "     \
  "needs the network's jvp, as sdeflow::mlp has), or pass a score generic in the batch's scalar type (a "   \
  "lambda taking `const auto& x` and returning an expression in x)"

/// J v per column by forward mode: out_j = d/de score(x_j + e v_j, t) at e = 0. `score` must be
/// callable with a batch of dual<S> and the time as S, returning a batch of dual<S> (DualEvaluable).
template <class Score, class DX, class DV>
[[nodiscard]] Eigen::Matrix<typename DX::Scalar, Eigen::Dynamic, Eigen::Dynamic> dual_jvp(
    const Score& score, const Eigen::MatrixBase<DX>& x, typename DX::Scalar t, const Eigen::MatrixBase<DV>& v) {
  using S = typename DX::Scalar;
  using D = Eigen::Matrix<dual<S>, Eigen::Dynamic, Eigen::Dynamic>;
  static_assert(DualEvaluable<Score, S>, SDEFLOW_DUAL_MESSAGE);
  if constexpr (!DualEvaluable<Score, S>) {
    return {};  // not reached: the static_assert above fails first, and nothing below is instantiated
  } else {
    if (v.rows() != x.rows() || v.cols() != x.cols()) {
      throw dimension_mismatch(detail::message("dual_jvp: v is ", v.rows(), " x ", v.cols(), " but x is ", x.rows(),
                                               " x ", x.cols()));
    }
    D xd(x.rows(), x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      for (Eigen::Index i = 0; i < x.rows(); ++i) xd(i, j) = dual<S>(x(i, j), static_cast<S>(v(i, j)));
    }
    const D out = score(xd, t);
    if (out.rows() != x.rows() || out.cols() != x.cols()) {
      throw dimension_mismatch(detail::message("score returned a ", out.rows(), " x ", out.cols(),
                                               " result on dual numbers for a ", x.rows(), " x ", x.cols(),
                                               " state at t = ", t));
    }
    return out.unaryExpr([](const dual<S>& a) { return a.d; });
  }
}

#undef SDEFLOW_DUAL_MESSAGE

}  // namespace sdeflow

namespace Eigen {

template <class S>
struct NumTraits<sdeflow::dual<S>> : GenericNumTraits<sdeflow::dual<S>> {
  using Real = sdeflow::dual<S>;
  using NonInteger = sdeflow::dual<S>;
  using Literal = sdeflow::dual<S>;
  using Nested = sdeflow::dual<S>;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 2,
    AddCost = 2,
    MulCost = 3
  };
  static inline Real epsilon() { return Real(std::numeric_limits<S>::epsilon()); }
  static inline Real dummy_precision() { return Real(NumTraits<S>::dummy_precision()); }
  static inline Real highest() { return Real(std::numeric_limits<S>::max()); }
  static inline Real lowest() { return Real(std::numeric_limits<S>::lowest()); }
  static inline int digits10() { return NumTraits<S>::digits10(); }
};

template <class S, class BinaryOp>
struct ScalarBinaryOpTraits<sdeflow::dual<S>, S, BinaryOp> {
  using ReturnType = sdeflow::dual<S>;
};
template <class S, class BinaryOp>
struct ScalarBinaryOpTraits<S, sdeflow::dual<S>, BinaryOp> {
  using ReturnType = sdeflow::dual<S>;
};

}  // namespace Eigen
