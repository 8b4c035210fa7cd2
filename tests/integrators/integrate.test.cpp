// SPDX-License-Identifier: MIT
// The driver: observers and trajectories, early stop, NFE counts, fixed-size and float states, user
// SDEs from lambdas with scalar and diagonal noise.
#include "support.hpp"

#include <vector>

TEST_CASE("observer records the trajectory X_0 / X_h / ... / X_T and can stop early", "[integrate]") {
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 10);
  const auto sys = sdeflow::ode([](const Eigen::MatrixXd& x, double) { return (-x).eval(); });
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 2);
  std::vector<double> times;
  std::vector<double> values;
  const auto rep = sdeflow::integrate(sdeflow::euler{}, sys, x, grid, [&](std::size_t k, double t, const Eigen::MatrixXd& xk) {
    CHECK(t == grid[k]);
    times.push_back(t);
    values.push_back(xk(0, 0));
  });
  REQUIRE(times.size() == 11);
  for (std::size_t k = 0; k <= 10; ++k) CHECK(values[k] == Approx(std::pow(0.9, static_cast<double>(k))).epsilon(1e-14));
  CHECK(rep.steps == 10);
  CHECK(rep.evaluations == 10);
  CHECK_FALSE(rep.stopped_early);

  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(1, 2);
  const auto early = sdeflow::integrate(sdeflow::rk4{}, sys, y, grid,
                                        [](std::size_t k, double, const Eigen::MatrixXd&) { return k < 3; });
  CHECK(early.steps == 3);
  CHECK(early.evaluations == 12);
  CHECK(early.stopped_early);
}

TEST_CASE("fixed-size and float states integrate like dynamic ones", "[integrate]") {
  const sdeflow::ornstein_uhlenbeck<> ou(1.0, 0.0, 0.5);
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 20);
  Eigen::MatrixXd xd = Eigen::MatrixXd::Constant(2, 5, 2.0);
  Eigen::Matrix<double, 2, Eigen::Dynamic> xf = Eigen::Matrix<double, 2, Eigen::Dynamic>::Constant(2, 5, 2.0);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, xd, grid, sdeflow::brownian_increments(3));
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, xf, grid, sdeflow::brownian_increments(3));
  CHECK((xd - xf).cwiseAbs().maxCoeff() == 0.0);  // same noise, same arithmetic
  Eigen::Vector2d single(2.0, 2.0);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, single, grid, sdeflow::brownian_increments(3));
  CHECK((single - xd.col(0)).cwiseAbs().maxCoeff() == 0.0);  // column 0 is sample 0 whatever the batch

  // RK4 keeps a small fixed-size state's stages in registers (rk4.hpp): the same bits as the dynamic state.
  struct lorenz {
    void drift(const Eigen::Vector3d& x, double, Eigen::Vector3d& out) const {
      out << 10.0 * (x[1] - x[0]), x[0] * (28.0 - x[2]) - x[1], x[0] * x[1] - (8.0 / 3.0) * x[2];
    }
    void drift(const Eigen::MatrixXd& x, double t, Eigen::MatrixXd& out) const {
      Eigen::Vector3d o;
      drift(Eigen::Vector3d(x.col(0)), t, o);
      out = o;
    }
  };
  Eigen::Vector3d v3(1.0, 1.0, 1.0);
  Eigen::MatrixXd m3 = Eigen::MatrixXd::Ones(3, 1);
  const auto lgrid = sdeflow::time_grid<>::uniform(0.0, 2.0, 400);
  sdeflow::integrate(sdeflow::rk4{}, lorenz{}, v3, lgrid);
  sdeflow::integrate(sdeflow::rk4{}, lorenz{}, m3, lgrid);
  CHECK((v3.array() == m3.col(0).array()).all());
  CHECK(std::abs(v3[2]) > 1.0);  // the flow moved (the check compares a real trajectory)
  // Mutant: a register path whose last stage uses the midpoint stage twice (k2 for k3) is rejected.
  struct rk4_k2_twice : sdeflow::rk4 {
    void step(const lorenz& sys, Eigen::Vector3d& x, double t, double h, workspace<Eigen::Vector3d>&) const {
      Eigen::Vector3d k1, k2, k3, k4;
      sys.drift(x, t, k1);
      sys.drift(Eigen::Vector3d(x + h / 2 * k1), t + h / 2, k2);
      sys.drift(Eigen::Vector3d(x + h / 2 * k2), t + h / 2, k3);
      sys.drift(Eigen::Vector3d(x + h * k2), t + h, k4);
      x += (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
    }
  };
  Eigen::Vector3d bad(1.0, 1.0, 1.0);
  sdeflow::integrate(rk4_k2_twice{}, lorenz{}, bad, lgrid);
  CHECK_FALSE((bad.array() == m3.col(0).array()).all());

  // float: the same run in single precision stays within float rounding of the double one.
  const sdeflow::ornstein_uhlenbeck<float> ouf(1.0f, 0.0f, 0.5f);
  Eigen::MatrixXf xs = Eigen::MatrixXf::Constant(2, 5, 2.0f);
  sdeflow::integrate(sdeflow::euler_maruyama{}, ouf, xs, sdeflow::time_grid<float>::uniform(0.0f, 1.0f, 20),
                     sdeflow::brownian_increments(3));
  CHECK((xs.cast<double>() - xd).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("user SDEs from lambdas: scalar and diagonal noise", "[integrate]") {
  // dx = -x dt + 0.5 dW (scalar g) equals the OU process with theta = 1, mu = 0, c = 0.5.
  const auto scalar = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return (-x).eval(); }, [](double) { return 0.5; });
  const sdeflow::ornstein_uhlenbeck<> ou(1.0, 0.0, 0.5);
  const auto grid = sdeflow::time_grid<>::uniform(0.0, 1.0, 50);
  Eigen::MatrixXd a = Eigen::MatrixXd::Ones(3, 4), b = a;
  sdeflow::integrate(sdeflow::euler_maruyama{}, scalar, a, grid, sdeflow::brownian_increments(8));
  sdeflow::integrate(sdeflow::euler_maruyama{}, ou, b, grid, sdeflow::brownian_increments(8));
  CHECK((a - b).cwiseAbs().maxCoeff() < 1e-14);
  // dx = 2 x dt + x dW element-wise equals geometric Brownian motion.
  const auto diag = sdeflow::sde([](const Eigen::MatrixXd& x, double) { return (2.0 * x).eval(); },
                                 [](const Eigen::MatrixXd& x, double) { return x; });
  const sdeflow::geometric_brownian_motion<> gbm(2.0, 1.0);
  Eigen::MatrixXd c = Eigen::MatrixXd::Ones(3, 4), d = c;
  sdeflow::integrate(sdeflow::euler_maruyama{}, diag, c, grid, sdeflow::brownian_increments(9));
  sdeflow::integrate(sdeflow::euler_maruyama{}, gbm, d, grid, sdeflow::brownian_increments(9));
  CHECK((c - d).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("Euler-Maruyama with zero noise is explicit Euler", "[integrate]") {
  const auto noiseless = sdeflow::sde([](const Eigen::MatrixXd& x, double t) { return (x * std::cos(t)).eval(); },
                                      [](double) { return 0.0; });
  const auto ode = sdeflow::ode([](const Eigen::MatrixXd& x, double t) { return (x * std::cos(t)).eval(); });
  const auto grid = sdeflow::time_grid<>::uniform(1.0, -1.0, 17);
  Eigen::MatrixXd a = Eigen::MatrixXd::Ones(1, 2), b = a;
  sdeflow::integrate(sdeflow::euler_maruyama{}, noiseless, a, grid, sdeflow::brownian_increments(1));
  sdeflow::integrate(sdeflow::euler{}, ode, b, grid);
  CHECK((a - b).cwiseAbs().maxCoeff() == 0.0);
}
