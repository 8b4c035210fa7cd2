// SPDX-License-Identifier: MIT
#pragma once
// Test helpers: one tolerance helper and the statistical bound every sampling test uses.
#include <sdeflow/sdeflow.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace sdeflow_test {

/// Relative tolerance with an absolute floor, defaulting by scalar type.
template <class S>
struct tol {
  static constexpr S rel = std::is_same_v<S, float> ? S(1e-5) : S(1e-12);
  static constexpr S abs = std::is_same_v<S, float> ? S(1e-6) : S(1e-14);
};

template <class S>
bool close(S a, S b, S rel = tol<S>::rel, S abs = tol<S>::abs) {
  return std::fabs(a - b) <= std::max(abs, rel * std::max(std::fabs(a), std::fabs(b)));
}

#ifndef SDEFLOW_TEST_SIZE_DIVISOR
#define SDEFLOW_TEST_SIZE_DIVISOR 1
#endif
/// Sample sizes of the statistical batteries: full size in Release, divided by SDEFLOW_TEST_SIZE_DIVISOR
/// under the sanitizers (set by the asan preset). Bounds come from the standard error at the size used,
/// so the same test holds at either size, only less sharply at the smaller one.
template <class I>
constexpr I scaled(I n, I at_least = I{1}) {
  return std::max<I>(at_least, n / static_cast<I>(SDEFLOW_TEST_SIZE_DIVISOR));
}

/// Number of standard errors used by every statistical test: with a fixed seed, a correct
/// implementation lands outside 5 SE with probability below 6e-7 per check.
inline constexpr double k_sigma = 5.0;

/// |estimate - expected| <= k_sigma * se, reported with the numbers when it fails.
#define CHECK_WITHIN_SE(estimate, expected, se)                                                   \
  do {                                                                                            \
    const double est_ = static_cast<double>(estimate);                                            \
    const double exp_ = static_cast<double>(expected);                                            \
    const double se_ = static_cast<double>(se);                                                   \
    INFO("estimate " << est_ << " expected " << exp_ << " se " << se_ << " z = " << (est_ - exp_) / se_); \
    CHECK(std::fabs(est_ - exp_) <= ::sdeflow_test::k_sigma * se_);                               \
  } while (0)

/// A fitted convergence order (sdeflow::order_estimate) against the theoretical order p:
/// |slope - p| <= k_sigma * SE, where SE is the weighted fit's standard error (from the per-level
/// standard errors, inflated by the residual scatter when the levels stray from a line), and the band
/// must be narrow enough to tell p from p +- 1/4 (k_sigma * SE <= 0.15): a wrong order cannot pass
/// because the estimate is noisy, and a right one is not held to a margin its noise cannot meet.
/// Levels driven by one set of paths have correlated errors, and a ladder that is not yet asymptotic
/// has a bias the SE does not see: each test picks its ladder so that the closed-form errors (where
/// there are some) show the asymptotic slope, and says so.
#define CHECK_ORDER(estimate, order)                                                                      \
  do {                                                                                                    \
    const auto& e_ = (estimate);                                                                          \
    const double p_ = static_cast<double>(order);                                                         \
    INFO("slope " << e_.slope << " +- " << e_.standard_error << ", order " << p_                          \
                  << ", z = " << (e_.slope - p_) / e_.standard_error);                                    \
    CHECK(std::fabs(e_.slope - p_) <= ::sdeflow_test::k_sigma * e_.standard_error);                       \
    CHECK(::sdeflow_test::k_sigma * e_.standard_error <= 0.15);                                           \
  } while (0)

}  // namespace sdeflow_test
