// SPDX-License-Identifier: MIT
// Systems for the negative compile checks: each .cpp here must FAIL to compile with a message that
// names the noise type and the calculus (checked by CTest's PASS_REGULAR_EXPRESSION).
#include <sdeflow/sdeflow.hpp>

struct ito_diagonal {
  void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out = x; }
  void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out = x; }
};
struct stratonovich_diagonal : ito_diagonal {
  static constexpr sdeflow::calculus calculus = sdeflow::calculus::stratonovich;
};
struct ito_general {
  using noise_type = sdeflow::general_noise;
  std::size_t wiener_dimension() const { return 2; }
  void drift(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out = x; }
  void diffusion(const Eigen::MatrixXd& x, double, Eigen::MatrixXd& out) const { out.setOnes(2 * x.rows(), x.cols()); }
};

template <class Stepper, class Sys>
void run() {
  Eigen::MatrixXd x = Eigen::MatrixXd::Ones(2, 3);
  sdeflow::integrate(Stepper{}, Sys{}, x, sdeflow::time_grid<>::uniform(0.0, 1.0, 4), sdeflow::brownian_increments(1));
}
