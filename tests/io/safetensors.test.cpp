// SPDX-License-Identifier: MIT
// The safetensors reader: round trips, every documented rejection, and systematic corruption
// (every truncation of a small file, random byte flips) that must give format_error and nothing else.
#include "support.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace {

using bytes = std::vector<unsigned char>;

/// A small valid file: a 2 x 3 F32 matrix, a 3-vector F64, metadata.
bytes small_file() {
  Eigen::MatrixXd w(2, 3);
  w << 1, -2, 3.5, 0.25, 1e-3, -7;
  Eigen::VectorXd b(3);
  b << 0.5, -1.5, 2.75;
  return sdeflow::safetensors_writer()
      .add("w", w, sdeflow::tensor_dtype::f32)
      .add("b", b, sdeflow::tensor_dtype::f64, true)
      .metadata("kind", "test")
      .bytes();
}

/// A file from a raw header text and a buffer of `data_bytes` zero bytes.
bytes raw_file(const std::string& header, std::size_t data_bytes) {
  bytes out(8 + header.size() + data_bytes, 0);
  const std::uint64_t n = header.size();
  for (std::size_t k = 0; k < 8; ++k) out[k] = static_cast<unsigned char>(n >> (8 * k));
  for (std::size_t k = 0; k < header.size(); ++k) out[8 + k] = static_cast<unsigned char>(header[k]);
  return out;
}

std::string what_of(const bytes& b) {
  try {
    (void)sdeflow::safetensors::parse(b);
  } catch (const sdeflow::format_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("safetensors: writer and reader round trip values shapes and metadata", "[io]") {
  const auto f = sdeflow::safetensors::parse(small_file());
  REQUIRE(f.tensors().size() == 2);
  CHECK(f.metadata_value("kind") == "test");
  const Eigen::MatrixXd w = f.matrix<double>("w", 2, 3);
  CHECK(w(0, 2) == 3.5);
  CHECK(w(1, 1) == static_cast<double>(1e-3f));  // stored as F32
  CHECK(w(1, 2) == -7);
  const Eigen::VectorXd b = f.vector<double>("b", 3);
  CHECK(b(2) == 2.75);
  CHECK(f.info("b").dtype == sdeflow::tensor_dtype::f64);
  CHECK(f.info("w").shape == std::vector<std::size_t>{2, 3});
  CHECK_THROWS_AS(f.matrix<double>("w", 3, 2), sdeflow::format_error);  // wrong shape is named
  CHECK_THROWS_WITH(f.matrix<double>("w", 3, 2), Catch::Contains("shape [2, 3]") && Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(f.info("missing"), Catch::Contains("no tensor named \"missing\""));
  CHECK_THROWS_WITH(f.metadata_value("nope"), Catch::Contains("no metadata entry"));
}

TEST_CASE("safetensors: half and bfloat16 decode to their exact values", "[io]") {
  // F16: 0x3C00 = 1, 0xC000 = -2, 0x0001 = 2^-24 (subnormal), 0x7BFF = 65504. BF16: 0x3F80 = 1, 0xC0A0 = -5.
  bytes f = raw_file(R"({"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}})", 12);
  const std::size_t base = f.size() - 12;
  const unsigned char data[12] = {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0xFF, 0x7B, 0x80, 0x3F, 0xA0, 0xC0};
  std::memcpy(f.data() + base, data, 12);
  const auto st = sdeflow::safetensors::parse(f);
  const Eigen::VectorXd h = st.vector<double>("h", 4);
  CHECK(h(0) == 1.0);
  CHECK(h(1) == -2.0);
  CHECK(h(2) == std::ldexp(1.0, -24));
  CHECK(h(3) == 65504.0);
  const Eigen::VectorXd bf = st.vector<double>("b", 2);
  CHECK(bf(0) == 1.0);
  CHECK(bf(1) == -5.0);
}

TEST_CASE("safetensors: malformed files are rejected with a message naming the problem", "[io]") {
  CHECK_THAT(what_of(bytes{1, 2, 3}), Catch::Contains("at least the 8-byte header length"));
  bytes huge(16, 0);
  huge[7] = 0x10;  // header length 2^60
  CHECK_THAT(what_of(huge), Catch::Contains("more than the limit"));
  bytes claims(16, 0);
  claims[0] = 100;  // 100-byte header, 8 bytes present
  CHECK_THAT(what_of(claims), Catch::Contains("truncated"));
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  CHECK(what_of(raw_file("{" + ok_entry + "}", 8)).empty());
  CHECK(what_of(raw_file("{" + ok_entry + "}    ", 8)).empty());  // space padding is allowed
  CHECK_THAT(what_of(raw_file("{" + ok_entry + "}", 4)), Catch::Contains("truncated"));
  CHECK_THAT(what_of(raw_file("{" + ok_entry + "}", 12)), Catch::Contains("oversized: 4 trailing bytes"));
  CHECK_THAT(what_of(raw_file("[1]", 0)), Catch::Contains("must be a JSON object"));
  CHECK_THAT(what_of(raw_file("{" + ok_entry + ",}", 8)), Catch::Contains("expected a string key"));
  CHECK_THAT(what_of(raw_file("{" + ok_entry + "," + ok_entry + "}", 8)), Catch::Contains("duplicate key"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("unknown dtype \"F33\""));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("needs 12 bytes but data_offsets span 8"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
             Catch::Contains("end < begin"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
             Catch::Contains("overlapping"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
             Catch::Contains("leaving a hole"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8)),
             Catch::Contains("unknown field \"x\""));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("unexpected character '-'"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("fraction or exponent"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("overflows 64 bits"));
  CHECK_THAT(what_of(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}})", 8)),
             Catch::Contains("integer overflows 64 bits"));
  CHECK_THAT(what_of(raw_file(R"({"__metadata__":{"k":1}})", 0)), Catch::Contains("must be a string"));
  CHECK_THAT(what_of(raw_file(R"({"a":"b")", 0)), Catch::Contains("expected '}'"));
  CHECK_THAT(what_of(raw_file(std::string(40, '[') , 0)), Catch::Contains("must be a JSON object"));
  CHECK_THAT(what_of(raw_file("{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}", 0)),
             Catch::Contains("nesting deeper"));
  CHECK_THAT(what_of(raw_file("{\"a\\q\":1}", 0)), Catch::Contains("invalid escape"));
  // An integer tensor cannot be read as floating point.
  const auto ints = sdeflow::safetensors::parse(raw_file(R"({"i":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})", 8));
  CHECK_THROWS_WITH(ints.vector<double>("i"), Catch::Contains("dtype I32"));
  CHECK_THROWS_WITH(sdeflow::safetensors::load("/nonexistent/x.safetensors"), Catch::Contains("cannot open"));
}

TEST_CASE("safetensors: every truncation of a valid file is a format_error", "[io]") {
  const bytes full = small_file();
  REQUIRE_NOTHROW(sdeflow::safetensors::parse(full));
  for (std::size_t len = 0; len < full.size(); ++len) {
    const bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    INFO("truncated to " << len << " of " << full.size() << " bytes");
    CHECK_THROWS_AS(sdeflow::safetensors::parse(cut), sdeflow::format_error);
  }
  bytes longer = full;
  longer.push_back(0);
  CHECK_THROWS_WITH(sdeflow::safetensors::parse(longer), Catch::Contains("oversized"));
}

TEST_CASE("safetensors: random byte flips give a valid file or a format_error and nothing else", "[io]") {
  const bytes full = small_file();
  const sdeflow::normal_source rng(99);
  std::size_t rejected = 0, accepted = 0;
  const std::uint32_t trials = 4000;
  for (std::uint32_t trial = 0; trial < trials; ++trial) {
    bytes b = full;
    const int flips = 1 + static_cast<int>(rng.uniform(0, trial) * 3);  // 1..3 flips
    for (int k = 0; k < flips; ++k) {
      const auto pos = static_cast<std::size_t>(rng.uniform(1 + static_cast<std::uint32_t>(k), trial) *
                                                static_cast<double>(b.size()));
      const auto bit = static_cast<int>(rng.uniform(10 + static_cast<std::uint32_t>(k), trial) * 8);
      b[pos] = static_cast<unsigned char>(b[pos] ^ (1u << bit));
    }
    try {
      const auto f = sdeflow::safetensors::parse(b);
      // Still well formed (e.g. a flipped data or metadata byte): every tensor must be readable.
      for (const auto& t : f.tensors()) {
        if (t.dtype == sdeflow::tensor_dtype::f32 || t.dtype == sdeflow::tensor_dtype::f64 ||
            t.dtype == sdeflow::tensor_dtype::f16 || t.dtype == sdeflow::tensor_dtype::bf16) {
          CHECK(f.values<double>(t.name).size() == t.elements());
        }
      }
      ++accepted;
    } catch (const sdeflow::format_error&) {
      ++rejected;
    }
  }
  INFO("accepted " << accepted << " rejected " << rejected);
  CHECK(accepted + rejected == trials);
  CHECK(rejected > 0);   // header flips are caught
  CHECK(accepted > 0);   // data-byte flips leave a valid file
}
