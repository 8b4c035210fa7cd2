// SPDX-License-Identifier: MIT
// The LibTorch adapter (torch/torch.hpp) against the built-in MLP on the same weights: the committed
// two-moons network as safetensors (read by sdeflow::mlp) and as TorchScript (exported from those
// weights by scripts/train_two_moons.py --export-torchscript, evaluated by LibTorch).
#include <sdeflow/sdeflow.hpp>
#include <sdeflow/torch/torch.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace {

const std::string data_dir = SDEFLOW_EXAMPLE_DATA_DIR;

template <class S>
Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> test_batch(Eigen::Index n) {
  Eigen::MatrixXd x(2, n);
  sdeflow::normal_source(31).fill(x, 0, 0);
  return (1.5 * x).cast<S>();
}

}  // namespace

TEST_CASE("torch: the TorchScript module and the built-in MLP agree on the same weights", "[torch]") {
  const auto mlp32 = sdeflow::mlp<float>::load(data_dir + "/two_moons_eps.safetensors");
  const auto net32 = sdeflow::torch_model<float>::load(data_dir + "/two_moons_eps.pt");
  const auto mlp64 = sdeflow::mlp<double>::load(data_dir + "/two_moons_eps.safetensors");
  const auto net64 = sdeflow::torch_model<double>::load(data_dir + "/two_moons_eps.pt");
  const Eigen::MatrixXf x = test_batch<float>(512);
  for (const double t : {1e-3, 0.01, 0.1, 0.5, 1.0}) {
    INFO("t = " << t);
    const Eigen::MatrixXf a = mlp32(x, static_cast<float>(t));
    const Eigen::MatrixXf b = net32(x, static_cast<float>(t));
    REQUIRE(b.rows() == 2);
    REQUIRE(b.cols() == 512);
    // float32: two evaluation orders of the same float32 arithmetic.
    CHECK((a - b).cwiseAbs().maxCoeff() <= 1e-6f * std::max(1.0f, a.cwiseAbs().maxCoeff()));
    // float64 (the float32 weights widened): the same function to rounding.
    const Eigen::MatrixXd xd = x.cast<double>();
    const Eigen::MatrixXd c = mlp64(xd, t), e = net64(xd, t);
    CHECK((c - e).cwiseAbs().maxCoeff() <= 1e-12 * std::max(1.0, c.cwiseAbs().maxCoeff()));
  }
}

TEST_CASE("torch: the layout: an identity module returns the batch, every sample sees its own time", "[torch]") {
  torch::jit::Module identity("identity");
  identity.define("def forward(self, x, t):\n  return x\n");
  const sdeflow::torch_model<double> id(identity);
  const Eigen::MatrixXd x = test_batch<double>(7);
  CHECK(id(x, 0.5) == x);
  // A strided block (rows 2-3 of a 5-row batch) goes to LibTorch in place, with its strides.
  Eigen::MatrixXd tall = Eigen::MatrixXd::Zero(5, 7);
  tall.middleRows(2, 2) = x;
  CHECK(id(tall.middleRows(2, 2), 0.5) == x);
  // An empty batch.
  CHECK(id(Eigen::MatrixXd(2, 0), 0.5).cols() == 0);
  // The mutant of the layout: the same buffer read as (d, n) instead of (n, d) is not the batch.
  CHECK(Eigen::Map<const Eigen::MatrixXd>(x.data(), 7, 2).transpose() != x);
  // t: shape (n,), every entry t.
  torch::jit::Module timed("timed");
  timed.define("def forward(self, x, t):\n  assert t.dim() == 1 and t.size(0) == x.size(0)\n  return x * t[:, None]\n");
  CHECK(sdeflow::torch_model<double>(timed)(x, 0.25) == 0.25 * x);
}

TEST_CASE("torch: the caller's module is left as it was, in its own dtype", "[torch]") {
  torch::jit::Module scale("scale");
  scale.register_parameter("w", torch::full({1}, 1.0f / 3.0f), false);
  scale.define("def forward(self, x, t):\n  return x * self.w\n");
  const sdeflow::torch_model<float> f32(scale);
  const sdeflow::torch_model<double> f64(scale);  // converts its own copy, not `scale` or f32's
  CHECK(scale.attr("w").toTensor().dtype() == torch::kFloat32);
  const Eigen::MatrixXf x = test_batch<float>(4);
  CHECK(f32(x, 0.5f) == (x * (1.0f / 3.0f)).eval());
  // In float64 the float32 weight 1/3 widened: exactly (double)(1.0f / 3.0f).
  CHECK(f64(x.cast<double>(), 0.5) == (x.cast<double>() * static_cast<double>(1.0f / 3.0f)).eval());
}

TEST_CASE("torch: samples through LibTorch are the built-in MLP's samples", "[torch]") {
  const auto mlp = sdeflow::mlp<double>::load(data_dir + "/two_moons_eps.safetensors");
  const auto net = sdeflow::torch_model<double>::load(data_dir + "/two_moons_eps.pt");
  const sdeflow::vp_process<> vp;
  const sdeflow::model m_mlp(vp, std::cref(mlp), sdeflow::prediction::epsilon);
  const sdeflow::model m_torch(vp, std::cref(net), sdeflow::prediction::epsilon);
  const auto grid = sdeflow::log_snr_schedule(vp, 1.0, 1e-3, 25);
  const sdeflow::sampler_options<Eigen::MatrixXd> opt{.seed = 5};
  const Eigen::MatrixXd x_T = sdeflow::initial_noise(vp, 2, 2000, grid, opt);
  const auto a = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, m_mlp, x_T, grid, opt);
  const auto b = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, m_torch, x_T, grid, opt);
  // 25 steps of a contracting flow: rounding differences of 1e-15 stay far below 1e-9.
  CHECK((a.samples - b.samples).cwiseAbs().maxCoeff() < 1e-9);
  // And they are two moons: far closer to the held-out data than a standard normal is.
  const auto golden = sdeflow::safetensors::load(data_dir + "/two_moons_golden.safetensors");
  const Eigen::MatrixXd held = golden.matrix<double>("heldout").transpose().leftCols(2000);
  Eigen::MatrixXd normal(2, 2000);
  sdeflow::normal_source(77).fill(normal, 0, 0);
  const double mmd = sdeflow::mmd_rbf(b.samples, held, 0.5);
  const double mmd_normal = sdeflow::mmd_rbf(normal, held, 0.5);
  INFO("MMD^2 LibTorch samples " << mmd << ", N(0, I) " << mmd_normal);
  CHECK(mmd < 0.1 * mmd_normal);
}

TEST_CASE("torch: a missing file, a file that is not TorchScript, a module of the wrong shape or signature", "[torch][errors]") {
  CHECK_THROWS_AS(sdeflow::torch_model<float>::load(data_dir + "/no_such_model.pt"), sdeflow::io_error);
  CHECK_THROWS_WITH(sdeflow::torch_model<float>::load(data_dir + "/two_moons_eps.safetensors"),
                    Catch::Contains("is not a TorchScript module"));
  torch::jit::Module half("half");
  half.define("def forward(self, x, t):\n  return x[:, :1]\n");
  const sdeflow::torch_model<float> wrong_shape(half);
  CHECK_THROWS_WITH(wrong_shape(test_batch<float>(4), 0.5f),
                    Catch::Contains("returned shape (4, 1) for an input of shape (4, 2)"));
  torch::jit::Module unary("unary");
  unary.define("def forward(self, x):\n  return x\n");
  const sdeflow::torch_model<float> wrong_signature(unary);
  CHECK_THROWS_WITH(wrong_signature(test_batch<float>(4), 0.5f), Catch::Contains("the module's forward failed on a 2 x 4 batch"));
  // A failed TorchScript assert (torch::jit::JITException, not a c10::Error) is ours too.
  torch::jit::Module raising("raising");
  raising.define("def forward(self, x, t):\n  assert x.size(0) <= 2, 'batch too large'\n  return x\n");
  const sdeflow::torch_model<float> small_only(raising);
  CHECK_THROWS_AS(small_only(test_batch<float>(4), 0.5f), sdeflow::invalid_argument);
  CHECK_NOTHROW(small_only(test_batch<float>(2), 0.5f));
  // A module that takes a scalar time.
  torch::jit::Module scaled("scaled");
  scaled.define("def forward(self, x, t):\n  return x * t\n");
  const sdeflow::torch_model<double> by_scalar(scaled, sdeflow::torch_time::scalar);
  const Eigen::MatrixXd x = test_batch<double>(3);
  CHECK(by_scalar(x, 2.0) == 2.0 * x);
}
