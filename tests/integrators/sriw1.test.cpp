// SPDX-License-Identifier: MIT
// SRIW1 (Rossler 2010): strong order 1.5 for diagonal and scalar multiplicative noise, on Brownian
// increments and on the Brownian tree, against exact pathwise solutions; a mutant without the
// space-time integral is rejected.
#include "support.hpp"

namespace {

constexpr std::uint64_t seed = 41;

/// dX = -sin X cos^3 X dt + cos^2 X dW (diagonal, commutative), exact X_t = arctan(tan X_0 + W_t)
/// (Kloeden & Platen 1992, Eq. 4.4.46): Ito's formula on arctan(c + W) gives exactly this drift.
struct arctan_sde {
  void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const {
    out = (-(x.array().sin() * x.array().cos().cube())).matrix();
  }
  void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out = x.array().cos().square().matrix(); }
};

/// The same SDE with one Wiener process shared by all components (scalar noise).
struct shared_arctan : arctan_sde {
  using noise_type = sdeflow::scalar_noise;
};

Eigen::MatrixXd arctan_exact(const Eigen::MatrixXd& x0, const Eigen::MatrixXd& W) {
  return (x0.array().tan() + W.array()).atan().matrix();
}

/// Scalar noise, d = 2: dX = a X dt + c J X dW with J the rotation generator [[0, -1], [1, 0]]; J^2 = -I,
/// so by Ito X_t = e^{(a + c^2/2) t} R(c W_t) X_0 with R(phi) the rotation by phi.
struct rotation_sde {
  using noise_type = sdeflow::scalar_noise;
  double a, c;
  void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out = a * x; }
  void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const {
    out.resize(2, x.cols());
    out.row(0) = -c * x.row(1);
    out.row(1) = c * x.row(0);
  }
};

Eigen::MatrixXd rotation_exact(const rotation_sde& s, const Eigen::MatrixXd& x0, const Eigen::MatrixXd& W, double t) {
  Eigen::MatrixXd out(2, x0.cols());
  const double growth = std::exp((s.a + s.c * s.c / 2) * t);
  for (Eigen::Index j = 0; j < x0.cols(); ++j) {
    const double p = s.c * W(0, j);
    out(0, j) = growth * (std::cos(p) * x0(0, j) - std::sin(p) * x0(1, j));
    out(1, j) = growth * (std::sin(p) * x0(0, j) + std::cos(p) * x0(1, j));
  }
  return out;
}

/// The mutant: SRIW1 fed E[I10 | dW] = h dW / 2 in place of the path's space-time integral (what a
/// source without areas would give); the I10 terms then carry an O(h^{3/2}) error of mean zero per step.
struct sriw1_without_area {
  static constexpr bool stochastic = true;
  static constexpr bool needs_area = true;
  static constexpr int evaluations = 2;
  template <class Noise, sdeflow::calculus C>
  static constexpr bool supports = sdeflow::sriw1::supports<Noise, C>;
  template <class X>
  using workspace = sdeflow::sriw1::workspace<X>;
  template <class Sys, class X, class W>
  void step(const Sys& sys, X& x, double t, double h, const W& dW, const W&, workspace<X>& w) const {
    const W half = dW / 2;
    sdeflow::sriw1{}.step(sys, x, t, h, dW, half, w);
  }
};

Eigen::MatrixXd terminal_w(Eigen::Index m, Eigen::Index paths, std::size_t fine) {
  Eigen::MatrixXd W(m, paths);
  sdeflow::brownian_increments(seed, 0, 0, fine).increment(0, 0.0, 1.0, W);
  return W;
}

constexpr Eigen::Index paths = 2000 / SDEFLOW_TEST_SIZE_DIVISOR;

}  // namespace

TEST_CASE("SRIW1 has strong order 1.5 on a diagonal-noise SDE with an exact solution, Milstein 1", "[sde][convergence][sriw1]") {
  const std::size_t fine = 4096;
  const std::vector<std::size_t> ladder = {16, 32, 64, 128, 256};
  Eigen::MatrixXd x0(2, paths);
  x0.row(0).setConstant(0.3);
  x0.row(1).setConstant(-0.9);
  const Eigen::MatrixXd exact = arctan_exact(x0, terminal_w(2, paths, fine));
  const auto est = sdeflow::strong_order(sdeflow::sriw1{}, arctan_sde{}, x0, 0.0, 1.0, ladder, fine, seed, exact);
  CHECK_ORDER(est, 1.5);
  // The problem separates the orders: Milstein (strong order 1) on the same paths.
  const auto mil = sdeflow::strong_order(sdeflow::milstein{}, arctan_sde{}, x0, 0.0, 1.0, ladder, fine, seed, exact);
  CHECK_ORDER(mil, 1.0);
  // At the finest level SRIW1 is far more accurate than Milstein.
  CHECK(est.errors.back() < mil.errors.back() / 4);
  // The mutant without the space-time integral: order 1, rejected as 1.5.
  const auto bad = sdeflow::strong_order(sriw1_without_area{}, arctan_sde{}, x0, 0.0, 1.0, ladder, fine, seed, exact);
  INFO("mutant slope " << bad.slope << " +- " << bad.standard_error);
  CHECK(std::fabs(bad.slope - 1.5) > sdeflow_test::k_sigma * bad.standard_error);
}

TEST_CASE("SRIW1 has strong order 1.5 with scalar noise driving a 2-d state", "[sde][convergence][sriw1]") {
  const rotation_sde sys{0.5, 0.8};
  const std::size_t fine = 4096;
  const std::vector<std::size_t> ladder = {16, 32, 64, 128, 256};
  Eigen::MatrixXd x0(2, paths);
  x0.row(0).setConstant(1.0);
  x0.row(1).setConstant(0.5);
  const Eigen::MatrixXd exact = rotation_exact(sys, x0, terminal_w(1, paths, fine), 1.0);
  const auto est = sdeflow::strong_order(sdeflow::sriw1{}, sys, x0, 0.0, 1.0, ladder, fine, seed, exact);
  CHECK_ORDER(est, 1.5);
  // Here the drift and diffusion matrices commute, so the order-1.5 terms with I10 and I01 combine into
  // a B x (I10 + I01) = a B x h dW: the space-time integral cancels and the mutant is exact to rounding.
  const auto same = sdeflow::strong_order(sriw1_without_area{}, sys, x0, 0.0, 1.0, ladder, fine, seed, exact);
  for (std::size_t i = 0; i < ladder.size(); ++i) CHECK(same.errors[i] == Approx(est.errors[i]).epsilon(1e-9));

  // A nonlinear scalar-noise system where I10 matters: both components follow the arctan SDE driven by
  // the one shared W, X_i = arctan(tan X_i0 + W).
  Eigen::MatrixXd y0(2, paths);
  y0.row(0).setConstant(0.3);
  y0.row(1).setConstant(-0.9);
  const Eigen::MatrixXd y_exact = arctan_exact(y0, terminal_w(1, paths, fine).replicate(2, 1));
  const auto shared = sdeflow::strong_order(sdeflow::sriw1{}, shared_arctan{}, y0, 0.0, 1.0, ladder, fine, seed, y_exact);
  CHECK_ORDER(shared, 1.5);
  const auto bad = sdeflow::strong_order(sriw1_without_area{}, shared_arctan{}, y0, 0.0, 1.0, ladder, fine, seed, y_exact);
  INFO("mutant slope " << bad.slope << " +- " << bad.standard_error);
  CHECK(std::fabs(bad.slope - 1.5) > sdeflow_test::k_sigma * bad.standard_error);
}

TEST_CASE("SRIW1 on the Brownian tree: strong order 1.5 against the exact solution on the tree's path",
          "[sde][convergence][sriw1][brownian_tree]") {
  const sdeflow::brownian_tree tree(0.0, 1.0, 1.0 / 8192, 43);
  Eigen::MatrixXd x0(2, paths);
  x0.row(0).setConstant(0.3);
  x0.row(1).setConstant(-0.9);
  Eigen::MatrixXd W(2, paths), I10(2, paths);
  tree.interval(0.0, 1.0, W, I10);
  const Eigen::MatrixXd exact = arctan_exact(x0, W);
  std::vector<double> h, e, se;
  for (std::size_t N : {16u, 32u, 64u, 128u, 256u}) {
    Eigen::MatrixXd x = x0;
    sdeflow::integrate(sdeflow::sriw1{}, arctan_sde{}, x, sdeflow::time_grid<>::uniform(0.0, 1.0, N),
                       sdeflow::brownian_tree(tree));
    const Eigen::ArrayXd d = (x - exact).colwise().norm().transpose().array();
    h.push_back(1.0 / static_cast<double>(N));
    e.push_back(d.mean());
    se.push_back(std::sqrt((d - d.mean()).square().sum() / static_cast<double>(paths - 1) / static_cast<double>(paths)));
  }
  CHECK_ORDER(sdeflow::fit_order(h, e, se), 1.5);
}

TEST_CASE("SRIW1 is exact for a diffusion linear in t, in the additive and the diagonal branch", "[sde][sriw1]") {
  // dX = (1 + t) dW: X_1 = X_0 + 2 W(1) - int_0^1 W dt. For g linear in t the weights give
  // sum b1_i g(t + c1_i h) = g(t + h), sum b3_i g(t + c1_i h) = -g' h, sum b2_i g_i = sum b4_i g_i = 0, so
  // each step adds g(t + h) dW - g' I10, the exact integral: any grid reproduces the path's value. A wrong
  // weight or stage time breaks this (with a constant g the b2..b4 weights cancel whatever they are).
  const auto additive = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(Eigen::MatrixXd::Zero(x.rows(), x.cols())); },
                                     [](double t) { return 1 + t; });
  struct diagonal_linear_g {
    void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setZero(x.rows(), x.cols()); }
    void diffusion(const Eigen::MatrixXd& x, double t, Eigen::MatrixXd& out) const { out.setConstant(x.rows(), x.cols(), 1 + t); }
  };
  for (std::size_t N : {1u, 3u, 7u}) {
    Eigen::MatrixXd W(2, 50), chi(2, 50);
    sdeflow::brownian_increments(seed, 0, 0, N).increment_with_area(0, 0.0, 1.0, W, chi);  // the same path, coarsened
    const Eigen::MatrixXd x0 = Eigen::MatrixXd::Constant(2, 50, 0.5);
    const Eigen::MatrixXd exact = x0 + 2 * W - chi;  // I10 over [0, 1] is chi * 1
    Eigen::MatrixXd a = x0, d = x0;
    sdeflow::integrate(sdeflow::sriw1{}, additive, a, sdeflow::time_grid<>::uniform(0.0, 1.0, N), sdeflow::brownian_increments(seed));
    sdeflow::integrate(sdeflow::sriw1{}, diagonal_linear_g{}, d, sdeflow::time_grid<>::uniform(0.0, 1.0, N),
                       sdeflow::brownian_increments(seed));
    INFO("N = " << N);
    CHECK((a - exact).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((d - exact).cwiseAbs().maxCoeff() < 1e-12);
    // Euler-Maruyama (the control) is not exact here: it misses the I10 term.
    Eigen::MatrixXd e = x0;
    sdeflow::integrate(sdeflow::euler_maruyama{}, additive, e, sdeflow::time_grid<>::uniform(0.0, 1.0, N),
                       sdeflow::brownian_increments(seed));
    CHECK((e - exact).cwiseAbs().maxCoeff() > 1e-3);
  }
}

TEST_CASE("SRIW1 with zero diffusion runs a second-order ODE step backwards in time", "[sde][sriw1][brownian_tree]") {
  // With g = 0 SRIW1 is the two-stage Runge-Kutta method (1/3, 2/3; node 3/4), second order: forward
  // then backward on the same grid returns to x0 up to O(h^2). This checks the drift part with h < 0
  // only; the noise terms with h < 0 follow the sra1 convention (|h| in the iterated integrals).
  struct ode_only : arctan_sde {
    void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setZero(x.rows(), x.cols()); }
  };
  const sdeflow::brownian_tree tree(0.0, 1.0, 1.0 / 1024, 44);
  Eigen::MatrixXd x0(2, 3);
  x0 << 0.3, -0.9, 1.2, 0.1, 0.5, -0.4;
  auto roundtrip = [&](std::size_t N) {
    Eigen::MatrixXd x = x0;
    sdeflow::integrate(sdeflow::sriw1{}, ode_only{}, x, sdeflow::time_grid<>::uniform(0.0, 1.0, N), sdeflow::brownian_tree(tree));
    sdeflow::integrate(sdeflow::sriw1{}, ode_only{}, x, sdeflow::time_grid<>::uniform(1.0, 0.0, N), sdeflow::brownian_tree(tree));
    return (x - x0).cwiseAbs().maxCoeff();
  };
  const double e16 = roundtrip(16), e64 = roundtrip(64);
  INFO("round-trip errors " << e16 << " and " << e64);
  // Order 2: a 4x finer grid cuts the error about 16x (at least 10x; order 1 would give 4x).
  CHECK(e64 < e16 / 10);
}
