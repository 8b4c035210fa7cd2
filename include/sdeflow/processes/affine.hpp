// SPDX-License-Identifier: MIT
#pragma once
/// \file affine.hpp
/// What every AffineProcess (p(x_t | x_0) = N(s(t) x_0, sigma(t)^2 I)) gets for free:
/// - perturb(p, x0, t, noise, counter, offset): a draw of x_t given x_0 (columns of x0).
/// - sample_prior(p, d, n, noise, offset):      n draws from the prior N(0, prior_std^2 I) at T.
/// - prior_log_density(p, x):                   log N(x; 0, prior_std^2 I) per column (a 1 x n row).

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/noise/random.hpp>

#include <cmath>
#include <numbers>

namespace sdeflow {

/// x_t = s(t) x_0 + sigma(t) eps, eps from `noise` at `counter`, column j is sample `offset + j`.
template <AffineProcess P, class Derived>
[[nodiscard]] typename Derived::PlainObject perturb(const P& p, const Eigen::MatrixBase<Derived>& x0,
                                                    typename P::scalar_type t, const normal_source& noise,
                                                    std::uint64_t counter = 0, std::uint64_t offset = 0) {
  typename Derived::PlainObject eps(x0.rows(), x0.cols());
  noise.fill(eps, counter, offset);
  return p.mean_scale(t) * x0 + p.marginal_std(t) * eps;
}

/// n draws from the prior N(0, prior_std^2 I) in dimension d, as a d x n batch.
template <AffineProcess P, State X = batch<typename P::scalar_type>>
[[nodiscard]] X sample_prior(const P& p, Eigen::Index d, Eigen::Index n, const normal_source& noise,
                             std::uint64_t offset = 0) {
  detail::require(d >= 1, "sample_prior", "d", d, "must be at least 1");
  detail::require(n >= 0, "sample_prior", "n", n, "must be >= 0");
  (void)detail::sample_end(offset, static_cast<std::uint64_t>(n), "sample_prior", "offset + n");
  X x(d, n);
  noise.fill(x, 0, offset);
  x *= p.prior_std();
  return x;
}

/// log N(x_j; 0, prior_std^2 I) for each column x_j.
template <AffineProcess P, class Derived>
[[nodiscard]] Eigen::Matrix<typename Derived::Scalar, 1, Eigen::Dynamic> prior_log_density(
    const P& p, const Eigen::MatrixBase<Derived>& x) {
  using S = typename Derived::Scalar;
  const S sd = static_cast<S>(p.prior_std());
  const S d = static_cast<S>(x.rows());
  const S log_norm = -d / 2 * std::log(2 * std::numbers::pi_v<S>) - d * std::log(sd);
  return (x.colwise().squaredNorm().array() * (S(-0.5) / (sd * sd)) + log_norm).matrix();
}

}  // namespace sdeflow
