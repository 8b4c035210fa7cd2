// SPDX-License-Identifier: MIT
#pragma once
/// \file brownian_increments.hpp
/// The counter-based noise source, the default everywhere: Brownian increments for the SDE steppers
/// (dW_k = sqrt(|h|/r) times the sum of r normals, r >= 1 sub-steps, so coarse paths are exact sums of a
/// shared fine path) and standard normals for the diffusion samplers, keyed by (seed, stream, counter,
/// global sample index). `counter_noise` is the same class under the name the samplers' docs use.
///
/// \code
///   sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, grid, sdeflow::brownian_increments(/*seed=*/7));
///   Eigen::MatrixXd z(2, 100);
///   sdeflow::counter_noise(7).normal(/*draw=*/0, 1.0, 0.9, z);
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>
#include <sdeflow/noise/random.hpp>

#include <cmath>
#include <cstdint>

namespace sdeflow {

/// Brownian increments for the SDE driver, keyed by (seed, stream, step, sample).
///
/// With `substeps = r`, the increment of step k is sqrt(|h| / r) times the sum of the r normals
/// with counters k r, ..., k r + r - 1: the path on a grid of N steps is the exact coarsening of
/// the path on the grid of N r steps with the same seed. Used for strong-convergence ladders.
class brownian_increments {
 public:
  explicit brownian_increments(std::uint64_t seed = 0, std::uint64_t sample_offset = 0, std::uint32_t stream = 0,
                               std::uint64_t substeps = 1)
      : source_(seed, stream), offset_(sample_offset), substeps_(substeps) {
    detail::require(substeps >= 1 && substeps < detail::index_limit, "brownian_increments", "substeps", substeps,
                    "must lie in [1, 2^32)");
  }

  /// NoiseSource: standard normals for draw k, spanning [t, t_next] (the times are not used): the
  /// normals of counter k, or with r sub-steps the sum of the r normals of counters k r .. k r + r - 1
  /// divided by sqrt(r), so that increment(k, t, h, dW) = sqrt(|h|) normal(k, ...) in law and in bits
  /// for r = 1.
  template <State X>
  void normal(std::uint64_t k, scalar_of<X> /*t*/, scalar_of<X> /*t_next*/, X& z) {
    using S = scalar_of<X>;
    source_.fill(z, first_counter(k), offset_);
    if (substeps_ > 1) {
      extra_.resize(z.rows(), z.cols());
      for (std::uint64_t r = 1; r < substeps_; ++r) {
        source_.fill(extra_, first_counter(k) + r, offset_);
        z += extra_.template cast<S>();
      }
      z /= std::sqrt(static_cast<S>(substeps_));
    }
  }

  template <State X>
  void increment(std::size_t k, scalar_of<X> /*t*/, scalar_of<X> h, X& dW) {
    using S = scalar_of<X>;
    const S scale = std::sqrt(std::fabs(h) / static_cast<S>(substeps_));
    source_.fill(dW, first_counter(k), offset_);
    if (substeps_ > 1) {
      // Sized on first use; no allocation once the shape is known.
      extra_.resize(dW.rows(), dW.cols());
      for (std::uint64_t r = 1; r < substeps_; ++r) {
        source_.fill(extra_, first_counter(k) + r, offset_);
        dW += extra_.template cast<S>();
      }
    }
    dW *= scale;
  }

  /// The increment dW of step k and the scaled space-time integral chi = I10 / |h|,
  /// I10 = int_t^{t+|h|} (W(s) - W(t)) ds, drawn jointly: for one sub-step of length delta,
  /// I10 = delta/2 (dW + sqrt(delta) Z' / sqrt 3) with Z' independent (E[I10 | dW] = delta dW / 2,
  /// Var = delta^3 / 12); over r sub-steps I10 = sum_j (delta S_j + I10_j), S_j the path so far, so coarse
  /// values are exact functionals of the fine path. Z' comes from stream `stream + 2^31`.
  template <State X, class A>
  void increment_with_area(std::size_t k, scalar_of<X> /*t*/, scalar_of<X> h, X& dW, A& chi) {
    using S = scalar_of<X>;
    const S delta = std::fabs(h) / static_cast<S>(substeps_);
    const S sq = std::sqrt(delta);
    const normal_source area_source = source_.with_stream(source_.stream() ^ 0x80000000u);
    sub_.resize(dW.rows(), dW.cols());
    zp_.resize(dW.rows(), dW.cols());
    dW.setZero();
    chi.setZero(dW.rows(), dW.cols());
    for (std::uint64_t r = 0; r < substeps_; ++r) {
      const std::uint64_t c = first_counter(k) + r;
      source_.fill(sub_, c, offset_);
      area_source.fill(zp_, c, offset_);
      sub_ *= static_cast<double>(sq);
      // I10 contribution of this sub-step: delta * (path so far) + delta/2 (dW_r + sqrt(delta) Z'/sqrt 3).
      chi += (delta * dW + (delta / 2) * (sub_ + (static_cast<double>(sq) / std::sqrt(3.0)) * zp_).template cast<S>());
      dW += sub_.template cast<S>();
    }
    chi /= std::fabs(h);
  }

  /// The same noise for the columns j0, j0 + 1, ... of the batch (its column 0 is this one's column j0):
  /// what the driver hands each tile. Throws when the sample index would pass 2^32.
  [[nodiscard]] brownian_increments columns_from(std::uint64_t j0) const {
    return brownian_increments(source_.seed(),
                               detail::sample_end(offset_, j0, "brownian_increments::columns_from", "sample_offset + j0"),
                               source_.stream(), substeps_);
  }

  /// Throws invalid_argument, before a run, when draws 0 .. count - 1 would need counters past 2^32
  /// (count x substeps); the drivers call it so a run never fails part-way on this.
  void check_draws(std::uint64_t count, const char* where) const {
    if (count > detail::index_limit / substeps_) {
      throw invalid_argument(detail::message(where, ": ", count, " noise draws with brownian_increments substeps = ",
                                             substeps_, " need counters past 2^32"));
    }
  }

  [[nodiscard]] const normal_source& source() const noexcept { return source_; }
  [[nodiscard]] std::uint64_t sample_offset() const noexcept { return offset_; }
  [[nodiscard]] std::uint64_t substeps() const noexcept { return substeps_; }

 private:
  /// k * substeps, after checking that every counter of step k stays below 2^32 (never wraps).
  [[nodiscard]] std::uint64_t first_counter(std::uint64_t k) const {
    if (k >= detail::index_limit / substeps_) {
      throw invalid_argument(detail::message("brownian_increments: step k = ", k, " with substeps = ", substeps_,
                                             " needs noise counters past 2^32"));
    }
    return k * substeps_;
  }
  normal_source source_;
  std::uint64_t offset_;
  std::uint64_t substeps_;
  Eigen::MatrixXd extra_, sub_, zp_;
};

/// The counter-based default noise source of the samplers (the same object as brownian_increments).
using counter_noise = brownian_increments;

}  // namespace sdeflow
