// SPDX-License-Identifier: MIT
// The progress observer (core/progress.hpp) and the step count every driver gives its observers
// (step_info::steps).
#include "support.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace {

using X = Eigen::MatrixXd;

// Everything written to a temporary stream.
std::string contents(std::FILE* f) {
  std::string out;
  std::rewind(f);
  for (int c = std::fgetc(f); c != EOF; c = std::fgetc(f)) out.push_back(static_cast<char>(c));
  return out;
}

// The '\n'-terminated lines of s (a last unterminated piece is a line too).
std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == '\n') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

TEST_CASE("step_info::steps is N for the engine, integrate and tiled runs, 0 for adaptive runs", "[progress][observer]") {
  const auto ring = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  const sdeflow::vp_process<> vp;
  const auto exact = sdeflow::exact_score(ring, vp);
  const sdeflow::model m(vp, [exact](const X& x, double t) { return exact.denoise(x, t); }, sdeflow::prediction::data);
  const auto grid = sdeflow::uniform_schedule(1.0, 1e-3, 7);
  std::vector<std::size_t> seen;
  sdeflow::sampler_options<X> opt{.seed = 1};
  opt.observer = [&](const sdeflow::step_info<X>& s) { seen.push_back(s.steps); };
  (void)sdeflow::sample(sdeflow::samplers::ddim{}, m, X(X::Zero(2, 4)), grid, opt);
  CHECK(seen == std::vector<std::size_t>(8, 7));

  seen.clear();
  X x = X::Ones(1, 40);
  const auto decay = sdeflow::ode([](const X& y, double) { return X(-y); });
  auto obs = [&](const sdeflow::step_info<X>& s) { seen.push_back(s.steps); };
  (void)sdeflow::integrate(sdeflow::rk4{}, decay, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 5), obs);
  CHECK(seen == std::vector<std::size_t>(6, 5));
  seen.clear();
  (void)sdeflow::integrate(sdeflow::execution{.threads = 2, .tile_columns = 8}, sdeflow::rk4{}, decay, x,
                           sdeflow::time_grid<>::uniform(0.0, 1.0, 3), obs);
  CHECK(seen == std::vector<std::size_t>(4, 3));

  seen.clear();
  sdeflow::brownian_tree tree(0.0, 1.0, 1e-6, 3);
  const auto sys = sdeflow::sde([](const X& y, double) { return X(-y); }, [](double) { return 0.5; });
  X y = X::Ones(1, 3);
  (void)sdeflow::integrate_sde_adaptive(sdeflow::sra1{}, sys, y, 0.0, 1.0, tree, {.rtol = 1e-3, .atol = 1e-3}, obs);
  REQUIRE(seen.size() > 2);
  CHECK(seen == std::vector<std::size_t>(seen.size(), 0));
}

TEST_CASE("progress: one line per step at interval 0, the last one at N of N, and the rate and time left", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  sdeflow::progress p({.label = "ddim", .interval = 0.0, .always = true, .stream = f});
  REQUIRE(p.enabled());
  const auto ring = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  const sdeflow::vp_process<> vp;
  const auto exact = sdeflow::exact_score(ring, vp);
  const sdeflow::model m(vp, [exact](const X& x, double t) { return exact.denoise(x, t); }, sdeflow::prediction::data);
  sdeflow::sampler_options<X> opt{.seed = 1};
  opt.observer = p;
  (void)sdeflow::sample(sdeflow::samplers::ddim{}, m, X(X::Zero(2, 4)), sdeflow::uniform_schedule(1.0, 1e-3, 10), opt);
  const auto out = lines(contents(f));
  std::fclose(f);
  REQUIRE(out.size() == 10);  // steps 1..10, not the initial point; no '\r' on a non-terminal
  for (std::size_t k = 1; k <= 10; ++k) {
    INFO(out[k - 1]);
    CHECK(out[k - 1].rfind("ddim: " + std::to_string(k) + "/10 steps (" + std::to_string(10 * k) + "%), ", 0) == 0);
  }
  // The arithmetic: 5 of 20 steps in 2 s is 2.5 steps/s, and the 15 left take 6 s.
  CHECK(p.line(5, 20, 0.3, 2.0) == "ddim: 5/20 steps (25%), 2.5 steps/s, 6 s left");
  // Unknown N (adaptive runs): the count and the time.
  CHECK(p.line(8, 0, 0.125, 4.0) == "ddim: 8 steps, t = 0.125, 2 steps/s");
}

TEST_CASE("progress: quiet when asked, and quiet on a stream that is not a terminal unless always", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  CHECK_FALSE(sdeflow::progress::is_terminal(f));
  sdeflow::progress off_terminal({.interval = 0.0, .stream = f});
  sdeflow::progress quiet({.interval = 0.0, .quiet = true, .always = true, .stream = f});
  CHECK_FALSE(off_terminal.enabled());
  CHECK_FALSE(quiet.enabled());
  X x = X::Ones(1, 2);
  const auto decay = sdeflow::ode([](const X& y, double) { return X(-y); });
  (void)sdeflow::integrate(sdeflow::euler{}, decay, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4), off_terminal);
  (void)sdeflow::integrate(sdeflow::euler{}, decay, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4), quiet);
  CHECK(contents(f).empty());
  // The interval holds updates back: with a minute between updates only the last step is printed.
  sdeflow::progress sparse({.label = "rk4", .interval = 60.0, .always = true, .stream = f});
  (void)sdeflow::integrate(sdeflow::rk4{}, decay, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 50), sparse);
  const auto out = lines(contents(f));
  std::fclose(f);
  REQUIRE(out.size() == 1);
  CHECK(out[0].rfind("rk4: 50/50 steps (100%)", 0) == 0);
}
