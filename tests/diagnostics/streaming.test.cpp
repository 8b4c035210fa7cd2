// SPDX-License-Identifier: MIT
// Streaming statistics (diagnostics/streaming.hpp) and the .npy writer (io/npy.hpp): the split of a
// sample range into blocks, running moments merged in any order against the two-pass moments (with a
// naive-formula mutant the same check rejects), histograms merged exactly, and the .npy bytes.
#include "support.hpp"

#include <sdeflow/diagnostics/streaming.hpp>
#include <sdeflow/io/npy.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

Eigen::MatrixXd data(Eigen::Index d, Eigen::Index n, double shift, std::uint64_t seed) {
  Eigen::MatrixXd x(d, n);
  sdeflow::normal_source(seed).fill(x, 0);
  for (Eigen::Index i = 0; i < d; ++i) x.row(i).array() = shift + (1.0 + static_cast<double>(i)) * x.row(i).array();
  x.row(d - 1) += 0.5 * x.row(0);  // correlated
  return x;
}

double rel_diff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

/// The one-pass formula a streaming implementation is tempted to use: sums of x and x x^T.
Eigen::MatrixXd naive_covariance(const Eigen::MatrixXd& x) {
  const auto n = static_cast<double>(x.cols());
  const Eigen::VectorXd s = x.rowwise().sum();
  const Eigen::MatrixXd ss = x * x.transpose();
  return (ss - s * s.transpose() / n) / (n - 1);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("split_samples: contiguous blocks in part order that cover 0..n-1, sizes within one", "[streaming]") {
  for (std::uint64_t n : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7}, std::uint64_t{1000}, (std::uint64_t{1} << 40) + 3}) {
    for (std::uint64_t parts : {1u, 2u, 3u, 7u, 64u}) {
      INFO("n " << n << " parts " << parts);
      std::uint64_t next = 0, lo = n, hi = 0;
      for (std::uint64_t p = 0; p < parts; ++p) {
        const auto b = sdeflow::split_samples(n, p, parts);
        CHECK(b.offset == next);
        next = b.offset + b.count;
        lo = std::min(lo, b.count);
        hi = std::max(hi, b.count);
      }
      CHECK(next == n);
      CHECK(hi - lo <= 1);
    }
  }
  CHECK(sdeflow::split_samples(1001, 1, 2) == sdeflow::sample_block{501, 500});
  CHECK(sdeflow::split_samples(1001, 0, 3) == sdeflow::sample_block{0, 334});
  CHECK(sdeflow::split_samples(1001, 2, 3) == sdeflow::sample_block{668, 333});
  CHECK_THROWS_WITH(sdeflow::split_samples(10, 0, 0), Catch::Contains("parts = 0"));
  CHECK_THROWS_WITH(sdeflow::split_samples(10, 3, 3), Catch::Contains("part = 3"));
}

TEST_CASE("running_moments: chunks merged in any order equal the two-pass moments to rounding", "[streaming]") {
  // Mean 1e7 and unit-scale spread (condition number kappa = |mean| / std = 1e7): the naive one-pass
  // formula loses about eps kappa^2 = 1e-2 relative; stable updates lose about eps kappa = 2e-9.
  const Eigen::MatrixXd x = data(3, 3000, 1e7, 21);
  const double kappa = 1e7;
  const double tol = 16 * std::numeric_limits<double>::epsilon() * kappa;
  const Eigen::VectorXd mean = sdeflow::sample_mean(x);
  const Eigen::MatrixXd cov = sdeflow::sample_covariance(x);
  for (Eigen::Index chunk : {Eigen::Index{1}, Eigen::Index{7}, Eigen::Index{1000}, Eigen::Index{3000}}) {
    INFO("chunk " << chunk);
    sdeflow::running_moments<> m(3);
    for (Eigen::Index j = 0; j < x.cols(); j += chunk) m.add(x.middleCols(j, std::min(chunk, x.cols() - j)));
    CHECK(m.count() == 3000);
    CHECK(rel_diff(m.mean(), mean) < 1e-14);
    CHECK(rel_diff(m.covariance(), cov) < tol);
  }
  // Pairwise merges of disjoint parts, in reverse order (rank order reversed).
  sdeflow::running_moments<> a(3), b(3), c(3);
  a.add(x.leftCols(1000));
  b.add(x.middleCols(1000, 1500));
  c.add(x.rightCols(500));
  c.merge(b);
  c.merge(a);
  CHECK(rel_diff(c.covariance(), cov) < tol);
  CHECK(rel_diff(c.mean(), mean) < 1e-14);
  // The mutant: the one-pass sums on the same data are nowhere near (the check above can fail).
  CHECK(rel_diff(naive_covariance(x), cov) > tol);
  // A merge that forgets the between-part term delta delta^T n_a n_b / n: rejected by the same bound.
  sdeflow::running_moments<> left(3), right(3);
  left.add(x.leftCols(1500));
  right.add(x.rightCols(1500) + Eigen::MatrixXd::Constant(3, 1500, 1.0));  // parts with different means
  Eigen::MatrixXd both(3, 3000);
  both << x.leftCols(1500), x.rightCols(1500) + Eigen::MatrixXd::Constant(3, 1500, 1.0);
  const Eigen::MatrixXd without_cross = (left.comoment() + right.comoment()) / 2999.0;
  CHECK(rel_diff(without_cross, sdeflow::sample_covariance(both)) > tol);
  left.merge(right);
  CHECK(rel_diff(left.covariance(), sdeflow::sample_covariance(both)) < tol);
}

TEST_CASE("running_moments: empty parts, the standard error, and bad input", "[streaming]") {
  const Eigen::MatrixXd x = data(2, 400, 3.0, 22);
  sdeflow::running_moments<> m(2), empty(2);
  m.add(x);
  const Eigen::VectorXd mean = m.mean();
  const Eigen::MatrixXd cov = m.covariance();
  m.merge(empty);
  m.add(Eigen::MatrixXd(2, 0));
  CHECK((m.mean().array() == mean.array()).all());
  CHECK((m.covariance().array() == cov.array()).all());
  empty.merge(m);
  CHECK((empty.covariance().array() == cov.array()).all());
  CHECK(rel_diff(m.mean_standard_error(), (cov.diagonal() / 400.0).cwiseSqrt()) < 1e-15);
  // float samples accumulate in the scalar of the moments.
  sdeflow::running_moments<float> f(2);
  f.add(x.cast<float>());
  CHECK(std::abs(f.mean()(0) - static_cast<float>(mean(0))) < 1e-5f);

  sdeflow::running_moments<> fresh(2);
  CHECK_THROWS_WITH(fresh.mean(), Catch::Contains("count() = 0"));
  fresh.add(x.leftCols(1));
  CHECK_THROWS_WITH(fresh.covariance(), Catch::Contains("count() = 1"));
  CHECK_THROWS_AS(fresh.add(Eigen::MatrixXd::Zero(3, 4)), sdeflow::dimension_mismatch);
  CHECK_THROWS_AS(fresh.merge(sdeflow::running_moments<>(3)), sdeflow::dimension_mismatch);
  Eigen::MatrixXd bad = x.leftCols(5);
  bad(1, 3) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(fresh.add(bad), Catch::Contains("column 3 is not finite"));
  CHECK(fresh.count() == 1);  // a rejected batch leaves the moments as they were
  CHECK_THROWS_WITH(sdeflow::running_moments<>(0), Catch::Contains("d = 0"));
}

TEST_CASE("histogram: counts against direct counting, exact merges, edges and bad input", "[streaming]") {
  const Eigen::MatrixXd x = data(1, 5000, 0.0, 23);
  sdeflow::histogram h(-2.0, 2.0, 16);
  h.add(x);
  std::vector<std::uint64_t> direct(16, 0);
  std::uint64_t under = 0, over = 0;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const double v = x(0, j);
    if (v < -2.0) {
      ++under;
    } else if (v >= 2.0) {
      ++over;
    } else {
      // bin b holds [lo + b w, lo + (b + 1) w) with w = 0.25, an exact binary fraction
      std::size_t b = 0;
      while (!(v < -2.0 + 0.25 * static_cast<double>(b + 1))) ++b;
      ++direct[b];
    }
  }
  CHECK(h.counts() == direct);
  CHECK(h.underflow() == under);
  CHECK(h.overflow() == over);
  CHECK(h.total() == 5000);
  double mass = 0;
  for (std::size_t b = 0; b < h.bins(); ++b) mass += h.density(b) * h.bin_width();
  CHECK(std::abs(mass - static_cast<double>(5000 - under - over) / 5000.0) < 1e-12);
  // Merged parts equal the one-pass histogram exactly.
  sdeflow::histogram a(-2.0, 2.0, 16), b(-2.0, 2.0, 16);
  a.add(x.leftCols(1234));
  b.add(x.rightCols(5000 - 1234));
  a.merge(b);
  CHECK(a.counts() == h.counts());
  CHECK(a.underflow() == h.underflow());
  CHECK(a.overflow() == h.overflow());
  // Edges: lo is in bin 0, hi overflows, the largest value below hi is in the last bin.
  sdeflow::histogram e(0.0, 1.0, 10);
  e.add(Eigen::RowVector3d(0.0, 1.0, std::nextafter(1.0, 0.0)));
  CHECK(e.counts()[0] == 1);
  CHECK(e.counts()[9] == 1);
  CHECK(e.overflow() == 1);
  CHECK(e.edge(3) == 0.30000000000000004);
  // Bins are [edge(b), edge(b + 1)) as computed: 0.3 is below edge(3), so it is in bin 2 (the plain
  // floor((x - lo) bins / (hi - lo)) = 3 is the mutant this rejects).
  sdeflow::histogram tenth(0.0, 1.0, 10);
  tenth.add(Eigen::RowVector2d(0.3, 0.7));
  CHECK(tenth.counts()[2] == 1);
  CHECK(tenth.counts()[6] == 1);  // edge(7) = 0.70000000000000007 > 0.7
  // Uneven widths: every value lands in the bin whose computed edges enclose it.
  sdeflow::histogram odd(-1.3, 2.9, 17);
  Eigen::RowVectorXd v = x.row(0);
  for (Eigen::Index j = 0; j < 200; ++j) v(j) = odd.edge(static_cast<std::size_t>(j % 17));  // values on the edges
  odd.add(v);
  std::vector<std::uint64_t> by_edges(17, 0);
  for (Eigen::Index j = 0; j < v.size(); ++j) {
    for (std::size_t k = 0; k < 17; ++k) {
      const double upper = k + 1 < 17 ? odd.edge(k + 1) : 2.9;
      if (v(j) >= odd.edge(k) && v(j) < upper) ++by_edges[k];
    }
  }
  CHECK(odd.counts() == by_edges);

  CHECK_THROWS_WITH(sdeflow::histogram(1.0, 1.0, 4), Catch::Contains("hi = 1"));
  CHECK_THROWS_WITH(sdeflow::histogram(0.0, 1.0, 0), Catch::Contains("bins = 0"));
  CHECK_THROWS_WITH(sdeflow::histogram(-std::numeric_limits<double>::infinity(), 1.0, 4), Catch::Contains("lo = -inf"));
  CHECK_THROWS_WITH(sdeflow::histogram(-1e308, 1e308, 4), Catch::Contains("hi - lo"));
  CHECK_THROWS_WITH(e.add(Eigen::RowVector2d(0.5, std::nan(""))), Catch::Contains("(0, 1) is NaN"));
  CHECK_THROWS_AS(e.merge(sdeflow::histogram(0.0, 1.0, 11)), sdeflow::invalid_argument);
  CHECK_THROWS_WITH(e.density(10), Catch::Contains("b = 10"));
}

TEST_CASE("write_npy: the (n, d) C-order array of a d x n batch, byte for byte", "[npy]") {
  const std::string path = "sdeflow_npy_test.npy";
  Eigen::MatrixXd x(3, 5);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = 0.5 * static_cast<double>(k) - 1.0;
  sdeflow::write_npy(path, x);
  const std::string bytes = slurp(path);
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t hlen = static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
  CHECK((10 + hlen) % 64 == 0);
  const std::string header = bytes.substr(10, hlen);
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }";
  CHECK(header == dict + std::string(hlen - dict.size() - 1, ' ') + "\n");
  REQUIRE(bytes.size() == 10 + hlen + 15 * sizeof(double));
  // Row i of the array is sample (column) i of the batch: the column-major buffer as it is.
  CHECK(bytes.compare(10 + hlen, std::string::npos, reinterpret_cast<const char*>(x.data()), 15 * sizeof(double)) == 0);
  // A strided block writes the same file as its evaluated copy; float32 is '<f4'.
  Eigen::MatrixXd tall(5, 5);
  tall.topRows(3) = x;
  tall.bottomRows(2).setConstant(9.0);
  sdeflow::write_npy(path, tall.topRows(3));
  CHECK(slurp(path) == bytes);
  sdeflow::write_npy(path, x.cast<float>().eval());
  CHECK(slurp(path).find("'descr': '<f4'") != std::string::npos);
  std::remove(path.c_str());
  try {
    sdeflow::write_npy("/nonexistent-dir/x.npy", x);
    FAIL("no exception");
  } catch (const sdeflow::io_error& e) {
    CHECK(e.path() == "/nonexistent-dir/x.npy");
    CHECK(std::string(e.what()).find("cannot open '/nonexistent-dir/x.npy'") != std::string::npos);
  }
}
