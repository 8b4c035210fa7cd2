// SPDX-License-Identifier: MIT
#include <sdeflow/sdeflow.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>

int main() {
  // dx/dt = -x from 1 over [0, 1] with RK4: x(1) = e^{-1} to about 1e-8 with 20 steps.
  Eigen::VectorXd x = Eigen::VectorXd::Ones(1);
  sdeflow::integrate(sdeflow::rk4{}, sdeflow::ode([](const Eigen::VectorXd& y, double) { return -y; }), x,
                     sdeflow::time_grid<>::uniform(0.0, 1.0, 20));
  const double err = std::fabs(x(0) - std::exp(-1.0));
  std::printf("consumer: sdeflow %s, x(1) = %.12f, error %.3g\n", SDEFLOW_VERSION_STRING, x(0), err);
#ifdef SDEFLOW_PACKAGE_VERSION
  // Built through find_package or pkg-config: the package says the version the header says.
  if (std::strcmp(SDEFLOW_PACKAGE_VERSION, SDEFLOW_VERSION_STRING) != 0) {
    std::printf("consumer: the package's version %s is not the header's %s\n", SDEFLOW_PACKAGE_VERSION, SDEFLOW_VERSION_STRING);
    return 1;
  }
#endif
  return err < 1e-6 ? 0 : 1;
}
