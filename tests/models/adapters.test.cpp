// SPDX-License-Identifier: MIT
// Epsilon- and data-prediction adapters: fed the exact optimal models of a mixture, they return the
// exact score; the parameterizations round-trip.
#include "support.hpp"

TEST_CASE("epsilon and denoiser models of a mixture give back its exact score", "[adapters]") {
  const auto mix = sdeflow::gaussian_mixture<>::ring(4, 2.0, 0.5);
  const sdeflow::vp_process<> vp;
  const auto exact = sdeflow::exact_score(mix, vp);
  // The optimal models: eps*(x, t) = -sigma score, D*(x, t) = (x + sigma^2 score) / s (Tweedie).
  auto eps_model = [&](const Eigen::MatrixXd& x, double t) -> Eigen::MatrixXd {
    return -vp.marginal_std(t) * exact(x, t);
  };
  auto x0_model = [&](const Eigen::MatrixXd& x, double t) -> Eigen::MatrixXd {
    const double sd = vp.marginal_std(t);
    return (x + sd * sd * exact(x, t)) / vp.mean_scale(t);
  };
  const auto from_eps = sdeflow::epsilon_score(vp, eps_model);
  const auto from_x0 = sdeflow::denoiser_score(vp, x0_model);
  static_assert(sdeflow::ScoreFunction<decltype(from_eps), Eigen::MatrixXd>);
  static_assert(sdeflow::ScoreFunction<decltype(from_x0), Eigen::MatrixXd>);
  const Eigen::MatrixXd x = exact.sample(20, 0.5, sdeflow::normal_source(3));
  for (double t : {0.01, 0.2, 0.5, 0.9}) {
    const Eigen::MatrixXd ref = exact(x, t);
    CHECK((from_eps(x, t) - ref).cwiseAbs().maxCoeff() <= 1e-12 * (1 + ref.cwiseAbs().maxCoeff()));
    CHECK((from_x0(x, t) - ref).cwiseAbs().maxCoeff() <= 1e-9 * (1 + ref.cwiseAbs().maxCoeff()));
  }
}

TEST_CASE("adapters reject sigma(t) = 0 and wrongly shaped model outputs", "[adapters][errors]") {
  const sdeflow::vp_process<> vp;
  const auto eps = sdeflow::epsilon_score(vp, [](const Eigen::MatrixXd& x, double) { return x; });
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  CHECK_THROWS_WITH(eps(x, 0.0), Catch::Contains("marginal_std(t) = 0"));
  const auto bad = sdeflow::denoiser_score(vp, [](const Eigen::MatrixXd& y, double) { return Eigen::MatrixXd(y.topRows(1)); });
  CHECK_THROWS_AS(bad(x, 0.5), sdeflow::dimension_mismatch);
  CHECK_THROWS_WITH(bad(x, 0.5), Catch::Contains("returned a 1 x 3 result for a 2 x 3 state"));
}
