// SPDX-License-Identifier: MIT
// The common properties of every sampler on the engine, run over one type list: any step count
// N = 1..50 (to sigma = 0 where the sampler can end there), NFE equal to the documented count,
// determinism by seed, a bit-identical rerun from a recorded noise table, batch-split invariance
// (predictor-corrector couples the batch: pinned as not invariant), the observer's x0_hat, early stop,
// and the step-level API equal to the one-call driver. A new sampler adds one line to `all_samplers`.
#include "samplers/sampler_support.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

using X = Eigen::MatrixXd;
namespace smp = sdeflow::samplers;

namespace {

/// One entry of the list: the sampler (default-constructed), whether it injects noise, whether it
/// can take a final step to sigma = 0 with a data-prediction model, whether its samples are
/// independent of how the batch is split.
template <class Smp, bool Stochastic, bool ToZero = true, bool SplitInvariant = true>
struct sampler_case {
  using sampler = Smp;
  static constexpr bool stochastic = Stochastic;
  static constexpr bool to_zero = ToZero;
  static constexpr bool split_invariant = SplitInvariant;
};

struct ddim_eta_half : smp::ddim {
  ddim_eta_half() : smp::ddim{0.5} {}
};
struct edm_heun_churn : smp::edm_heun {
  edm_heun_churn() : smp::edm_heun{5.0, 0.0, std::numeric_limits<double>::infinity(), 1.0} {}
};
struct dpm_adaptive_eta : smp::dpm_adaptive {
  dpm_adaptive_eta() : smp::dpm_adaptive{.eta = 1.0} {}
};
struct langevin_small : smp::annealed_langevin {
  langevin_small() : smp::annealed_langevin{2, 1e-4, true} {}
};

// The RK-type ODE samplers evaluate the model at the final time, where a data-prediction model under
// VP has no score (sigma = 0) and annealed Langevin needs sigma > 0 at its last level: they end at 1e-3.
// Predictor-corrector's corrector step uses batch-mean norms (score_sde's rule): not split-invariant.
using all_samplers = std::tuple<
    sampler_case<smp::ddim, false>, sampler_case<ddim_eta_half, true>, sampler_case<smp::ddpm, true>,
    sampler_case<smp::euler, false>, sampler_case<smp::euler_ancestral, true>, sampler_case<smp::edm_heun, false>,
    sampler_case<edm_heun_churn, true>, sampler_case<smp::dpmpp_2m, false>, sampler_case<smp::dpmpp_2m_sde, true>,
    sampler_case<smp::predictor_corrector, true, true, false>, sampler_case<langevin_small, true, false>,
    sampler_case<smp::reverse_sde<>, true>, sampler_case<smp::probability_flow<sdeflow::euler>, false>,
    sampler_case<smp::probability_flow<sdeflow::rk4>, false, false>, sampler_case<smp::flow<sdeflow::heun>, false, false>,
    sampler_case<smp::flow<sdeflow::rk4>, false, false>, sampler_case<smp::dpm_2, false>,
    sampler_case<smp::dpm_2_ancestral, true>, sampler_case<smp::dpmpp_2s_ancestral, true>,
    sampler_case<smp::dpmpp_3m_sde, true>, sampler_case<smp::lms, false>, sampler_case<smp::deis, false>,
    sampler_case<smp::unipc, false>, sampler_case<smp::dpmpp_sde, true>,
    sampler_case<smp::dpm_adaptive, false, true, false>, sampler_case<dpm_adaptive_eta, true, true, false>>;

template <class Case>
sdeflow::time_grid<> grid_for(std::size_t N) {
  return sdeflow::uniform_schedule(1.0, Case::to_zero ? 0.0 : 1e-3, N);
}

const sdeflow::vp_process<>& vp() {
  static const sdeflow::vp_process<> p;
  return p;
}

/// The exact ring denoiser under VP: not a point mass, so every step moves mid-path.
const auto& ring_model() {
  static const auto m = sdeflow_test::exact_model(sdeflow_test::ring(), vp());
  return m;
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("every sampler: N = 1..50, documented NFE, finite samples", "[engine]", all_samplers) {
  using Smp = typename TestType::sampler;
  const Smp s;
  const auto& m = ring_model();
  const X x = sdeflow::initial_noise(vp(), 2, 3, sdeflow::sampler_options<X>{.seed = 3});
  for (std::size_t N = 1; N <= 50; ++N) {
    const auto grid = grid_for<TestType>(N);
    const auto out = sdeflow::sample(s, m, x, grid, {.seed = 4});
    INFO("N = " << N);
    CHECK(out.report.steps == N);
    if constexpr (requires { requires Smp::adaptive; }) {
      CHECK(out.report.evaluations >= s.evaluations(m, grid));  // counted; evaluations() is the fewest possible
    } else {
      CHECK(out.report.evaluations == s.evaluations(m, grid));
    }
    CHECK_FALSE(out.report.stopped_early);
    CHECK(out.samples.allFinite());
  }
  // With 50 steps every sample has reached the ring's modes (radius 4, std 0.3).
  if constexpr (!std::is_same_v<Smp, langevin_small>) {
    const X far = sdeflow::initial_noise(vp(), 2, 200, sdeflow::sampler_options<X>{.seed = 5});
    const X y = sdeflow::sample(s, m, far, grid_for<TestType>(50), {.seed = 6}).samples;
    const Eigen::RowVectorXd r = y.colwise().norm();
    CHECK(std::abs(r.mean() - 4.0) < 0.1);
  }
}

TEMPLATE_LIST_TEST_CASE("every sampler: determinism by seed and a bit-identical replay of recorded noise", "[engine]",
                        all_samplers) {
  using Smp = typename TestType::sampler;
  const Smp s;
  const auto& m = ring_model();
  const auto grid = grid_for<TestType>(7);
  const X x = sdeflow::initial_noise(vp(), 2, 6, sdeflow::sampler_options<X>{.seed = 7});
  const X a = sdeflow::sample(s, m, x, grid, {.seed = 8, .sample_offset = 3}).samples;
  CHECK((sdeflow::sample(s, m, x, grid, {.seed = 8, .sample_offset = 3}).samples.array() == a.array()).all());
  const X other = sdeflow::sample(s, m, x, grid, {.seed = 9, .sample_offset = 3}).samples;
  if constexpr (TestType::stochastic) {
    CHECK((other.array() != a.array()).any());
  } else {
    CHECK((other.array() == a.array()).all());
  }
  // Record the counter-based noise the run draws, then replay the table: the same bits.
  sdeflow::noise_recorder<sdeflow::counter_noise, X> rec(sdeflow::counter_noise(8, 3));
  const X recorded = sdeflow::sample(s, m, x, grid, {.noise = rec}).samples;
  CHECK((recorded.array() == a.array()).all());
  const X replayed = sdeflow::sample(s, m, x, grid, {.noise = rec.replay()}).samples;
  CHECK((replayed.array() == a.array()).all());
  CHECK((rec.table().size() > 0) == TestType::stochastic);
  if constexpr (TestType::stochastic) {
    // A different table gives a different run: the sampler really uses what it is given.
    std::vector<X> flipped = rec.table();
    for (auto& z : flipped) z = -z;
    const X mirrored = sdeflow::sample(s, m, x, grid, {.noise = sdeflow::recorded_noise<X>(flipped)}).samples;
    CHECK((mirrored.array() != a.array()).any());
  }
}

TEMPLATE_LIST_TEST_CASE("every sampler: batch-split invariance where claimed", "[engine]", all_samplers) {
  using Smp = typename TestType::sampler;
  const Smp s;
  const auto& m = ring_model();
  const auto grid = grid_for<TestType>(9);
  const sdeflow::sampler_options<X> opt{.seed = 11};
  const X x = sdeflow::initial_noise(vp(), 2, 20, opt);
  const X whole = sdeflow::sample(s, m, x, grid, opt).samples;
  X pieces(2, 20);
  for (auto [start, len] : {std::pair<Eigen::Index, Eigen::Index>{0, 7}, {7, 1}, {8, 12}}) {
    auto o = opt;
    o.sample_offset = static_cast<std::uint64_t>(start);
    pieces.middleCols(start, len) = sdeflow::sample(s, m, X(x.middleCols(start, len)), grid, o).samples;
  }
  if constexpr (TestType::split_invariant) {
    CHECK((pieces.array() == whole.array()).all());
  } else {
    CHECK((pieces.array() != whole.array()).any());
  }
}

TEMPLATE_LIST_TEST_CASE("every sampler: the observer sees x0_hat, early stop, step-level API", "[engine]", all_samplers) {
  using Smp = typename TestType::sampler;
  const Smp s;
  const auto& m = ring_model();
  const auto score = sdeflow::exact_score(sdeflow_test::ring(), vp());
  const auto grid = grid_for<TestType>(8);
  const X x = sdeflow::initial_noise(vp(), 2, 5, sdeflow::sampler_options<X>{.seed = 12});
  std::vector<X> states;
  std::vector<std::size_t> indices;
  sdeflow::sampler_options<X> opt{.seed = 13};
  opt.observer = [&](const sdeflow::step_info<X>& info) {
    indices.push_back(info.index);
    CHECK(info.t == grid[info.index]);
    if (info.index == 0) {
      CHECK(info.denoised == nullptr);
    } else if constexpr (std::is_same_v<Smp, edm_heun_churn>) {  // churn evaluates first at t_hat > t_{k-1}
      CHECK(info.denoised != nullptr);
    } else {
      // x0_hat of the step's first evaluation, at (x_{k-1}, t_{k-1}) for these samplers.
      REQUIRE(info.denoised != nullptr);
      const double t = grid[info.index - 1];
      const X expected = score.denoise(states.back(), t);
      CHECK((*info.denoised - expected).cwiseAbs().maxCoeff() < 1e-9 * (1 + expected.cwiseAbs().maxCoeff()));
    }
    states.push_back(info.x);
  };
  const auto full = sdeflow::sample(s, m, x, grid, opt);
  CHECK(indices == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK((states.back().array() == full.samples.array()).all());

  // Early stop after grid point 3: three steps, the state of point 3, counted evaluations so far.
  sdeflow::sampler_options<X> stop{.seed = 13};
  stop.observer = [](std::size_t k, double, const X&) { return k < 3; };
  const auto early = sdeflow::sample(s, m, x, grid, stop);
  CHECK(early.report.steps == 3);
  CHECK(early.report.stopped_early);
  CHECK((early.samples.array() == states[3].array()).all());
  std::size_t evals3 = 0;  // the evaluations of the first three steps, counted on a run one step at a time
  {
    sdeflow::sampling_run r3(s, m, x, grid, sdeflow::sampler_options<X>{.seed = 13});
    for (int k = 0; k < 3; ++k) r3.step();
    evals3 = r3.report().evaluations;
  }
  CHECK(early.report.evaluations == evals3);
  // A stop at the initial point takes no step; a "stop" at the last point is not early.
  stop.observer = [](std::size_t, double, const X&) { return false; };
  const auto none = sdeflow::sample(s, m, x, grid, stop);
  CHECK(none.report.steps == 0);
  CHECK(none.report.evaluations == 0);
  CHECK(none.report.stopped_early);
  CHECK((none.samples.array() == x.array()).all());
  stop.observer = [](std::size_t k, double, const X&) { return k < 8; };
  const auto at_end = sdeflow::sample(s, m, x, grid, stop);
  CHECK(at_end.report.steps == 8);
  CHECK_FALSE(at_end.report.stopped_early);

  // The step-level API: the same bits as the one-call driver, and a clear error past the end.
  sdeflow::sampling_run run(s, m, x, grid, sdeflow::sampler_options<X>{.seed = 13});
  std::size_t steps = 0;
  while (!run.done()) {
    CHECK(run.time() == grid[run.index()]);
    run.step();
    ++steps;
    CHECK((run.state().array() == states[steps].array()).all());
  }
  CHECK(steps == 8);
  CHECK_THROWS_WITH(run.step(), Catch::Contains("the run is done"));
  CHECK(run.report().evaluations == full.report.evaluations);
}

namespace {
/// A run under an execution policy, with an observer that keeps every state and x0_hat.
struct observed_run {
  X samples;
  sdeflow::integration_report report;
  std::vector<X> states, denoised;
};
template <class Smp, class M>
observed_run run_under(const Smp& s, const M& m, const X& x, const sdeflow::time_grid<>& grid,
                       sdeflow::sampler_options<X> opt, const sdeflow::execution& exec, bool observe) {
  observed_run out;
  opt.exec = exec;
  if (observe) {
    opt.observer = [&out](const sdeflow::step_info<X>& info) {
      out.states.push_back(info.x);
      out.denoised.push_back(info.denoised != nullptr ? *info.denoised : X());
    };
  }
  auto r = sdeflow::sample(s, m, x, grid, opt);
  out.samples = std::move(r.samples);
  out.report = r.report;
  return out;
}
bool same(const X& a, const X& b) { return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all(); }
bool same(const std::vector<X>& a, const std::vector<X>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const X& p, const X& q) { return same(p, q); });
}
}  // namespace

TEMPLATE_LIST_TEST_CASE("every sampler: tiles and threads (options.exec) give the whole-batch bits", "[engine][execution]",
                        all_samplers) {
  using Smp = typename TestType::sampler;
  using sdeflow::execution;
  const Smp s;
  const auto& m = ring_model();
  const auto grid = grid_for<TestType>(6);
  const Eigen::Index n = 103;
  const X x = sdeflow::initial_noise(vp(), 2, n, sdeflow::sampler_options<X>{.seed = 21});
  const sdeflow::sampler_options<X> opt{.seed = 22, .sample_offset = 5};
  const execution whole{.threads = 1, .tile_columns = execution::untiled};
  const observed_run ref = run_under(s, m, x, grid, opt, whole, true);
  CHECK(same(run_under(s, m, x, grid, opt, whole, false).samples, ref.samples));
  if constexpr (TestType::split_invariant) {
    for (const execution& e : {execution{.threads = 1, .tile_columns = 7}, execution{.threads = 2, .tile_columns = 7},
                               execution{.threads = 2, .tile_columns = 0}, execution{.threads = 3, .tile_columns = 50}}) {
      INFO("threads " << e.threads << " tile " << e.tile_columns);
      const observed_run plain = run_under(s, m, x, grid, opt, e, false);
      CHECK(same(plain.samples, ref.samples));
      CHECK(plain.report.evaluations == ref.report.evaluations);
      const observed_run seen = run_under(s, m, x, grid, opt, e, true);
      CHECK(same(seen.samples, ref.samples));
      CHECK(same(seen.states, ref.states));      // the observer sees the whole state at every point
      CHECK(same(seen.denoised, ref.denoised));  // and the whole x0_hat
      CHECK(seen.report.steps == ref.report.steps);
    }
    // A Brownian tree splits by columns too: the same path per sample on any tiling.
    sdeflow::sampler_options<X> tree = opt;
    tree.noise = sdeflow::brownian_tree(0.0, 1.0, 1e-3, 31, 5);
    const X tree_ref = run_under(s, m, x, grid, tree, whole, false).samples;
    CHECK(same(run_under(s, m, x, grid, tree, {.threads = 2, .tile_columns = 9}, false).samples, tree_ref));
    // The step-level API under tiles: a change to the state between steps reaches every tile.
    sdeflow::sampling_run a(s, m, x, grid, sdeflow::sampler_options<X>{.seed = 22, .sample_offset = 5});
    auto tiled_opt = opt;
    tiled_opt.exec = {.threads = 2, .tile_columns = 10};
    sdeflow::sampling_run b(s, m, x, grid, tiled_opt);
    CHECK(b.tile_columns() == 10);
    while (!a.done()) {
      a.step();
      b.step();
      a.state().col(17).setConstant(0.25);  // inpainting-style edit of one sample
      b.state().col(17).setConstant(0.25);
      CHECK(same(a.state(), b.state()));
    }
    CHECK(b.done());
  } else {
    // Predictor-corrector couples the batch: tiles need an explicit size, and each tile is a batch of its
    // own. Pinned: the tiled run equals separate runs on the tiles (sample offsets follow the columns), for
    // any thread count, and differs from the whole-batch run.
    CHECK_THROWS_WITH(run_under(s, m, x, grid, opt, {.threads = 2}, false),
                      Catch::Contains("couples the samples") && Catch::Contains("tile_columns"));
    CHECK(same(run_under(s, m, x, grid, opt, {.threads = 1, .tile_columns = 0}, false).samples, ref.samples));
    X pieces(2, n);
    for (Eigen::Index j0 = 0; j0 < n; j0 += 40) {
      const Eigen::Index w = std::min<Eigen::Index>(40, n - j0);
      auto o = opt;
      o.sample_offset += static_cast<std::uint64_t>(j0);
      pieces.middleCols(j0, w) = sdeflow::sample(s, m, X(x.middleCols(j0, w)), grid, o).samples;
    }
    const X one = run_under(s, m, x, grid, opt, {.threads = 1, .tile_columns = 40}, false).samples;
    CHECK(same(one, pieces));
    CHECK(same(run_under(s, m, x, grid, opt, {.threads = 2, .tile_columns = 40}, false).samples, pieces));
    CHECK_FALSE(same(one, ref.samples));
  }
}

namespace {
struct net_like {  // stands for a network: wants the whole batch in one call
  static constexpr bool whole_batch = true;
  Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, double) const { return 0.5 * y; }
};
struct fails_right {  // throws on the tile that holds a huge entry in its last column
  Eigen::MatrixXd operator()(const Eigen::MatrixXd& y, double) const {
    if (y.cols() > 0 && y(0, y.cols() - 1) > 1e300) throw std::runtime_error("model failed");
    return 0.5 * y;
  }
};
}  // namespace

TEST_CASE("options.exec: what cannot be split is refused, naming the reason", "[engine][execution]") {
  const auto& m = ring_model();
  const auto grid = grid_for<sampler_case<smp::ddpm, true>>(4);
  const X x = sdeflow::initial_noise(vp(), 2, 30, sdeflow::sampler_options<X>{.seed = 1});
  // A recorded table has no columns_from: threads are refused; the default still runs it.
  sdeflow::noise_recorder<sdeflow::counter_noise, X> rec(sdeflow::counter_noise(2));
  const X a = sdeflow::sample(smp::ddpm{}, m, x, grid, {.noise = rec}).samples;
  sdeflow::sampler_options<X> replay{.noise = rec.replay()};
  replay.exec = {.threads = 2};
  CHECK_THROWS_WITH(sdeflow::sample(smp::ddpm{}, m, x, grid, replay), Catch::Contains("cannot be split by columns"));
  replay.exec = {.threads = 1, .tile_columns = 0};  // automatic, one thread: runs whole
  CHECK(same(sdeflow::sample(smp::ddpm{}, m, x, grid, replay).samples, a));
  // A model that declares whole_batch (a network) is never split.
  const sdeflow::model net(vp(), net_like{}, sdeflow::prediction::data);
  sdeflow::sampler_options<X> threaded{.seed = 3};
  threaded.exec = {.threads = 2};
  CHECK_THROWS_WITH(sdeflow::sample(smp::ddim{}, net, x, grid, threaded), Catch::Contains("whole_batch"));
  // Bad policies name the field.
  threaded.exec = {.threads = 0};
  CHECK_THROWS_WITH(sdeflow::sample(smp::ddim{}, m, x, grid, threaded), Catch::Contains("execution.threads"));
  // An error thrown inside a worker reaches the caller.
  X bad = x;
  bad(0, 19) = 2e300;  // tile 1 (columns 10..19) runs on worker 1, not on the calling thread
  const sdeflow::model failing(vp(), fails_right{}, sdeflow::prediction::data);
  threaded.exec = {.threads = 2, .tile_columns = 10};
  CHECK_THROWS_WITH(sdeflow::sample(smp::ddim{}, failing, bad, grid, threaded), Catch::Contains("model failed"));
  // After a step threw, the step-level run refuses to go on (its tiles are partly advanced).
  sdeflow::sampling_run broken(smp::ddim{}, failing, bad, grid, threaded);
  CHECK_THROWS_WITH(broken.step(), Catch::Contains("model failed"));
  CHECK_THROWS_WITH(broken.step(), Catch::Contains("an earlier step threw"));
  // A state whose shape changed between steps is refused, not written out of bounds.
  sdeflow::sampling_run reshaped(smp::ddim{}, m, x, grid, threaded);
  reshaped.step();
  reshaped.state().resize(2, 12);
  CHECK_THROWS_AS(reshaped.step(), sdeflow::dimension_mismatch);
  // A state with a fixed number of columns cannot be tiled.
  using X5 = Eigen::Matrix<double, 2, 5>;
  const X5 x5 = x.leftCols(5);
  sdeflow::sampler_options<X5> fixed{.seed = 3};
  fixed.exec = {.threads = 2};
  const auto m5 = sdeflow_test::exact_model(sdeflow_test::ring(), vp());
  CHECK_THROWS_WITH(sdeflow::sample(smp::ddim{}, m5, x5, grid, fixed), Catch::Contains("fixed number of columns"));
}

TEST_CASE("options.exec: threads with the default untiled width, more threads than columns, a temperature, d = 8 "
          "with one-column tiles, early stop", "[engine][execution]") {
  using sdeflow::execution;
  const auto grid = grid_for<sampler_case<smp::ddpm, true>>(6);
  const auto& m = ring_model();
  const X x = sdeflow::initial_noise(vp(), 2, 30, sdeflow::sampler_options<X>{.seed = 1});
  const sdeflow::sampler_options<X> base{.seed = 2, .sample_offset = 7, .temperature = 0.8};
  const X ref = sdeflow::sample(smp::ddpm{}, m, x, grid, base).samples;
  auto opt = base;
  opt.exec.threads = 2;  // tile_columns stays untiled: threads take the automatic width
  sdeflow::sampling_run run(smp::ddpm{}, m, x, grid, opt);
  CHECK(run.tile_columns() > 0);
  CHECK(run.tile_columns() < 30);
  CHECK(same(sdeflow::sample(smp::ddpm{}, m, x, grid, opt).samples, ref));
  opt.exec = {.threads = 8, .tile_columns = 4};  // 8 tiles of at most 4 columns on 8 workers; the last is 2 wide
  CHECK(same(sdeflow::sample(smp::ddpm{}, m, x, grid, opt).samples, ref));
  const X tiny = x.leftCols(3);  // fewer columns than threads
  opt.exec = {.threads = 4, .tile_columns = 0};
  CHECK(same(sdeflow::sample(smp::ddpm{}, m, tiny, grid, opt).samples,
             sdeflow::sample(smp::ddpm{}, m, tiny, grid, base).samples));
  // Early stop under tiles: the same point and report as the whole-batch run.
  auto stop = base;
  stop.observer = [](std::size_t k, double, const X&) { return k < 2; };
  const auto whole_stop = sdeflow::sample(smp::ddpm{}, m, x, grid, stop);
  stop.exec = {.threads = 2, .tile_columns = 7};
  const auto tiled_stop = sdeflow::sample(smp::ddpm{}, m, x, grid, stop);
  CHECK(same(tiled_stop.samples, whole_stop.samples));
  CHECK(tiled_stop.report.steps == 2);
  CHECK(tiled_stop.report.evaluations == whole_stop.report.evaluations);
  CHECK(tiled_stop.report.stopped_early);
  // d = 8, full covariances (Eigen products inside the exact model), one-column tiles and odd widths.
  const auto m8 = sdeflow_test::exact_model(sdeflow_test::aniso8(), vp());
  const X x8 = sdeflow::initial_noise(vp(), 8, 23, sdeflow::sampler_options<X>{.seed = 5});
  const X ref8 = sdeflow::sample(smp::dpmpp_2m_sde{}, m8, x8, grid, base).samples;
  for (const execution& e : {execution{.threads = 1, .tile_columns = 1}, execution{.threads = 2, .tile_columns = 5}}) {
    auto o = base;
    o.exec = e;
    INFO("tile " << e.tile_columns);
    CHECK(same(sdeflow::sample(smp::dpmpp_2m_sde{}, m8, x8, grid, o).samples, ref8));
  }
}

namespace {
/// Mutant: a noise source whose columns_from ignores j0, so every tile draws the noise of columns 0, 1, ...
/// (what an engine that forgot to shift the noise would do). The tiled property must reject it.
struct unshifted_noise : sdeflow::counter_noise {
  using sdeflow::counter_noise::counter_noise;
  [[nodiscard]] unshifted_noise columns_from(std::uint64_t) const { return *this; }
};
}  // namespace

TEST_CASE("options.exec: the tiled property rejects tiles that draw unshifted noise (mutant)", "[engine][execution]") {
  const auto& m = ring_model();
  const auto grid = grid_for<sampler_case<smp::ddpm, true>>(5);
  const X x = sdeflow::initial_noise(vp(), 2, 40, sdeflow::sampler_options<X>{.seed = 1});
  sdeflow::sampler_options<X> opt{.noise = unshifted_noise(9)};
  const X whole = sdeflow::sample(smp::ddpm{}, m, x, grid, opt).samples;
  opt.exec = {.threads = 2, .tile_columns = 10};
  const X tiled = sdeflow::sample(smp::ddpm{}, m, x, grid, opt).samples;
  CHECK(same(tiled.leftCols(10), whole.leftCols(10)));  // the first tile is right
  CHECK_FALSE(same(tiled, whole));                       // the others are not
  // The correct source passes on the same tiling.
  sdeflow::sampler_options<X> good{.noise = sdeflow::counter_noise(9)};
  const X good_whole = sdeflow::sample(smp::ddpm{}, m, x, grid, good).samples;
  CHECK(same(good_whole, whole));
  good.exec = opt.exec;
  CHECK(same(sdeflow::sample(smp::ddpm{}, m, x, grid, good).samples, whole));
}

namespace {
/// Mutants: wrong samplers the properties above must reject.
/// - ignores_noise: DDPM that draws its own counter-based noise instead of the noise it is given.
/// - miscounts: DDIM that evaluates the model twice per step but documents one evaluation.
struct ignores_noise : smp::ddpm {
  template <class M, sdeflow::State Y, class W>
  void step(const M& m, Y& x, const sdeflow::step_context<double>& c, W& ws, sdeflow::step_noise<Y>&) const {
    sdeflow::counter_noise own(8, 3);
    sdeflow::noise_source<Y> src(own);
    sdeflow::step_noise<Y> mine(src, c.index, c.t, c.t_next, 1.0);
    smp::ddpm::step(m, x, c, ws, mine);
  }
};
struct miscounts : smp::ddim {
  template <class M, sdeflow::State Y, class W>
  void step(const M& m, Y& x, const sdeflow::step_context<double>& c, W& ws, sdeflow::step_noise<Y>& n) const {
    m.predict(x, c.t, ws.x0, ws.eps);
    smp::ddim::step(m, x, c, ws, n);
  }
};
}  // namespace

TEST_CASE("noise counter layout: step k, draw j is draw k * draws_per_step + j", "[engine]") {
  const auto& m = ring_model();
  const X x = sdeflow::initial_noise(vp(), 2, 3, sdeflow::sampler_options<X>{.seed = 1});
  // DDPM to sigma = 0 in 4 steps: draws 0, 1, 2 (the last step adds no noise).
  sdeflow::noise_recorder<sdeflow::counter_noise, X> a(sdeflow::counter_noise(1));
  (void)sdeflow::sample(smp::ddpm{}, m, x, sdeflow::uniform_schedule(1.0, 0.0, 4), {.noise = a});
  CHECK(a.table().size() == 3);
  // Predictor-corrector with 2 corrections, 3 steps: 3 draws a step (corrections 0, 1 at t_k, predictor 2),
  // no predictor draw on the last step: draws 0..7, all used.
  sdeflow::noise_recorder<sdeflow::counter_noise, X> b(sdeflow::counter_noise(1));
  const smp::predictor_corrector pc{sdeflow::pc_predictor::reverse_diffusion, 2, 0.16};
  (void)sdeflow::sample(pc, m, x, sdeflow::uniform_schedule(1.0, 0.01, 3), {.noise = b});
  CHECK(b.table().size() == 8);
  for (const auto& z : b.table()) CHECK(z.size() == 6);
  // The draws are the counter source's draws at those indices.
  X z(2, 3);
  sdeflow::counter_noise(1).normal(5, 0.0, 0.0, z);
  CHECK((b.table()[5].array() == z.array()).all());
}

TEST_CASE("the common properties reject wrong samplers (mutants)", "[engine]") {
  const auto& m = ring_model();
  const auto grid = grid_for<sampler_case<smp::ddpm, true>>(7);
  const X x = sdeflow::initial_noise(vp(), 2, 6, sdeflow::sampler_options<X>{.seed = 7});
  // A sampler that ignores the noise it is given: a flipped table changes nothing (the property fails).
  sdeflow::noise_recorder<sdeflow::counter_noise, X> rec(sdeflow::counter_noise(8, 3));
  const X a = sdeflow::sample(ignores_noise{}, m, x, grid, {.noise = rec}).samples;
  std::vector<X> flipped(7, X::Ones(2, 6));
  CHECK((sdeflow::sample(ignores_noise{}, m, x, grid, {.noise = sdeflow::recorded_noise<X>(flipped)}).samples.array() ==
         a.array()).all());
  CHECK(rec.table().empty());
  // The correct sampler does change.
  CHECK((sdeflow::sample(smp::ddpm{}, m, x, grid, {.noise = sdeflow::recorded_noise<X>(flipped)}).samples.array() !=
         sdeflow::sample(smp::ddpm{}, m, x, grid, {.seed = 8, .sample_offset = 3}).samples.array()).any());
  // A sampler whose documented NFE is wrong: the counted NFE exposes it.
  const auto out = sdeflow::sample(miscounts{}, m, x, grid);
  CHECK(out.report.evaluations == 2 * grid.steps());
  CHECK(out.report.evaluations != miscounts{}.evaluations(m, grid));
}
