// SPDX-License-Identifier: MIT
// Distances and moments against closed forms.
#include "support.hpp"

#include <numbers>

TEST_CASE("sliced Wasserstein of a translated set is |v| / sqrt(d) in expectation over directions", "[diagnostics]") {
  // Projections of a set and of its translate by v differ by v.theta at every quantile, so
  // SW^2 = mean_l (v.theta_l)^2 exactly; over uniform directions in 2-D, E (v.theta)^2 = |v|^2 / 2 and
  // Var (v.theta)^2 = |v|^4 / 8.
  const Eigen::MatrixXd a = sdeflow::gaussian_mixture<>::ring(3, 1.0, 0.5).sample(500, 1.0, 0.0, sdeflow::normal_source(1));
  const Eigen::Vector2d v(3.0, -1.0);
  const Eigen::MatrixXd b = a.colwise() + v;
  const int L = 2000;
  const double sw = sdeflow::sliced_wasserstein(a, b, L, 5);
  CHECK_WITHIN_SE(sw * sw, v.squaredNorm() / 2, v.squaredNorm() * std::sqrt(1.0 / 8.0 / L));
  CHECK(sdeflow::sliced_wasserstein(a, a, 64) == 0.0);
  // Unequal sizes: a set against itself duplicated is the same distribution exactly.
  Eigen::MatrixXd twice(2, 1000);
  twice << a, a;
  CHECK(sdeflow::sliced_wasserstein(a, twice, 64) < 1e-12);
}

TEST_CASE("MMD: the unbiased estimator by hand on two 1-D sets", "[diagnostics]") {
  // a = {0, 1}, b = {0, 2}, h = 1: within-a pairs k(0,1) = e^{-1/2}; within-b k(0,2) = e^{-2};
  // across: k(0,0) = 1, k(0,2) = e^{-2}, k(1,0) = e^{-1/2}, k(1,2) = e^{-1/2}.
  Eigen::RowVector2d a(0.0, 1.0), b(0.0, 2.0);
  const double expected = std::exp(-0.5) + std::exp(-2.0) - 2 * (1 + std::exp(-2.0) + 2 * std::exp(-0.5)) / 4;
  CHECK(sdeflow::mmd_rbf(a, b, 1.0) == Approx(expected).epsilon(1e-14));
  CHECK_THROWS_WITH(sdeflow::mmd_rbf(a, b, 0.0), Catch::Contains("bandwidth = 0"));
}

TEST_CASE("moments helpers", "[diagnostics]") {
  Eigen::MatrixXd x(2, 4);
  x << 1, 2, 3, 4, 2, 4, 6, 8;
  CHECK(sdeflow::sample_mean(x)(1) == Approx(5.0));
  CHECK(sdeflow::sample_covariance(x)(0, 1) == Approx(10.0 / 3.0));
  const auto f = sdeflow::mode_fractions({0, 1, 1, 2}, 3);
  CHECK(f[1] == Approx(0.5));
  CHECK_THROWS_AS(sdeflow::mode_fractions({0, 3}, 3), sdeflow::invalid_argument);
  CHECK_THROWS_AS(sdeflow::sample_covariance(Eigen::MatrixXd(2, 1)), sdeflow::invalid_argument);
}
