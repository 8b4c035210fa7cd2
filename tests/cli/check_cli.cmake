# SPDX-License-Identifier: MIT
# Run one program with arguments and check its exit code and output: every example and benchmark
# answers --help with its usage (exit 0) and a bad argument with a message naming it (exit 2), and
# --help creates no file.
#   cmake -DPROGRAM=path -DARGS="a;b" -DEXPECT_RC=2 -DEXPECT_REGEX="..." -DWORK_DIR=dir -P check_cli.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${PROGRAM}" ${ARGS} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "${PROGRAM} ${ARGS}: exit code ${rc}, expected ${EXPECT_RC}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT_REGEX}")
  message(FATAL_ERROR "${PROGRAM} ${ARGS}: the output does not match '${EXPECT_REGEX}'\nstdout:\n${out}\nstderr:\n${err}")
endif()
file(GLOB left RELATIVE "${WORK_DIR}" "${WORK_DIR}/*")
if(EXPECT_RC STREQUAL "0" AND left)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} created ${left}")
endif()
