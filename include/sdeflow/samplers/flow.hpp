// SPDX-License-Identifier: MIT
#pragma once
/// \file flow.hpp
/// The probability-flow ODE in velocity form, for flow matching / rectified flow and for any model:
///   dx/dt = s'(t) x0_hat + sigma'(t) eps_hat,
/// which equals f - 1/2 g^2 score for an affine process and stays regular where f and g are not
/// (rectified flow at t = 1). With a flow-velocity model (prediction::flow) it is the model itself.
/// - velocity_field<M>: an OdeSystem from a `model`.
/// - sample_flow(m, x, grid, stepper): integrate it with euler, heun or rk4 from T down to the grid's end.

#include <sdeflow/integrators/integrate.hpp>
#include <sdeflow/integrators/rk4.hpp>
#include <sdeflow/samplers/common.hpp>
#include <sdeflow/scores/parameterization.hpp>

#include <utility>

namespace sdeflow {

template <class Model>
class velocity_field {
 public:
  explicit velocity_field(Model m) : m_(std::move(m)) {}

  /// out = s' x0_hat + sigma' eps_hat. Not thread-safe: it keeps one scratch buffer for x0_hat.
  template <State X>
  void drift(const X& x, scalar_of<X> t, X& out) const {
    if (buf_.rows() != x.rows() || buf_.cols() != x.cols()) buf_.resize(x.rows(), x.cols());
    m_.predict(x, t, buf_, out);
    const auto& p = m_.process();
    out = static_cast<scalar_of<X>>(marginal_std_derivative(p, t)) * out +
          static_cast<scalar_of<X>>(mean_scale_derivative(p, t)) * buf_.template cast<scalar_of<X>>();
  }

 private:
  Model m_;
  mutable Eigen::Matrix<typename Model::scalar_type, Eigen::Dynamic, Eigen::Dynamic> buf_;
};

template <class Model, State X, class Stepper = rk4>
[[nodiscard]] sample_result<X> sample_flow(const Model& m, X x, const time_grid<scalar_of<X>>& grid,
                                           const Stepper& stepper = {}) {
  detail::require(grid.backwards(), "sample_flow", "grid.back()", grid.back(), "must be below grid.front()");
  const velocity_field<Model> field(m);
  auto rep = integrate(stepper, field, x, grid);
  return {std::move(x), rep};
}

}  // namespace sdeflow
