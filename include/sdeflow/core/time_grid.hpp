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

  /// N uniform steps from t0 to t1 (t1 < t0 runs backwards). Throws invalid_argument when
  /// t0 or t1 is not finite, t0 == t1, or steps == 0.
  [[nodiscard]] static time_grid uniform(Scalar t0, Scalar t1, std::size_t steps) {
    detail::require(std::isfinite(t0), "time_grid::uniform", "t0", t0, "must be finite");
    detail::require(std::isfinite(t1), "time_grid::uniform", "t1", t1, "must be finite");
    detail::require(t0 != t1, "time_grid::uniform", "t1", t1, "must differ from t0");
    detail::require(steps >= 1, "time_grid::uniform", "steps", steps, "must be at least 1");
    std::vector<Scalar> t(steps + 1);
    const Scalar span = t1 - t0;
    for (std::size_t k = 0; k < steps; ++k) {
      t[k] = t0 + span * (static_cast<Scalar>(k) / static_cast<Scalar>(steps));
    }
    t[steps] = t1;
    return time_grid(std::move(t));
  }

  /// A user-supplied list of times: at least 2 points, all finite, strictly monotone (either way).
  [[nodiscard]] static time_grid from_points(std::vector<Scalar> points) {
    if (points.size() < 2) {
      throw invalid_argument(
          detail::message("time_grid::from_points: points.size() = ", points.size(), " must be at least 2"));
    }
    for (std::size_t k = 0; k < points.size(); ++k) {
      if (!std::isfinite(points[k])) {
        throw invalid_argument(detail::message("time_grid::from_points: points[", k, "] = ", points[k],
                                               " must be finite"));
      }
    }
    const bool increasing = points[1] > points[0];
    for (std::size_t k = 0; k + 1 < points.size(); ++k) {
      const bool ok = increasing ? points[k + 1] > points[k] : points[k + 1] < points[k];
      if (!ok) {
        throw invalid_argument(detail::message("time_grid::from_points: points[", k + 1, "] = ", points[k + 1],
                                               " breaks strict monotonicity after points[", k, "] = ",
                                               points[k]));
      }
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
  std::vector<Scalar> t_;
};

}  // namespace sdeflow
