// SPDX-License-Identifier: MIT
#include "common.hpp"
int main() { run<sdeflow::stochastic_heun, ito_diagonal>(); }
