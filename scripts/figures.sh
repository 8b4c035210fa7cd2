#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerate the figures the docs embed (docs/images/*.png): set up (Debian packages, matplotlib),
# build and run the flagship demo into a temporary directory, and draw its files with scripts/plot.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --plot
cmake --preset release >/dev/null
cmake --build --preset release --target gmm_ring_demo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
./build/release/examples/gmm_ring_demo "$tmp" --quiet
/usr/bin/python3 scripts/plot.py demo "$tmp" --out docs/images
