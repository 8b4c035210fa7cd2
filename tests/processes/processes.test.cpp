// SPDX-License-Identifier: MIT
// Forward processes: the closed-form schedules are self-consistent (f = (s'/s) x, g^2 = d sigma^2/dt -
// 2 (s'/s) sigma^2, checked by finite differences), match independent formulas, and simulation of
// the forward SDE reproduces the closed-form marginals.
#include "support.hpp"

#include <numbers>

namespace {

template <class P>
void check_affine_identities(const P& p, double t_max) {
  for (int i = 1; i <= 40; ++i) {
    const double t = t_max * i / 41.0;
    const double e = 1e-6 * p.horizon();
    const double s = p.mean_scale(t);
    const double v = p.marginal_std(t) * p.marginal_std(t);
    const double ds = (p.mean_scale(t + e) - p.mean_scale(t - e)) / (2 * e);
    const double dv = (std::pow(p.marginal_std(t + e), 2) - std::pow(p.marginal_std(t - e), 2)) / (2 * e);
    INFO("t = " << t);
    CHECK(p.drift_rate(t) == Approx(ds / s).epsilon(1e-6).margin(1e-8));
    const double g2 = dv - 2 * p.drift_rate(t) * v;
    CHECK(p.diffusion(t) * p.diffusion(t) == Approx(g2).epsilon(1e-6).margin(1e-8));
  }
}

template <class P>
void check_marginals_by_simulation(const P& p, std::uint64_t seed) {
  // x_0 = (1, -2) in every column; forward EM with 1000 steps; compare at T/2 and T with the formulas.
  const Eigen::Index n = 20000;
  Eigen::MatrixXd x(2, n);
  x.row(0).setConstant(1.0);
  x.row(1).setConstant(-2.0);
  const Eigen::Vector2d x0(1.0, -2.0);
  const double N = static_cast<double>(n);
  sdeflow::integrate(sdeflow::euler_maruyama{}, p, x, sdeflow::time_grid<>::uniform(0.0, p.horizon(), 1000),
                     sdeflow::brownian_increments(seed), [&](std::size_t k, double t, const Eigen::MatrixXd& xt) {
                       if (k != 500 && k != 1000) return;
                       const double s = p.mean_scale(t);
                       const double sd = p.marginal_std(t);
                       const Eigen::VectorXd m = sdeflow::sample_mean(xt);
                       const Eigen::MatrixXd c = sdeflow::sample_covariance(xt);
                       INFO("t = " << t);
                       for (int i = 0; i < 2; ++i) {
                         CHECK_WITHIN_SE(m(i), s * x0(i), sd / std::sqrt(N));
                         CHECK_WITHIN_SE(c(i, i), sd * sd, sd * sd * std::sqrt(2.0 / N));
                       }
                       CHECK_WITHIN_SE(c(0, 1), 0.0, sd * sd / std::sqrt(N));
                     });
}

}  // namespace

TEST_CASE("VP / sub-VP / VE and Brownian schedules satisfy the affine identities", "[processes]") {
  check_affine_identities(sdeflow::vp_process<>{}, 1.0);
  check_affine_identities(sdeflow::vp_process{sdeflow::linear_beta<>(0.5, 5.0, 2.0)}, 2.0);
  check_affine_identities(sdeflow::vp_process{sdeflow::cosine_beta<>{}}, 1.0);
  check_affine_identities(sdeflow::vp_process{sdeflow::cosine_beta<>(0.008, 1.0, 50.0)}, 1.0);
  check_affine_identities(sdeflow::sub_vp_process<>{}, 1.0);
  check_affine_identities(sdeflow::sub_vp_process{sdeflow::cosine_beta<>{}}, 1.0);
  check_affine_identities(sdeflow::ve_process<>(0.01, 50.0), 1.0);
  check_affine_identities(sdeflow::ve_process<>(0.1, 5.0, 3.0), 3.0);
  check_affine_identities(sdeflow::brownian_motion<>(0.7, 2.0), 2.0);
}

TEST_CASE("schedules match their published closed forms", "[processes]") {
  const sdeflow::vp_process<> vp;  // beta 0.1 .. 20 (Song et al. 2021)
  // B(1) = 0.1 + 19.9 / 2 = 10.05.
  CHECK(vp.mean_scale(1.0) == Approx(std::exp(-10.05 / 2)).epsilon(1e-14));
  CHECK(vp.marginal_std(1.0) == Approx(std::sqrt(1 - std::exp(-10.05))).epsilon(1e-14));
  CHECK(vp.mean_scale(0.0) == 1.0);
  CHECK(vp.marginal_std(0.0) == 0.0);
  CHECK(vp.diffusion(0.5) == Approx(std::sqrt(0.1 + 0.5 * 19.9)).epsilon(1e-14));
  // Cosine (Nichol & Dhariwal 2021): abar(t) = f(t)/f(0), f(t) = cos^2((t + 0.008)/1.008 * pi/2).
  const sdeflow::vp_process cos{sdeflow::cosine_beta<>{}};
  auto f = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * std::numbers::pi / 2), 2); };
  const double t_star = cos.schedule().clip_time();
  CHECK(t_star == Approx(0.998).margin(1e-4));
  for (double t : {0.0, 0.1, 0.5, 0.9, 0.99, 0.997}) {
    CHECK(cos.mean_scale(t) == Approx(std::sqrt(f(t) / f(0))).epsilon(1e-12));
    CHECK(cos.marginal_std(t) == Approx(std::sqrt(1 - f(t) / f(0))).epsilon(1e-12));
  }
  // Past t* beta is held at the cap and B continues linearly: s(1) = s(t*) exp(-1000 (1 - t*) / 2).
  CHECK(cos.diffusion(1.0) == Approx(std::sqrt(1000.0)));
  CHECK(cos.mean_scale(1.0) == Approx(std::sqrt(f(t_star) / f(0)) * std::exp(-500.0 * (1 - t_star))).epsilon(1e-9));
  // sub-VP: sigma = 1 - exp(-B).
  const sdeflow::sub_vp_process<> svp;
  CHECK(svp.marginal_std(1.0) == Approx(1 - std::exp(-10.05)).epsilon(1e-14));
  // VE: sigma_ve(t) = smin (smax/smin)^t, exact variance sigma_ve^2 - smin^2.
  const sdeflow::ve_process<> ve(0.01, 50.0);
  CHECK(ve.noise_level(0.5) == Approx(0.01 * std::sqrt(5000.0)).epsilon(1e-14));
  CHECK(ve.marginal_std(1.0) == Approx(std::sqrt(2500.0 - 1e-4)).epsilon(1e-14));
  CHECK(ve.marginal_std(0.0) == 0.0);
  CHECK(ve.diffusion(0.3) == Approx(ve.noise_level(0.3) * std::sqrt(2 * std::log(5000.0))).epsilon(1e-14));
}

TEST_CASE("forward simulation reproduces the VP / sub-VP and VE marginals", "[processes][statistical]") {
  SECTION("VP linear") { check_marginals_by_simulation(sdeflow::vp_process<>{}, 1); }
  SECTION("VP cosine") { check_marginals_by_simulation(sdeflow::vp_process{sdeflow::cosine_beta<>(0.008, 1.0, 50.0)}, 2); }
  SECTION("sub-VP") { check_marginals_by_simulation(sdeflow::sub_vp_process<>{}, 3); }
  SECTION("VE") { check_marginals_by_simulation(sdeflow::ve_process<>(0.01, 10.0), 4); }
}

TEST_CASE("Ornstein-Uhlenbeck mean and variance at several times", "[processes][statistical]") {
  const sdeflow::ornstein_uhlenbeck<> ou(2.0, 1.0, 0.5);
  const Eigen::Index n = 20000;
  const double N = static_cast<double>(n);
  Eigen::MatrixXd x = Eigen::MatrixXd::Constant(1, n, 3.0);
  int checked = 0;
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, x, sdeflow::time_grid<>::uniform(0.0, 2.0, 2000),
                     sdeflow::brownian_increments(17), [&](std::size_t k, double t, const Eigen::MatrixXd& xt) {
                       if (k % 250 != 0 || k == 0) return;
                       const double m = ou.mean(3.0, t);
                       const double v = ou.variance(t);
                       INFO("t = " << t);
                       CHECK_WITHIN_SE(xt.mean(), m, std::sqrt(v / N));
                       CHECK_WITHIN_SE((xt.array() - xt.mean()).square().mean(), v, v * std::sqrt(2.0 / N));
                       ++checked;
                     });
  CHECK(checked == 8);
  CHECK(ou.variance(50.0) == Approx(ou.stationary_variance()));
  CHECK(ou.stationary_variance() == Approx(0.25 / 4.0));
}

TEST_CASE("prior sampling and prior log-density", "[processes]") {
  const sdeflow::ve_process<> ve(0.01, 20.0);
  const Eigen::MatrixXd x = sdeflow::sample_prior(ve, 3, 50000, sdeflow::normal_source(8));
  const double N = 150000.0;
  CHECK_WITHIN_SE(x.array().square().mean(), 400.0, 400.0 * std::sqrt(2.0 / N));
  CHECK_WITHIN_SE(x.mean(), 0.0, 20.0 / std::sqrt(N));
  // log N(x; 0, 400 I) in d = 3, by hand.
  const Eigen::Vector3d y(1.0, -2.0, 30.0);
  const double expected = -1.5 * std::log(2 * std::numbers::pi) - 3 * std::log(20.0) - y.squaredNorm() / 800.0;
  CHECK(sdeflow::prior_log_density(ve, y)(0) == Approx(expected).epsilon(1e-14));
  const sdeflow::vp_process<> vp;
  CHECK(sdeflow::prior_log_density(vp, Eigen::Vector2d::Zero())(0) == Approx(-std::log(2 * std::numbers::pi)));
}
