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
/// - the header as strict JSON in the fixed shape the format defines (io/detail/json.hpp reads it in
///   one pass with no document tree; duplicate keys and unknown fields are rejected);
/// - each dtype against the names the format defines, each shape's element count (overflow-checked,
///   every dimension addressable) times the element size against its byte range. A tensor of a dtype
///   the format defines but this reader does not decode (F8_E4M3, F8_E5M2, F8_E8M0, the FNUZ forms,
///   F6_E2M3, F6_E3M2, F4, C64) is skipped with its size checked and listed in skipped(), unless
///   safetensors_options::reject_undecoded_dtypes asks for an error; any other name is an error;
/// - the ranges against each other and the buffer: sorted, they must tile the buffer exactly from 0
///   to its end, so a truncated file, trailing bytes or overlapping/holed ranges are all rejected.
/// Names are indexed by sorting (duplicates found in O(n log n), lookups in O(log n), and no hash an
/// adversary could flood with collisions). Values are decoded in one pass into the caller's type (a memcpy when
/// the stored type is the requested one on a little-endian host, else little-endian loads, so the
/// result does not depend on the host); F64, F32, F16 and BF16 tensors can be read as floating point.
///
/// \code
///   auto file = sdeflow::safetensors::load("model.safetensors");
///   Eigen::MatrixXd w = file.matrix<double>("layers.0.weight", 64, 18);   // checks the shape
///   std::string kind = file.metadata_value("prediction");
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/io/detail/json.hpp>
#include <sdeflow/io/detail/read_file.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
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

/// How the reader treats tensors it cannot decode.
struct safetensors_options {
  /// A tensor of a dtype the format defines but this reader does not decode (8-, 6- and 4-bit
  /// floats, complex) is skipped by default: its size is checked against its shape, its byte range
  /// takes part in the layout checks, it is listed in skipped(), and asking for it is a format_error
  /// saying why. true rejects such a file instead. A name the format does not define is always an error.
  bool reject_undecoded_dtypes = false;
};

/// A tensor of a dtype the reader does not decode: listed and bounds-checked, never decoded.
struct skipped_tensor {
  std::string name;
  std::string dtype;  // as spelled in the header
  std::vector<std::size_t> shape;
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// A validated safetensors file held in memory.
class safetensors {
 public:
  /// Largest header accepted (bytes).
  static constexpr std::size_t max_header_bytes = std::size_t{100} << 20;

  /// Read and validate a file. Throws format_error (bad content, naming the path) or io_error (the
  /// path cannot be opened or read: missing, a directory, unreadable).
  [[nodiscard]] static safetensors load(const std::string& path, safetensors_options options = {}) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw io_error(detail::message("safetensors: cannot read '", path, "': it is a directory"), path);
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(detail::message("safetensors: cannot open '", path, "'"), path);
    std::vector<unsigned char> bytes = detail::read_to_end(in, path, "safetensors");
    try {
      return parse(std::move(bytes), options);
    } catch (const format_error& e) {
      throw format_error(detail::message(e.what(), " (file '", path, "')"), e.offset());
    }
  }

  /// Validate bytes already in memory (the whole file).
  [[nodiscard]] static safetensors parse(std::vector<unsigned char> bytes, safetensors_options options = {}) {
    safetensors f;
    f.bytes_ = std::move(bytes);
    f.validate(options);
    return f;
  }

  /// The tensors of known dtype, in header order.
  [[nodiscard]] const std::vector<tensor_info>& tensors() const noexcept { return tensors_; }
  /// The tensors of a dtype this reader does not decode, in header order (usually empty).
  [[nodiscard]] const std::vector<skipped_tensor>& skipped() const noexcept { return skipped_; }
  [[nodiscard]] const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  [[nodiscard]] std::size_t size_bytes() const noexcept { return bytes_.size(); }

  /// Whether a tensor of a decoded dtype is called `name` (O(log n)).
  [[nodiscard]] bool contains(std::string_view name) const noexcept {
    const slot* at = find(name);
    return at != nullptr && at->known;
  }

  /// The entry of tensor `name`; format_error when there is none or its dtype was skipped.
  [[nodiscard]] const tensor_info& info(std::string_view name) const {
    const slot* at = find(name);
    if (at == nullptr) throw format_error(detail::message("safetensors: no tensor named \"", name, "\""), 0);
    if (!at->known) {
      const skipped_tensor& s = skipped_[at->at];
      throw format_error(detail::message("safetensors: tensor \"", name, "\" has dtype \"", s.dtype,
                                         "\", which this reader does not decode, so it was skipped"), s.begin);
    }
    return tensors_[at->at];
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
    require_floating(t);
    std::vector<S> out(t.elements());
    decode_into(t, out.data());
    return out;
  }

  /// A 2-D floating-point tensor as an Eigen matrix, checking its shape is rows x cols.
  template <std::floating_point S>
  [[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> matrix(std::string_view name, Eigen::Index rows,
                                                                        Eigen::Index cols) const {
    const tensor_info& t = info(name);
    require_shape(t, {static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
    require_floating(t);
    // The file is row-major: decode straight into row-major storage, then one layout copy.
    Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(rows, cols);
    decode_into(t, m.data());
    return Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>(m);
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
    require_floating(t);
    Eigen::Matrix<S, Eigen::Dynamic, 1> v(size);
    decode_into(t, v.data());
    return v;
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

  struct slot {
    bool known = true;           // tensors_ or skipped_
    std::size_t at = 0;          // index into that list
    std::size_t key_offset = 0;  // where its key starts in the file
  };

  [[nodiscard]] std::string_view name_of(const slot& s) const noexcept {
    return s.known ? std::string_view(tensors_[s.at].name) : std::string_view(skipped_[s.at].name);
  }

  /// Binary search of the sorted index.
  [[nodiscard]] const slot* find(std::string_view name) const noexcept {
    const auto it = std::lower_bound(index_.begin(), index_.end(), name,
                                     [this](const slot& s, std::string_view n) { return name_of(s) < n; });
    return it != index_.end() && name_of(*it) == name ? &*it : nullptr;
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

  static void require_floating(const tensor_info& t) {
    const auto d = t.dtype;
    if (d != tensor_dtype::f64 && d != tensor_dtype::f32 && d != tensor_dtype::f16 && d != tensor_dtype::bf16) {
      throw format_error(detail::message("safetensors: tensor \"", t.name, "\" has dtype ", to_string(d),
                                         "; only F64, F32, F16 and BF16 can be read as floating point"), t.begin);
    }
  }

  static std::uint64_t load_le(const unsigned char* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
  }

  /// IEEE 754 binary16 to float, exactly (every half is a float).
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

  /// n elements stored as `Stored` (Width bytes, little-endian) at p, converted into out. When the
  /// stored type is S and the host is little-endian, the bytes are the values: one memcpy.
  template <class Stored, std::size_t Width, class S, class Decode>
  static void convert(const unsigned char* p, std::size_t n, S* out, Decode decode) {
    if constexpr (std::is_same_v<Stored, S> && std::endian::native == std::endian::little) {
      std::memcpy(out, p, n * sizeof(S));
    } else {
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<S>(decode(p + i * Width));
    }
  }

  /// Decode a floating-point tensor (checked by require_floating) into out[0, elements).
  template <std::floating_point S>
  void decode_into(const tensor_info& t, S* out) const {
    const std::size_t n = t.elements();
    if (n == 0) return;
    const unsigned char* p = bytes_.data() + t.begin;
    switch (t.dtype) {
      case tensor_dtype::f64:
        convert<double, 8>(p, n, out, [](const unsigned char* q) { return std::bit_cast<double>(load_le(q, 8)); });
        break;
      case tensor_dtype::f32:
        convert<float, 4>(p, n, out, [](const unsigned char* q) {
          return std::bit_cast<float>(static_cast<std::uint32_t>(load_le(q, 4)));
        });
        break;
      case tensor_dtype::f16:
        convert<std::uint16_t, 2>(p, n, out, [](const unsigned char* q) {
          return half_to_float(static_cast<std::uint16_t>(load_le(q, 2)));
        });
        break;
      case tensor_dtype::bf16:  // the top half of a binary32
        convert<std::uint16_t, 2>(p, n, out, [](const unsigned char* q) {
          return std::bit_cast<float>(static_cast<std::uint32_t>(load_le(q, 2) << 16));
        });
        break;
      default: require_floating(t);
    }
  }

  [[noreturn]] static void fail(std::size_t offset, const std::string& what) {
    throw format_error("safetensors: " + what, offset);
  }

  /// Bits per element of a dtype the format defines but this reader does not decode; 0 for any
  /// other name. Sub-byte types are packed: their element count times bits must fill whole bytes.
  static unsigned undecoded_bits(std::string_view s) noexcept {
    static constexpr std::array<std::pair<std::string_view, unsigned>, 9> table{{{"F8_E4M3", 8},
                                                                                 {"F8_E5M2", 8},
                                                                                 {"F8_E8M0", 8},
                                                                                 {"F8_E4M3FNUZ", 8},
                                                                                 {"F8_E5M2FNUZ", 8},
                                                                                 {"F6_E2M3", 6},
                                                                                 {"F6_E3M2", 6},
                                                                                 {"F4", 4},
                                                                                 {"C64", 64}}};
    for (const auto& [name, bits] : table) {
      if (name == s) return bits;
    }
    return 0;
  }

  void validate(const safetensors_options& options) {
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
    detail::json::cursor c(text, 8, "safetensors: malformed header");
    if (c.peek() != '{') c.fail("the header must be a JSON object starting with '{'");
    bool seen_metadata = false;
    c.object([&](const std::string& key, std::size_t key_offset) {
      if (key == "__metadata__") {
        if (seen_metadata) c.fail_at(key_offset, "duplicate key \"__metadata__\"");
        seen_metadata = true;
        if (c.peek() != '{') c.fail("__metadata__ must be an object");
        c.object([&](const std::string& mk, std::size_t mk_offset) {
          if (c.peek() != '"') c.fail(detail::message("__metadata__ value of \"", mk, "\" must be a string"));
          if (!metadata_.emplace(mk, c.string()).second) {
            c.fail_at(mk_offset, detail::message("duplicate key \"", mk, "\" in __metadata__"));
          }
        });
        return;
      }
      read_entry(c, key, key_offset, data_start, options);
    });
    if (!c.at_end()) c.fail("unexpected characters after the header's JSON object");  // padding is spaces

    // The index: sorted by name (then file position), so a duplicate is the later of two neighbours.
    std::sort(index_.begin(), index_.end(), [this](const slot& a, const slot& b) {
      const std::string_view na = name_of(a), nb = name_of(b);
      return na != nb ? na < nb : a.key_offset < b.key_offset;
    });
    for (std::size_t i = 1; i < index_.size(); ++i) {
      if (name_of(index_[i]) == name_of(index_[i - 1])) {
        fail(index_[i].key_offset, detail::message("malformed header at byte ", index_[i].key_offset,
                                                   ": duplicate key \"", name_of(index_[i]), "\""));
      }
    }

    // The ranges must tile the byte buffer exactly: no overlap, no hole, nothing after the last.
    struct range {
      std::size_t begin, end;
      const std::string* name;
    };
    std::vector<range> order;
    order.reserve(tensors_.size() + skipped_.size());
    for (const auto& t : tensors_) order.push_back({t.begin, t.end, &t.name});
    for (const auto& t : skipped_) order.push_back({t.begin, t.end, &t.name});
    std::sort(order.begin(), order.end(), [](const range& a, const range& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::size_t cursor = data_start;
    for (const range& t : order) {
      if (t.begin != cursor) {
        fail(t.begin, detail::message("tensor \"", *t.name, "\" starts at buffer offset ", t.begin - data_start,
                                      t.begin < cursor ? ", overlapping the previous tensor" : ", leaving a hole",
                                      " (expected ", cursor - data_start, ")"));
      }
      cursor = t.end;
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

  /// One tensor entry {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, added to the lists.
  void read_entry(detail::json::cursor& c, const std::string& key, std::size_t key_offset, std::size_t data_start,
                  const safetensors_options& options) {
    if (c.peek() != '{') c.fail(detail::message("entry \"", key, "\" must be an object"));
    const std::size_t entry_offset = c.offset();
    std::string dtype;
    std::vector<std::size_t> shape;
    std::uint64_t count = 1, b = 0, e = 0;
    std::size_t dtype_offset = 0, shape_offset = 0, offsets_offset = 0;
    bool has_dtype = false, has_shape = false, has_offsets = false;
    const auto once = [&](bool& seen, const std::string& field, std::size_t at) {
      if (seen) c.fail_at(at, detail::message("entry \"", key, "\" has a duplicate key \"", field, "\""));
      seen = true;
    };
    c.object([&](const std::string& field, std::size_t field_offset) {
      if (field == "dtype") {
        once(has_dtype, field, field_offset);
        dtype_offset = c.offset();
        if (c.peek() != '"') c.fail(detail::message("dtype of \"", key, "\" must be a string"));
        dtype = c.string();
      } else if (field == "shape") {
        once(has_shape, field, field_offset);
        shape_offset = c.offset();
        if (c.peek() != '[') c.fail(detail::message("shape of \"", key, "\" must be an array"));
        c.array([&] {
          const std::size_t dim_offset = c.offset();
          const std::uint64_t dim = c.integer("a dimension in the shape of", key);
          // Every dimension must be an Eigen::Index (a zero elsewhere makes the byte count 0).
          if (dim > static_cast<std::uint64_t>(std::numeric_limits<Eigen::Index>::max())) {
            c.fail_at(dim_offset, detail::message("shape of \"", key, "\" has a dimension ", dim, " above 2^63 - 1"));
          }
          if (dim != 0 && count > std::numeric_limits<std::uint64_t>::max() / dim) {
            c.fail_at(dim_offset, detail::message("shape of \"", key, "\" overflows 64 bits"));
          }
          count *= dim;
          shape.push_back(static_cast<std::size_t>(dim));
        });
      } else if (field == "data_offsets") {
        once(has_offsets, field, field_offset);
        offsets_offset = c.offset();
        const auto bad = [&] { return detail::message("data_offsets of \"", key, "\" must be [begin, end]"); };
        if (c.peek() != '[') c.fail(bad());
        std::size_t k = 0;
        c.array([&] {
          if (k == 2) c.fail(bad());
          (k++ == 0 ? b : e) = c.integer("data_offsets of", key);
        });
        if (k != 2) c.fail_at(offsets_offset, bad());
      } else {
        c.fail_at(field_offset, detail::message("entry \"", key, "\" has an unknown field \"", field, "\""));
      }
    });
    if (!has_dtype || !has_shape || !has_offsets) {
      c.fail_at(entry_offset, detail::message("entry \"", key, "\" needs dtype, shape and data_offsets"));
    }
    if (e < b) c.fail_at(offsets_offset, detail::message("data_offsets of \"", key, "\" are [", b, ", ", e, "]: end < begin"));
    // Offsets beyond any addressable file are rejected here; the tiling check compares with the size.
    if (e > std::numeric_limits<std::size_t>::max() - data_start) {
      c.fail_at(offsets_offset, detail::message("data_offsets of \"", key, "\" are out of range"));
    }

    static constexpr std::array all{tensor_dtype::f64, tensor_dtype::f32, tensor_dtype::f16, tensor_dtype::bf16,
                                    tensor_dtype::i64, tensor_dtype::i32, tensor_dtype::i16, tensor_dtype::i8,
                                    tensor_dtype::u64, tensor_dtype::u32, tensor_dtype::u16, tensor_dtype::u8,
                                    tensor_dtype::boolean};
    const auto* known = std::find_if(all.begin(), all.end(), [&](tensor_dtype d) { return dtype == to_string(d); });
    const std::size_t begin = data_start + static_cast<std::size_t>(b), end = data_start + static_cast<std::size_t>(e);
    if (known == all.end()) {
      const unsigned bits = undecoded_bits(dtype);
      if (bits == 0) {
        c.fail_at(dtype_offset, detail::message("tensor \"", key, "\" has unknown dtype \"", dtype,
                                                "\" (not one the safetensors format defines)"));
      }
      if (options.reject_undecoded_dtypes) {
        c.fail_at(dtype_offset, detail::message("tensor \"", key, "\" has dtype \"", dtype,
                                                "\", which this reader does not decode (reject_undecoded_dtypes is set)"));
      }
      // count * bits must fill whole bytes and match the range (count <= 2^64 - 1, so count / 8 * bits
      // and (count % 8) * bits cannot overflow when the total fits).
      const std::uint64_t whole = count / 8, rest = count % 8;
      if (whole > (std::numeric_limits<std::uint64_t>::max() - 8) / bits || (rest * bits) % 8 != 0 ||
          whole * bits + rest * bits / 8 != e - b) {
        c.fail_at(offsets_offset, detail::message("tensor \"", key, "\" (", dtype, ", ", count, " elements of ", bits,
                                                  " bits) does not fill its data_offsets span of ", e - b, " bytes"));
      }
      index_.push_back(slot{false, skipped_.size(), key_offset});
      skipped_.push_back(skipped_tensor{key, std::move(dtype), std::move(shape), begin, end});
      return;
    }
    const std::uint64_t esize = size_of(*known);
    if (count > std::numeric_limits<std::uint64_t>::max() / esize) {
      c.fail_at(shape_offset, detail::message("byte size of \"", key, "\" overflows 64 bits"));
    }
    const std::uint64_t nbytes = count * esize;
    if (e - b != nbytes) {
      c.fail_at(offsets_offset, detail::message("tensor \"", key, "\" (", to_string(*known), ", ", count,
                                                " elements) needs ", nbytes, " bytes but data_offsets span ", e - b));
    }
    index_.push_back(slot{true, tensors_.size(), key_offset});
    tensors_.push_back(tensor_info{key, *known, std::move(shape), begin, end});
  }

  std::vector<unsigned char> bytes_;
  std::vector<tensor_info> tensors_;
  std::vector<skipped_tensor> skipped_;
  std::vector<slot> index_;  // sorted by name
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
    detail::require(!names_.contains(name), "safetensors_writer::add", "name", name,
                    "was already added (a safetensors header cannot hold a key twice)");
    names_.insert(name);
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
  std::unordered_set<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace sdeflow
