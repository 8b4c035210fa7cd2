#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the benchmarks (Release, g++ -O3 without -march unless SDEFLOW_BENCH_NATIVE=1) and runs sdeflow
# against its peers side by side: benchmarks/peers_bench (naive loop, Boost.Odeint) then the PyTorch
# peer (benchmarks/torch_peer.py, skipped with a message when python3-torch is absent).
# Usage: scripts/bench.sh [--help] [extra Google Benchmark flags, e.g. --benchmark_filter=EM]
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --bench
flags=""
if [ "${SDEFLOW_BENCH_NATIVE:-0}" = "1" ]; then flags="-march=native -ffp-contract=off"; fi
cmake --preset bench -DCMAKE_CXX_FLAGS="$flags" > /dev/null
cmake --build --preset bench --target peers_bench
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(date -u +%F), flags: -O3 ${flags}"
build/bench/benchmarks/peers_bench --benchmark_min_time=0.2 "$@"
echo "== PyTorch on CPU (same problems)"
for t in 1 2; do
  /usr/bin/python3 benchmarks/torch_peer.py --threads "$t" --weights examples/data/two_moons_eps.safetensors
done
