// SPDX-License-Identifier: MIT
#pragma once
/// \file langevin.hpp
/// Langevin-based samplers, for any model that is a ScoreFunction under an AffineProcess.
///
/// - sample_predictor_corrector (Song et al. 2021, Algorithms 2-3): at each grid time t_i, i < N,
///   `corrector_steps` Langevin corrections at t_i, then a predictor step t_i -> t_{i+1}:
///     reverse diffusion (Song et al. Eq. 46, with the exact forward kernel x_t = r x_{t'} + omega z,
///       r = s/s', omega^2 = sigma^2 - r^2 sigma'^2):  x' = (2 - r) x + omega^2 score + omega z;
///     Euler-Maruyama on the reverse SDE:  x' = x + h (f - g^2 score) + g sqrt|h| z.
///   Corrector: eps_L = 2 a (snr |z| / |score|)^2, x <- x + eps_L score + sqrt(2 eps_L) z, with
///   a = r^2 (alpha_i for VP, 1 for VE) and |.| the batch mean of the per-sample norms, as in score_sde.
///   (Per-sample norms would make the result independent of the batch split, but in low dimension a
///   sample near a mode centre has |score| ~ 0 and takes an enormous step; we measured the bias.) So PC
///   samples are reproducible for the same seed and the same batch, not across batch splits.
///   The last predictor step adds no noise.
/// - sample_annealed_langevin (Song & Ermon 2019, Algorithm 1): for the levels t_1 > ... > t_L of the grid
///   (noise sigma_i = sigma(t_i)/s(t_i)), `steps_per_level` updates x <- x + a_i/2 score + sqrt(a_i) z with
///   a_i = step_size sigma_i^2 / sigma_L^2 (stable only for step_size below about 4 sigma_L^2: the update
///   contracts by a_i / (2 sigma_i^2) per step); optionally a final denoising step x <- x + sigma_L^2 score
///   (Tweedie; Jolicoeur-Martineau et al. 2021).

#include <sdeflow/samplers/common.hpp>

#include <cmath>

namespace sdeflow {

enum class pc_predictor { reverse_diffusion, euler_maruyama };

struct pc_settings {
  pc_predictor predictor = pc_predictor::reverse_diffusion;
  std::size_t corrector_steps = 1;
  double snr = 0.16;
};

template <AffineProcess P, class Score, State X>
[[nodiscard]] sample_result<X> sample_predictor_corrector(const P& p, const Score& score, X x,
                                                          const time_grid<scalar_of<X>>& grid,
                                                          const pc_settings& pc = {}, const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  detail::validate_sampler(grid, opt, "sample_predictor_corrector");
  detail::require(std::isfinite(pc.snr) && pc.snr > 0, "sample_predictor_corrector", "snr", pc.snr, "must be finite and > 0");
  X g(x.rows(), x.cols()), z(x.rows(), x.cols());
  integration_report rep;
  detail::check_finite(x, 0, grid[0]);
  const std::uint64_t draws = pc.corrector_steps + 1;
  for (std::size_t i = 0; i < grid.steps(); ++i) {
    const S t = grid[i], tn = grid[i + 1];
    const S r = p.mean_scale(t) / p.mean_scale(tn);
    const S sd = p.marginal_std(t), sdn = p.marginal_std(tn);
    for (std::size_t j = 0; j < pc.corrector_steps; ++j) {
      detail::assign_checked(g, score, x, t, "score");
      ++rep.evaluations;
      detail::draw_noise(opt, i * draws + j, z);
      const auto snr = static_cast<S>(pc.snr);
      const S gn = g.colwise().norm().mean();
      const S zn = z.colwise().norm().mean();
      const S step = gn > 0 ? 2 * r * r * (snr * zn / gn) * (snr * zn / gn) : S(0);
      x += step * g + std::sqrt(2 * step) * z;
    }
    detail::assign_checked(g, score, x, t, "score");
    ++rep.evaluations;
    const bool last = i + 1 == grid.steps();
    if (pc.predictor == pc_predictor::reverse_diffusion) {
      const S omega2 = std::max(S(0), sd * sd - r * r * sdn * sdn);
      x = (2 - r) * x + omega2 * g;
      if (!last) {
        detail::draw_noise(opt, i * draws + pc.corrector_steps, z);
        x += std::sqrt(omega2) * z;
      }
    } else {
      const S h = tn - t;
      const S gt = p.diffusion(t);
      x = x + h * (p.drift_rate(t) * x - (gt * gt) * g);
      if (!last) {
        detail::draw_noise(opt, i * draws + pc.corrector_steps, z);
        x += (gt * std::sqrt(std::fabs(h))) * z;
      }
    }
    if (!detail::after_step(opt, rep, i, t, tn, x, g)) break;
  }
  return {std::move(x), rep};
}

template <AffineProcess P, class Score, State X>
[[nodiscard]] sample_result<X> sample_annealed_langevin(const P& p, const Score& score, X x,
                                                        const time_grid<scalar_of<X>>& levels,
                                                        std::size_t steps_per_level, double step_size,
                                                        bool denoise_last = true, const sampler_options<X>& opt = {}) {
  using S = scalar_of<X>;
  detail::validate_sampler(levels, opt, "sample_annealed_langevin");
  detail::require(steps_per_level >= 1, "sample_annealed_langevin", "steps_per_level", steps_per_level, "must be at least 1");
  detail::require(std::isfinite(step_size) && step_size > 0, "sample_annealed_langevin", "step_size", step_size,
                  "must be finite and > 0");
  X g(x.rows(), x.cols()), z(x.rows(), x.cols());
  integration_report rep;
  detail::check_finite(x, 0, levels[0]);
  // Every grid point is a level, the last one included.
  const auto sig = [&](S t) { return p.marginal_std(t) / p.mean_scale(t); };
  const S sL = sig(levels.back());
  detail::require(sL > 0, "sample_annealed_langevin", "sigma at the last level", sL, "must be > 0");
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const S t = levels[l];
    const S a = static_cast<S>(step_size) * (sig(t) / sL) * (sig(t) / sL);
    for (std::size_t k = 0; k < steps_per_level; ++k) {
      detail::assign_checked(g, score, x, t, "score");
      ++rep.evaluations;
      detail::draw_noise(opt, l * steps_per_level + k, z);
      x += (a / 2) * g + std::sqrt(a) * z;
    }
    const bool last = l + 1 == levels.size();
    if (last && denoise_last) {
      detail::assign_checked(g, score, x, t, "score");
      ++rep.evaluations;
      const S sd = p.marginal_std(t);
      x = (x + (sd * sd) * g) / p.mean_scale(t);  // Tweedie: E[x0 | x_t]
    }
    if (!detail::after_step(opt, rep, l, t, last ? t : levels[l + 1], x, g)) break;
  }
  return {std::move(x), rep};
}

}  // namespace sdeflow
