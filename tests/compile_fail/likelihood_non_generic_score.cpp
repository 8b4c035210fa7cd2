// SPDX-License-Identifier: MIT
// A score written for double only (it takes `const Eigen::MatrixXd&`) passed to the exact-divergence
// likelihood: the Jacobian needs dual numbers, and the error must be our message, not Eigen's
// YOU_MIXED_DIFFERENT_NUMERIC_TYPES deep in a conversion (the call itself looks valid, because Eigen's
// converting constructor accepts any matrix).
#include "common.hpp"
int main() {
  const sdeflow::vp_process<> vp;
  auto score = [](const Eigen::MatrixXd& x, double) -> Eigen::MatrixXd { return -x; };
  const Eigen::MatrixXd x = Eigen::MatrixXd::Zero(2, 3);
  (void)sdeflow::log_likelihood(vp, score, x, sdeflow::likelihood_options{});
}
