// SPDX-License-Identifier: MIT
#pragma once
/// \file gaussian_mixture.hpp
/// Gaussian-mixture data p_0 = sum_k pi_k N(mu_k, S_k) (full covariances), the ground truth for
/// every sampler and likelihood test. Under any affine process x_t = s x_0 + sigma eps the marginal
/// stays a mixture, exactly:
///   p_t = sum_k pi_k N(s mu_k, C_k),  C_k = s^2 S_k + sigma^2 I,
///   grad log p_t(x) = sum_k r_k(x) [-C_k^{-1} (x - s mu_k)],  r_k = posterior responsibilities,
/// computed with log-sum-exp. Each S_k is eigendecomposed once (S_k = U diag(l) U^T), so C_k at
/// any (s, sigma) is U diag(s^2 l + sigma^2) U^T with no refactorization.
///
/// - gaussian_mixture:       the data distribution; density, score, moments and exact sampling at any (s, sigma).
/// - mixture_score<P>:       binds a mixture to a NoiseSchedule: score(x, t), log_density(x, t), denoise(x, t), sample(...).
/// - exact_score(mix, p):    makes a mixture_score.
///
/// \code
///   auto mix = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);    // 8 modes on a circle of radius 4
///   sdeflow::vp_process vp;
///   auto score = sdeflow::exact_score(mix, vp);                    // a ScoreFunction
///   Eigen::MatrixXd s = score(x, 0.5);                              // d x n
/// \endcode
///
/// Products with a batch use Eigen's coefficient-based lazyProduct: each column is computed from that
/// column alone with the same operations whatever the batch width (Eigen's GEMM picks its kernel by
/// size), so a sampler run in tiles on any number of threads gives the whole-batch bits.

#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/noise/random.hpp>

#include <Eigen/Eigenvalues>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

namespace sdeflow {

template <std::floating_point Scalar = double>
class gaussian_mixture {
 public:
  using scalar_type = Scalar;
  using vector_type = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  using matrix_type = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using row_type = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

  /// Weights must be positive and sum to 1 (to 1e-9; they are then renormalized), means share one
  /// dimension d, covariances are symmetric positive definite d x d. Throws invalid_argument or
  /// dimension_mismatch naming the offending component.
  gaussian_mixture(std::vector<Scalar> weights, std::vector<vector_type> means, std::vector<matrix_type> covariances)
      : weights_(std::move(weights)), means_(std::move(means)), covs_(std::move(covariances)) {
    const char* where = "gaussian_mixture";
    detail::require(!weights_.empty(), where, "weights.size()", weights_.size(), "must be at least 1");
    if (means_.size() != weights_.size() || covs_.size() != weights_.size()) {
      throw dimension_mismatch(detail::message(where, ": weights, means and covariances have ", weights_.size(), ", ",
                                               means_.size(), " and ", covs_.size(), " entries; they must agree"));
    }
    Scalar total = 0;
    for (std::size_t k = 0; k < weights_.size(); ++k) {
      if (!(std::isfinite(weights_[k]) && weights_[k] > 0)) {
        throw invalid_argument(detail::message(where, ": weights[", k, "] = ", weights_[k], " must be finite and > 0"));
      }
      total += weights_[k];
    }
    detail::require(std::fabs(total - 1) <= Scalar(1e-6), where, "sum of weights", total, "must be 1");
    const Eigen::Index d = means_[0].size();
    detail::require(d >= 1, where, "means[0].size()", d, "must be at least 1");
    for (std::size_t k = 0; k < weights_.size(); ++k) {
      weights_[k] /= total;
      if (means_[k].size() != d) {
        throw dimension_mismatch(detail::message(where, ": means[", k, "] has size ", means_[k].size(),
                                                 " but means[0] has size ", d));
      }
      if (!means_[k].allFinite()) {
        throw invalid_argument(detail::message(where, ": means[", k, "] has a non-finite entry"));
      }
      if (covs_[k].rows() != d || covs_[k].cols() != d) {
        throw dimension_mismatch(detail::message(where, ": covariances[", k, "] is ", covs_[k].rows(), " x ",
                                                 covs_[k].cols(), " but the dimension is ", d));
      }
      if (!covs_[k].allFinite()) {
        throw invalid_argument(detail::message(where, ": covariances[", k, "] has a non-finite entry"));
      }
      const Scalar asym = (covs_[k] - covs_[k].transpose()).cwiseAbs().maxCoeff();
      if (asym > Scalar(1e-9) * (Scalar(1) + covs_[k].cwiseAbs().maxCoeff())) {
        throw invalid_argument(detail::message(where, ": covariances[", k, "] is not symmetric (max |S - S^T| = ",
                                               asym, ")"));
      }
      Eigen::SelfAdjointEigenSolver<matrix_type> eig(covs_[k]);
      if (!(eig.eigenvalues().minCoeff() > 0)) {
        throw invalid_argument(detail::message(where, ": covariances[", k, "] has smallest eigenvalue ",
                                               eig.eigenvalues().minCoeff(), "; it must be positive definite"));
      }
      eigvecs_.push_back(eig.eigenvectors());
      eigvals_.push_back(eig.eigenvalues());
    }
  }

  /// One Gaussian N(mean, cov).
  [[nodiscard]] static gaussian_mixture gaussian(vector_type mean, matrix_type cov) {
    return gaussian_mixture({Scalar(1)}, {std::move(mean)}, {std::move(cov)});
  }

  /// `modes` equal-weight isotropic 2-D components N(r (cos a_k, sin a_k), std^2 I), a_k = 2 pi k / modes.
  [[nodiscard]] static gaussian_mixture ring(int modes, Scalar radius, Scalar std) {
    detail::require(modes >= 1, "gaussian_mixture::ring", "modes", modes, "must be at least 1");
    detail::require(std::isfinite(radius) && radius >= 0, "gaussian_mixture::ring", "radius", radius,
                    "must be finite and >= 0");
    detail::require(std::isfinite(std) && std > 0, "gaussian_mixture::ring", "std", std, "must be finite and > 0");
    std::vector<Scalar> w(static_cast<std::size_t>(modes), Scalar(1) / static_cast<Scalar>(modes));
    std::vector<vector_type> mu;
    std::vector<matrix_type> cov;
    for (int k = 0; k < modes; ++k) {
      const Scalar a = 2 * std::numbers::pi_v<Scalar> * static_cast<Scalar>(k) / static_cast<Scalar>(modes);
      vector_type m(2);
      m << radius * std::cos(a), radius * std::sin(a);
      mu.push_back(m);
      cov.push_back(matrix_type::Identity(2, 2) * (std * std));
    }
    return gaussian_mixture(std::move(w), std::move(mu), std::move(cov));
  }

  /// A reproducible anisotropic mixture for tests and benchmarks: component k has weight weights[k], a mean
  /// of norm `mean_norm` in a random direction, and covariance A A^T / d + floor I with A a d x d standard
  /// normal matrix (eigenvalues spread over roughly floor .. 4). Directions and A come from
  /// normal_source(seed) at counters 10 + k and 20 + k.
  [[nodiscard]] static gaussian_mixture random_anisotropic(std::vector<Scalar> weights, Eigen::Index d, Scalar mean_norm,
                                                           std::uint64_t seed, Scalar floor = Scalar(0.05)) {
    detail::require(d >= 1, "gaussian_mixture::random_anisotropic", "d", d, "must be at least 1");
    detail::require(std::isfinite(floor) && floor > 0, "gaussian_mixture::random_anisotropic", "floor", floor,
                    "must be finite and > 0");
    const normal_source src(seed);
    std::vector<vector_type> mu;
    std::vector<matrix_type> cov;
    for (std::size_t k = 0; k < weights.size(); ++k) {
      vector_type v(d);
      src.fill(v, 10 + k, 0);
      mu.push_back(mean_norm * v / v.norm());
      matrix_type A(d, d);
      src.fill(A, 20 + k, 0);
      cov.push_back(A * A.transpose() / static_cast<Scalar>(d) + floor * matrix_type::Identity(d, d));
    }
    return gaussian_mixture(std::move(weights), std::move(mu), std::move(cov));
  }

  [[nodiscard]] Eigen::Index dimension() const noexcept { return means_[0].size(); }
  [[nodiscard]] std::size_t components() const noexcept { return weights_.size(); }
  [[nodiscard]] Scalar weight(std::size_t k) const { return weights_.at(k); }
  [[nodiscard]] const vector_type& mean(std::size_t k) const { return means_.at(k); }
  [[nodiscard]] const matrix_type& covariance(std::size_t k) const { return covs_.at(k); }

  /// Per-component log of pi_k N(x_j; s mu_k, C_k): a K x n matrix (row k, column j).
  template <class Derived>
  [[nodiscard]] matrix_type component_log_densities(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    check(x, s, sigma, "gaussian_mixture::component_log_densities");
    const auto K = static_cast<Eigen::Index>(components());
    matrix_type out(K, x.cols());
    for (Eigen::Index k = 0; k < K; ++k) {
      const auto uk = static_cast<std::size_t>(k);
      const vector_type c = kernel_eigenvalues(uk, s, sigma);
      const matrix_type y = eigvecs_[uk].transpose().lazyProduct((x.derived().template cast<Scalar>()).colwise() - s * means_[uk]);
      const Scalar log_norm = std::log(weights_[uk]) - Scalar(0.5) * (static_cast<Scalar>(dimension()) *
                                                                          std::log(2 * std::numbers::pi_v<Scalar>) +
                                                                      c.array().log().sum());
      out.row(k) = (y.array().square().colwise() / c.array()).colwise().sum().matrix() * Scalar(-0.5);
      out.row(k).array() += log_norm;
    }
    return out;
  }

  /// log p_t(x_j) for each column: a 1 x n row.
  template <class Derived>
  [[nodiscard]] row_type log_density(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    const matrix_type lc = component_log_densities(x, s, sigma);
    const row_type mx = lc.colwise().maxCoeff();
    return mx + ((lc.rowwise() - mx).array().exp().colwise().sum().log()).matrix();
  }

  /// grad_x log p_t(x) for each column: d x n.
  template <class Derived>
  [[nodiscard]] matrix_type score(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    const matrix_type r = responsibilities(x, s, sigma);
    matrix_type out = matrix_type::Zero(dimension(), x.cols());
    for (std::size_t k = 0; k < components(); ++k) {
      out.noalias() += component_score(k, x, s, sigma) * r.row(static_cast<Eigen::Index>(k)).asDiagonal();
    }
    return out;
  }

  /// The score's Jacobian applied to v, column by column: J(x_j) v_j with
  ///   J = sum_k r_k (s_k s_k^T - C_k^{-1}) - score score^T,   s_k = -C_k^{-1} (x - s mu_k),
  /// C_k = s^2 Sigma_k + sigma^2 I and r_k the responsibilities (differentiate score = sum_k r_k s_k,
  /// using grad r_k = r_k (s_k - score)).
  template <class DX, class DV>
  [[nodiscard]] matrix_type score_jvp(const Eigen::MatrixBase<DX>& x, Scalar s, Scalar sigma,
                                      const Eigen::MatrixBase<DV>& v) const {
    if (v.rows() != x.rows() || v.cols() != x.cols()) {
      throw dimension_mismatch(detail::message("gaussian_mixture::score_jvp: v is ", v.rows(), " x ", v.cols(),
                                               " but x is ", x.rows(), " x ", x.cols()));
    }
    const matrix_type r = responsibilities(x, s, sigma);
    const matrix_type vs = v.derived().template cast<Scalar>();
    matrix_type total = matrix_type::Zero(dimension(), x.cols());
    matrix_type out = matrix_type::Zero(dimension(), x.cols());
    for (std::size_t k = 0; k < components(); ++k) {
      const auto rk = r.row(static_cast<Eigen::Index>(k)).asDiagonal();
      const vector_type c = kernel_eigenvalues(k, s, sigma);
      const matrix_type sk = component_score(k, x, s, sigma);
      matrix_type prec_v = eigvecs_[k].transpose().lazyProduct(vs);
      prec_v.array().colwise() /= c.array();
      out.noalias() += (sk * (sk.cwiseProduct(vs).colwise().sum().asDiagonal()) - eigvecs_[k].lazyProduct(prec_v)) * rk;
      total.noalias() += sk * rk;
    }
    out.noalias() -= total * total.cwiseProduct(vs).colwise().sum().asDiagonal();
    return out;
  }

  /// The trace of the score's Jacobian (the Laplacian of log p_t) per column:
  ///   sum_k r_k (|s_k|^2 - tr C_k^{-1}) - |score|^2.
  template <class Derived>
  [[nodiscard]] row_type score_divergence(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    const matrix_type r = responsibilities(x, s, sigma);
    matrix_type total = matrix_type::Zero(dimension(), x.cols());
    row_type out = row_type::Zero(x.cols());
    for (std::size_t k = 0; k < components(); ++k) {
      const auto rk = r.row(static_cast<Eigen::Index>(k));
      const matrix_type sk = component_score(k, x, s, sigma);
      const Scalar trace_prec = kernel_eigenvalues(k, s, sigma).cwiseInverse().sum();
      out.array() += rk.array() * (sk.colwise().squaredNorm().array() - trace_prec);
      total.noalias() += sk * rk.asDiagonal();
    }
    out -= total.colwise().squaredNorm();
    return out;
  }

  /// The exact denoiser E[x_0 | x_t = x] for each column (the optimal data-prediction model):
  ///   sum_k r_k(x) [mu_k + s S_k C_k^{-1} (x - s mu_k)],
  /// well defined at s = 0 (where it is the data mean) and at sigma = 0 (where it is x / s).
  template <class Derived>
  [[nodiscard]] matrix_type denoise(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    const matrix_type r = responsibilities(x, s, sigma);
    matrix_type out = matrix_type::Zero(dimension(), x.cols());
    for (std::size_t k = 0; k < components(); ++k) {
      const vector_type c = kernel_eigenvalues(k, s, sigma);
      matrix_type y = eigvecs_[k].transpose().lazyProduct((x.derived().template cast<Scalar>()).colwise() - s * means_[k]);
      y.array().colwise() *= (s * eigvals_[k].array() / c.array());
      matrix_type comp = eigvecs_[k].lazyProduct(y);
      comp.colwise() += means_[k];
      comp.array().rowwise() *= r.row(static_cast<Eigen::Index>(k)).array();
      out += comp;
    }
    return out;
  }

  /// Exact mean of p_t: s sum_k pi_k mu_k.
  [[nodiscard]] vector_type mean(Scalar s, Scalar /*sigma*/) const {
    vector_type m = vector_type::Zero(dimension());
    for (std::size_t k = 0; k < components(); ++k) m += weights_[k] * means_[k];
    return s * m;
  }

  /// Exact covariance of p_t: sum_k pi_k (C_k + s^2 mu_k mu_k^T) - m m^T.
  [[nodiscard]] matrix_type covariance(Scalar s, Scalar sigma) const {
    const vector_type m = mean(s, sigma);
    matrix_type c = matrix_type::Identity(dimension(), dimension()) * (sigma * sigma) - m * m.transpose();
    for (std::size_t k = 0; k < components(); ++k) {
      c += weights_[k] * (s * s) * (covs_[k] + means_[k] * means_[k].transpose());
    }
    return c;
  }

  /// n exact draws from p_t (d x n): component from one uniform, then s mu_k + U sqrt(c) z.
  /// Column j is sample `offset + j` of `noise` (a uniform at counter 0 picks the component, normals at
  /// counter 1 place it).
  [[nodiscard]] matrix_type sample(Eigen::Index n, Scalar s, Scalar sigma, const normal_source& noise,
                                   std::uint64_t offset = 0) const {
    check_times(s, sigma, "gaussian_mixture::sample");
    detail::require(n >= 0, "gaussian_mixture::sample", "n", n, "must be >= 0");
    (void)detail::sample_end(offset, static_cast<std::uint64_t>(n), "gaussian_mixture::sample", "offset + n");
    matrix_type z(dimension(), n);
    noise.fill(z, 1, offset);
    matrix_type out(dimension(), n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const auto p = static_cast<Scalar>(
          noise.uniform(0, static_cast<std::uint32_t>(offset + static_cast<std::uint64_t>(j))));
      std::size_t k = 0;
      Scalar acc = weights_[0];
      while (p > acc && k + 1 < components()) acc += weights_[++k];
      const vector_type c = kernel_eigenvalues(k, s, sigma);
      out.col(j) = s * means_[k] + eigvecs_[k] * (c.array().sqrt() * z.col(j).array()).matrix();
    }
    return out;
  }

  /// Index of the component with the largest responsibility under p_t, per column.
  template <class Derived>
  [[nodiscard]] std::vector<std::size_t> classify(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    const matrix_type lc = component_log_densities(x, s, sigma);
    std::vector<std::size_t> out(static_cast<std::size_t>(x.cols()));
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      Eigen::Index best = 0;
      lc.col(j).maxCoeff(&best);
      out[static_cast<std::size_t>(j)] = static_cast<std::size_t>(best);
    }
    return out;
  }

 private:
  /// Posterior component probabilities r_kj under p_t (K x n; each column sums to 1).
  template <class Derived>
  [[nodiscard]] matrix_type responsibilities(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma) const {
    matrix_type r = component_log_densities(x, s, sigma);
    const row_type mx = r.colwise().maxCoeff();
    r = (r.rowwise() - mx).array().exp().matrix();
    const row_type total = r.colwise().sum();
    r.array().rowwise() /= total.array();
    return r;
  }
  /// Component k's score -C_k^{-1} (x - s mu_k), d x n.
  template <class Derived>
  [[nodiscard]] matrix_type component_score(std::size_t k, const Eigen::MatrixBase<Derived>& x, Scalar s,
                                            Scalar sigma) const {
    const vector_type c = kernel_eigenvalues(k, s, sigma);
    matrix_type y = eigvecs_[k].transpose().lazyProduct((x.derived().template cast<Scalar>()).colwise() - s * means_[k]);
    y.array().colwise() /= c.array();
    return -(eigvecs_[k].lazyProduct(y));
  }
  [[nodiscard]] vector_type kernel_eigenvalues(std::size_t k, Scalar s, Scalar sigma) const {
    return (eigvals_[k].array() * (s * s) + sigma * sigma).matrix();
  }
  static void check_times(Scalar s, Scalar sigma, const char* where) {
    detail::require(std::isfinite(s) && s >= 0, where, "mean scale s", s, "must be finite and >= 0");
    detail::require(std::isfinite(sigma) && sigma >= 0, where, "sigma", sigma, "must be finite and >= 0");
    detail::require(s > 0 || sigma > 0, where, "sigma", sigma, "must be > 0 when s = 0");
  }
  template <class Derived>
  void check(const Eigen::MatrixBase<Derived>& x, Scalar s, Scalar sigma, const char* where) const {
    check_times(s, sigma, where);
    if (x.rows() != dimension()) {
      throw dimension_mismatch(detail::message(where, ": x has ", x.rows(), " rows but the mixture has dimension ",
                                               dimension()));
    }
  }

  std::vector<Scalar> weights_;
  std::vector<vector_type> means_;
  std::vector<matrix_type> covs_;
  std::vector<matrix_type> eigvecs_;
  std::vector<vector_type> eigvals_;
};

/// A gaussian_mixture seen through an AffineProcess: the exact score and density of p_t at every t.
template <NoiseSchedule P>
class mixture_score {
 public:
  using scalar_type = typename P::scalar_type;
  using mixture_type = gaussian_mixture<scalar_type>;
  using matrix_type = typename mixture_type::matrix_type;

  mixture_score(mixture_type mixture, P process) : mix_(std::move(mixture)), p_(std::move(process)) {}

  /// grad_x log p_t(x), d x n. Throws dimension_mismatch when x.rows() != dimension().
  template <class Derived>
  [[nodiscard]] matrix_type operator()(const Eigen::MatrixBase<Derived>& x, scalar_type t) const {
    return mix_.score(x, p_.mean_scale(t), p_.marginal_std(t));
  }
  /// J(x) v per column, J the score's Jacobian (exact; see gaussian_mixture::score_jvp).
  template <class DX, class DV>
  [[nodiscard]] matrix_type jvp(const Eigen::MatrixBase<DX>& x, scalar_type t, const Eigen::MatrixBase<DV>& v) const {
    return mix_.score_jvp(x, p_.mean_scale(t), p_.marginal_std(t), v);
  }
  /// The score's divergence (Laplacian of log p_t) per column, exact.
  template <class Derived>
  [[nodiscard]] typename mixture_type::row_type divergence(const Eigen::MatrixBase<Derived>& x, scalar_type t) const {
    return mix_.score_divergence(x, p_.mean_scale(t), p_.marginal_std(t));
  }
  /// log p_t(x) per column.
  template <class Derived>
  [[nodiscard]] typename mixture_type::row_type log_density(const Eigen::MatrixBase<Derived>& x, scalar_type t) const {
    return mix_.log_density(x, p_.mean_scale(t), p_.marginal_std(t));
  }
  /// The exact denoiser E[x_0 | x_t] (a data-prediction model, valid at every t).
  template <class Derived>
  [[nodiscard]] matrix_type denoise(const Eigen::MatrixBase<Derived>& x, scalar_type t) const {
    return mix_.denoise(x, p_.mean_scale(t), p_.marginal_std(t));
  }
  /// n exact draws from p_t.
  [[nodiscard]] matrix_type sample(Eigen::Index n, scalar_type t, const normal_source& noise,
                                   std::uint64_t offset = 0) const {
    return mix_.sample(n, p_.mean_scale(t), p_.marginal_std(t), noise, offset);
  }
  [[nodiscard]] Eigen::Index dimension() const noexcept { return mix_.dimension(); }
  [[nodiscard]] const mixture_type& mixture() const noexcept { return mix_; }
  [[nodiscard]] const P& process() const noexcept { return p_; }

 private:
  mixture_type mix_;
  P p_;
};

/// The exact score of `mixture` under `process`.
template <NoiseSchedule P>
[[nodiscard]] mixture_score<P> exact_score(gaussian_mixture<typename P::scalar_type> mixture, P process) {
  return mixture_score<P>(std::move(mixture), std::move(process));
}

}  // namespace sdeflow
