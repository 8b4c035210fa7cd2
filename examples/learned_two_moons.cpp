// SPDX-License-Identifier: MIT
// A learned score end to end: load the noise-prediction network trained by
// scripts/train_two_moons.py (PyTorch, denoising score matching under VP) from safetensors, sample
// two moons with it by the reverse SDE and by the PF-ODE, compare the samples with held-out data,
// then compute held-out log-likelihoods (exact divergence and Hutchinson) and an encode/decode
// round trip through the PF-ODE.
//
//   learned_two_moons [DATA_DIR] [OUT_DIR]   (learned_two_moons --help for the details)
//
// Sample quality, against 2000 held-out points (the other 2000 held-out points give the floor):
//   MMD2  unbiased squared MMD with a Gaussian kernel of bandwidth 0.5 (0 in expectation for a
//         perfect sampler; its noise is the "held-out" row's size)
//   SW2   sliced Wasserstein-2 distance over 256 directions (finite-sample floor in the "held-out" row)
// A standard normal is printed as the scale of a bad model.
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#ifndef SDEFLOW_EXAMPLE_DATA_DIR
#define SDEFLOW_EXAMPLE_DATA_DIR "examples/data"
#endif

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  cli::command cmd("learned_two_moons",
                   "Samples two moons with the network scripts/train_two_moons.py trained (safetensors), by the reverse\n"
                   "SDE and the PF-ODE, compares them with held-out data, and computes held-out log-likelihoods and an\n"
                   "encode/decode round trip.");
  cmd.positional("DATA_DIR", "directory with two_moons_eps.safetensors and the held-out data", SDEFLOW_EXAMPLE_DATA_DIR)
      .positional("OUT_DIR", "output directory (created if missing)", ".")
      .epilog("Writes OUT_DIR/two_moons_reverse_sde_samples.{csv,npy} and two_moons_pf_ode_samples.{csv,npy}\n"
              "(.npy shape (n, 2)). Exit code 1 when a check fails, 2 on a bad argument or a missing file.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  const std::string data_dir = cmd.text_value("DATA_DIR");
  const std::filesystem::path out_dir = cmd.text_value("OUT_DIR");
  try {
    const auto file = sdeflow::safetensors::load(data_dir + "/two_moons_eps.safetensors");
    const auto net = sdeflow::mlp<double>::from_safetensors(file);
    const auto golden = sdeflow::safetensors::load(data_dir + "/two_moons_golden.safetensors");
    const Eigen::MatrixXd held = golden.matrix<double>("heldout").transpose();  // 2 x 4000
    const Eigen::MatrixXd ref = held.leftCols(2000), floor_ref = held.rightCols(2000);
    std::printf("network: %zu layers, %zu parameters, prediction = %s, trained by %s\n", net.depth(),
                net.parameter_count(), file.metadata_value("prediction").c_str(),
                file.metadata_value("trainer").c_str());

    const sdeflow::vp_process<> vp;  // the process the network was trained under (linear beta 0.1..20)
    const auto score = sdeflow::epsilon_score(vp, std::cref(net));
    const double t_min = std::stod(file.metadata_value("t_min"));

    const Eigen::Index n = 2000;
    auto t0 = std::chrono::steady_clock::now();
    const auto sde = sdeflow::sample_reverse_sde(vp, score, 2, n, sdeflow::time_grid<>::uniform(1.0, t_min, 500), {.seed = 1});
    const double sde_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const auto ode = sdeflow::sample_probability_flow(vp, score, 2, n, sdeflow::time_grid<>::uniform(1.0, t_min, 100), {.seed = 2});
    const double ode_s = seconds_since(t0);
    const Eigen::MatrixXd normal = sdeflow::sample_prior(vp, 2, n, sdeflow::normal_source(3));

    std::printf("\n%-30s %8s %10s %8s %8s\n", "samples (n = 2000)", "NFE", "MMD2", "SW2", "time/s");
    auto row = [&](const char* name, const Eigen::MatrixXd& x, std::size_t nfe, double secs) {
      std::printf("%-30s %8zu %10.2e %8.4f %8.2f\n", name, nfe, sdeflow::mmd_rbf(x, ref, 0.5),
                  sdeflow::sliced_wasserstein(x, ref, 256, 5), secs);
    };
    row("reverse SDE (Euler-Maruyama)", sde.samples, sde.report.evaluations, sde_s);
    row("PF-ODE (RK4)", ode.samples, ode.report.evaluations, ode_s);
    row("held-out data (floor)", floor_ref, 0, 0.0);
    row("standard normal (bad model)", normal, 0, 0.0);

    const double mmd_sde = sdeflow::mmd_rbf(sde.samples, ref, 0.5);
    const double mmd_ode = sdeflow::mmd_rbf(ode.samples, ref, 0.5);
    const double mmd_bad = sdeflow::mmd_rbf(normal, ref, 0.5);

    // Held-out log-likelihood of the data perturbed to t_min, exact divergence (d = 2 JVPs per step).
    const Eigen::MatrixXd test = held.leftCols(500);
    sdeflow::likelihood_options opt;
    opt.t_start = t_min;
    opt.ode.rtol = 1e-6;
    opt.ode.atol = 1e-8;
    t0 = std::chrono::steady_clock::now();
    const auto exact = sdeflow::log_likelihood(vp, score, test, opt);
    const double exact_s = seconds_since(t0);
    opt.divergence = sdeflow::divergence_estimator::hutchinson;
    opt.probes = 8;
    const auto hutch = sdeflow::log_likelihood(vp, score, test, opt);
    const Eigen::RowVectorXd normal_lp = sdeflow::prior_log_density(vp, test);
    const double d = 2;
    std::printf("\nheld-out log-likelihood (500 points, t0 = %g)   mean nats   bits/dim\n", t_min);
    std::printf("  learned model, exact divergence            %9.4f  %9.4f   (%zu accepted steps, %.2f s)\n",
                exact.log_likelihood.mean(), sdeflow::bits_per_dim(exact.log_likelihood, 2).mean(),
                exact.report.accepted, exact_s);
    const double se_mean = std::sqrt(hutch.standard_error.array().square().sum()) / static_cast<double>(test.cols());
    std::printf("  learned model, Hutchinson (8 Rademacher)   %9.4f  %9.4f   (+- %.4f standard error)\n",
                hutch.log_likelihood.mean(), sdeflow::bits_per_dim(hutch.log_likelihood, 2).mean(), se_mean);
    std::printf("  standard normal                            %9.4f  %9.4f\n", normal_lp.mean(),
                -normal_lp.mean() / (d * std::log(2.0)));

    // Encode to the latent at T and decode back.
    const Eigen::MatrixXd some = held.leftCols(200);
    const sdeflow::flow_options fo{.t_start = t_min};
    const Eigen::MatrixXd z = sdeflow::encode(vp, score, some, fo);
    const Eigen::MatrixXd back = sdeflow::decode(vp, score, z, fo);
    const double round_trip = (back - some).cwiseAbs().maxCoeff();
    std::printf("\nencode -> decode (200 points, DP5 rtol 1e-9): max |x - decode(encode(x))| = %.2e\n", round_trip);
    std::printf("latent mean (%.3f, %.3f), std (%.3f, %.3f): the prior is N(0, I)\n", z.row(0).mean(), z.row(1).mean(),
                std::sqrt((z.row(0).array() - z.row(0).mean()).square().mean()),
                std::sqrt((z.row(1).array() - z.row(1).mean()).square().mean()));

    std::filesystem::create_directories(out_dir);
    cli::write_samples(out_dir / "two_moons_reverse_sde_samples", sde.samples);
    cli::write_samples(out_dir / "two_moons_pf_ode_samples", ode.samples);
    std::printf("\n");
    cmd.wrote(out_dir, "two_moons_reverse_sde_samples and two_moons_pf_ode_samples (.csv and .npy)");

    // As a test (ctest runs this example): the learned model must be far better than N(0, I).
    const bool ok = mmd_sde < 0.1 * mmd_bad && mmd_ode < 0.1 * mmd_bad &&
                    exact.log_likelihood.mean() > normal_lp.mean() && round_trip < 1e-6;
    if (!ok) std::printf("FAILED: learned-model quality checks\n");
    return ok ? 0 : 1;
  } catch (const sdeflow::error& e) {
    std::fprintf(stderr, "learned_two_moons: %s\n", e.what());
    return 2;
  }
}
