// SPDX-License-Identifier: MIT
#pragma once
/// \file mixture_mmd.hpp
/// Squared maximum mean discrepancy between a sample set and an *exact* Gaussian mixture, with the
/// Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 h^2)). Both kernel expectations that involve the
/// mixture are closed form (a Gaussian kernel is an unnormalized Gaussian density):
///   E_{y~p} k(x, y)      = (2 pi h^2)^{d/2} sum_k pi_k N(x; m_k, C_k + h^2 I),
///   E_{y,y'~p} k(y, y')  = (2 pi h^2)^{d/2} sum_{k,l} pi_k pi_l N(m_k; m_l, C_k + C_l + h^2 I),
/// with m_k = s mu_k, C_k = s^2 S_k + sigma^2 I. So
///   MMD^2 = mean_{i != j} k(x_i, x_j) - 2 mean_i E_y k(x_i, y) + E k(y, y')
/// is unbiased with no reference-sample noise (Gretton et al., JMLR 13, 2012, Lemma 6, with the
/// second sample replaced by its expectation). O(n^2 d) for the first term.

#include <sdeflow/core/error.hpp>
#include <sdeflow/scores/gaussian_mixture.hpp>

#include <Eigen/Cholesky>

#include <cmath>
#include <numbers>

namespace sdeflow {

namespace detail {
/// log N(x_j; m, C) for each column of x.
inline Eigen::RowVectorXd gaussian_log_pdf(const Eigen::MatrixXd& x, const Eigen::VectorXd& m, const Eigen::MatrixXd& C) {
  const Eigen::LLT<Eigen::MatrixXd> llt(C);
  const Eigen::MatrixXd L = llt.matrixL();
  const Eigen::MatrixXd z = L.triangularView<Eigen::Lower>().solve(x.colwise() - m);
  const double logdet = 2 * L.diagonal().array().log().sum();
  const auto d = static_cast<double>(x.rows());
  return (-0.5 * (z.colwise().squaredNorm().array() + d * std::log(2 * std::numbers::pi) + logdet)).matrix();
}
}  // namespace detail

/// E_{y ~ p_t} exp(-|x_j - y|^2 / (2 h^2)) for each column of x, where p_t is `mix` at (s, sigma).
template <class Derived>
[[nodiscard]] Eigen::RowVectorXd mixture_kernel_mean(const Eigen::MatrixBase<Derived>& x, const gaussian_mixture<double>& mix,
                                                     double s, double sigma, double bandwidth) {
  detail::require(std::isfinite(bandwidth) && bandwidth > 0, "mixture_kernel_mean", "bandwidth", bandwidth,
                  "must be finite and > 0");
  if (x.rows() != mix.dimension()) {
    throw dimension_mismatch(detail::message("mixture_kernel_mean: x has ", x.rows(),
                                             " rows but the mixture has dimension ", mix.dimension()));
  }
  const Eigen::Index d = mix.dimension();
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(d, d);
  const double h2 = bandwidth * bandwidth;
  const double log_scale = 0.5 * static_cast<double>(d) * std::log(2 * std::numbers::pi * h2);
  const Eigen::MatrixXd xd = x.template cast<double>();
  Eigen::RowVectorXd out = Eigen::RowVectorXd::Zero(x.cols());
  for (std::size_t k = 0; k < mix.components(); ++k) {
    const Eigen::MatrixXd C = s * s * mix.covariance(k) + (sigma * sigma + h2) * I;
    out += mix.weight(k) * (detail::gaussian_log_pdf(xd, s * mix.mean(k), C).array() + log_scale).exp().matrix();
  }
  return out;
}

/// Unbiased MMD^2 between the columns of x and the exact mixture p_t = mix at (s, sigma).
template <class Derived>
[[nodiscard]] double mmd_to_mixture(const Eigen::MatrixBase<Derived>& x, const gaussian_mixture<double>& mix, double s,
                                    double sigma, double bandwidth) {
  detail::require(x.cols() >= 2, "mmd_to_mixture", "x.cols()", x.cols(), "must be at least 2");
  const Eigen::RowVectorXd cross = mixture_kernel_mean(x, mix, s, sigma, bandwidth);
  const Eigen::Index d = mix.dimension();
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(d, d);
  const double h2 = bandwidth * bandwidth;
  const double log_scale = 0.5 * static_cast<double>(d) * std::log(2 * std::numbers::pi * h2);
  double pp = 0.0;
  for (std::size_t k = 0; k < mix.components(); ++k) {
    for (std::size_t l = 0; l < mix.components(); ++l) {
      const Eigen::MatrixXd C = s * s * (mix.covariance(k) + mix.covariance(l)) + (2 * sigma * sigma + h2) * I;
      const Eigen::MatrixXd mk = s * mix.mean(k);
      pp += mix.weight(k) * mix.weight(l) *
            std::exp(detail::gaussian_log_pdf(mk, s * mix.mean(l), C)(0) + log_scale);
    }
  }
  const Eigen::MatrixXd xd = x.template cast<double>();
  const double inv = 1.0 / (2.0 * h2);
  double xx = 0.0;
  for (Eigen::Index j = 1; j < xd.cols(); ++j) {
    for (Eigen::Index i = 0; i < j; ++i) xx += std::exp(-(xd.col(i) - xd.col(j)).squaredNorm() * inv);
  }
  const auto n = static_cast<double>(xd.cols());
  return 2.0 * xx / (n * (n - 1)) - 2.0 * cross.mean() + pp;
}

}  // namespace sdeflow
