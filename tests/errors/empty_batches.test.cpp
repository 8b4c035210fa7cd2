// SPDX-License-Identifier: MIT
// The one rule for empty batches (core/types.hpp, docs/errors.md): a state with no entries is valid
// input to every driver, which returns it unchanged at once with a zero report and calls no drift,
// model, noise source or observer. Each driver is run on a 2 x 0 batch with counting callbacks; the
// controls run the same drivers on a 2 x 1 batch and see the counters move, so the counters can fail.
#include "support.hpp"

#include <atomic>
#include <cstddef>

namespace {

using X = Eigen::MatrixXd;

struct counts {
  std::atomic<int> calls{0};
};

/// An exact mixture score under VP that counts its evaluations.
struct counting_score {
  counts* c;
  sdeflow::mixture_score<sdeflow::vp_process<>> s;
  X operator()(const X& x, double t) const {
    ++c->calls;
    return s(x, t);
  }
  X jvp(const X& x, double t, const X& v) const {
    ++c->calls;
    return s.jvp(x, t, v);
  }
  Eigen::RowVectorXd divergence(const X& x, double t) const {
    ++c->calls;
    return s.divergence(x, t);
  }
};

counting_score score_of(counts& c) {
  static const auto ring = sdeflow::gaussian_mixture<>::ring(4, 1.0, 0.2);
  return counting_score{&c, sdeflow::exact_score(ring, sdeflow::vp_process<>{})};
}

auto counting_observer(counts& c) {
  return [&c](std::size_t, double, const X&) {
    ++c.calls;
    return true;
  };
}

/// Runs every driver on x; returns the number of callback calls (drift, score, model, observer) and
/// the largest evaluations / steps count any report gave.
struct tally {
  int calls = 0;
  std::size_t reported = 0;
};

tally run_everything(const X& x0) {
  counts c;
  tally out;
  auto note = [&](std::size_t a, std::size_t b = 0) { out.reported = std::max({out.reported, a, b}); };
  const auto decay = sdeflow::ode([&c](const X& x, double) {
    ++c.calls;
    return X(-x);
  });
  const auto ou = sdeflow::sde(
      [&c](const X& x, double) {
        ++c.calls;
        return X(-x);
      },
      [](double) { return 1.0; });
  const auto g = sdeflow::time_grid<>::uniform(0.0, 1.0, 4);
  const auto back = sdeflow::uniform_schedule(1.0, 0.01, 4);
  const sdeflow::vp_process<> vp;
  const auto model = sdeflow::model(vp, score_of(c), sdeflow::prediction::score);

  auto check_unchanged = [&](const X& x) {
    CHECK(x.rows() == x0.rows());
    CHECK(x.cols() == x0.cols());
    if (x0.size() == 0) CHECK(x.size() == 0);
  };

  // Fixed-grid integrate: untiled, tiled on two threads, SDE.
  for (const auto& exec : {sdeflow::execution{.threads = 1, .tile_columns = sdeflow::execution::untiled},
                           sdeflow::execution{.threads = 2, .tile_columns = 0}}) {
    X x = x0;
    const auto r = sdeflow::integrate(exec, sdeflow::rk4{}, decay, x, g, counting_observer(c));
    note(r.steps, r.evaluations);
    check_unchanged(x);
    X y = x0;
    const auto q = sdeflow::integrate(exec, sdeflow::euler_maruyama{}, ou, y, g, sdeflow::brownian_increments(1),
                                      counting_observer(c));
    note(q.steps, q.evaluations);
    check_unchanged(y);
  }
  {
    X x = x0;
    const auto r = sdeflow::integrate_adaptive(decay, x, 0.0, 1.0, {}, {0.5}, counting_observer(c));
    note(r.accepted + r.rejected, r.evaluations);
    check_unchanged(x);
  }
  {
    X x = x0;
    sdeflow::brownian_tree tree(0.0, 1.0, 1e-4, 1);
    const auto r = sdeflow::integrate_sde_adaptive(sdeflow::euler_maruyama{}, ou, x, 0.0, 1.0, tree, {},
                                                   counting_observer(c));
    note(r.accepted + r.rejected, r.evaluations);
    check_unchanged(x);
  }
  // The sampling engine: a deterministic, a stochastic, a multistep and a batch-coupling sampler.
  const sdeflow::sampler_options<X> with_observer{.observer = counting_observer(c)};
  for (const auto& r : {sdeflow::sample(sdeflow::samplers::ddim{}, model, x0, back, with_observer),
                        sdeflow::sample(sdeflow::samplers::ddpm{}, model, x0, back, with_observer),
                        sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, model, x0, back, with_observer),
                        sdeflow::sample(sdeflow::samplers::predictor_corrector{}, model, x0, back, with_observer),
                        sdeflow::sample(sdeflow::samplers::annealed_langevin{2, 1e-4, true}, model, x0, back, with_observer),
                        sdeflow::sample(sdeflow::samplers::reverse_sde<>{}, model, x0, back, with_observer)}) {
    note(r.report.steps, r.report.evaluations);
    check_unchanged(r.samples);
  }
  {
    const auto s = score_of(c);
    const X z = sdeflow::encode(vp, s, x0);
    check_unchanged(z);
    const X y = sdeflow::decode(vp, s, z);
    check_unchanged(y);
    // log_likelihood needs d >= 1 (a density in no dimensions is not defined): only 0 columns are empty there.
    for (const auto div : {sdeflow::divergence_estimator::exact, sdeflow::divergence_estimator::hutchinson}) {
      if (x0.rows() == 0) break;
      const auto l = sdeflow::log_likelihood(vp, s, x0, {.divergence = div, .probes = 2, .t_start = 1e-3});
      CHECK(l.log_likelihood.size() == x0.cols());
      note(l.report.accepted, l.report.evaluations);
    }
  }
  out.calls = c.calls.load();
  return out;
}

}  // namespace

TEST_CASE("empty batches: every driver returns a 2 x 0 batch unchanged and calls nothing", "[errors][empty]") {
  const tally t = run_everything(X(2, 0));
  CHECK(t.calls == 0);
  CHECK(t.reported == 0);
}

TEST_CASE("empty batches: a 0 x 3 state is empty too", "[errors][empty]") {
  const tally t = run_everything(X(0, 3));
  CHECK(t.calls == 0);
  CHECK(t.reported == 0);
}

TEST_CASE("empty batches: control, the same drivers on one sample call their callbacks and report work", "[errors][empty]") {
  const tally t = run_everything(X::Constant(2, 1, 0.3));
  CHECK(t.calls > 100);
  CHECK(t.reported > 0);
}
