// SPDX-License-Identifier: MIT
#include "common.hpp"
int main() { run<sdeflow::sra1, ito_diagonal>(); }
