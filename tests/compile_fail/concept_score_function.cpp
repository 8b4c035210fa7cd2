// SPDX-License-Identifier: MIT
// A score with the wrong signature: the reverse-SDE entry point must reject it naming ScoreFunction.
#include "common.hpp"
int main() {
  const sdeflow::vp_process<> vp;
  auto bad = [](const Eigen::MatrixXd& x) { return x; };  // no time argument
  (void)sdeflow::sample_reverse_sde(vp, bad, 2, 10, sdeflow::uniform_schedule(1.0, 0.01, 4));
}
