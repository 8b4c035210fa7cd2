// SPDX-License-Identifier: MIT
// Fokker-Planck made visible: particles of the double-well SDE dX = (X - X^3) dt + sigma dW against a
// finite-difference solution of its Fokker-Planck equation
//   dp/dt = -d/dx [(x - x^3) p] + sigma^2/2 d^2p/dx^2,
// both started from N(-1, 0.1^2). Prints histogram vs PDE at several times and writes
// histogram_vs_pde.csv and .npy (t, x, histogram density, PDE density). Exits 1 if the L1 distance
// exceeds 0.05 (the histogram's own noise is about 0.01 with 2e5 particles and 60 bins).
//
//   fokker_planck [--particles N] [DIR]      (fokker_planck --help for the details)
#include <sdeflow/sdeflow.hpp>

#include "cli.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <vector>

int main(int argc, char** argv) {
  cli::command cmd("fokker_planck",
                   "Particles of the double-well SDE dX = (X - X^3) dt + 0.7 dW against a finite-volume solution of\n"
                   "its Fokker-Planck equation, both from N(-1, 0.1^2); prints the two densities at t = 0.25 to 4.");
  cmd.positional("DIR", "output directory (created if missing)", ".")
      .integer("--particles", "N", "particles (the L1 check assumes at least 2e5)", 200000, 1000, 100'000'000)
      .epilog("Writes DIR/histogram_vs_pde.csv and .npy: columns t, x, histogram density, PDE density (.npy shape\n"
              "(rows, 4)). Exit code 1 if an L1 distance exceeds 0.05, 2 on a bad argument.");
  if (const auto code = cmd.parse(argc, argv)) return *code;
  const std::filesystem::path dir = cmd.text_value("DIR");
  std::filesystem::create_directories(dir);
  const double sigma = 0.7, L = 3.0;
  const std::vector<double> report_times = {0.25, 0.5, 1.0, 2.0, 4.0};

  // PDE: conservative finite volumes on [-L, L], upwind-free central fluxes, explicit Euler in time.
  const int cells = 600;
  const double dx = 2 * L / cells;
  const double dt = 0.2 * dx * dx / (sigma * sigma);
  std::vector<double> xc(cells), p(cells), flux(cells + 1);
  for (int i = 0; i < cells; ++i) {
    xc[static_cast<std::size_t>(i)] = -L + (i + 0.5) * dx;
    const double u = (xc[static_cast<std::size_t>(i)] + 1.0) / 0.1;
    p[static_cast<std::size_t>(i)] = std::exp(-0.5 * u * u) / (0.1 * std::sqrt(2 * std::numbers::pi));
  }
  auto f = [](double x) { return x - x * x * x; };

  // Particles.
  const Eigen::Index n = cmd.integer_value("--particles");
  Eigen::MatrixXd x(1, n);
  sdeflow::normal_source(5).fill(x, 0, 0);
  x = (x.array() * 0.1 - 1.0).matrix();
  const auto sys = sdeflow::sde([](const Eigen::MatrixXd& y, double) { return Eigen::MatrixXd(y.array() - y.array().cube()); },
                                [sigma](double) { return sigma; });

  const int bins = 60;
  const double bw = 2 * L / bins;
  std::ofstream csv(dir / "histogram_vs_pde.csv");
  csv.precision(17);
  csv << "t,x,histogram,pde\n";
  std::vector<double> table;  // the same rows, for the .npy
  std::printf("double well dX = (X - X^3) dt + %.1f dW, %ld particles vs Fokker-Planck finite volumes (%d cells)\n",
              sigma, static_cast<long>(n), cells);
  double t = 0.0;
  int failures = 0;
  std::size_t k = 0;
  for (double T : report_times) {
    // Advance the PDE to T.
    while (t < T - 1e-12) {
      const double h = std::min(dt, T - t);
      flux[0] = flux[static_cast<std::size_t>(cells)] = 0.0;  // no flux through the walls
      for (int i = 1; i < cells; ++i) {
        const auto a = static_cast<std::size_t>(i - 1), b = static_cast<std::size_t>(i);
        const double xf = -L + i * dx;
        flux[b] = f(xf) * 0.5 * (p[a] + p[b]) - 0.5 * sigma * sigma * (p[b] - p[a]) / dx;
      }
      for (int i = 0; i < cells; ++i) {
        const auto b = static_cast<std::size_t>(i);
        p[b] -= h / dx * (flux[b + 1] - flux[b]);
      }
      t += h;
    }
    // Advance the particles to T with 200 steps per unit time (fresh increments per segment: stream k).
    const double t0 = k == 0 ? 0.0 : report_times[k - 1];
    const auto steps = static_cast<std::size_t>(std::lround((T - t0) * 200));
    sdeflow::integrate(sdeflow::sra1{}, sys, x, sdeflow::time_grid<>::uniform(t0, T, steps),
                       sdeflow::brownian_increments(6, 0, static_cast<std::uint32_t>(k)));
    ++k;
    std::vector<double> hist(static_cast<std::size_t>(bins), 0.0);
    for (Eigen::Index j = 0; j < n; ++j) {
      const int b = static_cast<int>(std::floor((x(0, j) + L) / bw));
      if (b >= 0 && b < bins) hist[static_cast<std::size_t>(b)] += 1.0 / (static_cast<double>(n) * bw);
    }
    double l1 = 0.0;
    std::printf("\nt = %.2f\n%8s %10s %10s\n", T, "x", "particles", "PDE");
    const int per = cells / bins;
    for (int b = 0; b < bins; ++b) {
      double pde = 0.0;
      for (int i = b * per; i < (b + 1) * per; ++i) pde += p[static_cast<std::size_t>(i)] / per;
      const double xm = -L + (b + 0.5) * bw;
      l1 += std::fabs(hist[static_cast<std::size_t>(b)] - pde) * bw;
      csv << T << ',' << xm << ',' << hist[static_cast<std::size_t>(b)] << ',' << pde << '\n';
      table.insert(table.end(), {T, xm, hist[static_cast<std::size_t>(b)], pde});
      if (b % 4 == 2) std::printf("%8.2f %10.4f %10.4f\n", xm, hist[static_cast<std::size_t>(b)], pde);
    }
    std::printf("L1 distance %.4f\n", l1);
    if (l1 > 0.05) ++failures;
  }
  csv.close();
  sdeflow::write_npy((dir / "histogram_vs_pde.npy").string(),
                     Eigen::Map<const Eigen::MatrixXd>(table.data(), 4, static_cast<Eigen::Index>(table.size() / 4)));
  cmd.wrote(dir / "histogram_vs_pde.csv", "the densities (and .npy)");
  return failures == 0 ? 0 : 1;
}
