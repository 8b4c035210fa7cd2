// SPDX-License-Identifier: MIT
// The step loop allocates nothing: replace the global operator new with a counting one and count
// inside the observer, i.e. between the first and last step, once the workspaces exist.
#include <sdeflow/sdeflow.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> allocations{0};
}

// GCC 12 inlines these replacements into std::allocator calls and then flags free() on memory from
// operator new; here both sides are malloc/free by construction, so that diagnostic is a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Every replaceable allocation function is replaced, so that each pointer is released by the
// function family that made it (AddressSanitizer checks this).
namespace {
void* counted_malloc(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* counted_aligned(std::size_t n, std::align_val_t a) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto al = static_cast<std::size_t>(a);
  return std::aligned_alloc(al, (n + al - 1) / al * al);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_malloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, a)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
  if (void* p = counted_aligned(n, a)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {
// A score that returns an expression: the library itself must add no allocation around it.
struct expression_score {
  template <class X>
  auto operator()(const X& x, double t) const { return -x / (1.0 + t); }
};

template <class Run>
long allocations_between_first_and_last_step(Run&& run) {
  long at_first = -1;
  long at_last = -1;
  run([&](std::size_t k, double, const auto&, std::size_t steps) {
    if (k == 1) at_first = allocations.load();
    if (k == steps) at_last = allocations.load();
  });
  REQUIRE(at_first >= 0);
  return at_last - at_first;
}
}  // namespace

TEMPLATE_TEST_CASE("ODE steppers allocate nothing per step", "[no_alloc]", sdeflow::euler, sdeflow::heun, sdeflow::rk4) {
  const sdeflow::vp_process<> vp;
  const sdeflow::probability_flow sys(vp, expression_score{});
  const auto grid = sdeflow::time_grid<>::uniform(1.0, 1e-3, 50);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 1000);
  const long n = allocations_between_first_and_last_step([&](auto obs) {
    sdeflow::integrate(TestType{}, sys, x, grid,
                       [&](std::size_t k, double t, const Eigen::MatrixXd& xk) { obs(k, t, xk, grid.steps()); });
  });
  CHECK(n == 0);
}

TEST_CASE("Euler-Maruyama with counter-based noise allocates nothing per step", "[no_alloc]") {
  const sdeflow::vp_process<> vp;
  const sdeflow::reverse_sde sys(vp, expression_score{});
  const auto grid = sdeflow::time_grid<>::uniform(1.0, 1e-3, 50);
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 1000);
  for (std::uint64_t substeps : {1u, 4u}) {
    const long n = allocations_between_first_and_last_step([&](auto obs) {
      sdeflow::integrate(sdeflow::euler_maruyama{}, sys, x, grid, sdeflow::brownian_increments(1, 0, 0, substeps),
                         [&](std::size_t k, double t, const Eigen::MatrixXd& xk) { obs(k, t, xk, grid.steps()); });
    });
    CHECK(n == 0);
  }
  // Fixed-size columns, diagonal noise.
  const sdeflow::geometric_brownian_motion<> gbm(0.1, 0.2);
  Eigen::Matrix<double, 2, Eigen::Dynamic> y = Eigen::Matrix<double, 2, Eigen::Dynamic>::Ones(2, 1000);
  const long m = allocations_between_first_and_last_step([&](auto obs) {
    sdeflow::integrate(sdeflow::euler_maruyama{}, gbm, y, grid, sdeflow::brownian_increments(2),
                       [&](std::size_t k, double t, const auto& yk) { obs(k, t, yk, grid.steps()); });
  });
  CHECK(m == 0);
}

namespace {
/// A small SiLU network with fixed weights (no file needed).
sdeflow::mlp<double> small_net() {
  const sdeflow::normal_source src(8);
  std::vector<sdeflow::mlp<double>::layer> layers;
  const Eigen::Index widths[] = {2 + 4, 32, 32, 2};
  for (std::uint64_t l = 0; l < 3; ++l) {
    sdeflow::mlp<double>::layer L;
    L.weight.resize(widths[l + 1], widths[l]);
    L.bias.resize(widths[l + 1]);
    src.fill(L.weight, 2 * l);
    src.fill(L.bias, 2 * l + 1);
    L.weight *= 0.3;
    layers.push_back(L);
  }
  return sdeflow::mlp<double>(2, Eigen::Vector2d(1.0, 10.0), layers);
}

/// score = -eps_net(x, t) / sigma(t), written into the caller's storage (the drivers use score(x, t, out)
/// when a score has it): the network's evaluate(x, t, out) allocates nothing once it has seen the size.
struct network_score {
  const sdeflow::mlp<double>& net;
  sdeflow::vp_process<> vp;
  template <class X>
  void score(const X& x, double t, X& out) const {
    net.evaluate(x, t, out);
    out *= -1.0 / vp.marginal_std(t);
  }
  template <class X>
  X operator()(const X& x, double t) const {
    X out(x.rows(), x.cols());
    score(x, t, out);
    return out;
  }
};
}  // namespace

TEST_CASE("An MLP network evaluates without allocating once it has seen the batch size", "[no_alloc]") {
  const auto net = small_net();
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 500), v = Eigen::MatrixXd::Ones(2, 500), out(2, 500);
  net.evaluate(x, 0.5, out);  // first call sizes the buffers
  net.jvp_into(x, 0.5, v, out);
  const long before = allocations.load();
  for (int k = 0; k < 5; ++k) {
    net.evaluate(x, 0.1 * k + 0.05, out);
    net.jvp_into(x, 0.3, v, out);
  }
  CHECK(allocations.load() - before == 0);

  // Inside the PF-ODE loop (RK4), through a score expression over the network.
  const sdeflow::probability_flow sys(sdeflow::vp_process<>{}, network_score{net, sdeflow::vp_process<>()});
  const auto grid = sdeflow::time_grid<>::uniform(1.0, 1e-2, 40);
  const long n = allocations_between_first_and_last_step([&](auto obs) {
    sdeflow::integrate(sdeflow::rk4{}, sys, x, grid,
                       [&](std::size_t k, double t, const Eigen::MatrixXd& xk) { obs(k, t, xk, grid.steps()); });
  });
  CHECK(n == 0);
}
