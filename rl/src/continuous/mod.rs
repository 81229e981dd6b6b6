//! # What DDPG, TD3, SAC and DIAYN share: critics, the deterministic actor, their parameters
//!
//! ## Background
//! DDPG, TD3 and SAC all learn an action-value function `Q_φ(s, a)` from replayed transitions
//! and improve a policy by following `∇_a Q_φ(s, a)`. What they share lives here; what makes
//! each one itself (its targets, its policy, its losses) lives in its own file.
//!
//! ## Key equations
//! - **Action scaling.** The policies act in the unit box `ã ∈ [−1, 1]^|A|` (a `tanh` output);
//!   the environment receives `a = low + (ã + 1)/2 · (high − low)`. The replay buffer stores
//!   `ã`, so the critics and the exploration noise always see the unit box, whatever the
//!   environment's bounds (as Stable-Baselines3 does).
//! - **Critic.** `Q_φ(s, a) = f_φ([s; a])`, an MLP on the concatenated state and action.
//!   TD3 and SAC keep two, `Q_φ1, Q_φ2` ([`TwinQ`]), and use the smaller estimate.
//! - **Deterministic policy gradient** (DDPG and TD3): `μ_θ(s) = tanh(f_θ(s))` and
//!   `L(θ) = −E_{s~D}[Q_φ(s, μ_θ(s))]` ([`deterministic_policy_loss`]), whose gradient is
//!   `−E_s[∇_a Q_φ(s, a)|_{a=μ_θ(s)} ∇_θ μ_θ(s)]`.
//! - **Exploration noise** and **action scaling** belong to the shared loop,
//!   [`crate::common::off_policy`] (the policies act in the unit box `[−1, 1]^|A|`; the replay
//!   stores unit-box actions; the environment receives them scaled to its bounds).
//! - **Polyak averaging** of target networks, `φ̄ ← τ φ + (1 − τ) φ̄`, is
//!   [`nn::ParamStore::polyak_from`].
//!
//! ## What else they share
//! The loop, [`crate::common::off_policy`]: each algorithm is a
//! [`Learner`](crate::common::off_policy::Learner) (its policy and its update) that the loop
//! drives. [`Parameters`] holds `θ`, `φ`, their targets and their optimisers, lists them as
//! resumable parts and merges them into the agent's store.
//!
//! ## Files
//! - [`networks`](mod@networks): `Q_φ`, `(Q_φ1, Q_φ2)`, `μ_θ` and the deterministic policy gradient loss;
//! - [`transitions`](mod@transitions): a replayed batch as constants;
//! - [`parameters`](mod@parameters): the stores, targets and optimisers;
//! - [`soft_actor_critic`](mod@soft_actor_critic): the soft target, the twin critics' and the
//!   squashed-Gaussian actor's losses, and their gradient step (SAC and DIAYN);
//! - [`agent`](mod@agent): the trained agent.

pub mod agent;
pub mod networks;
pub mod parameters;
pub mod soft_actor_critic;
pub mod transitions;

pub use agent::{ContinuousAgent, PolicyHead, merge_stores, to_rows};
pub use networks::{
    DeterministicActor, LOG_STD_MAX, LOG_STD_MIN, Network, QNetwork, SquashedGaussianActor, TwinQ,
    deterministic_policy_loss,
};
pub use parameters::{Parameters, dimensions};
pub use transitions::{Transitions, mean};
