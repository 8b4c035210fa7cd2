// SPDX-License-Identifier: MIT
#pragma once
/// \file npy.hpp
/// Reads and writes NumPy .npy files, the format `numpy.save` writes and `numpy.load` reads
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
///
/// A d x n Eigen batch, one sample per column, is stored as an array of shape (n, d) in C order, so
/// `numpy.load(path)[i]` is sample i. The column-major batch already has that layout: the writer
/// writes it in one block, without a copy, and the reader fills the batch with one memcpy when the
/// file's type is the requested one. An index vector (an Eigen vector type of std::int64_t or
/// std::int32_t) is stored as shape (n,) and read back as a 1 x n row.
///
/// The writer writes format version 1.0, little-endian float64 ('<f8'), float32 ('<f4'), int64
/// ('<i8') or int32 ('<i4'). The reader accepts versions 1.0, 2.0 and 3.0; those four types in either
/// byte order; C or Fortran order; shape () (one value), (n,) (n samples of dimension 1) or (n, d).
/// Floating-point files convert to a floating-point result and integer files to an integer result
/// (an int64 value outside int32's range, or a float64 value beyond float32's, is an error, never a
/// wrap or an infinity). The reader treats its input as
/// hostile: a bad magic string or version, a header length past the end, a header that is not the
/// dict the format defines (unknown, missing or repeated keys), an unsupported type or rank, a shape
/// whose size overflows, and a truncated file or trailing bytes are each a `format_error` naming what
/// is wrong and the byte offset where it was found. Values are read as they are: a NaN in the file is
/// a NaN in the batch (the samplers reject a non-finite initial state themselves).
///
/// \code
///   sdeflow::write_npy("samples.npy", x);                 // x: Eigen::MatrixXd, d x n
///   Eigen::MatrixXd y = sdeflow::read_npy("samples.npy");   // y == x
///   Eigen::MatrixXf z = sdeflow::read_npy<float>("samples.npy");
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/io/detail/read_file.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sdeflow {

/// The element types a .npy file is read into or written from.
template <class S>
concept npy_scalar = std::is_same_v<S, double> || std::is_same_v<S, float> || std::is_same_v<S, std::int64_t> ||
                     std::is_same_v<S, std::int32_t>;

namespace detail {

static_assert(std::endian::native == std::endian::little, "sdeflow's .npy reader and writer assume a little-endian host");

/// NumPy's type string of S, little-endian.
template <npy_scalar S>
[[nodiscard]] constexpr const char* npy_descr() {
  if constexpr (std::is_same_v<S, double>) return "<f8";
  else if constexpr (std::is_same_v<S, float>) return "<f4";
  else if constexpr (std::is_same_v<S, std::int64_t>) return "<i8";
  else return "<i4";
}

/// The .npy version 1.0 header of a C-order array of S with the given shape text ("(5, 3)" or "(5,)"),
/// padded so the data start at a multiple of 64 bytes.
template <npy_scalar S>
[[nodiscard]] std::string npy_header(const std::string& shape) {
  std::string dict = message("{'descr': '", npy_descr<S>(), "', 'fortran_order': False, 'shape': ", shape, ", }");
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic, version, length; the dict; '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string h("\x93NUMPY\x01\x00", 8);
  h.push_back(static_cast<char>(dict.size() & 0xff));
  h.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return h + dict;
}

/// What a .npy header declares.
struct npy_layout {
  char kind = 0;            // 'f' or 'i'
  std::size_t width = 0;    // bytes per element: 4 or 8
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
  std::size_t data_offset = 0;
};

/// Throw format_error "read_npy: <source>: <what> (byte <at>)".
[[noreturn]] inline void npy_fail(const std::string& source, const std::string& what, std::size_t at) {
  throw format_error(message("read_npy: ", source, ": ", what, " (byte ", at, ")"), at);
}

/// A one-pass reader of the header's Python dict literal, e.g.
/// {'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }
class npy_header_parser {
 public:
  npy_header_parser(std::string_view text, std::size_t base, const std::string& source)
      : text_(text), base_(base), source_(source) {}

  npy_layout parse() {
    npy_layout out;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::size_t key_at = pos_;
      const std::string key = string_literal();
      skip_ws();
      expect(':');
      skip_ws();
      const auto once = [&](bool& seen) {
        if (seen) fail(message("the key '", key, "' appears twice"), key_at);
        seen = true;
      };
      if (key == "descr") {
        once(seen_descr);
        descr(out, string_literal(), key_at);
      } else if (key == "fortran_order") {
        once(seen_order);
        out.fortran_order = boolean();
      } else if (key == "shape") {
        once(seen_shape);
        out.shape = tuple();
      } else {
        fail(message("unknown key '", key, "' (a .npy header has 'descr', 'fortran_order' and 'shape')"), key_at);
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != '}') {
        fail("expected ',' or '}' after a value", pos_);
      }
    }
    ++pos_;  // '}'
    skip_ws();
    if (pos_ != text_.size()) fail("unexpected characters after the header's dict", pos_);
    if (!seen_descr) fail("the header has no 'descr'", 0);
    if (!seen_order) fail("the header has no 'fortran_order'", 0);
    if (!seen_shape) fail("the header has no 'shape'", 0);
    return out;
  }

  [[noreturn]] void fail(const std::string& what, std::size_t at) const { npy_fail(source_, what, base_ + at); }

 private:
  [[nodiscard]] char peek() const {
    if (pos_ >= text_.size()) fail("the header ends inside its dict", pos_);
    return text_[pos_];
  }
  void skip_ws() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r')) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(message("expected '", c, "', found '", text_[pos_], "'"), pos_);
    ++pos_;
  }
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string", pos_);
    const std::size_t start = ++pos_;
    while (peek() != quote) {
      if (text_[pos_] == '\\') fail("escape sequences are not part of a .npy header", pos_);
      ++pos_;
    }
    return std::string(text_.substr(start, pos_++ - start));
  }
  bool boolean() {
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("'fortran_order' must be True or False", pos_);
  }
  std::vector<std::uint64_t> tuple() {
    std::vector<std::uint64_t> dims;
    bool comma = false;
    expect('(');
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (dims.size() == 32) fail("the shape has more than 32 dimensions (NumPy's limit)", pos_);
      const std::size_t at = pos_;
      std::uint64_t v = 0;
      if (peek() < '0' || peek() > '9') fail("a shape entry must be a non-negative integer", at);
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
        if (v > (std::uint64_t{1} << 62) / 10) fail("a shape entry is too large", at);
        v = 10 * v + digit;
        ++pos_;
      }
      if (text_.substr(pos_, 1) == "L") ++pos_;  // Python 2's long suffix
      dims.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        comma = true;
      } else if (peek() != ')') {
        fail("expected ',' or ')' in the shape", pos_);
      }
    }
    if (dims.size() == 1 && !comma) fail("a one-entry shape is written (n,), not (n)", pos_);
    ++pos_;
    return dims;
  }
  void descr(npy_layout& out, const std::string& d, std::size_t at) const {
    if (d.size() == 3 && (d[0] == '<' || d[0] == '>' || d[0] == '=') && (d[1] == 'f' || d[1] == 'i') &&
        (d[2] == '4' || d[2] == '8')) {
      out.big_endian = d[0] == '>';
      out.kind = d[1];
      out.width = static_cast<std::size_t>(d[2] - '0');
      return;
    }
    fail(message("descr '", d, "' is not supported (float64 '<f8', float32 '<f4', int64 '<i8' or int32 '<i4', "
                 "either byte order)"),
         at);
  }

  std::string_view text_;
  std::size_t base_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

/// Read one stored element (width 4 or 8, either byte order) as T.
template <class T>
[[nodiscard]] T npy_load(const char* p, bool swap) {
  std::array<char, sizeof(T)> b{};
  std::memcpy(b.data(), p, sizeof(T));
  if (swap) std::reverse(b.begin(), b.end());
  return std::bit_cast<T>(b);
}

}  // namespace detail

/// Parse the bytes of a .npy file into a d x n batch (see the file comment for the accepted forms).
/// `source` names the bytes in error messages. Throws format_error.
template <npy_scalar S = double>
[[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> parse_npy(std::string_view bytes,
                                                                          const std::string& source = "<bytes>") {
  const auto fail = [&source](const std::string& what, std::size_t at) { detail::npy_fail(source, what, at); };
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6)) {
    fail("not a .npy file (no \\x93NUMPY magic string)", 0);
  }
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) fail(detail::message("format version ", +major, ".", +minor, " is not 1.0, 2.0 or 3.0"), 6);
  const std::size_t prefix = major == 1 ? 10 : 12;
  if (bytes.size() < prefix) fail("the file ends inside the header length", 8);
  std::size_t hlen = 0;
  for (std::size_t k = prefix; k-- > 8;) hlen = 256 * hlen + static_cast<unsigned char>(bytes[k]);
  if (hlen > bytes.size() - prefix) {
    fail(detail::message("the header length ", hlen, " runs past the end of the file (", bytes.size(), " bytes)"), 8);
  }
  detail::npy_header_parser header(bytes.substr(prefix, hlen), prefix, source);
  detail::npy_layout layout = header.parse();
  layout.data_offset = prefix + hlen;

  if (layout.shape.size() > 2) {
    header.fail(detail::message("a ", layout.shape.size(), "-dimensional array is not a batch (shape (n,) or (n, d))"), 0);
  }
  const std::uint64_t n = layout.shape.empty() ? 1 : layout.shape[0];
  const std::uint64_t d = layout.shape.size() == 2 ? layout.shape[1] : 1;
  constexpr auto index_max = static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max());
  if (n > index_max || d > index_max || (d != 0 && n > index_max / d) || (d != 0 && n * d > index_max / layout.width)) {
    header.fail(detail::message("the shape (", n, ", ", d, ") is too large to address"), 0);
  }
  const std::uint64_t count = n * d;
  const std::size_t have = bytes.size() - layout.data_offset;
  if (count * layout.width != have) {
    fail(detail::message("the shape (", n, ", ", d, ") of ", layout.width, "-byte elements needs ", count * layout.width,
                         " data bytes, the file has ", have, have < count * layout.width ? " (truncated)" : " (trailing bytes)"),
         layout.data_offset);
  }
  constexpr bool want_float = std::is_floating_point_v<S>;
  if ((layout.kind == 'f') != want_float) {
    fail(detail::message("the file holds ", layout.kind == 'f' ? "floating-point" : "integer", " values, read as ",
                         want_float ? "a floating-point" : "an integer", " type"),
         prefix);
  }

  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> out(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(n));
  const char* data = bytes.data() + layout.data_offset;
  const bool direct = layout.width == sizeof(S) && !layout.big_endian && !layout.fortran_order &&
                      (want_float == (layout.kind == 'f'));
  if (direct) {
    if (count > 0) std::memcpy(out.data(), data, static_cast<std::size_t>(count) * sizeof(S));
    return out;
  }
  // Element k of the file is (i, j) = (k / d, k % d) in C order, (k % n, k / n) in Fortran order.
  for (std::uint64_t k = 0; k < count; ++k) {
    const char* p = data + k * layout.width;
    S v{};
    if constexpr (want_float) {
      if (layout.width == 8) {
        const double w = detail::npy_load<double>(p, layout.big_endian);
        v = static_cast<S>(w);
        if constexpr (sizeof(S) < sizeof(double)) {
          if (std::isfinite(w) && !std::isfinite(v)) {
            fail(detail::message("the value ", w, " does not fit in float32"), layout.data_offset + k * layout.width);
          }
        }
      } else {
        v = static_cast<S>(detail::npy_load<float>(p, layout.big_endian));
      }
    } else {
      const std::int64_t w = layout.width == 8 ? detail::npy_load<std::int64_t>(p, layout.big_endian)
                                               : detail::npy_load<std::int32_t>(p, layout.big_endian);
      if constexpr (sizeof(S) < sizeof(std::int64_t)) {
        if (w < std::numeric_limits<S>::min() || w > std::numeric_limits<S>::max()) {
          fail(detail::message("the value ", w, " does not fit in int32"), layout.data_offset + k * layout.width);
        }
      }
      v = static_cast<S>(w);
    }
    const std::uint64_t i = layout.fortran_order ? k % n : k / d;
    const std::uint64_t j = layout.fortran_order ? k / n : k % d;
    out(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(i)) = v;
  }
  return out;
}

/// Read a .npy file into a d x n batch. Throws io_error when the file cannot be read and format_error
/// (naming the path) when it is not a supported .npy array.
template <npy_scalar S = double>
[[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> read_npy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw io_error(detail::message("read_npy: cannot open '", path, "' for reading (",
                                   std::filesystem::exists(path, ec) ? "not a regular file" : "no such file", ")"),
                   path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(detail::message("read_npy: cannot open '", path, "' for reading"), path);
  const std::vector<unsigned char> bytes = detail::read_to_end(in, path, "read_npy");
  return parse_npy<S>(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                      detail::message("'", path, "'"));
}

/// Write the d x n batch x to `path` as an (n, d) array; an integer vector (a type that is a vector at
/// compile time, e.g. Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> of sample indices) as shape (n,). Throws io_error naming the path when the file cannot be written.
template <class Derived>
void write_npy(const std::string& path, const Eigen::MatrixBase<Derived>& x) {
  using S = typename Derived::Scalar;
  static_assert(npy_scalar<S>, "write_npy writes double, float, std::int64_t or std::int32_t");
  // A contiguous column-major batch is written in place; an expression or a strided block is evaluated first.
  const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> m(x);
  // An integer vector by its type (Eigen::VectorX<std::int64_t>, a row vector): shape (n,). An integer
  // matrix that happens to have one column stays a batch of one sample, (1, d).
  constexpr bool vector = std::is_integral_v<S> && Derived::IsVectorAtCompileTime;
  const std::string shape = vector ? detail::message("(", m.size(), ",)") : detail::message("(", m.cols(), ", ", m.rows(), ")");
  const std::string header = detail::npy_header<S>(shape);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw io_error(detail::message("write_npy: cannot open '", path, "' for writing"), path);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const auto bytes = [](Eigen::Index count) { return static_cast<std::streamsize>(sizeof(S) * static_cast<std::size_t>(count)); };
  if (m.outerStride() == m.rows() || m.cols() == 1) {
    out.write(reinterpret_cast<const char*>(m.data()), bytes(m.size()));
  } else {  // a block of a taller matrix (or a row of one): its columns are contiguous, not the block
    for (Eigen::Index j = 0; j < m.cols(); ++j) out.write(reinterpret_cast<const char*>(m.col(j).data()), bytes(m.rows()));
  }
  out.close();
  if (!out) throw io_error(detail::message("write_npy: writing '", path, "' failed"), path);
}

/// Write a trajectory, states[k] the d x n batch at grid point k (all the same shape), as one array of
/// shape (T, n, d) in C order: `numpy.load(path)[k, i]` is sample i at point k. read_npy reads batches
/// (rank 2 at most), not this. Throws dimension_mismatch when the states differ in shape and io_error
/// naming the path when the file cannot be written.
template <class M>
void write_npy_trajectory(const std::string& path, const std::vector<M>& states) {
  using S = typename M::Scalar;
  static_assert(std::is_floating_point_v<S>, "write_npy_trajectory writes double or float states");
  const Eigen::Index d = states.empty() ? 0 : states.front().rows(), n = states.empty() ? 0 : states.front().cols();
  for (std::size_t k = 0; k < states.size(); ++k) {
    if (states[k].rows() != d || states[k].cols() != n) {
      throw dimension_mismatch(detail::message("write_npy_trajectory: state ", k, " is ", states[k].rows(), " x ",
                                               states[k].cols(), " but state 0 is ", d, " x ", n));
    }
  }
  const std::string header = detail::npy_header<S>(detail::message("(", states.size(), ", ", n, ", ", d, ")"));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw io_error(detail::message("write_npy_trajectory: cannot open '", path, "' for writing"), path);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& x : states) {
    const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> c = x;  // contiguous, column-major: (n, d) in C order
    out.write(reinterpret_cast<const char*>(c.data()), static_cast<std::streamsize>(sizeof(S) * static_cast<std::size_t>(c.size())));
  }
  out.close();
  if (!out) throw io_error(detail::message("write_npy_trajectory: writing '", path, "' failed"), path);
}

}  // namespace sdeflow
