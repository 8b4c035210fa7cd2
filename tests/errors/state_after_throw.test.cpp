// SPDX-License-Identifier: MIT
// What a run leaves behind when it throws (docs/errors.md):
// - integrate (in place, untiled): the state of the last completed step when the drift or the
//   observer throws; the non-finite state itself after non_finite_error (step() names it).
// - sample / sample_* (x_T by value): the caller's state is untouched (strong guarantee).
// - sampling_run: a step that threw spends the run; state() is as the failing step left it.
#include "support.hpp"

#include <stdexcept>

namespace {
using X = Eigen::MatrixXd;
struct user_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace

TEST_CASE("state after a throw: integrate keeps the last completed step", "[errors][state]") {
  const auto g = sdeflow::time_grid<>::uniform(0.0, 1.0, 10);
  // The drift throws from t = 0.55 on: steps 0..4 complete (RK4 evaluates at t_k + h/2 = 0.55 in step 5).
  const auto throwing = sdeflow::ode([](const X& x, double t) {
    if (t > 0.54) throw user_failure("drift failed");
    return X(-x + X::Constant(x.rows(), x.cols(), t));
  });
  const auto same = sdeflow::ode([](const X& x, double t) { return X(-x + X::Constant(x.rows(), x.cols(), t)); });
  const X x0 = X::Constant(2, 3, 1.5);
  for (const auto& exec : {sdeflow::execution{.threads = 1, .tile_columns = sdeflow::execution::untiled},
                           sdeflow::execution{.threads = 1, .tile_columns = 2}}) {
    X x = x0;
    CHECK_THROWS_AS(sdeflow::integrate(exec, sdeflow::rk4{}, throwing, x, g), user_failure);
    // Reference: the same system over the first 5 steps of the grid.
    X ref = x0;
    (void)sdeflow::integrate(sdeflow::rk4{}, same, ref, sdeflow::time_grid<>::from_points({0.0, 0.1, 0.2, 0.3, 0.4, 0.5}));
    CHECK((x - ref).cwiseAbs().maxCoeff() == 0.0);
    // Control: the state moved (a state reset to x0 would fail the comparison above).
    CHECK((x - x0).cwiseAbs().maxCoeff() > 0.1);
  }
  // An observer that throws at grid point 3: the state is that point's.
  X x = x0;
  auto obs = [](std::size_t k, double, const X&) {
    if (k == 3) throw user_failure("observer failed");
    return true;
  };
  CHECK_THROWS_AS(sdeflow::integrate(sdeflow::rk4{}, same, x, g, obs), user_failure);
  X ref = x0;
  (void)sdeflow::integrate(sdeflow::rk4{}, same, ref, sdeflow::time_grid<>::from_points({0.0, 0.1, 0.2, 0.3}));
  CHECK((x - ref).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("state after a throw: non_finite_error leaves the non-finite state and names its step", "[errors][state]") {
  const auto blowup = sdeflow::ode([](const X& x, double) { return X(x.cwiseProduct(x)); });
  X x = X::Constant(1, 2, 1e200);
  try {
    (void)sdeflow::integrate(sdeflow::euler{}, blowup, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4));
    FAIL("expected non_finite_error");
  } catch (const sdeflow::non_finite_error& e) {
    CHECK(e.step() == 1);
    CHECK_FALSE(x.allFinite());
  }
}

TEST_CASE("state after a throw: the samplers never touch the caller's x_T", "[errors][state]") {
  const sdeflow::vp_process<> vp;
  const auto ring = sdeflow::gaussian_mixture<>::ring(4, 1.0, 0.2);
  const auto good = sdeflow::exact_score(ring, vp);
  int calls = 0;
  const auto failing = sdeflow::model(
      vp,
      [&](const X& x, double t) {
        if (++calls == 3) throw user_failure("model failed");
        return good(x, t);
      },
      sdeflow::prediction::score);
  const X xT = sdeflow::initial_noise(vp, 2, 5);
  const X copy = xT;
  CHECK_THROWS_AS(sdeflow::sample_dpmpp_2m(failing, xT, sdeflow::uniform_schedule(1.0, 0.01, 6)), user_failure);
  CHECK(calls == 3);
  CHECK((xT - copy).cwiseAbs().maxCoeff() == 0.0);
  // sampling_run: the failing step spends the run.
  calls = 0;
  sdeflow::sampling_run run(sdeflow::samplers::dpmpp_2m{}, failing, xT, sdeflow::uniform_schedule(1.0, 0.01, 6));
  run.step();
  run.step();
  CHECK_THROWS_AS(run.step(), user_failure);
  CHECK_THROWS_WITH(run.step(), Catch::Contains("an earlier step threw"));
}

TEST_CASE("state after a throw: a run whose noise counters would pass 2^32 fails before its first step", "[errors][state]") {
  // brownian_increments with r sub-steps uses counters k r .. k r + r - 1 for step k; 2^19 + 1 steps
  // of 2^13 sub-steps need counters past 2^32. The check used to fire at step 2^19, after four billion
  // normals and with the state half-integrated; now nothing is drawn and nothing moves.
  std::size_t drift_calls = 0;
  const auto sys = sdeflow::sde(
      [&](const X& x, double) {
        ++drift_calls;
        return X(-x);
      },
      [](double) { return 1.0; });
  const X x0 = X::Constant(1, 3, 2.0);
  X x = x0;
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, (std::size_t{1} << 19) + 1);
  CHECK_THROWS_WITH(sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, grid,
                                       sdeflow::brownian_increments(1, 0, 0, std::uint64_t{1} << 13)),
                    Catch::Contains("integrate: 524289 noise draws with brownian_increments substeps = 8192"));
  CHECK(drift_calls == 0);
  CHECK((x - x0).cwiseAbs().maxCoeff() == 0.0);
  // Through a recorder the wrapped source is asked the same (it used to be lost there).
  CHECK_THROWS_WITH(sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, grid,
                                       sdeflow::noise_recorder<sdeflow::brownian_increments, X>(
                                           sdeflow::brownian_increments(1, 0, 0, std::uint64_t{1} << 13))),
                    Catch::Contains("524289 noise draws with brownian_increments substeps = 8192"));
  CHECK(drift_calls == 0);
  // Controls: the boundary is exact (2^19 draws of 2^13 sub-steps fit), and a short run with the
  // same source goes through (a check that always threw would fail both).
  const sdeflow::brownian_increments wide(1, 0, 0, std::uint64_t{1} << 13);
  CHECK_NOTHROW(wide.check_draws(std::uint64_t{1} << 19, "control"));
  CHECK_THROWS_AS(wide.check_draws((std::uint64_t{1} << 19) + 1, "control"), sdeflow::invalid_argument);
  CHECK_NOTHROW(sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4), wide));
  CHECK(drift_calls == 4);

  // The samplers: a source given in the options is asked the same before the first step.
  const sdeflow::edm_process<> edm(80.0);
  std::size_t model_calls = 0;
  const sdeflow::model m(edm,
                         [&](const X& y, double) {
                           ++model_calls;
                           return X(X::Zero(y.rows(), y.cols()));
                         },
                         sdeflow::prediction::data);
  sdeflow::sampler_options<X> opt;
  opt.noise = sdeflow::counter_noise(3, 0, 0, std::uint64_t{1} << 31);
  CHECK_THROWS_WITH(sdeflow::sample(sdeflow::samplers::euler_ancestral{}, m, x0,
                                    sdeflow::time_grid<>::from_points({2.0, 1.0, 0.5, 0.0}), opt),
                    Catch::Contains("grid.steps() = 3, 1 draws per step, one more step's worth in reserve): 4 noise draws with brownian_increments substeps = 2147483648"));
  CHECK(model_calls == 0);
}
