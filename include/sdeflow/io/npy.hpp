// SPDX-License-Identifier: MIT
#pragma once
/// \file npy.hpp
/// Writes a batch as a NumPy .npy file (format version 1.0): a d x n Eigen batch, one sample per
/// column, becomes an array of shape (n, d) in C order, so `numpy.load(path)[i]` is sample i. The
/// column-major batch already has that layout: the data are written in one block, without a copy.
/// Little-endian float64 ('<f8') or float32 ('<f4').
///
/// \code
///   sdeflow::write_npy("samples.npy", x);    // x: Eigen::MatrixXd, d x n
/// \endcode

#include <sdeflow/core/error.hpp>

#include <Eigen/Core>

#include <bit>
#include <cstdint>
#include <fstream>
#include <string>
#include <type_traits>

namespace sdeflow {

namespace detail {
/// The .npy version 1.0 header of a C-order (rows, cols) array of S, padded so the data start at a
/// multiple of 64 bytes.
template <class S>
[[nodiscard]] std::string npy_header(std::uint64_t rows, std::uint64_t cols) {
  static_assert(std::is_same_v<S, double> || std::is_same_v<S, float>, "write_npy writes float64 or float32");
  static_assert(std::endian::native == std::endian::little, "write_npy writes little-endian data");
  std::string dict = message("{'descr': '", std::is_same_v<S, double> ? "<f8" : "<f4",
                             "', 'fortran_order': False, 'shape': (", rows, ", ", cols, "), }");
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic, version, length; the dict; '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string h("\x93NUMPY\x01\x00", 8);
  h.push_back(static_cast<char>(dict.size() & 0xff));
  h.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return h + dict;
}
}  // namespace detail

/// Write the d x n batch x to `path` as an (n, d) array. Throws io_error naming the path when the file
/// cannot be written.
template <class Derived>
void write_npy(const std::string& path, const Eigen::MatrixBase<Derived>& x) {
  using S = typename Derived::Scalar;
  // A contiguous column-major batch is written in place; an expression or a strided block is evaluated first.
  const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> m(x);
  const std::string header =
      detail::npy_header<S>(static_cast<std::uint64_t>(m.cols()), static_cast<std::uint64_t>(m.rows()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw io_error(detail::message("write_npy: cannot open '", path, "' for writing"), path);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const auto bytes = [](Eigen::Index count) { return static_cast<std::streamsize>(sizeof(S) * static_cast<std::size_t>(count)); };
  if (m.outerStride() == m.rows()) {
    out.write(reinterpret_cast<const char*>(m.data()), bytes(m.size()));
  } else {  // a block of a taller matrix: its columns are contiguous, not the block
    for (Eigen::Index j = 0; j < m.cols(); ++j) out.write(reinterpret_cast<const char*>(m.col(j).data()), bytes(m.rows()));
  }
  out.close();
  if (!out) throw io_error(detail::message("write_npy: writing '", path, "' failed"), path);
}

}  // namespace sdeflow
