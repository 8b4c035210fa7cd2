// SPDX-License-Identifier: MIT
// The bad-input catalogue (docs/errors.md): every entry is one bad or edge input to the public API, the
// sdeflow exception type it must raise and a fragment of the message, which names the argument the
// user passed and its value. An entry that does not throw, throws another type or a non-sdeflow
// exception, or says something else fails. Run under ASan+UBSan in the sanitizer build.
#include "support.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <typeinfo>
#include <vector>

namespace {

using X = Eigen::MatrixXd;
using grid = sdeflow::time_grid<>;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr std::uint64_t two32 = std::uint64_t{1} << 32;

/// Sizes passed through a call the optimizer cannot see into: with the constant inlined, GCC 12 warns
/// (-Warray-bounds, -Waggressive-loop-optimizations) about the loops after the size check that throws.
[[gnu::noinline]] std::size_t opaque(std::size_t v) {
  static volatile std::size_t sink = 0;
  sink = v;
  return sink;
}
const std::size_t size_max = std::numeric_limits<std::size_t>::max();

enum class kind { invalid, dimension, non_finite, integration, format, io };

const char* name_of(kind k) {
  switch (k) {
    case kind::invalid: return "invalid_argument";
    case kind::dimension: return "dimension_mismatch";
    case kind::non_finite: return "non_finite_error";
    case kind::integration: return "integration_error";
    case kind::format: return "format_error";
    case kind::io: return "io_error";
  }
  return "?";
}

bool is(const sdeflow::error& e, kind k) {
  switch (k) {
    case kind::invalid: return dynamic_cast<const sdeflow::invalid_argument*>(&e) != nullptr &&
                               dynamic_cast<const sdeflow::dimension_mismatch*>(&e) == nullptr;
    case kind::dimension: return dynamic_cast<const sdeflow::dimension_mismatch*>(&e) != nullptr;
    case kind::non_finite: return dynamic_cast<const sdeflow::non_finite_error*>(&e) != nullptr;
    case kind::integration: return dynamic_cast<const sdeflow::integration_error*>(&e) != nullptr;
    case kind::format: return dynamic_cast<const sdeflow::format_error*>(&e) != nullptr;
    case kind::io: return dynamic_cast<const sdeflow::io_error*>(&e) != nullptr;
  }
  return false;
}

struct bad_input {
  std::string input;           ///< what the user passed
  std::function<void()> call;  ///< the call with that input
  kind type;                   ///< the exception it must raise
  std::string fragment;        ///< a piece of the message: the argument's name and value
};

/// What one entry did: "" when it threw the right type with the fragment, else why not.
std::string outcome(const bad_input& b) {
  try {
    b.call();
  } catch (const sdeflow::error& e) {
    if (!is(e, b.type)) return std::string("threw another sdeflow type than ") + name_of(b.type) + ": " + e.what();
    if (std::string(e.what()).find(b.fragment) == std::string::npos) {
      return std::string("message lacks \"") + b.fragment + "\": " + e.what();
    }
    return "";
  } catch (const std::exception& e) {
    return std::string("threw a non-sdeflow exception (") + typeid(e).name() + "): " + e.what();
  } catch (...) {
    return "threw something that is not a std::exception";
  }
  return "did not throw";
}

std::size_t run(const std::vector<bad_input>& table) {
  for (const auto& b : table) {
    INFO(b.input);
    CHECK(outcome(b) == "");
  }
  return table.size();
}

const sdeflow::vp_process<>& vp() {
  static const sdeflow::vp_process<> p;
  return p;
}
const sdeflow::gaussian_mixture<>& ring() {
  static const auto m = sdeflow::gaussian_mixture<>::ring(4, 1.0, 0.2);
  return m;
}
auto vp_model() { return sdeflow::model(vp(), sdeflow::exact_score(ring(), vp()), sdeflow::prediction::score); }
auto rf_model() {
  const sdeflow::rectified_flow<> rf;
  return sdeflow::model(rf, sdeflow::exact_score(ring(), rf), sdeflow::prediction::score);
}
X prior(Eigen::Index n = 4) { return sdeflow::initial_noise(vp(), 2, n); }

std::vector<bad_input> grids_and_schedules() {
  return {
      {"uniform grid with steps = 0", [] { (void)grid::uniform(0.0, 1.0, 0); }, kind::invalid, "steps = 0"},
      {"uniform grid with steps = SIZE_MAX (steps + 1 wraps)",
       [] { (void)grid::uniform(0.0, 1.0, opaque(size_max)); }, kind::invalid,
       "steps = 18446744073709551615 must be below 2^32"},
      {"uniform grid with steps = 2^32", [] { (void)grid::uniform(0.0, 1.0, opaque(two32)); }, kind::invalid,
       "steps = 4294967296"},
      {"uniform grid from -1e308 to 1e308 (the span overflows)", [] { (void)grid::uniform(-1e308, 1e308, 4); },
       kind::invalid, "t1 - t0 = inf"},
      {"uniform grid from 1 to 1 - 1e-13 in 1000 steps (points repeat)",
       [] { (void)grid::uniform(1.0, 1.0 - 1e-13, 1000); }, kind::invalid, "time_grid::uniform: steps = 1000 gives points"},
      {"uniform grid with t0 = NaN", [] { (void)grid::uniform(nan, 1.0, 4); }, kind::invalid, "t0 = nan"},
      {"uniform grid with t1 = inf", [] { (void)grid::uniform(0.0, inf, 4); }, kind::invalid, "t1 = inf"},
      {"uniform grid with t0 == t1", [] { (void)grid::uniform(0.5, 0.5, 4); }, kind::invalid, "t1 = 0.5 must differ"},
      {"grid from one point", [] { (void)grid::from_points({0.0}); }, kind::invalid, "points.size() = 1"},
      {"grid with a NaN point", [] { (void)grid::from_points({0.0, nan, 1.0}); }, kind::invalid, "points[1] = nan"},
      {"grid with a repeated point", [] { (void)grid::from_points({1.0, 0.5, 0.5}); }, kind::invalid,
       "points[2] = 0.5 breaks strict monotonicity"},
      {"uniform_schedule with T = NaN (not reported as t_end)",
       [] { (void)sdeflow::uniform_schedule(nan, 0.0, 10); }, kind::invalid, "T = nan"},
      {"uniform_schedule with t_end = NaN", [] { (void)sdeflow::uniform_schedule(1.0, nan, 10); }, kind::invalid,
       "t_end = nan"},
      {"uniform_schedule with t_end above T", [] { (void)sdeflow::uniform_schedule(1.0, 2.0, 10); }, kind::invalid,
       "t_end = 2 must be below T = 1"},
      {"quadratic_schedule with steps = SIZE_MAX",
       [] { (void)sdeflow::quadratic_schedule(1.0, 0.0, opaque(size_max)); }, kind::invalid,
       "quadratic_schedule: steps = 18446744073709551615"},
      {"quadratic_schedule with steps = 0", [] { (void)sdeflow::quadratic_schedule(1.0, 0.0, 0); }, kind::invalid,
       "steps = 0"},
      {"quadratic_schedule with too many steps for its span",
       [] { (void)sdeflow::quadratic_schedule(1.0, 1.0 - 1e-13, 100000); }, kind::invalid,
       "quadratic_schedule: steps = 100000 gives points"},
      {"log_snr_schedule ending where sigma = 0", [] { (void)sdeflow::log_snr_schedule(vp(), 1.0, 0.0, 10); },
       kind::invalid, "t_end = 0 must have sigma(t_end) > 0"},
      {"log_snr_schedule with steps = SIZE_MAX",
       [] { (void)sdeflow::log_snr_schedule(vp(), 1.0, 0.1, opaque(size_max)); },
       kind::invalid, "log_snr_schedule: steps = 18446744073709551615"},
      {"karras_schedule with sigma_min = 0", [] { (void)sdeflow::karras_schedule(vp(), 0.0, 80.0, 10); },
       kind::invalid, "sigma_min = 0"},
      {"karras_schedule with sigma_max below sigma_min", [] { (void)sdeflow::karras_schedule(vp(), 1.0, 0.5, 10); },
       kind::invalid, "sigma_max = 0.5"},
      {"karras_schedule with rho = NaN", [] { (void)sdeflow::karras_schedule(vp(), 0.01, 10.0, 10, nan); },
       kind::invalid, "rho = nan"},
      {"exponential_schedule with sigma_min = -1", [] { (void)sdeflow::exponential_schedule(vp(), -1.0, 80.0, 10); },
       kind::invalid, "exponential_schedule: sigma_min = -1"},
      {"polyexponential_schedule with rho = 0", [] { (void)sdeflow::polyexponential_schedule(vp(), 0.01, 10.0, 10, 0.0); },
       kind::invalid, "polyexponential_schedule: rho = 0"},
      {"polyexponential_schedule with steps = 0", [] { (void)sdeflow::polyexponential_schedule(vp(), 0.01, 10.0, 0); },
       kind::invalid, "polyexponential_schedule: steps = 0"},
      {"karras_schedule with steps = 0", [] { (void)sdeflow::karras_schedule(vp(), 0.01, 10.0, 0); }, kind::invalid,
       "steps = 0"},
      {"karras_schedule with steps = SIZE_MAX",
       [] { (void)sdeflow::karras_schedule(vp(), 0.01, 10.0, opaque(size_max)); },
       kind::invalid, "karras_schedule: steps = 18446744073709551615"},
      {"time_at_sigma_ratio with r = -1", [] { (void)sdeflow::time_at_sigma_ratio(vp(), -1.0); }, kind::invalid,
       "r = -1"},
      {"DDPM timesteps with n = 0", [] { (void)sdeflow::timesteps(1000, 0, sdeflow::timestep_spacing::trailing); },
       kind::invalid, "n = 0"},
      {"DDPM timesteps with n above train_steps",
       [] { (void)sdeflow::timesteps(10, 11, sdeflow::timestep_spacing::linspace); }, kind::invalid, "n = 11"},
      {"DDPM timesteps with train_steps = 0", [] { (void)sdeflow::timesteps(0, 1, sdeflow::timestep_spacing::leading); },
       kind::invalid, "train_steps = 0"},
  };
}

std::vector<bad_input> processes() {
  return {
      {"linear_beta with beta_min = NaN", [] { (void)sdeflow::linear_beta<>(nan, 20.0); }, kind::invalid,
       "beta_min = nan"},
      {"linear_beta with horizon = inf", [] { (void)sdeflow::linear_beta<>(0.1, 20.0, inf); }, kind::invalid,
       "horizon = inf"},
      {"cosine_beta with offset = 0", [] { (void)sdeflow::cosine_beta<>(0.0); }, kind::invalid, "offset = 0"},
      {"cosine_beta with horizon = -1", [] { (void)sdeflow::cosine_beta<>(0.008, -1.0); }, kind::invalid,
       "horizon = -1"},
      {"ve_process with sigma_min = inf", [] { (void)sdeflow::ve_process<>(inf, 50.0); }, kind::invalid,
       "sigma_min = inf"},
      {"ve_process with horizon = 0", [] { (void)sdeflow::ve_process<>(0.01, 50.0, 0.0); }, kind::invalid,
       "horizon = 0"},
      {"edm_process with sigma_max = 0", [] { (void)sdeflow::edm_process<>(0.0); }, kind::invalid, "sigma_max = 0"},
      {"edm_process with sigma_max = NaN", [] { (void)sdeflow::edm_process<>(nan); }, kind::invalid,
       "sigma_max = nan"},
      {"brownian_motion with horizon = NaN", [] { (void)sdeflow::brownian_motion<>(1.0, nan); }, kind::invalid,
       "horizon = nan"},
      {"ornstein_uhlenbeck with mu = inf", [] { (void)sdeflow::ornstein_uhlenbeck<>(1.0, inf, 1.0); }, kind::invalid,
       "mu = inf"},
      {"geometric_brownian_motion with rate = NaN", [] { (void)sdeflow::geometric_brownian_motion<>(nan, 0.2); },
       kind::invalid, "rate = nan"},
      {"discrete_schedule from no betas", [] { (void)sdeflow::discrete_schedule(std::vector<double>{}); },
       kind::invalid, "betas.size() = 0"},
      {"discrete_schedule with beta = 1", [] { (void)sdeflow::discrete_schedule({0.1, 1.0}); }, kind::invalid,
       "betas[1] = 1"},
      {"discrete_schedule::linear with beta_end = 2 (named, not as betas[i])",
       [] { (void)sdeflow::discrete_schedule::linear(10, 0.1, 2.0); }, kind::invalid, "beta_end = 2 must lie in (0, 1)"},
      {"discrete_schedule::linear with beta_start = 0",
       [] { (void)sdeflow::discrete_schedule::linear(10, 0.0, 0.02); }, kind::invalid, "beta_start = 0"},
      {"discrete_schedule::linear with steps = 0", [] { (void)sdeflow::discrete_schedule::linear(0); }, kind::invalid,
       "steps = 0"},
      {"discrete_schedule::linear with steps = SIZE_MAX (was std::length_error)",
       [] { (void)sdeflow::discrete_schedule::linear(opaque(size_max)); }, kind::invalid,
       "discrete_schedule::linear: steps = 18446744073709551615"},
      {"discrete_schedule::cosine with steps = 2^32",
       [] { (void)sdeflow::discrete_schedule::cosine(opaque(two32)); }, kind::invalid, "steps = 4294967296"},
      {"discrete_schedule::cosine with offset = -0.5 (named, not as betas[0] = nan)",
       [] { (void)sdeflow::discrete_schedule::cosine(10, -0.5); }, kind::invalid, "offset = -0.5"},
      {"discrete_schedule at t above its steps", [] { (void)sdeflow::discrete_schedule::linear(10).alpha_bar(11.0); },
       kind::invalid, "t = 11"},
      {"sample_prior with d = 0", [] { (void)sdeflow::sample_prior(vp(), 0, 3, sdeflow::normal_source(1)); },
       kind::invalid, "d = 0"},
  };
}

std::vector<bad_input> noise() {
  return {
      {"integrate whose steps x substeps pass 2^32 (was: thrown at step 2^19, state half-integrated)",
       [] {
         X x = X::Zero(1, 2);
         const auto sys = sdeflow::sde([](const X& y, double) { return X(-y); }, [](double) { return 1.0; });
         (void)sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x,
                                  sdeflow::time_grid<>::uniform(0.0, 1.0, (std::size_t{1} << 19) + 1),
                                  sdeflow::brownian_increments(1, 0, 0, std::uint64_t{1} << 13));
       },
       kind::invalid, "524289 noise draws with brownian_increments substeps = 8192"},
      {"sample with options.noise whose substeps leave fewer draws than the grid needs",
       [] {
         const sdeflow::edm_process<> edm(80.0);
         const sdeflow::model m(edm, [](const X& y, double) { return X(X::Zero(y.rows(), y.cols())); },
                                sdeflow::prediction::data);
         sdeflow::sampler_options<X> opt;
         opt.noise = sdeflow::counter_noise(3, 0, 0, std::uint64_t{1} << 31);
         (void)sdeflow::sample(sdeflow::samplers::euler_ancestral{}, m, X(X::Zero(1, 2)),
                               sdeflow::time_grid<>::from_points({2.0, 1.0, 0.5, 0.0}), opt);
       },
       kind::invalid, "grid.steps() = 3, 1 draws per step, one more step's worth in reserve): 4 noise draws with brownian_increments substeps = 2147483648"},
      {"normal_source::fill with sample_offset near 2^64 (offset + cols wraps)",
       [] {
         X z(2, 3);
         sdeflow::normal_source(1).fill(z, 0, std::numeric_limits<std::uint64_t>::max());
       },
       kind::invalid, "sample_offset + cols = 18446744073709551615 + 3 must not exceed 2^32"},
      {"normal_source::fill past 2^32 samples",
       [] {
         X z(2, 3);
         sdeflow::normal_source(1).fill(z, 0, two32 - 2);
       },
       kind::invalid, "sample_offset + cols = 4294967294 + 3"},
      {"normal_source::fill with counter 2^32",
       [] {
         X z(2, 3);
         sdeflow::normal_source(1).fill(z, two32);
       },
       kind::invalid, "counter = 4294967296"},
      {"brownian_increments with substeps = 0", [] { (void)sdeflow::brownian_increments(1, 0, 0, 0); }, kind::invalid,
       "substeps = 0"},
      {"brownian_increments whose step k times substeps passes 2^32 (k * substeps would wrap)",
       [] {
         sdeflow::brownian_increments b(1, 0, 0, std::uint64_t{1} << 31);
         X dW(2, 3);
         b.increment(std::size_t{3}, 0.0, 0.1, dW);
       },
       kind::invalid, "step k = 3 with substeps = 2147483648"},
      {"brownian_increments::columns_from wrapping the sample index",
       [] { (void)sdeflow::brownian_increments(1, 5).columns_from(std::numeric_limits<std::uint64_t>::max()); },
       kind::invalid, "sample_offset + j0 = 5 + 18446744073709551615"},
      {"brownian_tree over an infinite span (W would be 0)", [] { (void)sdeflow::brownian_tree(-1e308, 1e308, 1e-3, 1); },
       kind::invalid, "t1 - t0 = inf"},
      {"brownian_tree with t1 below t0", [] { (void)sdeflow::brownian_tree(1.0, 0.0, 1e-3, 1); }, kind::invalid,
       "t1 = 0"},
      {"brownian_tree with tol = 0", [] { (void)sdeflow::brownian_tree(0.0, 1.0, 0.0, 1); }, kind::invalid, "tol = 0"},
      {"brownian_tree::columns_from wrapping the sample index",
       [] { (void)sdeflow::brownian_tree(0.0, 1.0, 1e-3, 1, 7).columns_from(std::numeric_limits<std::uint64_t>::max()); },
       kind::invalid, "sample_offset + j0 = 7 + 18446744073709551615"},
      {"brownian_tree queried outside its span",
       [] {
         const sdeflow::brownian_tree tree(0.0, 1.0, 1e-3, 1);
         X w(1, 2);
         tree.value(2.0, w);
       },
       kind::invalid, "t = 2 must lie in [0, 1]"},
      {"brownian_tree with sample offset past 2^32 at the query",
       [] {
         const sdeflow::brownian_tree tree(0.0, 1.0, 1e-3, 1, two32 - 1);
         X w(1, 2);
         tree.value(0.5, w);
       },
       kind::invalid, "sample_offset + cols = 4294967295 + 2"},
      {"recorded_noise asked for a draw it does not hold",
       [] {
         sdeflow::recorded_noise<X> r(std::vector<X>{X::Zero(2, 2)});
         X z(2, 2);
         r.normal(3, 0.0, 0.0, z);
       },
       kind::invalid, "draw k = 3"},
      {"noise_recorder asked for draw 2^32 (k + 1 would overflow the table size)",
       [] {
         sdeflow::noise_recorder<sdeflow::brownian_increments, X> rec(sdeflow::brownian_increments(1));
         X z(2, 2);
         rec.normal(two32, 0.0, 0.0, z);
       },
       kind::invalid, "draw k = 4294967296"},
      {"an empty noise_source", [] {
         sdeflow::noise_source<X> none;
         X z(2, 2);
         none.normal(0, 0.0, 0.0, z);
       },
       kind::invalid, "noise_source: empty"},
  };
}

std::vector<bad_input> mixtures_and_models() {
  const Eigen::VectorXd m2 = Eigen::Vector2d::Zero();
  const X I2 = Eigen::Matrix2d::Identity();
  return {
      {"mixture weights summing to 1.1",
       [=] { (void)sdeflow::gaussian_mixture<>({0.5, 0.6}, {m2, m2}, {I2, I2}); }, kind::invalid, "sum of weights = 1.1"},
      {"mixture with a NaN mean",
       [=] {
         Eigen::VectorXd m = m2;
         m(1) = nan;
         (void)sdeflow::gaussian_mixture<>::gaussian(m, I2);
       },
       kind::invalid, "means[0] has a non-finite entry"},
      {"mixture with no components", [] { (void)sdeflow::gaussian_mixture<>({}, {}, {}); }, kind::invalid,
       "weights.size() = 0"},
      {"mixture with mismatched covariance", [=] { (void)sdeflow::gaussian_mixture<>({1.0}, {m2}, {X::Identity(3, 3)}); },
       kind::dimension, "covariances[0] is 3 x 3"},
      {"ring with 0 modes", [] { (void)sdeflow::gaussian_mixture<>::ring(0, 1.0, 0.1); }, kind::invalid, "modes = 0"},
      {"random_anisotropic with d = 0",
       [] { (void)sdeflow::gaussian_mixture<>::random_anisotropic({1.0}, 0, 1.0, 1); }, kind::invalid, "d = 0"},
      {"mixture score on a 3-row state", [] {
         const auto s = sdeflow::exact_score(ring(), vp());
         (void)s(X::Ones(3, 2), 0.5);
       },
       kind::dimension, "x has 3 rows but the mixture has dimension 2"},
      {"a model returning the wrong shape",
       [] {
         const auto m = sdeflow::model(vp(), [](const X& x, double) { return X(x.rows() + 1, x.cols()); },
                                       sdeflow::prediction::epsilon);
         X x0(2, 3), eps(2, 3);
         m.predict(X(X::Ones(2, 3)), 0.5, x0, eps);
       },
       kind::dimension, "returned a 3 x 3 result"},
      {"guided with weight = NaN",
       [] {
         auto f = [](const X& x, double) { return x; };
         (void)sdeflow::guided(f, f, nan);
       },
       kind::invalid, "weight = nan"},
  };
}

std::vector<bad_input> integrators() {
  const auto decay = sdeflow::ode([](const X& x, double) { return X(-x); });
  const auto nan_drift = sdeflow::ode([](const X& x, double t) {
    return X(t > 0.5 ? X::Constant(x.rows(), x.cols(), nan) : X(-x));
  });
  const auto nan_at_start = sdeflow::ode([](const X& x, double) { return X::Constant(x.rows(), x.cols(), nan); });
  const auto ou = sdeflow::sde([](const X& x, double) { return X(-x); }, [](double) { return 1.0; });
  const auto ou_nan = sdeflow::sde([](const X& x, double t) { return X(t > 0.5 ? X::Constant(x.rows(), x.cols(), nan) : X(-x)); },
                                   [](double) { return 1.0; });
  auto adaptive = [](const auto& sys, double t0, double t1, sdeflow::dopri5_options o = {}) {
    X x = X::Ones(2, 3);
    (void)sdeflow::integrate_adaptive(sys, x, t0, t1, o);
  };
  auto sde_adaptive = [ou](sdeflow::sde_adaptive_options o) {
    X x = X::Ones(1, 3);
    sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 1);
    (void)sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, ou, x, 0.0, 1.0, tree, o);
  };
  return {
      {"integrate with threads = 0",
       [=] {
         X x = X::Ones(2, 3);
         (void)sdeflow::integrate(sdeflow::execution{.threads = 0}, sdeflow::rk4{}, decay, x, grid::uniform(0.0, 1.0, 4));
       },
       kind::invalid, "execution.threads = 0"},
      {"integrate with tile_columns = -2",
       [=] {
         X x = X::Ones(2, 3);
         (void)sdeflow::integrate(sdeflow::execution{.threads = 1, .tile_columns = -2}, sdeflow::rk4{}, decay, x,
                                  grid::uniform(0.0, 1.0, 4));
       },
       kind::invalid, "execution.tile_columns = -2"},
      {"integrate from a NaN state",
       [=] {
         X x = X::Constant(2, 3, nan);
         (void)sdeflow::integrate(sdeflow::euler{}, decay, x, grid::uniform(0.0, 1.0, 4));
       },
       kind::non_finite, "step 0"},
      {"dopri5 with rtol = NaN", [=] { adaptive(decay, 0.0, 1.0, {.rtol = nan}); }, kind::invalid, "rtol = nan"},
      {"dopri5 with rtol = atol = 0", [=] { adaptive(decay, 0.0, 1.0, {.rtol = 0, .atol = 0}); }, kind::invalid,
       "rtol + atol = 0"},
      {"dopri5 with safety = 2", [=] { adaptive(decay, 0.0, 1.0, {.safety = 2}); }, kind::invalid, "safety = 2"},
      {"dopri5 with dt_initial = NaN", [=] { adaptive(decay, 0.0, 1.0, {.dt_initial = nan}); }, kind::invalid,
       "dt_initial = nan"},
      {"dopri5 with dt_min = NaN", [=] { adaptive(decay, 0.0, 1.0, {.dt_min = nan}); }, kind::invalid, "dt_min = nan"},
      {"dopri5 with max_steps = 0", [=] { adaptive(decay, 0.0, 1.0, {.max_steps = 0}); }, kind::invalid,
       "max_steps = 0"},
      {"dopri5 from t0 = NaN", [=] { adaptive(decay, nan, 1.0); }, kind::invalid, "t0 = nan"},
      {"dopri5 with t1 == t0", [=] { adaptive(decay, 1.0, 1.0); }, kind::invalid, "t1 = 1"},
      {"dopri5 with max_steps reached", [=] { adaptive(decay, 0.0, 100.0, {.rtol = 1e-12, .atol = 1e-12, .max_steps = 3}); },
       kind::integration, "max_steps = 3 reached"},
      {"dopri5 with a drift that turns NaN (not reported as a step-size failure)", [=] { adaptive(nan_drift, 0.0, 1.0); },
       kind::non_finite, "non-finite values at t = "},
      {"dopri5 with a drift that is NaN at the start", [=] { adaptive(nan_at_start, 0.0, 1.0); }, kind::non_finite,
       "the drift at t0 = 0 is not finite"},
      {"dopri5 with output times out of order",
       [=] {
         X x = X::Ones(1, 1);
         (void)sdeflow::integrate_adaptive(decay, x, 0.0, 1.0, {}, std::vector<double>{0.5, 0.25});
       },
       kind::invalid, "output_times[1] = 0.25"},
      {"adaptive SDE with rtol = -1", [=] { sde_adaptive({.rtol = -1}); }, kind::invalid, "rtol = -1"},
      {"adaptive SDE with dt_initial = NaN (was silently the default)", [=] { sde_adaptive({.dt_initial = nan}); },
       kind::invalid, "dt_initial = nan"},
      {"adaptive SDE with dt_min = NaN (was silently no minimum)", [=] { sde_adaptive({.dt_min = nan}); },
       kind::invalid, "dt_min = nan"},
      {"adaptive SDE with min_factor = NaN", [=] { sde_adaptive({.min_factor = nan}); }, kind::invalid,
       "min_factor = nan"},
      {"adaptive SDE with max_factor = inf", [=] { sde_adaptive({.max_factor = inf}); }, kind::invalid,
       "max_factor = inf"},
      {"adaptive SDE with a drift that turns NaN (not reported as a step-size failure)",
       [=] {
         X x = X::Ones(1, 3);
         sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 1);
         (void)sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, ou_nan, x, 0.0, 1.0, tree);
       },
       kind::non_finite, "non-finite values at t = "},
      {"adaptive SDE beyond the tree's span",
       [=] {
         X x = X::Ones(1, 3);
         sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 1);
         (void)sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, ou, x, 0.0, 2.0, tree);
       },
       kind::invalid, "must lie in [0, 1]"},
  };
}

std::vector<bad_input> samplers() {
  const auto m = vp_model();
  const auto g = sdeflow::uniform_schedule(1.0, 1e-3, 10);
  return {
      {"sampler temperature = NaN", [=] { (void)sdeflow::sample_ddim(m, prior(), g, 0.0, {.temperature = nan}); },
       kind::invalid, "temperature = nan"},
      {"sampler temperature = -1", [=] { (void)sdeflow::sample_ddim(m, prior(), g, 0.0, {.temperature = -1}); },
       kind::invalid, "temperature = -1"},
      {"sampler on an increasing grid", [=] { (void)sdeflow::sample_ddim(m, prior(), grid::uniform(0.0, 1.0, 4)); },
       kind::invalid, "grid.back() = 1 must be below grid.front()"},
      {"sampler grid above the horizon", [=] { (void)sdeflow::sample_ddim(m, prior(), grid::uniform(2.0, 0.0, 4)); },
       kind::invalid, "grid.front() = 2 must not exceed the process's horizon"},
      {"sampler grid below t = 0", [=] { (void)sdeflow::sample_ddim(m, prior(), grid::uniform(1.0, -0.5, 4)); },
       kind::invalid, "grid.back() = -0.5"},
      {"sampler with threads = 0",
       [=] { (void)sdeflow::sample_ddim(m, prior(), g, 0.0, {.exec = {.threads = 0}}); }, kind::invalid,
       "execution.threads = 0"},
      {"sampler with sample_offset + n past 2^32",
       [=] { (void)sdeflow::sample_ddim(m, prior(), g, 1.0, {.sample_offset = two32 - 1}); }, kind::invalid,
       "sample_offset + cols = 4294967295 + 4"},
      {"sampler with sample_offset near 2^64 (the sum wraps)",
       [=] { (void)sdeflow::sample_ddim(m, prior(), g, 1.0, {.sample_offset = std::numeric_limits<std::uint64_t>::max()}); },
       kind::invalid, "must not exceed 2^32"},
      {"initial_noise with n = -1", [] { (void)sdeflow::initial_noise(vp(), 2, -1); }, kind::invalid, "n = -1"},
      {"initial_noise with sample_offset + n past 2^32 (checked before allocating)",
       [] { (void)sdeflow::initial_noise(vp(), 2, 3, sdeflow::sampler_options<X>{.sample_offset = two32 - 1}); },
       kind::invalid, "initial_noise: sample_offset + n = 4294967295 + 3"},
      {"sample_prior with offset + n past 2^32",
       [] { (void)sdeflow::sample_prior(vp(), 2, 3, sdeflow::normal_source(1), two32); }, kind::invalid,
       "sample_prior: offset + n = 4294967296 + 3"},
      {"mixture sample with offset + n past 2^32",
       [] { (void)ring().sample(3, 1.0, 0.5, sdeflow::normal_source(1), two32 - 1); }, kind::invalid,
       "gaussian_mixture::sample: offset + n = 4294967295 + 3"},
      {"initial_noise with d = 0", [] { (void)sdeflow::initial_noise(vp(), 0, 3); }, kind::invalid, "d = 0"},
      {"sdedit_start with t0 = 0", [] { (void)sdeflow::sdedit_start(vp(), X(X::Zero(2, 3)), 0.0); }, kind::invalid,
       "t0 = 0"},
      {"DDIM eta = 1.5", [=] { (void)sdeflow::sample_ddim(m, prior(), g, 1.5); }, kind::invalid, "eta = 1.5"},
      {"DDIM eta = NaN", [=] { (void)sdeflow::sample_ddim(m, prior(), g, nan); }, kind::invalid, "eta = nan"},
      {"Euler ancestral eta = -0.1", [=] { (void)sdeflow::sample_euler_ancestral(m, prior(), g, -0.1); }, kind::invalid,
       "eta = -0.1"},
      {"DPM-Solver++ SDE eta = inf", [=] { (void)sdeflow::sample_dpmpp_2m_sde(m, prior(), g, inf); }, kind::invalid,
       "eta = inf"},
      {"DPM-2 ancestral eta = 1.5", [=] { (void)sdeflow::sample_dpm_2_ancestral(m, prior(), g, 1.5); }, kind::invalid,
       "dpm_2_ancestral: eta = 1.5"},
      {"DPM-Solver++(2S) ancestral eta = NaN", [=] { (void)sdeflow::sample_dpmpp_2s_ancestral(m, prior(), g, nan); },
       kind::invalid, "dpmpp_2s_ancestral: eta = nan"},
      {"DPM-Solver++(3M) SDE eta = -1", [=] { (void)sdeflow::sample_dpmpp_3m_sde(m, prior(), g, -1.0); }, kind::invalid,
       "dpmpp_3m_sde: eta = -1"},
      {"LMS order = 5", [=] { (void)sdeflow::sample_lms(m, prior(), g, 5); }, kind::invalid, "lms: order = 5"},
      {"DPM-Solver++ SDE r = 0", [=] { (void)sdeflow::sample(sdeflow::samplers::dpmpp_sde{.r = 0.0}, m, prior(), g); },
       kind::invalid, "dpmpp_sde: r = 0"},
      {"UniPC order = 0", [=] { (void)sdeflow::sample_unipc(m, prior(), g, 0); }, kind::invalid, "unipc: order = 0"},
      {"DEIS order = 4", [=] { (void)sdeflow::sample(sdeflow::samplers::deis{4}, m, prior(), g); }, kind::invalid,
       "deis: order = 4"},
      {"EDM churn s_churn = -1", [=] { (void)sdeflow::sample_edm_heun(m, prior(), g, {.s_churn = -1}); },
       kind::invalid, "s_churn = -1"},
      {"EDM churn s_tmin = NaN (was silently no churn)",
       [=] { (void)sdeflow::sample_edm_heun(m, prior(), g, {.s_churn = 10, .s_tmin = nan}); }, kind::invalid,
       "s_tmin = nan"},
      {"EDM churn s_tmax = NaN (was silently no churn)",
       [=] { (void)sdeflow::sample_edm_heun(m, prior(), g, {.s_churn = 10, .s_tmax = nan}); }, kind::invalid,
       "s_tmax = nan"},
      {"EDM churn s_noise = NaN", [=] { (void)sdeflow::sample_edm_heun(m, prior(), g, {.s_noise = nan}); },
       kind::invalid, "s_noise = nan"},
      {"EDM churn on a grid starting above the horizon",
       [=] { (void)sdeflow::sample_edm_heun(m, prior(), grid::uniform(1.5, 0.01, 4), {.s_churn = 10}); },
       kind::invalid, "grid.front() = 1.5"},
      {"PC snr = 0", [=] { (void)sdeflow::sample_predictor_corrector(vp(), sdeflow::exact_score(ring(), vp()), prior(), g, {.snr = 0}); },
       kind::invalid, "snr = 0"},
      {"PC corrector_steps = SIZE_MAX (corrector_steps + 1 wraps)",
       [=] {
         (void)sdeflow::sample_predictor_corrector(vp(), sdeflow::exact_score(ring(), vp()), prior(), g,
                                                   {.corrector_steps = opaque(size_max)});
       },
       kind::invalid, "corrector_steps = 18446744073709551615"},
      {"PC with threads but no tile size",
       [=] {
         (void)sdeflow::sample_predictor_corrector(vp(), sdeflow::exact_score(ring(), vp()), prior(), g, {},
                                                   {.exec = {.threads = 2}});
       },
       kind::invalid, "couples the samples"},
      {"annealed Langevin with steps_per_level = 0",
       [=] { (void)sdeflow::sample_annealed_langevin(vp(), sdeflow::exact_score(ring(), vp()), prior(), g, 0, 1e-3); },
       kind::invalid, "steps_per_level = 0"},
      {"annealed Langevin with step_size = NaN",
       [=] { (void)sdeflow::sample_annealed_langevin(vp(), sdeflow::exact_score(ring(), vp()), prior(), g, 2, nan); },
       kind::invalid, "step_size = nan"},
      {"annealed Langevin with levels ending at sigma = 0",
       [=] {
         (void)sdeflow::sample_annealed_langevin(vp(), sdeflow::exact_score(ring(), vp()), prior(),
                                                 grid::uniform(1.0, 0.0, 4), 2, 1e-3);
       },
       kind::invalid, "grid.back() = 0 must have sigma(t) > 0"},
      {"annealed Langevin with steps_per_level times steps past 2^32 noise draws",
       [=] {
         (void)sdeflow::sample_annealed_langevin(vp(), sdeflow::exact_score(ring(), vp()), prior(), g, opaque(two32 - 1), 1e-3);
       },
       kind::invalid, "needs noise counters past 2^32"},
      {"sample_flow on a VP grid ending at t = 0 (dsigma/dt is infinite there)",
       [=] { (void)sdeflow::sample_flow(m, prior(), sdeflow::uniform_schedule(1.0, 0.0, 10)); }, kind::invalid,
       "flow: grid point 10 (t = 0)"},
      {"sample_flow on a Karras grid under VP (it ends at t = 0)",
       [=] { (void)sdeflow::sample_flow(m, prior(), sdeflow::karras_schedule(vp(), 0.01, 10.0, 8)); }, kind::invalid,
       "end the grid at t > 0"},
      {"Euler (k-diffusion) on rectified flow's 1 -> 0 grid (s(1) = 0)",
       [] { (void)sdeflow::sample_euler(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "euler: grid point 0 (t = 1) has s(t) = 0"},
      {"Euler ancestral on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample_euler_ancestral(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "euler_ancestral: grid point 0"},
      {"EDM Heun on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample_edm_heun(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "edm_heun: grid point 0"},
      {"DPM-Solver++(2M) on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample_dpmpp_2m(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "dpmpp_2m: grid point 0"},
      {"DPM-Solver++ SDE on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample_dpmpp_2m_sde(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "dpmpp_2m_sde: grid point 0"},
      {"DPM-2 on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample_dpm_2(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "dpm_2: grid point 0"},
      {"DPM-Solver++(3M) on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample(sdeflow::samplers::dpmpp_3m{}, rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); },
       kind::invalid, "dpmpp_3m: grid point 0"},
      {"LMS on rectified flow's 1 -> 0 grid",
       [] { (void)sdeflow::sample_lms(rf_model(), prior(), grid::uniform(1.0, 0.0, 10)); }, kind::invalid,
       "lms: grid point 0"},
      {"sampling_run stepped after it is done",
       [=] {
         sdeflow::sampling_run run(sdeflow::samplers::ddim{}, m, prior(), sdeflow::uniform_schedule(1.0, 0.01, 1));
         run.step();
         run.step();
       },
       kind::invalid, "the run is done (1 of 1 steps taken)"},
      {"sampling_run whose state changed shape",
       [=] {
         sdeflow::sampling_run run(sdeflow::samplers::ddim{}, m, prior(), sdeflow::uniform_schedule(1.0, 0.01, 2));
         run.state().resize(2, 5);
         run.step();
       },
       kind::dimension, "the state is 2 x 5 but the run was made for 2 x 4"},
      {"sampling_run stepped on an empty batch",
       [=] {
         sdeflow::sampling_run run(sdeflow::samplers::ddim{}, m, X(2, 0), sdeflow::uniform_schedule(1.0, 0.01, 2));
         run.step();
       },
       kind::invalid, "the batch is empty"},
  };
}

std::vector<bad_input> likelihood_and_flows() {
  const auto s = sdeflow::exact_score(ring(), vp());
  return {
      {"log_likelihood with t_end beyond the horizon",
       [=] { (void)sdeflow::log_likelihood(vp(), s, X(X::Zero(2, 3)), {.t_end = 2.0}); }, kind::invalid,
       "t_end = 2 must not exceed the process's horizon 1"},
      {"log_likelihood with t_end = NaN (was the horizon)",
       [=] { (void)sdeflow::log_likelihood(vp(), s, X(X::Zero(2, 3)), {.t_end = nan}); }, kind::invalid, "t_end = nan"},
      {"log_likelihood with t_start = -1",
       [=] { (void)sdeflow::log_likelihood(vp(), s, X(X::Zero(2, 3)), {.t_start = -1}); }, kind::invalid,
       "t_start = -1"},
      {"log_likelihood with t_start above t_end",
       [=] { (void)sdeflow::log_likelihood(vp(), s, X(X::Zero(2, 3)), {.t_start = 0.8, .t_end = 0.5}); },
       kind::invalid, "t_end = 0.5 must be finite and > t_start"},
      {"log_likelihood with one Hutchinson probe",
       [=] {
         (void)sdeflow::log_likelihood(vp(), s, X(X::Zero(2, 3)),
                                       {.divergence = sdeflow::divergence_estimator::hutchinson, .probes = 1});
       },
       kind::invalid, "probes = 1"},
      {"log_likelihood with 2^32 Hutchinson probes",
       [=] {
         (void)sdeflow::log_likelihood(vp(), s, X(X::Zero(2, 3)),
                                       {.divergence = sdeflow::divergence_estimator::hutchinson, .probes = opaque(two32)});
       },
       kind::invalid, "probes = 4294967296 must be below 2^32"},
      {"log_likelihood on a 0-row batch", [=] { (void)sdeflow::log_likelihood(vp(), s, X(0, 3)); }, kind::invalid,
       "x.rows() = 0"},
      {"encode with t_end beyond the horizon", [=] { (void)sdeflow::encode(vp(), s, X(X::Zero(2, 3)), {.t_end = 5.0}); },
       kind::invalid, "encode: t_end = 5"},
      {"decode with rtol = NaN",
       [=] { (void)sdeflow::decode(vp(), s, X(X::Zero(2, 3)), {.ode = {.rtol = nan}}); }, kind::invalid, "rtol = nan"},
      {"bits_per_dim with scale = 0", [] { (void)sdeflow::bits_per_dim(Eigen::RowVectorXd::Zero(3), 2, 0.0); },
       kind::invalid, "scale = 0"},
  };
}

/// A safetensors file from its JSON header and n data bytes.
std::vector<unsigned char> safetensors_bytes(const std::string& header, std::size_t data_bytes) {
  std::string all(8, '\0');
  const std::uint64_t n = header.size();
  for (std::size_t k = 0; k < 8; ++k) all[k] = static_cast<char>((n >> (8 * k)) & 0xFF);
  all += header;
  all.append(data_bytes, '\0');
  return std::vector<unsigned char>(all.begin(), all.end());
}
std::string one_tensor(const std::string& key) {
  return "{\"" + key + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
}

std::vector<bad_input> files_and_diagnostics() {
  const std::string dir = std::filesystem::temp_directory_path().string();
  return {
      {"safetensors::load of a directory (was std::ios_failure)", [=] { (void)sdeflow::safetensors::load(dir); },
       kind::io, "it is a directory"},
      {"safetensors::load of a missing file", [] { (void)sdeflow::safetensors::load("/nonexistent/x.safetensors"); },
       kind::io, "cannot open '/nonexistent/x.safetensors'"},
      {"safetensors::parse of 3 bytes", [] { (void)sdeflow::safetensors::parse({1, 2, 3}); }, kind::format, ""},
      {"safetensors key with a stray UTF-8 continuation byte",
       [] { (void)sdeflow::safetensors::parse(safetensors_bytes(one_tensor("w\x80"), 4)); }, kind::format,
       "invalid UTF-8 lead byte"},
      {"safetensors key with an overlong UTF-8 form (C0 AF)",
       [] { (void)sdeflow::safetensors::parse(safetensors_bytes(one_tensor("\xC0\xAF"), 4)); }, kind::format,
       "invalid UTF-8 lead byte"},
      {"safetensors key with a UTF-8 encoded surrogate (ED A0 80)",
       [] { (void)sdeflow::safetensors::parse(safetensors_bytes(one_tensor("\xED\xA0\x80"), 4)); }, kind::format,
       "invalid UTF-8 continuation byte"},
      {"safetensors key with a truncated UTF-8 sequence",
       [] { (void)sdeflow::safetensors::parse(safetensors_bytes(one_tensor("\xE2\x82"), 4)); }, kind::format,
       "invalid UTF-8 continuation byte"},
      {"safetensors key above U+10FFFF (F4 90 80 80)",
       [] { (void)sdeflow::safetensors::parse(safetensors_bytes(one_tensor("\xF4\x90\x80\x80"), 4)); },
       kind::format, "invalid UTF-8 continuation byte"},
      {"safetensors tensor of an undecoded dtype with reject_undecoded_dtypes", [] {
         sdeflow::safetensors_options strict;
         strict.reject_undecoded_dtypes = true;
         (void)sdeflow::safetensors::parse(
             safetensors_bytes(R"({"q":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4), strict);
       },
       kind::format, "\"q\" has dtype \"F8_E4M3\", which this reader does not decode"},
      {"safetensors info of a skipped tensor (undecoded dtype, default options)", [] {
         (void)sdeflow::safetensors::parse(
             safetensors_bytes(R"({"q":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4)).info("q");
       },
       kind::format, "\"q\" has dtype \"F8_E4M3\", which this reader does not decode, so it was skipped"},
      {"safetensors dtype the format does not define (empty)", [] {
         (void)sdeflow::safetensors::parse(safetensors_bytes(R"({"q":{"dtype":"","shape":[4],"data_offsets":[0,4]}})", 4));
       },
       kind::format, "unknown dtype \"\" (not one the safetensors format defines)"},
      {"safetensors dimension above 2^63 - 1 in an empty tensor (was: Eigen::Index overflow in matrix())",
       [] {
         (void)sdeflow::safetensors::parse(
             safetensors_bytes(R"({"w":{"dtype":"F64","shape":[9223372036854775808,0],"data_offsets":[0,0]}})", 0));
       },
       kind::format, "has a dimension 9223372036854775808 above 2^63 - 1"},
      {"safetensors_writer::add of a name already added", [] {
         const Eigen::MatrixXd w = Eigen::MatrixXd::Zero(1, 1);
         sdeflow::safetensors_writer().add("w", w).add("w", w);
       },
       kind::invalid, "name = w was already added"},
      {"mlp::load of a directory", [=] { (void)sdeflow::mlp<double>::load(dir); }, kind::io, "it is a directory"},
      {"safetensors_writer::save into a missing directory (was format_error)",
       [] {
         sdeflow::safetensors_writer w;
         w.add("w", Eigen::MatrixXd(Eigen::MatrixXd::Zero(2, 2)));
         w.save("/nonexistent/dir/w.safetensors");
       },
       kind::io, "cannot open '/nonexistent/dir/w.safetensors' for writing"},
      {"write_npy into a missing directory",
       [] { sdeflow::write_npy("/nonexistent/dir/x.npy", X(X::Zero(2, 2))); }, kind::io, "cannot open"},
      {"read_npy of a missing file", [] { (void)sdeflow::read_npy("/nonexistent/dir/x.npy"); }, kind::io,
       "cannot open '/nonexistent/dir/x.npy' for reading"},
      {"parse_npy of a file cut inside its data",
       [] {
         std::string f("\x93NUMPY\x01\x00\x76\x00", 10);
         f += "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }";
         f.append(128 - 1 - f.size(), ' ');
         f += '\n';
         f.append(8, '\0');
         (void)sdeflow::parse_npy(f);
       },
       kind::format, "needs 128 data bytes, the file has 8 (truncated)"},
      {"histogram with hi below lo", [] { (void)sdeflow::histogram(1.0, 0.0, 4); }, kind::invalid, "hi = 0"},
      {"histogram with bins = SIZE_MAX (was std::length_error)",
       [] { (void)sdeflow::histogram(0.0, 1.0, opaque(size_max)); }, kind::invalid,
       "bins = 18446744073709551615"},
      {"histogram with 0 bins", [] { (void)sdeflow::histogram(0.0, 1.0, 0); }, kind::invalid, "bins = 0"},
      {"histogram over an overflowing range", [] { (void)sdeflow::histogram(-1.7e308, 1.7e308, 4); }, kind::invalid,
       "hi - lo = inf"},
      {"histogram given a NaN", [] {
         sdeflow::histogram h(0.0, 1.0, 4);
         h.add(X(X::Constant(1, 1, nan)));
       },
       kind::invalid, "is NaN"},
      {"split_samples with parts = 0", [] { (void)sdeflow::split_samples(10, 0, 0); }, kind::invalid, "parts = 0"},
      {"running_moments with d = 0", [] { (void)sdeflow::running_moments<double>(0); }, kind::invalid, "d = 0"},
      {"running_moments given a 3-row batch for d = 2", [] {
         sdeflow::running_moments<double> r(2);
         r.add(X(X::Zero(3, 2)));
       },
       kind::dimension, "x has 3 rows, expected 2"},
      {"covariance of one sample", [] {
         sdeflow::running_moments<double> r(2);
         r.add(X(X::Zero(2, 1)));
         (void)r.covariance();
       },
       kind::invalid, "count() = 1"},
      {"mmd_rbf with bandwidth = 0", [] { (void)sdeflow::mmd_rbf(X(X::Zero(2, 3)), X(X::Zero(2, 3)), 0.0); },
       kind::invalid, "bandwidth = 0"},
      {"sliced_wasserstein between sets of different dimension",
       [] { (void)sdeflow::sliced_wasserstein(X(X::Zero(2, 3)), X(X::Zero(3, 3))); }, kind::dimension,
       "a has 2 rows but b has 3"},
      {"sample_covariance of one sample", [] { (void)sdeflow::sample_covariance(X(X::Zero(2, 1))); }, kind::invalid,
       "x.cols() = 1"},
  };
}

}  // namespace

TEST_CASE("bad-input catalogue: time grids and schedules", "[errors][catalogue]") { run(grids_and_schedules()); }
TEST_CASE("bad-input catalogue: processes", "[errors][catalogue]") { run(processes()); }
TEST_CASE("bad-input catalogue: noise sources", "[errors][catalogue]") { run(noise()); }
TEST_CASE("bad-input catalogue: mixtures and models", "[errors][catalogue]") { run(mixtures_and_models()); }
TEST_CASE("bad-input catalogue: integrators", "[errors][catalogue]") { run(integrators()); }
TEST_CASE("bad-input catalogue: samplers", "[errors][catalogue]") { run(samplers()); }
TEST_CASE("bad-input catalogue: likelihood and flows", "[errors][catalogue]") { run(likelihood_and_flows()); }
TEST_CASE("bad-input catalogue: files and diagnostics", "[errors][catalogue]") { run(files_and_diagnostics()); }

TEST_CASE("bad-input catalogue: control, well-formed UTF-8 keys parse", "[errors][catalogue]") {
  // e-acute (2 bytes), the euro sign (3), U+10FFFF (4): the same builder as the rejected keys above.
  for (const std::string key : {"caf\xC3\xA9", "\xE2\x82\xAC", "\xF4\x8F\xBF\xBF"}) {
    const auto f = sdeflow::safetensors::parse(safetensors_bytes(one_tensor(key), 4));
    CHECK(f.contains(key));
  }
}

TEST_CASE("bad-input catalogue: it holds at least 100 entries, and its checker rejects wrong outcomes", "[errors][catalogue]") {
  const std::size_t total = grids_and_schedules().size() + processes().size() + noise().size() +
                            mixtures_and_models().size() + integrators().size() + samplers().size() +
                            likelihood_and_flows().size() + files_and_diagnostics().size();
  CHECK(total >= 100);
  // Negative controls: the checker itself must reject each wrong outcome.
  CHECK(outcome({"no throw", [] {}, kind::invalid, "x"}) == "did not throw");
  CHECK(outcome({"std type", [] { throw std::length_error("vector"); }, kind::invalid, "x"}).find("non-sdeflow") !=
        std::string::npos);
  CHECK(outcome({"wrong type", [] { (void)grid::uniform(0.0, 1.0, 0); }, kind::dimension, "steps"})
            .find("another sdeflow type") != std::string::npos);
  CHECK(outcome({"wrong fragment", [] { (void)grid::uniform(0.0, 1.0, 0); }, kind::invalid, "t0 = "})
            .find("message lacks") != std::string::npos);
  // dimension_mismatch is an invalid_argument, but the catalogue tells them apart.
  CHECK(outcome({"subtype", [] { throw sdeflow::dimension_mismatch("m"); }, kind::invalid, "m"})
            .find("another sdeflow type") != std::string::npos);
}
