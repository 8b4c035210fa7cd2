#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set up (Debian packages), build every example in Release and run each with its defaults; the files
# they write go to ./examples-out/<example>/. Each program's --help says what it does and writes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --mpi --torch
cmake --preset release >/dev/null
targets=(first_steps gmm_ring_demo quick_tour sampler_tour ito_lemma fokker_planck learned_two_moons inpainting)
cmake --build --preset release -j2 --target "${targets[@]}"
# mpi_ensemble exists when CMake found MPI (install-deps.sh --mpi installs Open MPI).
have_mpi=1
cmake --build --preset release -j2 --target mpi_ensemble >/dev/null 2>&1 || have_mpi=0
out=examples-out
for t in "${targets[@]}"; do
  echo "== $t"
  mkdir -p "$out/$t"
  case "$t" in
    first_steps | gmm_ring_demo | fokker_planck) ./build/release/examples/$t "$out/$t" ;;
    learned_two_moons) ./build/release/examples/$t examples/data "$out/$t" ;;
    *) (cd "$out/$t" && "../../build/release/examples/$t") ;;
  esac
done
# torch_two_moons exists when CMake found LibTorch (install-deps.sh --torch installs it).
if cmake --build --preset release -j2 --target torch_two_moons >/dev/null 2>&1; then
  echo "== torch_two_moons"
  mkdir -p "$out/torch_two_moons"
  ./build/release/examples/torch_two_moons examples/data "$out/torch_two_moons"
fi
if [ "$have_mpi" = 1 ]; then
  echo "== mpi_ensemble (2 ranks)"
  mkdir -p "$out/mpi_ensemble"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
    OMPI_MCA_btl_vader_single_copy_mechanism=none \
    mpirun -np 2 ./build/release/examples/mpi_ensemble --paths 1e6 --samples 1e5 --out "$out/mpi_ensemble/samples"
fi
echo "examples: every example ran; their files are in $(pwd)/$out"
