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
//!   [`shared_actor_critic`]: the shared-trunk variant.
//! - [`rollout`]: the on-policy agents' rollout of `T` steps in `N` environments, with the
//!   observation and reward normalisers and `V(s_{t+1})` bootstrapped on truncation only.
//! - Policy-gradient agents: [`reinforce`] (vanilla policy gradient with a learned baseline),
//!   [`a2c`], [`ppo`], and [`trpo`] (natural policy gradient and TRPO: Fisher-vector products
//!   from autograd, conjugate gradient, the step to the KL radius, the KL-constrained line search).
//! - [`dqn`]: DQN with ε-greedy exploration, replay, a target network, the Huber loss and
//!   gradient clipping, and the switches Double DQN, dueling heads, prioritised replay and
//!   n-step returns.
//! - [`ddpg`], [`td3`], [`sac`]: off-policy actor-critics for continuous actions (deterministic
//!   policy gradient; twin critics, target smoothing and delayed updates; the maximum-entropy
//!   tanh-Gaussian with automatic temperature), sharing [`continuous`]'s critics, exploration
//!   noise and action scaling.
//! - [`train`]: what every trainer shares (metrics, errors, the [`train::Agent`] trait,
//!   deterministic evaluation); [`algorithms`]: the registry that trains any of them by name.
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
pub mod rollout;
// pub mod shared_actor_critic;
pub mod snapshot;
pub mod tabular;
pub mod train;
pub mod vtrace;
