// SPDX-License-Identifier: MIT
// Work-precision for SDE solvers on one problem, dX = -(X + sin 3X) dt + 1.5 dW on [0, 1] (additive noise,
// nonlinear drift), 1000 paths: strong error at T against a fine SRA1 reference on the same Brownian
// paths (8192 steps), against wall time (Google Benchmark) and against drift evaluations (counters).
// Milstein equals Euler-Maruyama here (its correction vanishes for additive noise), as it must.
// Run: build/bench/benchmarks/work_precision --benchmark_counters_tabular=true
#include <sdeflow/sdeflow.hpp>

#include <benchmark/benchmark.h>

#include "bench_main.hpp"

#include <map>

namespace {

constexpr Eigen::Index paths = 1000;
constexpr std::size_t fine = 8192;
constexpr std::uint64_t seed = 77;

const auto problem = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(-(x.array() + (3 * x.array()).sin())); },
                                  [](double) { return 1.5; });

const Eigen::MatrixXd& reference() {
  static const Eigen::MatrixXd ref = [] {
    Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, paths);
    sdeflow::integrate(sdeflow::sra1{}, problem, x, sdeflow::time_grid<>::uniform(0.0, 1.0, fine),
                       sdeflow::brownian_increments(seed));
    return x;
  }();
  return ref;
}

template <class Stepper>
void BM_work_precision(benchmark::State& state) {
  const auto steps = static_cast<std::size_t>(state.range(0));
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, steps);
  // Error: once, on the reference's Brownian paths (coarsened from the fine path).
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, paths);
  const auto rep = sdeflow::integrate(Stepper{}, problem, x, grid, sdeflow::brownian_increments(seed, 0, 0, fine / steps));
  const double error = (x - reference()).cwiseAbs().mean();
  // Time: the solver with ordinary per-step noise (no fine-path summation in the timed loop).
  for (auto _ : state) {
    x = Eigen::MatrixXd::Ones(1, paths);
    sdeflow::integrate(Stepper{}, problem, x, grid, sdeflow::brownian_increments(seed + 1));
    benchmark::DoNotOptimize(x.data());
  }
  state.counters["steps"] = static_cast<double>(steps);
  state.counters["evals"] = static_cast<double>(rep.evaluations);
  state.counters["strong_error"] = error;
}

}  // namespace

BENCHMARK(BM_work_precision<sdeflow::euler_maruyama>)->Name("EM")->RangeMultiplier(4)->Range(16, 4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_work_precision<sdeflow::milstein>)->Name("Milstein")->RangeMultiplier(4)->Range(16, 4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_work_precision<sdeflow::sra1>)->Name("SRA1")->RangeMultiplier(4)->Range(16, 1024)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  return cli::run_benchmarks(argc, argv, "work_precision",
      "Work-precision of the SDE solvers on dX = -(X + sin 3X) dt + 1.5 dW, 1000 paths: strong error at T\n"
      "against wall time and drift evaluations (counters).");
}
