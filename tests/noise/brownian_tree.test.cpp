// SPDX-License-Identifier: MIT
// The virtual Brownian tree: marginals and bridge increments by Kolmogorov-Smirnov, exact additivity of
// W and of the space-time integral, independence from query order, the area's law, and use as the noise
// of integrate() (a fixed-grid SRA1 run matches its strong order on the tree's path).
#include "support.hpp"

#include <algorithm>
#include <numeric>
#include <vector>

namespace {

double ks_normal(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = static_cast<double>(v.size());
  double d = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double F = 0.5 * std::erfc(-v[i] / std::sqrt(2.0));
    d = std::max({d, std::fabs(F - static_cast<double>(i) / n), std::fabs(F - static_cast<double>(i + 1) / n)});
  }
  return d;
}

}  // namespace

TEST_CASE("Brownian tree: W(t)/sqrt(t) and bridge increments are N(0, 1) (Kolmogorov-Smirnov)", "[brownian_tree]") {
  const sdeflow::brownian_tree tree(0.0, 2.0, 1e-6, 9);
  const Eigen::Index n = 20000;
  Eigen::MatrixXd W(1, n), a(1, n), b(1, n), dummy(1, n);
  // 1.949 / sqrt(n) is the 0.1% critical value of the KS statistic.
  const double crit = 1.949 / std::sqrt(static_cast<double>(n));
  for (double t : {0.3, 1.0, 1.77}) {
    tree.value(t, W);
    const Eigen::RowVectorXd z = W.row(0) / std::sqrt(t);
    INFO("t = " << t);
    CHECK(ks_normal(std::vector<double>(z.data(), z.data() + n)) < crit);
  }
  // Increments between non-dyadic times, including the bridge step inside an already-refined interval.
  for (auto [s, u] : {std::pair{0.3, 0.31}, std::pair{0.123, 1.9}, std::pair{1.0, 1.0000153}}) {
    tree.interval(s, u, a, dummy);
    // Times resolve to the tree's grid, so the increment's variance is the grid length.
    const double res = tree.resolution();
    const double len = (std::round(u / res) - std::round(s / res)) * res;
    const Eigen::RowVectorXd z = a.row(0) / std::sqrt(len);
    INFO("[" << s << ", " << u << "]");
    CHECK(ks_normal(std::vector<double>(z.data(), z.data() + n)) < crit);
  }
  // Disjoint increments are uncorrelated.
  tree.interval(0.1, 0.5, a, dummy);
  tree.interval(0.5, 1.2, b, dummy);
  CHECK_WITHIN_SE((a.array() * b.array()).mean(), 0.0, std::sqrt(0.4 * 0.7 / static_cast<double>(n)));
}

TEST_CASE("Brownian tree: exact additivity of W and of the space-time integral", "[brownian_tree]") {
  const sdeflow::brownian_tree tree(-1.0, 3.0, 1e-5, 4);
  Eigen::MatrixXd w1(3, 50), w2(3, 50), w12(3, 50), i1(3, 50), i2(3, 50), i12(3, 50);
  const double s = -0.25, t = 0.875, u = 2.5;  // on the tree's grid (resolution 4 / 2^19)
  tree.interval(s, t, w1, i1);
  tree.interval(t, u, w2, i2);
  tree.interval(s, u, w12, i12);
  CHECK((w12 - (w1 + w2)).cwiseAbs().maxCoeff() < 1e-12);
  // int_s^u (W - W(s)) = int_s^t (W - W(s)) + int_t^u (W - W(t)) + (u - t) (W(t) - W(s)).
  CHECK((i12 - (i1 + i2 + (u - t) * w1)).cwiseAbs().maxCoeff() < 1e-12);
  // Values agree with increments from t0.
  Eigen::MatrixXd vs(3, 50), vu(3, 50);
  tree.value(s, vs);
  tree.value(u, vu);
  CHECK((w12 - (vu - vs)).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("Brownian tree: identical values whatever the query order and batch split", "[brownian_tree]") {
  const sdeflow::brownian_tree tree(0.0, 1.0, 1e-7, 12, 0);
  std::vector<double> times = {0.9, 0.1, 0.5, 0.123456, 0.77, 0.0001, 1.0, 0.333};
  std::vector<Eigen::MatrixXd> first;
  for (double t : times) {
    Eigen::MatrixXd w(2, 30);
    tree.value(t, w);
    first.push_back(w);
  }
  std::vector<std::size_t> order(times.size());
  std::iota(order.begin(), order.end(), 0);
  std::reverse(order.begin(), order.end());
  std::rotate(order.begin(), order.begin() + 3, order.end());
  for (std::size_t k : order) {
    Eigen::MatrixXd w(2, 30);
    tree.value(times[k], w);
    CHECK((w.array() == first[k].array()).all());
  }
  // Samples 10..29 from a tree with offset 10 equal columns 10..29.
  const sdeflow::brownian_tree shifted(0.0, 1.0, 1e-7, 12, 10);
  Eigen::MatrixXd w(2, 20);
  shifted.value(0.77, w);
  CHECK((w.array() == first[4].rightCols(20).array()).all());
  CHECK_THROWS_WITH(tree.value(1.5, w), Catch::Contains("t = 1.5"));
  CHECK_THROWS_WITH(sdeflow::brownian_tree(0.0, 1.0, 0.0, 1), Catch::Contains("tol = 0"));
}

TEST_CASE("Brownian tree: the space-time integral has its exact law", "[brownian_tree][statistical]") {
  // On [s, u] of length L: I10 = L (dW/2 + H), H ~ N(0, L/12) independent of dW.
  const sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 21);
  const Eigen::Index n = 40000;
  Eigen::MatrixXd dW(1, n), I10(1, n);
  const double s = 0.2, u = 0.45, L = u - s;
  tree.interval(s, u, dW, I10);
  const Eigen::ArrayXd H = (I10.row(0).array() / L - dW.row(0).array() / 2).transpose();
  const double N = static_cast<double>(n);
  CHECK_WITHIN_SE(H.square().mean(), L / 12, (L / 12) * std::sqrt(2.0 / N));
  CHECK_WITHIN_SE((H * dW.row(0).transpose().array()).mean(), 0.0, std::sqrt(L / 12 * L / N));
  CHECK_WITHIN_SE(dW.array().square().mean(), L, L * std::sqrt(2.0 / N));
}

TEST_CASE("Brownian tree drives integrate(): SRA1 strong order 1.5 on the tree's path", "[brownian_tree][convergence]") {
  // Every grid of the ladder reads the same tree, so coarse runs see the exact coarsening of the path.
  const auto sys = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(-(x.array() + (3 * x.array()).sin())); },
                                [](double) { return 1.5; });
  const Eigen::Index paths = 1000;
  const sdeflow::brownian_tree tree(0.0, 1.0, 1.0 / 8192, 33);
  REQUIRE(tree.resolution() == Approx(1.0 / 8192));
  auto run = [&](std::size_t N) {
    Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, paths);
    sdeflow::integrate(sdeflow::sra1{}, sys, x, sdeflow::time_grid<>::uniform(0.0, 1.0, N), sdeflow::brownian_tree(tree));
    return x;
  };
  const Eigen::MatrixXd ref = run(4096);
  std::vector<double> h, e, se;
  for (std::size_t N : {16u, 32u, 64u, 128u, 256u}) {
    const Eigen::ArrayXd d = (run(N) - ref).cwiseAbs().row(0).transpose().array();
    h.push_back(1.0 / static_cast<double>(N));
    e.push_back(d.mean());
    se.push_back(std::sqrt((d - d.mean()).square().mean() / static_cast<double>(paths)));
  }
  CHECK_ORDER(sdeflow::fit_order(h, e, se), 1.5);
}

TEST_CASE("Brownian tree: a backwards step sees the reversed path", "[brownian_tree]") {
  // Over [t, t + h]: forward dW = W(t + h) - W(t); the backward step from t + h with -h gives -dW, and
  // its integral relative to W(t + h) is I10_fwd - h dW.
  sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 8);
  Eigen::MatrixXd f(2, 10), b(2, 10), cf(2, 10), cb(2, 10);
  const double t = 0.25, h = 0.125;
  tree.increment_with_area(0, t, h, f, cf);
  tree.increment_with_area(0, t + h, -h, b, cb);
  CHECK((b + f).cwiseAbs().maxCoeff() < 1e-14);
  CHECK((cb * h - (cf * h - h * f)).cwiseAbs().maxCoeff() < 1e-14);
}
