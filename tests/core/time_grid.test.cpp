// SPDX-License-Identifier: MIT
#include "support.hpp"

using sdeflow::time_grid;

TEST_CASE("uniform grids hit both endpoints exactly for every N / in both directions", "[time_grid]") {
  for (std::size_t n = 1; n <= 50; ++n) {
    for (auto [t0, t1] : {std::pair{0.0, 1.0}, std::pair{1.0, 1e-3}, std::pair{-0.3, 0.7}, std::pair{2.5, -1.0}}) {
      const auto g = time_grid<>::uniform(t0, t1, n);
      REQUIRE(g.steps() == n);
      REQUIRE(g.size() == n + 1);
      CHECK(g.front() == t0);
      CHECK(g.back() == t1);
      CHECK(g.backwards() == (t1 < t0));
      const double h = (t1 - t0) / static_cast<double>(n);
      double sum = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        CHECK(sdeflow_test::close(g[k], t0 + static_cast<double>(k) * h, 1e-15, 1e-15));
        CHECK((g.step(k) > 0) == (t1 > t0));  // strictly monotone; reverse time has negative steps
        sum += g.step(k);
      }
      CHECK(sdeflow_test::close(sum, t1 - t0, 1e-13, 1e-14));
    }
  }
}

TEST_CASE("t_k is computed from k / not accumulated", "[time_grid]") {
  // 0.1 is not representable: accumulating it 10^6 times drifts by ~1e-6; t_k from k does not.
  const auto g = time_grid<>::uniform(0.0, 100000.0, 1000000);
  CHECK(g[999999] == Approx(99999.9).epsilon(1e-15));
  CHECK(g[1000000] == 100000.0);
  const auto gf = time_grid<float>::uniform(1.0f, 0.0f, 3);
  CHECK(gf.back() == 0.0f);
}

TEST_CASE("from_points validates finiteness / size and strict monotonicity", "[time_grid][errors]") {
  const auto g = time_grid<>::from_points({1.0, 0.5, 0.2, 0.0});
  CHECK(g.steps() == 3);
  CHECK(g.step(1) == Approx(-0.3));
  CHECK_THROWS_WITH(time_grid<>::from_points({1.0}), Catch::Contains("points.size()"));
  CHECK_THROWS_WITH(time_grid<>::from_points({0.0, 0.5, 0.5}), Catch::Contains("points[2]"));
  CHECK_THROWS_WITH(time_grid<>::from_points({0.0, 0.5, 0.4}), Catch::Contains("monotonicity"));
  CHECK_THROWS_WITH(time_grid<>::from_points({0.0, std::nan("")}), Catch::Contains("points[1]"));
  CHECK_THROWS_WITH(time_grid<>::uniform(0.0, 0.0, 3), Catch::Contains("t1"));
  CHECK_THROWS_WITH(time_grid<>::uniform(0.0, 1.0, 0), Catch::Contains("steps = 0"));
  CHECK_THROWS_WITH(time_grid<>::uniform(0.0, INFINITY, 3), Catch::Contains("t1 = inf"));
  CHECK_THROWS_AS(time_grid<>::uniform(std::nan(""), 1.0, 3), sdeflow::invalid_argument);
}
