// SPDX-License-Identifier: MIT
#pragma once
/// \file distances.hpp
/// Distances between two sample sets (d x n and d x m batches, one sample per column).
/// - sliced_wasserstein(a, b, L, seed): sqrt of the mean over L random unit directions theta of the
///   squared 1-D Wasserstein-2 distance between the projections theta^T a and theta^T b (the 1-D
///   distance compares quantiles, so n != m is fine). Directions come from the counter-based source.
/// - mmd_rbf(a, b, bandwidth): unbiased squared maximum mean discrepancy with the Gaussian kernel
///   exp(-|x - y|^2 / (2 h^2)) (Gretton et al. 2012, Eq. 3). O(n^2): use a few thousand samples.
/// Both are noisy for finite samples: compare against the same statistic between two exact draws.

#include <sdeflow/core/error.hpp>
#include <sdeflow/noise/random.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sdeflow {

namespace detail {
/// Mean squared difference between the quantile functions of two sorted samples, on the merged grid.
inline double quantile_w2_squared(const std::vector<double>& a, const std::vector<double>& b) {
  const double na = static_cast<double>(a.size());
  const double nb = static_cast<double>(b.size());
  std::size_t i = 0;
  std::size_t j = 0;
  double level = 0.0;
  double acc = 0.0;
  while (i < a.size() && j < b.size()) {
    const double next_a = static_cast<double>(i + 1) / na;
    const double next_b = static_cast<double>(j + 1) / nb;
    const double next = std::min(next_a, next_b);
    const double diff = a[i] - b[j];
    acc += (next - level) * diff * diff;
    level = next;
    if (next_a <= next) ++i;
    if (next_b <= next) ++j;
  }
  return acc;
}
}  // namespace detail

template <class DA, class DB>
[[nodiscard]] double sliced_wasserstein(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b,
                                        int projections = 256, std::uint64_t seed = 0) {
  if (a.rows() != b.rows()) {
    throw dimension_mismatch(detail::message("sliced_wasserstein: a has ", a.rows(), " rows but b has ", b.rows()));
  }
  detail::require(a.cols() >= 1, "sliced_wasserstein", "a.cols()", a.cols(), "must be at least 1");
  detail::require(b.cols() >= 1, "sliced_wasserstein", "b.cols()", b.cols(), "must be at least 1");
  detail::require(projections >= 1, "sliced_wasserstein", "projections", projections, "must be at least 1");
  const normal_source dirs(seed, 7);
  Eigen::MatrixXd theta(a.rows(), projections);
  dirs.fill(theta, 0, 0);
  theta.colwise().normalize();
  const Eigen::MatrixXd pa = theta.transpose() * a.template cast<double>();
  const Eigen::MatrixXd pb = theta.transpose() * b.template cast<double>();
  std::vector<double> qa(static_cast<std::size_t>(a.cols()));
  std::vector<double> qb(static_cast<std::size_t>(b.cols()));
  double total = 0.0;
  for (Eigen::Index l = 0; l < projections; ++l) {
    for (Eigen::Index j = 0; j < a.cols(); ++j) qa[static_cast<std::size_t>(j)] = pa(l, j);
    for (Eigen::Index j = 0; j < b.cols(); ++j) qb[static_cast<std::size_t>(j)] = pb(l, j);
    std::sort(qa.begin(), qa.end());
    std::sort(qb.begin(), qb.end());
    total += detail::quantile_w2_squared(qa, qb);
  }
  return std::sqrt(total / projections);
}

template <class DA, class DB>
[[nodiscard]] double mmd_rbf(const Eigen::MatrixBase<DA>& a, const Eigen::MatrixBase<DB>& b, double bandwidth) {
  if (a.rows() != b.rows()) {
    throw dimension_mismatch(detail::message("mmd_rbf: a has ", a.rows(), " rows but b has ", b.rows()));
  }
  detail::require(a.cols() >= 2, "mmd_rbf", "a.cols()", a.cols(), "must be at least 2");
  detail::require(b.cols() >= 2, "mmd_rbf", "b.cols()", b.cols(), "must be at least 2");
  detail::require(std::isfinite(bandwidth) && bandwidth > 0, "mmd_rbf", "bandwidth", bandwidth, "must be finite and > 0");
  const Eigen::MatrixXd A = a.template cast<double>();
  const Eigen::MatrixXd B = b.template cast<double>();
  const double inv = 1.0 / (2.0 * bandwidth * bandwidth);
  auto mean_kernel = [inv](const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, bool same) {
    double acc = 0.0;
    for (Eigen::Index i = 0; i < X.cols(); ++i) {
      for (Eigen::Index j = 0; j < Y.cols(); ++j) {
        if (same && i == j) continue;
        acc += std::exp(-(X.col(i) - Y.col(j)).squaredNorm() * inv);
      }
    }
    const double pairs = same ? static_cast<double>(X.cols()) * static_cast<double>(X.cols() - 1)
                              : static_cast<double>(X.cols()) * static_cast<double>(Y.cols());
    return acc / pairs;
  };
  return mean_kernel(A, A, true) + mean_kernel(B, B, true) - 2.0 * mean_kernel(A, B, false);
}

}  // namespace sdeflow
