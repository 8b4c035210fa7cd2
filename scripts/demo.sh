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
# The pictures, when matplotlib is there (bash scripts/install-deps.sh --plot installs it).
if /usr/bin/python3 -c "import matplotlib, numpy" 2>/dev/null; then
  /usr/bin/python3 scripts/plot.py demo demo-out
else
  echo "demo: no figures (matplotlib is missing: bash scripts/install-deps.sh --plot, then /usr/bin/python3 scripts/plot.py demo demo-out)"
fi
