// SPDX-License-Identifier: MIT
// The README's code, compiled and run: sample a Gaussian ring by the reverse SDE and the PF-ODE,
// integrate a user SDE with an observer, and record the trajectory.
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  cli::command cmd("quick_tour",
                   "The README's code, compiled and run: samples a Gaussian ring by the reverse SDE and the PF-ODE,\n"
                   "integrates a user SDE with an observer and records the trajectory.");
  cmd.epilog("Takes no arguments. Exit code 1 when the recorded trajectory disagrees with the run, 2 when given an\n"
             "argument.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  // Data: 8 Gaussians on a circle of radius 4. Forward process: VP with beta from 0.1 to 20.
  auto mix = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  sdeflow::vp_process vp;
  auto score = sdeflow::exact_score(mix, vp);

  // 10,000 samples by the reverse-time SDE, 500 Euler-Maruyama steps from T = 1 down to 1e-3.
  auto grid = sdeflow::uniform_schedule(1.0, 1e-3, 500);
  auto sde = sdeflow::sample_reverse_sde(vp, score, 2, 10000, grid, {.seed = 7});
  const Eigen::MatrixXd x = sde.samples;
  std::printf("reverse SDE: %zu evaluations, sample mean (%.3f, %.3f), exact (0, 0)\n", sde.report.evaluations,
              x.row(0).mean(), x.row(1).mean());

  // The same with the probability-flow ODE and RK4.
  auto ode = sdeflow::sample_probability_flow(vp, score, 2, 10000, sdeflow::uniform_schedule(1.0, 1e-3, 50));
  std::printf("PF-ODE RK4: %zu evaluations, MMD^2 to the exact mixture %.2e\n", ode.report.evaluations,
              sdeflow::mmd_to_mixture(ode.samples.leftCols(2000), mix, vp.mean_scale(1e-3), vp.marginal_std(1e-3), 1.0));

  // Any SDE from lambdas; the observer sees X_0, X_h, ..., X_T.
  auto ou = sdeflow::sde([](const Eigen::MatrixXd& y, double) { return (-y).eval(); },  // drift
                         [](double) { return 0.5; });                                     // g(t)
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(1, 1000);
  std::vector<double> path_of_sample_0;
  auto report = sdeflow::integrate(sdeflow::euler_maruyama{}, ou, y, sdeflow::time_grid<>::uniform(0.0, 1.0, 100),
                                   sdeflow::brownian_increments(/*seed=*/1),
                                   [&](std::size_t, double, const Eigen::MatrixXd& yk) { path_of_sample_0.push_back(yk(0, 0)); });
  std::printf("OU: %zu steps, recorded %zu points, E[x_1] = %.3f (exact %.3f)\n", report.steps, path_of_sample_0.size(),
              y.mean(), std::exp(-1.0));

  // The same run on two threads: bit-identical, since the noise is keyed by sample.
  Eigen::MatrixXd y2 = Eigen::MatrixXd::Ones(1, 1000);
  sdeflow::integrate(sdeflow::execution{.threads = 2}, sdeflow::euler_maruyama{}, ou, y2,
                     sdeflow::time_grid<>::uniform(0.0, 1.0, 100), sdeflow::brownian_increments(/*seed=*/1));
  std::printf("two threads: %s\n", (y2.array() == y.array()).all() ? "bit-identical" : "DIFFERENT");
  return (y2.array() == y.array()).all() ? 0 : 1;
}
