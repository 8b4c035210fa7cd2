// SPDX-License-Identifier: MIT
#pragma once
/// \file mpi.hpp
/// Ensembles and sampling runs split over MPI ranks, bit-identical to one process (optional component:
/// CMake target sdeflow::mpi, built when find_package(MPI) succeeds; the rest of sdeflow never needs MPI).
///
/// Why the samples are exact: every Gaussian draw is keyed by (seed, stream, counter, global sample index). Rank r of
/// P owns the contiguous block split_samples(n, r, P) = [offset, offset + count) and runs it with its noise
/// shifted to `offset` (noise.columns_from(offset), sampler_options.sample_offset + offset), so it draws
/// exactly the numbers one process would draw for those samples. Nothing is communicated while the paths
/// run; afterwards the results come back
///   - gathered: every sample on one rank in global order (collect.gather), or a .npy file per rank
///     (collect.files), or kept on each rank (collect.keep);
///   - reduced, on every rank: the streaming mean and covariance (running_moments, merged with the stable
///     pairwise formula in rank order: one d^2 message per rank, a tree of depth log2 P), a histogram of
///     one coordinate (exact integer sums), and the report (per-sample steps and NFE).
/// Threads inside a rank and ranks across machines are said in one place, `parallel`:
///   parallel{.exec = {.threads = 2}}                 -> every rank runs its block on 2 threads;
///   mpirun -np 8 --map-by slot:PE=2 ./program        -> 8 ranks with 2 cores each (Open MPI binds a rank
///                                                       to one core unless told otherwise).
/// A rank runs its block in pieces of at most parallel.chunk samples, so memory stays bounded when its
/// samples are not kept (collect.keep, .gather and .files hold the rank's block).
/// What cannot be split: a sampler that couples the batch (predictor_corrector) and a system that declares
/// whole_batch are refused. A model that declares whole_batch (sdeflow's mlp) is split: its samples then
/// agree with one process to rounding, not to the bit (a matrix product's kernel depends on the batch width).
/// An observer in sampler_options sees each piece of each rank on its own.
///
/// Failure: the local phase of every call is guarded. When it throws on any rank (bad input on one rank,
/// a non-finite state), every rank throws rank_error naming each failed rank and its message, after
/// one agreement round: no rank is left waiting in a collective. Calls are collective: every rank of the
/// communicator must make them, in the same order, with the same arguments. The settings that decide which
/// collectives run (n, d, parallel.chunk, collect.moments/gather/marginal/root) are compared across ranks
/// first, and a difference throws invalid_argument on every rank.
///
/// \code
///   int main(int argc, char** argv) {
///     sdeflow::mpi::environment env(argc, argv);
///     sdeflow::mpi::parallel par{.exec = {.threads = 2}};
///     auto out = sdeflow::mpi::ensemble(par, sdeflow::euler_maruyama{}, ou, x0, /*n=*/10'000'000, grid,
///                                       sdeflow::brownian_increments(/*seed=*/7));
///     if (par.ranks.rank() == 0) std::cout << out.moments.mean() << "\n";
///   }
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/execution.hpp>
#include <sdeflow/core/observer.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/core/types.hpp>
#include <sdeflow/diagnostics/streaming.hpp>
#include <sdeflow/integrators/integrate.hpp>
#include <sdeflow/io/npy.hpp>
#include <sdeflow/samplers/engine.hpp>

#include <mpi.h>

#include <Eigen/Core>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace sdeflow::mpi {

/// Thrown on every rank when a guarded local phase threw on one or more ranks.
class rank_error : public std::runtime_error, public sdeflow::error {
 public:
  rank_error(const std::string& msg, std::vector<int> ranks) : std::runtime_error(msg), ranks_(std::move(ranks)) {}
  [[nodiscard]] const char* what() const noexcept override { return std::runtime_error::what(); }
  /// The ranks whose local phase threw, in increasing order.
  [[nodiscard]] const std::vector<int>& failed_ranks() const noexcept { return ranks_; }

 private:
  std::vector<int> ranks_;
};

/// MPI for the lifetime of this object: MPI_Init_thread(MPI_THREAD_FUNNELED) unless MPI is already
/// initialized, and MPI_Finalize in the destructor if this object initialized it. sdeflow's worker
/// threads never call MPI, so FUNNELED is all a threaded rank needs.
class environment {
 public:
  environment(int& argc, char**& argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized == 0) {
      int provided = 0;
      MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
      owns_ = true;
    }
  }
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;
  ~environment() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owns_ && finalized == 0) MPI_Finalize();
  }

 private:
  bool owns_ = false;
};

/// A view of an MPI communicator (MPI_COMM_WORLD by default); it does not own it.
class communicator {
 public:
  communicator(MPI_Comm c = MPI_COMM_WORLD) noexcept : comm_(c) {}  // NOLINT: implicit from MPI_Comm on purpose
  [[nodiscard]] MPI_Comm get() const noexcept { return comm_; }
  /// This process's rank; throws invalid_argument when MPI is not initialized.
  [[nodiscard]] int rank() const {
    require_initialized();
    int r = 0;
    MPI_Comm_rank(comm_, &r);
    return r;
  }
  /// The number of ranks; throws invalid_argument when MPI is not initialized.
  [[nodiscard]] int size() const {
    require_initialized();
    int s = 0;
    MPI_Comm_size(comm_, &s);
    return s;
  }

 private:
  static void require_initialized() {
    int initialized = 0;
    int finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized == 0 || finalized != 0)
      throw invalid_argument("sdeflow::mpi: MPI is not initialized (create an sdeflow::mpi::environment in main)");
  }
  MPI_Comm comm_;
};

/// Ranks and threads in one place.
struct parallel {
  communicator ranks{};               ///< the processes sharing the samples (mpirun -np P)
  execution exec{};                   ///< tiles and threads inside each rank (core/execution.hpp)
  std::uint64_t chunk = 1u << 20;     ///< a rank runs its block in pieces of at most this many samples

  void validate(const char* where) const {
    exec.validate(where);
    detail::require(chunk >= 1, where, "parallel.chunk", chunk, "must be at least 1");
  }
};

/// What to bring back besides the moments and the report.
struct collect {
  bool moments = true;                ///< mean and covariance of all samples (O(d^2) work per sample: off for large d)
  bool keep = false;                  ///< keep this rank's samples in result.local
  bool gather = false;                ///< every sample on rank `root`, in global order, in result.all
  int root = 0;                       ///< the rank that receives the gathered samples
  std::string files{};                ///< when set, rank r writes its samples to "<files>-rank<r>-of-<P>.npy"
  std::optional<sdeflow::histogram> marginal{};  ///< edges for a histogram of row `marginal_row` of the samples
  Eigen::Index marginal_row = 0;
};

/// What a distributed run returns on each rank.
template <State X>
struct distributed_result {
  using S = scalar_of<X>;
  sample_block block;                 ///< this rank's global sample indices
  X local;                            ///< this rank's samples (collect.keep), else empty
  X all;                              ///< on the root with collect.gather: all n samples in global order, else empty
  /// Mean and covariance of all n samples (collect.moments), accumulated in double, the same bits on every
  /// rank; equal to the one-process moments to rounding (the merge tree depends on P and parallel.chunk).
  running_moments<double> moments{1};
  std::optional<sdeflow::histogram> marginal{};  ///< of all n samples (collect.marginal), the same on every rank
  integration_report report{};        ///< steps and NFE of one sample's run (the same on every rank that ran)
  std::string file{};                 ///< the .npy file this rank wrote (collect.files)
  double seconds = 0;                 ///< wall time of the slowest rank's local phase (no communication in it)
  /// The fewest cores any rank may run on (cores_available(): its CPU affinity). Below par.exec.threads the
  /// threads share cores: Open MPI binds each rank to one core by default, so launch a threaded run with
  /// `mpirun --map-by slot:PE=T` (T cores per rank) or `--bind-to none`.
  unsigned cores = 0;
};

namespace detail {

using sdeflow::detail::message;
using sdeflow::detail::require;

template <class S>
[[nodiscard]] MPI_Datatype datatype() {
  if constexpr (std::is_same_v<S, double>) {
    return MPI_DOUBLE;
  } else {
    static_assert(std::is_same_v<S, float>, "sdeflow::mpi moves float or double samples");
    return MPI_FLOAT;
  }
}

[[nodiscard]] inline std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

/// The agreement round: every rank says whether its local phase failed; if any did, every rank learns
/// each failed rank's message and throws rank_error.
inline void agree(const communicator& c, const std::string& local_error) {
  int bad = local_error.empty() ? 0 : 1;
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, c.get());
  if (any == 0) return;
  const int ranks = c.size();
  const std::string mine = local_error.substr(0, 4000);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<std::size_t>(ranks)), displs(static_cast<std::size_t>(ranks));
  MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, c.get());
  int total = 0;
  for (int r = 0; r < ranks; ++r) {
    displs[static_cast<std::size_t>(r)] = total;
    total += lens[static_cast<std::size_t>(r)];
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, c.get());
  std::vector<int> failed;
  std::string msg;
  for (int r = 0; r < ranks; ++r) {
    const auto i = static_cast<std::size_t>(r);
    if (lens[i] == 0) continue;
    failed.push_back(r);
    msg += message("; rank ", r, ": ", all.substr(static_cast<std::size_t>(displs[i]), static_cast<std::size_t>(lens[i])));
  }
  throw rank_error(message("sdeflow::mpi: ", failed.size(), " of ", ranks, " ranks failed", msg), failed);
}

}  // namespace detail

/// Run f() on every rank. If it throws on any rank, every rank throws rank_error with every failed rank's
/// message (f must not itself communicate, or a rank that threw early would leave the others waiting).
template <class F>
auto guarded(const communicator& c, F&& f) {
  using R = std::invoke_result_t<F&>;
  std::string err;
  if constexpr (std::is_void_v<R>) {
    try {
      f();
    } catch (...) {
      err = detail::describe(std::current_exception());
      if (err.empty()) err = "(empty message)";
    }
    detail::agree(c, err);
  } else {
    std::optional<R> out;
    try {
      out.emplace(f());
    } catch (...) {
      err = detail::describe(std::current_exception());
      if (err.empty()) err = "(empty message)";
    }
    detail::agree(c, err);
    R result = std::move(*out);
    return result;
  }
}

namespace detail {

/// Packed moments: [count, d, mean (d), comoment (d x d)], as doubles.
template <class S>
[[nodiscard]] std::vector<double> pack(const running_moments<S>& m) {
  const auto d = static_cast<std::size_t>(m.dimension());
  std::vector<double> v(2 + d + d * d);
  v[0] = static_cast<double>(m.count());
  v[1] = static_cast<double>(d);
  if (m.count() > 0) {
    for (std::size_t i = 0; i < d; ++i) v[2 + i] = static_cast<double>(m.mean()(static_cast<Eigen::Index>(i)));
  }
  for (std::size_t k = 0; k < d * d; ++k) v[2 + d + k] = static_cast<double>(m.comoment().data()[k]);
  return v;
}

template <class S>
[[nodiscard]] running_moments<S> unpack(const double* v) {
  if (std::isnan(v[0]))
    throw invalid_argument("mpi::allreduce(running_moments): the merged moments are not finite (a sample too large?)");
  const auto d = static_cast<Eigen::Index>(v[1]);
  using Vec = typename running_moments<S>::vector;
  using Mat = typename running_moments<S>::matrix;
  const Vec mean = Eigen::Map<const Eigen::VectorXd>(v + 2, d).cast<S>();
  const Mat m2 = Eigen::Map<const Eigen::MatrixXd>(v + 2 + d, d, d).cast<S>();
  return running_moments<S>(static_cast<std::uint64_t>(v[0]), mean, m2);
}

/// MPI reduction operator (declared non-commutative, so MPI keeps rank order): inout = in merged with inout.
template <class S>
void merge_moments(void* in, void* inout, int* len, MPI_Datatype*) {
  auto* a = static_cast<double*>(in);
  auto* b = static_cast<double*>(inout);
  for (int e = 0; e < *len; ++e) {
    const auto d = static_cast<std::size_t>(a[1]);
    const std::size_t L = 2 + d + d * d;
    // No exception may cross MPI's C frames: a failed merge marks the count NaN, which unpack reports.
    try {
      if (std::isnan(a[0]) || std::isnan(b[0])) throw invalid_argument("a rank's moments could not be merged");
      running_moments<S> m = unpack<S>(a);
      m.merge(unpack<S>(b));
      const std::vector<double> v = pack(m);
      std::copy(v.begin(), v.end(), b);
    } catch (...) {
      b[0] = std::numeric_limits<double>::quiet_NaN();
    }
    a += L;
    b += L;
  }
}

/// Throws invalid_argument on every rank unless `value` is the same on every rank.
inline void require_same(const communicator& c, long long value, const char* where, const char* name) {
  long long lo = 0, hi = 0;
  MPI_Allreduce(&value, &lo, 1, MPI_LONG_LONG, MPI_MIN, c.get());
  MPI_Allreduce(&value, &hi, 1, MPI_LONG_LONG, MPI_MAX, c.get());
  if (lo != hi) throw invalid_argument(message(where, ": ", name, " differs between ranks (", lo, " to ", hi, ")"));
}

}  // namespace detail

/// The moments of the union of every rank's samples, the same bits on every rank (collective).
template <std::floating_point S>
[[nodiscard]] running_moments<S> allreduce(const communicator& c, const running_moments<S>& m) {
  detail::require_same(c, m.dimension(), "mpi::allreduce(running_moments)", "dimension()");
  const long long d = m.dimension();
  detail::require(2 + d + d * d <= INT_MAX, "mpi::allreduce(running_moments)", "dimension()", d,
                  "is too large for one MPI message of moments (2 + d + d^2 > INT_MAX): turn collect.moments off");
  std::vector<double> send = detail::pack(m);
  std::vector<double> recv(send.size());
  MPI_Datatype packed;
  MPI_Type_contiguous(static_cast<int>(send.size()), MPI_DOUBLE, &packed);
  MPI_Type_commit(&packed);
  MPI_Op op;
  MPI_Op_create(&detail::merge_moments<S>, /*commute=*/0, &op);
  MPI_Reduce(send.data(), recv.data(), 1, packed, op, 0, c.get());
  MPI_Op_free(&op);
  MPI_Type_free(&packed);
  if (c.rank() != 0) recv.assign(send.size(), 0.0);
  MPI_Bcast(recv.data(), static_cast<int>(recv.size()), MPI_DOUBLE, 0, c.get());
  return detail::unpack<S>(recv.data());
}

/// The histogram of every rank's values: exact sums of the counts (collective; same edges on every rank).
[[nodiscard]] inline sdeflow::histogram allreduce(const communicator& c, const sdeflow::histogram& h) {
  double edges[2] = {h.lo(), h.hi()}, lo[2] = {}, hi[2] = {};
  MPI_Allreduce(edges, lo, 2, MPI_DOUBLE, MPI_MIN, c.get());
  MPI_Allreduce(edges, hi, 2, MPI_DOUBLE, MPI_MAX, c.get());
  if (lo[0] != hi[0] || lo[1] != hi[1])
    throw invalid_argument("mpi::allreduce(histogram): the edges differ between ranks");
  detail::require_same(c, static_cast<long long>(h.bins()), "mpi::allreduce(histogram)", "bins()");
  std::vector<std::uint64_t> send(h.counts());
  send.push_back(h.underflow());
  send.push_back(h.overflow());
  std::vector<std::uint64_t> recv(send.size());
  MPI_Allreduce(send.data(), recv.data(), static_cast<int>(send.size()), MPI_UINT64_T, MPI_SUM, c.get());
  sdeflow::histogram out = h;
  std::copy(recv.begin(), recv.end() - 2, out.counts().begin());
  out.set_outside(recv[recv.size() - 2], recv.back());
  return out;
}

/// The report of a run whose ranks ran the same grid: the largest steps and NFE over the ranks (a rank with
/// no samples reports zero), stopped early when any rank stopped early (collective).
[[nodiscard]] inline integration_report allreduce(const communicator& c, const integration_report& r) {
  unsigned long long in[3] = {r.steps, r.evaluations, r.stopped_early ? 1ull : 0ull}, out[3] = {};
  MPI_Allreduce(in, out, 3, MPI_UNSIGNED_LONG_LONG, MPI_MAX, c.get());
  return {static_cast<std::size_t>(out[0]), static_cast<std::size_t>(out[1]), out[2] != 0};
}

/// Every rank's columns on `root`, concatenated in rank order (the global order when rank r holds the
/// block split_samples(n, r, P)); other ranks get an empty d x 0 batch. Collective. Throws invalid_argument
/// on every rank when the row counts differ or one rank holds more than INT_MAX values (MPI's count
/// limit: write a file per rank instead).
template <State X>
[[nodiscard]] X gather(const communicator& c, const X& local, int root = 0) {
  using S = scalar_of<X>;
  const int ranks = c.size();
  detail::require(root >= 0 && root < ranks, "mpi::gather", "root", root, "must be a rank of the communicator");
  detail::require_same(c, static_cast<long long>(local.rows()), "mpi::gather", "the number of rows");
  long long mine = static_cast<long long>(local.size()), most = 0;
  MPI_Allreduce(&mine, &most, 1, MPI_LONG_LONG, MPI_MAX, c.get());
  detail::require(most <= INT_MAX, "mpi::gather", "values on one rank", most,
                  "exceed MPI's count limit (INT_MAX): use collect.files for a file per rank");
  const int count = static_cast<int>(mine);
  std::vector<int> counts(static_cast<std::size_t>(ranks)), displs(static_cast<std::size_t>(ranks));
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, c.get());
  long long total = 0;
  for (int r = 0; r < ranks; ++r) {
    displs[static_cast<std::size_t>(r)] = static_cast<int>(std::min<long long>(total, INT_MAX));
    total += counts[static_cast<std::size_t>(r)];
  }
  const bool is_root = c.rank() == root;
  // Displacements are ints too: past INT_MAX values in all, gather column blocks one rank at a time.
  const Eigen::Index rows = local.rows();
  MPI_Bcast(&total, 1, MPI_LONG_LONG, root, c.get());  // so that every rank takes the same branch below
  X all(rows, 0);
  // The root's allocation can fail alone (bad_alloc): guarded, so the others do not wait in the transfer.
  guarded(c, [&] {
    if (is_root && rows > 0) all.resize(rows, static_cast<Eigen::Index>(total / rows));
  });
  if (total <= INT_MAX) {
    MPI_Gatherv(local.data(), count, detail::datatype<S>(), all.data(), counts.data(), displs.data(), detail::datatype<S>(),
                root, c.get());
  } else {
    // Point to point on a duplicate of the communicator, so these messages never match the user's own.
    MPI_Comm own = MPI_COMM_NULL;
    MPI_Comm_dup(c.get(), &own);
    long long at = 0;
    for (int r = 0; r < ranks; ++r) {
      if (c.rank() == r && r != root) MPI_Send(local.data(), count, detail::datatype<S>(), root, 0, own);
      if (is_root) {
        const int cr = counts[static_cast<std::size_t>(r)];
        if (r == root) {
          std::copy(local.data(), local.data() + cr, all.data() + at);
        } else {
          MPI_Recv(all.data() + at, cr, detail::datatype<S>(), r, 0, own, MPI_STATUS_IGNORE);
        }
        at += cr;
      }
    }
    MPI_Comm_free(&own);
  }
  return all;
}

/// The driver under both front ends: rank r runs its block of n samples in pieces, piece by piece through
/// run(piece) -> {d x piece.count samples, report}, folds each piece into the moments and the histogram,
/// keeps what `what` asks for, and brings the results together. Collective.
template <State X, class Run>
[[nodiscard]] distributed_result<X> run_blocks(const parallel& par, Eigen::Index d, std::uint64_t n, Run&& run,
                                               const collect& what = {}) {
  const communicator& c = par.ranks;
  const int rank = c.rank();
  const int ranks = c.size();
  // Settings that decide which collectives run, or the bits of the result, must agree on every rank.
  detail::require_same(c, static_cast<long long>(n), "mpi::run", "n");
  detail::require_same(c, static_cast<long long>(d), "mpi::run", "d");
  detail::require_same(c, static_cast<long long>(par.chunk), "mpi::run", "parallel.chunk");
  detail::require_same(c, (what.moments ? 1 : 0) + (what.gather ? 2 : 0) + (what.marginal ? 4 : 0), "mpi::run",
                       "collect (moments, gather, marginal)");
  if (what.gather) detail::require_same(c, what.root, "mpi::run", "collect.root");
  distributed_result<X> out;
  const bool hold = what.keep || what.gather || !what.files.empty();
  const double t0 = MPI_Wtime();
  // Everything that can throw, settings checks included, runs inside the guard: a setting that is bad on
  // one rank only ends every rank with the message.
  guarded(c, [&] {
    par.validate("mpi::run");
    detail::require(d >= 1, "mpi::run", "d", d, "must be at least 1");
    detail::require(what.root >= 0 && what.root < ranks, "mpi::run", "collect.root", what.root,
                    "must be a rank of the communicator");
    detail::require(!what.marginal || (what.marginal_row >= 0 && what.marginal_row < d), "mpi::run",
                    "collect.marginal_row", what.marginal_row, "must be a row of the samples (0 <= row < d)");
    out.block = split_samples(n, static_cast<std::uint64_t>(rank), static_cast<std::uint64_t>(ranks));
    if (what.moments) out.moments = running_moments<double>(d);
    out.marginal = what.marginal;
    if (hold) out.local.resize(d, static_cast<Eigen::Index>(out.block.count));
    for (std::uint64_t done = 0; done < out.block.count; done += par.chunk) {
      const sample_block piece{out.block.offset + done, std::min(par.chunk, out.block.count - done)};
      auto [x, report] = run(piece);
      if (x.rows() != d || static_cast<std::uint64_t>(x.cols()) != piece.count)
        throw dimension_mismatch(detail::message("mpi::run: a piece of ", piece.count, " samples came back ", x.rows(),
                                                 " x ", x.cols(), ", expected ", d, " x ", piece.count));
      if (what.moments) out.moments.add(x);
      if (out.marginal) out.marginal->add(x.row(what.marginal_row));
      if (hold) out.local.middleCols(static_cast<Eigen::Index>(done), x.cols()) = x;
      out.report = report;
    }
    if (!what.files.empty()) {
      out.file = detail::message(what.files, "-rank", rank, "-of-", ranks, ".npy");
      write_npy(out.file, out.local);
    }
  });
  double mine = MPI_Wtime() - t0;
  MPI_Allreduce(&mine, &out.seconds, 1, MPI_DOUBLE, MPI_MAX, c.get());
  unsigned cores = cores_available();
  MPI_Allreduce(&cores, &out.cores, 1, MPI_UNSIGNED, MPI_MIN, c.get());
  if (what.moments) out.moments = allreduce(c, out.moments);
  if (out.marginal) out.marginal = allreduce(c, *out.marginal);
  out.report = allreduce(c, out.report);
  if (what.gather) out.all = gather(c, out.local, what.root);
  if (!what.keep) out.local = X(d, 0);
  return out;
}

/// An ensemble of n paths of an SDE system from x0 (every path starts there) over `grid`, split over the
/// ranks. Rank r integrates its block with noise.columns_from(offset) under par.exec: the same bits as
///   X x = x0.replicate(1, n); integrate(stepper, sys, x, grid, noise);
/// in one process. Collective.
template <class Stepper, class Sys, class Derived, class S, class Noise>
  requires sdeflow::detail::ColumnSplittable<Noise> && (Derived::ColsAtCompileTime == 1)
[[nodiscard]] distributed_result<batch<S>> ensemble(const parallel& par, const Stepper& stepper, const Sys& sys,
                                                    const Eigen::MatrixBase<Derived>& x0, std::uint64_t n,
                                                    const time_grid<S>& grid, const Noise& noise, const collect& what = {}) {
  const Eigen::Matrix<S, Eigen::Dynamic, 1> start = x0.template cast<S>();
  return ensemble(
      par, stepper, sys, start.size(),
      [&](sample_block b) -> batch<S> { return start.replicate(1, static_cast<Eigen::Index>(b.count)); }, n, grid, noise,
      what);
}

/// The same with a start that depends on the sample: init(block) returns the d x block.count starting
/// states of global samples [block.offset, block.offset + block.count) (key any randomness by them, as
/// normal_source::fill does with its sample offset, and the start is split-invariant too).
template <class Stepper, class Sys, class Init, class S, class Noise>
  requires sdeflow::detail::ColumnSplittable<Noise> && std::is_invocable_r_v<batch<S>, Init&, sample_block>
[[nodiscard]] distributed_result<batch<S>> ensemble(const parallel& par, const Stepper& stepper, const Sys& sys,
                                                    Eigen::Index d, Init&& init, std::uint64_t n,
                                                    const time_grid<S>& grid, const Noise& noise,
                                                    const collect& what = {}) {
  using X = batch<S>;
  guarded(par.ranks, [&] {
    if constexpr (sdeflow::detail::whole_batch_v<Sys>)
      throw invalid_argument("mpi::ensemble: the system declares whole_batch (its drift may couple the samples, as a "
                             "mean field does), so it cannot be split over ranks; if each sample is independent, "
                             "split it yourself with mpi::run_blocks");
  });
  return run_blocks<X>(
      par, d, n,
      [&](sample_block piece) {
        X x = init(piece);
        if (x.rows() != d || static_cast<std::uint64_t>(x.cols()) != piece.count)
          throw dimension_mismatch(sdeflow::detail::message("mpi::ensemble: init returned ", x.rows(), " x ", x.cols(),
                                                            ", expected ", d, " x ", piece.count));
        integration_report r = integrate(par.exec, stepper, sys, x, grid, noise.columns_from(piece.offset));
        return std::pair<X, integration_report>(std::move(x), r);
      },
      what);
}

/// A diffusion sampler run of n samples of dimension d split over the ranks: rank r draws the prior of its
/// block (initial_noise with sample_offset + offset) and samples it under par.exec. The same bits as
///   auto xT = initial_noise(p, d, n, grid, opt);  sample(sampler, m, xT, grid, opt);
/// in one process. opt.exec must stay at its default (say threads in par.exec); a noise source in opt.noise
/// must split by columns. Collective.
template <class Smp, class M, NoiseSchedule P, State X = batch<typename P::scalar_type>>
[[nodiscard]] distributed_result<X> sample(const parallel& par, const Smp& sampler, const M& m, const P& p, Eigen::Index d,
                                           std::uint64_t n, const time_grid<typename P::scalar_type>& grid,
                                           const sampler_options<X>& opt = {}, const collect& what = {}) {
  // Checked on every rank before any runs (a rank with no samples too).
  guarded(par.ranks, [&] {
    if constexpr (sdeflow::detail::couples_batch_v<Smp>)
      throw invalid_argument("mpi::sample: this sampler couples the batch (a batch statistic in its step), so its "
                             "result would depend on the number of ranks: run it in one process");
    if (opt.exec.threads != 1 || opt.exec.tile_columns != execution::untiled)
      throw invalid_argument(sdeflow::detail::message(
          "mpi::sample: opt.exec (threads = ", opt.exec.threads, ", tile_columns = ", opt.exec.tile_columns,
          ") must stay at its default: say threads and tiles in parallel.exec"));
    if (opt.noise && !opt.noise.splits())
      throw invalid_argument("mpi::sample: opt.noise cannot be split by columns, so ranks cannot share it "
                             "(leave it empty for the counter-based noise of opt.seed)");
    sdeflow::detail::require(opt.sample_offset <= (std::uint64_t{1} << 32) && n <= (std::uint64_t{1} << 32) - opt.sample_offset,
                             "mpi::sample", "opt.sample_offset + n", static_cast<double>(opt.sample_offset) + static_cast<double>(n),
                             "exceeds the 2^32 samples the counter-based noise can key");
  });
  return run_blocks<X>(
      par, d, n,
      [&](sample_block piece) {
        sampler_options<X> o = opt;
        o.sample_offset = opt.sample_offset + piece.offset;
        if (opt.noise) o.noise = opt.noise.columns_from(piece.offset);
        o.exec = par.exec;
        X xT = initial_noise(p, d, static_cast<Eigen::Index>(piece.count), grid, o);
        auto r = sdeflow::sample(sampler, m, std::move(xT), grid, o);
        return std::pair<X, integration_report>(std::move(r.samples), r.report);
      },
      what);
}

}  // namespace sdeflow::mpi
