// SPDX-License-Identifier: MIT
// Sampler schedules against their defining formulas.
#include "support.hpp"

TEST_CASE("Karras schedule: sigma_i = (smax^(1/rho) + i/(N-1) (smin^(1/rho) - smax^(1/rho)))^rho then 0", "[schedules]") {
  const sdeflow::edm_process<> edm(80.0);  // t = sigma, so the times are the sigmas
  const double smin = 0.002, smax = 80.0, rho = 7.0;
  for (std::size_t N : {1u, 2u, 7u, 18u}) {
    const auto g = sdeflow::karras_schedule(edm, smin, smax, N, rho);
    REQUIRE(g.steps() == N);
    CHECK(g.back() == 0.0);
    for (std::size_t i = 0; i < N; ++i) {
      const double frac = N == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(N - 1);
      const double expected = std::pow(std::pow(smax, 1 / rho) + frac * (std::pow(smin, 1 / rho) - std::pow(smax, 1 / rho)), rho);
      CHECK(g[i] == Approx(expected).epsilon(1e-12));
    }
  }
  // On VP the times are those where sigma(t)/s(t) equals the Karras sigmas.
  const sdeflow::vp_process<> vp;
  const auto g = sdeflow::karras_schedule(vp, 0.01, 100.0, 10);
  CHECK(sdeflow::sigma_ratio(vp, g[0]) == Approx(100.0).epsilon(1e-10));
  CHECK(sdeflow::sigma_ratio(vp, g[9]) == Approx(0.01).epsilon(1e-10));
}

TEST_CASE("log-SNR schedule has equal steps in lambda = ln(s/sigma)", "[schedules]") {
  const sdeflow::vp_process<> vp;
  const auto g = sdeflow::log_snr_schedule(vp, 1.0, 1e-3, 12);
  auto lambda = [&](double t) { return std::log(vp.mean_scale(t) / vp.marginal_std(t)); };
  const double h = (lambda(1e-3) - lambda(1.0)) / 12;
  for (std::size_t i = 0; i < 12; ++i) CHECK(lambda(g[i + 1]) - lambda(g[i]) == Approx(h).epsilon(1e-9));
  CHECK_THROWS_WITH(sdeflow::log_snr_schedule(vp, 1.0, 0.0, 12), Catch::Contains("t_end = 0"));
}

TEST_CASE("exponential and polyexponential schedules (k-diffusion's get_sigmas_exponential / _polyexponential)", "[schedules]") {
  const sdeflow::edm_process<> edm(80.0);
  const double smin = 0.002, smax = 80.0;
  for (const std::size_t N : {1u, 2u, 7u, 20u}) {
    const auto e = sdeflow::exponential_schedule(edm, smin, smax, N);
    const auto p1 = sdeflow::polyexponential_schedule(edm, smin, smax, N);
    const auto p3 = sdeflow::polyexponential_schedule(edm, smin, smax, N, 3.0);
    REQUIRE(e.steps() == N);
    CHECK(e[N] == 0.0);
    CHECK(p3[N] == 0.0);
    CHECK(e[0] == smax);
    for (std::size_t i = 0; i < N; ++i) {
      const double u = N == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(N - 1);
      INFO("N " << N << " i " << i);
      CHECK(e[i] == Approx(std::exp(std::log(smax) + u * (std::log(smin) - std::log(smax)))).epsilon(1e-12));
      CHECK(p1[i] == e[i]);
      CHECK(p3[i] == Approx(std::exp(std::log(smin) + std::pow(1 - u, 3.0) * (std::log(smax) - std::log(smin)))).epsilon(1e-12));
    }
  }
  // Under VP the list is of sigma/s, mapped to times.
  const sdeflow::vp_process<> vp;
  const auto g = sdeflow::exponential_schedule(vp, 0.01, 10.0, 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(sdeflow::sigma_ratio(vp, g[i]) == Approx(std::exp(std::log(10.0) + 0.25 * static_cast<double>(i) * std::log(0.001))).epsilon(1e-9));
  }
}

TEST_CASE("uniform and quadratic schedules", "[schedules]") {
  const auto q = sdeflow::quadratic_schedule(1.0, 0.0, 4);
  CHECK(q[0] == 1.0);
  CHECK(q[1] == Approx(0.5625));
  CHECK(q[2] == Approx(0.25));
  CHECK(q[4] == 0.0);
  const auto u = sdeflow::uniform_schedule(2.0, 0.5, 3);
  CHECK(u[1] == Approx(1.5));
  CHECK_THROWS_AS(sdeflow::uniform_schedule(1.0, 1.0, 3), sdeflow::invalid_argument);
}

TEST_CASE("DDPM timestep spacings match their published definitions", "[schedules]") {
  // 1-based times (0 = clean data); diffusers' 0-based timesteps are these minus one.
  auto pts = [](sdeflow::timestep_spacing s) { return sdeflow::timesteps(1000, 10, s).points(); };
  CHECK(pts(sdeflow::timestep_spacing::linspace) ==
        std::vector<double>{1000, 889, 778, 667, 556, 445, 334, 223, 112, 1, 0});
  CHECK(pts(sdeflow::timestep_spacing::leading) == std::vector<double>{901, 801, 701, 601, 501, 401, 301, 201, 101, 1, 0});
  CHECK(pts(sdeflow::timestep_spacing::trailing) ==
        std::vector<double>{1000, 900, 800, 700, 600, 500, 400, 300, 200, 100, 0});
  for (std::size_t n = 1; n <= 50; ++n) {
    for (auto s : {sdeflow::timestep_spacing::linspace, sdeflow::timestep_spacing::leading, sdeflow::timestep_spacing::trailing}) {
      const auto g = sdeflow::timesteps(1000, n, s);
      CHECK(g.steps() == n);
      CHECK(g.back() == 0.0);
    }
  }
  CHECK_THROWS_WITH(sdeflow::timesteps(10, 11, sdeflow::timestep_spacing::trailing), Catch::Contains("n = 11"));
}

TEST_CASE("discrete DDPM tables", "[schedules]") {
  const auto lin = sdeflow::discrete_schedule::linear(1000);
  CHECK(lin.beta(1) == Approx(1e-4));
  CHECK(lin.beta(1000) == Approx(0.02));
  double abar = 1.0;
  for (std::size_t i = 1; i <= 500; ++i) abar *= 1 - lin.beta(i);
  CHECK(lin.alpha_bar(500.0) == Approx(abar).epsilon(1e-12));
  CHECK(lin.mean_scale(0.0) == 1.0);
  CHECK(lin.marginal_std(1000.0) == Approx(std::sqrt(1 - lin.alpha_bar(1000.0))));
  const auto cos = sdeflow::discrete_schedule::cosine(1000);
  auto f = [](double t) { return std::pow(std::cos((t / 1000 + 0.008) / 1.008 * std::numbers::pi / 2), 2); };
  CHECK(cos.alpha_bar(300.0) == Approx(f(300) / f(0)).epsilon(1e-10));
  CHECK_THROWS_WITH(sdeflow::discrete_schedule({0.1, 1.0}), Catch::Contains("betas[1] = 1"));
  CHECK_THROWS_WITH(lin.alpha_bar(1001.0), Catch::Contains("t = 1001"));
}
