// SPDX-License-Identifier: MIT
// The .npy reader and writer (io/npy.hpp): round trips, files built byte by byte in every form the
// format allows (NumPy's spec: numpy.lib.format), and one bad input per check the reader makes.
#include "support.hpp"

#include <sdeflow/io/npy.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

// A .npy file from its parts: version, header dict (padded to 64 bytes with a final '\n') and data.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  std::string h = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  h.append((64 - (prefix + h.size() + 1) % 64) % 64, ' ');
  h.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  std::size_t len = h.size();
  for (std::size_t k = 0; k < prefix - 8; ++k, len >>= 8) out.push_back(static_cast<char>(len & 0xff));
  return out + h + data;
}

template <class T>
std::string bytes_of(const std::vector<T>& v, bool big_endian = false) {
  std::string out;
  for (const T& x : v) {
    std::string b(reinterpret_cast<const char*>(&x), sizeof(T));
    if (big_endian) b.assign(b.rbegin(), b.rend());
    out += b;
  }
  return out;
}

std::string slurp_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The value a(i, j) = 10 i + j of a 2 x 3 array, and the 3 x 2 batch it must read as (column i = row i).
const std::vector<double> c_order{0, 1, 2, 10, 11, 12};
const std::vector<double> f_order{0, 10, 1, 11, 2, 12};
Eigen::MatrixXd expected_batch() {
  Eigen::MatrixXd e(3, 2);
  e << 0, 10, 1, 11, 2, 12;
  return e;
}

}  // namespace

TEST_CASE("npy: write then read returns the batch bit for bit, for each element type", "[npy]") {
  const std::string path = "sdeflow_npy_roundtrip.npy";
  Eigen::MatrixXd x(4, 7);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = std::ldexp(1.0, static_cast<int>(k % 9)) / 3.0 - 1e-300 * static_cast<double>(k);
  sdeflow::write_npy(path, x);
  const Eigen::MatrixXd y = sdeflow::read_npy(path);
  REQUIRE(y.rows() == 4);
  REQUIRE(y.cols() == 7);
  CHECK(std::memcmp(x.data(), y.data(), sizeof(double) * 28) == 0);
  // A strided block reads back as its copy; float32 round-trips as float and widens exactly to double.
  Eigen::MatrixXd tall(6, 7);
  tall.middleRows(1, 4) = x;
  sdeflow::write_npy(path, tall.middleRows(1, 4));
  CHECK(sdeflow::read_npy(path) == x);
  const Eigen::MatrixXf xf = x.cast<float>();
  sdeflow::write_npy(path, xf);
  CHECK(sdeflow::read_npy<float>(path) == xf);
  CHECK(sdeflow::read_npy<double>(path) == xf.cast<double>());
  // Index vectors: shape (n,), int64 or int32, as a column or as a strided row.
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> idx(5);
  idx << 0, 7, -3, std::int64_t{1} << 40, 2;
  sdeflow::write_npy(path, idx);
  CHECK(slurp_file(path).find("'descr': '<i8', 'fortran_order': False, 'shape': (5,), }") != std::string::npos);
  const auto back = sdeflow::read_npy<std::int64_t>(path);
  REQUIRE(back.rows() == 1);
  CHECK(back.transpose() == idx);
  Eigen::Matrix<std::int32_t, 2, 3> m32;
  m32 << 1, 2, 3, 4, 5, 6;
  sdeflow::write_npy(path, m32.row(1));  // a row of a column-major matrix: stride 2
  CHECK(sdeflow::read_npy<std::int32_t>(path) == m32.row(1));
  std::remove(path.c_str());
}

TEST_CASE("npy: every accepted form reads the array a(i, j) = 10 i + j as the same batch", "[npy]") {
  const Eigen::MatrixXd e = expected_batch();
  const std::string shape = "'shape': (2, 3), }";
  // The forms: C order; Fortran order; big-endian; float32; versions 2.0 and 3.0; double-quoted keys
  // in another order, without the trailing comma.
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, " + shape, bytes_of(c_order))) == e);
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': True, " + shape, bytes_of(f_order))) == e);
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '>f8', 'fortran_order': False, " + shape, bytes_of(c_order, true))) == e);
  const std::vector<float> cf(c_order.begin(), c_order.end());
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '<f4', 'fortran_order': False, " + shape, bytes_of(cf))) == e);
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '>f4', 'fortran_order': True, " + shape,
                                    bytes_of(std::vector<float>(f_order.begin(), f_order.end()), true))) == e);
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, " + shape, bytes_of(c_order), 2)) == e);
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, " + shape, bytes_of(c_order), 3)) == e);
  CHECK(sdeflow::parse_npy(npy_file("{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f8\"}", bytes_of(c_order))) == e);
  const std::vector<std::int64_t> ci(c_order.begin(), c_order.end());
  CHECK(sdeflow::parse_npy<std::int64_t>(npy_file("{'descr': '>i8', 'fortran_order': False, " + shape, bytes_of(ci, true))) ==
        e.cast<std::int64_t>());
  CHECK(sdeflow::parse_npy<std::int32_t>(npy_file("{'descr': '<i8', 'fortran_order': True, " + shape,
                                                  bytes_of(std::vector<std::int64_t>(f_order.begin(), f_order.end())))) ==
        e.cast<std::int32_t>());
  // The mutant: the Fortran bytes read as if C order (a reader that ignores fortran_order) differ, so
  // the Fortran check above can tell the orders apart.
  CHECK(sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, " + shape, bytes_of(f_order))) != e);
  // Shapes () and (n,): one value, and n samples of dimension 1; zero samples.
  const Eigen::MatrixXd scalar = sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", bytes_of(std::vector<double>{2.5})));
  CHECK((scalar.rows() == 1 && scalar.cols() == 1 && scalar(0, 0) == 2.5));
  const Eigen::MatrixXd row = sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", bytes_of(std::vector<double>{1, 2, 3})));
  CHECK(row == Eigen::RowVector3d(1, 2, 3));
  const Eigen::MatrixXd none = sdeflow::parse_npy(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }", ""));
  CHECK((none.rows() == 4 && none.cols() == 0));
}

TEST_CASE("npy: each malformed file is a format_error naming the problem and its byte offset", "[npy][errors]") {
  const std::string good_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string data = bytes_of(c_order);
  const std::string good = npy_file(good_dict, data);
  REQUIRE(sdeflow::parse_npy(good) == expected_batch());
  const auto with = [&](const std::string& from, const std::string& to) {
    std::string d = good_dict;
    d.replace(d.find(from), from.size(), to);
    return npy_file(d, data);
  };
  struct bad_case {
    std::string name, bytes, message;
    std::size_t offset;
  };
  std::string bad_magic = good;
  bad_magic[1] = 'X';
  std::string version = good;
  version[6] = 4;
  std::string long_header = good;
  long_header[9] = '\x7f';
  const std::vector<bad_case> cases{
      {"empty", "", "no \\x93NUMPY magic", 0},
      {"bad magic", bad_magic, "no \\x93NUMPY magic", 0},
      {"version 4.0", version, "format version 4.0", 6},
      {"header length past the end", long_header, "runs past the end of the file", 8},
      {"missing descr", with("'descr': '<f8', ", ""), "has no 'descr'", 10},
      {"unknown key", with("'fortran_order'", "'order'"), "unknown key 'order'", 27},
      {"repeated key", with("'shape': (2, 3)", "'descr': '<f8'"), "'descr' appears twice", 51},
      {"complex dtype", with("<f8", "<c16"), "descr '<c16' is not supported", 11},
      {"bool dtype", with("<f8", "|b1"), "descr '|b1' is not supported", 11},
      {"fortran_order not a bool", with("False", "0"), "must be True or False", 44},
      {"three dimensions", with("(2, 3)", "(1, 2, 3)"), "3-dimensional array is not a batch", 10},
      {"(n) for (n,)", with("(2, 3)", "(6)"), "written (n,), not (n)", 62},
      {"negative entry", with("(2, 3)", "(-2, 3)"), "non-negative integer", 61},
      {"overflowing shape", with("(2, 3)", "(4611686018427387904, 4611686018427387904)"), "too large to address", 10},
      {"entry over 2^62", with("(2, 3)", "(99999999999999999999, 1)"), "shape entry is too large", 61},
      {"junk after the dict", npy_file(good_dict + " x", data), "unexpected characters after", 70},
      {"an escape in a string", with("'<f8'", "'<f\\8'"), "escape sequences", 23},
      {"header ends inside the dict", npy_file("{'descr': '<f8'", data), "ends inside its dict", 64},
      {"truncated data", good.substr(0, good.size() - 1), "needs 48 data bytes, the file has 47 (truncated)", 128},
      {"a trailing byte", good + "x", "the file has 49 (trailing bytes)", 128},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    try {
      (void)sdeflow::parse_npy(c.bytes, "case");
      FAIL("no exception");
    } catch (const sdeflow::format_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(c.message) && Catch::StartsWith("read_npy: case: "));
      CHECK(e.offset() == c.offset);
    }
  }
  // Floating point read as an integer type, and an int64 value outside int32's range.
  CHECK_THROWS_WITH(sdeflow::parse_npy<std::int64_t>(good), Catch::Contains("holds floating-point values, read as an integer type"));
  const std::string big = npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                   bytes_of(std::vector<std::int64_t>{1, std::int64_t{1} << 31}));
  CHECK(sdeflow::parse_npy<std::int64_t>(big)(0, 1) == std::int64_t{1} << 31);
  CHECK_THROWS_WITH(sdeflow::parse_npy<std::int32_t>(big), Catch::Contains("the value 2147483648 does not fit in int32"));
  // A missing file is an io_error naming the path; a malformed file's error names the path.
  try {
    (void)sdeflow::read_npy("/nonexistent-dir/x.npy");
    FAIL("no exception");
  } catch (const sdeflow::io_error& e) {
    CHECK(e.path() == "/nonexistent-dir/x.npy");
  }
  const std::string path = "sdeflow_npy_bad.npy";
  std::ofstream(path, std::ios::binary) << good.substr(0, 40);
  CHECK_THROWS_WITH(sdeflow::read_npy(path), Catch::StartsWith("read_npy: 'sdeflow_npy_bad.npy': "));
  std::remove(path.c_str());
}
