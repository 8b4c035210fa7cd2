# SPDX-License-Identifier: MIT
# sdeflow_cli_tests(<target> BAD <args> REGEX <regex>): two ctest entries for a program's command line:
# --help exits 0, prints "Usage: <target>" and creates nothing; the BAD arguments exit 2 with a message
# matching REGEX (tests/cli/check_cli.cmake runs the program).
function(sdeflow_cli_tests target)
  cmake_parse_arguments(ARG "" "" "BAD;REGEX" ${ARGN})
  add_test(NAME cli_${target}_help
           COMMAND "${CMAKE_COMMAND}" -DPROGRAM=$<TARGET_FILE:${target}> -DARGS=--help -DEXPECT_RC=0
                   "-DEXPECT_REGEX=Usage: ${target}" -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_${target}_help
                   -P "${PROJECT_SOURCE_DIR}/tests/cli/check_cli.cmake")
  add_test(NAME cli_${target}_bad_argument
           COMMAND "${CMAKE_COMMAND}" -DPROGRAM=$<TARGET_FILE:${target}> "-DARGS=${ARG_BAD}" -DEXPECT_RC=2
                   "-DEXPECT_REGEX=${ARG_REGEX}" -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_${target}_bad
                   -P "${PROJECT_SOURCE_DIR}/tests/cli/check_cli.cmake")
endfunction()
