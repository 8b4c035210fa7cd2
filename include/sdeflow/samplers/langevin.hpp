// SPDX-License-Identifier: MIT
#pragma once
/// \file langevin.hpp
/// Langevin-based samplers, for any DiffusionModel whose schedule is an AffineProcess; they use the model's
/// score -eps_hat / sigma.
///
/// - samplers::predictor_corrector (Song et al. 2021, Algorithms 2-3): at each grid time t_i, i < N,
///   `corrector_steps` Langevin corrections at t_i, then a predictor step t_i -> t_{i+1}:
///     reverse diffusion (Song et al. Eq. 46, with the exact forward kernel x_t = r x_{t'} + omega z,
///       r = s/s', omega^2 = sigma^2 - r^2 sigma'^2):  x' = (2 - r) x + omega^2 score + omega z;
///     Euler-Maruyama on the reverse SDE:  x' = x + h (f - g^2 score) + g sqrt|h| z.
///   Corrector: eps_L = 2 a (snr |z| / |score|)^2, x <- x + eps_L score + sqrt(2 eps_L) z, with
///   a = r^2 (alpha_i for VP, 1 for VE) and |.| the batch mean of the per-sample norms, as in score_sde.
///   (Per-sample norms would make the result independent of the batch split, but in low dimension a
///   sample near a mode centre has |score| ~ 0 and takes an enormous step; we measured the bias.) So PC
///   samples are reproducible for the same seed and the same batch, not across batch splits. Under tiles
///   and threads (options.exec) each tile is a batch of its own: the sampler declares couples_batch, so the
///   engine asks for an explicit tile_columns, and the result depends on it, never on the thread count.
///   The last predictor step adds no noise. Noise: draws 0..K-1 of a step are the corrections' (at t_i),
///   draw K the predictor's (over [t_i, t_{i+1}]), K = corrector_steps; the corrector's step size uses
///   the draws it was given (unscaled: the temperature scales only the noise it injects). NFE: (K + 1) N.
/// - samplers::annealed_langevin (Song & Ermon 2019, Algorithm 1): for the levels t_1 > ... > t_L of the grid
///   (noise sigma_i = sigma(t_i), the std of x_t given x_0), `steps_per_level` updates
///   x <- x + a_i/2 score + sqrt(a_i) z with a_i = step_size sigma_i^2 / sigma_L^2. The curvature of
///   -log p_t is at most 1/sigma(t)^2 whatever s(t) (its Hessian is I/sigma^2 - Cov[s x_0 | x_t]/sigma^4), so
///   the update is stable at every level for step_size below 4 sigma_L^2 on every affine process. (Scaling
///   by sigma/s instead, the EDM noise level, is the same for VE but makes a_i / sigma_i^2 grow as 1/s_i^2
///   on VP: the chains diverge at the first levels.) Optionally a final denoising step x <- x + sigma_L^2 score
///   (Tweedie; Jolicoeur-Martineau et al. 2021). Step i of the engine runs level t_i; the last step also
///   runs the last level t_N (and the denoising step). NFE: (N + 1) K + (1 if denoise_last), K = steps_per_level.
/// `sample_predictor_corrector(p, score, ...)` and `sample_annealed_langevin(p, score, ...)` are the
/// one-call forms: they wrap (p, score) in a score model and run the engine.

#include <sdeflow/models/parameterization.hpp>
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/ode_sde.hpp>

#include <cmath>
#include <functional>

namespace sdeflow {

enum class pc_predictor { reverse_diffusion, euler_maruyama };

namespace samplers {

/// Predictor-corrector (Song et al. 2021, Algorithms 2-3).
struct predictor_corrector {
  pc_predictor predictor = pc_predictor::reverse_diffusion;
  std::size_t corrector_steps = 1;
  double snr = 0.16;
  /// The corrector's step size is a batch mean: under options.exec each tile is a batch of its own.
  static constexpr bool couples_batch = true;

  void validate() const {
    sdeflow::detail::require(std::isfinite(snr) && snr > 0, "predictor_corrector", "snr", snr, "must be finite and > 0");
    sdeflow::detail::require(corrector_steps < sdeflow::detail::index_limit - 1, "predictor_corrector", "corrector_steps",
                             corrector_steps, "must be below 2^32 - 1 (each takes a noise draw)");
  }
  [[nodiscard]] std::size_t draws_per_step() const { return corrector_steps + 1; }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const { return (corrector_steps + 1) * grid.steps(); }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    struct ws { X g, z; };
    return ws{sdeflow::detail::like(x), sdeflow::detail::like(x)};
  }

  template <class M, State X, class W>
    requires AffineProcess<schedule_of<M>>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    const S t = c.t, tn = c.t_next;
    const S r = p.mean_scale(t) / p.mean_scale(tn);
    const S sd = p.marginal_std(t), sdn = p.marginal_std(tn);
    for (std::size_t j = 0; j < corrector_steps; ++j) {
      m.score(x, t, ws.g);
      // The step size comes from the standard draw; the temperature scales only the injected noise.
      noise.standard_at(j, t, ws.z);
      const auto q = static_cast<S>(snr);
      const S gn = ws.g.colwise().norm().mean();
      const S zn = ws.z.colwise().norm().mean();
      const S eps_l = gn > 0 ? 2 * r * r * (q * zn / gn) * (q * zn / gn) : S(0);
      x += eps_l * ws.g + (std::sqrt(2 * eps_l) * static_cast<S>(noise.temperature())) * ws.z;
    }
    m.score(x, t, ws.g);
    if (predictor == pc_predictor::reverse_diffusion) {
      const S omega2 = std::max(S(0), sd * sd - r * r * sdn * sdn);
      x = (2 - r) * x + omega2 * ws.g;
      if (!c.last()) {
        noise.normal(corrector_steps, ws.z);
        x += std::sqrt(omega2) * ws.z;
      }
    } else {
      const S h = tn - t;
      const S gt = p.diffusion(t);
      x = x + h * (p.drift_rate(t) * x - (gt * gt) * ws.g);
      if (!c.last()) {
        noise.normal(corrector_steps, ws.z);
        x += (gt * std::sqrt(std::fabs(h))) * ws.z;
      }
    }
  }
};

/// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) over the grid's levels.
struct annealed_langevin {
  std::size_t steps_per_level = 100;
  double step_size = 1e-5;   ///< the a of the last level: a_i = step_size sigma_i^2 / sigma_L^2
  bool denoise_last = true;  ///< a final Tweedie step at the last level

  void validate() const {
    sdeflow::detail::require(steps_per_level >= 1 && steps_per_level < sdeflow::detail::index_limit, "annealed_langevin",
                             "steps_per_level", steps_per_level, "must lie in [1, 2^32)");
    sdeflow::detail::require(std::isfinite(step_size) && step_size > 0, "annealed_langevin", "step_size", step_size,
                             "must be finite and > 0");
  }
  [[nodiscard]] std::size_t draws_per_step() const { return steps_per_level; }
  /// The last level's noise sets the step sizes: it must be > 0 (checked before the first step).
  template <class P, class G>
  void validate_grid(const P& p, const G& grid) const {
    sdeflow::detail::require(p.marginal_std(grid.back()) > 0, "annealed_langevin", "grid.back()", grid.back(),
                             "must have sigma(t) > 0 (the last level's noise sets the step size)");
  }
  template <class M, class G>
  [[nodiscard]] std::size_t evaluations(const M&, const G& grid) const {
    return grid.size() * steps_per_level + (denoise_last ? 1 : 0);
  }
  template <class M, State X>
  auto workspace(const M&, const X& x) const {
    struct ws { X g, z; };
    return ws{sdeflow::detail::like(x), sdeflow::detail::like(x)};
  }

  template <class M, State X, class W>
    requires AffineProcess<schedule_of<M>>
  void step(const M& m, X& x, const step_context<scalar_of<X>>& c, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    const S sL = p.marginal_std(c.t_final);  // > 0: validate_grid
    level(m, x, c.t, sL, 0, ws, noise);
    if (c.last()) {
      level(m, x, c.t_next, sL, steps_per_level, ws, noise);
      if (denoise_last) {
        m.score(x, c.t_next, ws.g);
        const S sd = p.marginal_std(c.t_next);
        x = (x + (sd * sd) * ws.g) / p.mean_scale(c.t_next);  // Tweedie: E[x0 | x_t]
      }
    }
  }

 private:
  /// steps_per_level updates x <- x + a/2 score + sqrt(a) z at level t; draws first .. first + K - 1.
  template <class M, State X, class W>
  void level(const M& m, X& x, scalar_of<X> t, scalar_of<X> sL, std::size_t first, W& ws, step_noise<X>& noise) const {
    using S = scalar_of<X>;
    const auto& p = m.process();
    const S sig = p.marginal_std(t);
    const S a = static_cast<S>(step_size) * (sig / sL) * (sig / sL);
    for (std::size_t k = 0; k < steps_per_level; ++k) {
      m.score(x, t, ws.g);
      noise.normal_at(first + k, t, ws.z);
      x += (a / 2) * ws.g + std::sqrt(a) * ws.z;
    }
  }
};

}  // namespace samplers


template <AffineProcess P, class Score, State X>
  requires ScoreFunction<Score, X>
[[nodiscard]] sample_result<X> sample_predictor_corrector(const P& p, const Score& score, X x,
                                                          const time_grid<scalar_of<X>>& grid,
                                                          const samplers::predictor_corrector& pc = {},
                                                          const sampler_options<X>& opt = {}) {
  return sample(pc, detail::score_model(p, score), std::move(x), grid, opt);
}

/// The predictor-corrector settings: the sampler object's members.
using pc_settings = samplers::predictor_corrector;

template <AffineProcess P, class Score, State X>
  requires ScoreFunction<Score, X>
[[nodiscard]] sample_result<X> sample_annealed_langevin(const P& p, const Score& score, X x,
                                                        const time_grid<scalar_of<X>>& levels,
                                                        std::size_t steps_per_level, double step_size,
                                                        bool denoise_last = true, const sampler_options<X>& opt = {}) {
  return sample(samplers::annealed_langevin{steps_per_level, step_size, denoise_last}, detail::score_model(p, score),
                std::move(x), levels, opt);
}

}  // namespace sdeflow
