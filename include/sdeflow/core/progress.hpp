// SPDX-License-Identifier: MIT
#pragma once
/// \file progress.hpp
/// A progress observer for long runs: steps done, the rate, and the time left, on stderr. It is an
/// ordinary observer (core/observer.hpp), so every driver takes it: the sampling engine and the
/// one-call samplers (`sampler_options::observer`), `integrate`, and `integrate_sde_adaptive` (which
/// shows it each accepted step). Dormand-Prince's `integrate_adaptive` calls observers at its output
/// times only, so there it counts outputs.
///
/// It prints at most every `interval` seconds and always at the last step. When the run's step count
/// is known (step_info::steps: fixed grids) it shows k/N, the percentage and the time left, on one line
/// rewritten in place on a terminal; when it is not (adaptive runs) it shows k and t, one line per
/// update. It is quiet when stderr is not a terminal (a log file or a pipe stays clean) unless `always`
/// is set, and when `quiet` is set. Observers cost the engine a copy of x0_hat per step: attach this
/// one only when `enabled()`.
///
/// \code
///   opt.observer = sdeflow::progress({.label = "DPM++ 2M"});
///   // DPM++ 2M: 37/50 steps (74%), 412 steps/s, 0.03 s left
/// \endcode
#include <sdeflow/core/observer.hpp>
#include <sdeflow/core/types.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define SDEFLOW_HAS_ISATTY 1
#else
#define SDEFLOW_HAS_ISATTY 0
#endif

namespace sdeflow {

/// Settings of `progress`.
struct progress_options {
  std::string label = "sdeflow";  ///< printed before the counts
  double interval = 0.25;         ///< seconds between two updates (the last step is always shown)
  bool quiet = false;             ///< print nothing
  bool always = false;            ///< print even when the stream is not a terminal (one line per update)
  std::FILE* stream = nullptr;    ///< where to print (nullptr: stderr)
};

/// An observer that reports steps, rate and time left; it never stops a run.
class progress {
 public:
  using clock = std::chrono::steady_clock;

  explicit progress(progress_options options = {}) : opt_(std::move(options)) {
    if (opt_.stream == nullptr) opt_.stream = stderr;
    terminal_ = is_terminal(opt_.stream);
    enabled_ = !opt_.quiet && (terminal_ || opt_.always);
  }

  /// Would this observer print anything (not quiet, and a terminal or `always`)?
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

  template <State X>
  void operator()(const step_info<X>& s) {
    if (!enabled_) return;
    const auto now = clock::now();
    if (s.index == 0) {  // a run starts (the same observer may watch several runs)
      start_ = last_ = now;
      return;
    }
    const bool last = s.steps > 0 && s.index >= s.steps;
    if (!last && seconds(last_, now) < opt_.interval) return;
    last_ = now;
    // In place ("\r", then erase to the end of the line) only when the last step will end the line.
    const bool in_place = terminal_ && s.steps > 0;
    std::fputs(line(s.index, s.steps, static_cast<double>(s.t), seconds(start_, now)).c_str(), opt_.stream);
    std::fputs(in_place ? (last ? "\x1b[K\n" : "\x1b[K") : "\n", opt_.stream);
    std::fflush(opt_.stream);
  }

  /// The text of one update: k steps of n (n = 0: unknown) after `elapsed` seconds, at time t.
  [[nodiscard]] std::string line(std::size_t k, std::size_t n, double t, double elapsed) const {
    const double rate = elapsed > 0 ? static_cast<double>(k) / elapsed : 0.0;
    char buf[160];
    if (n > 0) {
      const double left = rate > 0 ? static_cast<double>(n - (k < n ? k : n)) / rate : 0.0;
      std::snprintf(buf, sizeof buf, "%s%s: %zu/%zu steps (%.0f%%), %.4g steps/s, %.3g s left", terminal_ ? "\r" : "",
                    opt_.label.c_str(), k, n, 100.0 * static_cast<double>(k) / static_cast<double>(n), rate, left);
    } else {
      std::snprintf(buf, sizeof buf, "%s: %zu steps, t = %.6g, %.4g steps/s", opt_.label.c_str(), k, t, rate);
    }
    return buf;
  }

  /// Is `stream` a terminal? (false where the platform cannot tell)
  [[nodiscard]] static bool is_terminal(std::FILE* stream) noexcept {
#if SDEFLOW_HAS_ISATTY
    return stream != nullptr && ::isatty(::fileno(stream)) != 0;
#else
    (void)stream;
    return false;
#endif
  }

 private:
  static double seconds(clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

  progress_options opt_;
  bool terminal_ = false;
  bool enabled_ = false;
  clock::time_point start_ = clock::now();
  clock::time_point last_ = start_;
};

}  // namespace sdeflow

#undef SDEFLOW_HAS_ISATTY
