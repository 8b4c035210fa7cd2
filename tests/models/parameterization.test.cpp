// SPDX-License-Identifier: MIT
// Parameterizations round-trip: the exact (x0, eps) expressed as score, epsilon, data, v or flow
// output and read back by `model` give the same (x0, eps) under every schedule; guidance.
#include "support.hpp"

#include <numbers>

namespace {

template <class P>
void check_round_trips(const P& p, std::initializer_list<double> times) {
  const auto mix = sdeflow::gaussian_mixture<>::ring(4, 2.0, 0.5);
  const auto exact = sdeflow::exact_score(mix, p);
  for (double t : times) {
    const Eigen::MatrixXd x = exact.sample(7, t, sdeflow::normal_source(5));
    const Eigen::MatrixXd x0 = exact.denoise(x, t);
    const Eigen::MatrixXd eps = (x - p.mean_scale(t) * x0) / p.marginal_std(t);
    // Tweedie: the denoiser and the score agree, x0 = (x + sigma^2 score) / s.
    if (p.mean_scale(t) > 0) {
      const Eigen::MatrixXd tweedie = (x + std::pow(p.marginal_std(t), 2) * exact(x, t)) / p.mean_scale(t);
      CHECK((tweedie - x0).cwiseAbs().maxCoeff() < 1e-9);
    }
    for (auto kind : {sdeflow::prediction::score, sdeflow::prediction::epsilon, sdeflow::prediction::data,
                      sdeflow::prediction::v, sdeflow::prediction::flow}) {
      if (p.mean_scale(t) == 0 && (kind == sdeflow::prediction::score || kind == sdeflow::prediction::epsilon)) continue;
      const Eigen::MatrixXd raw = sdeflow::to_prediction(p, kind, x, x0, eps, t);
      const sdeflow::model m(p, [raw](const Eigen::MatrixXd&, double) { return raw; }, kind);
      Eigen::MatrixXd a(2, 7), b(2, 7);
      m.predict(x, t, a, b);
      INFO("prediction " << sdeflow::to_string(kind) << " at t = " << t);
      CHECK((a - x0).cwiseAbs().maxCoeff() < 1e-9 * (1 + x0.cwiseAbs().maxCoeff()));
      CHECK((b - eps).cwiseAbs().maxCoeff() < 1e-9 * (1 + eps.cwiseAbs().maxCoeff()));
    }
  }
}

}  // namespace

TEST_CASE("every parameterization round-trips under VP, VE, sub-VP, EDM and rectified flow", "[parameterization]") {
  check_round_trips(sdeflow::vp_process<>{}, {0.05, 0.5, 0.95});
  check_round_trips(sdeflow::ve_process<>(0.01, 20.0), {0.1, 0.9});
  check_round_trips(sdeflow::sub_vp_process<>{}, {0.1, 0.9});
  check_round_trips(sdeflow::edm_process<>(80.0), {0.05, 3.0, 60.0});
  check_round_trips(sdeflow::rectified_flow<>{}, {0.1, 0.5, 1.0});
}

TEST_CASE("rectified flow: u = eps - x0, x0 = x - t u, eps = x + (1 - t) u", "[parameterization]") {
  const sdeflow::rectified_flow<> rf;
  Eigen::MatrixXd x(2, 1), x0(2, 1), eps(2, 1);
  x << 0.3, -1.0;
  x0 << 1.0, 2.0;
  eps << -0.5, 0.25;
  const double t = 0.4;
  const Eigen::MatrixXd u = sdeflow::to_prediction(rf, sdeflow::prediction::flow, x, x0, eps, t);
  CHECK((u - (eps - x0)).cwiseAbs().maxCoeff() < 1e-15);
  const sdeflow::model m(rf, [u](const Eigen::MatrixXd&, double) { return u; }, sdeflow::prediction::flow);
  Eigen::MatrixXd a(2, 1), b(2, 1);
  m.predict(x, t, a, b);
  CHECK((a - (x - t * u)).cwiseAbs().maxCoeff() < 1e-15);
  CHECK((b - (x + (1 - t) * u)).cwiseAbs().maxCoeff() < 1e-15);
}

TEST_CASE("v-prediction under VP: x0 = s x - sigma v, eps = sigma x + s v", "[parameterization]") {
  const sdeflow::vp_process<> vp;
  const double t = 0.3, s = vp.mean_scale(t), sd = vp.marginal_std(t);
  Eigen::MatrixXd x(1, 1), v(1, 1);
  x << 0.7;
  v << -0.2;
  const sdeflow::model m(vp, [v](const Eigen::MatrixXd&, double) { return v; }, sdeflow::prediction::v);
  Eigen::MatrixXd a(1, 1), b(1, 1);
  m.predict(x, t, a, b);
  CHECK(a(0, 0) == Approx(s * 0.7 - sd * -0.2).epsilon(1e-14));
  CHECK(b(0, 0) == Approx(sd * 0.7 + s * -0.2).epsilon(1e-14));
}

TEST_CASE("classifier-free guidance: w = 0 is the conditional model, the weights combine linearly", "[parameterization]") {
  auto cond = [](const Eigen::MatrixXd& x, double t) { return Eigen::MatrixXd(2.0 * x.array() + t); };
  auto uncond = [](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(-x); };
  Eigen::MatrixXd x(2, 3);
  x << 1, 2, 3, 4, 5, 6;
  const sdeflow::guided g0(cond, uncond, 0.0);
  CHECK((g0(x, 0.5) - cond(x, 0.5)).cwiseAbs().maxCoeff() == 0.0);
  const sdeflow::guided g3(cond, uncond, 3.0);
  CHECK((g3(x, 0.5) - (4.0 * cond(x, 0.5) - 3.0 * uncond(x, 0.5))).cwiseAbs().maxCoeff() < 1e-12);
  // Guided epsilon models plug into a model like any network.
  const sdeflow::vp_process<> vp;
  const sdeflow::model m(vp, g3, sdeflow::prediction::epsilon);
  Eigen::MatrixXd a(2, 3), b(2, 3);
  m.predict(x, 0.5, a, b);
  CHECK((b - g3(x, 0.5)).cwiseAbs().maxCoeff() == 0.0);
  CHECK_THROWS_WITH(sdeflow::guided(cond, uncond, std::nan("")), Catch::Contains("weight = nan"));
}

TEST_CASE("model conversions refuse to divide by zero", "[parameterization][errors]") {
  const sdeflow::rectified_flow<> rf;
  const sdeflow::model m(rf, [](const Eigen::MatrixXd& x, double) { return x; }, sdeflow::prediction::epsilon);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 2), a(2, 2), b(2, 2);
  CHECK_THROWS_WITH(m.predict(x, 1.0, a, b), Catch::Contains("mean_scale(t) = 0"));
  const sdeflow::model bad(rf, [](const Eigen::MatrixXd& y, double) { return Eigen::MatrixXd(y.topRows(1)); },
                           sdeflow::prediction::data);
  CHECK_THROWS_AS(bad.predict(x, 0.5, a, b), sdeflow::dimension_mismatch);
}
