// SPDX-License-Identifier: MIT
// The MLP score network: reproduces PyTorch's float64 outputs and autograd Jacobian traces (golden
// pairs written by scripts/train_two_moons.py), and its forward-mode derivatives agree with
// finite differences and with each other.
#include "support.hpp"

#include <string>
#include <thread>
#include <vector>

#ifndef SDEFLOW_EXAMPLE_DATA_DIR
#error "SDEFLOW_EXAMPLE_DATA_DIR must point at examples/data"
#endif

namespace {

const std::string data_dir = SDEFLOW_EXAMPLE_DATA_DIR;

const sdeflow::mlp<double>& trained() {
  static const auto net = sdeflow::mlp<double>::load(data_dir + "/two_moons_eps.safetensors");
  return net;
}
const sdeflow::safetensors& golden() {
  static const auto g = sdeflow::safetensors::load(data_dir + "/two_moons_golden.safetensors");
  return g;
}

/// A random small network (for derivative checks independent of the trained weights).
sdeflow::mlp<double> random_net(Eigen::Index d, sdeflow::activation act) {
  const sdeflow::normal_source src(5);
  Eigen::VectorXd freq(3);
  freq << 1.0, 4.0, 16.0;
  std::vector<sdeflow::mlp<double>::layer> layers;
  const Eigen::Index widths[] = {d + 6, 16, 16, d};
  for (int l = 0; l < 3; ++l) {
    sdeflow::mlp<double>::layer L;
    L.weight.resize(widths[l + 1], widths[l]);
    L.bias.resize(widths[l + 1]);
    src.fill(L.weight, static_cast<std::uint64_t>(2 * l));
    src.fill(L.bias, static_cast<std::uint64_t>(2 * l + 1));
    L.weight /= std::sqrt(static_cast<double>(widths[l]));
    layers.push_back(L);
  }
  return sdeflow::mlp<double>(d, freq, layers, act);
}

}  // namespace

TEST_CASE("mlp: the trained network reproduces PyTorch's outputs", "[networks]") {
  const auto& net = trained();
  const auto& g = golden();
  CHECK(net.dimension() == 2);
  const Eigen::MatrixXd x = g.matrix<double>("x").transpose();  // stored n x 2 (PyTorch rows)
  const Eigen::VectorXd t = g.vector<double>("t");
  const Eigen::MatrixXd eps = g.matrix<double>("eps").transpose();
  REQUIRE(x.cols() == t.size());
  double worst = 0;
  // Evaluate in batches of equal t (the network takes one t per batch).
  for (Eigen::Index j0 = 0; j0 < x.cols();) {
    Eigen::Index j1 = j0;
    while (j1 < x.cols() && t(j1) == t(j0)) ++j1;
    const Eigen::MatrixXd out = net(x.middleCols(j0, j1 - j0), t(j0));
    worst = std::max(worst, (out - eps.middleCols(j0, j1 - j0)).cwiseAbs().maxCoeff());
    j0 = j1;
  }
  INFO("max |C++ - PyTorch| = " << worst);
  CHECK(worst <= 1e-10);  // the issue asks 1e-5; double against float64 PyTorch is far tighter

  // Single precision too, against the same float64 reference.
  const auto net32 = sdeflow::mlp<float>::load(data_dir + "/two_moons_eps.safetensors");
  double worst32 = 0;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    const Eigen::MatrixXf out = net32(x.col(j).cast<float>(), static_cast<float>(t(j)));
    worst32 = std::max(worst32, (out.cast<double>() - eps.col(j)).cwiseAbs().maxCoeff());
  }
  INFO("float: max |C++ - PyTorch| = " << worst32);
  CHECK(worst32 <= 1e-5);
}

TEST_CASE("mlp: Jacobian traces match PyTorch autograd", "[networks]") {
  const auto& net = trained();
  const auto& g = golden();
  const Eigen::MatrixXd x = g.matrix<double>("x").transpose();
  const Eigen::VectorXd t = g.vector<double>("t");
  const Eigen::VectorXd tr = g.vector<double>("eps_jacobian_trace");
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    INFO("sample " << j << " t = " << t(j));
    const double div = net.divergence(x.col(j), t(j))(0);
    CHECK(std::fabs(div - tr(j)) <= 1e-9 * std::max(1.0, std::fabs(tr(j))));
    CHECK(std::fabs(net.jacobian(x.col(j), t(j)).trace() - tr(j)) <= 1e-9 * std::max(1.0, std::fabs(tr(j))));
  }
}

TEST_CASE("mlp: jvp matches central differences and the Jacobian for both activations", "[networks]") {
  for (auto act : {sdeflow::activation::silu, sdeflow::activation::tanh}) {
    const auto net = random_net(3, act);
    const sdeflow::normal_source src(11);
    Eigen::MatrixXd x(3, 5), v(3, 5);
    src.fill(x, 0);
    src.fill(v, 1);
    const double t = 0.37;
    const Eigen::MatrixXd jv = net.jvp(x, t, v);
    const double h = 1e-5;
    const Eigen::MatrixXd plus = net(x + h * v, t);
    const Eigen::MatrixXd fd = (plus - Eigen::MatrixXd(net(x - h * v, t))) / (2 * h);
    CHECK((jv - fd).cwiseAbs().maxCoeff() <= 1e-7);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const Eigen::MatrixXd J = net.jacobian(x.col(j), t);
      CHECK((J * v.col(j) - jv.col(j)).cwiseAbs().maxCoeff() <= 1e-12);
      CHECK(std::fabs(J.trace() - net.divergence(x, t)(j)) <= 1e-12);
    }
  }
}

TEST_CASE("mlp: a model over the network has the exact score Jacobian", "[networks]") {
  // score = -eps / sigma for an epsilon network: its jvp and divergence are the network's scaled.
  const auto& net = trained();
  const sdeflow::vp_process<sdeflow::linear_beta<double>> vp;
  const auto score = sdeflow::epsilon_score(vp, std::cref(net));
  const sdeflow::normal_source src(3);
  Eigen::MatrixXd x(2, 4), v(2, 4);
  src.fill(x, 0);
  src.fill(v, 1);
  for (double t : {0.01, 0.3, 1.0}) {
    const double sd = vp.marginal_std(t);
    const Eigen::MatrixXd expected = -net.jvp(x, t, v) / sd;
    CHECK((score.jvp(x, t, v) - expected).cwiseAbs().maxCoeff() <= 1e-12 * std::max(1.0, expected.cwiseAbs().maxCoeff()));
    const Eigen::RowVectorXd div = score.divergence(x, t);
    CHECK((div + net.divergence(x, t) / sd).cwiseAbs().maxCoeff() <= 1e-9);
    const Eigen::MatrixXd s = score(x, t);
    CHECK((s + Eigen::MatrixXd(net(x, t)) / sd).cwiseAbs().maxCoeff() <= 1e-12);
  }
}

TEST_CASE("mlp: bad shapes and files are rejected with named errors", "[networks]") {
  const auto& net = trained();
  CHECK_THROWS_AS(net(Eigen::MatrixXd::Zero(3, 2), 0.5), sdeflow::dimension_mismatch);
  CHECK_THROWS_AS(net(Eigen::MatrixXd::Zero(2, 2), std::nan("")), sdeflow::invalid_argument);
  CHECK_THROWS_AS(net.jvp(Eigen::MatrixXd::Zero(2, 2), 0.5, Eigen::MatrixXd::Zero(2, 3)), sdeflow::dimension_mismatch);
  std::vector<sdeflow::mlp<double>::layer> bad(1);
  bad[0].weight = Eigen::MatrixXd::Zero(2, 5);  // d + 2m = 2 + 2 = 4 inputs expected
  bad[0].bias = Eigen::VectorXd::Zero(2);
  CHECK_THROWS_WITH(sdeflow::mlp<double>(2, Eigen::VectorXd::Ones(1), bad), Catch::Contains("layer 0"));
  // A file whose first layer does not match the embedding: format_error naming the tensor.
  const auto f = sdeflow::safetensors::parse(sdeflow::safetensors_writer()
                                                 .add("time_embedding.frequencies", Eigen::VectorXd::Ones(2),
                                                      sdeflow::tensor_dtype::f32, true)
                                                 .add("layers.0.weight", Eigen::MatrixXd::Zero(2, 4))
                                                 .add("layers.0.bias", Eigen::VectorXd::Zero(2), sdeflow::tensor_dtype::f64, true)
                                                 .bytes());
  CHECK_THROWS_WITH(sdeflow::mlp<double>::from_safetensors(f), Catch::Contains("layers.0.weight has 4 inputs"));
  const auto g = sdeflow::safetensors::parse(sdeflow::safetensors_writer()
                                                 .add("time_embedding.frequencies", Eigen::VectorXd::Ones(1),
                                                      sdeflow::tensor_dtype::f32, true)
                                                 .add("layers.0.weight", Eigen::MatrixXd::Zero(2, 4))
                                                 .add("layers.0.bias", Eigen::VectorXd::Zero(3), sdeflow::tensor_dtype::f64, true)
                                                 .bytes());
  CHECK_THROWS_AS(sdeflow::mlp<double>::from_safetensors(g), sdeflow::format_error);
}

TEST_CASE("mlp: results are values, so net(a, t) - net(b, t) is the difference of the outputs", "[networks]") {
  const auto net = random_net(3, sdeflow::activation::silu);
  const Eigen::MatrixXd a = Eigen::MatrixXd::Constant(3, 4, 0.2), b = Eigen::MatrixXd::Constant(3, 4, -0.7);
  Eigen::MatrixXd fa, fb;
  net.evaluate(a, 0.4, fa);
  net.evaluate(b, 0.4, fb);
  const Eigen::MatrixXd diff = net(a, 0.4) - net(b, 0.4);
  // With the output held in one shared buffer both terms would be the same matrix and diff zero.
  CHECK((fa - fb).cwiseAbs().maxCoeff() > 1e-3);
  CHECK((diff - (fa - fb)).cwiseAbs().maxCoeff() == 0.0);
  // A result kept across a later evaluation does not change.
  const Eigen::MatrixXd kept = net(a, 0.4);
  (void)net(b, 0.9);
  CHECK((kept - fa).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("mlp: one const network shared by two threads gives the serial results", "[networks]") {
  const auto net = random_net(2, sdeflow::activation::tanh);
  constexpr int rounds = 200;
  // Serial reference: output, jvp and divergence at inputs that differ per thread and per round.
  auto input = [](int thread, int k) {
    return Eigen::MatrixXd(Eigen::MatrixXd::Constant(2, 5, 0.01 * k - 0.5 * thread) +
                           Eigen::MatrixXd::Identity(2, 5) * thread);
  };
  std::vector<std::vector<Eigen::MatrixXd>> expected(2);
  for (int th = 0; th < 2; ++th) {
    for (int k = 0; k < rounds; ++k) {
      const Eigen::MatrixXd x = input(th, k);
      expected[static_cast<std::size_t>(th)].push_back(net(x, 0.3));
      expected[static_cast<std::size_t>(th)].push_back(net.jvp(x, 0.3, Eigen::MatrixXd::Ones(2, 5)));
      expected[static_cast<std::size_t>(th)].push_back(net.divergence(x, 0.3));
    }
  }
  std::vector<int> mismatches(2, 0);
  auto work = [&](int th) {
    for (int k = 0; k < rounds; ++k) {
      const Eigen::MatrixXd x = input(th, k);
      const Eigen::MatrixXd o = net(x, 0.3);
      const Eigen::MatrixXd j = net.jvp(x, 0.3, Eigen::MatrixXd::Ones(2, 5));
      const Eigen::MatrixXd v = net.divergence(x, 0.3);
      const auto& e = expected[static_cast<std::size_t>(th)];
      const auto i = static_cast<std::size_t>(3 * k);
      if (o != e[i] || j != e[i + 1] || v != e[i + 2]) ++mismatches[static_cast<std::size_t>(th)];
    }
  };
  std::thread other(work, 1);
  work(0);
  other.join();
  CHECK(mismatches[0] == 0);
  CHECK(mismatches[1] == 0);
}
