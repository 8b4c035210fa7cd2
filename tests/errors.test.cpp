// SPDX-License-Identifier: MIT
// Bad input gets a clear exception naming the argument and its value; nothing silently turns NaN.
#include "support.hpp"

using Catch::Contains;

TEST_CASE("invalid schedule parameters", "[errors]") {
  CHECK_THROWS_WITH(sdeflow::linear_beta<>(0.1, 0.1), Contains("beta_max = 0.1") && Contains("> beta_min"));
  CHECK_THROWS_WITH(sdeflow::linear_beta<>(5.0, 1.0), Contains("beta_max = 1"));
  CHECK_THROWS_WITH(sdeflow::linear_beta<>(-1.0, 1.0), Contains("beta_min = -1"));
  CHECK_THROWS_WITH(sdeflow::linear_beta<>(0.1, 20.0, 0.0), Contains("horizon = 0"));
  CHECK_THROWS_WITH(sdeflow::cosine_beta<>(-0.1), Contains("offset = -0.1"));
  CHECK_THROWS_WITH(sdeflow::cosine_beta<>(0.008, 1.0, 0.0), Contains("max_beta = 0"));
  CHECK_THROWS_WITH(sdeflow::ve_process<>(0.0, 50.0), Contains("sigma_min = 0"));
  CHECK_THROWS_WITH(sdeflow::ve_process<>(-1.0, 50.0), Contains("sigma_min = -1"));
  CHECK_THROWS_WITH(sdeflow::ve_process<>(1.0, 0.5), Contains("sigma_max = 0.5"));
  CHECK_THROWS_WITH(sdeflow::ve_process<>(0.01, std::nan("")), Contains("sigma_max = nan"));
  CHECK_THROWS_WITH(sdeflow::brownian_motion<>(0.0), Contains("scale = 0"));
  CHECK_THROWS_WITH(sdeflow::ornstein_uhlenbeck<>(0.0, 0.0, 1.0), Contains("theta = 0"));
  CHECK_THROWS_WITH(sdeflow::ornstein_uhlenbeck<>(1.0, 0.0, -1.0), Contains("scale = -1"));
  CHECK_THROWS_WITH(sdeflow::geometric_brownian_motion<>(1.0, -0.5), Contains("volatility = -0.5"));
  // All derive from sdeflow::error and from std::invalid_argument.
  CHECK_THROWS_AS(sdeflow::ve_process<>(0.0, 1.0), sdeflow::error);
  CHECK_THROWS_AS(sdeflow::ve_process<>(0.0, 1.0), std::invalid_argument);
}

TEST_CASE("invalid mixtures", "[errors]") {
  using M = sdeflow::gaussian_mixture<>;
  const Eigen::VectorXd m2 = Eigen::Vector2d::Zero();
  const Eigen::MatrixXd I2 = Eigen::Matrix2d::Identity();
  CHECK_THROWS_WITH(M({0.5, 0.6}, {m2, m2}, {I2, I2}), Contains("sum of weights = 1.1"));
  CHECK_THROWS_WITH(M({1.5, -0.5}, {m2, m2}, {I2, I2}), Contains("weights[1] = -0.5"));
  CHECK_THROWS_AS(M({1.0}, {m2, m2}, {I2}), sdeflow::dimension_mismatch);
  CHECK_THROWS_WITH(M({0.5, 0.5}, {m2, Eigen::Vector3d::Zero()}, {I2, I2}), Contains("means[1] has size 3"));
  CHECK_THROWS_WITH(M({1.0}, {m2}, {Eigen::Matrix3d::Identity()}), Contains("covariances[0] is 3 x 3"));
  Eigen::MatrixXd asym(2, 2);
  asym << 1.0, 0.5, 0.0, 1.0;
  CHECK_THROWS_WITH(M({1.0}, {m2}, {asym}), Contains("not symmetric"));
  Eigen::MatrixXd indefinite(2, 2);
  indefinite << 1.0, 2.0, 2.0, 1.0;
  CHECK_THROWS_WITH(M({1.0}, {m2}, {indefinite}), Contains("smallest eigenvalue -0.99"));
  CHECK_THROWS_WITH(M::ring(0, 1.0, 0.1), Contains("modes = 0"));
  CHECK_THROWS_WITH(M::ring(4, 1.0, 0.0), Contains("std = 0"));
}

TEST_CASE("mismatched dimensions between process / score / model and state", "[errors]") {
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(sdeflow::gaussian_mixture<>::ring(4, 1.0, 0.2), vp);  // d = 2
  Eigen::MatrixXd x3 = Eigen::MatrixXd::Ones(3, 5);
  CHECK_THROWS_AS(score(x3, 0.5), sdeflow::dimension_mismatch);
  CHECK_THROWS_WITH(score(x3, 0.5), Contains("x has 3 rows but the mixture has dimension 2"));
  // Through the samplers: a 3-D start for a 2-D score.
  const auto grid = sdeflow::time_grid<>::uniform(1.0, 1e-3, 10);
  CHECK_THROWS_AS(sdeflow::sample_reverse_sde(vp, score, 3, 10, grid), sdeflow::dimension_mismatch);
  CHECK_THROWS_AS(sdeflow::sample_probability_flow(vp, score, x3, grid), sdeflow::dimension_mismatch);
  // A user score that returns the wrong shape is caught before it resizes anything.
  const sdeflow::reverse_sde bad(vp, [](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(x.rows() + 1, x.cols()); });
  Eigen::MatrixXd x2 = Eigen::MatrixXd::Ones(2, 5);
  CHECK_THROWS_WITH(sdeflow::integrate(sdeflow::euler_maruyama{}, bad, x2, sdeflow::time_grid<>::uniform(1.0, 0.1, 4),
                                       sdeflow::brownian_increments(1)),
                    Contains("score returned a 3 x 5 result for a 2 x 5 state"));
  const auto bad_ode = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(x.transpose()); });
  CHECK_THROWS_AS(sdeflow::integrate(sdeflow::rk4{}, bad_ode, x2, sdeflow::time_grid<>::uniform(0.0, 1.0, 2)),
                  sdeflow::dimension_mismatch);
  // Distances between sets of different dimension.
  CHECK_THROWS_AS(sdeflow::sliced_wasserstein(x2, x3), sdeflow::dimension_mismatch);
}

TEST_CASE("invalid sampling requests", "[errors]") {
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(sdeflow::gaussian_mixture<>::ring(4, 1.0, 0.2), vp);
  using grid = sdeflow::time_grid<>;
  CHECK_THROWS_WITH(sdeflow::sample_reverse_sde(vp, score, 2, 10, grid::uniform(1.0, 1.0, 10)), Contains("1"));
  CHECK_THROWS_WITH(sdeflow::sample_reverse_sde(vp, score, 2, 10, grid::uniform(1.0, -0.1, 10)), Contains("grid.back() = -0.1"));
  CHECK_THROWS_WITH(sdeflow::sample_reverse_sde(vp, score, 2, 10, grid::uniform(2.0, 0.1, 10)), Contains("grid.front() = 2"));
  CHECK_THROWS_WITH(sdeflow::sample_probability_flow(vp, score, 2, 10, grid::uniform(0.1, 1.0, 10)), Contains("grid.back() = 1"));
  CHECK_THROWS_WITH(sdeflow::sample_probability_flow(vp, score, 2, 10, grid::uniform(1.0, 0.0, 0)), Contains("steps = 0"));
  CHECK_THROWS_WITH(sdeflow::sample_reverse_sde(vp, score, 0, 10, grid::uniform(1.0, 0.0, 4)), Contains("d = 0"));
  CHECK_THROWS_WITH(sdeflow::sample_reverse_sde(vp, score, 2, -1, grid::uniform(1.0, 0.0, 4)), Contains("n = -1"));
}

TEST_CASE("a state that becomes non-finite is reported with its step and time", "[errors]") {
  // dx/dt = x^2 from x = 1 blows up at t = 1; Euler with h = 0.5 overflows within a few steps.
  const auto blowup = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return x.cwiseProduct(x); });
  Eigen::MatrixXd x = Eigen::MatrixXd::Constant(1, 1, 1e100);
  try {
    sdeflow::integrate(sdeflow::euler{}, blowup, x, sdeflow::time_grid<>::uniform(0.0, 5.0, 10));
    FAIL("expected non_finite_error");
  } catch (const sdeflow::non_finite_error& e) {
    CHECK(e.step() == 2);
    CHECK(e.time() == Approx(1.0));
    CHECK_THAT(e.what(), Contains("step 2") && Contains("t = 1"));
  }
  Eigen::MatrixXd nan0 = Eigen::MatrixXd::Constant(1, 1, std::nan(""));
  CHECK_THROWS_AS(sdeflow::integrate(sdeflow::euler{}, blowup, nan0, sdeflow::time_grid<>::uniform(0.0, 1.0, 2)),
                  sdeflow::non_finite_error);
  // A score returning NaN is caught at the step that used it, not passed on.
  const sdeflow::vp_process<> vp;
  const sdeflow::reverse_sde nan_score(vp, [](const Eigen::MatrixXd& y, double t) {
    return Eigen::MatrixXd(t < 0.5 ? Eigen::MatrixXd::Constant(y.rows(), y.cols(), std::nan("")) : Eigen::MatrixXd(-y));
  });
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(2, 3);
  CHECK_THROWS_AS(sdeflow::integrate(sdeflow::euler_maruyama{}, nan_score, y, sdeflow::time_grid<>::uniform(1.0, 0.0, 10),
                                     sdeflow::brownian_increments(1)),
                  sdeflow::non_finite_error);
}
