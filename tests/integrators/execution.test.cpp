// SPDX-License-Identifier: MIT
// The execution policy of the driver (core/execution.hpp): column tiles and threads give the same bits as
// the run on the whole batch, for every stepper, with and without an observer; bad policies are rejected.
#include "support.hpp"

#include <atomic>
#include <thread>
#include <stdexcept>
#include <vector>

namespace {

using sdeflow::execution;

bool same(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

const std::vector<execution>& policies() {
  static const std::vector<execution> p = {
      {.threads = 1, .tile_columns = 7},   // many tiles, the last one partial
      {.threads = 2, .tile_columns = 7},   // the same tiles on two workers
      {.threads = 2, .tile_columns = 0},   // automatic tiles
      {.threads = 3, .tile_columns = 500}, // more workers than cores, uneven tiles
  };
  return p;
}

Eigen::MatrixXd start(Eigen::Index n) {
  Eigen::MatrixXd x(2, n);
  for (Eigen::Index j = 0; j < n; ++j) x.col(j) << 0.5 + 0.001 * static_cast<double>(j), -1.0 + 0.002 * static_cast<double>(j);
  return x;
}

template <class Stepper, class Sys, class... Noise>
void check_policies(const Stepper& stepper, const Sys& sys, const Noise&... noise) {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 25);
  const Eigen::Index n = 1003;
  Eigen::MatrixXd ref = start(n);
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, stepper, sys, ref, grid, noise...);
  Eigen::MatrixXd dflt = start(n);
  sdeflow::integrate(stepper, sys, dflt, grid, noise...);
  CHECK(same(dflt, ref));
  // With an observer (tiles advance in lockstep and the observer sees the whole state each step).
  std::vector<double> ref_path;
  Eigen::MatrixXd ref_obs = start(n);
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, stepper, sys, ref_obs, grid, noise...,
                     [&](std::size_t, double, const Eigen::MatrixXd& xk) { ref_path.push_back(xk.sum()); });
  CHECK(same(ref_obs, ref));
  for (const auto& p : policies()) {
    INFO("threads " << p.threads << " tile " << p.tile_columns);
    Eigen::MatrixXd x = start(n);
    const auto rep = sdeflow::integrate(p, stepper, sys, x, grid, noise...);
    CHECK(same(x, ref));
    CHECK(rep.steps == 25);
    CHECK(rep.evaluations == 25 * static_cast<std::size_t>(Stepper::evaluations));
    std::vector<double> path;
    Eigen::MatrixXd y = start(n);
    sdeflow::integrate(p, stepper, sys, y, grid, noise..., [&](std::size_t, double, const Eigen::MatrixXd& xk) { path.push_back(xk.sum()); });
    CHECK(same(y, ref));
    CHECK(path == ref_path);
  }
}

struct coupled {  // mean-field drift: every sample sees the batch mean
  static constexpr bool whole_batch = true;
  void drift(const Eigen::MatrixXd& y, double, Eigen::MatrixXd& out) const {
    out = (-(y.colwise() - y.rowwise().mean())).eval();
  }
};

}  // namespace

TEST_CASE("ODE steppers: tiles and threads give the bits of the whole-batch run", "[execution]") {
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double t) {
    return (-x + (3.0 * x).array().sin().matrix() * std::cos(t)).eval();
  });
  check_policies(sdeflow::euler{}, sys);
  check_policies(sdeflow::heun{}, sys);
  check_policies(sdeflow::rk4{}, sys);
}

TEST_CASE("SDE steppers: tiles and threads give the bits of the whole-batch run", "[execution]") {
  const sdeflow::ornstein_uhlenbeck<> ou(1.5, 0.2, 0.7);
  const sdeflow::geometric_brownian_motion<> gbm(0.3, 0.8);
  check_policies(sdeflow::euler_maruyama{}, ou, sdeflow::brownian_increments(11));
  check_policies(sdeflow::euler_maruyama{}, gbm, sdeflow::brownian_increments(12, 40));
  check_policies(sdeflow::milstein{}, gbm, sdeflow::brownian_increments(13, 0, 0, 3));
  check_policies(sdeflow::sra1{}, ou, sdeflow::brownian_increments(14));
  check_policies(sdeflow::euler_maruyama{}, ou, sdeflow::brownian_tree(0.0, 1.0, 1e-3, 15));
}

TEST_CASE("a tile's noise is the batch's noise at its columns, and only with the shifted offset", "[execution]") {
  // The property the tiling rests on, with a mutant: a tile run with the unshifted source (the bug a
  // driver that forgot columns_from would have) does not reproduce the batch's columns.
  const sdeflow::ornstein_uhlenbeck<> ou(1.0, 0.0, 0.5);
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 10);
  const sdeflow::brownian_increments noise(21, 5);
  Eigen::MatrixXd all = start(30);
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, sdeflow::euler_maruyama{}, ou, all, grid, noise);
  Eigen::MatrixXd tile = start(30).middleCols(10, 10);
  Eigen::MatrixXd mutant = tile;
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, sdeflow::euler_maruyama{}, ou, tile, grid, noise.columns_from(10));
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, sdeflow::euler_maruyama{}, ou, mutant, grid, noise);
  CHECK(same(tile, all.middleCols(10, 10)));
  CHECK_FALSE(same(mutant, all.middleCols(10, 10)));
}

TEST_CASE("execution policies that cannot apply are rejected with the reason", "[execution][errors]") {
  const sdeflow::ornstein_uhlenbeck<> ou(1.0, 0.0, 0.5);
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 4);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 100);
  CHECK_THROWS_WITH(sdeflow::integrate(execution{.threads = 0}, sdeflow::euler_maruyama{}, ou, x, grid, sdeflow::brownian_increments(1)),
                    Catch::Contains("execution.threads = 0"));
  CHECK_THROWS_AS(sdeflow::integrate(execution{.tile_columns = -3}, sdeflow::euler_maruyama{}, ou, x, grid, sdeflow::brownian_increments(1)),
                  sdeflow::invalid_argument);
  Eigen::Vector3d v(1, 2, 3);
  CHECK_THROWS_WITH(sdeflow::integrate(execution{.threads = 2}, sdeflow::euler_maruyama{}, ou, v, grid, sdeflow::brownian_increments(1)),
                    Catch::Contains("fixed number of columns"));
  auto gen = sdeflow::generator_noise([](Eigen::MatrixXd& z) { z.setZero(); });
  CHECK_THROWS_WITH(sdeflow::integrate(execution{.threads = 2}, sdeflow::euler_maruyama{}, ou, x, grid, gen),
                    Catch::Contains("cannot be split by columns"));
  // ... but the default call with such a source simply runs the whole batch.
  CHECK_NOTHROW(sdeflow::integrate(sdeflow::euler_maruyama{}, ou, x, grid, gen));
  // A type-erased noise_source splits when what it holds does (decided at run time): a recorded table held
  // in one runs whole under the default call on a batch wider than a tile, a counter source is tiled.
  Eigen::MatrixXd wide = Eigen::MatrixXd::Ones(2, 5000), wide_ref = wide;
  sdeflow::noise_recorder<sdeflow::counter_noise, Eigen::MatrixXd> rec(sdeflow::counter_noise(4));
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, sdeflow::euler_maruyama{}, ou, wide_ref, grid,
                     sdeflow::noise_source<Eigen::MatrixXd>(rec));
  sdeflow::noise_source<Eigen::MatrixXd> replay(rec.replay());
  CHECK_FALSE(replay.splits());
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, wide, grid, replay);
  CHECK(same(wide, wide_ref));
  CHECK_THROWS_WITH(sdeflow::integrate(execution{.threads = 2}, sdeflow::euler_maruyama{}, ou, wide, grid, replay),
                    Catch::Contains("cannot be split by columns"));
  Eigen::MatrixXd tiled = Eigen::MatrixXd::Ones(2, 5000);
  sdeflow::noise_source<Eigen::MatrixXd> counter(sdeflow::counter_noise(4));
  CHECK(counter.splits());
  sdeflow::integrate(execution{.threads = 2, .tile_columns = 300}, sdeflow::euler_maruyama{}, ou, tiled, grid, counter);
  CHECK(same(tiled, wide_ref));
  const auto sys = coupled{};
  CHECK_THROWS_WITH(sdeflow::integrate(execution{.threads = 2}, sdeflow::rk4{}, sys, x, grid), Catch::Contains("whole_batch"));
  Eigen::MatrixXd a = start(300), b = a;
  sdeflow::integrate(sdeflow::rk4{}, sys, a, grid);  // the default call keeps a whole-batch system whole
  sdeflow::integrate(execution{.tile_columns = execution::untiled}, sdeflow::rk4{}, sys, b, grid);
  CHECK(same(a, b));
}

TEST_CASE("an error in one tile reaches the caller from any worker", "[execution][errors]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 8);
  // Blows up only in the columns whose first coordinate starts above 0.9 (the late tiles).
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double) {
    Eigen::MatrixXd out = -x;
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      if (x(0, j) > 0.85) out(0, j) = std::numeric_limits<double>::infinity();
    }
    return out;
  });
  for (unsigned threads : {1u, 2u}) {
    Eigen::MatrixXd x = start(1000);
    CHECK_THROWS_AS(sdeflow::integrate(execution{.threads = threads, .tile_columns = 64}, sdeflow::rk4{}, sys, x, grid),
                    sdeflow::non_finite_error);
  }
  const auto throwing = sdeflow::ode([](const Eigen::MatrixXd& x, double) -> Eigen::MatrixXd {
    if (x(0, 0) > 0.9) throw std::runtime_error("user drift failed");
    return -x;
  });
  Eigen::MatrixXd y = start(1000);
  CHECK_THROWS_WITH(sdeflow::integrate(execution{.threads = 2, .tile_columns = 100}, sdeflow::euler{}, throwing, y, grid),
                    "user drift failed");
}

TEST_CASE("cores_available: at least 1 and at most the machine's cores", "[execution]") {
  const unsigned c = sdeflow::cores_available();
  CHECK(c >= 1);
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw > 0) CHECK(c <= hw);
}
