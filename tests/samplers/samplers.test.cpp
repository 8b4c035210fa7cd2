// SPDX-License-Identifier: MIT
// Every sampler, driven by the exact model, reproduces the ground-truth mixtures (the 2-D ring and the
// anisotropic d = 8 mixture) at its recommended step count, within standard-error bounds.
#include "samplers/sampler_support.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using sdeflow_test::check_matches_mixture;
using sdeflow_test::exact_model;

namespace {

constexpr Eigen::Index n = sdeflow_test::scaled(Eigen::Index{10000});

template <class Run>
void on_both_mixtures(Run&& run) {
  for (const auto* mix : {&sdeflow_test::ring(), &sdeflow_test::aniso8()}) {
    INFO("dimension " << mix->dimension());
    run(*mix);
  }
}

}  // namespace

TEST_CASE("DDIM (eta 0 and 1) and DDPM reproduce the mixtures under VP", "[samplers][statistical]") {
  const sdeflow::vp_process<> vp;
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    const auto m = exact_model(mix, vp);
    const auto x = sdeflow::initial_noise(vp, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 1});
    // Recommended step counts: first-order samplers need a few hundred steps in d = 8 for the
    // discretization bias to sit well inside the 5-SE bounds at n = 10^4.
    check_matches_mixture(mix, sdeflow::sample_ddim(m, x, sdeflow::uniform_schedule(1.0, 0.0, 200)).samples, 1.0, 0.0);
    check_matches_mixture(mix, sdeflow::sample_ddim(m, x, sdeflow::uniform_schedule(1.0, 0.0, 400), 1.0, {.seed = 2}).samples,
                          1.0, 0.0);
    check_matches_mixture(mix, sdeflow::sample_ddpm(m, x, sdeflow::uniform_schedule(1.0, 0.0, 200),
                                                    sdeflow::ddpm_variance::forward, {.seed = 3}).samples, 1.0, 0.0);
  });
}

TEST_CASE("DDPM ancestral sampling on a discrete beta table with trailing timesteps", "[samplers][statistical]") {
  const auto table = sdeflow::discrete_schedule::linear(1000);
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    const auto m = exact_model(mix, table);
    const auto x = sdeflow::initial_noise(table, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 4});
    const auto grid = sdeflow::timesteps(1000, 500, sdeflow::timestep_spacing::trailing);
    check_matches_mixture(mix, sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.seed = 5}).samples, 1.0, 0.0);
  });
}

TEST_CASE("k-diffusion samplers reproduce the mixtures", "[samplers][statistical]") {
  const sdeflow::edm_process<> edm(80.0);
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    const auto m = exact_model(mix, edm);
    const auto x = sdeflow::initial_noise(edm, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 6});
    SECTION("Euler (800 steps) and Euler ancestral (400 steps) on a Karras schedule") {
      check_matches_mixture(mix, sdeflow::sample_euler(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 800)).samples, 1.0, 0.0);
      check_matches_mixture(mix, sdeflow::sample_euler_ancestral(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 400), 1.0,
                                                                 {.seed = 7}).samples, 1.0, 0.0);
    }
    SECTION("EDM Heun, 50 steps (99 NFE), and 100 steps with churn") {
      const auto det = sdeflow::sample_edm_heun(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 50));
      CHECK(det.report.evaluations == 99);
      check_matches_mixture(mix, det.samples, 1.0, 0.0);
      check_matches_mixture(mix, sdeflow::sample_edm_heun(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 100),
                                                           {.s_churn = 40, .s_tmin = 0.05, .s_tmax = 50}, {.seed = 8}).samples,
                            1.0, 0.0);
    }
    SECTION("DPM-Solver++(2M) at 50 steps and its SDE variant at 100 steps") {
      check_matches_mixture(mix, sdeflow::sample_dpmpp_2m(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 50)).samples, 1.0, 0.0);
      check_matches_mixture(mix, sdeflow::sample_dpmpp_2m_sde(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 100), 1.0,
                                                               {.seed = 9}).samples, 1.0, 0.0);
    }
    SECTION("DPM-2 and DPM-Solver++(2S) at 25 steps, (3M), LMS-4, UniPC-3 and DEIS-3 at 50, Karras schedule") {
      // 25 NFE is not enough for the one-evaluation methods here: UniPC-3 at 25 steps inflates the
      // within-mode distance on the ring by 9% (z = 5.9), as DPM-Solver++(2M) does on VE (docs/samplers.md).
      check_matches_mixture(mix, sdeflow::sample_dpm_2(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 25)).samples, 1.0, 0.0,
                            "dpm_2");
      check_matches_mixture(mix, sdeflow::sample(sdeflow::samplers::dpmpp_2s{}, m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 25))
                                     .samples, 1.0, 0.0, "dpmpp_2s");
      check_matches_mixture(mix, sdeflow::sample(sdeflow::samplers::dpmpp_3m{}, m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 50))
                                     .samples, 1.0, 0.0, "dpmpp_3m");
      check_matches_mixture(mix, sdeflow::sample_lms(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 50)).samples, 1.0, 0.0,
                            "lms");
      check_matches_mixture(mix, sdeflow::sample_unipc(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 50), 3).samples, 1.0,
                            0.0, "unipc order 3");
      check_matches_mixture(mix, sdeflow::sample(sdeflow::samplers::deis{3}, m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 50))
                                     .samples, 1.0, 0.0, "deis order 3");
    }
    SECTION("the ancestral and SDE forms: DPM-2 a and DPM-Solver++(2S) a at 200 steps, (3M) SDE at 100") {
      check_matches_mixture(mix, sdeflow::sample_dpm_2_ancestral(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 200), 1.0,
                                                                 {.seed = 12}).samples, 1.0, 0.0, "dpm_2_ancestral");
      check_matches_mixture(mix, sdeflow::sample_dpmpp_2s_ancestral(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 200), 1.0,
                                                                    {.seed = 13}).samples, 1.0, 0.0, "dpmpp_2s_ancestral");
      check_matches_mixture(mix, sdeflow::sample_dpmpp_3m_sde(m, x, sdeflow::karras_schedule(edm, 0.002, 80.0, 100), 1.0,
                                                              {.seed = 14}).samples, 1.0, 0.0, "dpmpp_3m_sde");
    }
    SECTION("DPM-Solver++ SDE at 100 steps, with counter noise and with a Brownian tree (k-diffusion's default)") {
      const auto grid = sdeflow::karras_schedule(edm, 0.002, 80.0, 100);
      check_matches_mixture(mix, sdeflow::sample_dpmpp_sde(m, x, grid, 1.0, {.seed = 15}).samples, 1.0, 0.0, "dpmpp_sde");
      sdeflow::sampler_options<Eigen::MatrixXd> tree;
      tree.noise = sdeflow::brownian_tree(0.0, 80.0, 1e-6, 16);
      check_matches_mixture(mix, sdeflow::sample_dpmpp_sde(m, x, grid, 1.0, tree).samples, 1.0, 0.0, "dpmpp_sde, tree");
    }
  });
}

TEST_CASE("samplers on VE, sub-VP and a log-SNR schedule", "[samplers][statistical]") {
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    const sdeflow::ve_process<> ve(0.01, 50.0);
    const auto mv = exact_model(mix, ve);
    const auto xv = sdeflow::initial_noise(ve, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 10});
    check_matches_mixture(mix, sdeflow::sample_dpmpp_2m(mv, xv, sdeflow::log_snr_schedule(ve, 1.0, 1e-3, 50)).samples, 1.0,
                          ve.marginal_std(1e-3), "DPM-Solver++(2M), VE, 50 log-SNR steps");
    const sdeflow::sub_vp_process<> svp;
    const auto ms = exact_model(mix, svp);
    const auto xs = sdeflow::initial_noise(svp, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 11});
    check_matches_mixture(mix, sdeflow::sample_ddim(ms, xs, sdeflow::quadratic_schedule(1.0, 0.0, 100)).samples, 1.0, 0.0,
                          "DDIM, sub-VP, 100 quadratic steps");
  });
}

TEST_CASE("predictor-corrector and annealed Langevin reproduce the mixtures", "[samplers][statistical]") {
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    const sdeflow::vp_process<> vp;
    const auto m = exact_model(mix, vp);
    const auto x = sdeflow::initial_noise(vp, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 12});
    const double t_end = 1e-3;
    const auto grid = sdeflow::uniform_schedule(1.0, t_end, 200);
    const auto rd = sdeflow::sample_predictor_corrector(vp, m, x, grid, {}, {.seed = 13});
    CHECK(rd.report.evaluations == 400);
    check_matches_mixture(mix, rd.samples, vp.mean_scale(t_end), vp.marginal_std(t_end));
    const auto em = sdeflow::sample_predictor_corrector(
        vp, m, x, grid, {.predictor = sdeflow::pc_predictor::euler_maruyama, .corrector_steps = 1}, {.seed = 14});
    check_matches_mixture(mix, em.samples, vp.mean_scale(t_end), vp.marginal_std(t_end));
    // NCSN on VE: geometric levels from sigma = 50 down to sigma(0.4) ~ 0.3, compared with the exact p at the
    // last level. Langevin mixes slowly along the anisotropic d = 8 mixture's long axes: there 5 levels of
    // 400 steps at a larger step (5000 samples); on the ring 10 levels of 300 steps.
    const sdeflow::ve_process<> ve(0.01, 50.0);
    const auto score = sdeflow::exact_score(mix, ve);
    const double sL = ve.marginal_std(0.4);
    const bool ring = mix.dimension() == 2;
    const auto levels = sdeflow::time_grid<>::uniform(1.0, 0.4, ring ? 9 : 4);
    const std::size_t steps = ring ? 300 : 400;
    const auto xv = sdeflow::initial_noise(ve, mix.dimension(), ring ? n : sdeflow_test::scaled(Eigen::Index{5000}),
                                           sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 15});
    const auto al = sdeflow::sample_annealed_langevin(ve, score, xv, levels, steps, (ring ? 0.05 : 0.1) * sL * sL, false,
                                                      {.seed = 16});
    CHECK(al.report.evaluations == levels.size() * steps);
    check_matches_mixture(mix, al.samples, 1.0, sL);
  });
}

TEST_CASE("flow matching: the rectified-flow velocity ODE with Euler / Heun / RK4", "[samplers][statistical]") {
  const sdeflow::rectified_flow<> rf;
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    // The exact flow-velocity model u = eps_hat - x0_hat, expressed through the parameterization layer.
    const auto exact = sdeflow::exact_score(mix, rf);
    const sdeflow::model u(rf,
                           [exact, rf](const Eigen::MatrixXd& x, double t) {
                             const Eigen::MatrixXd x0 = exact.denoise(x, t);
                             const Eigen::MatrixXd eps = t > 0 ? Eigen::MatrixXd((x - (1 - t) * x0) / t)
                                                               : Eigen::MatrixXd::Zero(x.rows(), x.cols());
                             return sdeflow::to_prediction(rf, sdeflow::prediction::flow, x, x0, eps, t);
                           },
                           sdeflow::prediction::flow);
    const auto x = sdeflow::initial_noise(rf, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 17});
    check_matches_mixture(mix, sdeflow::sample_flow(u, x, sdeflow::uniform_schedule(1.0, 0.0, 400), sdeflow::euler{}).samples, 1.0, 0.0);
    check_matches_mixture(mix, sdeflow::sample_flow(u, x, sdeflow::uniform_schedule(1.0, 0.0, 50), sdeflow::heun{}).samples, 1.0, 0.0);
    check_matches_mixture(mix, sdeflow::sample_flow(u, x, sdeflow::uniform_schedule(1.0, 0.0, 25), sdeflow::rk4{}).samples, 1.0, 0.0);
  });
}

namespace {

/// Mutant "off-by-one sigma": the exact data prediction evaluated at the grid point after t (the
/// noise level the step goes to) instead of at t, the indexing slip of sigmas[i + 1] for sigmas[i].
template <class P>
auto model_one_level_late(const sdeflow::gaussian_mixture<>& mix, const P& p, const sdeflow::time_grid<>& grid) {
  auto score = sdeflow::exact_score(mix, p);
  return sdeflow::model(p,
                        [score, pts = grid.points()](const Eigen::MatrixXd& x, double t) {
                          const auto it = std::find(pts.begin(), pts.end(), t);
                          if (it == pts.end() || it + 1 == pts.end()) {
                            throw std::logic_error("the off-by-one mutant was called off its grid");
                          }
                          return score.denoise(x, *(it + 1));
                        },
                        sdeflow::prediction::data);
}

/// A grid without its last point: the mutant "skipped last step".
sdeflow::time_grid<> without_last_step(const sdeflow::time_grid<>& grid) {
  std::vector<double> pts = grid.points();
  pts.pop_back();
  return sdeflow::time_grid<>::from_points(pts);
}

/// DPM-Solver++ SDE whose second-stage noise is a fresh draw, independent of the first stage's (the
/// mutant: the version of samplers::dpmpp_sde before the battery caught it). EDM process: s = 1, sigma = t.
struct dpmpp_sde_independent_noise : sdeflow::samplers::dpmpp_sde {
  template <class M, class W>
  void step(const M& m, Eigen::MatrixXd& x, const sdeflow::step_context<double>& c, W& ws,
            sdeflow::step_noise<Eigen::MatrixXd>& noise) const {
    m.predict(x, c.t, ws.x0, ws.eps);
    if (c.t_next == 0) {
      x = ws.x0;
      return;
    }
    const double rs = std::sqrt(c.t * c.t_next);  // r = 1/2
    const auto split = [](double s, double sn) {
      const double up = std::min(sn, std::sqrt(sn * sn * (s * s - sn * sn) / (s * s)));
      return std::pair{std::sqrt(sn * sn - up * up), up};
    };
    const auto [d1, u1] = split(c.t, rs);
    noise.normal_over(0, c.t, rs, ws.z);
    ws.xm = (d1 / c.t) * x + (1 - d1 / c.t) * ws.x0 + u1 * ws.z;
    m.predict(ws.xm, rs, ws.xs, ws.eps);
    const auto [d2, u2] = split(c.t, c.t_next);
    noise.normal_over(1, c.t, c.t_next, ws.z);
    x = (d2 / c.t) * x + (1 - d2 / c.t) * ws.xs + u2 * ws.z;
  }
};

}  // namespace

TEST_CASE("negative controls: DPM-Solver++ SDE with independent stage noises is rejected", "[samplers][statistical][mutants]") {
  // The configuration of the battery case "DPM-Solver++ SDE at 100 steps" (counter noise, seed 15). On the
  // ring the mutant's z is -7 at the full size and would be about -3.5 at the sanitizer size (n / 4), so
  // the ring runs at the full size in every build; in d = 8 (z = -14) the test size suffices.
  const sdeflow::edm_process<> edm(80.0);
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    const Eigen::Index nc = mix.dimension() == 2 ? Eigen::Index{10000} : n;
    const auto x = sdeflow::initial_noise(edm, mix.dimension(), nc, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 6});
    const std::string why = sdeflow_test::mixture_mismatch(
        mix,
        sdeflow::sample(dpmpp_sde_independent_noise{}, exact_model(mix, edm), x, sdeflow::karras_schedule(edm, 0.002, 80.0, 100),
                        {.seed = 15})
            .samples,
        1.0, 0.0);
    INFO("independent stage noises: " << why);
    CHECK_THAT(why, Catch::Contains("within-mode distance"));
  });
}

TEST_CASE("negative controls: the mixture battery rejects an off-by-one sigma / noise x 1.1 / a skipped last step",
          "[samplers][statistical][mutants]") {
  // Each mutant runs the configuration of a battery case above (same process, grid, start and seed),
  // which passes unmutated; the same check must now fail on both mixtures, at either test size.
  on_both_mixtures([&](const sdeflow::gaussian_mixture<>& mix) {
    {  // DPM-Solver++(2M) on VE, 50 log-SNR steps ("samplers on VE, sub-VP and a log-SNR schedule").
      const sdeflow::ve_process<> ve(0.01, 50.0);
      const auto grid = sdeflow::log_snr_schedule(ve, 1.0, 1e-3, 50);
      const auto xv = sdeflow::initial_noise(ve, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 10});
      const std::string why = sdeflow_test::mixture_mismatch(
          mix, sdeflow::sample_dpmpp_2m(model_one_level_late(mix, ve, grid), xv, grid).samples, 1.0, ve.marginal_std(1e-3));
      INFO("off-by-one sigma: " << why);
      CHECK_THAT(why, Catch::Contains("within-mode distance"));  // the late denoiser leaves noise in each mode
    }
    {  // DDPM with the forward variance on VP, 200 steps, every injected draw scaled by 1.1.
      const sdeflow::vp_process<> vp;
      const auto x = sdeflow::initial_noise(vp, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 1});
      const std::string why = sdeflow_test::mixture_mismatch(
          mix,
          sdeflow::sample_ddpm(exact_model(mix, vp), x, sdeflow::uniform_schedule(1.0, 0.0, 200),
                               sdeflow::ddpm_variance::forward, {.seed = 3, .temperature = 1.1})
              .samples,
          1.0, 0.0);
      INFO("noise x 1.1: " << why);
      CHECK_THAT(why, Catch::Contains("within-mode distance"));  // on the ring the only statistic that sees it
    }
    {  // Rectified flow with RK4, 25 steps, stopping one step short of t = 0.
      const sdeflow::rectified_flow<> rf;
      const auto exact = sdeflow::exact_score(mix, rf);
      const sdeflow::model u(rf,
                             [exact, rf](const Eigen::MatrixXd& x, double t) {
                               const Eigen::MatrixXd x0 = exact.denoise(x, t);
                               const Eigen::MatrixXd eps = (x - (1 - t) * x0) / t;  // t > 0 on the cut grid
                               return sdeflow::to_prediction(rf, sdeflow::prediction::flow, x, x0, eps, t);
                             },
                             sdeflow::prediction::flow);
      const auto x = sdeflow::initial_noise(rf, mix.dimension(), n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 17});
      const auto cut = without_last_step(sdeflow::uniform_schedule(1.0, 0.0, 25));
      const std::string why =
          sdeflow_test::mixture_mismatch(mix, sdeflow::sample_flow(u, x, cut, sdeflow::rk4{}).samples, 1.0, 0.0);
      INFO("skipped last step: " << why);
      CHECK_THAT(why, Catch::Contains("cov "));  // x_{0.04} = 0.96 x_0 + 0.04 eps: the spread shrinks by 8%
    }
  });
}
