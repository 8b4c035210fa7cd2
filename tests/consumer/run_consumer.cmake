# SPDX-License-Identifier: MIT
# Build tests/consumer/project against sdeflow, either after installing sdeflow to a prefix
# (MODE=find_package, then also through pkg-config) or on the source tree by add_subdirectory
# (MODE=add_subdirectory) or FetchContent (MODE=fetchcontent), then run it.
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
else()  # add_subdirectory or fetchcontent
  run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/consumer/project" -B "${WORK_DIR}/build" -DCMAKE_CXX_COMPILER=${CXX}
      -DSDEFLOW_CONSUMER_MODE=${MODE} -DSDEFLOW_SOURCE_DIR=${SOURCE_DIR})
endif()
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
if(MODE STREQUAL "find_package")
  # The pkg-config file: the same program built by hand from its flags (eigen3.pc from libeigen3-dev).
  set(ENV{PKG_CONFIG_PATH} "${WORK_DIR}/prefix/share/pkgconfig")
  execute_process(COMMAND pkg-config --cflags --libs sdeflow RESULT_VARIABLE rc OUTPUT_VARIABLE flags ERROR_VARIABLE err
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs sdeflow failed: ${err}")
  endif()
  execute_process(COMMAND pkg-config --modversion sdeflow OUTPUT_VARIABLE pc_version OUTPUT_STRIP_TRAILING_WHITESPACE)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX} -std=c++20 "${SOURCE_DIR}/tests/consumer/project/main.cpp" ${flags}
      "-DSDEFLOW_PACKAGE_VERSION=\"${pc_version}\"" -o "${WORK_DIR}/consumer_pkgconfig")
  run("${WORK_DIR}/consumer_pkgconfig")
else()
  # As a subproject sdeflow adds no install rules: installing the parent installs none of its headers.
  run("${CMAKE_COMMAND}" --install "${WORK_DIR}/build" --prefix "${WORK_DIR}/parent-prefix")
  file(GLOB_RECURSE installed RELATIVE "${WORK_DIR}/parent-prefix" "${WORK_DIR}/parent-prefix/*")
  if(NOT installed STREQUAL "bin/consumer")
    message(FATAL_ERROR "installing the parent project installed: ${installed} (expected only bin/consumer)")
  endif()
endif()
