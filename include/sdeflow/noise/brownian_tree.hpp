// SPDX-License-Identifier: MIT
#pragma once
/// \file brownian_tree.hpp
/// A virtual Brownian tree (Gaines & Lyons 1997; Li et al. 2020): W on [t0, t1] at any time, with the
/// space-time integral I10 = int_s^u (W(r) - W(s)) dr that SRA1 needs, generated on demand by Brownian-bridge
/// bisection from counter-based normals. Nothing is stored: every value is a pure function of
/// (seed, stream, sample index, row, node), so results do not depend on query order or batch split.
///
/// Each dyadic node [a, b] (length L) carries its increment dW and its bridge area
/// H = (1/L) int_a^b (W(r) - W(a) - (r - a)/L dW) dr, independent with Var dW = L, Var H = L/12 (Foster 2020,
/// "Numerical approximations for stochastic differential equations", Ch. 3). Bisection at m: with
/// U = B(m)/2 and V = (H1 + H2)/2, D = (H1 - H2)/2, the constraint H = U + V gives
///   U | H ~ N(3H/4, L/64),  D ~ N(0, L/48),  B(m) = 2U,  H1 = H - U + D,  H2 = H - U - D,
/// and the halves get dW/2 + B(m), H1 and dW/2 - B(m), H2. A descent to time s accumulates W(s) and the
/// running integral A(s) = int_{t0}^s (W - W(t0)); then W(s, u) = W(u) - W(s) and
/// I10(s, u) = A(u) - A(s) - (u - s) (W(s) - W(t0)).
///
/// Tolerance: times are resolved on the dyadic grid of spacing <= tol (a query time is rounded to it,
/// depth D = ceil(log2((t1 - t0) / tol)) <= 30, i.e. a resolution of at least 1e-9 (t1 - t0)); on that grid the path and its integrals are exact in law
/// and exactly additive. Cost: O(D) Philox blocks per element and query.
/// It is a BrownianIncrements source for `integrate` on any grid inside [t0, t1] (step index ignored),
/// and a NoiseSource for the diffusion samplers: draw k over [t, t_next] is (W(t_next) - W(t)) / sqrt|t_next - t|,
/// so a stochastic sampler run on 10 or 1000 steps sees one Brownian path (as k-diffusion's
/// BrownianTreeNoiseSampler, here in the sampler's own time t). A draw at one time (t == t_next, e.g. a
/// Langevin correction) has no interval: it comes from the counter-based normals of stream
/// `stream ^ 2^30` at counter k, keyed like every other draw by the global sample index. Two draws over
/// the same interval are the same increment (k does not enter): a sampler takes one per step.

#include <sdeflow/core/error.hpp>
#include <sdeflow/noise/random.hpp>

#include <cmath>
#include <cstdint>

namespace sdeflow {

class brownian_tree {
 public:
  brownian_tree(double t0, double t1, double tol, std::uint64_t seed, std::uint64_t sample_offset = 0,
                std::uint32_t stream = 0)
      : t0_(t0), t1_(t1), source_(seed, stream), offset_(sample_offset) {
    detail::require(std::isfinite(t0), "brownian_tree", "t0", t0, "must be finite");
    detail::require(std::isfinite(t1) && t1 > t0, "brownian_tree", "t1", t1, "must be finite and > t0");
    detail::require(std::isfinite(t1 - t0), "brownian_tree", "t1 - t0", t1 - t0,
                    "must be finite (t0 and t1 are too far apart to subtract)");
    detail::require(std::isfinite(tol) && tol > 0, "brownian_tree", "tol", tol, "must be finite and > 0");
    depth_ = 0;
    while (depth_ < 30 && (t1 - t0) / std::ldexp(1.0, depth_) > tol) ++depth_;
  }

  /// The same path for the columns j0, j0 + 1, ... of the batch: what the driver hands each tile.
  [[nodiscard]] brownian_tree columns_from(std::uint64_t j0) const {
    brownian_tree copy(*this);
    copy.offset_ = detail::sample_end(offset_, j0, "brownian_tree::columns_from", "sample_offset + j0");
    return copy;
  }

  [[nodiscard]] int depth() const noexcept { return depth_; }
  /// Grid spacing actually resolved, (t1 - t0) / 2^depth <= tol.
  [[nodiscard]] double resolution() const noexcept { return (t1_ - t0_) / std::ldexp(1.0, depth_); }

  /// W(t) - W(t0) for every entry of W (column j is sample offset + j).
  template <class D>
  void value(double t, Eigen::MatrixBase<D>& W) const {
    const std::uint64_t q = index_of(t, "value");
    for_each(W, [&](std::uint32_t sample, std::uint32_t row, Eigen::Index i, Eigen::Index j) {
      W(i, j) = static_cast<typename D::Scalar>(descend(q, sample, row).w);
    });
  }

  /// dW = W(u) - W(s) and I10 = int_s^u (W(r) - W(s)) dr on [s, u] (s < u).
  template <class D1, class D2>
  void interval(double s, double u, Eigen::MatrixBase<D1>& dW, Eigen::MatrixBase<D2>& I10) const {
    const std::uint64_t qs = index_of(s, "interval"), qu = index_of(u, "interval");
    detail::require(qs <= qu, "brownian_tree::interval", "u", u, "must not precede s");
    const double len = static_cast<double>(qu - qs) * resolution();
    I10.derived().resize(dW.rows(), dW.cols());
    for_each(dW, [&](std::uint32_t sample, std::uint32_t row, Eigen::Index i, Eigen::Index j) {
      const node_value a = descend(qs, sample, row), b = descend(qu, sample, row);
      dW(i, j) = static_cast<typename D1::Scalar>(b.w - a.w);
      I10(i, j) = static_cast<typename D2::Scalar>(b.area - a.area - len * a.w);
    });
  }

  /// BrownianIncrements: the increment over the step [t, t + h] in the direction of integration
  /// (new minus old), so backwards steps see the time-reversed path.
  template <State X>
  void increment(std::size_t, scalar_of<X> t, scalar_of<X> h, X& dW) {
    step(static_cast<double>(t), static_cast<double>(h), dW, area_);
  }
  /// NoiseSource: standard normals for draw k spanning [t, t_next] (see the file comment).
  template <State X>
  void normal(std::uint64_t k, scalar_of<X> t, scalar_of<X> t_next, X& z) {
    if (t == t_next) {
      detail::require(k < (std::uint64_t{1} << 32), "brownian_tree::normal", "k", k, "must be below 2^32");
      source_.with_stream(source_.stream() ^ 0x40000000u).fill(z, k, offset_);
      return;
    }
    // Divide by the length the tree resolves (times round to its dyadic grid), not the requested one.
    const std::uint64_t a = index_of(static_cast<double>(t), "normal"), b = index_of(static_cast<double>(t_next), "normal");
    const std::uint64_t cells = a > b ? a - b : b - a;
    if (cells == 0) {
      throw invalid_argument(detail::message("brownian_tree::normal: the draw over [", t, ", ", t_next,
                                             "] is shorter than the tree's resolution ", resolution(),
                                             "; build the tree with a smaller tol"));
    }
    step(static_cast<double>(t), static_cast<double>(t_next) - static_cast<double>(t), z, area_);
    z /= static_cast<scalar_of<X>>(std::sqrt(static_cast<double>(cells) * resolution()));
  }

  /// The increment and chi = I10 / |h|, I10 the space-time integral relative to the step's start.
  template <State X, class A>
  void increment_with_area(std::size_t, scalar_of<X> t, scalar_of<X> h, X& dW, A& chi) {
    step(static_cast<double>(t), static_cast<double>(h), dW, chi);
    chi /= std::fabs(h);
  }

 private:
  struct node_value {
    double w;     // W(s) - W(t0)
    double area;  // int_{t0}^s (W - W(t0))
  };

  std::uint64_t index_of(double t, const char* where) const {
    if (!(t >= t0_ - 1e-12 * (t1_ - t0_) && t <= t1_ + 1e-12 * (t1_ - t0_))) {
      throw invalid_argument(detail::message("brownian_tree::", where, ": t = ", t, " must lie in [", t0_, ", ", t1_, "]"));
    }
    const double scaled = (t - t0_) / (t1_ - t0_) * std::ldexp(1.0, depth_);
    const double r = std::round(scaled);
    return static_cast<std::uint64_t>(std::max(0.0, std::min(r, std::ldexp(1.0, depth_))));
  }

  template <class D, class F>
  void for_each(Eigen::MatrixBase<D>& m, F&& f) const {
    (void)detail::sample_end(offset_, static_cast<std::uint64_t>(m.cols()), "brownian_tree", "sample_offset + cols");
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) {
        f(static_cast<std::uint32_t>(offset_ + static_cast<std::uint64_t>(j)), static_cast<std::uint32_t>(i), i, j);
      }
    }
  }

  /// W and the running integral at grid index q (0 .. 2^depth) for one (sample, row).
  node_value descend(std::uint64_t q, std::uint32_t sample, std::uint32_t row) const {
    // Root: dW ~ N(0, L), H ~ N(0, L/12), from heap node 1.
    double L = t1_ - t0_;
    const auto z = source_.pair(1u, sample, row);
    double dw = std::sqrt(L) * z[0];
    double H = std::sqrt(L / 12) * z[1];
    const std::uint64_t full = std::uint64_t{1} << depth_;
    if (q == full) return {dw, L * (dw / 2 + H)};
    double w_a = 0.0, area_a = 0.0;  // values at the node's left end a
    std::uint64_t lo = 0, width = full, heap = 1;
    while (q != lo) {
      // Bisect [a, b] at m.
      const auto zz = source_.pair(static_cast<std::uint32_t>(heap + 1), sample, row);  // node ids >= 2
      const double U = 0.75 * H + std::sqrt(L / 64) * zz[0];
      const double D = std::sqrt(L / 48) * zz[1];
      const double Bm = 2 * U;
      const double H1 = H - U + D, H2 = H - U - D;
      const double dw1 = dw / 2 + Bm, dw2 = dw / 2 - Bm;
      L /= 2;
      width /= 2;
      if (q < lo + width) {
        dw = dw1;
        H = H1;
        heap = 2 * heap;
      } else {
        // Move to the right half: W(m) and A(m) from the left half's increment and integral.
        area_a += L * (dw1 / 2 + H1) + L * w_a;
        w_a += dw1;
        dw = dw2;
        H = H2;
        lo += width;
        heap = 2 * heap + 1;
      }
    }
    return {w_a, area_a};
  }

  // Node ids: the root's own draw uses Philox counter 1, the bisection of heap node k uses k + 1
  // (k < 2^30 at depth <= 30), so every node has its own counter.
  template <class X, class A>
  void step(double t, double h, X& dW, A& I10) const {
    if (h >= 0) {
      interval(t, t + h, dW, I10);
    } else {
      // Reverse direction over [t + h, t]: dW = W(t + h) - W(t) and int (W(r) - W(t)) |dr|.
      interval(t + h, t, dW, I10);
      I10 -= std::fabs(h) * dW;
      dW = -dW;
    }
  }

  double t0_, t1_;
  normal_source source_;
  std::uint64_t offset_;
  int depth_ = 0;
  Eigen::MatrixXd area_;  // scratch for increment(): sized by its first use
};

}  // namespace sdeflow
