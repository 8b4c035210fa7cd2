// SPDX-License-Identifier: MIT
#pragma once
// Ground-truth mixtures and exact models shared by the sampler tests.
#include "support.hpp"

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

/// Samples x against the exact p_t (mean scale s, std sd): means, covariances (5 SE each) and the
/// mode fractions against those of an independent exact draw of the same size (two-sample 5 SE).
inline void check_matches_mixture(const sdeflow::gaussian_mixture<>& mix, const Eigen::MatrixXd& x, double s, double sd) {
  const auto n = static_cast<double>(x.cols());
  const Eigen::Index d = mix.dimension();
  const Eigen::VectorXd mean = sdeflow::sample_mean(x);
  const Eigen::MatrixXd cov = sdeflow::sample_covariance(x);
  const Eigen::MatrixXd se = sdeflow::covariance_standard_error(x);
  const Eigen::VectorXd exact_mean = mix.mean(s, sd);
  const Eigen::MatrixXd exact_cov = mix.covariance(s, sd);
  for (Eigen::Index i = 0; i < d; ++i) {
    INFO("mean " << i);
    CHECK_WITHIN_SE(mean(i), exact_mean(i), std::sqrt(exact_cov(i, i) / n));
    for (Eigen::Index j = 0; j <= i; ++j) {
      INFO("cov " << i << "," << j);
      CHECK_WITHIN_SE(cov(i, j), exact_cov(i, j), se(i, j));
    }
  }
  const Eigen::MatrixXd ref = mix.sample(x.cols(), s, sd, sdeflow::normal_source(4242));
  const auto K = mix.components();
  const auto f = sdeflow::mode_fractions(mix.classify(x, s, sd), K);
  const auto g = sdeflow::mode_fractions(mix.classify(ref, s, sd), K);
  for (std::size_t k = 0; k < K; ++k) {
    const double pk = (f[k] + g[k]) / 2;
    INFO("mode " << k);
    CHECK_WITHIN_SE(f[k], g[k], std::sqrt(std::max(pk * (1 - pk), 1e-12) * 2 / n));
  }
}

}  // namespace sdeflow_test
