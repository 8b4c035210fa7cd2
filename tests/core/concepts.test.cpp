// SPDX-License-Identifier: MIT
// Positive and negative compile-time checks of the concepts, over dynamic and fixed-size states and
// over callables that return Eigen expressions rather than matrices.
#include "support.hpp"

namespace {
using Xd = Eigen::MatrixXd;
using X2 = Eigen::Matrix<double, 2, 1>;
using X2n = Eigen::Matrix<double, 2, Eigen::Dynamic>;
using Xf = Eigen::MatrixXf;

struct good_score {
  Xd operator()(const Xd& x, double t) const { return -x / (1 + t); }
};
struct expression_score {  // returns an unevaluated Eigen expression
  template <class X>
  auto operator()(const X& x, double) const { return -2.0 * x; }
};
struct wrong_arity {
  Xd operator()(const Xd& x) const { return x; }
};
struct returns_scalar {
  double operator()(const Xd&, double) const { return 1.0; }
};
struct returns_string {
  std::string operator()(const Xd&, double) const { return {}; }
};
struct non_const_call {
  Xd operator()(const Xd& x, double) { return x; }
};

struct my_ode {
  template <class X>
  void drift(const X& x, double, X& out) const { out = -x; }
};
struct my_scalar_sde : my_ode {
  double diffusion(double) const { return 1.0; }
};
struct my_diag_sde : my_ode {
  template <class X>
  void diffusion(const X& x, double, X& out) const { out = x; }
};
struct no_drift {
  double diffusion(double) const { return 1.0; }
};
struct my_noise {
  template <class X>
  void increment(std::size_t, double, double, X& dW) { dW.setZero(); }
};
}  // namespace

// States: plain Eigen matrices with a floating scalar; not expressions, not integers.
static_assert(sdeflow::State<Xd>);
static_assert(sdeflow::State<X2>);
static_assert(sdeflow::State<X2n>);
static_assert(sdeflow::State<Xf>);
static_assert(sdeflow::State<Eigen::ArrayXXd>);
static_assert(!sdeflow::State<Eigen::MatrixXi>);
static_assert(!sdeflow::State<decltype(Xd() + Xd())>);
static_assert(!sdeflow::State<double>);
static_assert(sdeflow::DenseExpression<decltype(Xd() + Xd())>);
static_assert(sdeflow::DenseExpression<decltype(X2() * 2.0)>);

// Scores: d x n in, something convertible to d x n out; lambdas and expressions included.
static_assert(sdeflow::ScoreFunction<good_score, Xd>);
static_assert(sdeflow::ScoreFunction<expression_score, Xd>);
static_assert(sdeflow::ScoreFunction<expression_score, X2>);
static_assert(sdeflow::ScoreFunction<expression_score, X2n>);
static_assert(sdeflow::ScoreFunction<decltype([](const Xd& x, double) { return (x.array() * 0.5).matrix(); }), Xd>);
static_assert(!sdeflow::ScoreFunction<wrong_arity, Xd>);
static_assert(!sdeflow::ScoreFunction<returns_scalar, Xd>);
static_assert(!sdeflow::ScoreFunction<returns_string, Xd>);
static_assert(!sdeflow::ScoreFunction<non_const_call, Xd>);
static_assert(!sdeflow::ScoreFunction<good_score, Eigen::MatrixXi>);
static_assert(sdeflow::ScoreFunction<sdeflow::mixture_score<sdeflow::vp_process<>>, Xd>);
static_assert(sdeflow::ScoreFunction<sdeflow::mixture_score<sdeflow::ve_process<>>, X2n>);

// Systems.
static_assert(sdeflow::OdeSystem<my_ode, Xd>);
static_assert(sdeflow::OdeSystem<my_ode, X2>);
static_assert(sdeflow::AdditiveNoiseSde<my_scalar_sde, Xd>);
static_assert(!sdeflow::StateDiffusionSde<my_scalar_sde, Xd>);
static_assert(sdeflow::StateDiffusionSde<my_diag_sde, X2n>);
static_assert(!sdeflow::AdditiveNoiseSde<my_diag_sde, X2n>);
static_assert(!sdeflow::SdeSystem<my_ode, Xd>);
static_assert(!sdeflow::OdeSystem<no_drift, Xd>);
static_assert(!sdeflow::SdeSystem<no_drift, Xd>);
using vp_rev = sdeflow::reverse_sde<sdeflow::vp_process<>, good_score>;
static_assert(sdeflow::AdditiveNoiseSde<vp_rev, Xd>);
static_assert(sdeflow::OdeSystem<sdeflow::probability_flow<sdeflow::vp_process<>, good_score>, Xd>);
static_assert(!sdeflow::SdeSystem<sdeflow::probability_flow<sdeflow::vp_process<>, good_score>, Xd>);
static_assert(sdeflow::AdditiveNoiseSde<sdeflow::vp_process<>, Xd>);
static_assert(sdeflow::AdditiveNoiseSde<sdeflow::ornstein_uhlenbeck<>, X2>);
static_assert(sdeflow::StateDiffusionSde<sdeflow::geometric_brownian_motion<>, Xd>);
static_assert(sdeflow::AdditiveNoiseSde<sdeflow::brownian_motion<float>, Xf>);
using lam_f = decltype([](const Xd& x, double) { return -x; });
using lam_g = decltype([](double) { return 0.3; });
using lam_gx = decltype([](const Xd& x, double) { return 0.3 * x; });
static_assert(sdeflow::AdditiveNoiseSde<sdeflow::sde_system<lam_f, lam_g>, Xd>);
static_assert(sdeflow::StateDiffusionSde<sdeflow::sde_system<lam_f, lam_gx>, Xd>);
static_assert(sdeflow::OdeSystem<sdeflow::ode_system<lam_f>, Xd>);

// Processes.
static_assert(sdeflow::AffineProcess<sdeflow::vp_process<>>);
static_assert(sdeflow::AffineProcess<sdeflow::vp_process<sdeflow::cosine_beta<>>>);
static_assert(sdeflow::AffineProcess<sdeflow::sub_vp_process<>>);
static_assert(sdeflow::AffineProcess<sdeflow::ve_process<>>);
static_assert(sdeflow::AffineProcess<sdeflow::brownian_motion<float>>);
static_assert(!sdeflow::AffineProcess<sdeflow::ornstein_uhlenbeck<>>);
static_assert(!sdeflow::AffineProcess<sdeflow::geometric_brownian_motion<>>);

// Noise and steppers.
static_assert(sdeflow::BrownianIncrements<sdeflow::brownian_increments, Xd>);
static_assert(sdeflow::BrownianIncrements<sdeflow::brownian_increments, X2>);
static_assert(sdeflow::BrownianIncrements<my_noise, Xd>);
static_assert(!sdeflow::BrownianIncrements<good_score, Xd>);
static_assert(sdeflow::OdeStepper<sdeflow::euler, my_ode, Xd>);
static_assert(sdeflow::OdeStepper<sdeflow::heun, my_ode, X2>);
static_assert(sdeflow::OdeStepper<sdeflow::rk4, my_ode, X2n>);
static_assert(!sdeflow::OdeStepper<sdeflow::euler_maruyama, my_scalar_sde, Xd>);
static_assert(sdeflow::SdeStepper<sdeflow::euler_maruyama, my_scalar_sde, Xd>);
static_assert(sdeflow::SdeStepper<sdeflow::euler_maruyama, my_diag_sde, X2>);
static_assert(!sdeflow::SdeStepper<sdeflow::euler_maruyama, my_ode, Xd>);
static_assert(!sdeflow::SdeStepper<sdeflow::rk4, my_scalar_sde, Xd>);

TEST_CASE("concept checks compile", "[concepts]") { SUCCEED("all static_asserts above hold"); }
