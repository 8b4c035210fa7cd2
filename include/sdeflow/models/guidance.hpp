// SPDX-License-Identifier: MIT
#pragma once
/// \file guidance.hpp
/// Guidance combinators over models' raw outputs.
/// - guided(cond, uncond, w): classifier-free guidance (Ho & Salimans 2022), out = (1 + w) cond - w uncond.
///   Wrap the result in a `model` with the two networks' common prediction kind.
///
/// \code
///   sdeflow::model net(vp, sdeflow::guided(cond_eps, uncond_eps, 3.0), sdeflow::prediction::epsilon);
/// \endcode

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/execution.hpp>
#include <sdeflow/core/types.hpp>

#include <cmath>
#include <utility>

namespace sdeflow {

/// Classifier-free guidance (Ho & Salimans 2022): out = (1 + w) cond(x, t) - w uncond(x, t), for two
/// models of the same parameterization. w = 0 is the conditional model.
template <class Cond, class Uncond>
class guided {
 public:
  /// A network inside keeps the whole batch (core/execution.hpp).
  static constexpr bool whole_batch = detail::whole_batch_v<Cond> || detail::whole_batch_v<Uncond>;

  guided(Cond cond, Uncond uncond, double weight) : c_(std::move(cond)), u_(std::move(uncond)), w_(weight) {
    detail::require(std::isfinite(weight), "guided", "weight", weight, "must be finite");
  }
  template <State X>
  [[nodiscard]] X operator()(const X& x, scalar_of<X> t) const {
    X a, b;
    detail::assign_checked(a, c_, x, t, "conditional model");
    if (w_ == 0) return a;
    detail::assign_checked(b, u_, x, t, "unconditional model");
    const auto w = static_cast<scalar_of<X>>(w_);
    return (1 + w) * a - w * b;
  }

 private:
  Cond c_;
  Uncond u_;
  double w_;
};

}  // namespace sdeflow
