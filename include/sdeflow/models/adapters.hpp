// SPDX-License-Identifier: MIT
#pragma once
/// \file adapters.hpp
/// Turn a model's output into a score under an AffineProcess (x_t = s x_0 + sigma eps):
/// - epsilon_score: noise prediction eps_hat(x, t)      -> score = -eps_hat / sigma.
/// - denoiser_score: data prediction D(x, t) ~ E[x_0|x_t] -> score = (s D - x) / sigma^2.
/// Both return a `model` (models/parameterization.hpp), which is a ScoreFunction. The network is any
/// callable net(x, t) returning a d x n result; its shape is checked, and sigma(t) = 0 (the score is
/// undefined there) throws invalid_argument.
///
/// \code
///   auto score = sdeflow::epsilon_score(vp, [&](const Eigen::MatrixXd& x, double t) { return net(x, t); });
/// \endcode

#include <sdeflow/models/parameterization.hpp>

#include <utility>

namespace sdeflow {

/// Score from a noise-prediction model: a `model` with prediction::epsilon.
template <AffineProcess P, class Model>
[[nodiscard]] sdeflow::model<P, Model> epsilon_score(P process, Model m) {
  return sdeflow::model<P, Model>(std::move(process), std::move(m), prediction::epsilon);
}

/// Score from a data-prediction model (denoiser): a `model` with prediction::data.
template <AffineProcess P, class Model>
[[nodiscard]] sdeflow::model<P, Model> denoiser_score(P process, Model m) {
  return sdeflow::model<P, Model>(std::move(process), std::move(m), prediction::data);
}

}  // namespace sdeflow
