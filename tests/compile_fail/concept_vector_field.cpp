// SPDX-License-Identifier: MIT
// A drift that returns a scalar: the user system must reject it naming VectorField.
#include "common.hpp"
int main() {
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return x.sum(); });
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::integrate(sdeflow::rk4{}, sys, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4));
}
