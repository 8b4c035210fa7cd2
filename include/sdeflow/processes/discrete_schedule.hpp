// SPDX-License-Identifier: MIT
#pragma once
/// \file discrete_schedule.hpp
/// A discrete DDPM noise table (Ho et al. 2020): beta_1..beta_N, alpha_i = 1 - beta_i,
/// abar_i = prod_{j<=i} alpha_j, x_i = sqrt(abar_i) x_0 + sqrt(1 - abar_i) eps. Index 0 is clean data
/// (abar_0 = 1). It is a NoiseSchedule on the integer times 0..N, which is what its models take;
/// non-integer times are interpolated linearly in log abar.
///
/// - discrete_schedule::linear(N, 1e-4, 0.02): Ho et al.'s table.
/// - discrete_schedule::cosine(N, 0.008):      Nichol & Dhariwal's table, beta clipped at 0.999.
/// - timesteps(N_train, n, spacing):           which n of the N_train steps a sampler visits,
///   `linspace`, `leading` or `trailing` (Lin et al. 2024, "Common diffusion noise schedules and
///   sample steps are flawed", Table 2), as a decreasing list of times ending at 0.

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/time_grid.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <utility>
#include <vector>

namespace sdeflow {

class discrete_schedule {
 public:
  using scalar_type = double;

  explicit discrete_schedule(std::vector<double> betas) : betas_(std::move(betas)) {
    detail::require(!betas_.empty(), "discrete_schedule", "betas.size()", betas_.size(), "must be at least 1");
    log_abar_.assign(betas_.size() + 1, 0.0);
    for (std::size_t i = 0; i < betas_.size(); ++i) {
      if (!(std::isfinite(betas_[i]) && betas_[i] > 0 && betas_[i] < 1)) {
        throw invalid_argument(detail::message("discrete_schedule: betas[", i, "] = ", betas_[i], " must lie in (0, 1)"));
      }
      log_abar_[i + 1] = log_abar_[i] + std::log1p(-betas_[i]);
    }
  }

  [[nodiscard]] static discrete_schedule linear(std::size_t steps = 1000, double beta_start = 1e-4, double beta_end = 0.02) {
    detail::require(std::isfinite(beta_start) && beta_start > 0 && beta_start < 1, "discrete_schedule::linear",
                    "beta_start", beta_start, "must lie in (0, 1)");
    detail::require(std::isfinite(beta_end) && beta_end > 0 && beta_end < 1, "discrete_schedule::linear", "beta_end",
                    beta_end, "must lie in (0, 1)");
    detail::require(beta_end >= beta_start, "discrete_schedule::linear", "beta_end", beta_end, "must be >= beta_start");
    std::vector<double> b(detail::grid_points(steps, "discrete_schedule::linear") - 1);
    for (std::size_t i = 0; i < steps; ++i) {
      b[i] = steps == 1 ? beta_start
                        : beta_start + (beta_end - beta_start) * static_cast<double>(i) / static_cast<double>(steps - 1);
    }
    return discrete_schedule(std::move(b));
  }

  [[nodiscard]] static discrete_schedule cosine(std::size_t steps = 1000, double offset = 0.008) {
    detail::require(std::isfinite(offset) && offset >= 0, "discrete_schedule::cosine", "offset", offset,
                    "must be finite and >= 0");
    std::vector<double> b(detail::grid_points(steps, "discrete_schedule::cosine") - 1);
    auto f = [&](double i) {
      const double c = std::cos((i / static_cast<double>(steps) + offset) / (1 + offset) * std::numbers::pi / 2);
      return c * c;
    };
    for (std::size_t i = 0; i < steps; ++i) {
      b[i] = std::min(1 - f(static_cast<double>(i + 1)) / f(static_cast<double>(i)), 0.999);
    }
    return discrete_schedule(std::move(b));
  }

  [[nodiscard]] std::size_t steps() const noexcept { return betas_.size(); }
  [[nodiscard]] double beta(std::size_t i) const { return betas_.at(i - 1); }
  /// abar at time t in [0, N] (linear in log abar between integers).
  [[nodiscard]] double alpha_bar(double t) const {
    detail::require(t >= 0 && t <= static_cast<double>(steps()), "discrete_schedule", "t", t, "must lie in [0, steps]");
    const auto i = static_cast<std::size_t>(std::floor(t));
    if (i >= steps()) return std::exp(log_abar_.back());
    const double w = t - static_cast<double>(i);
    return std::exp((1 - w) * log_abar_[i] + w * log_abar_[i + 1]);
  }
  [[nodiscard]] double mean_scale(double t) const { return std::sqrt(alpha_bar(t)); }
  [[nodiscard]] double marginal_std(double t) const { return std::sqrt(-std::expm1(std::log(alpha_bar(t)))); }
  [[nodiscard]] double horizon() const { return static_cast<double>(steps()); }
  [[nodiscard]] double prior_std() const { return 1.0; }

 private:
  std::vector<double> betas_;
  std::vector<double> log_abar_;
};

enum class timestep_spacing { linspace, leading, trailing };

/// n of the N_train integer timesteps, decreasing, followed by 0 (clean data): a grid of n steps.
[[nodiscard]] inline time_grid<double> timesteps(std::size_t train_steps, std::size_t n, timestep_spacing spacing) {
  detail::require(train_steps >= 1, "timesteps", "train_steps", train_steps, "must be at least 1");
  detail::require(n >= 1 && n <= train_steps, "timesteps", "n", n, "must lie in [1, train_steps]");
  std::vector<double> t;
  t.reserve(detail::grid_points(n, "timesteps", "n"));
  const auto N = static_cast<double>(train_steps);
  const auto m = static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<double>(i);
    double v = 0;
    switch (spacing) {
      case timestep_spacing::linspace:  // round(linspace(N, 1, n)): both ends included
        v = n == 1 ? N : std::round(N - k * (N - 1) / (m - 1));
        break;
      case timestep_spacing::leading:  // (n-1-k) * (N / n) + 1: starts below N
        v = std::floor((m - 1 - k) * std::floor(N / m)) + 1;
        break;
      case timestep_spacing::trailing:  // round(N - k N / n): starts at N
        v = std::round(N - k * N / m);
        break;
    }
    t.push_back(v);
  }
  t.push_back(0.0);
  return time_grid<double>::from_points(std::move(t));
}

}  // namespace sdeflow
