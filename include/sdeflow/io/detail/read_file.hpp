// SPDX-License-Identifier: MIT
#pragma once
/// \file read_file.hpp
/// The one whole-file read the readers share (safetensors, .npy): to the end, in large chunks.

#include <sdeflow/core/error.hpp>

#include <cstddef>
#include <exception>
#include <fstream>
#include <ios>
#include <new>
#include <string>
#include <vector>

namespace sdeflow::detail {

/// The bytes of the opened file `in`, read to the end. The size a file reports is only a capacity hint
/// (procfs and pipes report 0 or a page), so it reads in chunks until the stream ends. A read error is an
/// io_error "<who>: reading '<path>' failed: <why>".
inline std::vector<unsigned char> read_to_end(std::ifstream& in, const std::string& path, const char* who) {
  std::vector<unsigned char> bytes;
  std::string failure;
  try {
    in.seekg(0, std::ios::end);
    const std::streamoff hint = in.tellg();
    in.clear();
    in.seekg(0, std::ios::beg);
    in.clear();
    if (hint > 0) bytes.reserve(static_cast<std::size_t>(hint));
    constexpr std::size_t chunk = std::size_t{1} << 20;
    for (;;) {
      const std::size_t at = bytes.size();
      bytes.resize(at + chunk);
      in.read(reinterpret_cast<char*>(bytes.data() + at), static_cast<std::streamsize>(chunk));
      bytes.resize(at + static_cast<std::size_t>(in.gcount()));
      if (!in) break;
    }
    if (in.bad()) failure = "the stream reported an error";
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {  // libstdc++'s filebuf throws (either ABI's ios_failure) on a read error
    failure = e.what();
  }
  if (!failure.empty()) throw io_error(message(who, ": reading '", path, "' failed: ", failure), path);
  return bytes;
}

}  // namespace sdeflow::detail
