// SPDX-License-Identifier: MIT
// Brownian increments against the defining properties: W(t) - W(s) ~ N(0, c^2 (t - s)), independent
// increments, quadratic variation -> c^2 t.
#include "support.hpp"

#include <vector>

TEST_CASE("Brownian increments: mean 0 / variance t - s / independent / in both time directions", "[brownian]") {
  const double c = 1.5;
  const sdeflow::brownian_motion<> bm(c);
  const Eigen::Index n = 40000;
  const std::size_t steps = 64;
  for (bool backwards : {false, true}) {
    const auto grid = backwards ? sdeflow::time_grid<>::uniform(1.0, 0.0, steps) : sdeflow::time_grid<>::uniform(0.0, 1.0, steps);
    Eigen::MatrixXd x = Eigen::MatrixXd::Zero(1, n);
    std::vector<Eigen::RowVectorXd> at;  // W at k = 16, 32, 64
    sdeflow::integrate(sdeflow::euler_maruyama{}, bm, x, grid, sdeflow::brownian_increments(99),
                       [&](std::size_t k, double, const Eigen::MatrixXd& w) {
                         if (k == 16 || k == 32 || k == 64) at.push_back(w.row(0));
                       });
    REQUIRE(at.size() == 3);
    const double N = static_cast<double>(n);
    const Eigen::RowVectorXd d1 = at[0];           // increment over |t| = 0.25
    const Eigen::RowVectorXd d2 = at[1] - at[0];   // over 0.25
    const Eigen::RowVectorXd d3 = at[2] - at[1];   // over 0.5
    for (auto [d, len] : {std::pair{d1, 0.25}, std::pair{d2, 0.25}, std::pair{d3, 0.5}}) {
      const double var = c * c * len;
      CHECK_WITHIN_SE(d.mean(), 0.0, std::sqrt(var / N));
      CHECK_WITHIN_SE(d.array().square().mean(), var, var * std::sqrt(2.0 / N));
    }
    // Independence: products of disjoint increments have mean 0 with SE sqrt(v1 v2 / N).
    CHECK_WITHIN_SE((d1.array() * d2.array()).mean(), 0.0, c * c * 0.25 / std::sqrt(N));
    CHECK_WITHIN_SE((d2.array() * d3.array()).mean(), 0.0, c * c * std::sqrt(0.25 * 0.5) / std::sqrt(N));
    // Squares of disjoint increments are uncorrelated too (independence, not only zero correlation).
    const double cov_sq = ((d1.array().square() - c * c * 0.25) * (d3.array().square() - c * c * 0.5)).mean();
    CHECK_WITHIN_SE(cov_sq, 0.0, 2.0 * c * c * c * c * 0.25 * 0.5 / std::sqrt(N));
  }
}

TEST_CASE("quadratic variation of a Brownian path converges to c^2 t", "[brownian]") {
  const double c = 0.7;
  const double T = 2.0;
  const std::size_t steps = 1 << 16;
  const sdeflow::brownian_motion<> bm(c, T);
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(1, 4);
  Eigen::MatrixXd prev = x;
  Eigen::RowVectorXd qv = Eigen::RowVectorXd::Zero(4);
  sdeflow::integrate(sdeflow::euler_maruyama{}, bm, x, sdeflow::time_grid<>::uniform(0.0, T, steps),
                     sdeflow::brownian_increments(5), [&](std::size_t, double, const Eigen::MatrixXd& w) {
                       qv += (w - prev).row(0).array().square().matrix();
                       prev = w;
                     });
  // sum of N squared N(0, c^2 T/N) values: mean c^2 T, standard deviation c^2 T sqrt(2/N).
  for (Eigen::Index j = 0; j < 4; ++j) {
    CHECK_WITHIN_SE(qv(j), c * c * T, c * c * T * std::sqrt(2.0 / static_cast<double>(steps)));
  }
}
