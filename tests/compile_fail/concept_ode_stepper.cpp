// SPDX-License-Identifier: MIT
// An SDE stepper on an ODE without noise: integrate must reject it naming OdeStepper.
#include "common.hpp"
int main() {
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return x; });
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4));
}
