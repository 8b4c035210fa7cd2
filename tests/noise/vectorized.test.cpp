// SPDX-License-Identifier: MIT
// The vectorized normals (detail::normal_lanes, behind normal_source::fill) against the scalar reference
// (normal_source::pair = philox4x32_10 + to_open_uniform + standard_normal_quantile), bit for bit.
#include "support.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

template <class S>
bool same_bits(S a, S b) {
  return std::memcmp(&a, &b, sizeof(S)) == 0;
}

/// Fill a d x n block and compare every entry with pair(); returns the number of mismatches and counts
/// the entries in each tail (|z| > 3, so the quantile's tail branch ran).
template <class S>
std::int64_t mismatches(Eigen::Index d, Eigen::Index n, std::uint32_t counter, std::uint64_t offset,
                        std::int64_t& tail_values) {
  const sdeflow::normal_source src(0x5DEECE66DULL, 9);
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> z(d, n);
  src.fill(z, counter, offset);
  std::int64_t bad = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < d; i += 2) {
      const auto ref = src.pair(counter, static_cast<std::uint32_t>(offset + static_cast<std::uint64_t>(j)),
                                static_cast<std::uint32_t>(i / 2));
      bad += same_bits(z(i, j), static_cast<S>(ref[0])) ? 0 : 1;
      if (i + 1 < d) bad += same_bits(z(i + 1, j), static_cast<S>(ref[1])) ? 0 : 1;
      tail_values += (std::fabs(ref[0]) > 3.0 ? 1 : 0) + (i + 1 < d && std::fabs(ref[1]) > 3.0 ? 1 : 0);
    }
  }
  return bad;
}

/// The quantile lanes on chosen uniforms: u = (m + 1/2) 2^-53 for the given 53-bit m.
std::int64_t quantile_mismatches(const std::vector<std::uint64_t>& ms, bool use_std_log_mutant) {
  sdeflow::detail::normal_lanes lanes;
  constexpr int chunk = 2 * sdeflow::detail::normal_lanes::width;
  std::int64_t bad = 0;
  for (std::size_t start = 0; start < ms.size(); start += chunk) {
    const int n = static_cast<int>(std::min<std::size_t>(chunk, ms.size() - start));
    for (int i = 0; i < n; ++i) {
      const auto u = sdeflow::detail::to_open_uniform(ms[start + static_cast<std::size_t>(i)] << 11);
      lanes.u[i] = u.u;
      lanes.v[i] = u.one_minus_u;
    }
    lanes.quantiles(n);
    for (int i = 0; i < n; ++i) {
      double ref = sdeflow::standard_normal_quantile(lanes.u[i], lanes.v[i]);
      if (use_std_log_mutant && std::fabs(lanes.u[i] - 0.5) > 0.425) {
        // A deliberately wrong reference: the tails through std::log instead of the portable log.
        const double p = std::min(lanes.u[i], lanes.v[i]);
        ref = std::copysign(sdeflow::detail::as241_near_tail(std::sqrt(-std::log(p)) - 1.6), lanes.u[i] - 0.5);
      }
      bad += same_bits(lanes.out[i], ref) ? 0 : 1;
    }
  }
  return bad;
}

/// 53-bit m at the branch points of AS241 and its tails: u in {0.075, 0.925} (|q| = 0.425), u = e^-25
/// (r = 5), the smallest and largest u, and a dense random spread over the extreme tails.
std::vector<std::uint64_t> tail_inputs() {
  constexpr double two53 = 9007199254740992.0;
  std::vector<std::uint64_t> ms;
  const auto around = [&](double u) {
    const auto m = static_cast<std::int64_t>(u * two53);
    for (std::int64_t k = -300; k <= 300; ++k) {
      const std::int64_t v = m + k;
      if (v >= 0 && v < (std::int64_t{1} << 53)) ms.push_back(static_cast<std::uint64_t>(v));
    }
  };
  around(0.075);
  around(0.925);
  around(std::exp(-25.0));
  around(1.0 - std::exp(-25.0));
  for (std::uint64_t m = 0; m < 2000; ++m) {
    ms.push_back(m);                                     // u down to 2^-54: z = -8.3, the far tail
    ms.push_back((std::uint64_t{1} << 53) - 1 - m);      // and its mirror
  }
  // Log-uniform over the lower tail: u from 2^-54 to 0.075, both signs.
  const sdeflow::normal_source src(3);
  for (std::uint32_t k = 0; k < 200000; ++k) {
    const double e = -54.0 * src.uniform(k, 0, 0);
    const double u = std::min(0.075, std::exp2(e));
    const auto m = static_cast<std::uint64_t>(u * two53);
    ms.push_back(m);
    ms.push_back((std::uint64_t{1} << 53) - 1 - m);
  }
  return ms;
}

}  // namespace

TEST_CASE("vectorized normals equal the scalar reference bit for bit (1e7 values, double and float)",
          "[random][vectorized]") {
  // Odd and even row counts (the last pair's second value is dropped for odd d), offsets and counters
  // near the top of their ranges. Sizes are smaller under the sanitizers (SDEFLOW_TEST_SCALE).
  const Eigen::Index n_big = sdeflow_test::scaled(Eigen::Index{5'000'000});
  std::int64_t tails = 0;
  CHECK(mismatches<double>(2, n_big, 0, 0, tails) == 0);
  CHECK(mismatches<double>(3, 1001, 0xFFFFFFFEu, (std::uint64_t{1} << 32) - 1001, tails) == 0);
  CHECK(mismatches<double>(7, 333, 5, 12345, tails) == 0);
  CHECK(mismatches<float>(2, n_big, 17, 99, tails) == 0);
  CHECK(mismatches<float>(5, 777, 1, 3, tails) == 0);
  // |z| > 3 has probability 0.0027: the 2e7 values here contain tens of thousands of tail draws.
  CHECK(tails > static_cast<std::int64_t>(0.002 * 4.0 * static_cast<double>(n_big)));
}

TEST_CASE("vectorized quantile equals AS241 at its branch points and in both extreme tails", "[random][vectorized]") {
  const auto ms = tail_inputs();
  CHECK(quantile_mismatches(ms, false) == 0);
  // Mutant: the same tail with std::log in place of the portable log differs in the last bits for
  // some inputs, and the comparison sees it.
  CHECK(quantile_mismatches(ms, true) > 0);
}
