// SPDX-License-Identifier: MIT
// The diffusion-sampler suite in one file: wrap a network of any parameterization in a `model`, pick a
// schedule and a sampler, watch the steps, guide, edit. The "network" here is the exact noise predictor
// of a Gaussian ring, so every result can be checked against the truth (MMD^2 to the exact mixture).
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  cli::command cmd("sampler_tour",
                   "The diffusion samplers in one file: a model of any parameterization, schedules, samplers, an observer,\n"
                   "guidance and editing, on the exact noise predictor of a Gaussian ring (MMD^2 to the exact mixture).");
  cmd.epilog("Takes no arguments; exit code 2 when given one.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  using X = Eigen::MatrixXd;
  const auto ring = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  const sdeflow::vp_process vp;
  const auto exact = sdeflow::exact_score(ring, vp);

  // A stand-in for a trained epsilon network: eps(x, t) = -sigma(t) * score(x, t).
  auto eps_net = [&](const X& x, double t) -> X { return -vp.marginal_std(t) * exact(x, t); };
  const sdeflow::model net(vp, eps_net, sdeflow::prediction::epsilon);

  const Eigen::Index n = 4000;
  const sdeflow::sampler_options<X> opt{.seed = 1};
  const X xT = sdeflow::initial_noise(vp, 2, n, opt);
  auto report = [&](const char* name, const sdeflow::sample_result<X>& r) {
    std::printf("%-34s NFE %4zu   MMD^2 to the exact ring %9.2e\n", name, r.report.evaluations,
                sdeflow::mmd_to_mixture(r.samples, ring, 1.0, 0.0, 1.0));
  };

  // Deterministic, few steps: DPM-Solver++(2M) on a Karras schedule in sigma/s.
  const auto karras = sdeflow::karras_schedule(vp, 0.002, sdeflow::sigma_ratio(vp, 1.0), 20);
  report("DPM-Solver++(2M), Karras, 20 steps", sdeflow::sample_dpmpp_2m(net, xT, karras, opt));
  // The same run in cache-sized column tiles on two threads: the same bits (the noise is keyed per sample).
  sdeflow::sampler_options<X> threaded = opt;
  threaded.exec.threads = 2;
  const bool same_bits = (sdeflow::sample_dpmpp_2m(net, xT, karras, threaded).samples.array() ==
                          sdeflow::sample_dpmpp_2m(net, xT, karras, opt).samples.array()).all();
  std::printf("  the same on two threads: %s\n", same_bits ? "bit-identical" : "DIFFERENT");
  report("EDM Heun, Karras, 10 steps", sdeflow::sample_edm_heun(net, xT, sdeflow::karras_schedule(vp, 0.002, 150.0, 10)));
  // DDIM on a log-SNR schedule; DDPM ancestral on a uniform one.
  report("DDIM eta=0, log-SNR, 50 steps", sdeflow::sample_ddim(net, xT, sdeflow::log_snr_schedule(vp, 1.0, 1e-3, 50)));
  report("DDPM, uniform t, 200 steps", sdeflow::sample_ddpm(net, xT, sdeflow::uniform_schedule(1.0, 0.0, 200),
                                                           sdeflow::ddpm_variance::posterior, opt));

  // Few-step solvers at 10 model evaluations (k-diffusion / diffusers names): UniPC, DEIS, DPM-Solver++(3M),
  // LMS, and the single-step DPM-Solver++ SDE with its noise from one Brownian path.
  const auto karras10 = sdeflow::karras_schedule(vp, 0.002, sdeflow::sigma_ratio(vp, 1.0), 10);
  report("UniPC-2 (bh2), Karras, 10 steps", sdeflow::sample(sdeflow::samplers::unipc{.order = 2}, net, xT, karras10));
  report("DEIS-3, Karras, 10 steps", sdeflow::sample(sdeflow::samplers::deis{.order = 3}, net, xT, karras10));
  report("DPM-Solver++(3M), Karras, 10 steps", sdeflow::sample(sdeflow::samplers::dpmpp_3m{}, net, xT, karras10));
  report("LMS-4, Karras, 10 steps", sdeflow::sample_lms(net, xT, karras10, 4));
  report("DPM-Solver++ SDE, Karras, 5 steps", sdeflow::sample_dpmpp_sde(net, xT, sdeflow::karras_schedule(vp, 0.002, sdeflow::sigma_ratio(vp, 1.0), 5), 1.0, opt));
  // Adaptive DPM-Solver (k-diffusion's sample_dpm_adaptive): the tolerance sets the NFE; a last grid
  // point at t = 0 adds the final denoising step.
  const auto ends = sdeflow::time_grid<>::from_points({1.0, 0.002, 0.0});
  report("DPM adaptive, rtol = atol = 1e-3", sdeflow::sample_dpm_adaptive(net, xT, ends, {.rtol = 1e-3, .atol = 1e-3}));
  // A schedule fitted to this model and sampler (flow-map error against Dormand-Prince on 128 draws),
  // then reused on the full batch.
  const X train = sdeflow::initial_noise(vp, 2, 128, karras10, {.seed = 9});
  const auto fitted = sdeflow::optimize_schedule(sdeflow::samplers::unipc{.order = 2}, net, train, karras10, {.max_sweeps = 4});
  std::printf("  optimize_schedule: flow-map error on its batch %.3f -> %.3f (%zu trial runs)\n", fitted.initial_error,
              fitted.error, fitted.trials);
  report("UniPC-2, fitted grid, 10 steps", sdeflow::sample(sdeflow::samplers::unipc{.order = 2}, net, xT, fitted.grid));

  // An observer: sees every grid point with the model's x0_hat; returning false would stop the run.
  sdeflow::sampler_options<X> watched = opt;
  watched.observer = [](const sdeflow::step_info<X>& s) {
    if (s.denoised != nullptr && s.index % 5 == 0) {
      std::printf("  step %2zu  t = %.3f  |x0_hat| mean %.3f\n", s.index, s.t, s.denoised->colwise().norm().mean());
    }
    return true;
  };
  report("Euler ancestral, 20 steps (watched)", sdeflow::sample_euler_ancestral(net, xT, karras, 1.0, watched));

  // Classifier-free guidance: a "conditional" model that knows the data lie on the right half of the
  // ring (modes 0, 1, 7), guided with weight w against the unconditional one.
  const sdeflow::gaussian_mixture<> right({1.0 / 3, 1.0 / 3, 1.0 / 3}, {ring.mean(0), ring.mean(1), ring.mean(7)},
                                          {ring.covariance(0), ring.covariance(1), ring.covariance(7)});
  const auto exact_right = sdeflow::exact_score(right, vp);
  auto cond = [&](const X& x, double t) -> X { return -vp.marginal_std(t) * exact_right(x, t); };
  for (double w : {0.0, 2.0}) {
    const sdeflow::model guided_net(vp, sdeflow::guided(cond, eps_net, w), sdeflow::prediction::epsilon);
    const X x = sdeflow::sample_dpmpp_2m(guided_net, xT, karras, opt).samples;
    std::printf("CFG w = %.0f: mean x-coordinate %.2f (conditional data: %.2f)\n", w, x.row(0).mean(),
                right.mean(1.0, 0.0)(0));
  }

  // SDEdit: push data to t0 = 0.4 and denoise back; temperature 0.8 sharpens the injected noise.
  const X data = ring.sample(n, 1.0, 0.0, sdeflow::normal_source(3));
  const X start = sdeflow::sdedit_start(vp, data, 0.4, opt);
  report("SDEdit from t0 = 0.4, DDIM 40 steps", sdeflow::sample_ddim(net, start, sdeflow::uniform_schedule(0.4, 0.0, 40)));
  sdeflow::sampler_options<X> cool = opt;
  cool.temperature = 0.8;
  report("DDPM at temperature 0.8 (biased)", sdeflow::sample_ddpm(net, sdeflow::initial_noise(vp, 2, n, cool),
                                                                 sdeflow::uniform_schedule(1.0, 0.0, 200),
                                                                 sdeflow::ddpm_variance::posterior, cool));

  // Flow matching: a rectified-flow velocity model u = eps - x0, sampled with RK4 from t = 1 to 0.
  const sdeflow::rectified_flow<> rf;
  const auto exact_rf = sdeflow::exact_score(ring, rf);
  const sdeflow::model flow(rf,
                            [&](const X& x, double t) -> X {
                              const X x0 = exact_rf.denoise(x, t);
                              const X eps = t > 0 ? X((x - (1 - t) * x0) / t) : X(X::Zero(x.rows(), x.cols()));
                              return eps - x0;
                            },
                            sdeflow::prediction::flow);
  report("rectified flow, RK4, 10 steps", sdeflow::sample_flow(flow, sdeflow::initial_noise(rf, 2, n, opt),
                                                              sdeflow::uniform_schedule(1.0, 0.0, 10)));
  return 0;
}
