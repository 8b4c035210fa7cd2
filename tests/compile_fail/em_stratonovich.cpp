// SPDX-License-Identifier: MIT
#include "common.hpp"
int main() { run<sdeflow::euler_maruyama, stratonovich_diagonal>(); }
