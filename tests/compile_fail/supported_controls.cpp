// SPDX-License-Identifier: MIT
// Positive controls: the same calls with arguments that satisfy the concepts compile.
#include "common.hpp"
int main() {
  run<sdeflow::euler_maruyama, ito_diagonal>();
  run<sdeflow::euler_maruyama, ito_general>();
  run<sdeflow::milstein, ito_diagonal>();
  run<sdeflow::sriw1, ito_diagonal>();
  run<sdeflow::stochastic_heun, stratonovich_diagonal>();
  // The concept_* cases, corrected.
  const sdeflow::vp_process<> vp;
  const sdeflow::model m(vp, [](const Eigen::MatrixXd& x, double) { return x; }, sdeflow::prediction::epsilon);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::sampler_options<Eigen::MatrixXd> opt;
  opt.noise = sdeflow::counter_noise(1);
  opt.observer = [](std::size_t, double, const Eigen::MatrixXd&) {};
  (void)sdeflow::sample(sdeflow::samplers::ddim{}, m, x, sdeflow::uniform_schedule(1.0, 0.0, 4), opt);
  (void)sdeflow::sample_ddim(m, x, sdeflow::uniform_schedule(1.0, 0.0, 4));
  auto good = [](const Eigen::MatrixXd& y, double) { return y; };
  (void)sdeflow::sample_reverse_sde(vp, good, 2, 10, sdeflow::uniform_schedule(1.0, 0.01, 4));
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& y, double) { return y; });
  sdeflow::integrate(sdeflow::rk4{}, sys, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4), [](const sdeflow::step_info<Eigen::MatrixXd>&) {});
  // likelihood_non_generic_score, corrected: generic in the scalar type.
  auto generic = [](const auto& y, double) { return -y; };
  (void)sdeflow::log_likelihood(vp, generic, x, sdeflow::likelihood_options{});
}
