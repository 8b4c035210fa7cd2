// SPDX-License-Identifier: MIT
#pragma once
/// \file moments.hpp
/// Sample moments of a d x n batch (one sample per column), with the standard errors the
/// statistical tests derive their bounds from.
/// - sample_mean(x):                 d-vector.
/// - sample_covariance(x):           d x d, unbiased (divides by n - 1).
/// - covariance_standard_error(x):   d x d, SE of each covariance entry,
///                                   sqrt((m4_ij - c_ij^2) / n) with m4_ij = mean((x_i - m_i)^2 (x_j - m_j)^2).
/// - mode_fractions(labels, K):      fraction of samples per label.

#include <sdeflow/core/error.hpp>

#include <Eigen/Core>

#include <cmath>
#include <cstddef>
#include <vector>

namespace sdeflow {

template <class Derived>
[[nodiscard]] Eigen::Matrix<typename Derived::Scalar, Eigen::Dynamic, 1> sample_mean(const Eigen::MatrixBase<Derived>& x) {
  detail::require(x.cols() >= 1, "sample_mean", "x.cols()", x.cols(), "must be at least 1");
  return x.rowwise().mean();
}

template <class Derived>
[[nodiscard]] Eigen::Matrix<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic> sample_covariance(
    const Eigen::MatrixBase<Derived>& x) {
  using S = typename Derived::Scalar;
  detail::require(x.cols() >= 2, "sample_covariance", "x.cols()", x.cols(), "must be at least 2");
  const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> c = x.colwise() - x.rowwise().mean();
  return (c * c.transpose()) / static_cast<S>(x.cols() - 1);
}

template <class Derived>
[[nodiscard]] Eigen::Matrix<typename Derived::Scalar, Eigen::Dynamic, Eigen::Dynamic> covariance_standard_error(
    const Eigen::MatrixBase<Derived>& x) {
  using S = typename Derived::Scalar;
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  detail::require(x.cols() >= 2, "covariance_standard_error", "x.cols()", x.cols(), "must be at least 2");
  const M c = x.colwise() - x.rowwise().mean();
  const auto n = static_cast<S>(x.cols());
  const M cov = (c * c.transpose()) / n;
  const M sq = c.array().square().matrix();
  const M m4 = (sq * sq.transpose()) / n;
  return ((m4 - cov.cwiseProduct(cov)).cwiseMax(S(0)) / n).cwiseSqrt();
}

[[nodiscard]] inline std::vector<double> mode_fractions(const std::vector<std::size_t>& labels, std::size_t modes) {
  detail::require(modes >= 1, "mode_fractions", "modes", modes, "must be at least 1");
  std::vector<double> f(modes, 0.0);
  for (std::size_t l : labels) {
    detail::require(l < modes, "mode_fractions", "label", l, "must be below the number of modes");
    f[l] += 1.0;
  }
  for (double& v : f) v /= labels.empty() ? 1.0 : static_cast<double>(labels.size());
  return f;
}

}  // namespace sdeflow
