#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set up (Debian packages), build the flagship demo in Release and run it. Samples go to ./demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target gmm_ring_demo
mkdir -p demo-out
./build/release/examples/gmm_ring_demo demo-out
