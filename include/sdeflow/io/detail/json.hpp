// SPDX-License-Identifier: MIT
#pragma once
/// \file json.hpp
/// The subset of JSON (RFC 8259) that a safetensors header uses, read as a stream of tokens:
/// objects, arrays, strings (escapes decoded, UTF-8 validated) and non-negative integers. There is
/// no document tree: the caller walks the structure it expects with `object` and `array`, so a
/// header of 100k tensors costs one pass and no per-value allocation beyond the strings it keeps.
/// Every problem is a format_error naming what is wrong and the byte offset in the file.
/// Internal to io/safetensors.hpp; not part of the public API.

#include <sdeflow/core/error.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace sdeflow::detail::json {

class cursor {
 public:
  /// `base` is the file offset of text[0]; `context` prefixes every message.
  cursor(std::string_view text, std::size_t base, std::string_view context) : s_(text), base_(base), context_(context) {}

  [[noreturn]] void fail(const std::string& what) const { fail_at(base_ + i_, what); }
  [[noreturn]] void fail_at(std::size_t file_offset, const std::string& what) const {
    throw format_error(message(context_, " at byte ", file_offset, ": ", what), file_offset);
  }

  /// File offset of the next token (whitespace skipped).
  [[nodiscard]] std::size_t offset() {
    skip_ws();
    return base_ + i_;
  }
  /// The next non-whitespace character, or '\0' at the end.
  [[nodiscard]] char peek() {
    skip_ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  [[nodiscard]] bool at_end() {
    skip_ws();
    return i_ == s_.size();
  }
  void expect(char c) {
    if (peek() != c || i_ >= s_.size()) {
      if (i_ >= s_.size()) fail(message("unexpected end of header; expected '", c, "'"));
      fail(message("expected '", c, "', found ", shown(s_[i_])));
    }
    ++i_;
  }

  /// A character for a message: 'c' when printable, else its byte value.
  [[nodiscard]] static std::string shown(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string("'") + c + "'";
    static constexpr char hex[] = "0123456789ABCDEF";
    return std::string("byte 0x") + hex[u >> 4] + hex[u & 0xF];
  }

  /// '{' (string ':' member(key, key_offset)) % ',' '}'; `member` must consume the value.
  template <class Member>
  void object(Member&& member) {
    sequence('{', '}', [&] {
      if (peek() != '"') fail("expected a string key");
      const std::size_t key_offset = base_ + i_;
      const std::string key = string();
      expect(':');
      member(key, key_offset);
    });
  }

  /// '[' element() % ',' ']'; `element` must consume the value.
  template <class Element>
  void array(Element&& element) {
    sequence('[', ']', element);
  }

  /// A non-negative integer without sign, fraction, exponent or leading zero; messages name it as
  /// `field "key"` (built only on failure).
  std::uint64_t integer(std::string_view field, std::string_view key) {
    const auto what = [&] { return message(field, " \"", key, "\""); };
    const char first = peek();
    if (i_ >= s_.size()) fail(message("unexpected end of header; ", what(), " must be a non-negative integer"));
    if (first < '0' || first > '9') {
      fail(message("unexpected character ", shown(first), ": ", what(), " must be a non-negative integer"));
    }
    const std::size_t start = i_;
    std::uint64_t n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(s_[i_] - '0');
      if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail(message(what(), ": integer overflows 64 bits"));
      n = n * 10 + digit;
      ++i_;
    }
    if (i_ - start > 1 && s_[start] == '0') {
      i_ = start;
      fail(message(what(), ": integer with a leading zero"));
    }
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
      fail(message(what(), ": expected an integer, found a fraction or exponent"));
    }
    return n;
  }

  /// A string, escapes decoded; raw bytes >= 0x80 must form well-formed UTF-8 and are kept as is.
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      // Copy the run of plain characters in one append.
      const std::size_t run = i_;
      while (i_ < s_.size()) {
        const auto u = static_cast<unsigned char>(s_[i_]);
        if (u == '"' || u == '\\' || u < 0x20 || u >= 0x80) break;
        ++i_;
      }
      out.append(s_.substr(run, i_ - run));
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_];
      const auto u = static_cast<unsigned char>(c);
      if (c == '"') {
        ++i_;
        return out;
      }
      if (u < 0x20) fail("control character inside a string");
      if (u >= 0x80) {
        const std::size_t len = utf8_sequence(i_);
        out.append(s_.substr(i_, len));
        i_ += len;
        continue;
      }
      ++i_;  // the backslash
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
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.size() - i_ < 2 || s_[i_] != '\\' || s_[i_ + 1] != 'u') fail("unpaired surrogate in \\u escape");
            i_ += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired low surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: --i_; fail(message("invalid escape \\ followed by ", shown(e)));
      }
    }
  }

 private:
  /// open, then item() separated by ',' (none is allowed), then close.
  template <class Item>
  void sequence(char open, char close, Item&& item) {
    expect(open);
    if (peek() == close) {
      ++i_;
      return;
    }
    for (;;) {
      item();
      if (peek() != ',') break;
      ++i_;
    }
    expect(close);
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
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

  std::uint32_t hex4() {
    if (s_.size() - i_ < 4) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<std::uint32_t>(h - 'A' + 10);
      else {
        --i_;  // point at the bad digit
        fail("bad hex digit in \\u escape");
      }
    }
    return v;
  }

  /// The length of the well-formed UTF-8 sequence at byte i (RFC 3629; Table 3-7 of the Unicode
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

  std::string_view s_;
  std::size_t base_;
  std::string_view context_;
  std::size_t i_ = 0;
};

}  // namespace sdeflow::detail::json
