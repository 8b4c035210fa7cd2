// SPDX-License-Identifier: MIT
// Per-evaluation (per-NFE) cost of the two-moons network through the built-in MLP and through LibTorch
// (TorchScript), the same weights, on batches of 1 to 16384 samples, in float32 and float64. Built when
// CMake finds LibTorch. LibTorch runs with one intra-op thread, as the MLP does, unless
// --torch_threads=N is given.
// Run: build/bench/benchmarks/torch_bench --benchmark_counters_tabular=true
#include <sdeflow/sdeflow.hpp>
#include <sdeflow/torch/torch.hpp>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include "bench_main.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const std::string data_dir = SDEFLOW_EXAMPLE_DATA_DIR;

template <class S>
Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> batch(Eigen::Index n) {
  Eigen::MatrixXd x(2, n);
  sdeflow::normal_source(1).fill(x, 0, 0);
  return x.cast<S>();
}

template <class Net, class S>
void run(benchmark::State& state, const Net& net) {
  const auto x = batch<S>(state.range(0));
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> out;
  // Alternate t: sdeflow::mlp returns its last output again for the same (x, t), which a sampler never asks.
  int k = 0;
  for (auto _ : state) {
    out = net(x, (k++ & 1) != 0 ? S(0.5) : S(0.25));
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                   benchmark::Counter::kIsRate);
}

template <class S>
void BM_mlp(benchmark::State& state) {
  static const auto net = sdeflow::mlp<S>::load(data_dir + "/two_moons_eps.safetensors");
  run<sdeflow::mlp<S>, S>(state, net);
}

template <class S>
void BM_torch(benchmark::State& state) {
  static const auto net = sdeflow::torch_model<S>::load(data_dir + "/two_moons_eps.pt");
  run<sdeflow::torch_model<S>, S>(state, net);
}

}  // namespace

BENCHMARK(BM_mlp<float>)->Name("NFE/mlp_f32")->RangeMultiplier(16)->Range(1, 16384)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_torch<float>)->Name("NFE/torch_f32")->RangeMultiplier(16)->Range(1, 16384)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp<double>)->Name("NFE/mlp_f64")->RangeMultiplier(16)->Range(1, 16384)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_torch<double>)->Name("NFE/torch_f64")->RangeMultiplier(16)->Range(1, 16384)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--torch_threads=", 0) == 0) {
      char* end = nullptr;
      const long v = std::strtol(a.c_str() + 16, &end, 10);
      threads = (*end == '\0' && v >= 1 && v <= 256) ? static_cast<int>(v) : 0;
      if (threads < 1) {
        std::fprintf(stderr, "torch_bench: --torch_threads = '%s' must be a whole number from 1 to 256\n", a.c_str() + 16);
        return 2;
      }
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      --i;
    }
  }
  at::set_num_threads(threads);
  return cli::run_benchmarks(argc, argv, "torch_bench",
      "Per-evaluation cost of the two-moons network: the built-in MLP against LibTorch (TorchScript), the same\n"
      "weights, batches of 1 to 16384, float32 and float64. Also: --torch_threads=N (default 1).");
}
