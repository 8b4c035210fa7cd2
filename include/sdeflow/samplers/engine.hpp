// SPDX-License-Identifier: MIT
#pragma once
/// \file engine.hpp
/// The sampling engine: one driver for every diffusion sampler.
///
///   sample(sampler, model, x_T, grid [, options]) -> {samples, report}
///   sampling_run run(sampler, model, x_T, grid [, options]);   // the same, one step at a time
///
/// A sampler is a small object whose settings are members (samplers::ddim{.eta = 0.5}); it owns one
/// step and the workspace of a run (multistep history included), nothing else. The engine owns the
/// loop and everything that cuts across samplers, written once: the observer protocol
/// (core/observer.hpp; the observer sees the model's x0_hat), step and NFE counts (counted, not
/// declared), the finiteness check, early stop, the noise policy and the temperature.
///
/// The sampler protocol (concept Sampler<Smp, M, X>), for a DiffusionModel m:
///   s.validate()                           throw invalid_argument naming a bad setting
///   s.workspace(m, x)                      per-run buffers and history, made once
///   s.step(m, x, ctx, ws, noise)           advance x from ctx.t to ctx.t_next in place
///   s.evaluations(m, grid)                 the documented NFE of a whole run (with Smp::adaptive: the
///                                          fewest possible; the engine counts the real number)
///   s.draws_per_step()          optional:  noise draws one step may take (default 1)
///   s.validate_grid(process, grid) optional: throw invalid_argument for a grid the sampler cannot run
///                                          (called before the first step)
///   Smp::couples_batch          optional:  true when a step uses a statistic of the whole batch
/// Noise of step k, draw j is draw k * draws_per_step + j of the noise source (options.noise, or the
/// counter-based source of options.seed and options.sample_offset), scaled by options.temperature.
///
/// Tiles and threads (options.exec, core/execution.hpp): the engine splits the batch into column tiles,
/// gives each tile its own workspace, model copy (one per worker) and the noise of its columns
/// (noise.columns_from(j0)), and steps the tiles in lockstep, so the observer and the step-level API see
/// the whole state. Since samples are independent columns, the result is the whole-batch run's, bit for
/// bit, for any tile size and thread count, when the model computes each column on its own (see
/// core/execution.hpp for what that takes). It cannot split: a model that declares whole_batch (sdeflow's
/// mlp, and model/guided around one: wrap your own network the same way, or it is called per tile, and a
/// handle to one shared network with unguarded buffers would race), a noise source without columns_from (recorded, generator),
/// a fixed-column state; asking for threads or tiles then throws. A sampler's step() is called on one
/// const sampler object from every worker. If a step throws, the run is spent (its tiles are partly
/// advanced): step() then throws. A sampler that couples the batch (predictor_corrector's batch-mean
/// step size) runs each tile as a batch of its own: it needs an explicit tile_columns, and its result then
/// depends on the tile size, never on the thread count.
///
/// \code
///   sdeflow::model net(vp, my_eps_network, sdeflow::prediction::epsilon);
///   auto grid = sdeflow::karras_schedule(vp, 0.002, sdeflow::sigma_ratio(vp, 1.0), 20);
///   auto xT = sdeflow::initial_noise(vp, 2, 1000, grid, {.seed = 1});
///   auto out = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, net, xT, grid);
///
///   sdeflow::sampling_run run(sdeflow::samplers::ddpm{}, net, xT, grid, {.seed = 2});
///   while (!run.done()) {
///     run.step();
///     run.state().row(0).setConstant(0.0);   // read or change the state between steps (inpainting)
///   }
/// \endcode

#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/execution.hpp>
#include <sdeflow/core/observer.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/noise/brownian_increments.hpp>
#include <sdeflow/noise/sources.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sdeflow {

/// The one options type of the samplers.
template <State X>
struct sampler_options {
  std::uint64_t seed = 0;            ///< seed of the counter-based noise (when `noise` is empty) and of the prior draw
  std::uint64_t sample_offset = 0;   ///< global index of column 0: batches drawn in pieces match one drawn at once
  double temperature = 1.0;          ///< scales the prior draw and every injected noise (1 = exact; below 1 sharpens)
  noise_source<X> noise{};           ///< where the Gaussian draws come from (empty: counter_noise(seed, sample_offset))
  any_observer<X> observer{};        ///< sees every grid point with x0_hat; false stops (core/observer.hpp)
  /// Tiles and threads (core/execution.hpp). The default runs the whole batch at once on the calling
  /// thread, so a model sees the batch it was given; exec.threads = 2 splits the batch into cache-sized
  /// column tiles over two workers, bit-identical to the whole-batch run (the noise is keyed per sample).
  execution exec{.threads = 1, .tile_columns = execution::untiled};
};

/// What every sampler returns.
template <State X>
struct sample_result {
  X samples;
  integration_report report;
};

/// Where a step runs.
template <std::floating_point S>
struct step_context {
  std::size_t index;   ///< 0-based step index k
  std::size_t steps;   ///< N, the steps of the grid
  S t;                 ///< t_k
  S t_next;            ///< t_{k+1}
  S t_final;           ///< t_N, where the run ends
  [[nodiscard]] bool first() const noexcept { return index == 0; }
  [[nodiscard]] bool last() const noexcept { return index + 1 == steps; }
};

/// The noise of one step, handed to the sampler: draw j is the source's draw k * per_step + j, scaled
/// by the temperature.
template <State X>
class step_noise {
 public:
  using S = scalar_of<X>;
  step_noise(noise_source<X>& src, std::uint64_t first, S t, S t_next, double temperature) noexcept
      : src_(src), first_(first), t_(t), tn_(t_next), temp_(temperature) {}

  /// Standard normals (times the temperature) for draw j spanning the step [t, t_next].
  void normal(std::size_t j, X& z) { draw(j, t_, tn_, z); }
  /// Standard normals (times the temperature) for draw j spanning a part [a, b] of the step: for a
  /// Brownian-tree source the normalized increment (W(b) - W(a)) / sqrt|b - a| of the one path, so draws
  /// over overlapping intervals are correlated as the path makes them (a single-step SDE solver's stages).
  void normal_over(std::size_t j, S a, S b, X& z) { draw(j, a, b, z); }
  /// Standard normals (times the temperature) for draw j at one time (a Langevin step at `time`).
  void normal_at(std::size_t j, S time, X& z) { draw(j, time, time, z); }
  /// Standard normals for draw j at one time, NOT scaled by the temperature: for samplers that derive a
  /// step size from the noise (the Langevin corrector) and apply temperature() to what they inject.
  void standard_at(std::size_t j, S time, X& z) { src_.normal(first_ + j, time, time, z); }
  /// The temperature of the run (1 = exact).
  [[nodiscard]] double temperature() const noexcept { return temp_; }
  /// The Brownian increment over the step, dW ~ N(0, |t_next - t| I) (times the temperature), draw j.
  void increment(std::size_t j, X& dW) {
    src_.increment(static_cast<std::size_t>(first_ + j), t_, tn_ - t_, dW);
    scale(dW);
  }

 private:
  void draw(std::size_t j, S a, S b, X& z) {
    src_.normal(first_ + j, a, b, z);
    scale(z);
  }
  void scale(X& z) const {
    if (temp_ != 1.0) z *= static_cast<S>(temp_);
  }
  noise_source<X>& src_;
  std::uint64_t first_;
  S t_, tn_;
  double temp_;
};

namespace detail {

/// Counters a run shares with its counting model.
template <State X>
struct run_counters {
  std::size_t evaluations = 0;
  bool want_denoised = false;   ///< an observer is listening
  bool have_denoised = false;   ///< x0_hat of this step's first evaluation is in `denoised`
  X denoised;
};

/// The model as a sampler sees it inside the engine: forwards predict and score, counts every
/// evaluation and keeps x0_hat of a step's first evaluation for the observer. A cheap handle.
template <class M, State X>
class counting_model {
 public:
  using schedule_type = schedule_of<M>;
  using scalar_type = typename schedule_type::scalar_type;

  counting_model(const M& m, run_counters<X>& c) noexcept : m_(&m), c_(&c) {}

  [[nodiscard]] decltype(auto) process() const { return m_->process(); }

  template <State Y, State A, State B>
  void predict(const Y& x, scalar_type t, A& x0, B& eps) const {
    ++c_->evaluations;
    m_->predict(x, t, x0, eps);
    if (c_->want_denoised && !c_->have_denoised) {
      c_->denoised = x0;
      c_->have_denoised = true;
    }
  }

  /// The score -eps_hat / sigma: the model's own `score` when it has one (exact for score models).
  template <State Y>
  void score(const Y& x, scalar_type t, Y& out) const {
    ++c_->evaluations;
    if constexpr (requires { m_->score(x, t, out); }) {
      m_->score(x, t, out);
    } else {
      const scalar_type sd = m_->process().marginal_std(t);
      require(sd > 0, "score", "marginal_std(t)", sd, "must be > 0 to turn a prediction into a score");
      Y x0(x.rows(), x.cols());
      m_->predict(x, t, x0, out);
      out *= -1 / sd;
    }
    if (c_->want_denoised && !c_->have_denoised) {
      const auto& p = m_->process();
      const scalar_type s = p.mean_scale(t), sd = p.marginal_std(t);
      if (s > 0) {  // Tweedie: x0_hat = (x + sigma^2 score) / s
        c_->denoised = (x + (sd * sd) * out) / s;
        c_->have_denoised = true;
      }
    }
  }

 private:
  const M* m_;
  run_counters<X>* c_;
};

template <class Smp, class CM, class X>
using workspace_t = decltype(std::declval<const Smp&>().workspace(std::declval<const CM&>(), std::declval<const X&>()));

template <class Smp>
[[nodiscard]] std::uint64_t draws_per_step(const Smp& s) {
  if constexpr (requires { s.draws_per_step(); }) {
    return static_cast<std::uint64_t>(s.draws_per_step());
  } else {
    return 1;
  }
}

template <class Smp>
inline constexpr bool couples_batch_v = requires { requires Smp::couples_batch; };

/// X(like.rows(), like.cols()): a buffer of a state's shape.
template <State X>
[[nodiscard]] X like(const X& x) {
  return X(x.rows(), x.cols());
}

/// The workspace of the one-evaluation samplers: x0_hat, eps_hat and one noise draw.
template <State X>
struct prediction_workspace {
  X x0, eps, z;
  explicit prediction_workspace(const X& x) : x0(like(x)), eps(like(x)), z(like(x)) {}
};

}  // namespace detail

/// A sampler for models M on states X (see the file comment for the protocol).
template <class Smp, class M, class X>
concept Sampler =
    DiffusionModel<M, X> &&
    requires(const Smp& s, const detail::counting_model<M, X>& m, X& x, const time_grid<scalar_of<X>>& grid,
             const step_context<scalar_of<X>>& ctx, step_noise<X>& noise,
             detail::workspace_t<Smp, detail::counting_model<M, X>, X>& ws) {
      s.validate();
      { s.evaluations(m, grid) } -> std::convertible_to<std::size_t>;
      s.step(m, x, ctx, ws, noise);
    };

namespace detail {
template <State X>
void validate_run(const time_grid<scalar_of<X>>& grid, const sampler_options<X>& opt, const char* where) {
  require(grid.backwards(), where, "grid.back()", grid.back(), "must be below grid.front(): samplers run T -> 0");
  require(std::isfinite(opt.temperature) && opt.temperature >= 0, where, "temperature", opt.temperature,
          "must be finite and >= 0");
}

/// The grid must lie inside the schedule's clock [0, T] (when it has a horizon T).
template <NoiseSchedule P, class S>
void validate_range(const P& p, const time_grid<S>& grid, const char* where) {
  require(grid.back() >= 0, where, "grid.back()", grid.back(), "must be >= 0 (t = 0 is the data end of the clock)");
  if constexpr (requires { p.horizon(); }) {
    const auto T = static_cast<S>(p.horizon());
    require(grid.front() <= T * (1 + 64 * std::numeric_limits<S>::epsilon()), where, "grid.front()", grid.front(),
            detail::message("must not exceed the process's horizon T = ", T).c_str());
  }
}
}  // namespace detail

namespace detail {
/// One batch under a sampler (the whole state, or one tile of it): its counting model, workspace and
/// noise; it steps the state it was built on. Not movable (the workspace may refer to the counting model).
template <class Smp, class M, State X>
class batch_run {
 public:
  using S = scalar_of<X>;
  batch_run(const Smp& smp, const M& m, X& x, noise_source<X> noise, double temperature)
      : smp_(smp), x_(x), noise_(std::move(noise)), counted_(m, counters_), ws_(smp.workspace(counted_, x)),
        per_step_(draws_per_step(smp)), temperature_(temperature) {}
  batch_run(const batch_run&) = delete;
  batch_run& operator=(const batch_run&) = delete;
  batch_run(batch_run&&) = delete;
  batch_run& operator=(batch_run&&) = delete;
  ~batch_run() = default;

  /// Step k of `grid`, keeping x0_hat of its first evaluation when asked; returns the evaluations.
  std::size_t step(std::size_t k, const time_grid<S>& grid, bool want_denoised) {
    const S t = grid[k], tn = grid[k + 1];
    counters_.want_denoised = want_denoised;
    counters_.have_denoised = false;
    const std::size_t before = counters_.evaluations;
    step_noise<X> noise(noise_, static_cast<std::uint64_t>(k) * per_step_, t, tn, temperature_);
    smp_.step(counted_, x_, step_context<S>{k, grid.steps(), t, tn, grid.back()}, ws_, noise);
    return counters_.evaluations - before;
  }
  [[nodiscard]] const X* denoised() const noexcept { return counters_.have_denoised ? &counters_.denoised : nullptr; }

 private:
  const Smp& smp_;
  X& x_;
  noise_source<X> noise_;
  run_counters<X> counters_;
  counting_model<M, X> counted_;
  workspace_t<Smp, counting_model<M, X>, X> ws_;
  std::uint64_t per_step_;
  double temperature_;
};
}  // namespace detail

/// A sampling run, one step at a time (diffusers' scheduler.step()): holds the sampler, the state,
/// the workspace, the noise and the counts. Read or change state() between steps; step() advances
/// one step; result() hands back {samples, report}. The model is held by reference and must outlive
/// the run; the run cannot be copied or moved (its workspace refers to it). Under options.exec the
/// tiles step in lockstep: each step reads its tile from state() and writes it back.
template <class Smp, class M, State X>
  requires Sampler<Smp, M, X>
class sampling_run {
 public:
  using scalar_type = scalar_of<X>;

  sampling_run(Smp sampler, const M& m, X x_T, time_grid<scalar_type> grid, sampler_options<X> opt = {})
      : smp_(std::move(sampler)),
        model_(&m),
        x_(std::move(x_T)),
        grid_(std::move(grid)),
        opt_(std::move(opt)),
        tile_(plan()),
        workers_(tile_ > 0 ? static_cast<unsigned>(std::min<std::size_t>(opt_.exec.threads, detail::tile_span::count(tile_, x_.cols())))
                           : 1u),
        models_(m, workers_),
        pool_(workers_),
        rows_(x_.rows()),
        cols_(x_.cols()),
        mon_(opt_.observer, grid_.steps()) {
    if (detail::empty_batch(x_)) {
      stopped_ = true;  // the rule for empty batches (core/types.hpp): nothing runs, the report stays zero
      return;
    }
    noise_source<X> noise = opt_.noise ? opt_.noise : noise_source<X>(counter_noise(opt_.seed, opt_.sample_offset, 0));
    if (tile_ == 0) {
      runs_.push_back(std::make_unique<run_type>(smp_, m, x_, std::move(noise), opt_.temperature));
    } else {
      const std::size_t n = detail::tile_span::count(tile_, x_.cols());
      tiles_.reserve(n);  // the runs refer to their tiles: no reallocation after this
      for (std::size_t i = 0; i < n; ++i) {
        const auto sp = detail::tile_span::of(i, tile_, x_.cols());
        tiles_.emplace_back(x_.middleCols(sp.first, sp.width));
        runs_.push_back(std::make_unique<run_type>(smp_, models_[static_cast<unsigned>(i % pool_.threads())], tiles_.back(),
                                                   noise.columns_from(static_cast<std::uint64_t>(sp.first)),
                                                   opt_.temperature));
      }
      evaluations_.resize(n);
    }
    stopped_ = !mon_.start(x_, grid_[0]);
  }
  sampling_run(Smp, const M&&, X, time_grid<scalar_type>, sampler_options<X> = {}) = delete;  // would dangle
  sampling_run(const sampling_run&) = delete;
  sampling_run& operator=(const sampling_run&) = delete;
  sampling_run(sampling_run&&) = delete;
  sampling_run& operator=(sampling_run&&) = delete;
  ~sampling_run() = default;

  /// True when every step is taken, the observer stopped the run, or the batch is empty.
  [[nodiscard]] bool done() const noexcept { return stopped_ || k_ == grid_.steps(); }

  /// Advance one step (throws when done()).
  void step() {
    if (done()) {
      throw invalid_argument(detail::message("sampling_run::step: the run is done (", k_, " of ", grid_.steps(),
                                             " steps taken",
                                             detail::empty_batch(x_) ? ", the batch is empty"
                                             : stopped_            ? ", stopped by the observer"
                                                                   : "",
                                             ")"));
    }
    if (spent_) throw invalid_argument("sampling_run::step: result() has taken the samples; the run is spent");
    if (failed_) {
      throw invalid_argument("sampling_run::step: an earlier step threw; the run cannot continue (its tiles and "
                             "multistep history are partly advanced)");
    }
    if (x_.rows() != rows_ || x_.cols() != cols_) {
      throw dimension_mismatch(detail::message("sampling_run::step: the state is ", x_.rows(), " x ", x_.cols(),
                                               " but the run was made for ", rows_, " x ", cols_,
                                               " (change its values between steps, not its shape)"));
    }
    failed_ = true;  // until the step returns
    const bool want = static_cast<bool>(opt_.observer);
    std::size_t evaluations = 0;
    const X* den = nullptr;
    if (tile_ == 0) {
      evaluations = runs_[0]->step(k_, grid_, want);
      den = runs_[0]->denoised();
    } else {
      if (want && denoised_.size() != x_.size()) denoised_.resize(x_.rows(), x_.cols());
      auto job = [&](std::size_t i, unsigned) {
        const auto sp = detail::tile_span::of(i, tile_, x_.cols());
        tiles_[i] = x_.middleCols(sp.first, sp.width);  // the state may have changed between steps
        evaluations_[i] = runs_[i]->step(k_, grid_, want);
        x_.middleCols(sp.first, sp.width) = tiles_[i];
        if (const X* d = runs_[i]->denoised()) denoised_.middleCols(sp.first, sp.width) = *d;
      };
      pool_.run(runs_.size(), job);
      // Every tile takes the same steps, and the same evaluations unless the sampler adapts its steps to
      // the tile's own error (dpm_adaptive): then the report gives the most any tile took.
      evaluations = *std::max_element(evaluations_.begin(), evaluations_.end());
      if (want && runs_[0]->denoised() != nullptr) den = &denoised_;
    }
    ++k_;
    failed_ = false;
    if (!mon_.stepped(x_, k_, grid_[k_], evaluations, k_ == grid_.steps(), den)) stopped_ = true;
  }

  /// The state at time(): read it, or change it before the next step.
  [[nodiscard]] X& state() noexcept { return x_; }
  [[nodiscard]] const X& state() const noexcept { return x_; }
  /// Steps taken so far; the state sits at grid point index().
  [[nodiscard]] std::size_t index() const noexcept { return k_; }
  [[nodiscard]] scalar_type time() const { return grid_[k_]; }
  [[nodiscard]] const time_grid<scalar_type>& grid() const noexcept { return grid_; }
  [[nodiscard]] const M& model() const noexcept { return *model_; }
  [[nodiscard]] const integration_report& report() const noexcept { return mon_.report; }
  /// Columns per tile of this run (0: the whole batch at once).
  [[nodiscard]] Eigen::Index tile_columns() const noexcept { return tile_; }
  /// The samples and the report (the run is spent afterwards).
  [[nodiscard]] sample_result<X> result() && {
    spent_ = true;  // step() now throws
    return {std::move(x_), mon_.report};
  }

 private:
  using run_type = detail::batch_run<Smp, M, X>;

  /// Validates the run and picks the tile width (0: the whole batch).
  Eigen::Index plan() {
    detail::validate_run(grid_, opt_, "sample");
    detail::validate_range(model_->process(), grid_, "sample");
    smp_.validate();
    if constexpr (requires { smp_.validate_grid(model_->process(), grid_); }) smp_.validate_grid(model_->process(), grid_);
    const char* why = nullptr;
    if constexpr (detail::whole_batch_v<M>) {
      why = "the model declares whole_batch (a network batches the samples itself)";
    } else if constexpr (detail::couples_batch_v<Smp>) {
      if (opt_.exec.tile_columns == 0) {
        why = "the sampler couples the samples of a batch (a batch-mean step size): set execution.tile_columns, "
              "and each tile is a batch of its own";
      }
    }
    if (why == nullptr && opt_.noise && !opt_.noise.splits()) {
      why = "the noise source cannot be split by columns (use counter_noise or brownian_tree)";
    }
    const Eigen::Index tile = detail::tile_width(opt_.exec, x_, why, "sample");
    // (steps + 1) x draws: a sampler may take one step's worth more on its last step (annealed Langevin
    // runs its last level there).
    const std::uint64_t draws = detail::draws_per_step(smp_);
    if (draws > 0 && grid_.steps() + 1 > detail::index_limit / draws) {
      throw invalid_argument(detail::message("sample: grid.steps() = ", grid_.steps(), " with ", draws,
                                             " noise draws per step needs noise counters past 2^32"));
    }
    if (opt_.noise) {
      // The same count as above: every step's draws plus one step's worth for a final level.
      const std::string where = detail::message("sample (grid.steps() = ", grid_.steps(), ", ", draws,
                                                " draws per step, one more step's worth in reserve)");
      opt_.noise.check_draws((grid_.steps() + 1) * draws, where.c_str());
    }
    return tile;
  }

  Smp smp_;
  const M* model_;
  X x_;
  time_grid<scalar_type> grid_;
  sampler_options<X> opt_;
  Eigen::Index tile_;
  unsigned workers_;
  detail::per_worker<M> models_;
  detail::worker_pool pool_;
  Eigen::Index rows_, cols_;
  std::vector<X> tiles_;
  std::vector<std::unique_ptr<run_type>> runs_;
  std::vector<std::size_t> evaluations_;
  X denoised_;
  detail::run_monitor<X, any_observer<X>> mon_;
  std::size_t k_ = 0;
  bool stopped_ = false;
  bool failed_ = false;
  bool spent_ = false;
};

/// Run `sampler` with model m from x_T over `grid` (decreasing: T -> 0).
template <class Smp, class M, State X>
  requires Sampler<Smp, M, X>
[[nodiscard]] sample_result<X> sample(const Smp& sampler, const M& m, X x_T, const time_grid<scalar_of<X>>& grid,
                                      const sampler_options<X>& opt = {}) {
  sampling_run<Smp, M, X> run(sampler, m, std::move(x_T), grid, opt);
  while (!run.done()) run.step();
  return std::move(run).result();
}

namespace detail {
/// The prior's standard deviation at t0: prior_std at the horizon; below it prior_std sigma(t0) / sigma(T).
template <NoiseSchedule P>
[[nodiscard]] typename P::scalar_type prior_scale(const P& p, typename P::scalar_type t0) {
  if constexpr (requires { p.prior_std(); p.horizon(); }) {
    const auto T = p.horizon();
    return t0 >= T ? p.prior_std() : p.prior_std() * (p.marginal_std(t0) / p.marginal_std(T));
  } else {
    return p.marginal_std(t0);
  }
}

template <State X>
[[nodiscard]] X prior_draw(Eigen::Index d, Eigen::Index n, double scale, const sampler_options<X>& opt) {
  require(d >= 1, "initial_noise", "d", d, "must be at least 1");
  require(n >= 0, "initial_noise", "n", n, "must be >= 0");
  (void)sample_end(opt.sample_offset, static_cast<std::uint64_t>(n), "initial_noise", "sample_offset + n");
  X x(d, n);
  normal_source(opt.seed, 1).fill(x, 0, opt.sample_offset);
  x *= static_cast<scalar_of<X>>(scale * opt.temperature);
  return x;
}
}  // namespace detail

/// The prior draw for a run on `grid`, N(0, v^2 I) times the temperature, from stream 1 of the seed
/// (sample offset + column): at the horizon v is the process's prior_std; on a grid that starts
/// below it, v = prior_std sigma(t_0) / sigma(T), which is k-diffusion's randn * sigmas[0] for VE and EDM.
template <NoiseSchedule P, State X = batch<typename P::scalar_type>>
[[nodiscard]] X initial_noise(const P& p, Eigen::Index d, Eigen::Index n, const time_grid<typename P::scalar_type>& grid,
                              const sampler_options<X>& opt = {}) {
  return detail::prior_draw<X>(d, n, static_cast<double>(detail::prior_scale(p, grid[0])), opt);
}

/// The prior draw at the horizon T (for a grid that starts at T): prior_std N(0, I) times the temperature.
template <NoiseSchedule P, State X = batch<typename P::scalar_type>>
  requires requires(const P& p) { p.horizon(); }
[[nodiscard]] X initial_noise(const P& p, Eigen::Index d, Eigen::Index n, const sampler_options<X>& opt = {}) {
  return detail::prior_draw<X>(d, n, static_cast<double>(detail::prior_scale(p, p.horizon())), opt);
}

/// SDEdit start (Meng et al. 2022): s(t0) x0 + sigma(t0) eps (eps from stream 1, times the temperature),
/// the start of partial denoising on a grid beginning at t0.
template <NoiseSchedule P, State X>
[[nodiscard]] X sdedit_start(const P& p, const X& x0, typename P::scalar_type t0, const sampler_options<X>& opt = {}) {
  detail::require(std::isfinite(t0) && t0 > 0, "sdedit_start", "t0", t0, "must be finite and > 0");
  X z(x0.rows(), x0.cols());
  normal_source(opt.seed, 1).fill(z, 0, opt.sample_offset);
  return p.mean_scale(t0) * x0 + (p.marginal_std(t0) * static_cast<scalar_of<X>>(opt.temperature)) * z;
}

}  // namespace sdeflow
