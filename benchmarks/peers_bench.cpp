// SPDX-License-Identifier: MIT
// sdeflow against its peers, side by side in one run (docs/benchmarks.md has the figures):
//   Normals/*   N(0, 1) values: the vectorized fill against the scalar reference pair().
//   EM/*        Euler-Maruyama on the OU SDE dX = -theta (X - mu) dt + c dW, 2 x 1e5 batch: sdeflow's
//               default call (tiles, one thread), two threads, untiled, and a naive loop over
//               std::mt19937_64 + std::normal_distribution.
//   RK4/*       RK4 on dx/dt = -x, 2 x 1e5: sdeflow's default call, untiled, and a hand-fused loop.
//   Lorenz/*    RK4 on the Lorenz system with Eigen::Vector3d: sdeflow's integrate, the same rk4 steps in
//               a bare loop (the driver's own cost is the difference), and Boost.Odeint's runge_kutta4
//               (integrate_n_steps) on std::array<double, 3>, same flags, same step count.
//   MLP/*       The two-moons network (2 + 16 -> 64 -> 64 -> 64 -> 2, SiLU), forward on 4096 samples.
//   DPM/*       DPM-Solver++(2M), 20 steps on the Karras grid (sigma 80 -> 0.002 -> 0) of the EDM process,
//               with the exact ring-mixture denoiser (8 modes, radius 4, std 0.3), 1e6 samples: the whole
//               batch, the engine's tiles on one thread and on two; reported as samples per second. The
//               PyTorch peer runs the same algorithm and model in torch (benchmarks/torch_peer.py).
//   Tiles/*     RK4 and EM of the rows above against the tile width (columns per tile), one thread.
//   Scaling/*   cost per element-step of EM on OU against n (d = 2) and d (n = 1e4), threads 1 and 2.
// Every benchmark reports ns per element-step (or per value) in the "ns_per_item" counter.
// Run: cmake --workflow --preset bench, or scripts/bench.sh (which also runs the PyTorch peer).
#include <sdeflow/sdeflow.hpp>

#include <benchmark/benchmark.h>

#include "bench_main.hpp"

#if SDEFLOW_HAVE_BOOST_ODEINT
#include <boost/numeric/odeint.hpp>
#endif

#include <array>
#include <cmath>
#include <random>
#include <string>

namespace {

constexpr Eigen::Index n_batch = 100000;
constexpr std::size_t em_steps = 20;
const sdeflow::ornstein_uhlenbeck<> ou(1.0, 0.0, 0.5);

void per_item(benchmark::State& state, double items_per_iteration) {
  state.counters["ns_per_item"] = benchmark::Counter(items_per_iteration * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_normals_vectorized(benchmark::State& state) {
  const sdeflow::normal_source src(7);
  Eigen::MatrixXd z(2, 50000);
  std::uint32_t k = 0;
  for (auto _ : state) {
    src.fill(z, ++k, 0);
    benchmark::DoNotOptimize(z.data());
  }
  per_item(state, static_cast<double>(z.size()));
}

void BM_normals_scalar(benchmark::State& state) {
  const sdeflow::normal_source src(7);
  Eigen::MatrixXd z(2, 50000);
  std::uint32_t k = 0;
  for (auto _ : state) {
    ++k;
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
      const auto v = src.pair(k, static_cast<std::uint32_t>(j), 0);
      z(0, j) = v[0];
      z(1, j) = v[1];
    }
    benchmark::DoNotOptimize(z.data());
  }
  per_item(state, static_cast<double>(z.size()));
}

void run_em(benchmark::State& state, Eigen::Index d, Eigen::Index n, sdeflow::execution exec) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(d, n);
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, em_steps);
  std::uint64_t seed = 0;
  for (auto _ : state) {
    sdeflow::integrate(exec, sdeflow::euler_maruyama{}, ou, x, grid, sdeflow::brownian_increments(++seed));
    benchmark::DoNotOptimize(x.data());
  }
  per_item(state, static_cast<double>(em_steps) * static_cast<double>(d * n));
}

void BM_em_default(benchmark::State& state) { run_em(state, 2, n_batch, {}); }
void BM_em_two_threads(benchmark::State& state) { run_em(state, 2, n_batch, {.threads = 2}); }
void BM_em_untiled(benchmark::State& state) { run_em(state, 2, n_batch, {.tile_columns = sdeflow::execution::untiled}); }

void BM_em_naive_mt19937(benchmark::State& state) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n_batch);
  std::mt19937_64 gen(1);
  std::normal_distribution<double> normal(0.0, 1.0);
  const double h = 1.0 / em_steps;
  const double theta = ou.theta(), mu = ou.mu(), c = ou.scale();
  for (auto _ : state) {
    for (std::size_t k = 0; k < em_steps; ++k) {
      const double sq = std::sqrt(h);
      double* p = x.data();
      for (Eigen::Index i = 0; i < x.size(); ++i) p[i] += h * (-theta * (p[i] - mu)) + c * sq * normal(gen);
    }
    benchmark::DoNotOptimize(x.data());
  }
  per_item(state, static_cast<double>(em_steps) * 2.0 * static_cast<double>(n_batch));
}

void run_rk4(benchmark::State& state, sdeflow::execution exec) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n_batch);
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& y, double) { return -y; });
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, em_steps);
  for (auto _ : state) {
    x.setOnes();
    sdeflow::integrate(exec, sdeflow::rk4{}, sys, x, grid);
    benchmark::DoNotOptimize(x.data());
  }
  per_item(state, static_cast<double>(em_steps) * 2.0 * static_cast<double>(n_batch));
}
void BM_rk4_default(benchmark::State& state) { run_rk4(state, {}); }
void BM_rk4_untiled(benchmark::State& state) { run_rk4(state, {.tile_columns = sdeflow::execution::untiled}); }
void BM_rk4_two_threads(benchmark::State& state) { run_rk4(state, {.threads = 2}); }

void BM_rk4_tile(benchmark::State& state) { run_rk4(state, {.tile_columns = state.range(0)}); }
void BM_em_tile(benchmark::State& state) { run_em(state, 2, n_batch, {.tile_columns = state.range(0)}); }

void BM_rk4_fused_loop(benchmark::State& state) {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, n_batch);
  const double h = 1.0 / em_steps;
  for (auto _ : state) {
    x.setOnes();
    double* p = x.data();
    for (std::size_t k = 0; k < em_steps; ++k) {
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
  per_item(state, static_cast<double>(em_steps) * 2.0 * static_cast<double>(n_batch));
}

constexpr std::size_t lorenz_steps = 10000;
constexpr double lorenz_h = 1e-3;

struct lorenz_system {
  void drift(const Eigen::Vector3d& x, double, Eigen::Vector3d& out) const {
    out[0] = 10.0 * (x[1] - x[0]);  // the same statements as the Boost.Odeint right-hand side below
    out[1] = x[0] * (28.0 - x[2]) - x[1];
    out[2] = x[0] * x[1] - (8.0 / 3.0) * x[2];
  }
};

void BM_lorenz_sdeflow(benchmark::State& state) {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, lorenz_h * lorenz_steps, lorenz_steps);
  for (auto _ : state) {
    Eigen::Vector3d x(1.0, 1.0, 1.0);
    sdeflow::integrate(sdeflow::rk4{}, lorenz_system{}, x, grid);
    benchmark::DoNotOptimize(x.data());
  }
  per_item(state, static_cast<double>(lorenz_steps));
}

// The same steps without the driver (no observer call, no finiteness check): the driver's own cost.
void BM_lorenz_bare_steps(benchmark::State& state) {
  const sdeflow::rk4 stepper;
  const lorenz_system sys;
  for (auto _ : state) {
    Eigen::Vector3d x(1.0, 1.0, 1.0);
    sdeflow::rk4::workspace<Eigen::Vector3d> ws(x);
    for (std::size_t k = 0; k < lorenz_steps; ++k) stepper.step(sys, x, static_cast<double>(k) * lorenz_h, lorenz_h, ws);
    benchmark::DoNotOptimize(x.data());
  }
  per_item(state, static_cast<double>(lorenz_steps));
}

#if SDEFLOW_HAVE_BOOST_ODEINT
void BM_lorenz_boost_odeint(benchmark::State& state) {
  using state_type = std::array<double, 3>;
  const auto rhs = [](const state_type& x, state_type& dx, double) {
    dx[0] = 10.0 * (x[1] - x[0]);
    dx[1] = x[0] * (28.0 - x[2]) - x[1];
    dx[2] = x[0] * x[1] - (8.0 / 3.0) * x[2];
  };
  boost::numeric::odeint::runge_kutta4<state_type> stepper;
  for (auto _ : state) {
    state_type x{1.0, 1.0, 1.0};
    boost::numeric::odeint::integrate_n_steps(stepper, rhs, x, 0.0, lorenz_h, lorenz_steps);
    benchmark::DoNotOptimize(x.data());
  }
  per_item(state, static_cast<double>(lorenz_steps));
}
#endif

template <class S>
void BM_mlp_forward(benchmark::State& state) {
  auto net = sdeflow::mlp<S>::load(std::string(SDEFLOW_EXAMPLE_DATA_DIR) + "/two_moons_eps.safetensors");
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> x = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>::Ones(2, 4096);
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> out(2, 4096);
  S t = S(0.5);
  for (auto _ : state) {
    t = t > S(0.9) ? S(0.1) : t + S(1e-3);  // a new t each call: no cached pass
    net.evaluate(x, t, out);  // into caller storage, as the samplers call it
    benchmark::DoNotOptimize(out.data());
  }
  per_item(state, 4096.0);
}

/// Parse a header of range(0) one-element tensors and look every name up (#13: the reader was
/// quadratic in the tensor count). Items are tensors.
void BM_safetensors_parse(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  sdeflow::safetensors_writer writer;
  Eigen::VectorXd v(1);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) {
    v(0) = static_cast<double>(i);
    names.push_back("layer." + std::to_string(i) + ".bias");
    writer.add(names.back(), v, sdeflow::tensor_dtype::f32, true);
  }
  const std::vector<unsigned char> bytes = writer.bytes();
  for (auto _ : state) {
    const auto f = sdeflow::safetensors::parse(bytes);
    double sum = 0;
    for (const auto& name : names) sum += f.vector<double>(name, 1)(0);
    benchmark::DoNotOptimize(sum);
  }
  per_item(state, static_cast<double>(n));
}

void run_dpm(benchmark::State& state, const sdeflow::execution& exec) {
  static const sdeflow::edm_process<> edm;
  static const auto score = sdeflow::exact_score(sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3), edm);
  const sdeflow::model m(edm, [](const Eigen::MatrixXd& x, double t) { return score.denoise(x, t); },
                         sdeflow::prediction::data);
  const auto grid = sdeflow::karras_schedule(edm, 0.002, 80.0, 20);
  const Eigen::Index n = 1000000;
  const Eigen::MatrixXd xT = sdeflow::initial_noise(edm, 2, n, grid, sdeflow::sampler_options<Eigen::MatrixXd>{.seed = 1});
  sdeflow::sampler_options<Eigen::MatrixXd> opt{.seed = 2};
  opt.exec = exec;
  for (auto _ : state) {
    auto out = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, m, xT, grid, opt);
    benchmark::DoNotOptimize(out.samples.data());
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
void BM_dpm_whole(benchmark::State& state) { run_dpm(state, {.threads = 1, .tile_columns = sdeflow::execution::untiled}); }
void BM_dpm_tiles(benchmark::State& state) { run_dpm(state, {.threads = 1}); }
void BM_dpm_two_threads(benchmark::State& state) { run_dpm(state, {.threads = 2}); }

void BM_scaling_n(benchmark::State& state) {
  run_em(state, 2, state.range(0), {.threads = static_cast<unsigned>(state.range(1))});
}
void BM_scaling_d(benchmark::State& state) {
  run_em(state, state.range(0), 10000, {.threads = static_cast<unsigned>(state.range(1))});
}

}  // namespace

BENCHMARK(BM_normals_vectorized)->Name("Normals/sdeflow_fill");
BENCHMARK(BM_normals_scalar)->Name("Normals/scalar_reference");
BENCHMARK(BM_em_naive_mt19937)->Name("EM/naive_mt19937")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_em_untiled)->Name("EM/sdeflow_untiled")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_em_default)->Name("EM/sdeflow_default")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_em_two_threads)->Name("EM/sdeflow_2_threads")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_rk4_fused_loop)->Name("RK4/fused_loop")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rk4_untiled)->Name("RK4/sdeflow_untiled")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rk4_default)->Name("RK4/sdeflow_default")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rk4_two_threads)->Name("RK4/sdeflow_2_threads")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_rk4_tile)->Name("Tiles/rk4")->ArgName("columns")->RangeMultiplier(4)->Range(64, 16384)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_em_tile)->Name("Tiles/em")->ArgName("columns")->RangeMultiplier(4)->Range(64, 16384)->Unit(benchmark::kMillisecond);
#if SDEFLOW_HAVE_BOOST_ODEINT
BENCHMARK(BM_lorenz_boost_odeint)->Name("Lorenz/boost_odeint_rk4")->Unit(benchmark::kMicrosecond);
#endif
BENCHMARK(BM_lorenz_sdeflow)->Name("Lorenz/sdeflow_rk4")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lorenz_bare_steps)->Name("Lorenz/sdeflow_rk4_steps_without_driver")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp_forward<float>)->Name("MLP/sdeflow_forward_f32_4096")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_mlp_forward<double>)->Name("MLP/sdeflow_forward_f64_4096")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_safetensors_parse)->Name("IO/safetensors_parse_and_lookup")->ArgName("tensors")->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_dpm_whole)->Name("DPM/sdeflow_whole_batch_1e6")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_dpm_tiles)->Name("DPM/sdeflow_tiles_1e6")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_dpm_two_threads)->Name("DPM/sdeflow_2_threads_1e6")->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
BENCHMARK(BM_scaling_n)
    ->Name("Scaling/n")
    ->ArgNames({"n", "threads"})
    ->ArgsProduct({{100, 1000, 10000, 100000, 1000000, 10000000}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_scaling_d)
    ->Name("Scaling/d")
    ->ArgNames({"d", "threads"})
    ->ArgsProduct({{1, 4, 16, 64, 256, 1024}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  return cli::run_benchmarks(argc, argv, "peers_bench",
      "sdeflow against its peers: the same SDE ensemble, ODE batch and diffusion sampler written as a naive\n"
      "loop, with Boost.Odeint (when present) and, through scripts/bench.sh, PyTorch; timings side by side.");
}
