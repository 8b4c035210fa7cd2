// SPDX-License-Identifier: MIT
#pragma once
/// \file safetensors.hpp
/// Reading and writing the safetensors format, in which diffusion models ship their weights:
///
///   [8 bytes: N, little-endian u64] [N bytes: JSON header] [byte buffer]
///
/// The header maps each tensor name to {"dtype": "F32", "shape": [r, c], "data_offsets": [b, e]}
/// (offsets relative to the start of the byte buffer, row-major, little-endian), plus an optional
/// "__metadata__" object of string -> string. Format: https://github.com/huggingface/safetensors.
///
/// The reader treats its input as hostile: every number in the header is checked before it is used,
/// and any problem is a `format_error` naming what is wrong and the byte offset where it was found:
/// - the length prefix against the file size and a 100 MiB cap (the reference implementation's limit);
/// - the header as strict JSON (depth-limited, duplicate keys rejected, unknown fields rejected);
/// - each dtype against the known names, each shape's element count (overflow-checked) times the
///   element size against its byte range;
/// - the ranges against each other and the buffer: sorted, they must tile the buffer exactly from 0
///   to its end, so a truncated file, trailing bytes or overlapping/holed ranges are all rejected.
/// Values are decoded byte by byte (endian-neutral) and converted to float/double on request;
/// F64, F32, F16 and BF16 tensors can be read as floating point.
///
/// \code
///   auto file = sdeflow::safetensors::load("model.safetensors");
///   Eigen::MatrixXd w = file.matrix<double>("layers.0.weight", 64, 18);   // checks the shape
///   std::string kind = file.metadata_value("prediction");
/// \endcode

#include <sdeflow/core/error.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sdeflow {

/// Element types of the safetensors format.
enum class tensor_dtype { f64, f32, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8, boolean };

[[nodiscard]] constexpr std::string_view to_string(tensor_dtype t) noexcept {
  switch (t) {
    case tensor_dtype::f64: return "F64";
    case tensor_dtype::f32: return "F32";
    case tensor_dtype::f16: return "F16";
    case tensor_dtype::bf16: return "BF16";
    case tensor_dtype::i64: return "I64";
    case tensor_dtype::i32: return "I32";
    case tensor_dtype::i16: return "I16";
    case tensor_dtype::i8: return "I8";
    case tensor_dtype::u64: return "U64";
    case tensor_dtype::u32: return "U32";
    case tensor_dtype::u16: return "U16";
    case tensor_dtype::u8: return "U8";
    case tensor_dtype::boolean: return "BOOL";
  }
  return "?";
}

/// Bytes per element.
[[nodiscard]] constexpr std::size_t size_of(tensor_dtype t) noexcept {
  switch (t) {
    case tensor_dtype::f64: case tensor_dtype::i64: case tensor_dtype::u64: return 8;
    case tensor_dtype::f32: case tensor_dtype::i32: case tensor_dtype::u32: return 4;
    case tensor_dtype::f16: case tensor_dtype::bf16: case tensor_dtype::i16: case tensor_dtype::u16: return 2;
    case tensor_dtype::i8: case tensor_dtype::u8: case tensor_dtype::boolean: return 1;
  }
  return 0;
}

/// One tensor's entry in the header; begin/end are absolute offsets into the file.
struct tensor_info {
  std::string name;
  tensor_dtype dtype = tensor_dtype::f32;
  std::vector<std::size_t> shape;
  std::size_t begin = 0;
  std::size_t end = 0;
  [[nodiscard]] std::size_t elements() const noexcept {
    std::size_t n = 1;
    for (auto s : shape) n *= s;
    return n;
  }
};

namespace detail::json {

/// A parsed JSON value, restricted to what a safetensors header can hold: objects (ordered, keys
/// unique), arrays, strings and non-negative integers. Any other token is a format_error.
struct value {
  enum class kind { object, array, string, integer } type = kind::integer;
  std::vector<std::string> keys;  // object: keys[i] names items[i]
  std::vector<value> items;       // object members or array elements
  std::string text;                                    // string
  std::uint64_t number = 0;                            // integer
  std::size_t offset = 0;                              // where it starts in the file
};

class parser {
 public:
  /// `base` is the file offset of text[0], for error messages.
  parser(std::string_view text, std::size_t base) : s_(text), base_(base) {}

  value parse_document() {
    skip_ws();
    if (peek() != '{') fail("the header must be a JSON object starting with '{'");
    value v = parse_value(0);
    skip_ws();  // safetensors pads the header with trailing spaces
    if (i_ != s_.size()) fail("unexpected characters after the header's JSON object");
    return v;
  }

 private:
  static constexpr int max_depth = 16;

  [[noreturn]] void fail(const std::string& what) const {
    throw format_error(message("safetensors: malformed header at byte ", base_ + i_, ": ", what), base_ + i_);
  }
  [[nodiscard]] char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    if (i_ >= s_.size() || s_[i_] != c) fail(message("expected '", c, "'"));
    ++i_;
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  value parse_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than 16 levels");
    skip_ws();
    value v;
    v.offset = base_ + i_;
    const char c = peek();
    if (c == '{') {
      v.type = value::kind::object;
      ++i_;
      skip_ws();
      if (peek() == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        skip_ws();
        if (peek() != '"') fail("expected a string key");
        std::string key = parse_string();
        for (const auto& k : v.keys) {
          if (k == key) fail(message("duplicate key \"", key, "\""));
        }
        skip_ws();
        expect(':');
        v.items.push_back(parse_value(depth + 1));
        v.keys.push_back(std::move(key));
        skip_ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.type = value::kind::array;
      ++i_;
      skip_ws();
      if (peek() == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.items.push_back(parse_value(depth + 1));
        skip_ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.type = value::kind::string;
      v.text = parse_string();
      return v;
    }
    if (c >= '0' && c <= '9') {
      v.type = value::kind::integer;
      v.number = parse_integer();
      return v;
    }
    if (i_ >= s_.size()) fail("unexpected end of header");
    fail(message("unexpected character '", c, "' (only objects, arrays, strings and non-negative integers are valid)"));
  }

  std::uint64_t parse_integer() {
    const std::size_t start = i_;
    std::uint64_t n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(s_[i_] - '0');
      if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail("integer overflows 64 bits");
      n = n * 10 + digit;
      ++i_;
    }
    if (i_ - start > 1 && s_[start] == '0') {
      i_ = start;
      fail("integer with a leading zero");
    }
    const char c = peek();
    if (c == '.' || c == 'e' || c == 'E') fail("expected an integer, found a fraction or exponent");
    return n;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::uint32_t parse_hex4() {
    if (s_.size() - i_ < 4) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<std::uint32_t>(h - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }

  /// The length of the well-formed UTF-8 sequence at byte i (RFC 3629, Table 3-7 of the Unicode
  /// standard: no overlong forms, no surrogates, nothing above U+10FFFF), or fail.
  std::size_t utf8_sequence(std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s_[k]); };
    const unsigned char b0 = b(i);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      i_ = i;
      fail("invalid UTF-8 lead byte in a string");
    }
    if (s_.size() - i < len) {
      i_ = i;
      fail("truncated UTF-8 sequence in a string");
    }
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char lo_k = k == 1 ? lo : 0x80, hi_k = k == 1 ? hi : 0xBF;
      if (b(i + k) < lo_k || b(i + k) > hi_k) {
        i_ = i + k;
        fail("invalid UTF-8 continuation byte in a string");
      }
    }
    return len;
  }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --i_;
        fail("control character inside a string");
      }
      if (static_cast<unsigned char>(c) >= 0x80) {  // a multi-byte UTF-8 sequence: validated, kept as is
        const std::size_t start = i_ - 1, len = utf8_sequence(start);
        out.append(s_.substr(start, len));
        i_ = start + len;
        continue;
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.size() - i_ < 2 || s_[i_] != '\\' || s_[i_ + 1] != 'u') fail("unpaired surrogate in \\u escape");
            i_ += 2;
            const std::uint32_t lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired low surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: --i_; fail(message("invalid escape '\\", e, "'"));
      }
    }
  }

  std::string_view s_;
  std::size_t base_;
  std::size_t i_ = 0;
};

}  // namespace detail::json

/// A validated safetensors file held in memory.
class safetensors {
 public:
  /// Largest header accepted (bytes).
  static constexpr std::size_t max_header_bytes = std::size_t{100} << 20;

  /// Read and validate a file. Throws format_error (bad content, naming the path) or io_error (the
  /// path cannot be opened or read: missing, a directory, unreadable).
  [[nodiscard]] static safetensors load(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw io_error(detail::message("safetensors: cannot read '", path, "': it is a directory"), path);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(detail::message("safetensors: cannot open '", path, "'"), path);
    std::vector<unsigned char> bytes;
    try {
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } catch (const std::exception& e) {  // libstdc++'s filebuf throws (either ABI's ios_failure) on a read error
      throw io_error(detail::message("safetensors: reading '", path, "' failed: ", e.what()), path);
    }
    try {
      return parse(std::move(bytes));
    } catch (const format_error& e) {
      throw format_error(detail::message(e.what(), " (file '", path, "')"), e.offset());
    }
  }

  /// Validate bytes already in memory (the whole file).
  [[nodiscard]] static safetensors parse(std::vector<unsigned char> bytes) {
    safetensors f;
    f.bytes_ = std::move(bytes);
    f.validate();
    return f;
  }

  [[nodiscard]] const std::vector<tensor_info>& tensors() const noexcept { return tensors_; }
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return bytes_.size(); }

  [[nodiscard]] bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }

  /// The entry of tensor `name`; format_error when there is none.
  [[nodiscard]] const tensor_info& info(std::string_view name) const {
    const tensor_info* t = find(name);
    if (t == nullptr) throw format_error(detail::message("safetensors: no tensor named \"", name, "\""), 0);
    return *t;
  }

  /// A metadata value; format_error when the key is absent.
  [[nodiscard]] const std::string& metadata_value(const std::string& key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end()) {
      throw format_error(detail::message("safetensors: no metadata entry \"", key, "\""), 0);
    }
    return it->second;
  }

  /// The elements of a floating-point tensor (F64/F32/F16/BF16), row-major, as S.
  template <std::floating_point S>
  [[nodiscard]] std::vector<S> values(std::string_view name) const {
    const tensor_info& t = info(name);
    std::vector<S> out(t.elements());
    const unsigned char* p = bytes_.data() + t.begin;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<S>(decode(t.dtype, p + i * size_of(t.dtype), t));
    return out;
  }

  /// A 2-D floating-point tensor as an Eigen matrix, checking its shape is rows x cols.
  template <std::floating_point S>
  [[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> matrix(std::string_view name, Eigen::Index rows,
                                                                        Eigen::Index cols) const {
    const tensor_info& t = info(name);
    require_shape(t, {static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
    const std::vector<S> v = values<S>(name);
    Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> m(rows, cols);
    for (Eigen::Index r = 0; r < rows; ++r) {
      for (Eigen::Index c = 0; c < cols; ++c) m(r, c) = v[static_cast<std::size_t>(r * cols + c)];
    }
    return m;
  }

  /// A 2-D floating-point tensor of any shape.
  template <std::floating_point S>
  [[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> matrix(std::string_view name) const {
    const tensor_info& t = info(name);
    if (t.shape.size() != 2) {
      throw format_error(detail::message("safetensors: tensor \"", name, "\" has ", t.shape.size(),
                                         " dimensions; a matrix needs 2"), t.begin);
    }
    return matrix<S>(name, static_cast<Eigen::Index>(t.shape[0]), static_cast<Eigen::Index>(t.shape[1]));
  }

  /// A 1-D floating-point tensor, checking its length.
  template <std::floating_point S>
  [[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, 1> vector(std::string_view name, Eigen::Index size) const {
    const tensor_info& t = info(name);
    require_shape(t, {static_cast<std::size_t>(size)});
    const std::vector<S> v = values<S>(name);
    return Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, 1>>(v.data(), size);
  }

  /// A 1-D floating-point tensor of any length.
  template <std::floating_point S>
  [[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, 1> vector(std::string_view name) const {
    const tensor_info& t = info(name);
    if (t.shape.size() != 1) {
      throw format_error(detail::message("safetensors: tensor \"", name, "\" has ", t.shape.size(),
                                         " dimensions; a vector needs 1"), t.begin);
    }
    return vector<S>(name, static_cast<Eigen::Index>(t.shape[0]));
  }

 private:
  safetensors() = default;

  [[nodiscard]] const tensor_info* find(std::string_view name) const noexcept {
    for (const auto& t : tensors_) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  static void require_shape(const tensor_info& t, std::vector<std::size_t> want) {
    if (t.shape != want) {
      auto show = [](const std::vector<std::size_t>& s) {
        std::string out = "[";
        for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
        return out + "]";
      };
      throw format_error(detail::message("safetensors: tensor \"", t.name, "\" has shape ", show(t.shape),
                                         "; expected ", show(want)), t.begin);
    }
  }

  static std::uint64_t load_le(const unsigned char* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
  }

  static float half_to_float(std::uint16_t h) noexcept {
    const std::uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    float mag;
    if (exp == 0) {
      mag = std::ldexp(static_cast<float>(man), -24);  // subnormal (or zero)
    } else if (exp == 31) {
      mag = man == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    } else {
      mag = std::ldexp(static_cast<float>(man | 0x400u), static_cast<int>(exp) - 25);
    }
    return sign ? -mag : mag;
  }

  static double decode(tensor_dtype d, const unsigned char* p, const tensor_info& t) {
    switch (d) {
      case tensor_dtype::f64: return std::bit_cast<double>(load_le(p, 8));
      case tensor_dtype::f32: return std::bit_cast<float>(static_cast<std::uint32_t>(load_le(p, 4)));
      case tensor_dtype::f16: return half_to_float(static_cast<std::uint16_t>(load_le(p, 2)));
      case tensor_dtype::bf16: return std::bit_cast<float>(static_cast<std::uint32_t>(load_le(p, 2) << 16));
      default:
        throw format_error(detail::message("safetensors: tensor \"", t.name, "\" has dtype ", to_string(d),
                                           "; only F64, F32, F16 and BF16 can be read as floating point"), t.begin);
    }
  }

  [[noreturn]] static void fail(std::size_t offset, const std::string& what) {
    throw format_error("safetensors: " + what, offset);
  }

  void validate() {
    const std::size_t size = bytes_.size();
    if (size < 8) fail(size, detail::message("file is ", size, " bytes; it must hold at least the 8-byte header length"));
    const std::uint64_t n = load_le(bytes_.data(), 8);
    if (n < 2) fail(0, detail::message("header length is ", n, " bytes; the smallest header, \"{}\", is 2"));
    if (n > max_header_bytes) {
      fail(0, detail::message("header length is ", n, " bytes, more than the limit of ", max_header_bytes));
    }
    if (n > size - 8) {
      fail(size, detail::message("file is truncated: the header claims ", n, " bytes but only ", size - 8,
                                 " follow the length prefix"));
    }
    const std::size_t data_start = 8 + static_cast<std::size_t>(n);
    const std::string_view text(reinterpret_cast<const char*>(bytes_.data()) + 8, static_cast<std::size_t>(n));
    const detail::json::value root = detail::json::parser(text, 8).parse_document();

    for (std::size_t i = 0; i < root.keys.size(); ++i) {
      const std::string& key = root.keys[i];
      const detail::json::value& v = root.items[i];
      if (key == "__metadata__") {
        if (v.type != detail::json::value::kind::object) fail(v.offset, "__metadata__ must be an object");
        for (std::size_t k = 0; k < v.keys.size(); ++k) {
          const std::string& mk = v.keys[k];
          const detail::json::value& mv = v.items[k];
          if (mv.type != detail::json::value::kind::string) {
            fail(mv.offset, detail::message("__metadata__ value of \"", mk, "\" must be a string"));
          }
          metadata_.emplace(mk, mv.text);
        }
        continue;
      }
      tensors_.push_back(parse_entry(key, v, data_start));
    }

    // The ranges must tile the byte buffer exactly: no overlap, no hole, nothing after the last.
    std::vector<const tensor_info*> order;
    order.reserve(tensors_.size());
    for (const auto& t : tensors_) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const tensor_info* a, const tensor_info* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::size_t cursor = data_start;
    for (const tensor_info* t : order) {
      if (t->begin != cursor) {
        fail(t->begin, detail::message("tensor \"", t->name, "\" starts at buffer offset ", t->begin - data_start,
                                       t->begin < cursor ? ", overlapping the previous tensor" : ", leaving a hole",
                                       " (expected ", cursor - data_start, ")"));
      }
      cursor = t->end;
    }
    if (cursor > size) {
      fail(size, detail::message("file is truncated: the tensors need a ", cursor - data_start,
                                 "-byte buffer but only ", size - data_start, " bytes follow the header"));
    }
    if (cursor < size) {
      fail(cursor, detail::message("file is oversized: ", size - cursor,
                                   " trailing bytes are not covered by any tensor"));
    }
  }

  static tensor_info parse_entry(const std::string& key, const detail::json::value& v, std::size_t data_start) {
    using kind = detail::json::value::kind;
    if (v.type != kind::object) fail(v.offset, detail::message("entry \"", key, "\" must be an object"));
    tensor_info t;
    t.name = key;
    const detail::json::value* dtype = nullptr;
    const detail::json::value* shape = nullptr;
    const detail::json::value* offsets = nullptr;
    for (std::size_t i = 0; i < v.keys.size(); ++i) {
      const std::string& field = v.keys[i];
      const detail::json::value& fv = v.items[i];
      if (field == "dtype") dtype = &fv;
      else if (field == "shape") shape = &fv;
      else if (field == "data_offsets") offsets = &fv;
      else fail(fv.offset, detail::message("entry \"", key, "\" has an unknown field \"", field, "\""));
    }
    if (dtype == nullptr || shape == nullptr || offsets == nullptr) {
      fail(v.offset, detail::message("entry \"", key, "\" needs dtype, shape and data_offsets"));
    }
    if (dtype->type != kind::string) fail(dtype->offset, detail::message("dtype of \"", key, "\" must be a string"));
    static constexpr std::array all{tensor_dtype::f64, tensor_dtype::f32, tensor_dtype::f16, tensor_dtype::bf16,
                                    tensor_dtype::i64, tensor_dtype::i32, tensor_dtype::i16, tensor_dtype::i8,
                                    tensor_dtype::u64, tensor_dtype::u32, tensor_dtype::u16, tensor_dtype::u8,
                                    tensor_dtype::boolean};
    bool known = false;
    for (auto d : all) {
      if (dtype->text == to_string(d)) {
        t.dtype = d;
        known = true;
      }
    }
    if (!known) fail(dtype->offset, detail::message("tensor \"", key, "\" has unknown dtype \"", dtype->text, "\""));

    if (shape->type != kind::array) fail(shape->offset, detail::message("shape of \"", key, "\" must be an array"));
    std::uint64_t count = 1;
    for (const auto& dim : shape->items) {
      if (dim.type != kind::integer) fail(dim.offset, detail::message("shape of \"", key, "\" must hold integers"));
      if (dim.number != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim.number) {
        fail(dim.offset, detail::message("shape of \"", key, "\" overflows 64 bits"));
      }
      count *= dim.number;
      t.shape.push_back(static_cast<std::size_t>(dim.number));
    }
    const std::uint64_t esize = size_of(t.dtype);
    if (count > std::numeric_limits<std::uint64_t>::max() / esize) {
      fail(shape->offset, detail::message("byte size of \"", key, "\" overflows 64 bits"));
    }
    const std::uint64_t nbytes = count * esize;

    if (offsets->type != kind::array || offsets->items.size() != 2 || offsets->items[0].type != kind::integer ||
        offsets->items[1].type != kind::integer) {
      fail(offsets->offset, detail::message("data_offsets of \"", key, "\" must be [begin, end]"));
    }
    const std::uint64_t b = offsets->items[0].number, e = offsets->items[1].number;
    if (e < b) fail(offsets->offset, detail::message("data_offsets of \"", key, "\" are [", b, ", ", e, "]: end < begin"));
    if (e - b != nbytes) {
      fail(offsets->offset, detail::message("tensor \"", key, "\" (", to_string(t.dtype), ", ", count,
                                            " elements) needs ", nbytes, " bytes but data_offsets span ", e - b));
    }
    // Offsets beyond any addressable file are rejected here; the tiling check compares with the size.
    if (e > std::numeric_limits<std::size_t>::max() - data_start) {
      fail(offsets->offset, detail::message("data_offsets of \"", key, "\" are out of range"));
    }
    t.begin = data_start + static_cast<std::size_t>(b);
    t.end = data_start + static_cast<std::size_t>(e);
    return t;
  }

  std::vector<unsigned char> bytes_;
  std::vector<tensor_info> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// Builds a safetensors file: add tensors (written as F64 or F32, row-major) and metadata, then
/// take bytes() or save(path). Tensors are laid out in the order added.
class safetensors_writer {
 public:
  /// Add a matrix (2-D) or, with as_vector, a column vector as a 1-D tensor.
  template <class Derived>
  safetensors_writer& add(const std::string& name, const Eigen::MatrixBase<Derived>& m,
                          tensor_dtype dtype = tensor_dtype::f64, bool as_vector = false) {
    detail::require(dtype == tensor_dtype::f64 || dtype == tensor_dtype::f32, "safetensors_writer::add", "dtype",
                    to_string(dtype), "must be F64 or F32");
    detail::require(!as_vector || m.cols() == 1, "safetensors_writer::add", "cols", m.cols(),
                    "must be 1 for a 1-D tensor");
    detail::require(name != "__metadata__" && !name.empty(), "safetensors_writer::add", "name", name,
                    "must be non-empty and not __metadata__");
    entry e{name, dtype, {}, {}};
    if (as_vector) e.shape = {static_cast<std::size_t>(m.rows())};
    else e.shape = {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      for (Eigen::Index c = 0; c < m.cols(); ++c) {
        const double v = static_cast<double>(m(r, c));
        const std::uint64_t bits =
            dtype == tensor_dtype::f64 ? std::bit_cast<std::uint64_t>(v) : std::bit_cast<std::uint32_t>(static_cast<float>(v));
        for (std::size_t k = 0; k < size_of(dtype); ++k) e.data.push_back(static_cast<unsigned char>(bits >> (8 * k)));
      }
    }
    entries_.push_back(std::move(e));
    return *this;
  }

  safetensors_writer& metadata(const std::string& key, const std::string& value) {
    metadata_[key] = value;
    return *this;
  }

  [[nodiscard]] std::vector<unsigned char> bytes() const {
    // Appends only (GCC 12 warns spuriously on `const char* + std::string` under -O2).
    std::string h = "{";
    if (!metadata_.empty()) {
      h.append("\"__metadata__\":{");
      bool first = true;
      for (const auto& [k, v] : metadata_) {
        if (!first) h.push_back(',');
        append_quoted(h, k);
        h.push_back(':');
        append_quoted(h, v);
        first = false;
      }
      h.push_back('}');
    }
    std::size_t offset = 0;
    for (const auto& e : entries_) {
      if (h.size() > 1) h.push_back(',');
      append_quoted(h, e.name);
      h.append(":{\"dtype\":\"").append(to_string(e.dtype)).append("\",\"shape\":[");
      for (std::size_t i = 0; i < e.shape.size(); ++i) {
        if (i > 0) h.push_back(',');
        h.append(std::to_string(e.shape[i]));
      }
      h.append("],\"data_offsets\":[").append(std::to_string(offset)).push_back(',');
      h.append(std::to_string(offset + e.data.size())).append("]}");
      offset += e.data.size();
    }
    h.push_back('}');
    while (h.size() % 8 != 0) h.push_back(' ');  // align the buffer to 8 bytes, as the reference writer does
    std::vector<unsigned char> out(8 + h.size() + offset);
    for (std::size_t k = 0; k < 8; ++k) out[k] = static_cast<unsigned char>(static_cast<std::uint64_t>(h.size()) >> (8 * k));
    std::size_t at = 8;
    for (const char c : h) out[at++] = static_cast<unsigned char>(c);
    for (const auto& e : entries_) {
      for (const unsigned char c : e.data) out[at++] = c;
    }
    return out;
  }

  void save(const std::string& path) const {
    const auto b = bytes();
    std::ofstream out(path, std::ios::binary);
    if (!out) throw io_error(detail::message("safetensors_writer: cannot open '", path, "' for writing"), path);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    out.close();
    if (!out) throw io_error(detail::message("safetensors_writer: writing '", path, "' failed"), path);
  }

 private:
  struct entry {
    std::string name;
    tensor_dtype dtype;
    std::vector<std::size_t> shape;
    std::vector<unsigned char> data;
  };
  static void append_quoted(std::string& out, const std::string& s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out.append("\\u00");
        out.push_back(hex[(c >> 4) & 0xF]);
        out.push_back(hex[c & 0xF]);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
  }
  std::vector<entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace sdeflow
