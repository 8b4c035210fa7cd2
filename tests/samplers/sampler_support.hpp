// SPDX-License-Identifier: MIT
#pragma once
// Ground-truth mixtures and exact models shared by the sampler tests.
#include "support.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace sdeflow_test {

/// The 2-D ring: 8 equal modes on a circle of radius 4, std 0.3.
inline const sdeflow::gaussian_mixture<>& ring() {
  static const auto m = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  return m;
}

/// An anisotropic d = 8 mixture: 4 components with unequal weights, means of norm ~4, and full
/// covariances A A^T / 8 + 0.05 I with A standard normal (fixed seed), eigenvalues spread over ~0.05..1.5.
inline const sdeflow::gaussian_mixture<>& aniso8() {
  static const auto m = sdeflow::gaussian_mixture<>::random_anisotropic({0.1, 0.2, 0.3, 0.4}, 8, 4.0, 808);
  return m;
}

/// The exact data-prediction model (the mixture's posterior mean) under a schedule.
template <class P>
auto exact_model(const sdeflow::gaussian_mixture<>& mix, const P& p) {
  auto score = sdeflow::exact_score(mix, p);
  return sdeflow::model(p, [score](const Eigen::MatrixXd& x, double t) { return score.denoise(x, t); },
                        sdeflow::prediction::data);
}

/// Each sample's squared Mahalanobis distance to the component it is classified into,
/// (x - s mu_k)^T (s^2 Sigma_k + sd^2 I)^{-1} (x - s mu_k): a chi^2_d variable for an exact draw from
/// a well-separated component. On these mixtures the spread between modes dominates the covariance,
/// so means, covariances and mode fractions cannot see a wrong noise scale inside each mode; this can.
inline Eigen::ArrayXd within_mode_distances(const sdeflow::gaussian_mixture<>& mix, const Eigen::MatrixXd& x, double s,
                                            double sd) {
  const auto cls = mix.classify(x, s, sd);
  std::vector<Eigen::LLT<Eigen::MatrixXd>> chol;
  const Eigen::Index d = mix.dimension();
  for (std::size_t k = 0; k < mix.components(); ++k) {
    chol.emplace_back(s * s * mix.covariance(k) + sd * sd * Eigen::MatrixXd::Identity(d, d));
  }
  Eigen::ArrayXd q(x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const std::size_t k = cls[static_cast<std::size_t>(j)];
    const Eigen::VectorXd r = x.col(j) - s * mix.mean(k);
    q(j) = r.dot(chol[k].solve(r));
  }
  return q;
}

/// Samples x against the exact p_t (mean scale s, std sd): means and covariances against the closed
/// form (5 SE each); the mode fractions and the mean within-mode distance (above) against those of an
/// independent exact draw of the same size (two-sample, 5 SE). Returns "" when everything holds, else
/// each failing statistic with its numbers: the negative controls assert that a wrong sampler fails.
inline std::string mixture_mismatch(const sdeflow::gaussian_mixture<>& mix, const Eigen::MatrixXd& x, double s,
                                    double sd) {
  std::ostringstream why;
  const auto test = [&](const std::string& what, double est, double want, double se) {
    if (!(std::fabs(est - want) <= k_sigma * se)) {
      why << what << ": " << est << " vs " << want << ", se " << se << ", z = " << (est - want) / se << "; ";
    }
  };
  const auto n = static_cast<double>(x.cols());
  const Eigen::Index d = mix.dimension();
  const Eigen::VectorXd mean = sdeflow::sample_mean(x);
  const Eigen::MatrixXd cov = sdeflow::sample_covariance(x);
  const Eigen::MatrixXd se = sdeflow::covariance_standard_error(x);
  const Eigen::VectorXd exact_mean = mix.mean(s, sd);
  const Eigen::MatrixXd exact_cov = mix.covariance(s, sd);
  for (Eigen::Index i = 0; i < d; ++i) {
    test("mean " + std::to_string(i), mean(i), exact_mean(i), std::sqrt(exact_cov(i, i) / n));
    for (Eigen::Index j = 0; j <= i; ++j) {
      test("cov " + std::to_string(i) + "," + std::to_string(j), cov(i, j), exact_cov(i, j), se(i, j));
    }
  }
  const Eigen::MatrixXd ref = mix.sample(x.cols(), s, sd, sdeflow::normal_source(4242));
  const auto K = mix.components();
  const auto f = sdeflow::mode_fractions(mix.classify(x, s, sd), K);
  const auto g = sdeflow::mode_fractions(mix.classify(ref, s, sd), K);
  for (std::size_t k = 0; k < K; ++k) {
    const double pk = (f[k] + g[k]) / 2;
    test("mode fraction " + std::to_string(k), f[k], g[k], std::sqrt(std::max(pk * (1 - pk), 1e-12) * 2 / n));
  }
  const Eigen::ArrayXd qx = within_mode_distances(mix, x, s, sd), qr = within_mode_distances(mix, ref, s, sd);
  const auto var = [&](const Eigen::ArrayXd& q) { return (q - q.mean()).square().sum() / (n - 1); };
  test("within-mode distance", qx.mean(), qr.mean(), std::sqrt((var(qx) + var(qr)) / n));
  return why.str();
}

inline void check_matches_mixture(const sdeflow::gaussian_mixture<>& mix, const Eigen::MatrixXd& x, double s, double sd,
                                  const std::string& what = "") {
  const std::string why = mixture_mismatch(mix, x, s, sd);
  INFO(what << ": " << why);
  CHECK(why.empty());
}

}  // namespace sdeflow_test
