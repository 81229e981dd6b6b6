//! # What DDPG, TD3 and SAC share: critics, the deterministic actor, exploration, the loop
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
//! - **Exploration noise** ([`ActionNoise`]), added to `ã` and clipped back into `[−1, 1]`:
//!   Gaussian `ε_t ~ N(0, σ² I)`, or Ornstein–Uhlenbeck (temporally correlated, as DDPG's
//!   paper uses) `x_{t+1} = x_t + θ (0 − x_t) dt + σ √dt ξ_t`, `ξ_t ~ N(0, I)`, reset to 0 at
//!   every episode start.
//! - **Polyak averaging** of target networks, `φ̄ ← τ φ + (1 − τ) φ̄`, is
//!   [`ParamStore::polyak_from`].
//!
//! ## The loop they share
//! One iteration of [`OffPolicy::iterate`] is `log_interval` environment steps of
//! ```text
//! for t = …:
//!     ã ← uniform in [−1, 1]^|A| while t ≤ learning_starts, else the policy's action (+ noise)
//!     step the environment with a = scale(ã); store (s, ã, r, s', terminated) in D
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times:
//!         sample a batch B from D; the algorithm's update on B        (Learner::update)
//! ```
//! then a report of the mean of each loss over the iteration's gradient steps.
//!
//! ## Files
//! - [`networks`](mod@networks): `Q_φ`, `(Q_φ1, Q_φ2)`, `μ_θ` and the deterministic policy gradient loss;
//! - [`noise`](mod@noise): the exploration noise and the standard normal draws;
//! - [`scale`](mod@scale): unit box ↔ environment bounds;
//! - [`transitions`](mod@transitions): a replayed batch as constants;
//! - [`collector`](mod@collector) and [`off_policy`](mod@off_policy): the environment, the replay buffer and the loop;
//! - [`agent`](mod@agent): the trained agent.

pub mod agent;
pub mod collector;
pub mod networks;
pub mod noise;
pub mod off_policy;
pub mod scale;
pub mod transitions;

pub use agent::{ContinuousAgent, PolicyHead, merge_stores, to_rows};
pub use collector::Collector;
pub use networks::{DeterministicActor, QNetwork, TwinQ, deterministic_policy_loss};
pub use noise::{ActionNoise, NoiseProcess, standard_normal, standard_normal_array};
pub use off_policy::{Averages, Learner, OffPolicy, Schedule};
pub use scale::ActionScale;
pub use transitions::{Transitions, mean};
