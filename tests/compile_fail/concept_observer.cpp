// SPDX-License-Identifier: MIT
// An observer that takes neither (k, t, x) nor step_info: integrate must reject it naming Observer.
#include "common.hpp"
int main() {
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return x; });
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::integrate(sdeflow::rk4{}, sys, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4), [](const std::string&) {});
}
