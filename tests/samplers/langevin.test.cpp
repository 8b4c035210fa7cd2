// SPDX-License-Identifier: MIT
// Annealed Langevin on a VP process: the level step sizes scale with sigma(t)^2, the std of x_t given
// x_0, whose inverse bounds the curvature of -log p_t for any s(t). Checked against the closed form of
// the unadjusted Langevin chain on a Gaussian, with a mutant that scales by (sigma/s)^2 instead.
#include "support.hpp"

#include <cmath>

namespace {

using X = Eigen::MatrixXd;

/// The mutant: the level steps a_i = step_size (sigma_i/s_i)^2 / (sigma_L/s_L)^2 of the EDM noise level.
/// For VE (s = 1) it is the same sampler; on VP a_i / sigma_i^2 grows as 1 / s_i^2.
struct ratio_scaled_langevin {
  std::size_t steps_per_level = 100;
  double step_size = 1e-5;
  void validate() const {}
  [[nodiscard]] std::size_t draws_per_step() const { return steps_per_level; }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return grid.size() * steps_per_level; }
  template <class M, class Y>
  auto workspace(const M&, const Y& x) const {
    struct ws { Y g, z; };
    return ws{Y(x.rows(), x.cols()), Y(x.rows(), x.cols())};
  }
  template <class M, class Y, class W>
  void step(const M& m, Y& x, const sdeflow::step_context<double>& c, W& ws, sdeflow::step_noise<Y>& noise) const {
    const auto& p = m.process();
    const double rL = p.marginal_std(c.t_final) / p.mean_scale(c.t_final);
    level(m, x, c.t, rL, 0, ws, noise);
    if (c.last()) level(m, x, c.t_next, rL, steps_per_level, ws, noise);
  }
  template <class M, class Y, class W>
  void level(const M& m, Y& x, double t, double rL, std::size_t first, W& ws, sdeflow::step_noise<Y>& noise) const {
    const auto& p = m.process();
    const double r = p.marginal_std(t) / p.mean_scale(t);
    const double a = step_size * (r / rL) * (r / rL);
    for (std::size_t k = 0; k < steps_per_level; ++k) {
      m.score(x, t, ws.g);
      noise.normal_at(first + k, t, ws.z);
      x += (a / 2) * ws.g + std::sqrt(a) * ws.z;
    }
  }
};

struct verdict {
  bool ok = false;
  double var = 0, expected = 0, se = 0;
};

/// Does row 0 of y have mean 0 and variance `expected` (5 SE), the stationary law of the unadjusted
/// chain x' = (1 - a/(2v)) x + sqrt(a) z on N(0, v), expected = v / (1 - a / (4 v))?
verdict stationary(const X& y, double v, double a) {
  const auto n = static_cast<double>(y.cols());
  verdict out;
  out.expected = v / (1 - a / (4 * v));
  out.se = out.expected * std::sqrt(2.0 / (n - 1));
  const double mean = y.mean();
  out.var = (y.array() - mean).square().sum() / (n - 1);
  out.ok = std::fabs(mean) <= sdeflow_test::k_sigma * std::sqrt(out.expected / n) &&
           std::fabs(out.var - out.expected) <= sdeflow_test::k_sigma * out.se;
  return out;
}

struct two_levels {
  verdict first, last;
};

/// Runs `sampler` on N(0, v0) data under VP over the levels 1 = t_0 > ... > t_L = 0.05 and checks the
/// chains after the first level (t_0 = 1, where s = 6.6e-3: the level whose step the scaling decides,
/// a_0 = step_size sigma(t_0)^2 / sigma(t_L)^2) and after the last (a_L = step_size) against the closed
/// form, p_t = N(0, s^2 v0 + sigma^2). A non-finite error (chains that overflowed) fails both.
template <class Smp>
two_levels run(const Smp& sampler, double step_size) {
  const sdeflow::vp_process<> vp;
  const double v0 = 0.25, tL = 0.05;
  const auto data = sdeflow::gaussian_mixture<>::gaussian(Eigen::VectorXd::Zero(1), Eigen::MatrixXd::Constant(1, 1, v0));
  const auto m = sdeflow::model(vp, sdeflow::exact_score(data, vp), sdeflow::prediction::score);
  const auto levels = sdeflow::uniform_schedule(1.0, tL, 10);
  const Eigen::Index n = sdeflow_test::scaled<Eigen::Index>(4000, 500);
  const X x = sdeflow::initial_noise(vp, 1, n, {.seed = 3});
  auto v_at = [&](double t) { return vp.mean_scale(t) * vp.mean_scale(t) * v0 + vp.marginal_std(t) * vp.marginal_std(t); };
  const double sL2 = vp.marginal_std(tL) * vp.marginal_std(tL), s02 = vp.marginal_std(1.0) * vp.marginal_std(1.0);
  two_levels out;
  X after_first;
  try {
    const X y = sdeflow::sample(sampler, m, x, levels,
                                {.seed = 4, .observer = [&](std::size_t k, double, const X& xk) {
                                   if (k == 1) after_first = xk;
                                   return true;
                                 }})
                    .samples;
    out.first = stationary(after_first, v_at(1.0), step_size * s02 / sL2);
    out.last = stationary(y, v_at(tL), step_size);
  } catch (const sdeflow::non_finite_error&) {
  }
  return out;
}

}  // namespace

TEST_CASE("annealed Langevin on VP: the law after the first and the last level inside the step-size bound", "[samplers][langevin]") {
  const sdeflow::vp_process<> vp;
  const double sL2 = vp.marginal_std(0.05) * vp.marginal_std(0.05);
  // step_size = sigma_L^2, a quarter of the bound 4 sigma_L^2 that the docs give: a_0 / (4 v_0) = 1/4, so the
  // first level's stationary variance is 4/3 v_0, far from v_0 (a constant step would give ~v_0).
  const double a = sL2;
  const two_levels good = run(sdeflow::samplers::annealed_langevin{200, a, false}, a);
  INFO("first level: var " << good.first.var << " expected " << good.first.expected << " se " << good.first.se);
  INFO("last level: var " << good.last.var << " expected " << good.last.expected << " se " << good.last.se);
  CHECK(good.first.ok);
  CHECK(good.last.ok);
  // The mutant scales by (sigma/s)^2: at t = 1 (s = 6.6e-3) its step is 2e4 times the stable one.
  const two_levels bad = run(ratio_scaled_langevin{200, a}, a);
  CHECK_FALSE(bad.first.ok);
  CHECK_FALSE(bad.last.ok);
}
