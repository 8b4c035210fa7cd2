// SPDX-License-Identifier: MIT
#pragma once
/// \file error.hpp
/// The exceptions sdeflow throws. Every one derives from `sdeflow::error`, so a caller can catch
/// them all in one place, and from the matching standard exception (std::invalid_argument for
/// bad input, std::runtime_error for failures during a run), so generic handlers also work.
///
/// - invalid_argument:   a parameter or argument is out of its domain (message names it and its value).
/// - dimension_mismatch: shapes of state, score, model or data disagree.
/// - non_finite_error:   a state became NaN or infinite during integration (carries step and time).
/// - integration_error:  an adaptive run stopped (step size below dt_min, max_steps reached).
/// - format_error:       a file (e.g. safetensors weights) is truncated, oversized or malformed
///                       (carries the byte offset where the problem was found).
/// - io_error:           a file cannot be opened, read or written (carries the path).

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace sdeflow {

/// Common base of every sdeflow exception.
class error {
 public:
  error() = default;
  error(const error&) = default;
  error& operator=(const error&) = default;
  virtual ~error() = default;
  [[nodiscard]] virtual const char* what() const noexcept = 0;
};

/// An argument is outside its valid domain.
class invalid_argument : public std::invalid_argument, public error {
 public:
  explicit invalid_argument(const std::string& msg) : std::invalid_argument(msg) {}
  [[nodiscard]] const char* what() const noexcept override { return std::invalid_argument::what(); }
};

/// Shapes of two objects that must agree do not.
class dimension_mismatch : public invalid_argument {
 public:
  explicit dimension_mismatch(const std::string& msg) : invalid_argument(msg) {}
};

/// A state stopped being finite during a run.
class non_finite_error : public std::runtime_error, public error {
 public:
  non_finite_error(const std::string& msg, std::size_t step, double time)
      : std::runtime_error(msg), step_(step), time_(time) {}
  [[nodiscard]] const char* what() const noexcept override { return std::runtime_error::what(); }
  /// Index of the grid point whose state was non-finite (0 = the initial state).
  [[nodiscard]] std::size_t step() const noexcept { return step_; }
  /// Time of that grid point.
  [[nodiscard]] double time() const noexcept { return time_; }

 private:
  std::size_t step_;
  double time_;
};

/// An adaptive integration could not proceed (step size below dt_min, step budget exhausted).
class integration_error : public std::runtime_error, public error {
 public:
  integration_error(const std::string& msg, double time) : std::runtime_error(msg), time_(time) {}
  [[nodiscard]] const char* what() const noexcept override { return std::runtime_error::what(); }
  /// Time reached when the integration stopped.
  [[nodiscard]] double time() const noexcept { return time_; }

 private:
  double time_;
};

/// A file or byte buffer does not hold what its format promises (bad header, bad offsets, wrong
/// dtype or shape, truncated or trailing bytes). Never thrown for a well-formed file.
class format_error : public std::runtime_error, public error {
 public:
  format_error(const std::string& msg, std::size_t offset) : std::runtime_error(msg), offset_(offset) {}
  [[nodiscard]] const char* what() const noexcept override { return std::runtime_error::what(); }
  /// Byte offset in the file at which the problem was detected.
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

/// A file could not be opened, read or written.
class io_error : public std::runtime_error, public error {
 public:
  io_error(const std::string& msg, std::string path) : std::runtime_error(msg), path_(std::move(path)) {}
  [[nodiscard]] const char* what() const noexcept override { return std::runtime_error::what(); }
  /// The file's path.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

namespace detail {

/// Concatenate values into a message, doubles printed with full precision.
template <class... Parts>
[[nodiscard]] std::string message(const Parts&... parts) {
  std::ostringstream os;
  os.precision(17);
  (os << ... << parts);
  return os.str();
}

/// Throw sdeflow::invalid_argument "<where>: <name> = <value> <requirement>" unless ok.
template <class V>
void require(bool ok, const char* where, const char* name, const V& value, const char* requirement) {
  if (!ok) {
    throw invalid_argument(message(where, ": ", name, " = ", value, " ", requirement));
  }
}

/// The counter-based noise keys a sample, a step and a draw by 32 bits each (noise/random.hpp).
inline constexpr std::uint64_t index_limit = std::uint64_t{1} << 32;

/// Checked size arithmetic, one place for every count a user gives: these never wrap.
///
/// offset + count, after checking that it does not exceed 2^32 (the sample indices offset .. offset +
/// count - 1 must all be keyable). `names` spells the sum for the message ("sample_offset + cols").
[[nodiscard]] inline std::uint64_t sample_end(std::uint64_t offset, std::uint64_t count, const char* where,
                                              const char* names) {
  if (offset > index_limit || count > index_limit - offset) {
    throw invalid_argument(message(where, ": ", names, " = ", offset, " + ", count,
                                   " must not exceed 2^32 (the noise keys a sample by 32 bits)"));
  }
  return offset + count;
}

/// The number of points of a grid of `steps` steps, steps + 1, after checking 1 <= steps < 2^32: a run
/// keys the noise of step k by 32 bits, and 2^32 grid points would take 32 GiB (so a huge count is an
/// invalid_argument naming it, not a std::length_error or a wrapped size).
[[nodiscard]] inline std::size_t grid_points(std::uint64_t steps, const char* where, const char* name = "steps") {
  require(steps >= 1, where, name, steps, "must be at least 1");
  require(steps < index_limit, where, name, steps, "must be below 2^32");
  return static_cast<std::size_t>(steps) + 1;
}

}  // namespace detail
}  // namespace sdeflow
