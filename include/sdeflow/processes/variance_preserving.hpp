// SPDX-License-Identifier: MIT
#pragma once
/// \file variance_preserving.hpp
/// The variance-preserving family (Song et al. 2021, "Score-based generative modeling through SDEs"),
/// parameterized by a beta schedule (linear_beta, cosine_beta, or any struct with beta, integral, horizon).
///
/// - vp_process:     dx = -beta/2 x dt + sqrt(beta) dW;  s = exp(-B/2), sigma = sqrt(1 - exp(-B)).
/// - sub_vp_process: dx = -beta/2 x dt + sqrt(beta (1 - exp(-2B))) dW;  s = exp(-B/2), sigma = 1 - exp(-B).
/// Both have prior N(0, I) at t = T.
///
/// \code
///   sdeflow::vp_process vp;                                     // linear beta, 0.1 .. 20, T = 1
///   sdeflow::vp_process cos{sdeflow::cosine_beta<>{}};          // cosine schedule
///   double s = vp.mean_scale(0.5), sd = vp.marginal_std(0.5);   // x_t | x_0 ~ N(s x_0, sd^2 I)
/// \endcode

#include <sdeflow/core/types.hpp>
#include <sdeflow/processes/beta_schedules.hpp>

#include <cmath>

namespace sdeflow {

template <class Schedule = linear_beta<double>>
class vp_process {
 public:
  using scalar_type = typename Schedule::scalar_type;
  using schedule_type = Schedule;

  explicit vp_process(Schedule schedule = Schedule{}) : schedule_(schedule) {}

  [[nodiscard]] scalar_type mean_scale(scalar_type t) const { return std::exp(-schedule_.integral(t) / 2); }
  [[nodiscard]] scalar_type marginal_std(scalar_type t) const { return std::sqrt(-std::expm1(-schedule_.integral(t))); }
  [[nodiscard]] scalar_type drift_rate(scalar_type t) const { return -schedule_.beta(t) / 2; }
  [[nodiscard]] scalar_type diffusion(scalar_type t) const { return std::sqrt(schedule_.beta(t)); }
  [[nodiscard]] scalar_type horizon() const { return schedule_.horizon(); }
  [[nodiscard]] scalar_type prior_std() const { return scalar_type(1); }
  [[nodiscard]] const Schedule& schedule() const noexcept { return schedule_; }

  /// Forward drift f(x, t) = -beta(t)/2 x, written into out.
  template <State X>
  void drift(const X& x, scalar_type t, X& out) const { out = drift_rate(t) * x; }

 private:
  Schedule schedule_;
};

template <class Schedule = linear_beta<double>>
class sub_vp_process {
 public:
  using scalar_type = typename Schedule::scalar_type;
  using schedule_type = Schedule;

  explicit sub_vp_process(Schedule schedule = Schedule{}) : schedule_(schedule) {}

  [[nodiscard]] scalar_type mean_scale(scalar_type t) const { return std::exp(-schedule_.integral(t) / 2); }
  [[nodiscard]] scalar_type marginal_std(scalar_type t) const { return -std::expm1(-schedule_.integral(t)); }
  [[nodiscard]] scalar_type drift_rate(scalar_type t) const { return -schedule_.beta(t) / 2; }
  [[nodiscard]] scalar_type diffusion(scalar_type t) const {
    return std::sqrt(schedule_.beta(t) * -std::expm1(-2 * schedule_.integral(t)));
  }
  [[nodiscard]] scalar_type horizon() const { return schedule_.horizon(); }
  [[nodiscard]] scalar_type prior_std() const { return scalar_type(1); }
  [[nodiscard]] const Schedule& schedule() const noexcept { return schedule_; }

  template <State X>
  void drift(const X& x, scalar_type t, X& out) const { out = drift_rate(t) * x; }

 private:
  Schedule schedule_;
};

template <class Schedule>
vp_process(Schedule) -> vp_process<Schedule>;
template <class Schedule>
sub_vp_process(Schedule) -> sub_vp_process<Schedule>;

}  // namespace sdeflow
