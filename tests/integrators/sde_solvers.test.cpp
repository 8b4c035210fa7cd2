// SPDX-License-Identifier: MIT
// Strong and weak orders of the SDE solvers with the convergence kit, against exact solutions on the
// same Brownian path; tighter tolerances than the peers' own (they allow +-0.2 to +-0.4).
#include "support.hpp"

namespace {

constexpr std::uint64_t seed = 31;

/// GBM with the diffusion derivative supplied (dg/dx = c), for the user-derivative Milstein path.
struct gbm_with_derivative {
  double m, c;
  template <class X>
  void drift(const X& x, double, X& out) const { out = m * x; }
  template <class X>
  void diffusion(const X& x, double, X& out) const { out = c * x; }
  template <class X>
  void diffusion_derivative(const X& x, double, X& out) const { out.setConstant(x.rows(), x.cols(), c); }
};

/// Stratonovich GBM dX = m X dt + c X o dW: exact X_t = X_0 exp(m t + c W_t).
struct stratonovich_gbm {
  static constexpr sdeflow::calculus calculus = sdeflow::calculus::stratonovich;
  double m, c;
  template <class X>
  void drift(const X& x, double, X& out) const { out = m * x; }
  template <class X>
  void diffusion(const X& x, double, X& out) const { out = c * x; }
};

/// W(1) of every trajectory on the fine path.
Eigen::MatrixXd terminal_w(Eigen::Index d, Eigen::Index paths, std::size_t fine) {
  Eigen::MatrixXd W(d, paths);
  sdeflow::brownian_increments(seed, 0, 0, fine).increment(0, 0.0, 1.0, W);
  return W;
}

}  // namespace

TEST_CASE("strong orders: EM 1/2 and Milstein 1 on GBM / stochastic Heun 1 on Stratonovich GBM", "[sde][convergence]") {
  const Eigen::Index paths = 2000;
  const std::size_t fine = 4096;
  const std::vector<std::size_t> ladder = {16, 32, 64, 128, 256};
  const Eigen::MatrixXd x0 = Eigen::MatrixXd::Ones(1, paths);
  const Eigen::MatrixXd W = terminal_w(1, paths, fine);
  const sdeflow::geometric_brownian_motion<> gbm(1.5, 0.8);
  const Eigen::MatrixXd ito_exact = gbm.exact(x0, 1.0, W);

  const auto em = sdeflow::strong_order(sdeflow::euler_maruyama{}, gbm, x0, 0.0, 1.0, ladder, fine, seed, ito_exact);
  INFO("EM slope " << em.slope << " +- " << em.standard_error);
  CHECK(em.slope == Approx(0.5).margin(0.1));

  const auto mil = sdeflow::strong_order(sdeflow::milstein{}, gbm, x0, 0.0, 1.0, ladder, fine, seed, ito_exact);
  INFO("Milstein (derivative-free) slope " << mil.slope << " +- " << mil.standard_error);
  CHECK(mil.slope == Approx(1.0).margin(0.1));
  const auto mil_d = sdeflow::strong_order(sdeflow::milstein{}, gbm_with_derivative{1.5, 0.8}, x0, 0.0, 1.0, ladder, fine,
                                           seed, ito_exact);
  INFO("Milstein (user derivative) slope " << mil_d.slope << " +- " << mil_d.standard_error);
  CHECK(mil_d.slope == Approx(1.0).margin(0.1));

  const Eigen::MatrixXd strat_exact = (x0.array() * (1.5 + 0.8 * W.array()).exp()).matrix();
  const auto heun = sdeflow::strong_order(sdeflow::stochastic_heun{}, stratonovich_gbm{1.5, 0.8}, x0, 0.0, 1.0, ladder,
                                          fine, seed, strat_exact);
  INFO("stochastic Heun slope " << heun.slope << " +- " << heun.standard_error);
  CHECK(heun.slope == Approx(1.0).margin(0.1));
  // Each slope's standard error is small enough for the +-0.1 bands to mean something.
  for (const auto* e : {&em, &mil, &mil_d, &heun}) CHECK(e->standard_error < 0.05);
}

TEST_CASE("SRA1 on an additive-noise linear SDE: order 2 there / Euler-Maruyama order 1", "[sde][convergence]") {
  // dX = -2 X dt + 0.7 dW (OU). Reference: the exact transition over each fine step delta,
  // X' = e^{-2 delta} X + 0.7 (dW - 2 I10 + O(delta^{5/2})), using I10 of the same fine path; its own
  // global error is O(delta^2) = O(6e-8), far below the coarse errors.
  const sdeflow::ornstein_uhlenbeck<> ou(2.0, 0.0, 0.7);
  const Eigen::Index paths = 2000;
  const std::size_t fine = 4096;
  const Eigen::MatrixXd x0 = Eigen::MatrixXd::Constant(1, paths, 1.0);
  Eigen::MatrixXd ref = x0, dW(1, paths), chi(1, paths);
  sdeflow::brownian_increments fine_noise(seed, 0, 0, 1);
  const double delta = 1.0 / fine;
  for (std::size_t j = 0; j < fine; ++j) {
    fine_noise.increment_with_area(j, 0.0, delta, dW, chi);
    const Eigen::MatrixXd I10 = chi * delta;
    ref = std::exp(-2 * delta) * ref + 0.7 * (dW - 2.0 * I10);
  }
  const auto est = sdeflow::strong_order(sdeflow::sra1{}, ou, x0, 0.0, 1.0, {8, 16, 32, 64, 128}, fine, seed, ref);
  INFO("SRA1 slope " << est.slope << " +- " << est.standard_error << " errors " << est.errors.front() << " .. "
                     << est.errors.back());
  // For linear drift SRA1's one-step error is x(e^{-2h} - 1 + 2h - 2h^2) + O(h^{5/2}) noise terms (it matches
  // dW - 2 I10 exactly), so its strong order here is 2, not 1.5: the terms that limit it to 1.5 involve f''.
  CHECK(est.slope == Approx(2.0).margin(0.15));
  // Euler-Maruyama on the same additive problem: strong order 1.
  const auto em = sdeflow::strong_order(sdeflow::euler_maruyama{}, ou, x0, 0.0, 1.0, {8, 16, 32, 64, 128}, fine, seed, ref);
  INFO("EM (additive) slope " << em.slope);
  CHECK(em.slope == Approx(1.0).margin(0.1));
}

TEST_CASE("SRA1 has strong order 1.5 on a nonlinear additive-noise SDE", "[sde][convergence]") {
  // dX = -(X + sin 3X) dt + 1.5 dW: no closed form, so the reference is SRA1 itself on the fine path
  // (4096 steps: its error is 1/64 of the finest ladder level's). With weak noise the O(h^2) drift error
  // hides the asymptotic rate on coarse grids (sigma = 0.7 gives local slopes 1.7 -> 1.53), hence sigma = 1.5.
  const auto sys = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return Eigen::MatrixXd(-(x.array() + (3 * x.array()).sin())); },
                                [](double) { return 1.5; });
  const Eigen::Index paths = 2000;
  const std::size_t fine = 4096;
  const Eigen::MatrixXd x0 = Eigen::MatrixXd::Constant(1, paths, 1.0);
  Eigen::MatrixXd ref = x0;
  sdeflow::integrate(sdeflow::sra1{}, sys, ref, sdeflow::time_grid<>::uniform(0.0, 1.0, fine), sdeflow::brownian_increments(seed));
  const auto est = sdeflow::strong_order(sdeflow::sra1{}, sys, x0, 0.0, 1.0, {16, 32, 64, 128, 256}, fine, seed, ref);
  INFO("SRA1 slope " << est.slope << " +- " << est.standard_error);
  CHECK(est.slope == Approx(1.5).margin(0.15));
}

TEST_CASE("Euler-Maruyama has weak order 1", "[sde][convergence]") {
  // E[X_N] for GBM: with shared paths the difference to the exact solution has small variance.
  const sdeflow::geometric_brownian_motion<> gbm(1.5, 0.8);
  const Eigen::Index paths = 20000;
  const std::size_t fine = 1024;
  const Eigen::MatrixXd x0 = Eigen::MatrixXd::Ones(1, paths);
  const Eigen::MatrixXd exact = gbm.exact(x0, 1.0, terminal_w(1, paths, fine));
  const auto est = sdeflow::weak_order(sdeflow::euler_maruyama{}, gbm, x0, 0.0, 1.0, {4, 8, 16, 32, 64}, fine, seed,
                                       exact, [](const Eigen::MatrixXd& x) { return Eigen::RowVectorXd(x.row(0)); });
  INFO("EM weak slope " << est.slope << " +- " << est.standard_error);
  CHECK(est.slope == Approx(1.0).margin(0.15));
  // The leading weak error of the mean is known: E[X_N] = (1 + m h)^N against e^{m}.
  for (std::size_t i = 0; i < est.errors.size(); ++i) {
    const double h = est.step_sizes[i];
    const double predicted = std::exp(1.5) - std::pow(1 + 1.5 * h, 1.0 / h);
    CHECK_WITHIN_SE(est.errors[i], predicted, est.error_standard_errors[i]);
  }
}

TEST_CASE("noise types: scalar and general noise with Euler-Maruyama", "[sde]") {
  // Scalar noise: dX = c X dW with ONE Wiener process shared by both components: X_i = X_i0 exp(-c^2 t/2 + c W).
  struct scalar_gbm {
    using noise_type = sdeflow::scalar_noise;
    double c;
    void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setZero(x.rows(), x.cols()); }
    void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out = c * x; }
  };
  Eigen::MatrixXd x(2, 500);
  x.row(0).setConstant(1.0);
  x.row(1).setConstant(3.0);
  sdeflow::integrate(sdeflow::milstein{}, scalar_gbm{0.5}, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4096),
                     sdeflow::brownian_increments(5));
  // Both components see the same W: their ratio stays exactly 3 up to rounding.
  CHECK(((x.row(1).array() / x.row(0).array()) - 3.0).abs().maxCoeff() < 1e-10);

  // General noise: d = 2, m = 3, G constant: X_T - X_0 = G W_T, so Cov = G G^T T.
  struct general_const {
    using noise_type = sdeflow::general_noise;
    Eigen::Matrix<double, 2, 3> G;
    std::size_t wiener_dimension() const { return 3; }
    void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setZero(x.rows(), x.cols()); }
    void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const {
      out.resize(6, x.cols());
      for (Eigen::Index j = 0; j < x.cols(); ++j) out.col(j) = G.reshaped();
    }
  };
  general_const sys;
  sys.G << 1.0, 0.5, 0.0, -0.3, 0.2, 1.2;
  const Eigen::Index n = 40000;
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(2, n);
  sdeflow::integrate(sdeflow::euler_maruyama{}, sys, y, sdeflow::time_grid<>::uniform(0.0, 2.0, 8),
                     sdeflow::brownian_increments(6));
  const Eigen::MatrixXd expected = 2.0 * sys.G * sys.G.transpose();
  const Eigen::MatrixXd cov = sdeflow::sample_covariance(y);
  const Eigen::MatrixXd se = sdeflow::covariance_standard_error(y);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) CHECK_WITHIN_SE(cov(i, j), expected(i, j), se(i, j));
}

TEST_CASE("fit_order recovers a known slope and reports its error", "[convergence]") {
  const auto e = sdeflow::fit_order({0.1, 0.05, 0.025}, {0.02, 0.005, 0.00125}, {1e-4, 2.5e-5, 6e-6});
  CHECK(e.slope == Approx(2.0).epsilon(1e-12));
  CHECK(e.standard_error > 0);
  CHECK_THROWS_WITH(sdeflow::fit_order({0.1}, {0.1}, {0.1}), Catch::Contains("levels = 1"));
  CHECK_THROWS_WITH(sdeflow::fit_order({0.1, 0.2}, {0.0, 0.1}, {0.1, 0.1}), Catch::Contains("error = 0"));
}
