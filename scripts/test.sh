#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Set up (Debian packages), build the tests and examples in Release, check that every public header
# compiles on its own, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --workflow --preset release
