#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every test case a Catch2 executable lists must have exactly one ctest entry (catch_discover_tests splits
# a name at ';' into entries that run nothing). Usage:
#   count_check.sh CTEST BUILD_DIR EXE PREFIX [EXE PREFIX ...]     (PREFIX as given to TEST_PREFIX, or "")
set -euo pipefail
ctest_bin=$1
build=$2
shift 2
listing=$(cd "$build" && "$ctest_bin" -N | sed -n 's/^ *Test *#[0-9]*: //p')
status=0
cases=0
while [ $# -ge 2 ]; do
  exe=$1
  prefix=${2% }  # ctest may drop the prefix's trailing space
  shift 2
  while IFS= read -r name; do
    [ -z "$name" ] && continue
    cases=$((cases + 1))
    n=$(grep -cxF -e "$prefix$name" -e "$prefix $name" <<<"$listing" || true)
    if [ "$n" != 1 ]; then
      echo "count_check: case '$name' of $(basename "$exe") has $n ctest entries, expected 1"
      status=1
    fi
  done < <("$exe" --list-test-names-only)
done
echo "count_check: $cases test cases, each with one ctest entry: $([ $status = 0 ] && echo yes || echo NO)"
exit $status
