// SPDX-License-Identifier: MIT
// samplers::dpm_adaptive: the error follows the tolerance against an independent reference (the
// probability-flow ODE by Dormand-Prince at 1e-12 from the same x_T), the cost grows with the tolerance
// at the rate of the embedded pair's order (NFE ~ tol^{-1/3} for DPM-Solver-3/2, tol^{-1/2} for
// DPM-Solver-2/1: the two bands are disjoint), grid points are hit exactly at little cost, eta > 0
// keeps the marginal of a Gaussian, and bad settings throw naming the setting.
#include "samplers/sampler_support.hpp"

#include <vector>

using X = Eigen::MatrixXd;
namespace smp = sdeflow::samplers;

namespace {

const sdeflow::edm_process<>& edm() {
  static const sdeflow::edm_process<> p(80.0);
  return p;
}

const auto& ring_model() {
  static const auto m = sdeflow_test::exact_model(sdeflow_test::ring(), edm());
  return m;
}

const X& x_T() {
  static const X x = sdeflow::initial_noise(edm(), 2, sdeflow_test::scaled(Eigen::Index{200}, Eigen::Index{50}),
                                            sdeflow::sampler_options<X>{.seed = 21});
  return x;
}

/// k-diffusion's sample_dpm_adaptive(sigma_min = 0.05, sigma_max = 80) as a grid.
const sdeflow::time_grid<> grid = sdeflow::time_grid<>::from_points({80.0, 0.05});

const X& reference() {
  static const X r = sdeflow::flow_map_reference(ring_model(), x_T(), 80.0, 0.05, 1e-12, 1e-12);
  return r;
}

struct run_stats {
  double error;
  double nfe;
};

run_stats run(const smp::dpm_adaptive& s) {
  const auto out = sdeflow::sample(s, ring_model(), x_T(), grid);
  return {sdeflow::flow_map_error(out.samples, reference()), static_cast<double>(out.report.evaluations)};
}

/// Least-squares slope of log y on log x.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> h, e, se(x.size(), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    h.push_back(x[i]);
    e.push_back(y[i]);
  }
  return sdeflow::fit_order(h, e, se).slope;
}

}  // namespace

TEST_CASE("dpm_adaptive: the flow-map error follows the tolerance, the NFE grows at the pair's order",
          "[samplers][dpm_adaptive]") {
  const std::vector<double> tols = {1e-3, 1e-4, 1e-5, 1e-6, 1e-7};
  for (int order : {3, 2}) {
    std::vector<double> err, nfe;
    for (double tol : tols) {
      const auto r = run(smp::dpm_adaptive{.order = order, .rtol = tol, .atol = tol, .max_steps = 100000});
      INFO("order " << order << " tol " << tol << " error " << r.error << " NFE " << r.nfe);
      // The global error tracks the local tolerance (data scale 4: a relative tolerance tol is ~4 tol).
      CHECK(r.error < 40 * tol);
      err.push_back(r.error);
      nfe.push_back(r.nfe);
    }
    // NFE ~ tol^{-1/q}: the error estimate low - high is the lower member's local error, O(h^q) with
    // q = 3 (DPM-Solver-2 in the order-3 pair) or 2 (DPM-Solver-1 in the order-2 pair).
    const double cost = -slope(tols, nfe);
    const double q = order == 3 ? 3.0 : 2.0;
    INFO("order " << order << ": log NFE vs log(1/tol) slope " << cost << ", expected 1/" << q);
    // The bands 1/3 +- 0.06 and 1/2 +- 0.06 are disjoint: the order-2 pair cannot pass as the order-3 one.
    CHECK(std::fabs(cost - 1 / q) < 0.06);
    CHECK(slope(tols, err) > 0.6);  // the error falls with the tolerance
  }
}

TEST_CASE("dpm_adaptive: every grid point is hit, the step size carries over, a last step to sigma = 0 denoises",
          "[samplers][dpm_adaptive]") {
  const smp::dpm_adaptive s{.rtol = 1e-5, .atol = 1e-5};
  const auto fine = sdeflow::time_grid<>::from_points({80.0, 10.0, 1.0, 0.05});
  std::vector<double> seen;
  sdeflow::sampler_options<X> opt;
  opt.observer = [&](std::size_t, double t, const X&) { seen.push_back(t); };
  const auto out = sdeflow::sample(s, ring_model(), x_T(), fine, opt);
  CHECK(seen == std::vector<double>{80.0, 10.0, 1.0, 0.05});
  // The interior grid points cut the steps, not the accuracy, and cost few evaluations (the step size
  // carries over to the next interval; restarting at h_init would cost only a few more, measured 256
  // against 252, since the controller grows h up to 2.6x per step: this bound does not see that).
  CHECK(sdeflow::flow_map_error(out.samples, reference()) < 40 * 1e-5);
  const auto one = sdeflow::sample(s, ring_model(), x_T(), grid);
  INFO("NFE on 3 intervals " << out.report.evaluations << ", on one " << one.report.evaluations);
  CHECK(out.report.evaluations <= one.report.evaluations + 3 * 3 * 3);
  // A final point at sigma = 0: one more evaluation, x = D(x, 0.05), exactly.
  const auto to_zero = sdeflow::sample(s, ring_model(), x_T(), sdeflow::time_grid<>::from_points({80.0, 0.05, 0.0}));
  const auto plain = sdeflow::sample(s, ring_model(), x_T(), grid);
  CHECK(to_zero.report.evaluations == plain.report.evaluations + 1);
  const auto score = sdeflow::exact_score(sdeflow_test::ring(), edm());
  CHECK((to_zero.samples - score.denoise(plain.samples, 0.05)).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("dpm_adaptive with eta = 1 keeps the marginal of a Gaussian", "[samplers][dpm_adaptive][statistical]") {
  // Data N(mu, s0^2 I) under EDM: the marginal at sigma is N(mu, (s0^2 + sigma^2) I), at every sigma and
  // for any eta if each step keeps it. Ancestral steps to sigma_min = 0.05 from sigma = 80.
  const double mu = 1.5, s0 = 0.7;
  const auto gauss = sdeflow::gaussian_mixture<>::gaussian(Eigen::Vector2d(mu, mu), s0 * s0 * Eigen::Matrix2d::Identity());
  const auto m = sdeflow_test::exact_model(gauss, edm());
  const Eigen::Index n = sdeflow_test::scaled(Eigen::Index{20000}, Eigen::Index{5000});
  const X x = sdeflow::initial_noise(edm(), 2, n, sdeflow::sampler_options<X>{.seed = 31});
  // Three intervals: the draws of one interval must not be reused by the next.
  const auto three = sdeflow::time_grid<>::from_points({80.0, 5.0, 0.5, 0.05});
  const auto out = sdeflow::sample(smp::dpm_adaptive{.rtol = 1e-3, .atol = 1e-3, .eta = 1.0}, m, x, three, {.seed = 32});
  const double var = s0 * s0 + 0.05 * 0.05;
  const Eigen::ArrayXd v = (out.samples.array() - mu).square().reshaped();
  const double N = static_cast<double>(v.size());
  CHECK_WITHIN_SE(v.mean(), var, var * std::sqrt(2.0 / N));
  CHECK_WITHIN_SE(out.samples.mean(), mu, std::sqrt(var / N));
  // The deterministic run maps the same x_T close to the flow map; the stochastic one differs.
  const auto det = sdeflow::sample(smp::dpm_adaptive{.rtol = 1e-3, .atol = 1e-3}, m, x, three);
  CHECK((det.samples - out.samples).cwiseAbs().maxCoeff() > 0.1);
}

TEST_CASE("dpm_adaptive: bad settings throw naming the setting, a hopeless tolerance hits max_steps",
          "[samplers][dpm_adaptive][errors]") {
  const auto& m = ring_model();
  const auto bad = [&](const smp::dpm_adaptive& s) { return sdeflow::sample(s, m, x_T(), grid); };
  CHECK_THROWS_WITH(bad({.order = 4}), Catch::Contains("order = 4"));
  CHECK_THROWS_WITH(bad({.atol = 0}), Catch::Contains("atol = 0"));
  CHECK_THROWS_WITH(bad({.rtol = -1}), Catch::Contains("rtol = -1"));
  CHECK_THROWS_WITH(bad({.h_init = 0}), Catch::Contains("h_init = 0"));
  CHECK_THROWS_WITH(bad({.icoeff = 0}), Catch::Contains("icoeff = 0"));
  CHECK_THROWS_WITH(bad({.accept_safety = 1.5}), Catch::Contains("accept_safety = 1.5"));
  CHECK_THROWS_WITH(bad({.eta = 2}), Catch::Contains("eta = 2"));
  CHECK_THROWS_WITH(bad({.max_steps = 0}), Catch::Contains("max_steps = 0"));
  CHECK_THROWS_WITH(bad({.rtol = 1e-14, .atol = 1e-14, .max_steps = 20}), Catch::Contains("max_steps = 20"));
}
