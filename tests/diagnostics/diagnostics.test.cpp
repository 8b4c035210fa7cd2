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

TEST_CASE("mixture_kernel_mean matches quadrature of k(x, y) p_t(y)", "[diagnostics]") {
  const sdeflow::gaussian_mixture<> m({0.4, 0.6}, {Eigen::VectorXd::Constant(1, -1.0), Eigen::VectorXd::Constant(1, 2.0)},
                                      {Eigen::MatrixXd::Constant(1, 1, 0.3), Eigen::MatrixXd::Constant(1, 1, 0.8)});
  const double s = 0.9, sigma = 0.4, h = 0.7;
  Eigen::RowVectorXd x(4);
  x << -3.0, 0.0, 0.5, 2.5;
  const Eigen::RowVectorXd closed = sdeflow::mixture_kernel_mean(x, m, s, sigma, h);
  const Eigen::RowVectorXd y = Eigen::RowVectorXd::LinSpaced(200001, -20.0, 20.0);
  const Eigen::RowVectorXd py = m.log_density(y, s, sigma).array().exp();
  const double dy = y(1) - y(0);
  for (Eigen::Index j = 0; j < 4; ++j) {
    const double quad = dy * (py.array() * (-(y.array() - x(j)).square() / (2 * h * h)).exp()).sum();
    CHECK(closed(j) == Approx(quad).epsilon(1e-9));
  }
}

TEST_CASE("mmd_to_mixture is unbiased: 0 for exact draws and the closed form for a shift", "[diagnostics][statistical]") {
  // One Gaussian N(0, I_2) as the target; batches of exact draws, and of draws shifted by m = (1, 0).
  // For N(0, I) vs N(m, I) in d = 2: MMD^2 = 2 h^2 / (h^2 + 2) (1 - exp(-|m|^2 / (2 (h^2 + 2)))).
  const auto g = sdeflow::gaussian_mixture<>::gaussian(Eigen::Vector2d::Zero(), Eigen::Matrix2d::Identity());
  const double h = 1.0;
  const int batches = 40;
  Eigen::ArrayXd same(batches), shifted(batches);
  for (int b = 0; b < batches; ++b) {
    const Eigen::MatrixXd x = g.sample(250, 1.0, 0.0, sdeflow::normal_source(100 + static_cast<std::uint64_t>(b)));
    same(b) = sdeflow::mmd_to_mixture(x, g, 1.0, 0.0, h);
    shifted(b) = sdeflow::mmd_to_mixture((x.colwise() + Eigen::Vector2d(1.0, 0.0)).eval(), g, 1.0, 0.0, h);
  }
  auto se = [&](const Eigen::ArrayXd& a) { return std::sqrt((a - a.mean()).square().sum() / (batches - 1) / batches); };
  CHECK_WITHIN_SE(same.mean(), 0.0, se(same));
  const double expected = 2 * h * h / (h * h + 2) * (1 - std::exp(-1.0 / (2 * (h * h + 2))));
  CHECK_WITHIN_SE(shifted.mean(), expected, se(shifted));
  CHECK(expected > 10 * se(shifted));  // the check has power: the shift is far outside the noise
}
