// SPDX-License-Identifier: MIT
#pragma once
/// \file streaming.hpp
/// Statistics of a sample set that arrives in pieces (chunks of a long ensemble, ranks of a
/// distributed run), merged without keeping the samples:
/// - running_moments<S>(d):  count, mean and covariance, updated batch by batch and merged pairwise
///                           with the stable parallel formula of Chan, Golub and LeVeque (1979).
/// - histogram(lo, hi, bins): fixed-edge counts with underflow and overflow; merging adds counts, so
///                           a merged histogram equals the one-pass histogram exactly.
/// - sample_block, split_samples(n, part, parts): the contiguous block of global sample indices
///                           [offset, offset + count) that part `part` of `parts` owns.
///
/// \code
///   sdeflow::running_moments<double> m(2);
///   for (const auto& chunk : chunks) m.add(chunk);   // d x n_chunk batches, one sample per column
///   Eigen::VectorXd mean = m.mean();
///   Eigen::MatrixXd cov = m.covariance();            // unbiased (divides by n - 1)
/// \endcode

#include <sdeflow/core/error.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sdeflow {

/// Global sample indices [offset, offset + count) owned by one part of a split.
struct sample_block {
  std::uint64_t offset = 0;
  std::uint64_t count = 0;
  friend bool operator==(const sample_block&, const sample_block&) = default;
};

/// Part `part` of `parts` of n samples: contiguous blocks in part order, the first n % parts parts one
/// sample larger, so block sizes differ by at most one and part p's block starts where p - 1's ends.
[[nodiscard]] inline sample_block split_samples(std::uint64_t n, std::uint64_t part, std::uint64_t parts) {
  detail::require(parts >= 1, "split_samples", "parts", parts, "must be at least 1");
  detail::require(part < parts, "split_samples", "part", part, "must be below parts");
  const std::uint64_t base = n / parts;
  const std::uint64_t extra = n % parts;
  const std::uint64_t offset = part * base + (part < extra ? part : extra);
  return {offset, base + (part < extra ? 1 : 0)};
}

/// Count, mean and co-moment sum M2 = sum_i (x_i - mean)(x_i - mean)^T of the samples seen so far.
///
/// add(x) folds in a d x m batch: its own mean and co-moment (two passes over the batch), then the
/// pairwise merge of Chan, Golub and LeVeque, "Updating formulae and a pairwise algorithm for computing
/// sample variances" (1979): with n = n_a + n_b and delta = mean_b - mean_a,
///   mean = mean_a + delta n_b / n,    M2 = M2_a + M2_b + delta delta^T n_a n_b / n.
/// Both avoid the cancellation of the one-pass sum-of-squares formula; the result equals the two-pass
/// moments of all samples up to rounding, in any merge order. S is the precision of the accumulation:
/// running_moments<double> for float samples keeps the count and the sums exact far longer.
template <std::floating_point S = double>
class running_moments {
 public:
  using vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
  using matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

  /// Moments of d-dimensional samples (d >= 1), none seen yet.
  explicit running_moments(Eigen::Index d) {
    detail::require(d >= 1, "running_moments", "d", d, "must be at least 1");
    mean_ = vector::Zero(d);
    m2_ = matrix::Zero(d, d);
  }

  /// The moments of count samples with this mean and co-moment sum (for deserialization and merging).
  running_moments(std::uint64_t count, vector mean, matrix m2) : n_(count), mean_(std::move(mean)), m2_(std::move(m2)) {
    detail::require(mean_.size() >= 1, "running_moments", "mean.size()", mean_.size(), "must be at least 1");
    if (m2_.rows() != mean_.size() || m2_.cols() != mean_.size())
      throw dimension_mismatch(detail::message("running_moments: m2 is ", m2_.rows(), " x ", m2_.cols(),
                                               ", expected ", mean_.size(), " x ", mean_.size()));
    detail::require(mean_.allFinite() && m2_.allFinite(), "running_moments", "mean/m2", "non-finite", "must be finite");
  }

  /// Fold in a d x m batch (one sample per column; m may be 0). Throws dimension_mismatch when the
  /// batch has another number of rows, invalid_argument when it holds a NaN or infinity.
  template <class Derived>
  void add(const Eigen::MatrixBase<Derived>& x) {
    if (x.rows() != dimension())
      throw dimension_mismatch(detail::message("running_moments::add: x has ", x.rows(), " rows, expected ", dimension()));
    if (x.cols() == 0) return;
    if (!x.allFinite()) {
      Eigen::Index bad = 0;
      while (x.col(bad).allFinite()) ++bad;
      throw invalid_argument(detail::message("running_moments::add: x column ", bad, " is not finite"));
    }
    const vector mb = x.template cast<S>().rowwise().mean();
    const matrix c = x.template cast<S>().colwise() - mb;
    matrix cc = matrix::Zero(dimension(), dimension());
    cc.template selfadjointView<Eigen::Lower>().rankUpdate(c);  // c c^T: half the work, exactly symmetric
    cc.template triangularView<Eigen::StrictlyUpper>() = cc.transpose();
    merge(running_moments(static_cast<std::uint64_t>(x.cols()), mb, cc));
  }

  /// Merge the moments of another disjoint sample set (same dimension).
  void merge(const running_moments& b) {
    if (b.dimension() != dimension())
      throw dimension_mismatch(detail::message("running_moments::merge: dimension ", b.dimension(), ", expected ", dimension()));
    if (b.n_ == 0) return;
    if (n_ == 0) {
      *this = b;
      return;
    }
    const S na = static_cast<S>(n_);
    const S nb = static_cast<S>(b.n_);
    const S n = na + nb;
    const vector delta = b.mean_ - mean_;
    mean_ += delta * (nb / n);
    m2_ += b.m2_ + (delta * delta.transpose()) * (na * nb / n);
    n_ += b.n_;
  }

  [[nodiscard]] Eigen::Index dimension() const noexcept { return mean_.size(); }
  [[nodiscard]] std::uint64_t count() const noexcept { return n_; }
  /// The co-moment sum M2 (covariance times n - 1).
  [[nodiscard]] const matrix& comoment() const noexcept { return m2_; }

  /// Sample mean; throws invalid_argument when no sample was seen.
  [[nodiscard]] const vector& mean() const {
    detail::require(n_ >= 1, "running_moments::mean", "count()", n_, "must be at least 1");
    return mean_;
  }
  /// Unbiased sample covariance M2 / (n - 1); throws invalid_argument below two samples.
  [[nodiscard]] matrix covariance() const {
    detail::require(n_ >= 2, "running_moments::covariance", "count()", n_, "must be at least 2");
    return m2_ / static_cast<S>(n_ - 1);
  }
  /// Standard error of each mean component, sqrt(var_i / n).
  [[nodiscard]] vector mean_standard_error() const {
    return (covariance().diagonal() / static_cast<S>(n_)).cwiseSqrt();
  }

 private:
  std::uint64_t n_ = 0;
  vector mean_;
  matrix m2_;
};

/// Counts of values in `bins` equal bins over [lo, hi), with values below lo and at or above hi counted
/// as underflow and overflow. Bin b holds [edge(b), edge(b + 1)) with edge(b) = lo + b (hi - lo) / bins
/// as computed in floating point, the last one [edge(bins - 1), hi). Counts are integers, so merged histograms equal the one-pass histogram.
class histogram {
 public:
  histogram(double lo, double hi, std::size_t bins) : lo_(lo), hi_(hi), counts_(checked_bins(lo, hi, bins), 0) {}

  /// Count every value of v (any Eigen expression; NaN throws invalid_argument).
  template <class Derived>
  void add(const Eigen::DenseBase<Derived>& v) {
    const double scale = static_cast<double>(counts_.size()) / (hi_ - lo_);
    for (Eigen::Index j = 0; j < v.cols(); ++j) {
      for (Eigen::Index i = 0; i < v.rows(); ++i) {
        const double x = static_cast<double>(v(i, j));
        if (std::isnan(x)) throw invalid_argument(detail::message("histogram::add: value (", i, ", ", j, ") is NaN"));
        if (x < lo_) {
          ++underflow_;
        } else if (x >= hi_) {
          ++overflow_;
        } else {
          // Bin b is [edge(b), edge(b + 1)) exactly: the estimate (x - lo) * scale can be off by one
          // either way in rounding, so it is corrected against the edges themselves.
          auto b = std::min(static_cast<std::size_t>((x - lo_) * scale), counts_.size() - 1);
          if (b > 0 && x < edge(b)) --b;
          if (b + 1 < counts_.size() && x >= edge(b + 1)) ++b;
          ++counts_[b];
        }
      }
    }
  }

  /// Add the counts of a histogram with the same edges (else invalid_argument).
  void merge(const histogram& o) {
    if (o.lo_ != lo_ || o.hi_ != hi_ || o.counts_.size() != counts_.size())
      throw invalid_argument(detail::message("histogram::merge: edges [", o.lo_, ", ", o.hi_, ") in ", o.counts_.size(),
                                             " bins differ from [", lo_, ", ", hi_, ") in ", counts_.size()));
    for (std::size_t b = 0; b < counts_.size(); ++b) counts_[b] += o.counts_[b];
    underflow_ += o.underflow_;
    overflow_ += o.overflow_;
  }

  [[nodiscard]] double lo() const noexcept { return lo_; }
  [[nodiscard]] double hi() const noexcept { return hi_; }
  [[nodiscard]] std::size_t bins() const noexcept { return counts_.size(); }
  [[nodiscard]] double bin_width() const noexcept { return (hi_ - lo_) / static_cast<double>(counts_.size()); }
  /// Left edge of bin b.
  [[nodiscard]] double edge(std::size_t b) const noexcept { return lo_ + static_cast<double>(b) * bin_width(); }
  [[nodiscard]] const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }
  /// Writable counts, underflow and overflow: for deserialization (an MPI reduction).
  [[nodiscard]] std::vector<std::uint64_t>& counts() noexcept { return counts_; }
  [[nodiscard]] std::uint64_t underflow() const noexcept { return underflow_; }
  [[nodiscard]] std::uint64_t overflow() const noexcept { return overflow_; }
  void set_outside(std::uint64_t underflow, std::uint64_t overflow) noexcept {
    underflow_ = underflow;
    overflow_ = overflow;
  }
  /// Every value counted, inside and outside [lo, hi).
  [[nodiscard]] std::uint64_t total() const noexcept {
    std::uint64_t t = underflow_ + overflow_;
    for (std::uint64_t c : counts_) t += c;
    return t;
  }
  /// Density estimate of bin b: count / (total * bin width).
  [[nodiscard]] double density(std::size_t b) const {
    detail::require(b < counts_.size(), "histogram::density", "b", b, "must be below bins()");
    const std::uint64_t t = total();
    return t == 0 ? 0.0 : static_cast<double>(counts_[b]) / (static_cast<double>(t) * bin_width());
  }

 private:
  /// Every argument checked before the counts are allocated; bins below 2^32.
  static std::size_t checked_bins(double lo, double hi, std::size_t bins) {
    detail::require(std::isfinite(lo), "histogram", "lo", lo, "must be finite");
    detail::require(std::isfinite(hi) && hi > lo, "histogram", "hi", hi, "must be finite and above lo");
    detail::require(std::isfinite(hi - lo), "histogram", "hi - lo", hi - lo, "must be finite");
    return detail::grid_points(bins, "histogram", "bins") - 1;
  }
  double lo_, hi_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t underflow_ = 0, overflow_ = 0;
};

}  // namespace sdeflow
