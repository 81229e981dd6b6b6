//! # Maximum-entropy inverse reinforcement learning (Ziebart et al., 2008)
//!
//! **Background.** An expert acts in an MDP whose dynamics `P(s'|s, a)` are known and whose
//! reward is not; we see only demonstrations, sequences of states `s_0, s_1, …`. The reward is
//! modelled as linear in state features, `r_θ(s) = θᵀ f(s)`. Many rewards explain the same
//! behaviour (zero explains everything), so Ziebart et al. pick, among the (soft) policies whose
//! expected feature counts equal the expert's, the one of maximum causal entropy. Its dual is
//! maximum likelihood: the expert is modelled as *soft-optimal*, choosing actions with
//! probability `π_θ(a|s) = exp(Q(s, a) − V(s))`, where `Q` and `V` solve the soft Bellman
//! equations (a log-sum-exp in place of the max). The log-likelihood is concave in `θ`, and its
//! gradient is the gap between the expert's feature counts and the model's.
//!
//! This implementation uses the **discounted, infinite-horizon** form (Ziebart's original has a
//! finite horizon and no discount): counts are weighted by `γᵗ`, the soft policy is stationary,
//! and the forward pass runs until `γᵗ` is below a tolerance. The expert's counts are
//! discounted the same way, so demonstrations should be long enough that `γ^H` is negligible.
//! Counts and visitations are normalised by `1 − γ` (the weights `(1 − γ) γᵗ` sum to one), so
//! `D` is the discounted state distribution and, with one-hot features, `f̃` a distribution
//! over features: a feature-count gap of 0.01 means one percent of the visitation.
//! A transition with `terminated = true` ends the path: its `s'` is neither bootstrapped from
//! nor visited (as in [`crate::tabular`], and as an episode recorded from an [`Env`](crate::env::Env) ends).
//!
//! **Key equations.**
//!
//! $$ r_\theta(s) = \theta^{\top} f(s) \qquad \text{(linear reward)} $$
//! $$ Q(s, a) = r_\theta(s) + \gamma \sum_{s'} P(s' \mid s, a) V(s') \qquad \text{(soft Bellman backup)} $$
//! $$ V(s) = \log \sum_a \exp Q(s, a) , \qquad \pi_\theta(a \mid s) = \exp\big(Q(s, a) - V(s)\big) $$
//! $$ \mu_0(s) = \text{fraction of demonstrations that start in } s $$
//! $$ \mu_{t+1}(s') = \sum_{s, a} \mu_t(s) \pi_\theta(a \mid s) P(s' \mid s, a) \qquad \text{(forward pass)} $$
//! $$ D(s) = (1 - \gamma) \sum_t \gamma^t \mu_t(s) \qquad \text{(discounted visitation)} $$
//! $$ \tilde f = (1 - \gamma) \frac{1}{N} \sum_i \sum_t \gamma^t f(s_t^i) \qquad \text{(expert feature counts)} $$
//! $$ L(\theta) = \theta^{\top} \tilde f - (1 - \gamma) \sum_s \mu_0(s) V(s) \qquad \text{(log-likelihood)} $$
//! $$ \nabla_\theta L = \tilde f - \sum_s D(s) f(s) $$
//!
//! $L(\theta)$ is the discounted log-likelihood
//! $(1 - \gamma) \mathbb E\big[\sum_t \gamma^t \log \pi_\theta(a_t \mid s_t)\big]$ of the
//! demonstrations with the randomness of the dynamics averaged out: $\log \pi = Q - V$
//! telescopes along a path. Its gradient follows from
//! $\partial V(s) / \partial \theta = \sum_t \gamma^t \mathbb E\big[f(s_t) \mid s_0 = s\big]$.
//!
//! **Pseudocode.**
//!
//! ```text
//! f̃, μ_0 ← from the demonstrations;  θ ← 0
//! for k = 1, …, K:
//!     r ← F θ
//!     Q, V, π ← soft value iteration on r
//!     D ← forward pass of π from μ_0
//!     g ← f̃ − Fᵀ D                      (stop if ‖g‖∞ < tolerance)
//!     θ ← Adam step on −g               (ascent on L)
//! ```
//!
//! ## Files
//! - [`config`](mod@config): the options and their ranges;
//! - [`soft`](mod@soft): soft value iteration and the planners of a state reward;
//! - [`visitation`](mod@visitation): the forward pass, feature counts, and the demonstrations;
//! - [`loss`](mod@loss): `L(θ)` and `∇_θ L` at one `θ`, as pure functions;
//! - [`train`](mod@train): the loop (Adam ascent on `L`).

pub mod config;
pub mod loss;
pub mod soft;
pub mod train;
pub mod visitation;

pub use config::MaxEntConfig;
pub use loss::{Evaluation, Problem, evaluate, log_likelihood};
pub use soft::{SoftSolution, optimal_policy, soft_value_iteration, state_reward_model};
pub use train::{MaxEntIrl, MaxEntIteration, maxent_irl};
pub use visitation::{
    expert_feature_counts, feature_counts, initial_distribution, sample_demonstrations,
    state_visitation,
};
