# SPDX-License-Identifier: MIT
# Build tests/consumer/project against sdeflow, either after installing sdeflow to a prefix
# (MODE=find_package) or by add_subdirectory on the source tree (MODE=add_subdirectory), then run it.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
endfunction()
if(MODE STREQUAL "find_package")
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/sdeflow-build" -DCMAKE_CXX_COMPILER=${CXX}
      -DSDEFLOW_BUILD_TESTS=OFF -DSDEFLOW_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
  run("${CMAKE_COMMAND}" --install "${WORK_DIR}/sdeflow-build")
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/consumer/project" -B "${WORK_DIR}/build" -DCMAKE_CXX_COMPILER=${CXX}
      -DSDEFLOW_CONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/consumer/project" -B "${WORK_DIR}/build" -DCMAKE_CXX_COMPILER=${CXX}
      -DSDEFLOW_CONSUMER_MODE=add_subdirectory -DSDEFLOW_SOURCE_DIR=${SOURCE_DIR})
endif()
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
