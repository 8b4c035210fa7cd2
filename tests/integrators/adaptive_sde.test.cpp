// SPDX-License-Identifier: MIT
// Adaptive SDE stepping on the Brownian tree: rejected steps do not change the path, the error falls with
// the tolerance, and the limits end the run with clear errors.
#include "support.hpp"

#include <vector>

namespace {
/// The grid an adaptive run took, with each accepted step split in its two half steps.
std::vector<double> half_step_grid(const std::vector<double>& times) {
  std::vector<double> grid = {times[0]};
  for (std::size_t k = 1; k < times.size(); ++k) {
    grid.push_back((times[k - 1] + times[k]) / 2);
    grid.push_back(times[k]);
  }
  return grid;
}
const auto sys = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(-(x.array() + (3 * x.array()).sin())); },
                              [](double) { return 1.5; });
}

TEST_CASE("adaptive SDE: a replay on the accepted grid reproduces the run / rejections leave the path alone", "[adaptive_sde]") {
  sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 17);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 200);
  std::vector<double> times;
  const auto rep = sdeflow::integrate_sde_adaptive(sdeflow::sra1{}, sys, x, 0.0, 1.0, tree, {.rtol = 1e-4, .atol = 1e-4},
                                                   [&](std::size_t, double t, const Eigen::MatrixXd&) { times.push_back(t); });
  INFO("accepted " << rep.accepted << " rejected " << rep.rejected);
  CHECK(rep.rejected > 0);  // the controller did reject steps here
  CHECK(times.back() == Approx(1.0));
  // Each accepted step is two half steps: replay them on a fixed grid with the same tree.
  const std::vector<double> grid = half_step_grid(times);
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(1, 200);
  sdeflow::integrate(sdeflow::sra1{}, sys, y, sdeflow::time_grid<>::from_points(grid), sdeflow::brownian_tree(tree));
  CHECK((x - y).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("adaptive SDE runs backwards: a reverse-time run replays on its accepted grid, the observer stops it",
          "[adaptive_sde]") {
  sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 19);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 100);
  std::vector<double> times;
  const auto rep = sdeflow::integrate_sde_adaptive(sdeflow::sra1{}, sys, x, 1.0, 0.0, tree, {.rtol = 1e-4, .atol = 1e-4},
                                                   [&](std::size_t, double t, const Eigen::MatrixXd&) { times.push_back(t); });
  CHECK(rep.accepted > 4);
  CHECK(times.front() == 1.0);
  CHECK(times.back() == Approx(0.0).margin(1e-9));
  for (std::size_t k = 1; k < times.size(); ++k) CHECK(times[k] < times[k - 1]);
  const std::vector<double> grid = half_step_grid(times);
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(1, 100);
  sdeflow::integrate(sdeflow::sra1{}, sys, y, sdeflow::time_grid<>::from_points(grid), sdeflow::brownian_tree(tree));
  CHECK((x - y).cwiseAbs().maxCoeff() < 1e-12);
  Eigen::MatrixXd z = Eigen::MatrixXd::Ones(1, 100);
  const auto stopped = sdeflow::integrate_sde_adaptive(sdeflow::sra1{}, sys, z, 1.0, 0.0, tree, {.rtol = 1e-4, .atol = 1e-4},
                                                       [](std::size_t k, double, const Eigen::MatrixXd&) { return k < 3; });
  CHECK(stopped.accepted == 3);
  CHECK(stopped.stopped_early);
}

TEST_CASE("adaptive SDE: the strong error falls as the tolerance tightens", "[adaptive_sde][convergence]") {
  sdeflow::brownian_tree tree(0.0, 1.0, 1.0 / (1 << 16), 23);
  Eigen::MatrixXd ref = Eigen::MatrixXd::Ones(1, 500);
  sdeflow::integrate(sdeflow::sra1{}, sys, ref, sdeflow::time_grid<>::uniform(0.0, 1.0, 1 << 14), sdeflow::brownian_tree(tree));
  std::vector<double> errors;
  for (double tol : {1e-2, 1e-3, 1e-4}) {
    Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 500);
    const auto rep = sdeflow::integrate_sde_adaptive(sdeflow::sra1{}, sys, x, 0.0, 1.0, tree, {.rtol = tol, .atol = tol});
    errors.push_back((x - ref).cwiseAbs().mean());
    INFO("tol " << tol << " error " << errors.back() << " accepted " << rep.accepted << " rejected " << rep.rejected);
  }
  // Local error control at order 1.5 gives a global error ~ tol^{1.5/2}: about 5.6x per decade; ask 3x.
  CHECK(errors[1] < errors[0] / 3);
  CHECK(errors[2] < errors[1] / 3);
}

TEST_CASE("adaptive SDE: dt_min and max_steps end the run with a clear error", "[adaptive_sde][errors]") {
  sdeflow::brownian_tree coarse(0.0, 1.0, 1e-3, 5);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 50);
  CHECK_THROWS_WITH(sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, sys, x, 0.0, 1.0, coarse, {.rtol = 1e-12, .atol = 1e-12}),
                    Catch::Contains("dt_min"));
  sdeflow::brownian_tree fine(0.0, 1.0, 1e-6, 5);
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(1, 50);
  CHECK_THROWS_WITH(sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, sys, y, 0.0, 1.0, fine,
                                                    {.rtol = 1e-6, .atol = 1e-6, .max_steps = 5}),
                    Catch::Contains("max_steps = 5"));
  CHECK_THROWS_WITH(sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, sys, y, 0.0, 1.0, fine, {.rtol = -1.0}),
                    Catch::Contains("rtol = -1"));
}
