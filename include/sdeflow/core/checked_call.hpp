// SPDX-License-Identifier: MIT
#pragma once
/// \file checked_call.hpp
/// Internal: evaluate a user callable on a batch and check that the result has the batch's shape
/// before it is stored (assigning a wrongly shaped result to a dynamic matrix would silently resize it).

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <functional>
#include <utility>

namespace sdeflow::detail {

/// The object behind a std::reference_wrapper (std::cref(net)), or the object itself: lets the
/// library call member functions (jvp, divergence) on callables users pass by reference.
template <class T>
[[nodiscard]] constexpr const T& unwrap(const T& v) noexcept { return v; }
template <class T>
[[nodiscard]] constexpr const T& unwrap(const std::reference_wrapper<T>& v) noexcept { return v.get(); }

/// out = f(x, t), throwing dimension_mismatch naming `what` unless f(x, t) is x.rows() x x.cols().
template <class F, State X>
void assign_checked(X& out, const F& f, const X& x, scalar_of<X> t, const char* what) {
  auto&& r = f(x, t);
  if (r.rows() != x.rows() || r.cols() != x.cols()) {
    throw dimension_mismatch(message(what, " returned a ", r.rows(), " x ", r.cols(), " result for a ", x.rows(),
                                     " x ", x.cols(), " state at t = ", t));
  }
  out = std::forward<decltype(r)>(r);
}

/// out = score(x, t): through the score's own `score(x, t, out)` when it has one (models: no
/// temporary, exact for score models), else as assign_checked.
template <class F, State X>
void eval_score(X& out, const F& score, const X& x, scalar_of<X> t) {
  if constexpr (requires { unwrap(score).score(x, t, out); }) {
    unwrap(score).score(x, t, out);
  } else {
    assign_checked(out, score, x, t, "score");
  }
}

}  // namespace sdeflow::detail
