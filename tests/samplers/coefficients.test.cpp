// SPDX-License-Identifier: MIT
// One-step coefficients of the stochastic samplers, pinned against the papers' formulas. With the EDM
// process (s = 1, sigma(t) = t) and a model whose data prediction is a constant c, one step from a fixed
// x is Gaussian: x' = c + A (x - c) + B z. Each sampler's A and B are written out below from the
// published update (not from the library's code), and the sample mean and variance of x' over many
// copies of the same x are compared with them (5 standard errors). At 400 steps every eta has the same
// marginals, so only a test like this catches a wrong sigma_up (the mutant at the end).
#include "support.hpp"

#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>

namespace {

using X = Eigen::MatrixXd;

struct constant_denoiser {
  Eigen::Vector2d c;
  X operator()(const X& x, double) const { return c.replicate(1, x.cols()); }
};

const Eigen::Vector2d c_data(0.3, -0.4);
const Eigen::Vector2d x_start(0.7, -1.2);

auto edm_model() {
  return sdeflow::model(sdeflow::edm_process<>(80.0), constant_denoiser{c_data}, sdeflow::prediction::data);
}

/// Does x' = want_mean + B z hold in law over the columns of y (per row: mean and variance)?
bool matches_law(const X& y, const Eigen::Vector2d& want_means, double B, std::string& why) {
  const auto n = static_cast<double>(y.cols());
  bool ok = true;
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    const double mean = y.row(i).mean();
    const double var = (y.row(i).array() - mean).square().sum() / (n - 1);
    const double want_mean = want_means(i);
    const double want_var = B * B;
    const bool m_ok = std::fabs(mean - want_mean) <= sdeflow_test::k_sigma * std::max(B, 1e-300) / std::sqrt(n) ||
                      (B == 0 && std::fabs(mean - want_mean) < 1e-12);
    const bool v_ok = std::fabs(var - want_var) <= sdeflow_test::k_sigma * want_var * std::sqrt(2 / (n - 1)) + 1e-24;
    if (!m_ok || !v_ok) {
      why += "row " + std::to_string(i) + ": mean " + std::to_string(mean) + " want " + std::to_string(want_mean) +
             ", var " + std::to_string(var) + " want " + std::to_string(want_var) + "; ";
      ok = false;
    }
  }
  return ok;
}

/// Does x' = c + A (x - c) + B z hold in law over the columns of y?
bool matches(const X& y, double A, double B, std::string& why) {
  return matches_law(y, c_data + A * (x_start - c_data), B, why);
}

template <class Smp>
X one_step(const Smp& smp, double sigma, double sigma_next, std::uint64_t seed = 11) {
  const Eigen::Index n = sdeflow_test::scaled<Eigen::Index>(40000, 4000);
  const X x = x_start.replicate(1, n);
  return sdeflow::sample(smp, edm_model(), x, sdeflow::time_grid<>::from_points({sigma, sigma_next}), {.seed = seed})
      .samples;
}

/// k-diffusion's get_ancestral_step (Karras et al. 2022 / Ho et al. 2020 in sigma form).
struct ancestral {
  double up, down;
  ancestral(double s, double sn, double eta) {
    up = std::min(sn, eta * std::sqrt(sn * sn * (s * s - sn * sn) / (s * s)));
    down = std::sqrt(sn * sn - up * up);
  }
};

/// The mutant of the issue: sigma_up scaled by 1.1, sigma_down recomputed from it.
struct euler_ancestral_up_1_1 : sdeflow::samplers::euler_ancestral {
  template <class M, class Y, class W>
  void step(const M& m, Y& x, const sdeflow::step_context<double>& c, W& ws, sdeflow::step_noise<Y>& noise) const {
    m.predict(x, c.t, ws.x0, ws.eps);
    const double s = c.t, sn = c.t_next;  // EDM: sigma = t, s = 1
    const double up = 1.1 * ancestral(s, sn, eta).up;
    const double down = std::sqrt(std::max(0.0, sn * sn - up * up));
    x = ws.x0 + (down / s) * (x - ws.x0);
    noise.normal(0, ws.z);
    x += up * ws.z;
  }
};

}  // namespace

TEST_CASE("one-step coefficients: Euler ancestral, sigma_up and sigma_down for eta = 1, 0.5, 0", "[samplers][coefficients]") {
  for (const double eta : {1.0, 0.5, 0.0}) {
    for (const auto& [s, sn] : {std::pair{2.0, 1.0}, std::pair{10.0, 9.0}, std::pair{0.5, 0.05}}) {
      INFO("eta " << eta << " sigma " << s << " -> " << sn);
      const ancestral a(s, sn, eta);
      std::string why;
      sdeflow::samplers::euler_ancestral smp;
      smp.eta = eta;
      const bool ok = matches(one_step(smp, s, sn), a.down / s, a.up, why);
      INFO(why);
      CHECK(ok);
    }
  }
}

TEST_CASE("one-step coefficients: DDIM with eta (Song et al. 2021, Eq. 12 and 16)", "[samplers][coefficients]") {
  // In sigma form (s = 1): sigma_eta = eta (sigma'/sigma) sqrt(sigma^2 - sigma'^2), and
  // x' = x0 + sqrt(sigma'^2 - sigma_eta^2) eps + sigma_eta z with eps = (x - x0) / sigma.
  for (const double eta : {1.0, 0.3}) {
    const double s = 2.0, sn = 1.0;
    const double se = eta * (sn / s) * std::sqrt(s * s - sn * sn);
    std::string why;
    const bool ok = matches(one_step(sdeflow::samplers::ddim{.eta = eta}, s, sn), std::sqrt(sn * sn - se * se) / s, se, why);
    INFO(why);
    CHECK(ok);
  }
}

TEST_CASE("one-step coefficients: DPM-Solver++(2M) SDE, first step (Lu et al. 2022, SDE-DPM-Solver++1)", "[samplers][coefficients]") {
  // h = ln(sigma / sigma'); x' = (sigma'/sigma) e^{-eta h} x + (1 - e^{-(1+eta) h}) x0 + sigma' sqrt(1 - e^{-2 eta h}) z.
  for (const double eta : {1.0, 0.5}) {
    const double s = 2.0, sn = 1.0;
    const double h = std::log(s / sn);
    const double A = (sn / s) * std::exp(-eta * h);
    const double B = sn * std::sqrt(-std::expm1(-2 * eta * h));
    sdeflow::samplers::dpmpp_2m_sde smp;
    smp.eta = eta;
    std::string why;
    const bool ok = matches(one_step(smp, s, sn), A, B, why);
    INFO(why);
    CHECK(ok);
  }
}

TEST_CASE("one-step coefficients: DPM-2 ancestral, DPM-Solver++(2S) ancestral, DPM-Solver++ SDE and (3M) SDE", "[samplers][coefficients]") {
  // With a constant denoiser each deterministic part is exact: x~ - c scales by sigma_down / sigma (the
  // midpoint evaluation sees the same c), and the ancestral noise has std sigma_up (k-diffusion's
  // get_ancestral_step). The first step of 3M SDE has no history: the 2M SDE first step above.
  for (const double eta : {1.0, 0.5}) {
    const double s = 2.0, sn = 1.0;
    const ancestral a(s, sn, eta);
    std::string why;
    CHECK(matches(one_step(sdeflow::samplers::dpm_2_ancestral{eta}, s, sn), a.down / s, a.up, why));
    CHECK(matches(one_step(sdeflow::samplers::dpmpp_2s_ancestral{eta}, s, sn), a.down / s, a.up, why));
    // DPM-Solver++ SDE: both stages see c, so x' = c + (d2/sigma)(x - c) + s_noise u2 z2 (the second split).
    CHECK(matches(one_step(sdeflow::samplers::dpmpp_sde{eta, 0.8}, s, sn), a.down / s, 0.8 * a.up, why));
    const double h = std::log(s / sn);
    CHECK(matches(one_step(sdeflow::samplers::dpmpp_3m_sde{eta}, s, sn), (sn / s) * std::exp(-eta * h),
                  sn * std::sqrt(-std::expm1(-2 * eta * h)), why));
    INFO(why);
    CHECK(why.empty());
  }
}

TEST_CASE("LMS weights: on an equal sigma grid they are the Adams-Bashforth weights AB1..AB4", "[samplers][coefficients]") {
  // Integral over [sigma_k, sigma_k - h] of each Lagrange basis polynomial on the nodes sigma_k, sigma_k + h, ...:
  // (-h) times 1; 3/2, -1/2; 23/12, -16/12, 5/12; 55/24, -59/24, 37/24, -9/24 (Hairer, Norsett & Wanner I, III.1).
  const double ab[4][4] = {{1, 0, 0, 0}, {1.5, -0.5, 0, 0}, {23. / 12, -16. / 12, 5. / 12, 0},
                           {55. / 24, -59. / 24, 37. / 24, -9. / 24}};
  const double h = 0.25, r = 3.0;
  const std::array<double, 4> nodes{r, r + h, r + 2 * h, r + 3 * h};
  for (std::size_t q = 1; q <= 4; ++q) {
    for (std::size_t j = 0; j < q; ++j) {
      INFO("order " << q << " weight " << j);
      CHECK(sdeflow::samplers::detail::lagrange_weight(nodes, q, j, r, r - h) == Approx(-h * ab[q - 1][j]).margin(1e-14));
    }
  }
  // On an unequal grid the weights still integrate every polynomial of degree < q exactly.
  const std::array<double, 4> uneq{1.0, 1.7, 2.9, 5.0};
  for (std::size_t q = 1; q <= 4; ++q) {
    for (std::size_t deg = 0; deg < q; ++deg) {
      double sum = 0;
      for (std::size_t j = 0; j < q; ++j) sum += sdeflow::samplers::detail::lagrange_weight(uneq, q, j, 1.0, 0.4) * std::pow(uneq[j], deg);
      const double exact = (std::pow(0.4, deg + 1) - 1.0) / static_cast<double>(deg + 1);
      INFO("order " << q << " degree " << deg);
      CHECK(sum == Approx(exact).margin(1e-13));
    }
  }
}

TEST_CASE("DEIS weights of order 2: the closed-form integrals of the linear interpolant in ln sigma", "[samplers][coefficients]") {
  // int_{s0}^{t} (ln u - ln c) / (ln b - ln c) du with the antiderivative u (ln u - ln c - 1) / (ln b - ln c)
  // (the rho-AB-DEIS weights; Zhang & Chen 2023, Sec. 4): node 0 at s0 (b = s0, c = s1), node 1 at s1.
  const auto ind = [](double u, double b, double c) { return u * (std::log(u) - std::log(c) - 1) / (std::log(b) - std::log(c)); };
  for (const auto& [s1, s0, t] : {std::tuple{3.0, 2.0, 1.2}, std::tuple{80.0, 40.0, 20.0}, std::tuple{0.011, 0.01, 0.009}}) {
    const std::array<double, 4> nodes{std::log(s0), std::log(s1), 0, 0};
    const double w0 = sdeflow::samplers::detail::deis_weight(nodes, 2, 0, std::log(s0), std::log(t));
    const double w1 = sdeflow::samplers::detail::deis_weight(nodes, 2, 1, std::log(s0), std::log(t));
    INFO("s1 " << s1 << " s0 " << s0 << " t " << t);
    CHECK(w0 == Approx(ind(t, s0, s1) - ind(s0, s0, s1)).epsilon(1e-12));
    CHECK(w1 == Approx(ind(t, s1, s0) - ind(s0, s1, s0)).epsilon(1e-12));
    CHECK(w0 + w1 == Approx(t - s0).epsilon(1e-12));  // the weights of a constant integrate to the step
  }
}

TEST_CASE("one-step coefficients: EDM Heun with churn (Karras et al. 2022, Algorithm 2)", "[samplers][coefficients]") {
  // gamma = min(S_churn / N, sqrt 2 - 1), sigma^ = sigma (1 + gamma), x^ = x + sqrt(sigma^2_hat - sigma^2) S_noise z.
  // A constant denoiser makes the ODE linear in sigma: Heun's step is exact, x' - c = (sigma'/sigma^)(x^ - c).
  // The first of N = 2 steps (so S_churn / N is exercised), read from a sampling_run after one step.
  const double s = 2.0, sn = 1.0, churn = 0.6, noise = 1.3;
  const double gamma = std::min(churn / 2.0, std::sqrt(2.0) - 1);
  const double s_hat = s * (1 + gamma);
  const Eigen::Index n = sdeflow_test::scaled<Eigen::Index>(40000, 4000);
  const auto m = edm_model();
  auto first_step = [&](const sdeflow::samplers::edm_heun& smp) {
    sdeflow::sampling_run run(smp, m, X(x_start.replicate(1, n)), sdeflow::time_grid<>::from_points({s, sn, 0.5}),
                              {.seed = 13});
    run.step();
    return X(run.state());
  };
  std::string why;
  const bool churned = matches(first_step({.s_churn = churn, .s_noise = noise}), sn / s_hat,
                               (sn / s_hat) * std::sqrt(s_hat * s_hat - s * s) * noise, why);
  INFO(why);
  CHECK(churned);
  // Outside [S_tmin, S_tmax] there is no churn: deterministic, x' - c = (sigma'/sigma)(x - c).
  std::string why2;
  const bool plain = matches(first_step({.s_churn = churn, .s_tmin = 5.0, .s_noise = noise}), sn / s, 0.0, why2);
  INFO(why2);
  CHECK(plain);
}

TEST_CASE("one-step coefficients: Euler-Maruyama on the reverse SDE (Song et al. 2021, Eq. 6)", "[samplers][coefficients]") {
  // EDM: f = 0, g^2 = d sigma^2 / dt = 2 sigma; score = -(x - c) / sigma^2. A step h = sigma' - sigma < 0:
  // x' = x - h g^2 score + g sqrt|h| z = c + (1 + 2 h / sigma)(x - c) + sqrt(2 sigma |h|) z.
  const double s = 2.0, sn = 1.5, h = sn - s;
  std::string why;
  const bool ok = matches(one_step(sdeflow::samplers::reverse_sde<>{}, s, sn), 1 + 2 * h / s, std::sqrt(2 * s * std::fabs(h)), why);
  INFO(why);
  CHECK(ok);
}

TEST_CASE("one-step coefficients: DDPM on VP with the posterior and the forward variance (Ho et al. 2020, Eq. 6-7)",
          "[samplers][coefficients]") {
  // In the paper's notation, with abar = s(t)^2 at the step's start and abar_prev = s(t')^2 at its end:
  // alpha = abar / abar_prev, beta = 1 - alpha; the posterior q(x' | x, x0) has mean
  // sqrt(abar_prev) beta / (1 - abar) x0 + sqrt(alpha) (1 - abar_prev) / (1 - abar) x and variance
  // beta_tilde = (1 - abar_prev) / (1 - abar) beta; "forward" keeps that mean with variance beta.
  const sdeflow::vp_process<> vp;
  const auto m = sdeflow::model(vp, constant_denoiser{c_data}, sdeflow::prediction::data);
  const Eigen::Index n = sdeflow_test::scaled<Eigen::Index>(40000, 4000);
  for (const auto& [t, tn] : {std::pair{0.5, 0.4}, std::pair{0.9, 0.3}}) {
    const double abar = vp.mean_scale(t) * vp.mean_scale(t), abar_prev = vp.mean_scale(tn) * vp.mean_scale(tn);
    const double alpha = abar / abar_prev, beta = 1 - alpha;
    const Eigen::Vector2d mean = std::sqrt(abar_prev) * beta / (1 - abar) * c_data +
                                 std::sqrt(alpha) * (1 - abar_prev) / (1 - abar) * x_start;
    const double beta_tilde = (1 - abar_prev) / (1 - abar) * beta;
    for (const auto variance : {sdeflow::ddpm_variance::posterior, sdeflow::ddpm_variance::forward}) {
      const bool forward = variance == sdeflow::ddpm_variance::forward;
      INFO("t " << t << " -> " << tn << (forward ? ", forward variance" : ", posterior variance"));
      const X y = sdeflow::sample(sdeflow::samplers::ddpm{variance}, m, X(x_start.replicate(1, n)),
                                  sdeflow::time_grid<>::from_points({t, tn}), {.seed = 21})
                      .samples;
      std::string why;
      const bool ok = matches_law(y, mean, std::sqrt(forward ? beta : beta_tilde), why);
      INFO(why);
      CHECK(ok);
      // The mutant: the other variance (they differ by the factor (1 - abar_prev) / (1 - abar)).
      std::string why_not;
      CHECK_FALSE(matches_law(y, mean, std::sqrt(forward ? beta_tilde : beta), why_not));
    }
  }
}

TEST_CASE("few steps: eta changes the law of Euler ancestral over N = 3 steps", "[samplers][coefficients]") {
  // Composed: x_N - c = (prod a_k)(x - c) + sum_k (prod_{j>k} a_j) u_k z_k, a_k = down_k / sigma_k, u_k = up_k.
  const std::vector<double> sig{3.0, 2.0, 1.2, 0.5};
  const Eigen::Index n = sdeflow_test::scaled<Eigen::Index>(40000, 4000);
  for (const double eta : {1.0, 0.5}) {
    double A = 1, var = 0;
    for (std::size_t k = 0; k + 1 < sig.size(); ++k) {
      const ancestral a(sig[k], sig[k + 1], eta);
      var = var * (a.down / sig[k]) * (a.down / sig[k]) + a.up * a.up;
      A *= a.down / sig[k];
    }
    sdeflow::samplers::euler_ancestral smp;
    smp.eta = eta;
    const X y = sdeflow::sample(smp, edm_model(), X(x_start.replicate(1, n)), sdeflow::time_grid<>::from_points(sig),
                                {.seed = 5})
                    .samples;
    std::string why;
    const bool ok = matches(y, A, std::sqrt(var), why);
    INFO("eta " << eta << ": " << why);
    CHECK(ok);
  }
}

TEST_CASE("one-step coefficients: the check rejects sigma_up scaled by 1.1 (the mutant)", "[samplers][coefficients]") {
  for (const auto& [s, sn] : {std::pair{2.0, 1.0}, std::pair{0.5, 0.05}}) {
    const ancestral a(s, sn, 1.0);
    std::string why;
    CHECK_FALSE(matches(one_step(euler_ancestral_up_1_1{}, s, sn), a.down / s, a.up, why));
  }
}
