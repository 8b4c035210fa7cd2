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
                                                   // The continuous extension has local error O(h^5).
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

TEST_CASE("Dormand-Prince dense output has local order 5 inside a step, the cubic Hermite 4", "[dopri]") {
  // One accepted step of size h from the exact x(0) = 1 of x' = x cos t (x = exp(sin t)): outputs at
  // theta = 0.3, 0.5, 0.8 of the step. A continuous extension of order 4 has interpolation error
  // O(h^5) there; the cubic Hermite through the same end points and slopes (the mutant, the earlier
  // interpolant) has O(h^4). Tolerances of 1 make every step of size h <= 0.4 acceptable.
  const std::vector<double> thetas = {0.3, 0.5, 0.8};
  std::vector<double> hs, dense_err, hermite_err;
  for (double h : {0.4, 0.2, 0.1, 0.05, 0.025}) {
    const double t0 = 0.2;  // away from a zero of x'''' (near t = 0.7 the Hermite slopes start at 2.6)
    Eigen::MatrixXd x = Eigen::MatrixXd::Constant(1, 1, std::exp(std::sin(t0)));
    const Eigen::MatrixXd x0 = x;
    std::vector<double> times;
    for (double th : thetas) times.push_back(t0 + th * h);
    times.push_back(t0 + h);
    double worst = 0, at_end = 0;
    const auto rep = sdeflow::integrate_adaptive(cos_sys, x, t0, t0 + h, {.rtol = 1, .atol = 1, .dt_initial = h}, times,
                                                 [&](std::size_t i, double t, const Eigen::MatrixXd& xi) {
                                                   if (i < thetas.size()) {
                                                     worst = std::max(worst, std::fabs(xi(0, 0) - std::exp(std::sin(t))));
                                                   } else {
                                                     at_end = xi(0, 0);
                                                   }
                                                 });
    REQUIRE(rep.accepted == 1);
    REQUIRE(rep.rejected == 0);
    CHECK(at_end == x(0, 0));  // theta = 1 is the step's end state, exactly
    // The cubic Hermite on the same step: end states and the FSAL slopes.
    const double k1 = x0(0, 0) * std::cos(t0), k7 = x(0, 0) * std::cos(t0 + h);
    double worst_hermite = 0;
    for (double th : thetas) {
      const double h00 = (1 + 2 * th) * (1 - th) * (1 - th), h10 = th * (1 - th) * (1 - th);
      const double h01 = th * th * (3 - 2 * th), h11 = th * th * (th - 1);
      const double v = h00 * x0(0, 0) + h10 * h * k1 + h01 * x(0, 0) + h11 * h * k7;
      worst_hermite = std::max(worst_hermite, std::fabs(v - std::exp(std::sin(t0 + th * h))));
    }
    hs.push_back(h);
    dense_err.push_back(worst);
    hermite_err.push_back(worst_hermite);
  }
  const auto slope = [&](const std::vector<double>& e) {
    // Least squares of log e on log h (deterministic: no standard errors).
    const std::vector<double> unit(e.size(), 0.0);
    return sdeflow::fit_order(hs, e, unit).slope;
  };
  const double p_dense = slope(dense_err), p_hermite = slope(hermite_err);
  INFO("dense-output slope " << p_dense << ", Hermite slope " << p_hermite << ", errors at h = 0.025: "
                             << dense_err.back() << " vs " << hermite_err.back());
  CHECK(std::fabs(p_dense - 5) < 0.25);
  CHECK(std::fabs(p_hermite - 4) < 0.25);  // the mutant: rejected by the bound above
  CHECK(std::fabs(p_hermite - 5) > 0.25);
  CHECK(dense_err.back() < hermite_err.back() / 10);
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
