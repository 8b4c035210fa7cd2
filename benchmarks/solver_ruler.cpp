// SPDX-License-Identifier: MIT
// The finer ruler of the few-step solvers (#14), on the EDM process with exact mixture models (the 2-D
// ring, the anisotropic d = 8 mixture and a d = 64 one):
//   1. flow-map error: mean and max over a batch of |x_N - x_ref| / scale, x_ref the probability-flow ODE
//      from the same x_T by Dormand-Prince at 1e-10, scale = sqrt(E|x_0|^2) of the data; at NFE 3..100 on
//      the Karras grid (sigma 0.002..80, then 0), with the slope over NFE 25..100;
//   2. MMD^2 to the exact mixture (Gaussian kernel, bandwidth 1 / 2 / 4), mean and standard error over
//      five seeds, at NFE 5, 10, 20, and the same for exact draws (the noise floor);
//   3. the published claims: UniPC vs DPM-Solver++ at 5, 8, 10 NFE, and a schedule optimized by
//      optimize_schedule (on a training batch of 1024, from the Karras and the exponential grid, the
//      better kept) against Karras at 10 NFE, on a held-out batch of 2000 (mean and standard error).
// Run: build/bench/benchmarks/solver_ruler [BATCH] [MMD_N] > docs/solver-ruler.txt   (defaults 1000, 2000; --help)
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace {

using X = Eigen::MatrixXd;
namespace smp = sdeflow::samplers;

template <class P>
auto exact_model(const sdeflow::gaussian_mixture<>& mix, const P& p) {
  auto score = sdeflow::exact_score(mix, p);
  return sdeflow::model(p, [score](const X& x, double t) { return score.denoise(x, t); }, sdeflow::prediction::data);
}

const sdeflow::edm_process<> edm(80.0);
using model_t = decltype(exact_model(std::declval<const sdeflow::gaussian_mixture<>&>(), edm));

/// A deterministic or stochastic sampler with the NFE it spends per step (2 for the two-stage ones).
struct entry {
  std::string name;
  std::size_t per_step;
  bool deterministic;
  std::function<X(const model_t&, const X&, const sdeflow::time_grid<>&, std::uint64_t seed)> run;
};

template <class Smp>
entry make(std::string name, std::size_t per_step, bool deterministic, Smp s) {
  return {std::move(name), per_step, deterministic,
          [s](const model_t& m, const X& x, const sdeflow::time_grid<>& g, std::uint64_t seed) {
            return sdeflow::sample(s, m, x, g, {.seed = seed}).samples;
          }};
}

std::vector<entry> entries() {
  using V = smp::unipc_variant;
  return {make("euler", 1, true, smp::euler{}),
          make("edm_heun", 2, true, smp::edm_heun{}),
          make("dpm_2", 2, true, smp::dpm_2{}),
          make("dpmpp_2s", 2, true, smp::dpmpp_2s{}),
          make("dpmpp_2m", 1, true, smp::dpmpp_2m{}),
          make("dpmpp_3m", 1, true, smp::dpmpp_3m{}),
          make("dpmpp_3m taylor", 1, true, smp::dpmpp_3m{smp::third_order_weight::taylor}),
          make("lms 4", 1, true, smp::lms{4}),
          make("deis 3", 1, true, smp::deis{3}),
          make("unipc 2 bh2", 1, true, smp::unipc{2, V::bh2}),
          make("unipc 3 bh2", 1, true, smp::unipc{3, V::bh2}),
          make("unipc 2 bh1", 1, true, smp::unipc{2, V::bh1}),
          make("euler_ancestral", 1, false, smp::euler_ancestral{}),
          make("dpm_2_ancestral", 2, false, smp::dpm_2_ancestral{}),
          make("dpmpp_2s_ancestral", 2, false, smp::dpmpp_2s_ancestral{}),
          make("dpmpp_sde", 2, false, smp::dpmpp_sde{}),
          make("dpmpp_2m_sde", 1, false, smp::dpmpp_2m_sde{}),
          make("dpmpp_3m_sde", 1, false, smp::dpmpp_3m_sde{})};
}

sdeflow::time_grid<> karras(std::size_t steps) { return sdeflow::karras_schedule(edm, 0.002, 80.0, std::max<std::size_t>(steps, 1)); }

struct errors {
  double mean, max;
};
errors flow_map(const X& a, const X& b, double scale) {
  const Eigen::ArrayXd d = (a - b).colwise().norm().transpose().array() / scale;
  return {d.mean(), d.maxCoeff()};
}

}  // namespace

int main(int argc, char** argv) {
  cli::command cmd("solver_ruler",
                   "The few-step solvers' ruler on the EDM process with exact mixture models (ring, d = 8, d = 64):\n"
                   "flow-map errors at NFE 3 to 100 with slopes, MMD^2 over five seeds, the published claims and\n"
                   "optimized schedules.");
  cmd.positional_integer("BATCH", "samples in the flow-map batch", 1000, 10, 1'000'000)
      .positional_integer("MMD_N", "samples per MMD^2 estimate", 2000, 100, 1'000'000)
      .epilog("Prints the tables on stdout (docs/solver-ruler.txt). Exit code 2 on a bad argument.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  const Eigen::Index batch = cmd.integer_value("BATCH");
  const Eigen::Index mmd_n = cmd.integer_value("MMD_N");
  const std::vector<std::size_t> nfes = {3, 4, 5, 6, 8, 10, 15, 20, 25, 35, 50, 70, 100};
  const auto all = entries();
  std::printf("# sdeflow solver ruler: EDM process, Karras grid sigma 0.002..80 then 0, exact models\n");
  std::printf("# flow-map error batch = %ld, MMD^2 n = %ld x 5 seeds\n", static_cast<long>(batch), static_cast<long>(mmd_n));
  struct data_set {
    std::string name;
    sdeflow::gaussian_mixture<> mix;
    double bandwidth;
  };
  const std::vector<data_set> sets = {
      {"ring", sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3), 1.0},
      {"aniso8", sdeflow::gaussian_mixture<>::random_anisotropic({0.1, 0.2, 0.3, 0.4}, 8, 4.0, 808), 2.0},
      {"aniso64", sdeflow::gaussian_mixture<>::random_anisotropic({0.1, 0.2, 0.3, 0.4}, 64, 8.0, 6464), 4.0}};
  for (const auto& ds : sets) {
    const auto m = exact_model(ds.mix, edm);
    const Eigen::Index d = ds.mix.dimension();
    const X big = ds.mix.sample(100000, 1.0, 0.0, sdeflow::normal_source(5));
    const double scale = std::sqrt(big.colwise().squaredNorm().mean());
    const X xT = sdeflow::initial_noise(edm, d, batch, karras(10), {.seed = 1});
    const X ref = sdeflow::flow_map_reference(m, xT, 80.0, 0.0);
    std::printf("\n## %s (d = %ld, data scale %.3f)\n\n### flow-map error / scale, mean (max) over the batch\n", ds.name.c_str(),
                static_cast<long>(d), scale);
    std::printf("%-18s", "sampler \\ NFE");
    for (const auto b : nfes) std::printf(" %17zu", b);
    std::printf(" %7s\n", "slope");
    for (const auto& e : all) {
      if (!e.deterministic) continue;
      std::printf("%-18s", e.name.c_str());
      std::vector<double> h, err, se;
      for (const auto b : nfes) {
        // Steps for the budget: per_step NFE each, one fewer on the final step to sigma = 0.
        const std::size_t steps = e.per_step == 2 ? (b + 1) / 2 : b;
        if (steps < 1 || (e.per_step == 2 && b < 3)) {
          std::printf(" %17s", "-");
          continue;
        }
        const auto er = flow_map(e.run(m, xT, karras(steps), 0), ref, scale);
        std::printf("   %6.1e (%6.1e)", er.mean, er.max);
        if (b >= 25) {
          h.push_back(1.0 / static_cast<double>(b));
          err.push_back(er.mean);
          se.push_back(er.mean * 1e-3);
        }
      }
      std::printf(" %7.2f\n", sdeflow::fit_order(h, err, se).slope);
      std::fflush(stdout);
    }
    std::printf("\n### MMD^2 (bandwidth %.0f), mean +- standard error over 5 seeds\n", ds.bandwidth);
    std::printf("%-18s %22s %22s %22s\n", "sampler \\ NFE", "5", "10", "20");
    const auto mmd_row = [&](const std::string& name, const std::function<X(std::size_t, std::uint64_t)>& draw) {
      std::printf("%-18s", name.c_str());
      for (const std::size_t b : {5u, 10u, 20u}) {
        std::vector<double> v;
        for (std::uint64_t seed = 1; seed <= 5; ++seed) v.push_back(sdeflow::mmd_to_mixture(draw(b, seed), ds.mix, 1.0, 0.0, ds.bandwidth));
        double mean = 0;
        for (const double x : v) mean += x / 5;
        double var = 0;
        for (const double x : v) var += (x - mean) * (x - mean) / 4;
        std::printf("     %8.1e +- %6.1e", mean, std::sqrt(var / 5));
      }
      std::printf("\n");
      std::fflush(stdout);
    };
    mmd_row("exact draw", [&](std::size_t, std::uint64_t seed) { return ds.mix.sample(mmd_n, 1.0, 0.0, sdeflow::normal_source(100 + seed)); });
    for (const auto& e : all) {
      mmd_row(e.name, [&](std::size_t b, std::uint64_t seed) {
        const std::size_t steps = e.per_step == 2 ? (b + 1) / 2 : b;
        const auto g = karras(steps);
        return e.run(m, sdeflow::initial_noise(edm, d, mmd_n, g, {.seed = 1000 + seed}), g, seed);
      });
    }
    // The published claims at 5, 8, 10 NFE, and the optimized schedule at 10.
    std::printf("\n### claims: flow-map error / scale (mean) at 5, 8, 10 NFE on the Karras grid\n");
    for (const char* name : {"dpmpp_2m", "dpmpp_3m", "unipc 2 bh2", "unipc 3 bh2", "unipc 2 bh1"}) {
      for (const auto& e : all) {
        if (e.name != name) continue;
        std::printf("%-18s", name);
        for (const std::size_t b : {5u, 8u, 10u}) std::printf("   %8.2e", flow_map(e.run(m, xT, karras(b), 0), ref, scale).mean);
        std::printf("\n");
      }
    }
    std::printf("\n### optimize_schedule at 10 NFE (train batch 1024, seed 7; held-out batch 2000, seed 11: mean +- SE)\n");
    const X train = sdeflow::initial_noise(edm, d, 1024, karras(10), {.seed = 7});
    const X held = sdeflow::initial_noise(edm, d, 2000, karras(10), {.seed = 11});
    const X held_ref = sdeflow::flow_map_reference(m, held, 80.0, 0.0);
    const auto expo = sdeflow::exponential_schedule(edm, 0.002, 80.0, 10);
    // The mean of |x_N - x_ref| / scale over the held-out batch, with its standard error.
    const auto held_error = [&](const X& y) {
      const Eigen::ArrayXd e = (y - held_ref).colwise().norm().transpose().array() / scale;
      const double n = static_cast<double>(e.size());
      return std::pair{e.mean(), std::sqrt((e - e.mean()).square().sum() / (n - 1) / n)};
    };
    const auto search = [&](const auto& s, const char* name) {
      auto a = sdeflow::optimize_schedule(s, m, train, karras(10));
      auto b = sdeflow::optimize_schedule(s, m, train, expo);
      const auto& best = a.error <= b.error ? a : b;
      const auto run = [&](const sdeflow::time_grid<>& g) { return held_error(sdeflow::sample(s, m, held, g).samples); };
      const auto g_mmd = [&](const sdeflow::time_grid<>& g) {
        return sdeflow::mmd_to_mixture(sdeflow::sample(s, m, sdeflow::initial_noise(edm, d, mmd_n, g, {.seed = 2001}), g).samples,
                                       ds.mix, 1.0, 0.0, ds.bandwidth);
      };
      const auto k = run(karras(10)), x = run(expo), o = run(best.grid);
      std::printf("%-18s Karras %8.2e +- %6.1e (MMD2 %8.1e)  exponential %8.2e +- %6.1e  optimized %8.2e +- %6.1e (MMD2 %8.1e; from %s, %zu trials)\n",
                  name, k.first, k.second, g_mmd(karras(10)), x.first, x.second, o.first, o.second, g_mmd(best.grid),
                  a.error <= b.error ? "Karras" : "exponential", a.trials + b.trials);
      std::printf("%-18s optimized grid (sigma):", "");
      for (std::size_t i = 0; i < best.grid.size(); ++i) std::printf(" %.4g", best.grid[i]);
      std::printf("\n");
      std::fflush(stdout);
    };
    search(smp::dpmpp_2m{}, "dpmpp_2m");
    search(smp::unipc{2}, "unipc 2 bh2");
    search(smp::unipc{3}, "unipc 3 bh2");
    search(smp::deis{3}, "deis 3");
    search(smp::dpmpp_3m{smp::third_order_weight::taylor}, "dpmpp_3m taylor");
  }
  return 0;
}
