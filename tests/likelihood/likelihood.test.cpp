// SPDX-License-Identifier: MIT
// Likelihood through the probability-flow ODE: the exact Gaussian-mixture log-density reproduced
// with the exact divergence (d = 2 and 8, four processes), Hutchinson's estimate within 4 of its
// standard errors, encode/decode round trips, the divergence routes against each other, and the
// learned two-moons model on held-out data.
#include "support.hpp"

#include "samplers/sampler_support.hpp"

#include <string>

#ifndef SDEFLOW_EXAMPLE_DATA_DIR
#error "SDEFLOW_EXAMPLE_DATA_DIR must point at examples/data"
#endif

namespace {

/// Points to score: exact draws from p_0 plus a few far from the modes.
Eigen::MatrixXd points(const sdeflow::gaussian_mixture<>& mix, Eigen::Index n) {
  Eigen::MatrixXd x = mix.sample(n, 1.0, 0.0, sdeflow::normal_source(77));
  x.col(0).setZero();             // between the modes
  x.col(1) = 1.5 * x.col(1);      // out in the tails
  return x;
}

/// |log p_0 from the ODE - exact log p_0| over the columns, with the exact log p_T as the prior.
template <class P>
double worst_log_density_error(const sdeflow::gaussian_mixture<>& mix, const P& p, const Eigen::MatrixXd& x) {
  const auto score = sdeflow::exact_score(mix, p);
  const auto prior = [&](const Eigen::MatrixXd& z) { return score.log_density(z, p.horizon()); };
  const auto r = sdeflow::log_likelihood(p, score, x, {}, prior);
  const Eigen::RowVectorXd exact = mix.log_density(x, 1.0, 0.0);
  INFO("accepted steps " << r.report.accepted << ", log p " << r.log_likelihood << " exact " << exact);
  return (r.log_likelihood - exact).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("likelihood: exact GMM log-density reproduced in d = 2 under four processes", "[likelihood]") {
  const auto& mix = sdeflow_test::ring();
  const Eigen::MatrixXd x = points(mix, 12);
  CHECK(worst_log_density_error(mix, sdeflow::vp_process<>{}, x) <= 1e-3);
  CHECK(worst_log_density_error(mix, sdeflow::vp_process<sdeflow::cosine_beta<double>>{}, x) <= 1e-3);
  CHECK(worst_log_density_error(mix, sdeflow::sub_vp_process<>{}, x) <= 1e-3);
  CHECK(worst_log_density_error(mix, sdeflow::ve_process<>(0.01, 20.0), x) <= 1e-3);
}

TEST_CASE("likelihood: exact GMM log-density reproduced in d = 8 under four processes", "[likelihood]") {
  const auto& mix = sdeflow_test::aniso8();
  const Eigen::MatrixXd x = points(mix, 8);
  CHECK(worst_log_density_error(mix, sdeflow::vp_process<>{}, x) <= 1e-3);
  CHECK(worst_log_density_error(mix, sdeflow::vp_process<sdeflow::cosine_beta<double>>{}, x) <= 1e-3);
  CHECK(worst_log_density_error(mix, sdeflow::sub_vp_process<>{}, x) <= 1e-3);
  CHECK(worst_log_density_error(mix, sdeflow::ve_process<>(0.01, 20.0), x) <= 1e-3);
}

TEST_CASE("likelihood: the default N(0 I) prior costs only the prior mismatch at T", "[likelihood]") {
  // Under VP, p_T differs from N(0, I) by O(s(T)^2): the default prior gives log p within that.
  const auto& mix = sdeflow_test::ring();
  const sdeflow::vp_process<> vp;
  const Eigen::MatrixXd x = points(mix, 6);
  const auto score = sdeflow::exact_score(mix, vp);
  const auto with_default = sdeflow::log_likelihood(vp, score, x);
  const auto exact_prior = sdeflow::log_likelihood(vp, score, x, {}, [&](const Eigen::MatrixXd& z) {
    return score.log_density(z, vp.horizon());
  });
  const Eigen::RowVectorXd gap = with_default.prior_log_density - exact_prior.prior_log_density;
  CHECK((with_default.log_likelihood - exact_prior.log_likelihood - gap).cwiseAbs().maxCoeff() <= 1e-12);
  CHECK(gap.cwiseAbs().maxCoeff() <= 0.05);  // s(T) = 6.7e-3, |mu| = 4: mismatch ~ s^2 |mu|^2 = 7e-4 per mode
  CHECK((with_default.delta_log_p - exact_prior.delta_log_p).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("likelihood: Hutchinson estimates lie within 4 standard errors of the exact value", "[likelihood]") {
  const auto& mix = sdeflow_test::aniso8();
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(mix, vp);
  const Eigen::MatrixXd x = points(mix, 6);
  sdeflow::likelihood_options exact_opt;
  const auto exact = sdeflow::log_likelihood(vp, score, x, exact_opt);
  CHECK(exact.standard_error.cwiseAbs().maxCoeff() == 0.0);
  for (auto kind : {sdeflow::probe_kind::rademacher, sdeflow::probe_kind::gaussian}) {
    sdeflow::likelihood_options opt;
    opt.divergence = sdeflow::divergence_estimator::hutchinson;
    opt.probes_kind = kind;
    opt.probes = 32;
    opt.seed = 2026;
    opt.ode.rtol = 1e-6;
    const auto h = sdeflow::log_likelihood(vp, score, x, opt);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      INFO("column " << j << (kind == sdeflow::probe_kind::rademacher ? " rademacher" : " gaussian"));
      INFO("hutchinson " << h.log_likelihood(j) << " +- " << h.standard_error(j) << " exact " << exact.log_likelihood(j));
      CHECK(h.standard_error(j) > 0);
      CHECK(std::fabs(h.log_likelihood(j) - exact.log_likelihood(j)) <= 4 * h.standard_error(j));
    }
  }
}

TEST_CASE("likelihood: Hutchinson probes are reproducible and independent of the batch split", "[likelihood]") {
  const auto& mix = sdeflow_test::ring();
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(mix, vp);
  const Eigen::MatrixXd x = points(mix, 4);
  sdeflow::likelihood_options opt;
  opt.divergence = sdeflow::divergence_estimator::hutchinson;
  opt.probes = 4;
  opt.seed = 9;
  opt.ode.rtol = 1e-10;
  opt.ode.atol = 1e-12;
  const auto all = sdeflow::log_likelihood(vp, score, x, opt);
  opt.sample_offset = 2;
  const auto tail = sdeflow::log_likelihood(vp, score, x.rightCols(2), opt);
  CHECK((all.log_likelihood.tail(2) - tail.log_likelihood).cwiseAbs().maxCoeff() <= 1e-7);
}

TEST_CASE("likelihood: encode then decode returns the input", "[likelihood]") {
  const auto& mix = sdeflow_test::aniso8();
  const Eigen::MatrixXd x = mix.sample(10, 1.0, 0.0, sdeflow::normal_source(78));
  auto round_trip = [&](const auto& p) {
    const auto score = sdeflow::exact_score(mix, p);
    const Eigen::MatrixXd z = sdeflow::encode(p, score, x);
    const Eigen::MatrixXd back = sdeflow::decode(p, score, z);
    INFO("round-trip errors per column " << (back - x).cwiseAbs().colwise().maxCoeff());
    return (back - x).cwiseAbs().maxCoeff();
  };
  const double vp_err = round_trip(sdeflow::vp_process<>{});
  const double ve_err = round_trip(sdeflow::ve_process<>(0.01, 20.0));
  INFO("vp " << vp_err << " ve " << ve_err);
  CHECK(vp_err <= 1e-6);
  CHECK(ve_err <= 1e-6);
  // Encoding maps p_0 to p_T: the latents of exact draws have the prior's scale (N(0, I) under VP).
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(mix, vp);
  const Eigen::MatrixXd draws = mix.sample(4000, 1.0, 0.0, sdeflow::normal_source(31));
  sdeflow::flow_options fo;
  fo.ode.rtol = 1e-6;
  fo.ode.atol = 1e-8;
  const Eigen::MatrixXd z = sdeflow::encode(vp, score, draws, fo);
  const Eigen::VectorXd m = sdeflow::sample_mean(z);
  const Eigen::MatrixXd c = sdeflow::sample_covariance(z);
  const Eigen::MatrixXd se = sdeflow::covariance_standard_error(z);
  const double n = static_cast<double>(z.cols());
  for (Eigen::Index i = 0; i < 8; ++i) {
    // p_T's exact moments (s(T) = 6.7e-3 leaves them within 1e-4 of N(0, I)).
    const Eigen::VectorXd exact_mean = mix.mean(vp.mean_scale(1.0), vp.marginal_std(1.0));
    const Eigen::MatrixXd exact_cov = mix.covariance(vp.mean_scale(1.0), vp.marginal_std(1.0));
    CHECK_WITHIN_SE(m(i), exact_mean(i), std::sqrt(exact_cov(i, i) / n));
    CHECK_WITHIN_SE(c(i, i), exact_cov(i, i), se(i, i));
  }
}

TEST_CASE("likelihood: divergence routes agree (analytic, jvp, dual numbers, differences)", "[likelihood]") {
  const auto& mix = sdeflow_test::aniso8();
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(mix, vp);
  const Eigen::MatrixXd x = points(mix, 5);
  const double t = 0.2;
  // Through jvp only (a wrapper hiding divergence).
  struct jvp_score {
    const sdeflow::mixture_score<sdeflow::vp_process<>>& s;
    Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, double tt) const { return s(y, tt); }
    Eigen::MatrixXd jvp(const Eigen::MatrixXd& y, double tt, const Eigen::MatrixXd& v) const { return s.jvp(y, tt, v); }
  };
  const Eigen::RowVectorXd analytic = sdeflow::score_divergence(score, x, t);
  const Eigen::RowVectorXd via_jvp = sdeflow::score_divergence(jvp_score{score}, x, t);
  CHECK((analytic - via_jvp).cwiseAbs().maxCoeff() <= 1e-10 * std::max(1.0, analytic.cwiseAbs().maxCoeff()));
  // Central differences of the score along each axis.
  Eigen::RowVectorXd fd = Eigen::RowVectorXd::Zero(x.cols());
  const double h = 1e-5;
  for (Eigen::Index i = 0; i < 8; ++i) {
    Eigen::MatrixXd xp = x, xm = x;
    xp.row(i).array() += h;
    xm.row(i).array() -= h;
    fd += (score(xp, t) - score(xm, t)).row(i) / (2 * h);
  }
  CHECK((analytic - fd).cwiseAbs().maxCoeff() <= 1e-5 * std::max(1.0, analytic.cwiseAbs().maxCoeff()));

  // A score generic in its scalar: an OU-like Gaussian score -(x - m)/v with a nonlinearity, whose
  // divergence is known in closed form: sum_i -(1 + 0.1 cos x_i) / v.
  const auto generic = [](const auto& y, double tt) {
    using M = std::decay_t<decltype(y.eval())>;
    const double v = 1 + tt;
    M out = (-(y.array() + 0.1 * y.array().sin()) / v).matrix();
    return out;
  };
  const Eigen::RowVectorXd dual_div = sdeflow::score_divergence(generic, x, t);
  const Eigen::RowVectorXd closed = (-(1 + 0.1 * x.array().cos()).colwise().sum() / (1 + t)).matrix();
  CHECK((dual_div - closed).cwiseAbs().maxCoeff() <= 1e-13);
  // And Hutchinson's quadratic form on that score is v^T J v exactly.
  Eigen::MatrixXd v(8, x.cols());
  sdeflow::fill_probes(v, sdeflow::probe_kind::rademacher, sdeflow::normal_source(1), 0, 0);
  CHECK((v.array().abs() == 1.0).all());
  const Eigen::RowVectorXd q = sdeflow::probe_quadratic(generic, x, t, v);
  // J is diagonal here, so v^T J v = trace J for Rademacher probes.
  CHECK((q - closed).cwiseAbs().maxCoeff() <= 1e-13);
}

TEST_CASE("likelihood: bits per dimension and option validation", "[likelihood]") {
  Eigen::RowVectorXd lp(2);
  lp << -2.0 * std::log(2.0), 0.0;
  const Eigen::RowVectorXd b = sdeflow::bits_per_dim(lp, 2);
  CHECK(b(0) == Approx(1.0).epsilon(1e-14));
  CHECK(b(1) == 0.0);
  // Data scaled by 2 before modelling: raw density is p(x) 2^d, one bit per dimension better.
  CHECK(sdeflow::bits_per_dim(lp, 2, 2.0)(0) == Approx(0.0).margin(1e-14));
  CHECK_THROWS_WITH(sdeflow::bits_per_dim(lp, 0), Catch::Contains("d = 0"));

  const auto& mix = sdeflow_test::ring();
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(mix, vp);
  const Eigen::MatrixXd x = points(mix, 2);
  sdeflow::likelihood_options opt;
  opt.t_start = 2.0;
  CHECK_THROWS_WITH(sdeflow::log_likelihood(vp, score, x, opt), Catch::Contains("t_end = 1"));
  opt = {};
  opt.divergence = sdeflow::divergence_estimator::hutchinson;
  opt.probes = 1;
  CHECK_THROWS_WITH(sdeflow::log_likelihood(vp, score, x, opt), Catch::Contains("probes = 1"));
  opt = {};
  opt.t_start = -1;
  CHECK_THROWS_WITH(sdeflow::log_likelihood(vp, score, x, opt), Catch::Contains("t_start = -1"));
  CHECK_THROWS_AS(sdeflow::log_likelihood(vp, score, Eigen::MatrixXd::Zero(3, 2)), sdeflow::dimension_mismatch);
}

TEST_CASE("likelihood: the learned two-moons model beats a standard normal on held-out data", "[likelihood]") {
  const std::string dir = SDEFLOW_EXAMPLE_DATA_DIR;
  const auto net = sdeflow::mlp<double>::load(dir + "/two_moons_eps.safetensors");
  const auto golden = sdeflow::safetensors::load(dir + "/two_moons_golden.safetensors");
  const Eigen::MatrixXd held = golden.matrix<double>("heldout").transpose().leftCols(200);
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::epsilon_score(vp, std::cref(net));
  sdeflow::likelihood_options opt;
  opt.t_start = 1e-3;  // the training range's lower end; eps / sigma is singular at t = 0
  opt.ode.rtol = 1e-6;
  opt.ode.atol = 1e-8;
  const auto r = sdeflow::log_likelihood(vp, score, held, opt);
  REQUIRE(r.log_likelihood.allFinite());
  const double model_mean = r.log_likelihood.mean();
  const Eigen::RowVectorXd normal = sdeflow::prior_log_density(vp, held);
  const double normal_mean = normal.mean();
  // Two-sample comparison on the same points: mean paired difference against its standard error.
  const Eigen::RowVectorXd diff = r.log_likelihood - normal;
  const double n = static_cast<double>(diff.size());
  const double se = std::sqrt((diff.array() - diff.mean()).square().sum() / (n - 1) / n);
  INFO("model " << model_mean << " nats, N(0, I) " << normal_mean << " nats, diff se " << se);
  CHECK(diff.mean() > sdeflow_test::k_sigma * se);
}
