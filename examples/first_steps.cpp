// SPDX-License-Identifier: MIT
// The tutorial's program (docs/tutorial.md), step by step:
//   1. your first SDE ensemble: geometric Brownian motion written as your own system, 100,000 paths by
//      Euler-Maruyama and Milstein, the ensemble's mean and variance against their closed forms, and
//      the strong error of each scheme against the exact solution on the same Brownian paths;
//   2. your first diffusion sampler on your own model: a noise predictor you write (here the exact one
//      for Gaussian data, so the answer is known), wrapped as a model, sampled by DPM-Solver++(2M) with
//      a progress line, the samples' moments against the data's, and the samples written as .npy.
// Exit code 1 when a check fails, 2 on a bad argument.
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace {

// Step 1. Your own SDE: dX = mu X dt + sigma X dW, one Wiener process per coordinate (diagonal noise).
// drift and diffusion write into `out`: the integrators call them without allocating.
struct gbm {
  double mu, sigma;
  void drift(const Eigen::MatrixXd& x, double /*t*/, Eigen::MatrixXd& out) const { out = mu * x; }
  void diffusion(const Eigen::MatrixXd& x, double /*t*/, Eigen::MatrixXd& out) const { out = sigma * x; }
};

// The Brownian path itself, dW = 1 dW: integrated with the same noise it returns W_T exactly.
struct wiener {
  void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setZero(x.rows(), x.cols()); }
  void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setOnes(x.rows(), x.cols()); }
};

// |z| > 5 standard errors fails.
bool check(const char* what, double got, double exact, double se) {
  const double z = (got - exact) / se;
  std::printf("  %-34s %10.5f   exact %10.5f   z = %+.2f\n", what, got, exact, z);
  return std::fabs(z) < 5;
}

}  // namespace

int main(int argc, char** argv) {
  cli::command cmd("first_steps",
                   "The tutorial's program (docs/tutorial.md): an SDE ensemble of geometric Brownian motion against\n"
                   "its closed form, then a diffusion sampler on a noise predictor you write.");
  cmd.positional("DIR", "where the samples go (created if missing)", ".")
      .integer("--paths", "N", "paths of the SDE ensemble", 100'000, 1000, 100'000'000)
      .epilog("Writes DIR/first_steps_samples.npy (shape (n, 2)). Exit code 1 when a check fails, 2 on a bad argument.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  bool ok = true;

  // ---- 1. An SDE ensemble -------------------------------------------------------------------------
  const gbm sys{0.5, 0.4};
  const double x0 = 1.0, T = 1.0;
  const Eigen::Index n = cmd.integer_value("--paths");
  const auto grid = sdeflow::time_grid<>::uniform(0.0, T, 64);  // 64 steps of h = 1/64
  // Counter-based noise: the increment of path j at step k depends only on (seed, j, k), so the three
  // runs below see the same Brownian paths.
  const auto noise = sdeflow::brownian_increments(/*seed=*/2024);

  Eigen::MatrixXd em = Eigen::MatrixXd::Constant(1, n, x0);
  sdeflow::integrate(sdeflow::euler_maruyama{}, sys, em, grid, noise);
  Eigen::MatrixXd mil = Eigen::MatrixXd::Constant(1, n, x0);
  sdeflow::integrate(sdeflow::milstein{}, sys, mil, grid, noise);
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(1, n);
  sdeflow::integrate(sdeflow::euler_maruyama{}, wiener{}, w, grid, noise);

  // The exact solution on those paths: X_T = x0 exp((mu - sigma^2 / 2) T + sigma W_T).
  const Eigen::ArrayXXd exact = x0 * ((sys.mu - 0.5 * sys.sigma * sys.sigma) * T + sys.sigma * w.array()).exp();
  const auto nd = static_cast<double>(n);
  const double mean = mil.mean();
  const double var = (mil.array() - mean).square().sum() / (nd - 1);
  const double m4 = (mil.array() - mean).pow(4).mean();
  std::printf("1. geometric Brownian motion, %ld paths, 64 steps (Milstein):\n", static_cast<long>(n));
  // The SDE's moments are E[X_T] = x0 e^{mu T} and Var[X_T] = x0^2 e^{2 mu T} (e^{sigma^2 T} - 1). The
  // scheme's differ by O(h) (here about two standard errors), so the check uses the scheme's own, exact
  // for its Gaussian increments: a Milstein step multiplies X by A + sigma dW + sigma^2/2 (dW^2 - h),
  // A = 1 + mu h, whose mean is A and whose second moment is A^2 + sigma^2 h + sigma^4 h^2 / 2.
  const double h = T / 64, A = 1 + sys.mu * h, s2 = sys.sigma * sys.sigma;
  const double mean_scheme = x0 * std::pow(A, 64);
  const double var_scheme = x0 * x0 * (std::pow(A * A + s2 * h + s2 * s2 * h * h / 2, 64) - std::pow(A, 128));
  std::printf("  (the SDE's own: mean %.5f, variance %.5f)\n", x0 * std::exp(sys.mu * T),
              x0 * x0 * std::exp(2 * sys.mu * T) * std::expm1(s2 * T));
  ok &= check("mean of X_T", mean, mean_scheme, std::sqrt(var / nd));
  ok &= check("variance of X_T", var, var_scheme, std::sqrt((m4 - var * var) / nd));
  const double strong_em = (em.array() - exact).abs().mean();
  const double strong_mil = (mil.array() - exact).abs().mean();
  std::printf("  strong error E|X_T - exact|: Euler-Maruyama %.2e, Milstein %.2e (orders 1/2 and 1)\n", strong_em,
              strong_mil);
  ok &= strong_mil < strong_em;

  // ---- 2. A diffusion sampler on your own model ---------------------------------------------------
  // Data N(m, s^2 I) in 2-D, forward process VP: x_t = alpha(t) x_0 + sigma(t) eps. Your network would
  // predict eps from (x_t, t); for Gaussian data the best predictor is known exactly:
  //   eps_hat(x, t) = sigma (x - alpha m) / (alpha^2 s^2 + sigma^2).
  const sdeflow::vp_process<> vp;
  const Eigen::Vector2d m(1.0, -2.0);
  const double s = 0.5;
  auto my_network = [&](const Eigen::MatrixXd& x, double t) -> Eigen::MatrixXd {
    const double a = vp.mean_scale(t), sg = vp.marginal_std(t);
    return sg * (x.colwise() - a * m) / (a * a * s * s + sg * sg);
  };
  const sdeflow::model model(vp, my_network, sdeflow::prediction::epsilon);

  const Eigen::Index ns = 20'000;
  sdeflow::sampler_options<Eigen::MatrixXd> opt{.seed = 7};
  // A progress line on stderr when it is a terminal (attached only then: observers cost a copy per step).
  if (const sdeflow::progress bar({.label = "DPM-Solver++(2M)"}); bar.enabled()) opt.observer = bar;
  // Grids uniform in the log-SNR lambda = ln(alpha / sigma), the grid DPM-Solver was designed on
  // (uniform in t would put most of lambda's range into the last steps). The same x_T for both runs.
  const Eigen::MatrixXd x_T = sdeflow::initial_noise(vp, 2, ns, sdeflow::log_snr_schedule(vp, 1.0, 1e-3, 100), opt);
  const auto out = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, model, x_T, sdeflow::log_snr_schedule(vp, 1.0, 1e-3, 100), opt);
  const auto few = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, model, x_T, sdeflow::log_snr_schedule(vp, 1.0, 1e-3, 10), opt);

  // At t = 1e-3 the exact marginal is N(alpha m, (alpha^2 s^2 + sigma^2) I).
  const double a = vp.mean_scale(1e-3), sg = vp.marginal_std(1e-3);
  const double v_exact = a * a * s * s + sg * sg;
  auto variance = [](const Eigen::MatrixXd& x) {
    return (x.colwise() - x.rowwise().mean()).squaredNorm() / static_cast<double>(x.size() - x.rows());
  };
  const Eigen::Vector2d mu_hat = out.samples.rowwise().mean();
  const double v_hat = variance(out.samples);
  std::printf("2. DPM-Solver++(2M), 100 steps (%zu evaluations), %ld samples of N((1, -2), 0.25 I):\n",
              out.report.evaluations, static_cast<long>(ns));
  const double se_mean = std::sqrt(v_exact / static_cast<double>(ns));
  ok &= check("mean, first coordinate", mu_hat(0), a * m(0), se_mean);
  ok &= check("mean, second coordinate", mu_hat(1), a * m(1), se_mean);
  ok &= check("variance per coordinate", v_hat, v_exact, v_exact * std::sqrt(1.0 / static_cast<double>(ns)));
  // Few steps: the same x_T, 10 evaluations. Its variance error is the solver's, not sampling noise
  // (the 100-step run shares the noise).
  std::printf("  with 10 steps: variance %.5f, %.1f%% above the 100-step run's (the solver's own error)\n",
              variance(few.samples), 100 * (variance(few.samples) / v_hat - 1));

  const std::filesystem::path dir = cmd.text_value("DIR");
  std::filesystem::create_directories(dir);
  sdeflow::write_npy((dir / "first_steps_samples.npy").string(), out.samples);
  cmd.wrote(dir / "first_steps_samples.npy", "the samples");
  if (!ok) std::printf("FAILED: a check above is more than 5 standard errors off\n");
  return ok ? 0 : 1;
}
