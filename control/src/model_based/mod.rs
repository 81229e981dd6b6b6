//! Model-based RL: neural-network dynamics, MPC on the learned model, and DAgger-style data
//! aggregation — the model-based part ("MBMPC") of Nagabandi et al., 2018, *Neural Network
//! Dynamics for Model-Based Deep Reinforcement Learning with Model-Free Fine-Tuning*.
//!
//! ## Background
//!
//! The task's reward `r(s, a)` is known; its dynamics are not. Learn them from transitions
//! `(s, a, s')` with a neural network, then act by planning with that network: at every step,
//! search for the action sequence whose predicted return over a short horizon is best, apply
//! its first action, and plan again at the next state (model-predictive control). A model fitted
//! only to random-action data is wrong exactly where the planner wants to go (e.g. near upright
//! for the pendulum), so the transitions the controller itself visits are added to the data set
//! and the model is refitted: the data set follows the controller's state distribution, as in
//! DAgger (Ross et al., 2011).
//!
//! ## Key equations
//!
//! The model predicts the *change* of state from normalised inputs, and its output is
//! normalised too, with statistics of the data set `𝒟`:
//!
//! $$ z = [s; a] , \quad \hat z = (z - \mu_z) \oslash \sigma_z , \quad \Delta = s' - s , \quad
//!    \hat\Delta = (\Delta - \mu_\Delta) \oslash \sigma_\Delta , $$
//! $$ \hat f_\phi(s, a) = s + \mu_\Delta + \sigma_\Delta \circ \Delta_\phi(\hat z) \qquad
//!    (\Delta_\phi \text{ an MLP}) , $$
//! $$ L(\phi) = \frac{1}{|\mathcal B|} \sum_{(s,a,s') \in \mathcal B} \frac1n
//!    \big\Vert \Delta_\phi(\hat z) - \hat\Delta \big\Vert^2 \qquad
//!    (\text{minibatch } \mathcal B \subset \mathcal D, \text{ Adam on } \nabla_\phi L) $$
//!
//! Planning at state `s_t` (the cross-entropy method, [`CrossEntropyMethod`](crate::planners::CrossEntropyMethod), on the model):
//!
//! $$ a_t \dots a_{t+H-1} = \arg\max \sum_{k=0}^{H-1} r(\hat s_{t+k}, a_{t+k}) + r(\hat s_{t+H}, 0) ,
//!    \qquad \hat s_t = s_t , \quad \hat s_{k+1} = \hat f_\phi(\hat s_k, a_k) $$
//!
//! For Pendulum-v1 (observation `[cos θ, sin θ, θ̇]`) the reward is
//! `r = −(θ_norm² + 0.1 θ̇² + 0.001 u²)` with `θ = atan2(sin θ, cos θ)` ([`pendulum_v1_cost`]).
//!
//! Backpropagating through the learned model into a policy `π_θ` (analytic policy gradient;
//! [`train_policy_through_model`]), with `ℓ = −r` and `ℓ_T(s) = ℓ(s, 0)`:
//!
//! $$ J(\theta) = \frac1B \sum_b \Big[ \sum_{t=0}^{H-1} \ell\big(\hat s_t, \pi_\theta(\hat s_t)\big) + \ell_T(\hat s_H) \Big] ,
//!    \qquad \hat s_0 = s_0^{(b)} , \quad \hat s_{t+1} = \hat f_\phi\big(\hat s_t, \pi_\theta(\hat s_t)\big) , $$
//! $$ \theta \leftarrow \operatorname{Adam}(\theta, \nabla_\theta J) $$
//!
//! with $\nabla_\theta J$ by reverse mode through all $H$ steps of $\hat f_\phi$ and $\pi_\theta$
//! ($\phi$ fixed).
//!
//! ## Pseudocode
//!
//! ```text
//! 𝒟 ← transitions of `random_episodes` episodes with uniformly random actions
//! for round = 1, …, rounds:
//!     μ_z, σ_z, μ_Δ, σ_Δ ← statistics of 𝒟
//!     fit φ: `epochs` passes of minibatch Adam on L over the training part of 𝒟
//!     report L on the held-out part of 𝒟 (every `validation_every`-th transition)
//!     for each of `episodes_per_round` episodes in the real environment:
//!         at each s_t: plan with CEM on f̂_φ, apply a_t, record (s_t, a_t, s_{t+1})
//!     𝒟 ← 𝒟 ∪ those transitions
//!
//! policy through the model (separately, given f̂_φ and start states):
//!     repeat: draw B start states; J ← rollout of π_θ on f̂_φ for H steps; θ ← Adam(θ, ∇_θ J)
//! ```
//!
//! ## Documentation
//!
//! [`DynamicsModel`] is the model, with its forward pass on autograd variables
//! ([`DynamicsModel::next_state`]), so the control crate's [`Problem`](crate::ilqr::Problem) can call it as its
//! dynamics ([`learned_problem`]) and gradients can flow through it. [`fit`] trains it;
//! [`run`] is the whole loop under an [`MbmpcConfig`], returning [`RoundMetrics`] per round.
//!
//! [`ModelPolicy`], [`model_rollout_cost`] and [`train_policy_through_model`] backpropagate
//! through the learned model into a policy (checked against LQR on a learned linear system);
//! they are not part of [`run`]'s loop.
//!
//! **Not built:** the second half of the paper (model-free fine-tuning, initialised by imitating
//! the MPC controller); a policy trained through the model on Pendulum-v1 (its cost,
//! [`pendulum_v1_cost`], has no gradient in the angle).
//!
//! **Where this lives.** The model needs `nn` (MLP, Adam); the loop acts in any
//! [`Plant`](crate::plant::Plant), so `control` does not depend on `rl`: the `wengert` facade
//! adapts `rl`'s environments (`wengert::plant::GymPlant`), and `tests/mpc_pendulum.rs` runs the
//! loop on Pendulum-v1.

#![allow(non_snake_case)]

mod data;
mod dynamics;
mod mbmpc;
mod policy;
#[cfg(test)]
mod tests;

pub use data::*;
pub use dynamics::*;
pub use mbmpc::*;
pub use policy::*;
