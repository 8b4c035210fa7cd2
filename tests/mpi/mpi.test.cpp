// SPDX-License-Identifier: MIT
// The MPI component under mpirun (ctest runs this executable on 2 and 3 ranks, oversubscribed, so the
// split is uneven and, for n = 2 on 3 ranks, one rank has no samples). Every rank runs every case in the
// same order (the calls are collective) and computes the single-process run itself, so each rank checks:
// samples bit-identical to the one-process run, moments equal to its moments to rounding, histograms and
// reports equal; a mutant that forgets to shift the noise to the rank's offset is rejected; a rank that
// throws ends every rank with rank_error, and the next collective call still works.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <sdeflow/mpi/mpi.hpp>
#include <sdeflow/sdeflow.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

using X = Eigen::MatrixXd;
namespace mpi = sdeflow::mpi;

int rank() { return mpi::communicator{}.rank(); }
int ranks() { return mpi::communicator{}.size(); }

bool same(const X& a, const X& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

/// Moments equal to the one-process moments to rounding, and the same bits on every rank (rank 0's,
/// broadcast). No REQUIRE in this file: a rank that left a test case early would skip collectives.
void check_moments(const sdeflow::running_moments<>& got, const X& all) {
  sdeflow::running_moments<> one(all.rows());
  one.add(all);
  CHECK(got.count() == one.count());
  if (got.count() != one.count() || got.count() < 2) return;
  CHECK((got.mean() - one.mean()).norm() <= 1e-13 * (1.0 + one.mean().norm()));
  CHECK((got.covariance() - one.covariance()).norm() <= 1e-12 * one.covariance().norm());
  Eigen::VectorXd mine(got.dimension() + got.dimension() * got.dimension());
  mine << got.mean(), got.comoment().reshaped();
  Eigen::VectorXd root = mine;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  CHECK(same(mine, root));
}

const sdeflow::ornstein_uhlenbeck<>& ou() {
  static const sdeflow::ornstein_uhlenbeck<> p(1.5, 0.2, 0.7);
  return p;
}

/// An OU process that declares whole_batch, as a mean-field system must.
struct mean_field : sdeflow::ornstein_uhlenbeck<> {
  using ornstein_uhlenbeck::ornstein_uhlenbeck;
  static constexpr bool whole_batch = true;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("ensemble: every policy gives the one-process samples, moments, histogram and report", "[mpi]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 20);
  const Eigen::Vector2d x0(1.0, -0.5);
  const sdeflow::brownian_increments noise(11);
  for (std::uint64_t n : {std::uint64_t{1001}, std::uint64_t{2}}) {
    X ref = x0.replicate(1, static_cast<Eigen::Index>(n));
    const auto rep = sdeflow::integrate(sdeflow::euler_maruyama{}, ou(), ref, grid, noise);
    sdeflow::histogram h_ref(-2.0, 2.0, 20);
    h_ref.add(ref.row(1));
    for (const mpi::parallel& par : {mpi::parallel{}, mpi::parallel{.exec = {.threads = 2}},
                                     mpi::parallel{.exec = {.threads = 2, .tile_columns = 7}, .chunk = 100}}) {
      INFO("n " << n << " threads " << par.exec.threads << " chunk " << par.chunk);
      const int root = ranks() - 1;
      const auto out = mpi::ensemble(par, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd(x0), n, grid, noise,
                                     {.keep = true, .gather = true, .root = root,
                                      .marginal = sdeflow::histogram(-2.0, 2.0, 20), .marginal_row = 1});
      CHECK(out.block == sdeflow::split_samples(n, static_cast<std::uint64_t>(rank()), static_cast<std::uint64_t>(ranks())));
      CHECK(same(out.local, ref.middleCols(static_cast<Eigen::Index>(out.block.offset), static_cast<Eigen::Index>(out.block.count))));
      if (rank() == root) {
        CHECK(same(out.all, ref));
      } else {
        CHECK(out.all.cols() == 0);
      }
      check_moments(out.moments, ref);
      CHECK(out.marginal.has_value());
      if (out.marginal) {
        CHECK(out.marginal->counts() == h_ref.counts());
        CHECK(out.marginal->underflow() == h_ref.underflow());
        CHECK(out.marginal->overflow() == h_ref.overflow());
      }
      CHECK(out.cores >= 1);
      CHECK(out.report.steps == rep.steps);
      CHECK(out.report.evaluations == rep.evaluations);
      CHECK(out.seconds >= 0.0);
    }
  }
}

TEST_CASE("ensemble: the mutant that gives every rank the noise of offset 0 is rejected", "[mpi]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 10);
  const std::uint64_t n = 500;
  const sdeflow::brownian_increments noise(12);
  X ref = X::Zero(1, static_cast<Eigen::Index>(n));
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou(), ref, grid, noise);
  const auto run = [&](bool shift) {
    return mpi::run_blocks<X>(
        mpi::parallel{}, 1, n,
        [&](sdeflow::sample_block piece) {
          X x = X::Zero(1, static_cast<Eigen::Index>(piece.count));
          auto r = sdeflow::integrate(sdeflow::euler_maruyama{}, ou(), x, grid, noise.columns_from(shift ? piece.offset : 0));
          return std::pair<X, sdeflow::integration_report>(x, r);
        },
        {.gather = true});
  };
  const auto good = run(true);
  const auto mutant = run(false);
  if (rank() == 0) {
    CHECK(same(good.all, ref));
    if (ranks() > 1) CHECK_FALSE(same(mutant.all, ref));
  }
}

TEST_CASE("ensemble: a start keyed by the global sample index is split-invariant too", "[mpi]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 0.5, 8);
  const std::uint64_t n = 777;
  const auto init = [](sdeflow::sample_block b) {
    X x(3, static_cast<Eigen::Index>(b.count));
    sdeflow::normal_source(5, 3).fill(x, 0, b.offset);
    return x;
  };
  X ref = init({0, n});
  sdeflow::integrate(sdeflow::sra1{}, ou(), ref, grid, sdeflow::brownian_increments(13));
  const auto out = mpi::ensemble(mpi::parallel{.chunk = 64}, sdeflow::sra1{}, ou(), 3, init, n, grid,
                                 sdeflow::brownian_increments(13), {.gather = true});
  if (rank() == 0) CHECK(same(out.all, ref));
  CHECK(out.local.cols() == 0);  // not kept
  check_moments(out.moments, ref);
}

TEST_CASE("sample: diffusion samplers over ranks give the one-process samples", "[mpi]") {
  const sdeflow::vp_process<> vp;
  const auto mix = sdeflow::gaussian_mixture<>::ring(8, 4.0, 0.3);
  auto score = sdeflow::exact_score(mix, vp);
  const auto m = sdeflow::model(vp, [score](const X& x, double t) { return score.denoise(x, t); }, sdeflow::prediction::data);
  const auto grid = sdeflow::uniform_schedule(1.0, 0.0, 12);
  const std::uint64_t n = 601;
  const sdeflow::sampler_options<X> opt{.seed = 21, .sample_offset = 40};
  const auto check = [&](const auto& sampler) {
    const X xT = sdeflow::initial_noise(vp, 2, static_cast<Eigen::Index>(n), grid, opt);
    const auto ref = sdeflow::sample(sampler, m, xT, grid, opt);
    for (const mpi::parallel& par : {mpi::parallel{}, mpi::parallel{.exec = {.threads = 2}, .chunk = 50}}) {
      const auto out = mpi::sample(par, sampler, m, vp, 2, n, grid, opt, {.gather = true});
      if (rank() == 0) CHECK(same(out.all, ref.samples));
      check_moments(out.moments, ref.samples);
      CHECK(out.report.steps == ref.report.steps);
      CHECK(out.report.evaluations == ref.report.evaluations);
    }
    // A noise source that splits by columns is shifted like the counter noise, per rank and per piece.
    sdeflow::sampler_options<X> with_source = opt;
    with_source.noise = sdeflow::noise_source<X>(sdeflow::counter_noise(21, 40));
    for (std::uint64_t chunk : {std::uint64_t{1} << 20, std::uint64_t{50}}) {
      const auto out = mpi::sample(mpi::parallel{.chunk = chunk}, sampler, m, vp, 2, n, grid, with_source,
                                   {.gather = true, .marginal = sdeflow::histogram(-6.0, 6.0, 24)});
      if (rank() == 0) CHECK(same(out.all, ref.samples));
      sdeflow::histogram h(-6.0, 6.0, 24);
      h.add(ref.samples.row(0));
      CHECK((out.marginal && out.marginal->counts() == h.counts()));
    }
  };
  check(sdeflow::samplers::dpmpp_2m_sde{});
  check(sdeflow::samplers::ddpm{});
  check(sdeflow::samplers::dpmpp_2m{});
}

TEST_CASE("collect.files: each rank writes its block as .npy, the bytes of the one-process block", "[mpi]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 5);
  const std::uint64_t n = 301;
  X ref = X::Constant(2, static_cast<Eigen::Index>(n), 0.25);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou(), ref, grid, sdeflow::brownian_increments(14));
  const auto out = mpi::ensemble(mpi::parallel{.chunk = 40}, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd::Constant(2, 0.25),
                                 n, grid, sdeflow::brownian_increments(14), {.files = "mpi_test_samples"});
  // (the -of-P suffix keeps the 2- and 3-rank ctest entries, which may run at once, apart)
  CHECK(out.file == "mpi_test_samples-rank" + std::to_string(rank()) + "-of-" + std::to_string(ranks()) + ".npy");
  const std::string expected = "mpi_test_expected-" + std::to_string(rank()) + "-of-" + std::to_string(ranks()) + ".npy";
  sdeflow::write_npy(expected, ref.middleCols(static_cast<Eigen::Index>(out.block.offset), static_cast<Eigen::Index>(out.block.count)));
  CHECK(slurp(out.file) == slurp(expected));
  std::remove(out.file.c_str());
  std::remove(expected.c_str());
}

TEST_CASE("a rank that throws ends every rank with rank_error naming it; the next call works", "[mpi]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 10);
  const int last = ranks() - 1;
  // The start throws on the last rank only.
  const auto init = [&](sdeflow::sample_block b) -> X {
    if (rank() == last) throw std::runtime_error("bad start on this rank");
    return X::Zero(1, static_cast<Eigen::Index>(b.count));
  };
  try {
    (void)mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, ou(), 1, init, 100, grid, sdeflow::brownian_increments(1));
    FAIL("no exception");
  } catch (const mpi::rank_error& e) {
    CHECK(e.failed_ranks() == std::vector<int>{last});
    CHECK_THAT(e.what(), Catch::Contains("1 of " + std::to_string(ranks()) + " ranks failed; rank " + std::to_string(last) +
                                         ": bad start on this rank"));
  }
  // A NaN start on rank 0 only: the finiteness check fires there, every rank hears of it.
  const auto nan_start = [&](sdeflow::sample_block b) -> X {
    X x = X::Zero(1, static_cast<Eigen::Index>(b.count));
    if (rank() == 0) x(0, 0) = std::numeric_limits<double>::quiet_NaN();
    return x;
  };
  try {
    (void)mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, ou(), 1, nan_start, 100, grid, sdeflow::brownian_increments(1));
    FAIL("no exception");
  } catch (const mpi::rank_error& e) {
    CHECK(e.failed_ranks() == std::vector<int>{0});
    CHECK_THAT(e.what(), Catch::Contains("rank 0: the state became non-finite at step 0"));
  }
  // A setting that is bad on one rank only (a histogram row out of range on rank 0).
  try {
    (void)mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd::Zero(1), 100, grid,
                        sdeflow::brownian_increments(1),
                        {.marginal = sdeflow::histogram(0.0, 1.0, 4), .marginal_row = rank() == 0 ? 7 : 0});
    FAIL("no exception");
  } catch (const mpi::rank_error& e) {
    CHECK(e.failed_ranks() == std::vector<int>{0});
    CHECK_THAT(e.what(), Catch::Contains("collect.marginal_row = 7"));
  }
  // Every rank throws: every message is reported, in rank order.
  try {
    (void)mpi::ensemble(mpi::parallel{.exec = {.threads = 0}}, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd::Zero(1),
                        100, grid, sdeflow::brownian_increments(1));
    FAIL("no exception");
  } catch (const mpi::rank_error& e) {
    CHECK(e.failed_ranks().size() == static_cast<std::size_t>(ranks()));
    CHECK_THAT(e.what(), Catch::Contains("rank 0: mpi::run: execution.threads = 0"));
  }
  // n differs between ranks: caught before any rank runs, on every rank.
  CHECK_THROWS_WITH(mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd::Zero(1),
                                  100 + static_cast<std::uint64_t>(rank()), grid, sdeflow::brownian_increments(1)),
                    Catch::Contains("n differs between ranks"));
  // opt.exec is said in parallel.exec.
  const sdeflow::vp_process<> vp;
  const auto m = sdeflow::model(vp, [](const X& x, double) { return X(0.5 * x); }, sdeflow::prediction::data);
  CHECK_THROWS_WITH(mpi::sample(mpi::parallel{}, sdeflow::samplers::ddim{}, m, vp, 2, 10, sdeflow::uniform_schedule(1.0, 0.0, 3),
                                sdeflow::sampler_options<X>{.exec = {.threads = 2}}),
                    Catch::Contains("say threads and tiles in parallel.exec"));
  // Settings that decide the collectives differ between ranks: refused on every rank before anything runs.
  CHECK_THROWS_WITH(mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd::Zero(1), 100, grid,
                                  sdeflow::brownian_increments(1), {.gather = rank() == 0}),
                    Catch::Contains("collect (moments, gather, marginal) differs between ranks"));
  CHECK_THROWS_WITH(mpi::ensemble(mpi::parallel{.chunk = 10 + static_cast<std::uint64_t>(rank())}, sdeflow::euler_maruyama{},
                                  ou(), Eigen::VectorXd::Zero(1), 100, grid, sdeflow::brownian_increments(1)),
                    Catch::Contains("parallel.chunk differs between ranks"));
  // What cannot be split is refused: a sampler that couples the batch, a system that declares whole_batch.
  CHECK_THROWS_WITH(mpi::sample(mpi::parallel{}, sdeflow::samplers::predictor_corrector{}, m, vp, 2, 10,
                                sdeflow::uniform_schedule(1.0, 0.0, 3)),
                    Catch::Contains("couples the batch"));
  CHECK_THROWS_WITH(mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, mean_field(1.0, 0.0, 1.0),
                                  Eigen::VectorXd::Zero(1), 100, grid, sdeflow::brownian_increments(1)),
                    Catch::Contains("declares whole_batch"));
  // Sample indices past the 2^32 the noise can key: refused up front, on every rank.
  CHECK_THROWS_WITH(mpi::sample(mpi::parallel{}, sdeflow::samplers::ddim{}, m, vp, 2, 10, sdeflow::uniform_schedule(1.0, 0.0, 3),
                                sdeflow::sampler_options<X>{.sample_offset = (std::uint64_t{1} << 32) - 5}),
                    Catch::Contains("exceeds the 2^32"));
  // guarded hands back f's result by value.
  const std::vector<int> v = mpi::guarded(mpi::communicator{}, [] { return std::vector<int>{1, 2, 3}; });
  CHECK(v == std::vector<int>{1, 2, 3});
  // After all of that the communicator is in step: a normal call works.
  X ref = X::Zero(1, 50);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou(), ref, grid, sdeflow::brownian_increments(2));
  const auto ok = mpi::ensemble(mpi::parallel{}, sdeflow::euler_maruyama{}, ou(), Eigen::VectorXd::Zero(1), 50, grid,
                                sdeflow::brownian_increments(2), {.gather = true});
  if (rank() == 0) CHECK(same(ok.all, ref));
}

TEST_CASE("allreduce and gather used directly: uneven parts, an empty rank, bad input", "[mpi]") {
  const mpi::communicator c;
  // Rank r holds r + 1 samples with value r: the merged mean and covariance have closed forms.
  X mine = X::Constant(1, rank() + 1, static_cast<double>(rank()));
  if (rank() == 1) mine.resize(1, 0);  // an empty rank
  sdeflow::running_moments<> m(1);
  m.add(mine);
  const auto all = mpi::allreduce(c, m);
  double count = 0, sum = 0, sq = 0;
  for (int r = 0; r < ranks(); ++r) {
    if (r == 1) continue;
    count += r + 1;
    sum += (r + 1.0) * r;
    sq += (r + 1.0) * r * r;
  }
  CHECK(static_cast<double>(all.count()) == count);
  CHECK(std::abs(all.mean()(0) - sum / count) < 1e-15);
  if (count >= 2) CHECK(std::abs(all.comoment()(0, 0) - (sq - sum * sum / count)) < 1e-12);
  const X gathered = mpi::gather(c, mine, 0);
  if (rank() == 0) {
    CHECK(static_cast<double>(gathered.cols()) == count);
    CHECK(gathered(0, 0) == 0.0);
    const int last_nonempty = ranks() - 1 == 1 ? 0 : ranks() - 1;  // rank 1 is empty
    CHECK(gathered(0, gathered.cols() - 1) == static_cast<double>(last_nonempty));
  }
  const auto r = mpi::allreduce(c, sdeflow::integration_report{static_cast<std::size_t>(rank()), 2, rank() == 0});
  CHECK(r.steps == static_cast<std::size_t>(ranks() - 1));
  CHECK(r.stopped_early);
  CHECK_THROWS_WITH(mpi::allreduce(c, sdeflow::running_moments<>(1 + rank())), Catch::Contains("dimension() differs"));
  CHECK_THROWS_WITH(mpi::allreduce(c, sdeflow::histogram(0.0, 1.0 + rank(), 3)), Catch::Contains("edges differ"));
  CHECK_THROWS_WITH(mpi::gather(c, X(1 + rank(), 2), 0), Catch::Contains("number of rows differs"));
}

TEST_CASE("float samples travel as MPI_FLOAT, bit-identical; moments accumulate in double", "[mpi]") {
  using Xf = Eigen::MatrixXf;
  const sdeflow::ornstein_uhlenbeck<float> ouf(1.5f, 0.2f, 0.7f);
  const auto grid = sdeflow::time_grid<float>::uniform(0.0f, 1.0f, 10);
  const std::uint64_t n = 513;
  Xf ref = Xf::Constant(2, static_cast<Eigen::Index>(n), 0.5f);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ouf, ref, grid, sdeflow::brownian_increments(15));
  const auto out = mpi::ensemble(mpi::parallel{.chunk = 100}, sdeflow::euler_maruyama{}, ouf, Eigen::VectorXf::Constant(2, 0.5f),
                                 n, grid, sdeflow::brownian_increments(15), {.gather = true});
  if (rank() == 0) CHECK((out.all.rows() == 2 && out.all.cols() == 513 && (out.all.array() == ref.array()).all()));
  check_moments(out.moments, ref.cast<double>());
}

int main(int argc, char** argv) {
  mpi::environment env(argc, argv);
  return Catch::Session().run(argc, argv);
}
