// SPDX-License-Identifier: MIT
#include <sdeflow/sdeflow.hpp>

double odr_b() {
  const auto g = sdeflow::time_grid<>::uniform(0.0, 1.0, 4);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::integrate(sdeflow::rk4{}, sdeflow::ode([](const Eigen::MatrixXd& y, double) { return -y; }), x, g);
  return x(0, 0);
}
