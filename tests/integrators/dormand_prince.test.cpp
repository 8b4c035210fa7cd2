// SPDX-License-Identifier: MIT
// Adaptive Dormand-Prince 5(4): error falls with the tolerance at the method's order, output at
// requested times leaves the step sequence untouched, both directions, clear errors.
#include "support.hpp"

#include <vector>

namespace {
const auto cos_sys = sdeflow::ode([](const Eigen::MatrixXd& x, double t) { return Eigen::MatrixXd(x * std::cos(t)); });
}

TEST_CASE("Dormand-Prince error falls with the tolerance: log error vs log NFE has slope -5", "[dopri]") {
  std::vector<double> nfe, err;
  for (double tol : {1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10}) {
    Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 2);
    const auto rep = sdeflow::integrate_adaptive(cos_sys, x, 0.0, 10.0, {.rtol = tol, .atol = tol});
    const double e = (x.array() - std::exp(std::sin(10.0))).abs().maxCoeff();
    INFO("tol " << tol << " error " << e << " accepted " << rep.accepted << " rejected " << rep.rejected);
    CHECK(e < 50 * tol);  // global error tracks the local tolerance
    CHECK(rep.evaluations == 2 + 6 * (rep.accepted + rep.rejected));
    nfe.push_back(static_cast<double>(rep.evaluations));
    err.push_back(e);
  }
  // Least-squares slope of log(err) on log(NFE): a 5th-order method has err ~ NFE^-5.
  const auto n = static_cast<double>(nfe.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < nfe.size(); ++i) {
    const double lx = std::log(nfe[i]), ly = std::log(err[i]);
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  INFO("slope " << slope);
  CHECK(slope == Approx(-5.0).margin(0.5));
}

TEST_CASE("output at requested times does not change the steps / both directions / fixed-size states", "[dopri]") {
  const sdeflow::dopri5_options opt{.rtol = 1e-9, .atol = 1e-12};
  Eigen::MatrixXd a = Eigen::MatrixXd::Ones(1, 1), b = a;
  const auto plain = sdeflow::integrate_adaptive(cos_sys, a, 0.0, 3.0, opt);
  std::vector<double> times;
  for (int i = 1; i <= 30; ++i) times.push_back(0.1 * i);
  times.back() = 3.0;
  std::vector<double> seen;
  const auto dense = sdeflow::integrate_adaptive(cos_sys, b, 0.0, 3.0, opt, times,
                                                 [&](std::size_t i, double t, const Eigen::MatrixXd& xi) {
                                                   CHECK(t == times[i]);
                                                   // Hermite interpolation is third order: |error| ~ C h^4.
                                                   CHECK(xi(0, 0) == Approx(std::exp(std::sin(t))).epsilon(1e-6));
                                                   seen.push_back(t);
                                                 });
  CHECK(seen.size() == 30);
  CHECK(dense.accepted == plain.accepted);
  CHECK(dense.rejected == plain.rejected);
  CHECK(a(0, 0) == b(0, 0));
  // Backwards from t = 3 to 0 recovers x(0) = 1.
  Eigen::MatrixXd back = Eigen::MatrixXd::Constant(1, 1, std::exp(std::sin(3.0)));
  sdeflow::integrate_adaptive(cos_sys, back, 3.0, 0.0, opt);
  CHECK(back(0, 0) == Approx(1.0).epsilon(1e-8));
  // Fixed-size state: the harmonic oscillator returns to its start after 2 pi.
  struct rotation {
    void drift(const Eigen::Vector2d& x, double, Eigen::Vector2d& out) const { out << x(1), -x(0); }
  };
  Eigen::Vector2d y(1.0, 0.0);
  sdeflow::integrate_adaptive(rotation{}, y, 0.0, 2 * std::numbers::pi, opt);
  CHECK((y - Eigen::Vector2d(1.0, 0.0)).norm() < 1e-8);
}

TEST_CASE("Dormand-Prince honours an observer that returns false, as the fixed-step driver does", "[dopri]") {
  const sdeflow::dopri5_options opt{.rtol = 1e-9, .atol = 1e-12};
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 1);
  std::vector<double> times = {0.5, 1.0, 1.5, 2.0};
  std::size_t calls = 0;
  const auto rep = sdeflow::integrate_adaptive(cos_sys, x, 0.0, 3.0, opt, times,
                                               [&](std::size_t i, double, const Eigen::MatrixXd&) {
                                                 ++calls;
                                                 return i < 1;  // stop at the output time 1.0
                                               });
  CHECK(rep.stopped_early);
  CHECK(calls == 2);
  Eigen::MatrixXd full = Eigen::MatrixXd::Ones(1, 1);
  const auto all = sdeflow::integrate_adaptive(cos_sys, full, 0.0, 3.0, opt);
  CHECK(rep.accepted < all.accepted);
  CHECK_FALSE(all.stopped_early);
}

TEST_CASE("Dormand-Prince stops with a clear error instead of hanging", "[dopri][errors]") {
  // x' = x^2 from 1 blows up at t = 1: the step size collapses before t = 2.
  const auto blowup = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(x.cwiseProduct(x)); });
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 1);
  try {
    sdeflow::integrate_adaptive(blowup, x, 0.0, 2.0, {.rtol = 1e-8, .atol = 1e-8, .dt_min = 1e-10});
    FAIL("expected integration_error");
  } catch (const sdeflow::integration_error& e) {
    CHECK(e.time() == Approx(1.0).margin(1e-3));
    CHECK_THAT(e.what(), Catch::Contains("dt_min"));
  } catch (const sdeflow::non_finite_error&) {
    SUCCEED("the state overflowed before the step size collapsed");
  }
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(1, 1);
  CHECK_THROWS_WITH(sdeflow::integrate_adaptive(cos_sys, y, 0.0, 100.0, {.rtol = 1e-12, .atol = 1e-12, .max_steps = 10}),
                    Catch::Contains("max_steps = 10"));
  CHECK_THROWS_WITH(sdeflow::integrate_adaptive(cos_sys, y, 0.0, 1.0, {.rtol = -1.0}), Catch::Contains("rtol = -1"));
  CHECK_THROWS_WITH(sdeflow::integrate_adaptive(cos_sys, y, 0.0, 1.0, {.safety = 1.5}), Catch::Contains("safety = 1.5"));
  CHECK_THROWS_WITH(sdeflow::integrate_adaptive(cos_sys, y, 0.0, 1.0, {}, {0.5, 0.2}), Catch::Contains("output_times[1] = 0.2"));
  CHECK_THROWS_WITH(sdeflow::integrate_adaptive(cos_sys, y, 0.0, 0.0), Catch::Contains("t1 = 0"));
}

TEST_CASE("dopri5: the starting-step heuristic never evaluates the drift outside [t0, t1]", "[ode][dopri5]") {
  // A large state with a tiny drift makes Hairer's h0 = 0.01 |x| / |f| huge (here 1e4): unclamped, the
  // trial step probed the drift at t0 - h0, where a VP flow is not defined (decode from T = 1 failed).
  for (const auto& [t0, t1] : {std::pair{1.0, 0.0}, std::pair{0.0, 1.0}}) {
    double lo = 1e300, hi = -1e300;
    const auto slow = sdeflow::ode([&](const Eigen::MatrixXd& x, double t) {
      lo = std::min(lo, t);
      hi = std::max(hi, t);
      return Eigen::MatrixXd(1e-6 * x);
    });
    Eigen::MatrixXd x = Eigen::MatrixXd::Constant(2, 1, 100.0);
    const auto rep = sdeflow::integrate_adaptive(slow, x, t0, t1, {.rtol = 1e-9, .atol = 1e-10});
    CHECK(lo >= std::min(t0, t1));
    CHECK(hi <= std::max(t0, t1));
    CHECK(x(0, 0) == Approx(100.0 * std::exp(1e-6 * (t1 - t0))).epsilon(1e-12));
    CHECK(rep.accepted >= 1);
  }
}
