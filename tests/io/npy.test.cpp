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
  sdeflow::write_npy(path, m32.row(1));  // a row vector type: shape (3,)
  CHECK(slurp_file(path).find("'shape': (3,), }") != std::string::npos);
  CHECK(sdeflow::read_npy<std::int32_t>(path) == m32.row(1));
  // An integer matrix with one column is a batch of one sample, not a vector: (1, 3), read back 3 x 1.
  const Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic> one = idx.head(3);
  sdeflow::write_npy(path, one);
  CHECK(slurp_file(path).find("'shape': (1, 3), }") != std::string::npos);
  CHECK(sdeflow::read_npy<std::int64_t>(path) == one);
  std::remove(path.c_str());
}

TEST_CASE("npy: files written by NumPy itself read as the arrays NumPy saved, and write_npy writes NumPy's bytes", "[npy]") {
  // tests/fuzz/corpus_npy/ holds files written by numpy 1.24's np.save and np.lib.format.write_array
  // (versions 1.0, 2.0, 3.0; C and Fortran order; both byte orders), of a(i, j) = 10 i + j and others.
  const std::string dir = SDEFLOW_NPY_CORPUS_DIR;
  const Eigen::MatrixXd e = expected_batch();
  CHECK(sdeflow::read_npy(dir + "/c_f8_2x3.npy") == e);
  CHECK(sdeflow::read_npy(dir + "/fortran_be_f4_2x3.npy") == e);
  CHECK(sdeflow::read_npy<std::int64_t>(dir + "/be_i8_fortran_2x3.npy") == e.cast<std::int64_t>());
  const auto v = sdeflow::read_npy<std::int64_t>(dir + "/i8_vector.npy");
  CHECK(v == (Eigen::Matrix<std::int64_t, 1, 3>() << 1, -2, std::int64_t{1} << 40).finished());
  CHECK(sdeflow::read_npy<std::int32_t>(dir + "/v2_scalar_i4.npy") == Eigen::Matrix<std::int32_t, 1, 1>(7));
  CHECK(sdeflow::read_npy(dir + "/v3_f8_1x2.npy") == Eigen::Vector2d(0.5, -0.25));
  // The writer against NumPy: the same array gives the same file, byte for byte (header, padding, data).
  const std::string path = "sdeflow_npy_as_numpy.npy";
  sdeflow::write_npy(path, e);
  CHECK(slurp_file(path) == slurp_file(dir + "/c_f8_2x3.npy"));
  sdeflow::write_npy(path, Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1>(v.transpose()));
  CHECK(slurp_file(path) == slurp_file(dir + "/i8_vector.npy"));
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
      {"missing fortran_order", with("'fortran_order': False, ", ""), "has no 'fortran_order'", 10},
      {"missing shape", with(", 'shape': (2, 3)", ""), "has no 'shape'", 10},
      {"minor version 1", [&] { std::string f = good; f[7] = 1; return f; }(), "format version 1.1", 6},
      {"a header of length 0", std::string("\x93NUMPY\x01\x00\x00\x00", 10), "ends inside its dict", 10},
      {"a version 2 file cut in its length", npy_file(good_dict, data, 2).substr(0, 11), "ends inside the header length", 8},
      {"a size that overflows with the element width", with("(2, 3)", "(2305843009213693952, 2)"), "too large to address", 10},
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
  // Accepted spellings: Python 2's long suffix and '=' (native order).
  CHECK(sdeflow::parse_npy(with("(2, 3)", "(2L, 3L)")) == expected_batch());
  CHECK(sdeflow::parse_npy(with("<f8", "=f8")) == expected_batch());
  // Integers read as floating point, int32 widened to int64, float64 beyond float32.
  const std::string i4 = npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                                  bytes_of(std::vector<std::int32_t>{-7, 9}));
  CHECK_THROWS_WITH(sdeflow::parse_npy(i4), Catch::Contains("holds integer values, read as a floating-point type"));
  CHECK(sdeflow::parse_npy<std::int64_t>(i4) == Eigen::Matrix<std::int64_t, 1, 2>(-7, 9));
  const std::string huge = npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", bytes_of(std::vector<double>{1e300}));
  CHECK(sdeflow::parse_npy(huge)(0, 0) == 1e300);
  CHECK_THROWS_WITH(sdeflow::parse_npy<float>(huge), Catch::Contains("does not fit in float32"));
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
  CHECK_THROWS_WITH(sdeflow::read_npy("."), Catch::Contains("cannot open '.' for reading (not a regular file)"));
  const std::string path = "sdeflow_npy_bad.npy";
  std::ofstream(path, std::ios::binary) << good.substr(0, 40);
  CHECK_THROWS_WITH(sdeflow::read_npy(path), Catch::StartsWith("read_npy: 'sdeflow_npy_bad.npy': "));
  std::remove(path.c_str());
}

TEST_CASE("npy: a trajectory is written as (T, n, d), element [k, i, j] = coordinate j of sample i at point k", "[npy]") {
  const std::string path = "sdeflow_npy_trajectory.npy";
  std::vector<Eigen::MatrixXd> states;
  for (int k = 0; k < 3; ++k) {
    Eigen::MatrixXd x(2, 4);
    for (Eigen::Index i = 0; i < 4; ++i) {
      for (Eigen::Index j = 0; j < 2; ++j) x(j, i) = 100.0 * k + 10.0 * static_cast<double>(i) + static_cast<double>(j);
    }
    states.push_back(x);
  }
  sdeflow::write_npy_trajectory(path, states);
  const std::string bytes = slurp_file(path);
  REQUIRE(bytes.size() > 10);
  const std::size_t hlen = static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
  CHECK(bytes.substr(10, hlen).find("'shape': (3, 4, 2), }") != std::string::npos);
  REQUIRE(bytes.size() == 10 + hlen + 24 * sizeof(double));
  bool all = true;
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 2; ++j) {
        double v = 0;
        std::memcpy(&v, bytes.data() + 10 + hlen + sizeof(double) * static_cast<std::size_t>((k * 4 + i) * 2 + j), sizeof v);
        all = all && v == 100.0 * k + 10.0 * i + j;
      }
    }
  }
  CHECK(all);
  // A 3-D file is not a batch: the reader says so.
  CHECK_THROWS_WITH(sdeflow::read_npy(path), Catch::Contains("3-dimensional array is not a batch"));
  states.push_back(Eigen::MatrixXd::Zero(2, 5));
  CHECK_THROWS_AS(sdeflow::write_npy_trajectory(path, states), sdeflow::dimension_mismatch);
  std::remove(path.c_str());
}
