// SPDX-License-Identifier: MIT
// Inpainting on the 2-D ring with the step-level API: the first coordinate is known (x1 = y), the
// second is sampled. After every DDPM step the known coordinate is replaced by a forward-noised copy of
// y at the new time, s(t) y + sigma(t) z (the "replacement" method; Song et al. 2021, Sec. 5 and App. I.2;
// Lugmayr et al. 2022 call it the baseline of RePaint). The result is compared with the exact
// conditional distribution of the mixture, p(x2 | x1 = y) = sum_k w_k N(mu_k2 + C21/C11 (y - mu_k1),
// C22 - C21^2/C11) with w_k ~ pi_k N(y; mu_k1, C11).
//
// What holds exactly and is checked (exit code 1 otherwise): x1 = y at t = 0; the conditional mean and
// the split between the modes x2 > 0 and x2 < 0 within 5 standard errors. What does not: the
// replacement method is known to be biased; its E[x2^2] is printed next to the exact value.
//
// Usage: inpainting [Y] [STEPS]     (defaults 1.0 and 500; inpainting --help for the details)
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

using X = Eigen::MatrixXd;

int main(int argc, char** argv) {
  cli::command cmd("inpainting",
                   "Inpainting on the 8-mode ring with the step-level API: x1 = Y is known, x2 is sampled by DDPM with\n"
                   "the replacement method, and compared with the exact conditional distribution p(x2 | x1 = Y).");
  cmd.positional_real("Y", "the known first coordinate", 1.0, -20.0, 20.0)
      .positional_integer("STEPS", "DDPM steps from T = 1 to 0", 500, 1, 1'000'000)
      .epilog("Prints the conditional mean, the mode split and E[x2^2] against their exact values. Exit code 1\n"
              "when a check fails, 2 on a bad argument.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  const double y = cmd.real_value("Y");
  const long steps = cmd.integer_value("STEPS");

  const auto mix = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  const sdeflow::vp_process<> vp;
  const auto exact = sdeflow::exact_score(mix, vp);
  const sdeflow::model m(vp, [exact](const X& x, double t) { return exact.denoise(x, t); }, sdeflow::prediction::data);
  const auto grid = sdeflow::uniform_schedule(1.0, 0.0, static_cast<std::size_t>(steps));
  const Eigen::Index n = 20000;

  // The run, one step at a time: after each step, overwrite the known row.
  sdeflow::sampling_run run(sdeflow::samplers::ddpm{}, m, sdeflow::initial_noise(vp, 2, n, grid, {.seed = 1}), grid,
                            {.seed = 2});
  const sdeflow::normal_source known_noise(3, 5);
  Eigen::RowVectorXd z(n);
  while (!run.done()) {
    run.step();
    const double t = run.time();
    known_noise.fill(z, run.index());
    run.state().row(0) = (vp.mean_scale(t) * y + vp.marginal_std(t) * z.array()).matrix();
  }
  const X x = std::move(run).result().samples;

  // The exact conditional p(x2 | x1 = y): its mean, second moment and P(x2 > 0).
  double wsum = 0, mean = 0, second = 0, positive = 0;
  for (std::size_t k = 0; k < mix.components(); ++k) {
    const Eigen::VectorXd mu = mix.mean(k);
    const Eigen::MatrixXd C = mix.covariance(k);
    const double w = mix.weight(k) * std::exp(-0.5 * (y - mu(0)) * (y - mu(0)) / C(0, 0)) / std::sqrt(C(0, 0));
    const double cm = mu(1) + C(1, 0) / C(0, 0) * (y - mu(0));
    const double cv = C(1, 1) - C(1, 0) * C(1, 0) / C(0, 0);
    wsum += w;
    mean += w * cm;
    second += w * (cv + cm * cm);
    positive += w * 0.5 * std::erfc(-cm / std::sqrt(2 * cv));
  }
  mean /= wsum;
  second /= wsum;
  positive /= wsum;

  const double nn = static_cast<double>(n);
  const Eigen::ArrayXd x2 = x.row(1).transpose().array();
  const double s_mean = x2.mean(), s_second = x2.square().mean();
  const double s_pos = (x2 > 0).cast<double>().mean();
  const double se_mean = std::sqrt((second - mean * mean) / nn);
  const double se_pos = std::sqrt(positive * (1 - positive) / nn);
  const double se_second = std::sqrt((x2.square() - s_second).square().mean() / nn);
  const bool known_exact = (x.row(0).array() == y).all();
  const bool mean_ok = std::abs(s_mean - mean) < 5 * se_mean;
  const bool split_ok = std::abs(s_pos - positive) < 5 * se_pos;
  std::printf("inpainting the ring at x1 = %g with %ld DDPM steps, n = %ld\n", y, steps, static_cast<long>(n));
  std::printf("  x1 == y exactly at t = 0:  %s\n", known_exact ? "yes" : "NO");
  std::printf("  E[x2]:     sampled %8.4f  exact %8.4f  (5 SE = %.4f)  %s\n", s_mean, mean, 5 * se_mean, mean_ok ? "ok" : "FAIL");
  std::printf("  P(x2 > 0): sampled %8.4f  exact %8.4f  (5 SE = %.4f)  %s\n", s_pos, positive, 5 * se_pos, split_ok ? "ok" : "FAIL");
  std::printf("  E[x2^2]:   sampled %8.4f  exact %8.4f  (SE %.4f): the replacement method's bias\n", s_second, second,
              se_second);
  return known_exact && mean_ok && split_ok ? 0 : 1;
}
