// SPDX-License-Identifier: MIT
// A noise "source" without normal(k, t, t_next, z): the options must reject it naming NoiseSource.
#include "common.hpp"
struct not_noise {
  double operator()() const { return 0.0; }
};
int main() {
  sdeflow::sampler_options<Eigen::MatrixXd> opt;
  opt.noise = not_noise{};
}
