#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages sdeflow's build, tests and benchmarks need, skipping those present.
# Usage: scripts/install-deps.sh [--fuzz] [--bench] [--mpi] [--torch] [--plot] [--docs]   (as root, or with sudo)
#   --fuzz  also clang's libFuzzer runtime (libclang-rt-14-dev), for -DSDEFLOW_BUILD_FUZZERS=ON
#   --bench also the benchmark peers: Boost.Odeint (libboost-dev) and PyTorch (python3-torch)
#   --mpi   also Open MPI (openmpi-bin, libopenmpi-dev), for the optional sdeflow::mpi component
#   --torch also LibTorch (libtorch-dev), for the optional sdeflow::torch adapter
#   --plot  also matplotlib and NumPy for /usr/bin/python3, for scripts/plot.py
#   --docs  also Doxygen, for the API reference
set -euo pipefail
packages=(cmake make g++ clang pkgconf libeigen3-dev catch2 libbenchmark-dev)
for flag in "$@"; do
  case "$flag" in
    --fuzz) packages+=(libclang-rt-14-dev) ;;
    # the timing peers (Boost.Odeint headers, PyTorch on CPU); never needed by the library or tests
    --bench) packages+=(libboost-dev python3-torch python3-numpy) ;;
    --mpi) packages+=(openmpi-bin libopenmpi-dev) ;;
    --torch) packages+=(libtorch-dev) ;;
    --plot) packages+=(python3-matplotlib python3-numpy) ;;
    --docs) packages+=(doxygen) ;;
    *) echo "install-deps: unknown option '$flag' (--fuzz, --bench, --mpi, --torch, --plot, --docs)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
