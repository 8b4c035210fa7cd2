// SPDX-License-Identifier: MIT
#pragma once
/// \file divergence.hpp
/// Divergence (trace of the Jacobian) of a score, per column of a batch: what the change-of-variables
/// formula of the probability-flow ODE integrates (Chen et al. 2018, "Neural ODEs", Thm. 1;
/// Song et al. 2021, App. D.2).
///
/// What a score may offer, best first:
/// - score.divergence(x, t) -> 1 x n row, exact (mixture_score, mlp, model over a network with one);
/// - score.jvp(x, t, v) -> d x n, exact J v per column: the divergence then costs d JVPs, one per
///   basis vector, and Hutchinson's estimator (below) costs one per probe;
/// - neither: the score's Jacobian is computed by forward-mode dual numbers (core/dual.hpp), which
///   needs a score templated on the scalar type (callable with a batch of sdeflow::dual<S>).
///
/// Hutchinson (1990): for a probe v with E[v v^T] = I, E[v^T J v] = tr J. For a symmetric J (a
/// score's Jacobian is a Hessian) the variance is 2 sum_{i != j} J_ij^2 with Rademacher probes (+-1),
/// the smallest possible, and 2 sum_{i,j} J_ij^2 with Gaussian probes. Probes come from the counter-based normal_source, so they are reproducible per
/// (seed, sample index) and independent of how the batch is split.

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/dual.hpp>
#include <sdeflow/noise/random.hpp>
#include <sdeflow/core/types.hpp>

#include <concepts>
#include <cstdint>

namespace sdeflow {

/// A score with an exact divergence(x, t) (a 1 x n row).
template <class Score, class X>
concept HasScoreDivergence = State<X> && requires(const Score& s, const X& x, scalar_of<X> t) {
  { detail::unwrap(s).divergence(x, t) } -> std::convertible_to<Eigen::Matrix<scalar_of<X>, 1, Eigen::Dynamic>>;
};

/// A score with an exact Jacobian-vector product jvp(x, t, v) (d x n).
template <class Score, class X>
concept HasScoreJvp = State<X> && requires(const Score& s, const X& x, scalar_of<X> t, const X& v) {
  { detail::unwrap(s).jvp(x, t, v) } -> std::convertible_to<Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic>>;
};

/// J v per column: the score's own jvp, else forward-mode dual numbers.
template <class Score, State X, class V>
[[nodiscard]] Eigen::Matrix<scalar_of<X>, Eigen::Dynamic, Eigen::Dynamic> score_jvp(const Score& score, const X& x,
                                                                                   scalar_of<X> t, const V& v) {
  using S = scalar_of<X>;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  if (v.rows() != x.rows() || v.cols() != x.cols()) {
    throw dimension_mismatch(detail::message("score_jvp: v is ", v.rows(), " x ", v.cols(), " but x is ", x.rows(),
                                             " x ", x.cols()));
  }
  M out;
  if constexpr (HasScoreJvp<Score, X>) {
    const X vx = v;
    out = detail::unwrap(score).jvp(x, t, vx);
  } else {
    out = dual_jvp(detail::unwrap(score), x, t, v);
  }
  if (out.rows() != x.rows() || out.cols() != x.cols()) {
    throw dimension_mismatch(detail::message("score jvp returned a ", out.rows(), " x ", out.cols(), " result for a ",
                                             x.rows(), " x ", x.cols(), " state at t = ", t));
  }
  return out;
}

/// The exact divergence of the score per column (1 x n): score.divergence when offered, else d
/// Jacobian-vector products along the basis vectors.
template <class Score, State X>
[[nodiscard]] Eigen::Matrix<scalar_of<X>, 1, Eigen::Dynamic> score_divergence(const Score& score, const X& x,
                                                                             scalar_of<X> t) {
  using S = scalar_of<X>;
  if constexpr (HasScoreDivergence<Score, X>) {
    Eigen::Matrix<S, 1, Eigen::Dynamic> div = detail::unwrap(score).divergence(x, t);
    if (div.size() != x.cols()) {
      throw dimension_mismatch(detail::message("score divergence returned ", div.size(), " values for ", x.cols(),
                                               " columns at t = ", t));
    }
    return div;
  } else {
    Eigen::Matrix<S, 1, Eigen::Dynamic> div = Eigen::Matrix<S, 1, Eigen::Dynamic>::Zero(x.cols());
    X e = X::Zero(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      if (i > 0) e.row(i - 1).setZero();
      e.row(i).setOnes();
      div += score_jvp(score, x, t, e).row(i);
    }
    return div;
  }
}

/// Probe distributions for Hutchinson's trace estimator.
enum class probe_kind { rademacher, gaussian };

/// Fill probes (d x n) from `source`: column j is sample `offset + j` at counter `counter`.
/// Rademacher entries are the signs of the source's normal draws (each +-1 with probability 1/2).
template <class Derived>
void fill_probes(Eigen::MatrixBase<Derived>& probes, probe_kind kind, const normal_source& source,
                 std::uint64_t counter, std::uint64_t offset) {
  source.fill(probes, counter, offset);
  if (kind == probe_kind::rademacher) {
    using S = typename Derived::Scalar;
    probes = probes.unaryExpr([](S z) { return z < 0 ? S(-1) : S(1); });
  }
}

/// v_j^T J(x_j) v_j per column: one Hutchinson sample of the score's divergence.
template <class Score, State X, class V>
[[nodiscard]] Eigen::Matrix<scalar_of<X>, 1, Eigen::Dynamic> probe_quadratic(const Score& score, const X& x,
                                                                            scalar_of<X> t, const V& v) {
  return score_jvp(score, x, t, v).cwiseProduct(v).colwise().sum();
}

}  // namespace sdeflow
