// SPDX-License-Identifier: MIT
#pragma once
/// \file sources.hpp
/// Noise as a policy: every stochastic sampler and SDE driver takes its Gaussian draws from a
/// NoiseSource (core/concepts.hpp): n.normal(k, t, t_next, z) fills z with N(0, 1) values for draw k,
/// which spans [t, t_next]. The sources, and when to use each:
/// - counter_noise (= brownian_increments): the default. Keyed by (seed, stream, k, global sample index):
///                     bit-identical across batch splits, threads and call order.
/// - brownian_tree:    one Brownian path at any resolution: a sampler's draws are its increments, so runs
///                     with different step counts see the same path (k-diffusion's BrownianTreeNoiseSampler).
/// - recorded_noise:   a table of draws, draw k = table[k]: replays a run bit for bit, or feeds noise made
///                     elsewhere (another library, a file).
/// - noise_recorder:   wraps a source and keeps every draw it hands out, to replay later.
/// - generator_noise:  your own generator, as a callable f(z) filling z in call order (diffusers'
///                     `generator`); not split-invariant, since draws follow the order of calls.
/// - noise_source<X>:  holds any of these (type-erased), for options structs (sampler_options::noise).
/// A source with only `normal` drives an SDE stepper too: dW = sqrt(|h|) z.
///
/// \code
///   sdeflow::noise_recorder<sdeflow::counter_noise, Eigen::MatrixXd> rec(sdeflow::counter_noise(7));
///   auto a = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.noise = rec});
///   auto b = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.noise = rec.replay()});
///   // a.samples == b.samples, bit for bit
/// \endcode

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/execution.hpp>
#include <sdeflow/noise/brownian_increments.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace sdeflow {

namespace detail {
/// Noise an SDE driver accepts: a NoiseSource, or a source of Brownian increments.
template <class N, class W>
concept SdeNoise = NoiseSource<N, W> || BrownianIncrements<N, W>;

/// dW of draw k over [t, t + h]: the source's own increment when it has one, else sqrt(|h|) z.
template <class N, State W>
void brownian_step(N& noise, std::size_t k, scalar_of<W> t, scalar_of<W> h, W& dW) {
  if constexpr (BrownianIncrements<N, W>) {
    noise.increment(k, t, h, dW);
  } else {
    noise.normal(static_cast<std::uint64_t>(k), t, t + h, dW);
    dW *= std::sqrt(std::fabs(h));
  }
}

/// Before a run: can `noise` serve draws 0 .. count - 1? A source with a bounded key space says so
/// through the optional hook n.check_draws(count, where) (throwing invalid_argument), so a run that
/// would pass its limit fails before the first step instead of part-way through, state untouched.
template <class N>
void check_draws(N& noise, std::uint64_t count, const char* where) {
  if constexpr (requires { noise.check_draws(count, where); }) noise.check_draws(count, where);
}
}  // namespace detail

/// Replays a table of draws: draw k is table[k].
template <State X>
class recorded_noise {
 public:
  recorded_noise() = default;
  explicit recorded_noise(std::vector<X> table) : table_(std::make_shared<const std::vector<X>>(std::move(table))) {}

  void normal(std::uint64_t k, scalar_of<X> /*t*/, scalar_of<X> /*t_next*/, X& z) const {
    const std::size_t n = table_ ? table_->size() : 0;
    detail::require(k < n, "recorded_noise::normal", "draw k", k, "must be below the table's size");
    const X& v = (*table_)[static_cast<std::size_t>(k)];
    if (v.size() == 0) throw invalid_argument(detail::message("recorded_noise::normal: draw k = ", k, " was not recorded"));
    if (v.rows() != z.rows() || v.cols() != z.cols()) {
      throw dimension_mismatch(detail::message("recorded_noise::normal: draw ", k, " is ", v.rows(), " x ", v.cols(),
                                               ", the request ", z.rows(), " x ", z.cols()));
    }
    z = v;
  }

  [[nodiscard]] std::size_t size() const noexcept { return table_ ? table_->size() : 0; }
  [[nodiscard]] const std::vector<X>& table() const {
    static const std::vector<X> empty;
    return table_ ? *table_ : empty;
  }

 private:
  std::shared_ptr<const std::vector<X>> table_;
};

/// Wraps a NoiseSource and keeps a copy of every draw it gives out (copies of the recorder share one
/// table); replay() returns them as a recorded_noise.
template <class Source, State X>
  requires NoiseSource<Source, X>
class noise_recorder {
 public:
  explicit noise_recorder(Source src) : src_(std::make_shared<Source>(std::move(src))), table_(std::make_shared<std::vector<X>>()) {}

  void normal(std::uint64_t k, scalar_of<X> t, scalar_of<X> t_next, X& z) {
    detail::require(k < detail::index_limit, "noise_recorder::normal", "draw k", k, "must be below 2^32");
    src_->normal(k, t, t_next, z);
    if (table_->size() <= k) table_->resize(static_cast<std::size_t>(k) + 1);
    (*table_)[static_cast<std::size_t>(k)] = z;
  }

  /// Forwards the wrapped source's check (detail::check_draws), and bounds k by 2^32 as normal() does.
  void check_draws(std::uint64_t count, const char* where) const {
    if (count > detail::index_limit) {
      throw invalid_argument(detail::message(where, ": ", count, " noise draws pass the recorder's limit of 2^32"));
    }
    detail::check_draws(*src_, count, where);
  }

  [[nodiscard]] const std::vector<X>& table() const noexcept { return *table_; }
  [[nodiscard]] recorded_noise<X> replay() const { return recorded_noise<X>(*table_); }

 private:
  std::shared_ptr<Source> src_;
  std::shared_ptr<std::vector<X>> table_;
};

/// Your own generator: f(z) fills z with standard normals, called once per draw in order.
template <class F>
class generator_noise {
 public:
  explicit generator_noise(F f) : f_(std::make_shared<F>(std::move(f))) {}
  template <State X>
    requires std::invocable<F&, X&>
  void normal(std::uint64_t /*k*/, scalar_of<X> /*t*/, scalar_of<X> /*t_next*/, X& z) {
    (*f_)(z);
  }

 private:
  std::shared_ptr<F> f_;  // copies draw from the same generator
};

/// Holds any NoiseSource of states X; empty by default (the engine then uses counter_noise from the
/// options' seed and sample offset). Copying copies the source object; sources that share state by
/// design (noise_recorder's table, generator_noise's generator) keep sharing it, so reusing options
/// that hold a generator continues its stream.
template <State X>
class noise_source {
 public:
  noise_source() = default;
  template <class N>
    requires(!std::is_same_v<std::remove_cvref_t<N>, noise_source> && NoiseSource<std::remove_cvref_t<N>, X>)
  noise_source(N&& n)  // NOLINT(google-explicit-constructor): options take sources directly
      : p_(std::make_unique<holder<std::remove_cvref_t<N>>>(std::forward<N>(n))) {}
  /// Anything else is not a noise source: fail here, at the user's assignment, naming the concept.
  template <class N>
    requires(!std::is_same_v<std::remove_cvref_t<N>, noise_source> && !NoiseSource<std::remove_cvref_t<N>, X>)
  noise_source(N&&) {  // NOLINT(google-explicit-constructor)
    static_assert(NoiseSource<std::remove_cvref_t<N>, X>,
                  "not a NoiseSource<N, X>: a noise source needs n.normal(k, t, t_next, z) filling z with N(0, 1) draws");
  }
  noise_source(const noise_source& o) : p_(o.p_ ? o.p_->clone() : nullptr) {}
  noise_source(noise_source&&) noexcept = default;
  noise_source& operator=(const noise_source& o) {
    if (this != &o) p_ = o.p_ ? o.p_->clone() : nullptr;
    return *this;
  }
  noise_source& operator=(noise_source&&) noexcept = default;
  ~noise_source() = default;

  [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(p_); }

  void normal(std::uint64_t k, scalar_of<X> t, scalar_of<X> t_next, X& z) { get().normal(k, t, t_next, z); }

  /// True when the source can hand out the same draws for the columns j0, j0 + 1, ... of a batch
  /// (counter_noise, brownian_tree): what tiles and threads need.
  [[nodiscard]] bool splits() const noexcept { return p_ && p_->splits(); }
  /// The source for the columns j0, j0 + 1, ...; throws invalid_argument when it cannot be split.
  [[nodiscard]] noise_source columns_from(std::uint64_t j0) const {
    if (!splits()) throw invalid_argument("noise_source::columns_from: this source cannot be split by columns");
    noise_source out;
    out.p_ = p_->columns_from(j0);
    return out;
  }

  /// Brownian increment of draw k over [t, t + h]: the source's own when it has one, else sqrt(|h|) z.
  void increment(std::size_t k, scalar_of<X> t, scalar_of<X> h, X& dW) { get().increment(k, t, h, dW); }

  /// Throws invalid_argument when the held source cannot serve draws 0 .. count - 1 (detail::check_draws).
  void check_draws(std::uint64_t count, const char* where) const {
    if (p_) p_->check_draws(count, where);
  }

 private:
  struct base {
    virtual ~base() = default;
    virtual void normal(std::uint64_t, scalar_of<X>, scalar_of<X>, X&) = 0;
    virtual void increment(std::size_t, scalar_of<X>, scalar_of<X>, X&) = 0;
    [[nodiscard]] virtual std::unique_ptr<base> clone() const = 0;
    [[nodiscard]] virtual bool splits() const noexcept = 0;
    [[nodiscard]] virtual std::unique_ptr<base> columns_from(std::uint64_t j0) const = 0;
    virtual void check_draws(std::uint64_t count, const char* where) const = 0;
  };
  template <class N>
  struct holder final : base {
    template <class A>
    explicit holder(A&& a) : n(std::forward<A>(a)) {}
    void normal(std::uint64_t k, scalar_of<X> t, scalar_of<X> tn, X& z) override { n.normal(k, t, tn, z); }
    void increment(std::size_t k, scalar_of<X> t, scalar_of<X> h, X& dW) override { detail::brownian_step(n, k, t, h, dW); }
    [[nodiscard]] std::unique_ptr<base> clone() const override { return std::make_unique<holder>(n); }
    [[nodiscard]] bool splits() const noexcept override { return detail::ColumnSplittable<N>; }
    void check_draws(std::uint64_t count, const char* where) const override { detail::check_draws(n, count, where); }
    [[nodiscard]] std::unique_ptr<base> columns_from(std::uint64_t j0) const override {
      if constexpr (detail::ColumnSplittable<N>) {
        return std::make_unique<holder>(n.columns_from(j0));
      } else {
        return nullptr;
      }
    }
    N n;
  };
  base& get() {
    if (!p_) throw invalid_argument("noise_source: empty (no source was given)");
    return *p_;
  }
  std::unique_ptr<base> p_;
};

}  // namespace sdeflow
