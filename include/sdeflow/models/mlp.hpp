// SPDX-License-Identifier: MIT
#pragma once
/// \file mlp.hpp
/// A small multilayer perceptron for learned scores (or noise / data / velocity predictions),
/// evaluated with Eigen on whole batches, with its exact input Jacobian.
///
///   input  h_0 = [x ; sin(w t) ; cos(w t)]          x: d x n batch, w: m time frequencies
///   hidden h_l = act(W_l h_{l-1} + b_l),  l = 1..L-1   (act: SiLU z sigma(z), or tanh)
///   output o   = W_L h_{L-1} + b_L                      (d x n)
///
/// The time embedding is folded into the first layer's bias (it is the same for the whole batch),
/// so a forward pass is L matrix products on the batch.
///
/// Results come back by value (net(a, t) - net(b, t) is what it says), or into the caller's storage
/// with evaluate(x, t, out) / jvp_into. The activations live in a workspace the network keeps behind a
/// mutex: a call that gets it reuses its buffers (once a batch size has been seen, evaluate and
/// jvp_into allocate nothing), a call that finds it busy (another thread) uses a workspace of its own.
/// So a const network is safe to share across threads, and single-threaded use does not allocate.
///
/// Derivatives (forward mode, exact):
/// - jvp(x, t, v):      J(x) v for each column (tangents pushed through the layers alongside values);
/// - jacobian(x, t):    the d x d input Jacobian of one column;
/// - divergence(x, t):  trace J per column, from d JVPs on the basis vectors.
///
/// Weights load from safetensors (io/safetensors.hpp) with tensor names
///   "time_embedding.frequencies" [m], "layers.{l}.weight" [out, in], "layers.{l}.bias" [out]
/// (PyTorch nn.Linear layout), and metadata "activation" ("silu" or "tanh"). Every shape is checked
/// against the chain d + 2m -> ... -> d; scripts/train_two_moons.py writes such a file.
///
/// \code
///   auto net = sdeflow::mlp<double>::load("two_moons_eps.safetensors");
///   auto score = sdeflow::epsilon_score(vp, std::cref(net));   // a ScoreFunction with jvp/divergence
/// \endcode

#include <sdeflow/core/error.hpp>
#include <sdeflow/core/types.hpp>
#include <sdeflow/io/safetensors.hpp>

#include <Eigen/Core>

#include <cmath>
#include <concepts>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sdeflow {

enum class activation { silu, tanh };

template <std::floating_point Scalar = double>
class mlp {
 public:
  using scalar_type = Scalar;
  /// One GEMM per layer over the whole batch beats cache tiles: the drivers do not split a system built
  /// on it (core/execution.hpp).
  static constexpr bool whole_batch = true;
  using matrix_type = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using vector_type = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  using row_type = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

  struct layer {
    matrix_type weight;  ///< out x in
    vector_type bias;    ///< out
  };

  /// d: data dimension; frequencies: the m time-embedding frequencies; layers: at least one.
  /// Throws dimension_mismatch unless the layers chain d + 2m -> ... -> d, invalid_argument on
  /// non-finite weights.
  mlp(Eigen::Index d, vector_type frequencies, std::vector<layer> layers, activation act = activation::silu)
      : d_(d), freq_(std::move(frequencies)), layers_(std::move(layers)), act_(act) {
    detail::require(d >= 1, "mlp", "d", d, "must be at least 1");
    detail::require(!layers_.empty(), "mlp", "layers", layers_.size(), "must hold at least one layer");
    detail::require(freq_.allFinite(), "mlp", "frequencies", "(non-finite)", "must be finite");
    Eigen::Index in = d + 2 * freq_.size();
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const auto& L = layers_[l];
      if (L.weight.cols() != in || L.bias.size() != L.weight.rows()) {
        throw dimension_mismatch(detail::message("mlp: layer ", l, " has weight ", L.weight.rows(), " x ",
                                                 L.weight.cols(), " and bias ", L.bias.size(), "; expected ",
                                                 "weight (out x ", in, ") and bias (out)"));
      }
      if (!L.weight.allFinite() || !L.bias.allFinite()) {
        throw invalid_argument(detail::message("mlp: layer ", l, " has non-finite weights"));
      }
      in = L.weight.rows();
    }
    if (in != d) {
      throw dimension_mismatch(detail::message("mlp: the last layer has ", in, " outputs; expected d = ", d));
    }
    size(own_.w);
  }

  /// Load from a validated safetensors file (see the file comment for names and shapes).
  [[nodiscard]] static mlp from_safetensors(const safetensors& f) {
    const vector_type freq = f.vector<Scalar>("time_embedding.frequencies");
    std::vector<layer> layers;
    for (std::size_t l = 0;; ++l) {
      const std::string w = "layers." + std::to_string(l) + ".weight";
      const std::string b = "layers." + std::to_string(l) + ".bias";
      if (!f.contains(w)) break;
      layer L;
      L.weight = f.matrix<Scalar>(w);
      L.bias = f.vector<Scalar>(b, L.weight.rows());
      layers.push_back(std::move(L));
    }
    if (layers.empty()) throw format_error("mlp: the file has no tensor \"layers.0.weight\"", 0);
    const Eigen::Index d = layers.back().weight.rows();
    activation act = activation::silu;
    if (f.metadata().count("activation")) {
      const std::string& a = f.metadata_value("activation");
      if (a == "silu") act = activation::silu;
      else if (a == "tanh") act = activation::tanh;
      else throw format_error("mlp: unknown activation \"" + a + "\" (expected silu or tanh)", 0);
    }
    const std::size_t expected = 1 + 2 * layers.size();
    if (f.tensors().size() != expected) {
      throw format_error(detail::message("mlp: the file holds ", f.tensors().size(), " tensors; a ", layers.size(),
                                         "-layer network has ", expected), 0);
    }
    if (layers.front().weight.cols() != d + 2 * freq.size()) {
      throw format_error(detail::message("mlp: layers.0.weight has ", layers.front().weight.cols(),
                                         " inputs; expected d + 2 m = ", d + 2 * freq.size()), 0);
    }
    try {
      return mlp(d, freq, std::move(layers), act);
    } catch (const dimension_mismatch& e) {
      throw format_error(e.what(), 0);
    }
  }

  [[nodiscard]] static mlp load(const std::string& path) { return from_safetensors(safetensors::load(path)); }

  [[nodiscard]] Eigen::Index dimension() const noexcept { return d_; }
  [[nodiscard]] std::size_t depth() const noexcept { return layers_.size(); }
  [[nodiscard]] const std::vector<layer>& layers() const noexcept { return layers_; }
  [[nodiscard]] const vector_type& frequencies() const noexcept { return freq_; }
  [[nodiscard]] activation activation_kind() const noexcept { return act_; }
  [[nodiscard]] std::size_t parameter_count() const noexcept {
    std::size_t n = 0;
    for (const auto& L : layers_) n += static_cast<std::size_t>(L.weight.size() + L.bias.size());
    return n;
  }

  /// The network's output at (x, t), d x n, by value.
  template <class Derived>
  [[nodiscard]] matrix_type operator()(const Eigen::MatrixBase<Derived>& x, Scalar t) const {
    matrix_type out;
    evaluate(x, t, out);
    return out;
  }

  /// The network's output at (x, t) into out (resized to d x n; no allocation once it has that size
  /// and the network has seen the batch size).
  template <class Derived, class DO>
  void evaluate(const Eigen::MatrixBase<Derived>& x, Scalar t, DO& out) const {
    with_workspace([&](workspace& w) {
      forward(x, t, w);
      out = w.h.back();
    });
  }

  /// J(x) v per column (d x n): the directional derivative of the output along v.
  template <class DX, class DV>
  [[nodiscard]] matrix_type jvp(const Eigen::MatrixBase<DX>& x, Scalar t, const Eigen::MatrixBase<DV>& v) const {
    matrix_type out(d_, x.cols());
    jvp_into(x, t, v, out);
    return out;
  }

  /// As jvp, into caller storage (no allocation once the batch size has been seen).
  template <class DX, class DV, class DO>
  void jvp_into(const Eigen::MatrixBase<DX>& x, Scalar t, const Eigen::MatrixBase<DV>& v,
                Eigen::MatrixBase<DO>& out) const {
    if (v.rows() != x.rows() || v.cols() != x.cols()) {
      throw dimension_mismatch(detail::message("mlp::jvp: v is ", v.rows(), " x ", v.cols(), " but x is ", x.rows(),
                                               " x ", x.cols()));
    }
    with_workspace([&](workspace& w) {
      forward(x, t, w);
      tangent(v, w);
      out = w.dz.back();
    });
  }

  /// The d x d input Jacobian d o / d x at one point x (a d-vector).
  template <class Derived>
  [[nodiscard]] matrix_type jacobian(const Eigen::MatrixBase<Derived>& x, Scalar t) const {
    detail::require(x.cols() == 1, "mlp::jacobian", "x.cols()", x.cols(), "must be 1 (one point)");
    const matrix_type xs = x.derived().template cast<Scalar>().replicate(1, d_);
    return jvp(xs, t, matrix_type::Identity(d_, d_));
  }

  /// trace J(x) per column (1 x n), exactly, from d JVPs along the basis vectors.
  template <class Derived>
  [[nodiscard]] row_type divergence(const Eigen::MatrixBase<Derived>& x, Scalar t) const {
    row_type div = row_type::Zero(x.cols());
    with_workspace([&](workspace& w) {
      forward(x, t, w);
      w.basis.setZero(d_, x.cols());
      for (Eigen::Index i = 0; i < d_; ++i) {
        if (i > 0) w.basis.row(i - 1).setZero();
        w.basis.row(i).setOnes();
        tangent(w.basis, w);
        div += w.dz.back().row(i);
      }
    });
    return div;
  }

 private:
  /// The buffers of one evaluation: h activations (the last is the output), dact activation
  /// derivatives, dz tangents, and the input of the last forward pass.
  struct workspace {
    vector_type bias0;
    std::vector<matrix_type> h, dact, dz;
    matrix_type basis, last_x;
    Scalar last_t = 0;
    bool cached = false;
  };
  /// The network's own workspace and its lock. A copy, a move or an assignment leaves an empty one:
  /// a workspace (and its forward cache) belongs to the weights it was computed with.
  struct guarded_workspace {
    workspace w;
    std::mutex mu;
    guarded_workspace() = default;
    guarded_workspace(const guarded_workspace&) noexcept {}
    guarded_workspace(guarded_workspace&&) noexcept {}
    guarded_workspace& operator=(const guarded_workspace&) noexcept {
      w.cached = false;  // the buffers may stay (they are resized on use); the cache must not
      return *this;
    }
    guarded_workspace& operator=(guarded_workspace&&) noexcept {
      w.cached = false;
      return *this;
    }
    ~guarded_workspace() = default;
  };

  /// f(workspace&) on the network's workspace when it is free, else on a fresh one (another thread
  /// holds it): never two threads on one set of buffers.
  template <class F>
  void with_workspace(F&& f) const {
    std::unique_lock<std::mutex> lock(own_.mu, std::try_to_lock);
    if (lock.owns_lock()) {
      if (own_.w.h.size() != layers_.size()) size(own_.w);
      f(own_.w);
    } else {
      workspace local;
      size(local);
      f(local);
    }
  }
  void size(workspace& w) const {
    w.h.resize(layers_.size());
    w.dact.resize(layers_.size());
    w.dz.resize(layers_.size());
  }

  /// Values (and activation derivatives) at (x, t) in w; skipped when (x, t) equals w's last pass, so
  /// an evaluation followed by JVPs at the same point costs one forward pass.
  template <class Derived>
  void forward(const Eigen::MatrixBase<Derived>& x, Scalar t, workspace& w) const {
    if (x.rows() != d_) {
      throw dimension_mismatch(detail::message("mlp: x has ", x.rows(), " rows but the network takes d = ", d_));
    }
    if (!std::isfinite(static_cast<double>(t))) {
      throw invalid_argument(detail::message("mlp: t = ", t, " must be finite"));
    }
    if (w.cached && t == w.last_t && w.last_x.cols() == x.cols() && w.last_x == x.derived().template cast<Scalar>()) {
      return;
    }
    w.cached = false;
    const Eigen::Index n = x.cols();
    const Eigen::Index m = freq_.size();
    // First layer: W[:, :d] x + (W[:, d:] emb(t) + b).
    const auto& L0 = layers_[0];
    w.bias0 = L0.bias;
    for (Eigen::Index k = 0; k < m; ++k) {
      w.bias0.noalias() += L0.weight.col(d_ + k) * std::sin(freq_[k] * t);
      w.bias0.noalias() += L0.weight.col(d_ + m + k) * std::cos(freq_[k] * t);
    }
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const auto& L = layers_[l];
      matrix_type& z = w.h[l];  // pre-activation, then activated in place
      z.resize(L.weight.rows(), n);
      if (l == 0) {
        z.noalias() = L.weight.leftCols(d_) * x.derived().template cast<Scalar>();
        z.colwise() += w.bias0;
      } else {
        z.noalias() = L.weight * w.h[l - 1];
        z.colwise() += L.bias;
      }
      if (l + 1 == layers_.size()) break;  // linear output
      w.dact[l].resize(L.weight.rows(), n);
      if (act_ == activation::silu) {
        // silu(z) = z s(z), silu'(z) = s(z) (1 + z (1 - s(z))), s the logistic function.
        w.dact[l] = (Scalar(1) + (-z.array()).exp()).inverse();
        z.array() *= w.dact[l].array();                                       // z s
        w.dact[l].array() += z.array() * (Scalar(1) - w.dact[l].array());      // s + z s (1 - s)
      } else {
        z = z.array().tanh();
        w.dact[l] = Scalar(1) - z.array().square();
      }
    }
    w.last_x = x.derived().template cast<Scalar>();
    w.last_t = t;
    w.cached = true;
  }

  /// Push tangent v (d x n) through the layers at the last forward pass; result in w.dz.back().
  template <class Derived>
  void tangent(const Eigen::MatrixBase<Derived>& v, workspace& w) const {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const auto& L = layers_[l];
      w.dz[l].resize(L.weight.rows(), v.cols());
      if (l == 0) {
        w.dz[l].noalias() = L.weight.leftCols(d_) * v.derived().template cast<Scalar>();
      } else {
        w.dz[l].noalias() = L.weight * w.dz[l - 1];
      }
      if (l + 1 < layers_.size()) w.dz[l].array() *= w.dact[l].array();  // tangent of the activation
    }
  }

  Eigen::Index d_;
  vector_type freq_;
  std::vector<layer> layers_;
  activation act_;
  mutable guarded_workspace own_;  // the network's own buffers (see with_workspace)
};

}  // namespace sdeflow
