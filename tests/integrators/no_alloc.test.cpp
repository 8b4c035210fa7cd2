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
