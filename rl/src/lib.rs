//! # wengert-rl — reinforcement learning
//!
//! - [`env`](mod@env): Gymnasium's environment contract ([`env::Env`]: `reset(seed)`, `step(action)` with
//!   `terminated` and `truncated`; self-describing spaces; errors for invalid actions and for
//!   stepping a finished episode), the [`env::TimeLimit`] and [`env::EpisodeStatistics`]
//!   wrappers, a multi-threaded auto-resetting [`env::VectorEnv`], the classic-control tasks
//!   reproducing Gymnasium's dynamics exactly (CartPole-v1, Pendulum-v1, MountainCar-v0,
//!   MountainCarContinuous-v0, Acrobot-v1, each with get/set of its physical state), and the
//!   tabular worlds FrozenLake and a configurable gridworld, which expose `P(s', r | s, a)`.
//! - [`tabular`]: dynamic programming on a known model — policy evaluation, value iteration,
//!   policy iteration, modified policy iteration — and model-free tabular Q-learning and SARSA.
//!
//! - [`advantage`]: reward-to-go, TD residuals and GAE(λ), bootstrapping on truncation but not
//!   on termination; [`vtrace`]: IMPALA's off-policy V-trace targets and advantages (truncated
//!   importance weights `ρ̄`, `c̄`); [`normalize`]: running observation and reward normalisation.
//! - [`buffers`]: replay storage for off-policy agents — a uniform ring buffer, prioritised
//!   replay on a sum tree with importance-sampling weights, and n-step transitions.
//! - [`irl`]: inverse RL — maximum-entropy IRL (Ziebart et al., 2008) on a tabular model.
//! - [`policy`]: actor-critic networks (categorical or diagonal-Gaussian heads);
//!   [`shared_actor_critic`]: the shared-trunk variant; [`recurrent_policy`]: the LSTM
//!   actor-critic of recurrent PPO (state carried across steps, reset at episode starts); [`continuous`]: the critics,
//!   deterministic actors and parameters of DDPG, TD3 and SAC; [`q_network`]: DQN's networks.
//! - [`rollout`]: the on-policy agents' rollout of `T` steps in `N` environments, with the
//!   observation and reward normalisers and `V(s_{t+1})` bootstrapped on truncation only;
//!   [`unroll`]: the fixed-length trajectories of IMPALA's actors, batched for its learner;
//!   [`unroll_network`]: the MLP or LSTM actor-critic they run (the LSTM's state carried by the
//!   actors, rerun by the learner from each trajectory's start).
//! - [`common`]: what every trainer shares — configurations as data (`rl/presets/*.toml`, one
//!   validator of declared ranges), the [`common::trainer::Trainer`] trait and the one loop
//!   around it (resume, metrics, snapshots), the on-policy environments and batch, and the
//!   off-policy loop (collect → replay → update, with exploration, written once for DQN, DDPG,
//!   TD3 and SAC);
//!   [`exec`]: parallel work below the algorithms (two independent gradients on two cores, bit
//!   for bit the sequential result; IMPALA's actor threads and queue); [`train`]: metrics, errors, the [`train::Agent`] trait and
//!   deterministic evaluation; [`snapshot`]: the training state.
//! - [`algorithms`]: one file per algorithm — REINFORCE, A2C, PPO, TRPO/NPG, DQN (Double,
//!   dueling, prioritised, n-step), DDPG, TD3, SAC, IMPALA — each in the same order (math header, config,
//!   loss functions, update, loop), none importing another; and the registry that trains any of
//!   them by name.
//!
//! Each algorithm module opens with its math (background, key equations, pseudocode), and its
//! code follows the same names in the same order.

pub mod advantage;
pub mod algorithms;
pub mod buffers;
pub mod common;
pub mod continuous;
pub mod env;
pub mod exec;
pub mod irl;
pub mod normalize;
pub mod policy;
pub mod q_network;
pub mod recurrent_policy;
pub mod recurrent_q_network;
pub mod recurrent_replay;
pub mod recurrent_rollout;
pub mod rollout;
pub mod shared_actor_critic;
pub mod snapshot;
pub mod tabular;
pub mod train;
pub mod unroll;
pub mod unroll_network;
pub mod value_rescaling;
pub mod vtrace;
