// SPDX-License-Identifier: MIT
#include "common.hpp"
int main() { run<sdeflow::milstein, ito_general>(); }
