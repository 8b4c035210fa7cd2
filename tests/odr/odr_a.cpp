// SPDX-License-Identifier: MIT
#include <sdeflow/sdeflow.hpp>

double odr_b();

double odr_a() {
  const auto g = sdeflow::time_grid<>::uniform(0.0, 1.0, 4);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::integrate(sdeflow::rk4{}, sdeflow::ode([](const Eigen::MatrixXd& y, double) { return -y; }), x, g);
  return x(0, 0);
}

int main() {
  // Both translation units instantiate the same templates; the linker must keep one copy and both agree.
  return odr_a() == odr_b() ? 0 : 1;
}
