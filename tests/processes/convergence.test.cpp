// SPDX-License-Identifier: MIT
// Convergence orders against exact solutions: Euler-Maruyama strong order 1/2 on geometric Brownian
// motion with every level driven by the same fine Brownian path (a band from the slope's standard
// error), and ODE slopes 1, 2, 4 for Euler, Heun and RK4, forwards and backwards in time, on dynamic
// and fixed-size states (deterministic: the slope is exact up to higher-order terms, +-0.1).
#include "support.hpp"

#include <vector>

namespace {

/// Least-squares slope of log(err) against log(h).
double fitted_slope(const std::vector<double>& h, const std::vector<double>& err) {
  const auto n = static_cast<double>(h.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const double lx = std::log(h[i]);
    const double ly = std::log(err[i]);
    sx += lx;
    sy += ly;
    sxx += lx * lx;
    sxy += lx * ly;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

}  // namespace

TEST_CASE("Euler-Maruyama has strong order 1/2 on geometric Brownian motion", "[convergence][statistical]") {
  // dX = 2 X dt + X dW, X_0 = 1 on [0, 1] (the test problem of Higham, SIAM Review 43(3), 2001), every
  // level driven by the same fine path; the slope's band comes from its standard error.
  const sdeflow::geometric_brownian_motion<> gbm(2.0, 1.0);
  const Eigen::Index paths = 2000;
  const std::size_t fine = 1024;
  const std::uint64_t seed = 2001;
  // W(1) of the shared fine path: one "step" of length 1 made of all 1024 fine increments.
  Eigen::MatrixXd W(1, paths);
  sdeflow::brownian_increments(seed, 0, 0, fine).increment(0, 0.0, 1.0, W);
  const Eigen::MatrixXd x0 = Eigen::MatrixXd::Ones(1, paths);
  const Eigen::MatrixXd exact = gbm.exact(x0, 1.0, W);
  const auto est = sdeflow::strong_order(sdeflow::euler_maruyama{}, gbm, x0, 0.0, 1.0, {16, 32, 64, 128, 256}, fine,
                                         seed, exact);
  CHECK_ORDER(est, 0.5);
}

TEMPLATE_TEST_CASE("ODE steppers converge at their order / forwards and backwards", "[convergence]", sdeflow::euler,
                   sdeflow::heun, sdeflow::rk4) {
  const TestType stepper;
  // x' = x cos t, x(0) = 1, exact x(t) = exp(sin t), as a 1 x 3 batch of identical columns.
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double t) { return (x * std::cos(t)).eval(); });
  // x' = A x with A a rotation generator on a fixed-size 2-vector: x(t) = (cos t, -sin t).
  struct rotation {
    void drift(const Eigen::Vector2d& x, double, Eigen::Vector2d& out) const { out << x(1), -x(0); }
  };
  for (bool backwards : {false, true}) {
    std::vector<double> hs, e1, e2;
    for (std::size_t n = 16; n <= 128; n *= 2) {
      const double t0 = backwards ? 2.0 : 0.0;
      const double t1 = backwards ? 0.0 : 2.0;
      const auto grid = sdeflow::time_grid<>::uniform(t0, t1, n);
      Eigen::MatrixXd x = Eigen::MatrixXd::Constant(1, 3, std::exp(std::sin(t0)));
      const auto rep = sdeflow::integrate(stepper, sys, x, grid);
      CHECK(rep.steps == n);
      CHECK(rep.evaluations == n * static_cast<std::size_t>(TestType::evaluations));
      Eigen::Vector2d y(std::cos(t0), -std::sin(t0));
      sdeflow::integrate(stepper, rotation{}, y, grid);
      hs.push_back(2.0 / static_cast<double>(n));
      e1.push_back((x.array() - std::exp(std::sin(t1))).abs().maxCoeff());
      e2.push_back((y - Eigen::Vector2d(std::cos(t1), -std::sin(t1))).norm());
    }
    INFO("order " << TestType::order << (backwards ? " backwards" : " forwards"));
    CHECK(fitted_slope(hs, e1) == Approx(TestType::order).margin(0.1));
    CHECK(fitted_slope(hs, e2) == Approx(TestType::order).margin(0.1));
  }
}
