// SPDX-License-Identifier: MIT
// The sampler report card: every sampler, driven by the exact model of a ground-truth mixture, at
// NFE = 5, 10, 20, 50, 100, 250, 1000, on the 2-D ring and on the anisotropic d = 8 mixture.
// Errors against the exact data distribution:
//   MMD2  unbiased squared MMD to the exact mixture (Gaussian kernel; bandwidth 1 on the ring, 2 in d = 8),
//         closed-form mixture terms, so no reference-sample noise; "exact draw" rows give the noise floor.
//   mode  total variation between the sample's mode fractions (most-probable-component labels) and the
//         exact mixture's (from 200,000 exact draws).
// Run: build/bench/benchmarks/sampler_report [N] > report.txt      (N samples per run, default 2000; --help)
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

using X = Eigen::MatrixXd;

sdeflow::gaussian_mixture<> aniso8() {
  // The same mixture as tests/samplers/sampler_support.hpp.
  return sdeflow::gaussian_mixture<>::random_anisotropic({0.1, 0.2, 0.3, 0.4}, 8, 4.0, 808);
}

template <class P>
auto exact_model(const sdeflow::gaussian_mixture<>& mix, const P& p) {
  auto score = sdeflow::exact_score(mix, p);
  return sdeflow::model(p, [score](const X& x, double t) { return score.denoise(x, t); }, sdeflow::prediction::data);
}

struct sampler {
  std::string name;
  // Runs the sampler with about `nfe` evaluations; returns samples, evaluations used and the (s, sigma)
  // of the distribution they target.
  std::function<std::tuple<X, std::size_t, double, double>(std::size_t nfe, Eigen::Index n)> run;
};

}  // namespace

int main(int argc, char** argv) {
  cli::command cmd("sampler_report",
                   "The sampler report card: every sampler on the exact model of the 2-D ring and of an anisotropic\n"
                   "d = 8 mixture at NFE 5 to 1000, with MMD^2 to the exact mixture and the mode-weight error.");
  cmd.positional_integer("N", "samples per run", 2000, 100, 10'000'000)
      .epilog("Prints the table on stdout (docs/sampler-report-5000.txt is N = 5000). Exit code 2 on a bad argument.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  const Eigen::Index n = cmd.integer_value("N");
  const std::vector<std::size_t> budgets = {5, 10, 20, 50, 100, 250, 1000};
  std::printf("# sdeflow sampler report card: n = %ld samples per run, exact models\n", static_cast<long>(n));
  std::printf("%-6s %-22s", "data", "sampler");
  for (std::size_t b : budgets) std::printf(" %9s", ("NFE " + std::to_string(b)).c_str());
  std::printf("\n");

  for (int which = 0; which < 2; ++which) {
    const auto mix = which == 0 ? sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3) : aniso8();
    const std::string data = which == 0 ? "ring" : "aniso8";
    const double h = which == 0 ? 1.0 : 2.0;
    const Eigen::Index d = mix.dimension();
    const sdeflow::vp_process<> vp;
    const sdeflow::ve_process<> ve(0.01, 50.0);
    const sdeflow::edm_process<> edm(80.0);
    const sdeflow::rectified_flow<> rf;
    const auto m_vp = exact_model(mix, vp);
    const auto m_edm = exact_model(mix, edm);
    const auto m_rf = exact_model(mix, rf);
    const auto s_vp = sdeflow::exact_score(mix, vp);
    const auto s_ve = sdeflow::exact_score(mix, ve);
    const sdeflow::sampler_options<X> opt{.seed = 5};
    auto karras = [&](std::size_t steps) { return sdeflow::karras_schedule(edm, 0.002, 80.0, std::max<std::size_t>(steps, 1)); };
    auto uni = [&](std::size_t steps) { return sdeflow::uniform_schedule(1.0, 0.0, std::max<std::size_t>(steps, 1)); };
    const double t_end = 1e-3;

    std::vector<sampler> samplers = {
        {"reverse SDE EM (VP)", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_reverse_sde(vp, s_vp, d, k, sdeflow::uniform_schedule(1.0, t_end, b), opt);
           return std::tuple{r.samples, r.report.evaluations, vp.mean_scale(t_end), vp.marginal_std(t_end)};
         }},
        {"PF-ODE RK4 (VP)", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_probability_flow(vp, s_vp, d, k, sdeflow::uniform_schedule(1.0, t_end, std::max<std::size_t>(b / 4, 1)), opt);
           return std::tuple{r.samples, r.report.evaluations, vp.mean_scale(t_end), vp.marginal_std(t_end)};
         }},
        {"DDPM (VP)", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_ddpm(m_vp, sdeflow::initial_noise(vp, d, k, opt), uni(b), sdeflow::ddpm_variance::posterior, opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"DDIM eta=0 (VP)", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_ddim(m_vp, sdeflow::initial_noise(vp, d, k, opt), uni(b), 0.0, opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"PC rev-diff+Langevin", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_predictor_corrector(vp, m_vp, sdeflow::initial_noise(vp, d, k, opt),
                                                        sdeflow::uniform_schedule(1.0, t_end, std::max<std::size_t>(b / 2, 1)), {}, opt);
           return std::tuple{r.samples, r.report.evaluations, vp.mean_scale(t_end), vp.marginal_std(t_end)};
         }},
        {"annealed Langevin (VE)", [&](std::size_t b, Eigen::Index k) {
           const std::size_t levels = b >= 100 ? 10 : 5;
           const double sL = ve.marginal_std(0.4);
           auto r = sdeflow::sample_annealed_langevin(ve, s_ve, sdeflow::initial_noise(ve, d, k, opt),
                                                      sdeflow::time_grid<>::uniform(1.0, 0.4, levels - 1),
                                                      std::max<std::size_t>(b / levels, 1), 0.1 * sL * sL, false, opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, sL};
         }},
        {"Euler (EDM, Karras)", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_euler(m_edm, sdeflow::initial_noise(edm, d, k, opt), karras(b), opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"Euler ancestral", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_euler_ancestral(m_edm, sdeflow::initial_noise(edm, d, k, opt), karras(b), 1.0, opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"EDM Heun", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_edm_heun(m_edm, sdeflow::initial_noise(edm, d, k, opt), karras((b + 1) / 2), {}, opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"DPM-Solver++(2M)", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_dpmpp_2m(m_edm, sdeflow::initial_noise(edm, d, k, opt), karras(b), opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"DPM-Solver++(2M) SDE", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_dpmpp_2m_sde(m_edm, sdeflow::initial_noise(edm, d, k, opt), karras(b), 1.0, opt);
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"rectified flow Euler", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_flow(m_rf, sdeflow::initial_noise(rf, d, k, opt), uni(b), sdeflow::euler{});
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
        {"rectified flow RK4", [&](std::size_t b, Eigen::Index k) {
           auto r = sdeflow::sample_flow(m_rf, sdeflow::initial_noise(rf, d, k, opt), uni(std::max<std::size_t>(b / 4, 1)), sdeflow::rk4{});
           return std::tuple{r.samples, r.report.evaluations, 1.0, 0.0};
         }},
    };

    // Mode fractions of the exact distribution at (s, sigma), from many exact draws.
    auto exact_fractions = [&](double s, double sd) {
      const X big = mix.sample(200000, s, sd, sdeflow::normal_source(777));
      return sdeflow::mode_fractions(mix.classify(big, s, sd), mix.components());
    };
    const auto f_data = exact_fractions(1.0, 0.0);
    auto mode_tv = [&](const X& x, double s, double sd) {
      const auto f = sdeflow::mode_fractions(mix.classify(x, s, sd), mix.components());
      const auto g = (s == 1.0 && sd == 0.0) ? f_data : exact_fractions(s, sd);
      double tv = 0;
      for (std::size_t k = 0; k < f.size(); ++k) tv += std::fabs(f[k] - g[k]);
      return tv / 2;
    };

    // Noise floor: exact draws.
    const X exact = mix.sample(n, 1.0, 0.0, sdeflow::normal_source(99));
    std::printf("%-6s %-22s %9.2e   (MMD2 of an exact draw: the noise floor)\n", data.c_str(), "exact draw",
                sdeflow::mmd_to_mixture(exact, mix, 1.0, 0.0, h));
    std::printf("%-6s %-22s %9.4f   (mode TV of an exact draw)\n", data.c_str(), "exact draw", mode_tv(exact, 1.0, 0.0));
    // The library's progress observer, here counting sampler rows (on stderr, only when it is a terminal).
    sdeflow::progress rows_done({.label = data + ": samplers done"});
    const X none;
    std::size_t row = 0;
    rows_done(sdeflow::step_info<X>{row, 0.0, none, nullptr, samplers.size()});
    for (const auto& smp : samplers) {
      std::vector<double> mmd, tv;
      std::vector<std::size_t> used;
      for (std::size_t b : budgets) {
        try {
          auto [x, nfe, s, sd] = smp.run(b, n);
          mmd.push_back(sdeflow::mmd_to_mixture(x, mix, s, sd, h));
          tv.push_back(mode_tv(x, s, sd));
          used.push_back(nfe);
        } catch (const sdeflow::error& e) {
          mmd.push_back(NAN);
          tv.push_back(NAN);
          used.push_back(0);
        }
      }
      std::printf("%-6s %-22s", data.c_str(), (smp.name + " MMD2").c_str());
      for (double v : mmd) std::printf(" %9.2e", v);
      std::printf("\n%-6s %-22s", data.c_str(), "  mode TV");
      for (double v : tv) std::printf(" %9.4f", v);
      std::printf("\n%-6s %-22s", data.c_str(), "  NFE used");
      for (std::size_t v : used) std::printf(" %9zu", v);
      std::printf("\n");
      std::fflush(stdout);
      rows_done(sdeflow::step_info<X>{++row, 0.0, none, nullptr, samplers.size()});
    }
  }
  return 0;
}
