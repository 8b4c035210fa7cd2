// SPDX-License-Identifier: MIT
// Exact properties of the samplers: every step count N = 1..50 and the final step to sigma = 0,
// identities between samplers, determinism, reproducibility by seed and across batch splits,
// callbacks, temperature, SDEdit.
#include "samplers/sampler_support.hpp"

#include <functional>

using sdeflow_test::exact_model;
using X = Eigen::MatrixXd;

namespace {

/// Runs every sampler that ends at sigma = 0 with a model that always predicts x0 = mu.
template <class M>
std::vector<std::pair<std::string, X>> run_all(const M& m, const X& x, const sdeflow::time_grid<>& grid) {
  std::vector<std::pair<std::string, X>> out;
  out.emplace_back("ddim", sdeflow::sample_ddim(m, x, grid).samples);
  out.emplace_back("ddim eta 1", sdeflow::sample_ddim(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("ddpm", sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::forward, {.seed = 1}).samples);
  out.emplace_back("euler", sdeflow::sample_euler(m, x, grid).samples);
  out.emplace_back("euler ancestral", sdeflow::sample_euler_ancestral(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("edm heun", sdeflow::sample_edm_heun(m, x, grid, {.s_churn = 5}, {.seed = 1}).samples);
  out.emplace_back("dpm++2m", sdeflow::sample_dpmpp_2m(m, x, grid).samples);
  out.emplace_back("dpm++2m sde", sdeflow::sample_dpmpp_2m_sde(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("dpm 2", sdeflow::sample_dpm_2(m, x, grid).samples);
  out.emplace_back("dpm 2 ancestral", sdeflow::sample_dpm_2_ancestral(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("dpm++2s ancestral", sdeflow::sample_dpmpp_2s_ancestral(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("dpm++2s", sdeflow::sample(sdeflow::samplers::dpmpp_2s{}, m, x, grid).samples);
  out.emplace_back("dpm++ sde", sdeflow::sample_dpmpp_sde(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("dpm++3m sde", sdeflow::sample_dpmpp_3m_sde(m, x, grid, 1.0, {.seed = 1}).samples);
  out.emplace_back("dpm++3m taylor",
                   sdeflow::sample(sdeflow::samplers::dpmpp_3m{sdeflow::samplers::third_order_weight::taylor}, m, x, grid).samples);
  for (int q = 1; q <= 4; ++q) out.emplace_back("lms " + std::to_string(q), sdeflow::sample_lms(m, x, grid, q).samples);
  for (int q = 1; q <= 3; ++q) {
    out.emplace_back("deis " + std::to_string(q), sdeflow::sample(sdeflow::samplers::deis{q}, m, x, grid).samples);
    out.emplace_back("unipc " + std::to_string(q), sdeflow::sample_unipc(m, x, grid, q).samples);
    out.emplace_back("unipc bh1 no final lowering " + std::to_string(q),
                     sdeflow::sample(sdeflow::samplers::unipc{q, sdeflow::samplers::unipc_variant::bh1, true, false}, m, x, grid).samples);
  }
  return out;
}

}  // namespace

TEST_CASE("every sampler and every step count N = 1..50 lands on the data at sigma = 0", "[samplers]") {
  // A point-mass model x0_hat = mu: whatever the path, a final step to sigma = 0 must return exactly mu
  // (the index errors peers hit at odd N and on the last step would show here).
  const sdeflow::vp_process<> vp;
  const Eigen::Vector2d mu(1.5, -0.5);
  const sdeflow::model m(vp, [mu](const X& x, double) { return X(mu.replicate(1, x.cols())); }, sdeflow::prediction::data);
  const X x = sdeflow::initial_noise(vp, 2, 3);
  for (std::size_t N = 1; N <= 50; ++N) {
    for (const auto& grid : {sdeflow::uniform_schedule(1.0, 0.0, N), sdeflow::karras_schedule(vp, 0.01, 100.0, N)}) {
      for (const auto& [name, out] : run_all(m, x, grid)) {
        INFO(name << " N = " << N);
        CHECK((out.colwise() - mu).cwiseAbs().maxCoeff() < 1e-12);
      }
    }
  }
}

TEST_CASE("PC and annealed Langevin run for every N = 1..50", "[samplers]") {
  const sdeflow::vp_process<> vp;
  const auto m = exact_model(sdeflow_test::ring(), vp);
  const X x = sdeflow::initial_noise(vp, 2, 4);
  for (std::size_t N = 1; N <= 50; ++N) {
    const auto grid = sdeflow::uniform_schedule(1.0, 0.01, N);
    const auto pc = sdeflow::sample_predictor_corrector(vp, m, x, grid);
    CHECK(pc.report.steps == N);
    CHECK(pc.report.evaluations == 2 * N);
    CHECK(pc.samples.allFinite());
    const auto al = sdeflow::sample_annealed_langevin(vp, m, x, grid, 2, 1e-5);
    CHECK(al.report.evaluations == 2 * (N + 1) + 1);
    CHECK(al.samples.allFinite());
  }
}

TEST_CASE("DDIM with eta = 0 is the Euler step of the PF-ODE in sigma/s, DDIM eta = 1 is DDPM", "[samplers]") {
  const sdeflow::vp_process<> vp;
  const auto m = exact_model(sdeflow_test::ring(), vp);
  const X x = sdeflow::initial_noise(vp, 2, 50);
  const auto grid = sdeflow::uniform_schedule(1.0, 1e-3, 37);
  const X a = sdeflow::sample_ddim(m, x, grid).samples;
  const X b = sdeflow::sample_euler(m, x, grid).samples;
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-11);
  // DDIM with eta = 1 draws N(posterior mean, posterior variance): the same as DDPM with beta tilde.
  const X c = sdeflow::sample_ddim(m, x, grid, 1.0, {.seed = 5}).samples;
  const X d = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.seed = 5}).samples;
  CHECK((c - d).cwiseAbs().maxCoeff() < 1e-11);
  // MATH.md's VP form of c: eta sqrt((1-abar')/(1-abar)) sqrt(1 - abar/abar').
  const double t = 0.6, tn = 0.4;
  const double ab = std::pow(vp.mean_scale(t), 2), abn = std::pow(vp.mean_scale(tn), 2);
  const double c_vp = std::sqrt((1 - abn) / (1 - ab)) * std::sqrt(1 - ab / abn);
  const double s = vp.mean_scale(t), sd = vp.marginal_std(t), sn = vp.mean_scale(tn), sdn = vp.marginal_std(tn);
  CHECK(c_vp == Approx((sdn / sd) * std::sqrt(sd * sd - std::pow(s * sdn / sn, 2))).epsilon(1e-12));
}

TEST_CASE("DPM-Solver++(2M) is second order pathwise on a VE log-SNR grid", "[samplers][convergence]") {
  // The same x_T through N = 50 .. 400 steps against 6400 steps of the same solver (its own error is
  // ~300 times smaller): the mean distance falls ~3.8x per doubling (measured 3.77, 3.67, 3.82). This is
  // why the battery runs 50 steps here: at 25 the within-mode spread is measurably inflated (4-8%, z ~ 5),
  // a discretization error that halving the step cuts 4-fold, not a bias that stays.
  const sdeflow::ve_process<> ve(0.01, 50.0);
  const auto m = sdeflow_test::exact_model(sdeflow_test::ring(), ve);
  const Eigen::Index n = sdeflow_test::scaled(Eigen::Index{2000});
  const auto x = sdeflow::initial_noise(ve, 2, n, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 10});
  const auto ref = sdeflow::sample_dpmpp_2m(m, x, sdeflow::log_snr_schedule(ve, 1.0, 1e-3, 6400)).samples;
  std::vector<double> h, e, se;
  for (const std::size_t N : {50u, 100u, 200u, 400u}) {
    const Eigen::ArrayXd d = (sdeflow::sample_dpmpp_2m(m, x, sdeflow::log_snr_schedule(ve, 1.0, 1e-3, N)).samples - ref)
                                 .colwise().norm().transpose().array();
    h.push_back(1.0 / static_cast<double>(N));
    e.push_back(d.mean());
    se.push_back(std::sqrt((d - d.mean()).square().sum() / static_cast<double>(n - 1) / static_cast<double>(n)));
  }
  // Deterministic given x_T: the slope's scatter is pre-asymptotic curvature, not noise; +-0.15 tells 2 from 1.
  const auto est = sdeflow::fit_order(h, e, se);
  INFO("slope " << est.slope << " errors " << e.front() << " .. " << e.back());
  CHECK(est.slope == Approx(2.0).margin(0.15));
}

TEST_CASE("DPM-Solver++(2M) SDE with eta = 0 is DPM-Solver++(2M)", "[samplers]") {
  const sdeflow::edm_process<> edm;
  const auto m = exact_model(sdeflow_test::ring(), edm);
  const X x = sdeflow::initial_noise(edm, 2, 20);
  const auto grid = sdeflow::karras_schedule(edm, 0.002, 80.0, 15);
  CHECK((sdeflow::sample_dpmpp_2m(m, x, grid).samples - sdeflow::sample_dpmpp_2m_sde(m, x, grid, 0.0).samples)
            .cwiseAbs()
            .maxCoeff() == 0.0);
}

TEST_CASE("with eta = 0 the ancestral and SDE forms are their deterministic samplers and other identities", "[samplers]") {
  namespace smp = sdeflow::samplers;
  const sdeflow::edm_process<> edm;
  const auto m = exact_model(sdeflow_test::ring(), edm);
  const X x = sdeflow::initial_noise(edm, 2, 20);
  const auto grid = sdeflow::karras_schedule(edm, 0.002, 80.0, 15);
  const auto run = [&](const auto& s) { return sdeflow::sample(s, m, x, grid, {.seed = 4}).samples; };
  CHECK((run(smp::dpm_2_ancestral{0.0}) - run(smp::dpm_2{})).cwiseAbs().maxCoeff() == 0.0);
  CHECK((run(smp::dpmpp_2s_ancestral{0.0}) - run(smp::dpmpp_2s{})).cwiseAbs().maxCoeff() == 0.0);
  CHECK((run(smp::dpmpp_3m_sde{0.0}) - run(smp::dpmpp_3m{})).cwiseAbs().maxCoeff() == 0.0);
  CHECK((run(smp::dpmpp_sde{0.0}) - run(smp::dpmpp_2s{})).cwiseAbs().maxCoeff() < 1e-12);
  // r = 1 puts the midpoint on t': the second stage has no interval of its own, and a Brownian tree (which
  // refuses a draw shorter than its resolution) must not be asked for one.
  sdeflow::sampler_options<X> tree;
  tree.noise = sdeflow::brownian_tree(0.0, 80.0, 1e-4, 3);
  CHECK(sdeflow::sample(smp::dpmpp_sde{1.0, 1.0, 1.0}, m, x, grid, tree).samples.allFinite());
  const auto taylor = smp::third_order_weight::taylor;
  CHECK((run(smp::dpmpp_3m_sde{0.0, taylor}) - run(smp::dpmpp_3m{taylor})).cwiseAbs().maxCoeff() == 0.0);
  // ... and with eta > 0 they are not (the noise enters).
  CHECK((run(smp::dpm_2_ancestral{}) - run(smp::dpm_2{})).cwiseAbs().maxCoeff() > 1e-3);
  CHECK((run(smp::dpmpp_3m_sde{}) - run(smp::dpmpp_3m{})).cwiseAbs().maxCoeff() > 1e-3);
  // LMS, DEIS and UniP of order 1 are Euler (DDIM); UniP-2 with B(h) = e^{-h} - 1 is DPM-Solver++(2M)
  // (Zhao et al. 2023, Sec. 3.3).
  CHECK((run(smp::lms{1}) - run(smp::euler{})).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((run(smp::deis{1}) - run(smp::euler{})).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((run(smp::unipc{1, smp::unipc_variant::bh2, false}) - run(smp::euler{})).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((run(smp::unipc{2, smp::unipc_variant::bh2, false}) - run(smp::dpmpp_2m{})).cwiseAbs().maxCoeff() < 1e-12);
  // ... and with B(h) = -h it is not (it differs at second order in h).
  CHECK((run(smp::unipc{2, smp::unipc_variant::bh1, false}) - run(smp::dpmpp_2m{})).cwiseAbs().maxCoeff() > 1e-6);
}

TEST_CASE("the velocity-form PF-ODE equals the score-form PF-ODE", "[samplers]") {
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(sdeflow_test::ring(), vp);
  const auto m = exact_model(sdeflow_test::ring(), vp);
  const X x = sdeflow::initial_noise(vp, 2, 30);
  const auto a = sdeflow::sample_flow(m, x, sdeflow::uniform_schedule(1.0, 1e-3, 40)).samples;
  const auto b = sdeflow::sample_probability_flow(vp, score, x, sdeflow::uniform_schedule(1.0, 1e-3, 40)).samples;
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-9);
}

TEST_CASE("samplers: deterministic ones are deterministic / stochastic ones reproduce by seed and batch split",
          "[samplers][reproducibility]") {
  const sdeflow::vp_process<> vp;
  const auto m = exact_model(sdeflow_test::ring(), vp);
  const auto grid = sdeflow::karras_schedule(vp, 0.01, 100.0, 12);
  const sdeflow::sampler_options<X> opt{.seed = 99};
  const X x = sdeflow::initial_noise(vp, 2, 40, opt);
  using runner = std::function<X(const X&, const sdeflow::sampler_options<X>&)>;
  const std::vector<std::pair<std::string, runner>> stochastic = {
      {"ddpm", [&](const X& y, const auto& o) { return sdeflow::sample_ddpm(m, y, grid, sdeflow::ddpm_variance::posterior, o).samples; }},
      {"ddim eta .5", [&](const X& y, const auto& o) { return sdeflow::sample_ddim(m, y, grid, 0.5, o).samples; }},
      {"euler ancestral", [&](const X& y, const auto& o) { return sdeflow::sample_euler_ancestral(m, y, grid, 1.0, o).samples; }},
      {"edm churn", [&](const X& y, const auto& o) { return sdeflow::sample_edm_heun(m, y, grid, {.s_churn = 20}, o).samples; }},
      {"dpm++2m sde", [&](const X& y, const auto& o) { return sdeflow::sample_dpmpp_2m_sde(m, y, grid, 1.0, o).samples; }},
  };
  for (const auto& [name, run] : stochastic) {
    INFO(name);
    const X whole = run(x, opt);
    CHECK((run(x, opt).array() == whole.array()).all());
    X pieces(2, 40);
    for (auto [start, len] : {std::pair<Eigen::Index, Eigen::Index>{0, 13}, {13, 1}, {14, 26}}) {
      auto o = opt;
      o.sample_offset = static_cast<std::uint64_t>(start);
      pieces.middleCols(start, len) = run(x.middleCols(start, len), o);
    }
    CHECK((pieces.array() == whole.array()).all());
    auto other = opt;
    other.seed = 100;
    CHECK((run(x, other).array() != whole.array()).any());
  }
  // Batch-split invariance of the prior draw itself.
  const X head = sdeflow::initial_noise(vp, 2, 13, sdeflow::sampler_options<X>{.seed = 99});
  CHECK((head.array() == x.leftCols(13).array()).all());
  // Deterministic samplers: same input, same bits; no seed dependence.
  CHECK((sdeflow::sample_dpmpp_2m(m, x, grid).samples.array() == sdeflow::sample_dpmpp_2m(m, x, grid, {.seed = 5}).samples.array()).all());
  CHECK((sdeflow::sample_edm_heun(m, x, grid).samples.array() == sdeflow::sample_edm_heun(m, x, grid, {}, {.seed = 5}).samples.array()).all());
}

TEST_CASE("callbacks see every step and can stop early, temperature scales the noise", "[samplers]") {
  const sdeflow::vp_process<> vp;
  const auto m = exact_model(sdeflow_test::ring(), vp);
  const X x = sdeflow::initial_noise(vp, 2, 5);
  const auto grid = sdeflow::uniform_schedule(1.0, 0.0, 10);
  std::vector<double> times;
  sdeflow::sampler_options<X> opt;
  opt.observer = [&](const sdeflow::step_info<X>& s) {
    times.push_back(s.t);
    CHECK(s.t == grid[s.index]);
    CHECK((s.index == 0 || (s.denoised != nullptr && s.denoised->cols() == 5)));
    return s.index < 4;
  };
  const auto out = sdeflow::sample_ddim(m, x, grid, 0.0, opt);
  CHECK(times.size() == 5);
  CHECK(out.report.steps == 4);
  CHECK(out.report.stopped_early);
  // Temperature: the prior draw scales exactly; temperature 0 removes the injected noise.
  const X hot = sdeflow::initial_noise(vp, 2, 5, sdeflow::sampler_options<X>{.seed = 3, .temperature = 1.0});
  const X cold = sdeflow::initial_noise(vp, 2, 5, sdeflow::sampler_options<X>{.seed = 3, .temperature = 0.5});
  CHECK((cold - 0.5 * hot).cwiseAbs().maxCoeff() == 0.0);
  const X frozen = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.seed = 1, .temperature = 0.0}).samples;
  const X frozen2 = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.seed = 2, .temperature = 0.0}).samples;
  CHECK((frozen - frozen2).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("SDEdit: exact data pushed to t0 and denoised comes back as the data distribution", "[samplers][statistical]") {
  const sdeflow::vp_process<> vp;
  const auto& mix = sdeflow_test::ring();
  const auto m = exact_model(mix, vp);
  const X data = mix.sample(10000, 1.0, 0.0, sdeflow::normal_source(21));
  const X start = sdeflow::sdedit_start(vp, data, 0.3, sdeflow::sampler_options<X>{.seed = 22});
  const auto out = sdeflow::sample_dpmpp_2m(m, start, sdeflow::uniform_schedule(0.3, 0.0, 30));
  sdeflow_test::check_matches_mixture(mix, out.samples, 1.0, 0.0);
  CHECK_THROWS_WITH(sdeflow::sdedit_start(vp, data, 0.0), Catch::Contains("t0 = 0"));
}

TEST_CASE("sampler argument validation", "[samplers][errors]") {
  const sdeflow::vp_process<> vp;
  const auto m = exact_model(sdeflow_test::ring(), vp);
  const X x = sdeflow::initial_noise(vp, 2, 3);
  CHECK_THROWS_WITH(sdeflow::sample_ddim(m, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 3)), Catch::Contains("grid.back() = 1"));
  CHECK_THROWS_WITH(sdeflow::sample_ddim(m, x, sdeflow::uniform_schedule(1.0, 0.0, 3), 1.5), Catch::Contains("eta = 1.5"));
  CHECK_THROWS_WITH(sdeflow::sample_ddpm(m, x, sdeflow::uniform_schedule(1.0, 0.0, 3), sdeflow::ddpm_variance::posterior,
                                         {.temperature = -1.0}),
                    Catch::Contains("temperature = -1"));
  CHECK_THROWS_WITH(sdeflow::sample_annealed_langevin(vp, m, x, sdeflow::uniform_schedule(1.0, 0.1, 3), 0, 1e-3),
                    Catch::Contains("steps_per_level = 0"));
  CHECK_THROWS_WITH(sdeflow::sample_predictor_corrector(vp, m, x, sdeflow::uniform_schedule(1.0, 0.1, 3), {.snr = 0.0}),
                    Catch::Contains("snr = 0"));
  const auto g = sdeflow::uniform_schedule(1.0, 0.0, 3);
  CHECK_THROWS_WITH(sdeflow::sample_dpm_2_ancestral(m, x, g, 1.5), Catch::Contains("dpm_2_ancestral") && Catch::Contains("eta = 1.5"));
  CHECK_THROWS_WITH(sdeflow::sample_dpmpp_2s_ancestral(m, x, g, -0.5),
                    Catch::Contains("dpmpp_2s_ancestral") && Catch::Contains("eta = -0.5"));
  CHECK_THROWS_WITH(sdeflow::sample_dpmpp_3m_sde(m, x, g, -1.0), Catch::Contains("dpmpp_3m_sde") && Catch::Contains("eta = -1"));
  CHECK_THROWS_WITH(sdeflow::sample_lms(m, x, g, 5), Catch::Contains("lms") && Catch::Contains("order = 5"));
  CHECK_THROWS_WITH(sdeflow::sample_lms(m, x, g, 0), Catch::Contains("order = 0"));
  CHECK_THROWS_WITH(sdeflow::sample(sdeflow::samplers::dpmpp_sde{.r = 0.0}, m, x, g),
                    Catch::Contains("dpmpp_sde") && Catch::Contains("r = 0"));
  CHECK_THROWS_WITH(sdeflow::sample_unipc(m, x, g, 4), Catch::Contains("unipc") && Catch::Contains("order = 4"));
  CHECK_THROWS_WITH(sdeflow::sample(sdeflow::samplers::deis{0}, m, x, g), Catch::Contains("deis") && Catch::Contains("order = 0"));
  const X x3 = X::Ones(3, 2);
  CHECK_THROWS_AS(sdeflow::sample_dpmpp_2m(m, x3, sdeflow::uniform_schedule(1.0, 0.0, 3)), sdeflow::dimension_mismatch);
}
