// SPDX-License-Identifier: MIT
#pragma once
/// \file probability_flow.hpp
/// The probability-flow ODE (Song et al. 2021, Eq. 13) of an AffineProcess with a score:
///   dx/dt = f(x, t) - 1/2 g(t)^2 score(x, t),
/// whose solutions have the same marginals p_t as the forward SDE. Deterministic: integrate it
/// from T down to 0 with euler, heun or rk4 to sample, or from 0 up to T to encode.

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/execution.hpp>

#include <utility>

namespace sdeflow {

template <AffineProcess P, class Score>
class probability_flow {
 public:
  using scalar_type = typename P::scalar_type;
  /// The driver runs a batch in column tiles unless the score asks for the whole batch (execution.hpp).
  static constexpr bool whole_batch = detail::whole_batch_v<Score>;

  probability_flow(P process, Score score) : p_(std::move(process)), score_(std::move(score)) {}

  /// out = f(x, t) - 1/2 g(t)^2 score(x, t).
  template <State X>
  void drift(const X& x, scalar_type t, X& out) const {
    detail::eval_score(out, score_, x, t);
    const scalar_type g = p_.diffusion(t);
    out = p_.drift_rate(t) * x - (g * g / 2) * out;
  }

  [[nodiscard]] const P& process() const noexcept { return p_; }
  [[nodiscard]] const Score& score() const noexcept { return score_; }

 private:
  P p_;
  Score score_;
};

template <AffineProcess P, class Score>
probability_flow(P, Score) -> probability_flow<P, Score>;

}  // namespace sdeflow
