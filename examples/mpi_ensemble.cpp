// SPDX-License-Identifier: MIT
// Beyond one process: an SDE ensemble and a diffusion sampler run split over MPI ranks (and threads inside
// each rank), with their moments checked against closed forms.
//
//   mpirun -np 2 ./mpi_ensemble                      # 1e7 Ornstein-Uhlenbeck paths, 1e6 diffusion samples
//   mpirun -np 1 --map-by slot:PE=2 ./mpi_ensemble --threads 2 --out samples   # threads need cores: see below
//
// As root, Open MPI needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (or --allow-run-as-root).
// The results are those of one process, bit for bit (the noise is keyed by the global sample index), so
// the numbers printed do not depend on -np or --threads; only the times do.
#include <sdeflow/mpi/mpi.hpp>
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using X = Eigen::MatrixXd;
namespace mpi = sdeflow::mpi;

double z(double got, double exact, double se) { return (got - exact) / se; }

}  // namespace

int main(int argc, char** argv) {
  mpi::environment env(argc, argv);
  const mpi::communicator world;
  const bool root = world.rank() == 0;
  cli::command cmd("mpi_ensemble",
                   "An Ornstein-Uhlenbeck ensemble and a diffusion sampler (DPM-Solver++(2M), 50 steps, exact 8-mode\n"
                   "ring) split over MPI ranks and threads; run it as mpirun -np P mpi_ensemble [options].");
  cmd.integer("--paths", "N", "Ornstein-Uhlenbeck paths in the ensemble", 10'000'000, 1, 4'000'000'000L)
      .integer("--samples", "N", "diffusion samples", 1'000'000, 1, 4'000'000'000L)
      .integer("--steps", "N", "Euler-Maruyama steps of the ensemble over [0, 1]", 100, 1, 1'000'000)
      .integer("--threads", "T", "threads inside each rank", 1, 1, 256)
      .text("--out", "PREFIX", "each rank writes its diffusion samples to PREFIX-rank<r>-of-<P>.npy", "")
      .epilog("Prints the moments against their closed forms and the time of the slowest rank. Exit code 1 when a\n"
              "moment is more than 5 standard errors from its closed form, 2 on a bad argument.");
  if (const auto code = cmd.parse(argc, argv, root)) return *code;
  const struct {
    std::uint64_t paths, samples;
    std::size_t steps;
    unsigned threads;
    std::string out;
  } a{static_cast<std::uint64_t>(cmd.integer_value("--paths")), static_cast<std::uint64_t>(cmd.integer_value("--samples")),
      static_cast<std::size_t>(cmd.integer_value("--steps")), static_cast<unsigned>(cmd.integer_value("--threads")),
      cmd.text_value("--out")};

  const mpi::parallel par{.exec = {.threads = a.threads}};
  bool ok = true;
  try {
    // 1. dX = -theta (X - mu) dt + c dW from X_0 = 1 on [0, 1], Euler-Maruyama with h = 1/N. The scheme
    // is linear with Gaussian increments, so its X_N is exactly Gaussian with a = 1 - theta h:
    //   E = mu + (X_0 - mu) a^N,   Var = c^2 h (1 - a^{2N}) / (1 - a^2),
    // which the ensemble must match within its standard errors (and the SDE's own closed form up to O(h)).
    const sdeflow::ornstein_uhlenbeck<> ou(1.5, 0.2, 0.7);
    const double x0 = 1.0;
    const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, a.steps);
    const auto ens = mpi::ensemble(par, sdeflow::euler_maruyama{}, ou, Eigen::VectorXd::Constant(1, x0), a.paths, grid,
                                   sdeflow::brownian_increments(/*seed=*/7));
    const double h = 1.0 / static_cast<double>(a.steps);
    const double q = 1.0 - ou.theta() * h;
    const double mean_em = ou.mu() + (x0 - ou.mu()) * std::pow(q, static_cast<double>(a.steps));
    const double var_em = ou.scale() * ou.scale() * h * (1.0 - std::pow(q, 2.0 * static_cast<double>(a.steps))) / (1.0 - q * q);
    const auto n = static_cast<double>(a.paths);
    const double mean = ens.moments.mean()(0);
    const double var = ens.moments.covariance()(0, 0);
    const double z_mean = z(mean, mean_em, std::sqrt(var_em / n));
    const double z_var = z(var, var_em, var_em * std::sqrt(2.0 / (n - 1)));  // Var of a Gaussian sample variance
    ok = ok && std::fabs(z_mean) < 5 && std::fabs(z_var) < 5;
    if (root) {
      std::printf("Ornstein-Uhlenbeck ensemble: %llu paths, %zu Euler-Maruyama steps, %d ranks x %u threads: %.2f s\n",
                  static_cast<unsigned long long>(a.paths), a.steps, world.size(), a.threads, ens.seconds);
      std::printf("  mean      %.6f   scheme exact %.6f (z = %+.2f)   SDE exact %.6f\n", mean, mean_em, z_mean, ou.mean(x0, 1.0));
      std::printf("  variance  %.6f   scheme exact %.6f (z = %+.2f)   SDE exact %.6f\n", var, var_em, z_var, ou.variance(1.0));
      std::printf("  %.1f M path-steps per second\n", n * static_cast<double>(a.steps) / ens.seconds / 1e6);
      if (ens.cores < a.threads) {
        std::printf("  note: a rank may run on %u core(s) but has %u threads, which then share cores; launch with\n"
                    "  mpirun --map-by slot:PE=%u (or --bind-to none)\n", ens.cores, a.threads, a.threads);
      }
    }

    // 2. DPM-Solver++(2M), 50 Karras steps, with the exact denoiser of an 8-mode Gaussian ring under VP:
    // the samples' mean and covariance against the mixture's. The solver's own error is what remains in
    // the covariance (on this ring: +3.5% at 20 steps, +0.3% at 50, +0.1% at 100, measured on 2e5 samples).
    const auto ring = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
    const sdeflow::vp_process<> vp;
    const auto score = sdeflow::exact_score(ring, vp);
    const sdeflow::model net(vp, [score](const X& x, double t) { return score.denoise(x, t); }, sdeflow::prediction::data);
    const auto karras = sdeflow::karras_schedule(vp, 0.002, sdeflow::sigma_ratio(vp, 1.0), 50);
    const auto out = mpi::sample(par, sdeflow::samplers::dpmpp_2m{}, net, vp, 2, a.samples, karras,
                                 sdeflow::sampler_options<X>{.seed = 1}, {.files = a.out});
    const Eigen::VectorXd exact_mean = ring.mean(1.0, 0.0);
    const Eigen::MatrixXd exact_cov = ring.covariance(1.0, 0.0);
    const Eigen::MatrixXd cov = out.moments.covariance();
    if (root) {
      std::printf("DPM-Solver++(2M), 50 Karras steps, exact ring denoiser: %llu samples, NFE %zu: %.2f s\n",
                  static_cast<unsigned long long>(a.samples), out.report.evaluations, out.seconds);
      const double ns = static_cast<double>(a.samples);
      for (Eigen::Index i = 0; i < 2; ++i) {
        std::printf("  mean[%td]   %+.5f   exact %+.5f (z = %+.2f)\n", i, out.moments.mean()(i), exact_mean(i),
                    z(out.moments.mean()(i), exact_mean(i), std::sqrt(exact_cov(i, i) / ns)));
      }
      std::printf("  cov        [%.4f %.4f; %.4f %.4f]   exact [%.4f %.4f; %.4f %.4f]  (diagonal %+.2f%%, %+.2f%%)\n",
                  cov(0, 0), cov(0, 1), cov(1, 0), cov(1, 1), exact_cov(0, 0), exact_cov(0, 1), exact_cov(1, 0),
                  exact_cov(1, 1), 100 * (cov(0, 0) / exact_cov(0, 0) - 1), 100 * (cov(1, 1) / exact_cov(1, 1) - 1));
      std::printf("  %.0f samples per second\n", ns / out.seconds);
      if (!a.out.empty()) std::printf("  samples written to %s-rank<r>-of-%d.npy\n", a.out.c_str(), world.size());
    }
  } catch (const std::exception& e) {
    if (root) std::fprintf(stderr, "mpi_ensemble: %s\n", e.what());
    return 1;
  }
  if (root && !ok) std::fprintf(stderr, "mpi_ensemble: a moment is more than 5 standard errors from its closed form\n");
  return ok ? 0 : 1;
}
