// SPDX-License-Identifier: MIT
#pragma once
/// \file sdeflow.hpp
/// Umbrella header: everything sdeflow offers. Layers, bottom to top (a header includes only its own
/// layer and those below it):
/// core -> noise -> io -> processes -> scores -> models -> dynamics -> integrators -> diagnostics ->
/// likelihood -> samplers (engine, then the samplers on it).
/// The optional MPI component (sdeflow/mpi/mpi.hpp, CMake target sdeflow::mpi) is not included here.

#include <sdeflow/version.hpp>
#include <sdeflow/core/checked_call.hpp>
#include <sdeflow/core/concepts.hpp>
#include <sdeflow/core/dual.hpp>
#include <sdeflow/core/error.hpp>
#include <sdeflow/core/execution.hpp>
#include <sdeflow/core/noise_types.hpp>
#include <sdeflow/core/observer.hpp>
#include <sdeflow/core/progress.hpp>
#include <sdeflow/core/time_grid.hpp>
#include <sdeflow/core/types.hpp>

#include <sdeflow/noise/brownian_increments.hpp>
#include <sdeflow/noise/brownian_tree.hpp>
#include <sdeflow/noise/random.hpp>
#include <sdeflow/noise/sources.hpp>

#include <sdeflow/io/npy.hpp>
#include <sdeflow/io/safetensors.hpp>

#include <sdeflow/processes/affine.hpp>
#include <sdeflow/processes/beta_schedules.hpp>
#include <sdeflow/processes/brownian_motion.hpp>
#include <sdeflow/processes/discrete_schedule.hpp>
#include <sdeflow/processes/edm.hpp>
#include <sdeflow/processes/geometric_brownian_motion.hpp>
#include <sdeflow/processes/ornstein_uhlenbeck.hpp>
#include <sdeflow/processes/rectified_flow.hpp>
#include <sdeflow/processes/variance_exploding.hpp>
#include <sdeflow/processes/variance_preserving.hpp>

#include <sdeflow/scores/gaussian_mixture.hpp>

#include <sdeflow/models/adapters.hpp>
#include <sdeflow/models/guidance.hpp>
#include <sdeflow/models/mlp.hpp>
#include <sdeflow/models/parameterization.hpp>

#include <sdeflow/dynamics/divergence.hpp>
#include <sdeflow/dynamics/probability_flow.hpp>
#include <sdeflow/dynamics/reverse_sde.hpp>
#include <sdeflow/dynamics/user_systems.hpp>

#include <sdeflow/integrators/adaptive_sde.hpp>
#include <sdeflow/integrators/dormand_prince.hpp>
#include <sdeflow/integrators/euler.hpp>
#include <sdeflow/integrators/euler_maruyama.hpp>
#include <sdeflow/integrators/heun.hpp>
#include <sdeflow/integrators/integrate.hpp>
#include <sdeflow/integrators/milstein.hpp>
#include <sdeflow/integrators/rk4.hpp>
#include <sdeflow/integrators/sra1.hpp>
#include <sdeflow/integrators/sriw1.hpp>
#include <sdeflow/integrators/stochastic_heun.hpp>

#include <sdeflow/diagnostics/convergence.hpp>
#include <sdeflow/diagnostics/distances.hpp>
#include <sdeflow/diagnostics/mixture_mmd.hpp>
#include <sdeflow/diagnostics/moments.hpp>
#include <sdeflow/diagnostics/streaming.hpp>

#include <sdeflow/likelihood.hpp>

#include <sdeflow/samplers/ddim.hpp>
#include <sdeflow/samplers/dpm_adaptive.hpp>
#include <sdeflow/samplers/dpm_solvers.hpp>
#include <sdeflow/samplers/engine.hpp>
#include <sdeflow/samplers/k_samplers.hpp>
#include <sdeflow/samplers/langevin.hpp>
#include <sdeflow/samplers/ode_sde.hpp>
#include <sdeflow/samplers/schedule_search.hpp>
#include <sdeflow/samplers/schedules.hpp>
#include <sdeflow/samplers/unipc.hpp>
