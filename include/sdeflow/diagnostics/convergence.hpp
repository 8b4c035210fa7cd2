// SPDX-License-Identifier: MIT
#pragma once
/// \file convergence.hpp
/// Convergence-order estimation for SDE and ODE solvers.
/// - fit_order(h, e, se):   weighted least-squares slope of log e against log h, weights from the
///                          per-level standard errors (delta method: Var log e ~ se^2 / e^2), and the
///                          slope's standard error sqrt(1 / sum w (x - x_w)^2) (plus residual scatter
///                          when the fit is worse than the error bars say).
/// - strong_order(...):     a ladder of step counts N_l on [t0, t1]; every level is driven by the same
///                          fine Brownian path per trajectory (brownian_increments with substeps
///                          fine / N_l, space-time integrals included), error = mean over trajectories of
///                          |X_N - X_ref| against reference end states the caller computes from the same
///                          path (an exact solution, or a fine solve).
/// - weak_order(...):       the same ladder, error = |mean(phi(X_N) - phi(X_ref))|: with shared paths the
///                          difference has the variance of the strong error, not of phi, so weak errors are
///                          measurable with 10^4 trajectories.
///
/// \code
///   auto est = sdeflow::strong_order(sdeflow::milstein{}, gbm, x0, 0.0, 1.0, {16, 32, 64, 128}, 2048, seed, exact);
///   // est.slope ~ 1, est.standard_error ~ 0.02
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/noise/random.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/integrators/integrate.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace sdeflow {

struct order_estimate {
  double slope = 0;
  double standard_error = 0;
  std::vector<double> step_sizes;
  std::vector<double> errors;
  std::vector<double> error_standard_errors;
};

[[nodiscard]] inline order_estimate fit_order(std::vector<double> h, std::vector<double> e, std::vector<double> se) {
  detail::require(h.size() >= 2, "fit_order", "levels", h.size(), "must be at least 2");
  if (e.size() != h.size() || se.size() != h.size()) {
    throw dimension_mismatch(detail::message("fit_order: h, e and se have ", h.size(), ", ", e.size(), " and ",
                                             se.size(), " entries"));
  }
  const std::size_t L = h.size();
  std::vector<double> x(L), y(L), w(L);
  for (std::size_t i = 0; i < L; ++i) {
    if (!(h[i] > 0 && e[i] > 0)) {
      throw invalid_argument(detail::message("fit_order: level ", i, " has h = ", h[i], ", error = ", e[i],
                                             "; both must be > 0"));
    }
    x[i] = std::log(h[i]);
    y[i] = std::log(e[i]);
    const double rel = se[i] / e[i];
    w[i] = rel > 0 ? 1.0 / (rel * rel) : 1e12;
  }
  double sw = 0, sx = 0, sy = 0;
  for (std::size_t i = 0; i < L; ++i) {
    sw += w[i];
    sx += w[i] * x[i];
    sy += w[i] * y[i];
  }
  const double xm = sx / sw, ym = sy / sw;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < L; ++i) {
    sxx += w[i] * (x[i] - xm) * (x[i] - xm);
    sxy += w[i] * (x[i] - xm) * (y[i] - ym);
  }
  order_estimate out;
  out.slope = sxy / sxx;
  double chi2 = 0;
  for (std::size_t i = 0; i < L; ++i) {
    const double r = y[i] - (ym + out.slope * (x[i] - xm));
    chi2 += w[i] * r * r;
  }
  const double scale = L > 2 ? std::max(1.0, chi2 / static_cast<double>(L - 2)) : 1.0;
  out.standard_error = std::sqrt(scale / sxx);
  out.step_sizes = std::move(h);
  out.errors = std::move(e);
  out.error_standard_errors = std::move(se);
  return out;
}

namespace detail {
template <class Stepper, class Sys, State X, class PerLevel>
order_estimate ladder(const Stepper& stepper, const Sys& sys, const X& x0, scalar_of<X> t0, scalar_of<X> t1,
                      const std::vector<std::size_t>& steps, std::size_t fine_steps, std::uint64_t seed,
                      PerLevel&& error_of, const char* where) {
  require(steps.size() >= 2, where, "steps.size()", steps.size(), "must be at least 2");
  std::vector<double> h, e, se;
  for (std::size_t N : steps) {
    require(N >= 1 && fine_steps % N == 0, where, "steps", N, "must divide fine_steps");
    X x = x0;
    integrate(stepper, sys, x, time_grid<scalar_of<X>>::uniform(t0, t1, N),
              brownian_increments(seed, 0, 0, fine_steps / N));
    const auto [err, err_se] = error_of(x);
    h.push_back(std::fabs(static_cast<double>(t1 - t0)) / static_cast<double>(N));
    e.push_back(err);
    se.push_back(err_se);
  }
  return fit_order(std::move(h), std::move(e), std::move(se));
}
}  // namespace detail

/// Strong order against `reference` (same shape as x0: X(t1) of every trajectory on the fine path).
template <class Stepper, class Sys, State X>
[[nodiscard]] order_estimate strong_order(const Stepper& stepper, const Sys& sys, const X& x0, scalar_of<X> t0,
                                          scalar_of<X> t1, const std::vector<std::size_t>& steps, std::size_t fine_steps,
                                          std::uint64_t seed, const X& reference) {
  return detail::ladder(
      stepper, sys, x0, t0, t1, steps, fine_steps, seed,
      [&](const X& x) {
        const Eigen::ArrayXd d = (x - reference).colwise().norm().transpose().template cast<double>().array();
        const double n = static_cast<double>(d.size());
        const double m = d.mean();
        const double sd = std::sqrt((d - m).square().sum() / std::max(1.0, n - 1));
        return std::pair{m, sd / std::sqrt(n)};
      },
      "strong_order");
}

/// Weak order of E[phi(X)] against phi on `reference` (same paths); phi maps a batch to a 1 x n row.
template <class Stepper, class Sys, State X, class Phi>
[[nodiscard]] order_estimate weak_order(const Stepper& stepper, const Sys& sys, const X& x0, scalar_of<X> t0,
                                        scalar_of<X> t1, const std::vector<std::size_t>& steps, std::size_t fine_steps,
                                        std::uint64_t seed, const X& reference, Phi&& phi) {
  const Eigen::ArrayXd ref = phi(reference).transpose().template cast<double>().array();
  return detail::ladder(
      stepper, sys, x0, t0, t1, steps, fine_steps, seed,
      [&](const X& x) {
        const Eigen::ArrayXd d = phi(x).transpose().template cast<double>().array() - ref;
        const double n = static_cast<double>(d.size());
        const double m = d.mean();
        const double sd = std::sqrt((d - m).square().sum() / std::max(1.0, n - 1));
        return std::pair{std::fabs(m), sd / std::sqrt(n)};
      },
      "weak_order");
}

}  // namespace sdeflow
