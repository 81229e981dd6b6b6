//! # Inverse reinforcement learning
//!
//! Recovering a reward from an expert's behaviour, given the dynamics.
//!
//! - [`maxent`]: maximum-entropy IRL (Ziebart et al., 2008) on a tabular model with a reward
//!   linear in state features — soft value iteration, the forward pass for state visitations,
//!   and gradient ascent on the demonstrations' likelihood with an `nn` optimiser.

pub mod maxent;

pub use maxent::{
    Evaluation, MaxEntConfig, MaxEntIrl, MaxEntIteration, Problem, SoftSolution, evaluate,
    expert_feature_counts, feature_counts, initial_distribution, log_likelihood, maxent_irl,
    optimal_policy, sample_demonstrations, soft_value_iteration, state_reward_model,
    state_visitation,
};
