// SPDX-License-Identifier: MIT
#pragma once
// main() of the Google Benchmark programs: --help prints what the program measures and the flags most
// runs need (Google Benchmark's own list: --help_benchmark); an unrecognized argument exits with code 2
// after naming it, as every sdeflow program does (examples/cli.hpp).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>

namespace cli {

inline int run_benchmarks(int argc, char** argv, const char* name, const char* summary) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("Usage: %s [Google Benchmark flags]\n\n%s\n\nFlags most runs need:\n"
                  "  --benchmark_filter=REGEX            run only the benchmarks whose name matches\n"
                  "  --benchmark_counters_tabular=true   counters as table columns\n"
                  "  --benchmark_repetitions=N           repeat each benchmark N times (with mean, median, stddev)\n"
                  "  --benchmark_out=FILE --benchmark_out_format=json|csv   also write the results to FILE\n"
                  "  --help_benchmark                    all of Google Benchmark's flags\n"
                  "Exit code 2 on an unrecognized argument.\n",
                  name, summary);
      return 0;
    }
    if (std::strcmp(argv[i], "--help_benchmark") == 0) std::strcpy(argv[i], "--help");  // Google Benchmark's own
  }
  benchmark::Initialize(&argc, argv);
  if (argc > 1) {
    std::fprintf(stderr, "%s: '%s' is not an argument of %s\nTry '%s --help'.\n", name, argv[1], name, name);
    return 2;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace cli
