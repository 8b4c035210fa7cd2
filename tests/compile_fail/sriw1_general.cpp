// SPDX-License-Identifier: MIT
#include "common.hpp"
int main() { run<sdeflow::sriw1, ito_general>(); }
