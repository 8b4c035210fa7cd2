// SPDX-License-Identifier: MIT
// Time per step on a batch of n = 1e5 two-dimensional states:
//   - sdeflow Euler-Maruyama (counter-based Philox noise) on an Ornstein-Uhlenbeck SDE, with dynamic
//     (MatrixXd) and fixed-row (Matrix<double, 2, Dynamic>) batches;
//   - the same Euler-Maruyama loop written by hand with std::mt19937_64 + std::normal_distribution;
//   - sdeflow RK4 on dx/dt = -x, and the same RK4 written by hand.
// Each benchmark iteration runs `steps` steps; the per-step time is the reported time / steps
// (the "per_step" counter). Run: build/bench/benchmarks/step_bench --benchmark_repetitions=3
#include <sdeflow/sdeflow.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace {

constexpr Eigen::Index n = 100000;
constexpr std::size_t steps = 20;
const sdeflow::ornstein_uhlenbeck<> ou(1.0, 0.0, 0.5);

void set_counters(benchmark::State& state) {
  state.counters["per_step"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(steps) * n);
}

template <class X>
void BM_sdeflow_em(benchmark::State& state) {
  X x = X::Ones(2, n);
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, steps);
  std::uint64_t seed = 0;
  for (auto _ : state) {
    sdeflow::integrate(sdeflow::euler_maruyama{}, ou, x, grid, sdeflow::brownian_increments(++seed));
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state);
}

void BM_naive_em_mt19937(benchmark::State& state) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n);
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  const double h = 1.0 / steps;
  const double theta = ou.theta(), mu = ou.mu(), c = ou.scale();
  for (auto _ : state) {
    for (std::size_t k = 0; k < steps; ++k) {
      const double sq = std::sqrt(h);
      double* p = x.data();
      for (Eigen::Index i = 0; i < x.size(); ++i) p[i] += h * (-theta * (p[i] - mu)) + c * sq * normal(gen);
    }
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state);
}

void BM_sdeflow_rk4(benchmark::State& state) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n);
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& y, double) { return -y; });
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, steps);
  for (auto _ : state) {
    x.setOnes();
    sdeflow::integrate(sdeflow::rk4{}, sys, x, grid);
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state);
}

// The same RK4 run column block by column block (2048 samples, 32 KiB per stage array), so every
// stage stays in cache; samples are independent, so the result is identical.
void BM_sdeflow_rk4_blocked(benchmark::State& state) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n);
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& y, double) { return -y; });
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, steps);
  constexpr Eigen::Index block = 2048;
  Eigen::MatrixXd xb(2, block);
  for (auto _ : state) {
    x.setOnes();
    for (Eigen::Index j = 0; j < n; j += block) {
      const Eigen::Index len = std::min(block, n - j);
      xb = x.middleCols(j, len);
      sdeflow::integrate(sdeflow::rk4{}, sys, xb, grid);
      x.middleCols(j, len) = xb;
    }
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state);
}

void BM_naive_rk4(benchmark::State& state) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n);
  const double h = 1.0 / steps;
  for (auto _ : state) {
    x.setOnes();
    double* p = x.data();
    for (std::size_t k = 0; k < steps; ++k) {
      for (Eigen::Index i = 0; i < x.size(); ++i) {
        const double k1 = -p[i];
        const double k2 = -(p[i] + h / 2 * k1);
        const double k3 = -(p[i] + h / 2 * k2);
        const double k4 = -(p[i] + h * k3);
        p[i] += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
      }
    }
    benchmark::DoNotOptimize(x.data());
  }
  set_counters(state);
}

}  // namespace

BENCHMARK(BM_sdeflow_em<Eigen::MatrixXd>)->Name("EM/sdeflow/MatrixXd")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sdeflow_em<Eigen::Matrix<double, 2, Eigen::Dynamic>>)->Name("EM/sdeflow/Matrix2Xd")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_naive_em_mt19937)->Name("EM/naive_mt19937_normal_distribution")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sdeflow_rk4)->Name("RK4/sdeflow/MatrixXd")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sdeflow_rk4_blocked)->Name("RK4/sdeflow/MatrixXd_blocks_of_2048")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_naive_rk4)->Name("RK4/naive_loop")->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
