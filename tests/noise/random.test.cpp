// SPDX-License-Identifier: MIT
#include "support.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

using sdeflow::normal_source;

TEST_CASE("philox4x32_10 reproduces the Random123 known-answer vectors", "[random]") {
  // Known-answer tests from Random123's kat_vectors (Salmon et al., SC'11): counter, key -> output.
  struct kat {
    std::array<std::uint32_t, 4> ctr;
    std::array<std::uint32_t, 2> key;
    std::array<std::uint32_t, 4> out;
  };
  const kat cases[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
      {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
       {0xffffffffu, 0xffffffffu},
       {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
      {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
       {0xa4093822u, 0x299f31d0u},
       {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
  };
  for (const auto& c : cases) CHECK(sdeflow::philox4x32_10(c.ctr, c.key) == c.out);
  static_assert(sdeflow::philox4x32_10({0, 0, 0, 0}, {0, 0})[0] == 0x6627e8d5u, "usable in constant expressions");
}

TEST_CASE("portable_log agrees with std::log to a few ulp", "[random]") {
  const normal_source src(3);
  double worst = 0.0;
  for (std::uint32_t i = 0; i < 200000; ++i) {
    // Uniform in (0, 1) and tiny values down to 2^-53: the range the normal transform feeds it.
    const double u = src.uniform(0, i);
    for (double x : {u, u * 1e-10, std::ldexp(u, -40), 1.0 - u * 1e-3}) {
      const double ref = std::log(x);
      const double err = std::fabs(sdeflow::detail::portable_log(x) - ref) / std::max(std::fabs(ref), 1e-300);
      worst = std::max(worst, err);
    }
  }
  INFO("worst relative error " << worst);
  CHECK(worst < 8 * std::numeric_limits<double>::epsilon());
  CHECK(sdeflow::detail::portable_log(1.0) == 0.0);
}

TEST_CASE("standard_normal_quantile inverts the normal CDF", "[random]") {
  // Phi(z) = erfc(-z / sqrt 2) / 2 computed independently by the C library.
  auto cdf = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
  for (double u : {1e-300, 1e-20, 1.389e-11, 1e-6, 0.001, 0.0749, 0.075, 0.3, 0.5, 0.7, 0.925, 0.99, 1 - 1e-9}) {
    const double z = sdeflow::standard_normal_quantile(u, 1.0 - u);
    const double back = u < 0.5 ? cdf(z) : 1.0 - cdf(-z) ;
    // AS241 is accurate to ~1e-16 relative in z; since d ln(Phi)/dz ~ |z| in the tail, that is a
    // relative error of about (1 + z^2) 1e-16 in u, plus erfc's own few ulp.
    INFO("u = " << u << " z = " << z);
    CHECK(std::fabs(back - u) <= (1 + z * z) * 1e-15 * std::min(u, 1.0 - u));
  }
  CHECK(sdeflow::standard_normal_quantile(0.5, 0.5) == 0.0);
  CHECK(sdeflow::standard_normal_quantile(0.975, 0.025) == Approx(1.959963984540054).epsilon(1e-15));
}

TEST_CASE("normal_source values have N(0 1) moments and pass Kolmogorov-Smirnov", "[random]") {
  const Eigen::Index n = 400000;
  Eigen::MatrixXd z(2, n / 2);
  normal_source(2024).fill(z, 5, 0);
  const Eigen::ArrayXd v = z.reshaped().array();
  const double N = static_cast<double>(n);
  const double mean = v.mean();
  const double m2 = v.square().mean();
  const double m4 = v.square().square().mean();
  CHECK_WITHIN_SE(mean, 0.0, 1.0 / std::sqrt(N));
  CHECK_WITHIN_SE(m2, 1.0, std::sqrt(2.0 / N));          // Var(z^2) = 2
  CHECK_WITHIN_SE(m4, 3.0, std::sqrt(96.0 / N));         // Var(z^4) = 105 - 9
  CHECK_WITHIN_SE(v.cube().mean(), 0.0, std::sqrt(15.0 / N));
  // The two values of one block and values of neighbouring samples are uncorrelated.
  const double corr_rows = (z.row(0).array() * z.row(1).array()).mean();
  const double corr_cols = (z.row(0).head(n / 2 - 1).array() * z.row(0).tail(n / 2 - 1).array()).mean();
  CHECK_WITHIN_SE(corr_rows, 0.0, 1.0 / std::sqrt(N / 2));
  CHECK_WITHIN_SE(corr_cols, 0.0, 1.0 / std::sqrt(N / 2));
  // KS distance to Phi; 1.949 / sqrt(n) is the 0.1% critical value.
  std::vector<double> s(v.begin(), v.end());
  std::sort(s.begin(), s.end());
  double d = 0.0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double F = 0.5 * std::erfc(-s[i] / std::sqrt(2.0));
    d = std::max({d, std::fabs(F - static_cast<double>(i) / N), std::fabs(F - static_cast<double>(i + 1) / N)});
  }
  INFO("KS statistic " << d);
  CHECK(d < 1.949 / std::sqrt(N));
}

TEST_CASE("normal_source is keyed by (seed / stream / counter / sample / row) only", "[random][reproducibility]") {
  const normal_source src(42);
  Eigen::MatrixXd whole(5, 100);
  src.fill(whole, 9, 1000);
  // The same block drawn in three pieces with matching offsets is bit-identical.
  Eigen::MatrixXd a(5, 30), b(5, 1), c(5, 69);
  src.fill(c, 9, 1031);
  src.fill(a, 9, 1000);
  src.fill(b, 9, 1030);
  Eigen::MatrixXd joined(5, 100);
  joined << a, b, c;
  CHECK((joined.array() == whole.array()).all());
  // Fewer rows give a prefix of the same column (rows are keyed individually).
  Eigen::MatrixXd top(3, 100);
  src.fill(top, 9, 1000);
  CHECK((top.array() == whole.topRows(3).array()).all());
  // Other seeds, streams and counters differ everywhere.
  Eigen::MatrixXd other(5, 100);
  normal_source(43).fill(other, 9, 1000);
  CHECK((other.array() != whole.array()).all());
  src.with_stream(1).fill(other, 9, 1000);
  CHECK((other.array() != whole.array()).all());
  src.fill(other, 10, 1000);
  CHECK((other.array() != whole.array()).all());
  // float states receive the same values rounded.
  Eigen::MatrixXf f(5, 100);
  src.fill(f, 9, 1000);
  CHECK((f.array() == whole.cast<float>().array()).all());
}

TEST_CASE("brownian_increments: coarse increments are sums of the fine path", "[random]") {
  const double h = 0.25;
  Eigen::MatrixXd coarse(3, 50), fine(3, 50), sum = Eigen::MatrixXd::Zero(3, 50);
  sdeflow::brownian_increments c(11, 0, 0, 4), f(11, 0, 0, 1);
  c.increment(2, 0.0, h, coarse);
  for (std::size_t k = 8; k < 12; ++k) {
    f.increment(k, 0.0, h / 4, fine);
    sum += fine;
  }
  CHECK((coarse - sum).cwiseAbs().maxCoeff() < 1e-14);
  CHECK_THROWS_AS(sdeflow::brownian_increments(1, 0, 0, 0), sdeflow::invalid_argument);
}

TEST_CASE("normal_source rejects counters and sample indices beyond 32 bits", "[random][errors]") {
  Eigen::MatrixXd z(2, 4);
  const normal_source src(1);
  CHECK_THROWS_WITH(src.fill(z, std::uint64_t{1} << 32, 0), Catch::Contains("counter"));
  CHECK_THROWS_WITH(src.fill(z, 0, (std::uint64_t{1} << 32) - 2), Catch::Contains("sample_offset"));
}
