// SPDX-License-Identifier: MIT
// Noise sources as a policy: recorded tables, the user's generator and the Brownian tree drive the
// samplers and the SDE driver; the draws a sampler is given are the draws it uses.
#include "samplers/sampler_support.hpp"

#include <random>

using X = Eigen::MatrixXd;

TEST_CASE("a normal-only source drives integrate: a recorded run replays bit for bit", "[noise]") {
  const auto ou = sdeflow::sde([](const X& y, double) { return X(-y); }, [](double) { return 0.7; });
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 25);
  X a = X::Ones(2, 30), b = a, c = a;
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, a, grid, sdeflow::brownian_increments(5, 10));
  sdeflow::noise_recorder<sdeflow::counter_noise, X> rec(sdeflow::counter_noise(5, 10));
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, b, grid, rec);
  CHECK((a.array() == b.array()).all());
  CHECK(rec.table().size() == 25);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, c, grid, rec.replay());
  CHECK((a.array() == c.array()).all());
  // Past the end of a table: a clear error naming the draw.
  X d = X::Ones(2, 30);
  CHECK_THROWS_WITH(sdeflow::integrate(sdeflow::euler_maruyama{}, ou, d, sdeflow::time_grid<>::uniform(0.0, 1.0, 26),
                                       rec.replay()),
                    Catch::Contains("draw k = 25"));
  sdeflow::noise_source<X> empty;
  CHECK_THROWS_WITH(empty.normal(0, 0.0, 1.0, d), Catch::Contains("empty"));
}

TEST_CASE("the user's own generator: draws in call order, used as given", "[noise]") {
  const sdeflow::vp_process<> vp;
  const auto m = sdeflow_test::exact_model(sdeflow_test::ring(), vp);
  const auto grid = sdeflow::uniform_schedule(1.0, 0.0, 6);
  const X x = sdeflow::initial_noise(vp, 2, 4, grid);
  auto make = [] {
    return sdeflow::generator_noise([rng = std::mt19937_64(42)](X& z) mutable {
      // A deliberately simple generator (not the library's): sums of 12 uniforms minus 6.
      std::uniform_real_distribution<double> u(0.0, 1.0);
      for (Eigen::Index i = 0; i < z.size(); ++i) {
        double s = -6;
        for (int k = 0; k < 12; ++k) s += u(rng);
        z.data()[i] = s;
      }
    });
  };
  const X a = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.noise = make()}).samples;
  const X b = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior, {.noise = make()}).samples;
  CHECK((a.array() == b.array()).all());
  // The same draws as a table give the same run.
  auto gen = make();
  std::vector<X> table(6, X(2, 4));
  for (std::size_t k = 0; k < 5; ++k) gen.normal(k, 0.0, 0.0, table[k]);  // the last step adds no noise
  table.resize(5);
  const X c = sdeflow::sample_ddpm(m, x, grid, sdeflow::ddpm_variance::posterior,
                                   {.noise = sdeflow::recorded_noise<X>(table)}).samples;
  CHECK((a.array() == c.array()).all());
}

TEST_CASE("the Brownian-tree source: one path across step counts", "[noise][statistical]") {
  // Reverse SDE on the VP ring with the tree's increments: 100 and 400 steps follow one Brownian path,
  // so their samples differ by the discretization error only; with counter-based noise the two runs
  // use independent paths and differ by O(1).
  const sdeflow::vp_process<> vp;
  const auto m = sdeflow_test::exact_model(sdeflow_test::ring(), vp);
  const X x = sdeflow::initial_noise(vp, 2, 400, sdeflow::sampler_options<X>{.seed = 1});
  const sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 99);
  const sdeflow::samplers::reverse_sde<> em;
  auto run = [&](std::size_t N, const sdeflow::noise_source<X>& noise) {
    return sdeflow::sample(em, m, x, sdeflow::uniform_schedule(1.0, 1e-3, N), {.noise = noise}).samples;
  };
  const double tree_gap = (run(100, tree) - run(400, tree)).colwise().norm().mean();
  const double counter_gap = (run(100, sdeflow::counter_noise(3)) - run(400, sdeflow::counter_noise(3))).colwise().norm().mean();
  INFO("tree " << tree_gap << " counter " << counter_gap);
  CHECK(tree_gap < 0.2 * counter_gap);
  // A draw shorter than the tree resolves is an error, not a silent zero.
  sdeflow::brownian_tree coarse(0.0, 1.0, 0.1, 1);
  X w(1, 3);
  CHECK_THROWS_WITH(coarse.normal(0, 0.5, 0.51, w), Catch::Contains("shorter than the tree's resolution"));
  // Its draws are standard normal: draws over 200 disjoint steps of one sample row, mean and variance.
  sdeflow::brownian_tree t2(0.0, 1.0, 1e-7, 7);
  X z(1, 2000);
  Eigen::ArrayXd all(200 * 2000);
  for (std::size_t k = 0; k < 200; ++k) {
    const double kd = static_cast<double>(k);
    t2.normal(k, 1.0 - kd / 200.0, 1.0 - (kd + 1) / 200.0, z);
    all.segment(static_cast<Eigen::Index>(k) * 2000, 2000) = z.row(0).transpose().array();
  }
  const double n = static_cast<double>(all.size());
  CHECK_WITHIN_SE(all.mean(), 0.0, 1 / std::sqrt(n));
  CHECK_WITHIN_SE((all - all.mean()).square().mean(), 1.0, std::sqrt(2 / n));
}

TEST_CASE("predictor-corrector: the Langevin step size uses the noise it is given", "[noise][samplers]") {
  // One step (N = 1), one correction, one sample: eps_L = 2 r^2 (snr |z| / |g|)^2 with the z of the table.
  const sdeflow::vp_process<> vp;
  const auto score = sdeflow::exact_score(sdeflow_test::ring(), vp);
  const auto grid = sdeflow::uniform_schedule(0.6, 0.5, 1);
  X x(2, 1);
  x << 1.0, -2.0;
  X z(2, 1);
  z << 0.3, 2.5;
  const sdeflow::samplers::predictor_corrector pc{sdeflow::pc_predictor::reverse_diffusion, 1, 0.16};
  const auto out = sdeflow::sample_predictor_corrector(vp, score, x, grid, pc, {.noise = sdeflow::recorded_noise<X>({z})});
  const double t = 0.6, tn = 0.5, r = vp.mean_scale(t) / vp.mean_scale(tn);
  X g = score(x, t);
  const double eps = 2 * r * r * std::pow(0.16 * z.norm() / g.norm(), 2);
  X y = x + eps * g + std::sqrt(2 * eps) * z;
  g = score(y, t);
  const double omega2 = std::pow(vp.marginal_std(t), 2) - r * r * std::pow(vp.marginal_std(tn), 2);
  y = (2 - r) * y + omega2 * g;  // the last predictor step adds no noise
  CHECK((out.samples - y).cwiseAbs().maxCoeff() < 1e-13);
  // Temperature scales the injected noise only: the step size still comes from the standard draw.
  const auto cool = sdeflow::sample_predictor_corrector(vp, score, x, grid, pc,
                                                        {.temperature = 0.5, .noise = sdeflow::recorded_noise<X>({z})});
  X yc = x + eps * score(x, t) + 0.5 * std::sqrt(2 * eps) * z;
  yc = (2 - r) * yc + omega2 * score(yc, t);
  CHECK((cool.samples - yc).cwiseAbs().maxCoeff() < 1e-13);
  // Twice the noise, a different step size: the table is what counts.
  const auto hot = sdeflow::sample_predictor_corrector(vp, score, x, grid, pc, {.noise = sdeflow::recorded_noise<X>({X(2 * z)})});
  CHECK((hot.samples - out.samples).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("initial_noise pairs with the grid it will run on", "[noise][samplers]") {
  const sdeflow::ve_process<> ve(0.01, 50.0);
  const auto full = sdeflow::uniform_schedule(1.0, 0.0, 10);
  const auto low = sdeflow::uniform_schedule(0.5, 0.0, 10);
  const sdeflow::sampler_options<X> opt{.seed = 3};
  const X a = sdeflow::initial_noise(ve, 2, 5, full, opt);
  const X b = sdeflow::initial_noise(ve, 2, 5, low, opt);
  CHECK((a.array() == sdeflow::initial_noise(ve, 2, 5, opt).array()).all());  // at T: prior_std
  // Below T: prior_std sigma(t0) / sigma(T), k-diffusion's randn * sigmas[0] for VE.
  const double ratio = ve.marginal_std(0.5) / ve.marginal_std(1.0);
  CHECK((b - ratio * a).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(std::abs(ve.prior_std() * ratio - ve.marginal_std(0.5)) < 1e-3 * ve.marginal_std(0.5));
}
