// SPDX-License-Identifier: MIT
#pragma once
/// \file time_grid.hpp
/// Time grids t_0, ..., t_N. Increasing grids integrate forwards; decreasing grids integrate
/// backwards (reverse-time sampling), so the step h_k = t_{k+1} - t_k is then negative.
/// Uniform grids compute t_k = t_0 + k (t_N - t_0) / N from k and end exactly at t_N; nothing is
/// accumulated, so no drift or missed endpoint whatever N is.
///
/// \code
///   auto g = sdeflow::time_grid<>::uniform(1.0, 1e-3, 500);   // 500 steps from T = 1 down to 1e-3
///   for (std::size_t k = 0; k < g.steps(); ++k) use(g[k], g.step(k));
/// \endcode

#include <sdeflow/core/error.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <utility>
#include <vector>

namespace sdeflow {

template <std::floating_point Scalar = double>
class time_grid {
 public:
  using scalar_type = Scalar;

  /// N uniform steps from t0 to t1 (t1 < t0 runs backwards). Throws invalid_argument when t0 or t1 is
  /// not finite, t0 == t1, steps is 0 or not below 2^32, t1 - t0 overflows, or the span is too short for
  /// `steps` distinct points at this precision (uniform(1, 1 - 1e-13, 1000) would repeat points).
  [[nodiscard]] static time_grid uniform(Scalar t0, Scalar t1, std::size_t steps) {
    detail::require(std::isfinite(t0), "time_grid::uniform", "t0", t0, "must be finite");
    detail::require(std::isfinite(t1), "time_grid::uniform", "t1", t1, "must be finite");
    detail::require(t0 != t1, "time_grid::uniform", "t1", t1, "must differ from t0");
    std::vector<Scalar> t(detail::grid_points(steps, "time_grid::uniform"));
    const Scalar span = t1 - t0;
    detail::require(std::isfinite(span), "time_grid::uniform", "t1 - t0", span,
                    "must be finite (t0 and t1 are too far apart to subtract)");
    for (std::size_t k = 0; k < steps; ++k) {
      t[k] = t0 + span * (static_cast<Scalar>(k) / static_cast<Scalar>(steps));
    }
    t[steps] = t1;
    return computed(std::move(t), "time_grid::uniform");
  }

  /// A grid a schedule function computed from its arguments (N = points.size() - 1 steps): the checks
  /// of from_points, with a message naming the function and its step count, since the points are
  /// derived values the user never gave (too many steps for the span at this precision repeat points).
  [[nodiscard]] static time_grid computed(std::vector<Scalar> points, const char* where) {
    detail::require(points.size() >= 2, where, "points.size()", points.size(), "must be at least 2");
    const std::size_t bad = first_violation(points);
    if (bad != 0 || !std::isfinite(points[0])) {
      const std::size_t k = bad == 0 ? 1 : bad;
      throw invalid_argument(detail::message(where, ": steps = ", points.size() - 1, " gives points ", k - 1, " and ",
                                             k, " = ", points[k - 1], " and ", points[k],
                                             ", not finite and strictly monotone (too many steps for the span at "
                                             "this precision?)"));
    }
    return time_grid(std::move(points));
  }

  /// A user-supplied list of times: at least 2 points, all finite, strictly monotone (either way).
  [[nodiscard]] static time_grid from_points(std::vector<Scalar> points) {
    if (points.size() < 2) {
      throw invalid_argument(
          detail::message("time_grid::from_points: points.size() = ", points.size(), " must be at least 2"));
    }
    detail::require(points.size() - 1 < detail::index_limit, "time_grid::from_points", "points.size() - 1",
                    points.size() - 1, "must be below 2^32");
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (!std::isfinite(points[k])) {
        throw invalid_argument(detail::message("time_grid::from_points: points[", k, "] = ", points[k],
                                               " must be finite"));
      }
    }
    const std::size_t bad = first_violation(points);
    if (bad != 0) {
      throw invalid_argument(detail::message("time_grid::from_points: points[", bad, "] = ", points[bad],
                                             " breaks strict monotonicity after points[", bad - 1, "] = ",
                                             points[bad - 1]));
    }
    return time_grid(std::move(points));
  }

  /// Number of steps N (one less than the number of points).
  [[nodiscard]] std::size_t steps() const noexcept { return t_.size() - 1; }
  /// Number of points N + 1.
  [[nodiscard]] std::size_t size() const noexcept { return t_.size(); }
  /// t_k, 0 <= k <= N.
  [[nodiscard]] Scalar operator[](std::size_t k) const noexcept { return t_[k]; }
  /// h_k = t_{k+1} - t_k (negative on a backwards grid).
  [[nodiscard]] Scalar step(std::size_t k) const noexcept { return t_[k + 1] - t_[k]; }
  [[nodiscard]] Scalar front() const noexcept { return t_.front(); }
  [[nodiscard]] Scalar back() const noexcept { return t_.back(); }
  [[nodiscard]] bool backwards() const noexcept { return t_.back() < t_.front(); }
  [[nodiscard]] const std::vector<Scalar>& points() const noexcept { return t_; }

 private:
  explicit time_grid(std::vector<Scalar> t) : t_(std::move(t)) {}
  /// The first k >= 1 where t breaks strict monotonicity in the direction of t[0] -> t[1]
  /// (or is not finite), 0 if none.
  static std::size_t first_violation(const std::vector<Scalar>& t) {
    if (t.size() < 2) return 0;
    const bool increasing = t[1] > t[0];
    for (std::size_t k = 0; k + 1 < t.size(); ++k) {
      const bool ok = increasing ? t[k + 1] > t[k] : t[k + 1] < t[k];
      if (!ok || !std::isfinite(t[k + 1])) return k + 1;
    }
    return 0;
  }
  std::vector<Scalar> t_;
};

}  // namespace sdeflow
