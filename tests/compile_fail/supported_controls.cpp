// SPDX-License-Identifier: MIT
// Positive control: the same systems with steppers that support them compile.
#include "common.hpp"
int main() {
  run<sdeflow::euler_maruyama, ito_diagonal>();
  run<sdeflow::euler_maruyama, ito_general>();
  run<sdeflow::milstein, ito_diagonal>();
  run<sdeflow::stochastic_heun, stratonovich_diagonal>();
}
