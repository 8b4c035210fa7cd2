// SPDX-License-Identifier: MIT
// libFuzzer target for the .npy reader: any input must either parse or raise an sdeflow::error; anything
// else (a crash, a sanitizer report, another exception) is a bug. A file that parses must survive a
// write and a second read unchanged. Build with -DSDEFLOW_BUILD_FUZZERS=ON (clang++), run e.g.
//   build/clang/tests/fuzz_npy -max_total_time=60 tests/fuzz/corpus_npy
#include <sdeflow/io/npy.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace {
template <class S>
void check(std::string_view bytes) {
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> x;
  try {
    x = sdeflow::parse_npy<S>(bytes);
  } catch (const sdeflow::error&) {
    return;
  }
  static const std::string path = "fuzz_npy_roundtrip_" + std::to_string(sizeof(S)) + ".npy";
  sdeflow::write_npy(path, x);
  const auto y = sdeflow::read_npy<S>(path);
  // The same shape (an integer vector may come back as a row: it is written as shape (n,)), and the
  // same bits, NaN payloads included.
  const bool same_shape = y.rows() == x.rows() && y.cols() == x.cols();
  const bool vector_as_row = std::is_integral_v<S> && (x.rows() == 1 || x.cols() == 1) && y.rows() == 1 && y.cols() == x.size();
  if (!(same_shape || vector_as_row) ||
      (x.size() > 0 && std::memcmp(x.data(), y.data(), sizeof(S) * static_cast<std::size_t>(x.size())) != 0)) {
    __builtin_trap();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check<double>(bytes);
  check<float>(bytes);
  check<std::int64_t>(bytes);
  check<std::int32_t>(bytes);
  return 0;
}
