// SPDX-License-Identifier: MIT
#pragma once
/// \file execution.hpp
/// How a driver runs a batch: in column tiles that stay in cache through every stage of a step, on one
/// or more threads (std::jthread; no OpenMP needed).
///
///   sdeflow::integrate(sdeflow::execution{.threads = 2}, sdeflow::euler_maruyama{}, sys, x, grid, noise);
///
/// Samples are independent columns, and the counter-based noise is keyed by the global sample index, so
/// a run in tiles, on any number of threads, is bit-identical to the run on the whole batch (see below for
/// what a system must do for that). Each tile always runs on the same worker.
///
/// What may be tiled: a state with a dynamic number of columns, a system that does not declare
/// `static constexpr bool whole_batch = true` (a network that wants one large GEMM, a mean-field system
/// whose drift couples the samples: such a system MUST declare it), and for SDEs a noise source that can
/// be split by columns (`columns_from(j0)`: brownian_increments, brownian_tree). Anything else runs on
/// the whole batch on the calling thread; asking for threads or a tile size then throws.
/// With threads > 1 each worker calls its own copy of the system (a system that cannot be copied is
/// shared, and its const members must then be safe to call concurrently). A copy that is a handle
/// (a lambda capturing a network by reference, a shared_ptr) shares what it points to: a user network
/// with unguarded per-object buffers must then be declared whole_batch by the handle, or the workers
/// race (sdeflow::mlp guards its buffers and is safe to share, but declares whole_batch anyway: one GEMM
/// per layer over the whole batch is faster than per-tile products).
///
/// Bit identity holds when the system computes each column from that column alone with the same
/// operations whatever the batch width: elementwise code, and the library's own processes, mixtures
/// and samplers (tested). An Eigen product inside a user's function may pick a different kernel for a
/// narrow tile than for the whole batch (and FMA contraction under -march can differ between vector
/// and scalar tails): the result is then equal to rounding, not to the bit.

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <algorithm>
#include <barrier>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace sdeflow {

/// The execution policy of a run.
struct execution {
  /// Worker threads, the calling thread included; 1 runs everything on the calling thread.
  unsigned threads = 1;
  /// Columns per tile: 0 picks a size that keeps a tile's state and workspace in the L2 cache
  /// (and at least `threads` tiles); `execution::untiled` runs the whole batch at once on one thread
  /// (with threads > 1 it means 0: threads need tiles).
  Eigen::Index tile_columns = 0;

  static constexpr Eigen::Index untiled = std::numeric_limits<Eigen::Index>::max();

  /// Throws invalid_argument naming the field when threads is 0 or tile_columns is negative.
  void validate(const char* where) const {
    detail::require(threads >= 1, where, "execution.threads", threads, "must be at least 1");
    detail::require(tile_columns >= 0, where, "execution.tile_columns", tile_columns,
                    "must be 0 (automatic), positive, or execution::untiled");
  }

  /// The tile width for a batch of `cols` columns of `rows` entries of `bytes` each.
  [[nodiscard]] Eigen::Index tile_for(Eigen::Index rows, Eigen::Index cols, std::size_t bytes) const {
    if (tile_columns > 0) return tile_columns;
    // About 16 KiB of state per tile: with a stepper's four or five workspace copies it stays in L2.
    const auto per_column = std::max<Eigen::Index>(1, rows * static_cast<Eigen::Index>(bytes));
    const Eigen::Index cache = std::max<Eigen::Index>(64, Eigen::Index{16384} / per_column);
    const Eigen::Index spread = (cols + static_cast<Eigen::Index>(threads) - 1) / static_cast<Eigen::Index>(threads);
    return std::max<Eigen::Index>(1, std::min(cache, spread));
  }
};

/// The cores this process may run on: its CPU affinity on Linux (what a launcher's binding leaves it, e.g.
/// mpirun's one core per rank), elsewhere std::thread::hardware_concurrency(); at least 1. More threads
/// than this share cores.
[[nodiscard]] inline unsigned cores_available() noexcept {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace detail {

/// True when T declares `static constexpr bool whole_batch = true` (looks through std::reference_wrapper).
template <class T>
struct whole_batch_trait : std::bool_constant<requires { requires T::whole_batch; }> {};
template <class T>
struct whole_batch_trait<std::reference_wrapper<T>> : whole_batch_trait<std::remove_cv_t<T>> {};
template <class T>
inline constexpr bool whole_batch_v = whole_batch_trait<std::remove_cvref_t<T>>::value;

/// A noise source that can hand out the same noise for the columns j0, j0 + 1, ... of a batch.
template <class N>
concept ColumnSplittable = requires(const N& n, std::uint64_t j0) {
  { n.columns_from(j0) } -> std::convertible_to<N>;
};

/// The tile width of a run over x, or 0 to run the whole batch at once. `why_not` is nullptr when the run
/// can be split by columns, else the reason it cannot: asking for threads or a tile size then throws
/// invalid_argument with that reason, and the automatic policy runs the whole batch.
template <State X>
[[nodiscard]] Eigen::Index tile_width(const execution& exec, const X& x, const char* why_not, const char* where) {
  exec.validate(where);
  const bool asked = exec.threads > 1 || (exec.tile_columns > 0 && exec.tile_columns != execution::untiled);
  if (X::ColsAtCompileTime != Eigen::Dynamic) why_not = "the state type has a fixed number of columns";
  if (why_not != nullptr) {
    if (asked) {
      throw invalid_argument(message(where, ": execution.threads = ", exec.threads, ", tile_columns = ", exec.tile_columns,
                                     " cannot be used: ", why_not));
    }
    return 0;
  }
  if (exec.tile_columns == execution::untiled && exec.threads == 1) return 0;
  // threads > 1 with tile_columns = untiled (the samplers' default, then `opt.exec.threads = 2`): threads
  // need tiles, so the automatic width.
  execution e = exec;
  if (e.tile_columns == execution::untiled) e.tile_columns = 0;
  const Eigen::Index tile = e.tile_for(x.rows(), x.cols(), sizeof(scalar_of<X>));
  return tile >= x.cols() ? 0 : tile;
}

/// The columns [first, first + width) of tile i of width `tile` in a batch of n columns.
struct tile_span {
  Eigen::Index first, width;
  static tile_span of(std::size_t i, Eigen::Index tile, Eigen::Index n) {
    const Eigen::Index j0 = static_cast<Eigen::Index>(i) * tile;
    return {j0, std::min(tile, n - j0)};
  }
  static std::size_t count(Eigen::Index tile, Eigen::Index n) { return static_cast<std::size_t>((n + tile - 1) / tile); }
};

/// Persistent workers (std::jthread) that run fn(i, w) for i in [0, count): item i always runs on
/// worker w = i mod threads (the calling thread is worker 0), so per-worker state is deterministic.
/// An exception from any item is rethrown after all items finish: the one with the smallest i.
class worker_pool {
 public:
  explicit worker_pool(unsigned threads) : threads_(std::max(1u, threads)), start_(threads_), done_(threads_) {
    workers_.reserve(threads_ - 1);
    for (unsigned w = 1; w < threads_; ++w) workers_.emplace_back([this, w] { loop(w); });
  }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() {
    if (threads_ > 1) {
      stop_ = true;
      start_.arrive_and_wait();
    }  // the jthreads join here
  }

  [[nodiscard]] unsigned threads() const noexcept { return threads_; }

  template <class F>
  void run(std::size_t count, F& fn) {
    ctx_ = &fn;
    call_ = [](void* c, std::size_t i, unsigned w) { (*static_cast<F*>(c))(i, w); };
    count_ = count;
    errors_.assign(count, nullptr);
    if (threads_ > 1) start_.arrive_and_wait();
    work(0);
    if (threads_ > 1) done_.arrive_and_wait();
    for (const auto& e : errors_) {
      if (e) std::rethrow_exception(e);
    }
  }

 private:
  void loop(unsigned w) {
    for (;;) {
      start_.arrive_and_wait();
      if (stop_) return;
      work(w);
      done_.arrive_and_wait();
    }
  }
  void work(unsigned w) {
    for (std::size_t i = w; i < count_; i += threads_) {
      try {
        call_(ctx_, i, w);
      } catch (...) {
        errors_[i] = std::current_exception();
      }
    }
  }

  unsigned threads_;
  std::barrier<> start_, done_;
  bool stop_ = false;
  void* ctx_ = nullptr;
  void (*call_)(void*, std::size_t, unsigned) = nullptr;
  std::size_t count_ = 0;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::jthread> workers_;
};

/// One copy of `obj` per worker when it can be copied (worker 0 uses the original), else the original
/// for every worker.
template <class T>
class per_worker {
 public:
  per_worker(const T& obj, unsigned threads) : obj_(obj) {
    if constexpr (std::is_copy_constructible_v<T>) {
      copies_.reserve(threads > 1 ? threads - 1 : 0);
      for (unsigned w = 1; w < threads; ++w) copies_.emplace_back(obj);
    }
  }
  [[nodiscard]] const T& operator[](unsigned w) const {
    if constexpr (std::is_copy_constructible_v<T>) {
      if (w > 0 && !copies_.empty()) return copies_[w - 1];
    }
    return obj_;
  }

 private:
  const T& obj_;
  std::vector<std::conditional_t<std::is_copy_constructible_v<T>, T, char>> copies_;  // char: unused
};

}  // namespace detail
}  // namespace sdeflow
