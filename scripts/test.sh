#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set up (Debian packages, Open MPI and LibTorch included for the optional MPI and LibTorch components),
# build the tests and examples in Release, check that every public header compiles on its own, and run
# the whole test suite (the MPI tests under mpirun on 2 and 3 ranks, the LibTorch adapter's tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --mpi --torch
cmake --workflow --preset release
