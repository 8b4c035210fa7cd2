// SPDX-License-Identifier: MIT
// A "model" without predict(): the sampler entry point must reject it naming DiffusionModel.
#include "common.hpp"
struct no_predict {
  sdeflow::vp_process<> p;
  const sdeflow::vp_process<>& process() const { return p; }
};
int main() {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  (void)sdeflow::sample_ddim(no_predict{}, x, sdeflow::uniform_schedule(1.0, 0.0, 4));
}
