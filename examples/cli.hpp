// SPDX-License-Identifier: MIT
#pragma once
// The command line of every example and benchmark program, written once: --help prints the usage,
// every argument is checked, and a bad one prints a message naming the argument and its value and
// exits with code 2 (never an abort). Not part of the library (include/): a small helper for our own
// programs.
//
//   cli::command cmd("gmm_ring_demo", "Samples an 8-mode ring ...");
//   cmd.positional("DIR", "output directory (created if missing)", ".");
//   cmd.integer("--samples", "N", "samples per run", 2000, 1, 10'000'000);
//   cmd.flag("--quiet", "no progress line");
//   if (const auto code = cmd.parse(argc, argv)) return *code;   // 0 after --help, 2 on a bad argument
//   const long n = cmd.integer_value("--samples");
//
// Options are "--name value" or "--name=value"; positionals are taken in order and may be omitted
// from the end (their defaults apply). cli::write_samples writes a batch as CSV and .npy.
#include <sdeflow/io/npy.hpp>

#include <Eigen/Core>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

class command {
 public:
  command(std::string name, std::string summary) : name_(std::move(name)), summary_(std::move(summary)) {}

  /// A positional text argument.
  command& positional(std::string name, std::string help, std::string fallback) {
    return add({std::move(name), "", std::move(help), kind::text, std::move(fallback), 0, 0, true});
  }
  /// A positional whole number in [lo, hi] (|lo|, |hi| <= 2^53, so that every value is exact in a double).
  command& positional_integer(std::string name, std::string help, std::int64_t fallback, std::int64_t lo, std::int64_t hi) {
    return add({std::move(name), "", std::move(help), kind::integer, std::to_string(fallback), static_cast<double>(lo),
                static_cast<double>(hi), true});
  }
  /// A positional finite real number in [lo, hi].
  command& positional_real(std::string name, std::string help, double fallback, double lo, double hi) {
    return add({std::move(name), "", std::move(help), kind::real, number(fallback), lo, hi, true});
  }
  /// "--name TEXT".
  command& text(std::string name, std::string metavar, std::string help, std::string fallback) {
    return add({std::move(name), std::move(metavar), std::move(help), kind::text, std::move(fallback), 0, 0, false});
  }
  /// "--name N": a whole number in [lo, hi] (|lo|, |hi| <= 2^53); 1e6 is accepted as a whole number.
  command& integer(std::string name, std::string metavar, std::string help, std::int64_t fallback, std::int64_t lo,
                   std::int64_t hi) {
    return add({std::move(name), std::move(metavar), std::move(help), kind::integer, std::to_string(fallback),
                static_cast<double>(lo), static_cast<double>(hi), false});
  }
  /// "--name X": a finite real number in [lo, hi].
  command& real(std::string name, std::string metavar, std::string help, double fallback, double lo, double hi) {
    return add({std::move(name), std::move(metavar), std::move(help), kind::real, number(fallback), lo, hi, false});
  }
  /// "--name": a switch, off unless given.
  command& flag(std::string name, std::string help) {
    return add({std::move(name), "", std::move(help), kind::flag, "", 0, 0, false});
  }
  /// A paragraph printed at the end of --help (what the program writes, its exit codes).
  command& epilog(std::string text) {
    epilog_ = std::move(text);
    return *this;
  }

  /// Parse argv. Returns nothing to go on, or the exit code to return from main: 0 after --help
  /// (printed to stdout), 2 after a bad argument (the message on stderr). With speak = false nothing
  /// is printed (the other ranks of an MPI program).
  [[nodiscard]] std::optional<int> parse(int argc, char** argv, bool speak = true) {
    speak_ = speak;
    for (int i = 1; i < argc; ++i) {
      if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
        if (speak_) std::fputs(usage().c_str(), stdout);
        return 0;
      }
    }
    std::size_t next_positional = 0;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
        std::string value;
        bool has_value = false;
        if (const auto eq = arg.find('='); eq != std::string::npos) {
          value = arg.substr(eq + 1);
          arg.resize(eq);
          has_value = true;
        }
        spec* s = find(arg);
        if (s == nullptr || s->is_positional) return fail(arg, "is not an option of " + name_);
        if (s->type == kind::flag) {
          if (has_value) return fail(arg, "takes no value");
          s->value = "1";
          continue;
        }
        if (!has_value) {
          if (i + 1 >= argc) return fail(arg, "needs a value (" + s->metavar + ")");
          value = argv[++i];
        }
        if (const auto code = set(*s, value)) return code;
      } else {
        if (arg.size() > 1 && arg[0] == '-' && !looks_numeric(arg)) return fail(arg, "is not an option of " + name_);
        while (next_positional < specs_.size() && !specs_[next_positional].is_positional) ++next_positional;
        if (next_positional == specs_.size()) return fail(arg, "is one argument too many");
        if (const auto code = set(specs_[next_positional++], arg)) return code;
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] const std::string& text_value(const std::string& name) const { return get(name, kind::text).value; }
  [[nodiscard]] std::int64_t integer_value(const std::string& name) const {
    return static_cast<std::int64_t>(std::strtod(get(name, kind::integer).value.c_str(), nullptr));
  }
  [[nodiscard]] double real_value(const std::string& name) const { return std::strtod(get(name, kind::real).value.c_str(), nullptr); }
  [[nodiscard]] bool flag_value(const std::string& name) const { return !get(name, kind::flag).value.empty(); }
  /// Was this argument given on the command line (rather than left at its default)?
  [[nodiscard]] bool given(const std::string& name) const { return get_any(name).given; }

  [[nodiscard]] std::string usage() const {
    std::string line = "Usage: " + name_;
    for (const auto& s : specs_) {
      if (!s.is_positional) {
        line += " [" + s.name + (s.type == kind::flag ? "" : " " + s.metavar) + "]";
      }
    }
    for (const auto& s : specs_) {
      if (s.is_positional) line += " [" + s.name + "]";
    }
    std::string out = line + "\n\n" + summary_ + "\n\nArguments:\n";
    for (const auto& s : specs_) {
      std::string left = "  " + s.name + (s.type == kind::flag || s.is_positional ? "" : " " + s.metavar);
      if (left.size() < 24) left.resize(24, ' ');
      else left += "\n" + std::string(24, ' ');
      out += left + s.help;
      if (s.type == kind::integer || s.type == kind::real) {
        out += " (" + number(s.lo) + " to " + number(s.hi) + ")";
      }
      if (s.type != kind::flag) out += "; default " + (s.fallback.empty() ? std::string("none") : s.fallback);
      out += "\n";
    }
    out += "  --help, -h              print this and exit\n";
    if (!epilog_.empty()) out += "\n" + epilog_ + "\n";
    return out;
  }

  /// Print "<program>: wrote <what> to <absolute path>" on stdout.
  void wrote(const std::filesystem::path& path, const std::string& what) const {
    std::printf("%s: wrote %s to %s\n", name_.c_str(), what.c_str(), std::filesystem::absolute(path).string().c_str());
  }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  enum class kind { text, integer, real, flag };
  struct spec {
    std::string name, metavar, help;
    kind type;
    std::string fallback;
    double lo, hi;
    bool is_positional;
    std::string value{};
    bool given = false;
  };

  static std::string number(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
  command& add(spec s) {
    if (find(s.name) != nullptr) throw std::logic_error("cli: argument " + s.name + " declared twice");
    if (s.type == kind::integer && (std::fabs(s.lo) > 0x1p53 || std::fabs(s.hi) > 0x1p53)) {
      throw std::logic_error("cli: the range of " + s.name + " goes past 2^53");
    }
    s.value = s.fallback;
    specs_.push_back(std::move(s));
    return *this;
  }
  spec* find(const std::string& name) {
    for (auto& s : specs_) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  const spec& get_any(const std::string& name) const {
    for (const auto& s : specs_) {
      if (s.name == name) return s;
    }
    throw std::logic_error("cli: no argument " + name + " was declared");
  }
  const spec& get(const std::string& name, kind type) const {
    const spec& s = get_any(name);
    if (s.type != type) throw std::logic_error("cli: argument " + name + " read as the wrong type");
    return s;
  }
  std::optional<int> fail(const std::string& arg, const std::string& why) const {
    if (!speak_) return 2;
    std::fprintf(stderr, "%s: %s %s\nTry '%s --help'.\n", name_.c_str(), arg.c_str(), why.c_str(), name_.c_str());
    return 2;
  }
  // Digits, a sign, a point and an exponent only: no hex, no spaces, no "inf" or "nan" words.
  static bool looks_numeric(const std::string& v) {
    return !v.empty() && v.find_first_not_of("0123456789+-.eE") == std::string::npos;
  }
  std::optional<int> set(spec& s, const std::string& value) {
    const auto bad = [&](const std::string& why) { return fail(s.name + " = '" + value + "'", why); };
    if (s.type == kind::integer || s.type == kind::real) {
      if (!looks_numeric(value)) return bad(s.type == kind::integer ? "is not a whole number" : "is not a finite number");
      char* end = nullptr;
      errno = 0;
      const double x = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || errno == ERANGE || !std::isfinite(x)) {
        return bad(s.type == kind::integer ? "is not a whole number" : "is not a finite number");
      }
      if (s.type == kind::integer && x != std::floor(x)) return bad("is not a whole number");
      if (x < s.lo || x > s.hi) return bad("is outside " + number(s.lo) + " to " + number(s.hi));
    }
    if (s.type == kind::text && value.empty()) return bad("is empty");
    s.value = value;
    s.given = true;
    return std::nullopt;
  }

  std::string name_, summary_, epilog_;
  bool speak_ = true;
  std::vector<spec> specs_;
};

/// Write the d x n batch x as <stem>.csv (a header x0,x1,... or x,y for d = 2; one sample per line,
/// 17 digits) and <stem>.npy (shape (n, d)).
inline void write_samples(const std::filesystem::path& stem, const Eigen::MatrixXd& x) {
  std::ofstream out(std::filesystem::path(stem).concat(".csv"));
  out.precision(17);
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    out << (i > 0 ? "," : "") << (x.rows() == 2 ? (i == 0 ? "x" : "y") : "x" + std::to_string(i));
  }
  out << '\n';
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    for (Eigen::Index i = 0; i < x.rows(); ++i) out << (i > 0 ? "," : "") << x(i, j);
    out << '\n';
  }
  out.close();
  if (!out) throw sdeflow::io_error("cannot write " + std::filesystem::path(stem).concat(".csv").string(), stem.string());
  sdeflow::write_npy(std::filesystem::path(stem).concat(".npy").string(), x);
}

}  // namespace cli
