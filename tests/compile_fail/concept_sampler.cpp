// SPDX-License-Identifier: MIT
// An object without step(): sample() must reject it naming Sampler.
#include "common.hpp"
struct not_a_sampler {
  void validate() const {}
};
int main() {
  const sdeflow::vp_process<> vp;
  const sdeflow::model m(vp, [](const Eigen::MatrixXd& x, double) { return x; }, sdeflow::prediction::epsilon);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  (void)sdeflow::sample(not_a_sampler{}, m, x, sdeflow::uniform_schedule(1.0, 0.0, 4));
}
