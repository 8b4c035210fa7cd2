// SPDX-License-Identifier: MIT
#pragma once
/// \file random.hpp
/// Counter-based random numbers. Every Gaussian value is a pure function of
/// (seed, stream, counter, sample index, row): the same seed gives bit-identical samples whether a
/// batch is drawn at once or in pieces, in any order, on any thread count. No generator state.
///
/// - philox4x32_10:       the Philox4x32-10 block function (Salmon, Moraes, Dror, Shaw, "Parallel random
///                        numbers: as easy as 1, 2, 3", SC'11), checked against the Random123 known answers.
/// - standard_normal_quantile: inverse normal CDF, Wichura's AS241 (PPND16, Appl. Statist. 37(3), 1988),
///                        relative accuracy about 1e-16, with a log of our own, so it uses only IEEE-754
///                        +, -, *, / and sqrt: bit-identical across platforms when the compiler does not
///                        contract a*b+c into FMA (x86-64 default; pass -ffp-contract=off elsewhere).
/// - normal_source:       fills a whole d x n block with N(0, 1) values keyed by (counter, sample, row).
/// The noise sources built on it (Brownian increments, the Brownian tree, recorded tables) live beside
/// this header in noise/.
///
/// std::normal_distribution is implementation-defined across standard libraries and is not used.

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace sdeflow {

/// Philox4x32 with 10 rounds: encrypts a 128-bit counter under a 64-bit key.
[[nodiscard]] constexpr std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> ctr,
                                                                 std::array<std::uint32_t, 2> key) noexcept {
  // Multipliers and Weyl key increments from the SC'11 paper.
  constexpr std::uint32_t m0 = 0xD2511F53u;
  constexpr std::uint32_t m1 = 0xCD9E8D57u;
  constexpr std::uint32_t w0 = 0x9E3779B9u;
  constexpr std::uint32_t w1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * ctr[0];
    const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * ctr[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32);
    const auto lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32);
    const auto lo1 = static_cast<std::uint32_t>(p1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
    key[0] += w0;
    key[1] += w1;
  }
  return ctr;
}

namespace detail {

/// log(m 2^e) from the reduced m in [sqrt(1/2), sqrt(2)) and e as a double: log m = 2 atanh(s),
/// s = (m-1)/(m+1), |s| <= 0.1716, series to s^25 (written out, so lane loops that inline it vectorize).
[[nodiscard]] inline double log_reduced(double m, double de) noexcept {
  const double s = (m - 1.0) / (m + 1.0);
  const double z = s * s;
  double series = 1.0 / 25.0;
  series = series * z + 1.0 / 23.0;
  series = series * z + 1.0 / 21.0;
  series = series * z + 1.0 / 19.0;
  series = series * z + 1.0 / 17.0;
  series = series * z + 1.0 / 15.0;
  series = series * z + 1.0 / 13.0;
  series = series * z + 1.0 / 11.0;
  series = series * z + 1.0 / 9.0;
  series = series * z + 1.0 / 7.0;
  series = series * z + 1.0 / 5.0;
  series = series * z + 1.0 / 3.0;
  series = series * z + 1.0;
  // ln 2 split so that e * ln2_hi is exact (fdlibm's split).
  constexpr double ln2_hi = 6.93147180369123816490e-01;
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  return de * ln2_hi + (2.0 * s * series + de * ln2_lo);
}

/// Natural log of a positive finite double from +, -, *, / only: x = m 2^e with m in
/// [sqrt(1/2), sqrt(2)), then log_reduced.
[[nodiscard]] inline double portable_log(double x) noexcept {
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --e;
  }
  return log_reduced(m, static_cast<double>(e));
}

/// The three rational pieces of Wichura's AS241 (PPND16), shared by the scalar quantile and the lanes.
/// Central region |q| <= 0.425: the quantile is q * as241_central(q), r = 0.180625 - q^2 inside.
[[nodiscard]] inline double as241_central(double q) noexcept {
  const double r = 0.180625 - q * q;
  const double num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r +
                           6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r +
                         1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r +
                       1.3314166789178437745e+2) * r + 3.3871328727963666080e+0);
  const double den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r +
                           3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r +
                         5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r +
                       4.2313330701600911252e+1) * r + 1.0);
  return q * num / den;
}
/// Near tail, r = sqrt(-log p) <= 5, evaluated at r - 1.6.
[[nodiscard]] inline double as241_near_tail(double r) noexcept {
  const double num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r +
                           2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r +
                         3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r +
                       4.63033784615654529590e+0) * r + 1.42343711074968357734e+0);
  const double den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r +
                           1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r +
                         6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r +
                       2.05319162663775882187e+0) * r + 1.0);
  return num / den;
}
/// Far tail, r > 5, evaluated at r - 5.
[[nodiscard]] inline double as241_far_tail(double r) noexcept {
  const double num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r +
                           1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r +
                         2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r +
                       5.46378491116411436990e+0) * r + 6.65790464350110377720e+0);
  const double den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r +
                           1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r +
                         1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r +
                       5.99832206555887937690e-1) * r + 1.0);
  return num / den;
}

/// Uniform in the open interval (0, 1) from 53 bits: (m + 1/2) 2^-53; also returns 1 - u exactly.
struct open_uniform {
  double u;
  double one_minus_u;
};
[[nodiscard]] constexpr open_uniform to_open_uniform(std::uint64_t bits) noexcept {
  const std::uint64_t m = bits >> 11;
  constexpr double scale = 1.0 / 9007199254740992.0;  // 2^-53
  return {(static_cast<double>(m) + 0.5) * scale,
          (static_cast<double>((std::uint64_t{1} << 53) - 1 - m) + 0.5) * scale};
}

}  // namespace detail

/// Inverse of the standard normal CDF at p = u (with 1 - u passed exactly), Wichura's AS241 PPND16.
[[nodiscard]] inline double standard_normal_quantile(double u, double one_minus_u) noexcept {
  const double q = u - 0.5;
  if (std::fabs(q) <= 0.425) return detail::as241_central(q);
  const double r = std::sqrt(-detail::portable_log(q < 0.0 ? u : one_minus_u));
  const double z = r <= 5.0 ? detail::as241_near_tail(r - 1.6) : detail::as241_far_tail(r - 5.0);
  return q < 0.0 ? -z : z;
}

namespace detail {

/// double(w) for w < 2^32, exactly, from bit operations and one subtraction (2^52 + w is a double), so
/// that the conversion vectorizes on every SIMD level (baseline x86-64 has no packed u64 -> double).
[[nodiscard]] inline double u32_to_double(std::uint64_t w) noexcept {
  return std::bit_cast<double>(std::uint64_t{0x4330000000000000} | w) - 4503599627370496.0;
}

/// Lane kernels for whole batches: Philox4x32-10, the open uniforms and the AS241 quantile, written as
/// plain loops over lane arrays that g++ and clang++ vectorize (Eigen's packet sqrt for the square root,
/// since std::sqrt must set errno and so stays scalar). Every operation is the one the scalar reference
/// (philox4x32_10, to_open_uniform, standard_normal_quantile) performs, in the same order, so the values
/// are bit-identical to it; tests/noise/vectorized.test.cpp checks 1e7 of them and both tails.
/// The quantile runs in two passes: the central branch on every lane, then the tails (|q| > 0.425,
/// 15% of values) compacted, with the two tail polynomials chosen per lane by select.
struct normal_lanes {
  static constexpr int width = 64;  ///< Philox blocks per call: 2 * width values
  alignas(64) std::uint32_t row_pair[width];
  alignas(64) std::uint32_t sample[width];
  alignas(64) std::uint32_t b0[width], b1[width], b2[width], b3[width];
  alignas(64) double u[2 * width], v[2 * width], out[2 * width];
  alignas(64) double tail_p[2 * width], tail_q[2 * width];
  int tail_index[2 * width];

  /// out[2 l], out[2 l + 1] = pair(counter, sample[l], row_pair[l]) for l < n.
  void run(int n, std::uint32_t counter, std::uint32_t stream, std::array<std::uint32_t, 2> key) noexcept {
    philox(counter, stream, key);
    uniforms();
    quantiles(2 * n);
  }

  void philox(std::uint32_t counter, std::uint32_t stream, std::array<std::uint32_t, 2> key) noexcept {
    constexpr std::uint32_t m0 = 0xD2511F53u;
    constexpr std::uint32_t m1 = 0xCD9E8D57u;
    for (int l = 0; l < width; ++l) {
      b0[l] = row_pair[l];
      b1[l] = counter;
      b2[l] = sample[l];
      b3[l] = stream;
    }
    std::uint32_t k0 = key[0];
    std::uint32_t k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      for (int l = 0; l < width; ++l) {
        const std::uint64_t p0 = static_cast<std::uint64_t>(m0) * b0[l];
        const std::uint64_t p1 = static_cast<std::uint64_t>(m1) * b2[l];
        const auto n0 = static_cast<std::uint32_t>(p1 >> 32) ^ b1[l] ^ k0;
        const auto n2 = static_cast<std::uint32_t>(p0 >> 32) ^ b3[l] ^ k1;
        b1[l] = static_cast<std::uint32_t>(p1);
        b3[l] = static_cast<std::uint32_t>(p0);
        b0[l] = n0;
        b2[l] = n2;
      }
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
  }

  /// u = (m + 1/2) 2^-53 and 1 - u, m the top 53 bits of (hi, lo): m = hi 2^21 + (lo >> 11), exact.
  void uniforms() noexcept {
    constexpr double scale = 1.0 / 9007199254740992.0;
    for (int l = 0; l < width; ++l) {
      const double m_a = u32_to_double(b1[l]) * 2097152.0 + u32_to_double(b0[l] >> 11);
      const double m_c = u32_to_double(b3[l]) * 2097152.0 + u32_to_double(b2[l] >> 11);
      u[2 * l] = (m_a + 0.5) * scale;
      v[2 * l] = ((9007199254740991.0 - m_a) + 0.5) * scale;
      u[2 * l + 1] = (m_c + 0.5) * scale;
      v[2 * l + 1] = ((9007199254740991.0 - m_c) + 0.5) * scale;
    }
  }

  /// out[i] = standard_normal_quantile(u[i], v[i]) for i < n.
  void quantiles(int n) noexcept {
    int tails = 0;
    for (int i = 0; i < n; ++i) out[i] = as241_central(u[i] - 0.5);
    for (int i = 0; i < n; ++i) {  // compaction without a data-dependent branch
      const double q = u[i] - 0.5;
      tail_index[tails] = i;
      tail_q[tails] = q;
      tail_p[tails] = std::min(u[i], v[i]);  // = (q < 0 ? u : 1 - u), without a branch
      tails += std::fabs(q) > 0.425 ? 1 : 0;
    }
    if (tails == 0) return;
    for (int i = 0; i < tails; ++i) tail_p[i] = -log_lane(tail_p[i]);
    Eigen::Map<Eigen::ArrayXd> p(tail_p, tails);
    p = p.sqrt();
    // r <= 5 (p >= e^-25), all but about 1e-11 of the tail: one polynomial on every lane ...
    for (int i = 0; i < tails; ++i) {
      // z > 0 here, so copysign(z, q) is the reference's (q < 0 ? -z : z) and needs no select.
      tail_q[i] = std::copysign(as241_near_tail(tail_p[i] - 1.6), tail_q[i]);
    }
    // ... and the far tail redone by the reference on the rare lanes that need it.
    for (int i = 0; i < tails; ++i) {
      if (tail_p[i] > 5.0) [[unlikely]] {
        tail_q[i] = standard_normal_quantile(u[tail_index[i]], v[tail_index[i]]);
      }
    }
    for (int i = 0; i < tails; ++i) out[tail_index[i]] = tail_q[i];
  }

  /// portable_log for a positive normal double, with frexp done on the bits (vectorizable).
  static double log_lane(double x) noexcept {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const auto biased = static_cast<std::int64_t>((bits >> 52) & 0x7FF);
    double m = std::bit_cast<double>((bits & std::uint64_t{0x000FFFFFFFFFFFFF}) | std::uint64_t{0x3FE0000000000000});
    const bool small = m < 0.70710678118654752440;
    m = small ? m * 2.0 : m;
    // e = biased - 1022 (- 1 when small) as an exact double: through the 2^52 trick, then a double select.
    const double de = (u32_to_double(static_cast<std::uint64_t>(biased + 1026)) - 2048.0) - (small ? 1.0 : 0.0);
    return log_reduced(m, de);
  }
};

}  // namespace detail

/// Standard normal values keyed by (seed, stream, counter, sample, row).
///
/// Value (i, j) of `fill(z, counter, offset)` depends only on the seed, the stream, `counter`,
/// the global sample index `offset + j` and the row i, so a batch drawn in pieces (with matching
/// offsets) is bit-identical to one drawn at once. The Philox counter is
/// (row / 2, counter, sample, stream) and the key is the 64-bit seed; each block gives two values.
/// Limits: counter and sample index below 2^32, rows below 2^33.
class normal_source {
 public:
  explicit normal_source(std::uint64_t seed = 0, std::uint32_t stream = 0) noexcept
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}, stream_(stream) {}

  [[nodiscard]] std::uint64_t seed() const noexcept {
    return (static_cast<std::uint64_t>(key_[1]) << 32) | key_[0];
  }
  [[nodiscard]] std::uint32_t stream() const noexcept { return stream_; }

  /// The same source on another stream (e.g. prior draws vs. step noise).
  [[nodiscard]] normal_source with_stream(std::uint32_t stream) const noexcept {
    return normal_source(seed(), stream);
  }

  /// Two N(0,1) values for (counter, sample, row pair).
  [[nodiscard]] std::array<double, 2> pair(std::uint32_t counter, std::uint32_t sample,
                                           std::uint32_t row_pair) const noexcept {
    const auto b = philox4x32_10({row_pair, counter, sample, stream_}, key_);
    const auto a = detail::to_open_uniform((static_cast<std::uint64_t>(b[1]) << 32) | b[0]);
    const auto c = detail::to_open_uniform((static_cast<std::uint64_t>(b[3]) << 32) | b[2]);
    return {standard_normal_quantile(a.u, a.one_minus_u), standard_normal_quantile(c.u, c.one_minus_u)};
  }

  /// A uniform value in the open interval (0, 1) from the same block as pair(counter, sample, row_pair).
  [[nodiscard]] double uniform(std::uint32_t counter, std::uint32_t sample, std::uint32_t row_pair = 0) const noexcept {
    const auto b = philox4x32_10({row_pair, counter, sample, stream_}, key_);
    return detail::to_open_uniform((static_cast<std::uint64_t>(b[1]) << 32) | b[0]).u;
  }

  /// Fill every entry of z (any shape, any floating scalar) with N(0, 1) values; column j is sample
  /// `sample_offset + j`. Throws invalid_argument if the counter or sample index exceeds 32 bits.
  /// Runs the lane kernels of detail::normal_lanes (bit-identical to pair(), which stays the reference).
  template <class Derived>
  void fill(Eigen::MatrixBase<Derived>& z, std::uint64_t counter, std::uint64_t sample_offset = 0) const {
    using S = typename Derived::Scalar;
    constexpr std::uint64_t limit = std::uint64_t{1} << 32;
    detail::require(counter < limit, "normal_source::fill", "counter", counter, "must be below 2^32");
    (void)detail::sample_end(sample_offset, static_cast<std::uint64_t>(z.cols()), "normal_source::fill",
                             "sample_offset + cols");
    detail::require(static_cast<std::uint64_t>(z.rows()) <= 2 * limit, "normal_source::fill", "rows", z.rows(),
                    "must not exceed 2^33");
    const Eigen::Index rows = z.rows();
    const Eigen::Index pairs = (rows + 1) / 2;
    if (pairs == 0 || z.cols() == 0) return;
    detail::normal_lanes lanes;
    const auto c = static_cast<std::uint32_t>(counter);
    // Walk the (row pair, column) blocks in column-major order, detail::normal_lanes::width at a time.
    Eigen::Index ip = 0, j = 0;
    while (j < z.cols()) {
      const Eigen::Index ip0 = ip, j0 = j;
      int n = 0;
      for (; n < detail::normal_lanes::width && j < z.cols(); ++n) {
        lanes.row_pair[n] = static_cast<std::uint32_t>(ip);
        lanes.sample[n] = static_cast<std::uint32_t>(sample_offset + static_cast<std::uint64_t>(j));
        if (++ip == pairs) {
          ip = 0;
          ++j;
        }
      }
      lanes.run(n, c, stream_, key_);
      Eigen::Index i2 = ip0, jj = j0;
      for (int l = 0; l < n; ++l) {
        z(2 * i2, jj) = static_cast<S>(lanes.out[2 * l]);
        if (2 * i2 + 1 < rows) z(2 * i2 + 1, jj) = static_cast<S>(lanes.out[2 * l + 1]);
        if (++i2 == pairs) {
          i2 = 0;
          ++jj;
        }
      }
    }
  }
  template <class Derived>
  void fill(Eigen::MatrixBase<Derived>&& z, std::uint64_t counter, std::uint64_t sample_offset = 0) const {
    fill(z, counter, sample_offset);
  }

 private:
  std::array<std::uint32_t, 2> key_;
  std::uint32_t stream_;
};

}  // namespace sdeflow
