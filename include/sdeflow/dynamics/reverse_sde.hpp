// SPDX-License-Identifier: MIT
#pragma once
/// \file reverse_sde.hpp
/// The reverse-time SDE (Anderson 1982; Song et al. 2021, Eq. 6) of an AffineProcess with a score:
///   dx = [f(x, t) - g(t)^2 score(x, t)] dt + g(t) dW_bar,   integrated from T down to 0,
/// i.e. on a backwards time grid (negative h; the Brownian increment has variance |h|).
/// A AdditiveNoiseSde: integrate it with euler_maruyama.
///
/// \code
///   sdeflow::reverse_sde sys{vp, sdeflow::exact_score(mix, vp)};
///   sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, sdeflow::time_grid<>::uniform(1.0, 1e-3, 500),
///                      sdeflow::brownian_increments{seed});
/// \endcode

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/execution.hpp>

#include <utility>

namespace sdeflow {

template <AffineProcess P, class Score>
class reverse_sde {
 public:
  using scalar_type = typename P::scalar_type;
  /// The driver runs a batch in column tiles unless the score asks for the whole batch (execution.hpp).
  static constexpr bool whole_batch = detail::whole_batch_v<Score>;

  reverse_sde(P process, Score score) : p_(std::move(process)), score_(std::move(score)) {}

  /// out = f(x, t) - g(t)^2 score(x, t).
  template <State X>
  void drift(const X& x, scalar_type t, X& out) const {
    detail::eval_score(out, score_, x, t);
    const scalar_type g = p_.diffusion(t);
    out = p_.drift_rate(t) * x - (g * g) * out;
  }
  [[nodiscard]] scalar_type diffusion(scalar_type t) const { return p_.diffusion(t); }

  [[nodiscard]] const P& process() const noexcept { return p_; }
  [[nodiscard]] const Score& score() const noexcept { return score_; }

 private:
  P p_;
  Score score_;
};

template <AffineProcess P, class Score>
reverse_sde(P, Score) -> reverse_sde<P, Score>;

}  // namespace sdeflow
