// SPDX-License-Identifier: MIT
#pragma once
/// \file torch.hpp
/// The optional LibTorch adapter: a TorchScript module (a network trained in PyTorch and saved with
/// `torch.jit.script(net).save(path)` or `torch.jit.trace`) as a network sdeflow samples, in any
/// parameterization. CMake target `sdeflow::torch`, built when find_package(Torch) finds LibTorch
/// (Debian's libtorch-dev); not included by sdeflow.hpp.
///
/// The module's forward takes the batch first, as PyTorch code does: forward(x, t) with x of shape
/// (n, d) and t of shape (n,) (`torch_time::per_sample`, the default: every sample's time, as
/// diffusers' UNets take it) or a 0-dimensional tensor (`torch_time::scalar`), and returns (n, d).
/// A d x n Eigen batch, one sample per column in column-major storage, is already the row-major
/// (n, d) tensor: the input is passed to the module without a copy (torch::from_blob), and the output is
/// copied once into the Eigen result (LibTorch allocates the output, so one copy is the floor). The
/// module must therefore not modify its input in place (`x.clamp_()`, `x /= s`): that would write into
/// the sampler's state.
///
/// torch_model<S> runs the module in S: float32 for float, float64 for double. It keeps its own deep
/// copy of the module, converted to S once at construction, so the caller's module is left as it was.
/// Copies of a torch_model share that copy. Evaluation is under c10::InferenceMode (no autograd graph);
/// LibTorch parallelizes inside one evaluation (at::set_num_threads). Anything the module throws
/// (a shape error, a TorchScript `raise` or `assert`) becomes sdeflow::invalid_argument.
///
/// \code
///   auto net = sdeflow::torch_model<float>::load("two_moons_eps.pt");
///   const sdeflow::model m(sdeflow::vp_process<sdeflow::linear_beta<float>>{}, std::cref(net), sdeflow::prediction::epsilon);
///   auto out = sdeflow::sample(sdeflow::samplers::dpmpp_2m{}, m, x_T, grid, opt);   // x_T: Eigen::MatrixXf
/// \endcode

#include <sdeflow/core/error.hpp>

#include <Eigen/Core>

#include <torch/script.h>

#include <concepts>
#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>

namespace sdeflow {

/// How a TorchScript module takes the time.
enum class torch_time {
  per_sample,  ///< t of shape (n,): the same value for every sample of the batch
  scalar       ///< t a 0-dimensional tensor
};

/// A TorchScript module evaluated on Eigen batches in scalar type S (float or double).
template <class S>
  requires std::same_as<S, float> || std::same_as<S, double>
class torch_model {
 public:
  using scalar_type = S;
  using matrix_type = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;

  /// Wrap a deep copy of a loaded module (converted to S and put in eval mode; `module` is unchanged).
  explicit torch_model(const torch::jit::Module& module, torch_time time = torch_time::per_sample)
      : module_(module.clone()), time_(time) {
    module_.eval();
    module_.to(dtype());
  }

  /// Load a TorchScript file. Throws io_error when the file cannot be read and format_error when
  /// LibTorch cannot load it as a TorchScript module.
  [[nodiscard]] static torch_model load(const std::string& path, torch_time time = torch_time::per_sample) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      throw io_error(detail::message("torch_model::load: cannot open '", path, "' (no such file)"), path);
    }
    try {
      return torch_model(torch::jit::load(path, torch::kCPU), time);
    } catch (const std::exception& e) {
      throw format_error(detail::message("torch_model::load: '", path, "' is not a TorchScript module: ",
                                         first_line(e.what())),
                         0);
    }
  }

  /// The module's output for the d x n batch x at time t, as a d x n batch.
  template <class Derived>
    requires std::same_as<typename Derived::Scalar, S>
  [[nodiscard]] matrix_type operator()(const Eigen::MatrixBase<Derived>& x, S t) const {
    matrix_type out;
    evaluate(x, t, out);
    return out;
  }

  /// The same into `out` (resized to d x n).
  template <class Derived>
    requires std::same_as<typename Derived::Scalar, S>
  void evaluate(const Eigen::MatrixBase<Derived>& x, S t, matrix_type& out) const {
    // A contiguous column-major batch is passed in place; an expression or a strided block is
    // evaluated first (Eigen::Ref makes the copy only when it must).
    const Eigen::Ref<const matrix_type> xr(x.derived());
    const auto d = static_cast<std::int64_t>(xr.rows()), n = static_cast<std::int64_t>(xr.cols());
    const auto opts = torch::TensorOptions().dtype(dtype()).device(torch::kCPU);
    c10::InferenceMode guard;
    // from_blob does not take ownership, and the module does not write to its input in inference.
    const torch::Tensor xt = torch::from_blob(const_cast<S*>(xr.data()), {n, d}, {xr.outerStride(), 1}, opts);
    const torch::Tensor tt = time_ == torch_time::per_sample ? torch::full({n}, t, opts) : torch::scalar_tensor(t, opts);
    torch::Tensor y;
    try {
      y = module_.forward({xt, tt}).toTensor();
    } catch (const std::exception& e) {  // c10::Error, torch::jit::JITException (a TorchScript raise), ...
      throw invalid_argument(detail::message("torch_model: the module's forward failed on a ", d, " x ", n,
                                             " batch at t = ", t, ": ", first_line(e.what())));
    }
    if (y.dim() != 2 || y.size(0) != n || y.size(1) != d) {
      throw dimension_mismatch(detail::message("torch_model: the module returned shape ", shape_text(y),
                                               " for an input of shape (", n, ", ", d, "); it must return (n, d)"));
    }
    y = y.to(dtype()).contiguous();
    out.resize(xr.rows(), xr.cols());
    if (out.size() > 0) std::memcpy(out.data(), y.data_ptr<S>(), sizeof(S) * static_cast<std::size_t>(out.size()));
  }

  /// The wrapped module.
  [[nodiscard]] const torch::jit::Module& module() const noexcept { return module_; }

  /// The torch dtype of S.
  [[nodiscard]] static constexpr torch::Dtype dtype() noexcept {
    return std::is_same_v<S, double> ? torch::kFloat64 : torch::kFloat32;
  }

 private:
  static std::string first_line(const char* what) {
    const std::string s(what);
    return s.substr(0, s.find('\n'));
  }
  static std::string shape_text(const torch::Tensor& y) {
    std::string s = "(";
    for (std::int64_t k = 0; k < y.dim(); ++k) s += (k > 0 ? ", " : "") + std::to_string(y.size(k));
    return s + (y.dim() == 1 ? ",)" : ")");
  }

  mutable torch::jit::Module module_;  // forward() is not const in LibTorch's API
  torch_time time_;
};

}  // namespace sdeflow
