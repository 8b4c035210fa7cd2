// SPDX-License-Identifier: MIT
// The exact Gaussian-mixture density and score under every affine process, against an independent
// dense computation, finite differences, normalization, and exact sampling.
#include "support.hpp"

#include <Eigen/Cholesky>

#include <numbers>

namespace {

using mixture = sdeflow::gaussian_mixture<>;

/// A 3-D mixture with full, anisotropic covariances and unequal weights.
mixture anisotropic_3d() {
  Eigen::MatrixXd A(3, 3), B(3, 3);
  A << 1.0, 0.3, -0.2, 0.3, 0.5, 0.1, -0.2, 0.1, 0.8;
  B << 0.2, -0.05, 0.0, -0.05, 1.5, 0.4, 0.0, 0.4, 0.6;
  return mixture({0.3, 0.7}, {Eigen::Vector3d(1.0, -1.0, 0.5), Eigen::Vector3d(-2.0, 0.5, 1.0)}, {A, B});
}

/// log p from the definition with a Cholesky factorization of s^2 S + sigma^2 I.
double dense_log_density(const mixture& m, const Eigen::VectorXd& x, double s, double sigma) {
  const auto d = static_cast<double>(m.dimension());
  double total = 0.0;
  for (std::size_t k = 0; k < m.components(); ++k) {
    const Eigen::MatrixXd C =
        s * s * m.covariance(k) + sigma * sigma * Eigen::MatrixXd::Identity(m.dimension(), m.dimension());
    const Eigen::LLT<Eigen::MatrixXd> llt(C);
    const Eigen::VectorXd r = x - s * m.mean(k);
    const double logdet = 2 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
    const double q = r.dot(llt.solve(r));
    total += m.weight(k) * std::exp(-0.5 * (d * std::log(2 * std::numbers::pi) + logdet + q));
  }
  return std::log(total);
}

template <class P>
void check_score_against_log_density(const P& p) {
  const auto score = sdeflow::exact_score(anisotropic_3d(), p);
  const Eigen::MatrixXd x = 2.0 * score.sample(12, 0.0, sdeflow::normal_source(4));  // spread-out points
  for (double t : {0.05, 0.3, 0.7, 1.0}) {
    const double tt = t * p.horizon();
    const Eigen::MatrixXd s = score(x, tt);
    const Eigen::RowVectorXd lp = score.log_density(x, tt);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      INFO("t = " << tt << " column " << j);
      CHECK(lp(j) == Approx(dense_log_density(score.mixture(), x.col(j), p.mean_scale(tt), p.marginal_std(tt)))
                         .epsilon(1e-11));
      for (Eigen::Index i = 0; i < 3; ++i) {
        const double e = 1e-5;
        Eigen::MatrixXd xp = x.col(j), xm = x.col(j);
        xp(i) += e;
        xm(i) -= e;
        const double fd = (score.log_density(xp, tt)(0) - score.log_density(xm, tt)(0)) / (2 * e);
        CHECK(s(i, j) == Approx(fd).epsilon(1e-6).margin(1e-7));
      }
    }
  }
}

}  // namespace

TEST_CASE("mixture score equals the finite-difference gradient of its exact log-density", "[gmm]") {
  SECTION("VP linear") { check_score_against_log_density(sdeflow::vp_process<>{}); }
  SECTION("VP cosine") { check_score_against_log_density(sdeflow::vp_process{sdeflow::cosine_beta<>{}}); }
  SECTION("sub-VP") { check_score_against_log_density(sdeflow::sub_vp_process<>{}); }
  SECTION("VE") { check_score_against_log_density(sdeflow::ve_process<>(0.01, 10.0)); }
  SECTION("Brownian") { check_score_against_log_density(sdeflow::brownian_motion<>(2.0)); }
}

TEST_CASE("log-density of a 1-D mixture integrates to 1 and matches at t = 0", "[gmm]") {
  const mixture m({0.2, 0.5, 0.3}, {Eigen::VectorXd::Constant(1, -3.0), Eigen::VectorXd::Constant(1, 0.0),
                                    Eigen::VectorXd::Constant(1, 4.0)},
                  {Eigen::MatrixXd::Constant(1, 1, 0.25), Eigen::MatrixXd::Constant(1, 1, 1.0),
                   Eigen::MatrixXd::Constant(1, 1, 0.09)});
  for (auto [s, sigma] : {std::pair{1.0, 0.0}, std::pair{0.6, 0.8}, std::pair{0.0, 2.0}}) {
    const Eigen::RowVectorXd grid = Eigen::RowVectorXd::LinSpaced(40001, -20.0, 20.0);
    const Eigen::RowVectorXd p = m.log_density(grid, s, sigma).array().exp();
    const double h = grid(1) - grid(0);
    const double integral = h * (p.sum() - 0.5 * (p(0) + p(p.size() - 1)));
    CHECK(integral == Approx(1.0).epsilon(1e-9));
  }
  // At t = 0 (s = 1, sigma = 0) the density is the data density itself.
  const double x = 0.7;
  const double by_hand = 0.2 * std::exp(-0.5 * (x + 3) * (x + 3) / 0.25) / std::sqrt(2 * std::numbers::pi * 0.25) +
                         0.5 * std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi) +
                         0.3 * std::exp(-0.5 * (x - 4) * (x - 4) / 0.09) / std::sqrt(2 * std::numbers::pi * 0.09);
  CHECK(m.log_density(Eigen::RowVectorXd::Constant(1, x), 1.0, 0.0)(0) == Approx(std::log(by_hand)).epsilon(1e-13));
}

TEST_CASE("a single Gaussian has score -C^{-1} (x - s mu)", "[gmm]") {
  Eigen::Matrix2d S;
  S << 2.0, 0.6, 0.6, 0.5;
  const auto g = mixture::gaussian(Eigen::Vector2d(1.0, -1.0), S);
  const double s = 0.8, sigma = 0.6;
  const Eigen::Matrix2d C = s * s * S + sigma * sigma * Eigen::Matrix2d::Identity();
  Eigen::MatrixXd x(2, 3);
  x << 0.0, 1.0, -4.0, 2.0, -1.0, 0.3;
  const Eigen::MatrixXd expected = -C.inverse() * (x.colwise() - s * Eigen::Vector2d(1.0, -1.0));
  CHECK((g.score(x, s, sigma) - expected).cwiseAbs().maxCoeff() < 1e-12);
}

TEST_CASE("exact mixture draws have the exact moments and mode weights", "[gmm][statistical]") {
  const auto m = anisotropic_3d();
  const double s = 0.7, sigma = 0.5;
  const Eigen::Index n = 100000;
  const Eigen::MatrixXd x = m.sample(n, s, sigma, sdeflow::normal_source(31));
  const Eigen::VectorXd mean = sdeflow::sample_mean(x);
  const Eigen::MatrixXd cov = sdeflow::sample_covariance(x);
  const Eigen::MatrixXd se = sdeflow::covariance_standard_error(x);
  const Eigen::VectorXd exact_mean = m.mean(s, sigma);
  const Eigen::MatrixXd exact_cov = m.covariance(s, sigma);
  for (Eigen::Index i = 0; i < 3; ++i) {
    CHECK_WITHIN_SE(mean(i), exact_mean(i), std::sqrt(exact_cov(i, i) / static_cast<double>(n)));
    for (Eigen::Index j = 0; j < 3; ++j) CHECK_WITHIN_SE(cov(i, j), exact_cov(i, j), se(i, j));
  }
  // Well-separated ring: nearly every draw is classified into the mode it came from.
  const auto ring = mixture::ring(8, 4.0, 0.3);
  const Eigen::MatrixXd r = ring.sample(n, 1.0, 0.0, sdeflow::normal_source(32));
  const auto f = sdeflow::mode_fractions(ring.classify(r, 1.0, 0.0), 8);
  for (double fk : f) CHECK_WITHIN_SE(fk, 0.125, std::sqrt(0.125 * 0.875 / static_cast<double>(n)));
}

TEST_CASE("random_anisotropic mixtures are reproducible with the stated shape", "[gmm]") {
  const auto a = sdeflow::gaussian_mixture<>::random_anisotropic({0.25, 0.75}, 5, 3.0, 7);
  const auto b = sdeflow::gaussian_mixture<>::random_anisotropic({0.25, 0.75}, 5, 3.0, 7);
  REQUIRE(a.dimension() == 5);
  for (std::size_t k = 0; k < 2; ++k) {
    CHECK(a.mean(k).norm() == Approx(3.0).epsilon(1e-14));
    CHECK((a.covariance(k) - b.covariance(k)).cwiseAbs().maxCoeff() == 0.0);
    // A A^T / d is positive semi-definite, so every eigenvalue is at least the floor 0.05.
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a.covariance(k));
    CHECK(eig.eigenvalues().minCoeff() >= 0.05 - 1e-12);
  }
  CHECK((a.mean(0) - a.mean(1)).norm() > 0);
  CHECK_THROWS_WITH(sdeflow::gaussian_mixture<>::random_anisotropic({1.0}, 0, 1.0, 1), Catch::Contains("d = 0"));
}
