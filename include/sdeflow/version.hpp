// SPDX-License-Identifier: MIT
#pragma once
/// \file version.hpp
/// The library's version, semantic-versioning style (CHANGELOG.md lists what each version changed).
/// This header is the one place the number is written: CMakeLists.txt reads it for project(VERSION),
/// the package's version file and the pkg-config file.
///
/// \code
///   #if SDEFLOW_VERSION >= SDEFLOW_MAKE_VERSION(0, 2, 0)
///   ... use what 0.2.0 added ...
///   #endif
/// \endcode

/// Incremented for changes that break source compatibility.
#define SDEFLOW_VERSION_MAJOR 0
/// Incremented for added features.
#define SDEFLOW_VERSION_MINOR 2
/// Incremented for fixes.
#define SDEFLOW_VERSION_PATCH 0

/// One integer that orders versions: major * 10000 + minor * 100 + patch.
#define SDEFLOW_MAKE_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
/// This version as one integer (see SDEFLOW_MAKE_VERSION).
#define SDEFLOW_VERSION SDEFLOW_MAKE_VERSION(SDEFLOW_VERSION_MAJOR, SDEFLOW_VERSION_MINOR, SDEFLOW_VERSION_PATCH)

#define SDEFLOW_DETAIL_STRINGIFY2(x) #x
#define SDEFLOW_DETAIL_STRINGIFY(x) SDEFLOW_DETAIL_STRINGIFY2(x)
/// This version as a string literal, "major.minor.patch".
#define SDEFLOW_VERSION_STRING                                                                \
  SDEFLOW_DETAIL_STRINGIFY(SDEFLOW_VERSION_MAJOR)                                             \
  "." SDEFLOW_DETAIL_STRINGIFY(SDEFLOW_VERSION_MINOR) "." SDEFLOW_DETAIL_STRINGIFY(SDEFLOW_VERSION_PATCH)
