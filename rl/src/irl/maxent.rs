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
//! nor visited (as in [`crate::tabular`], and as an episode recorded from an [`Env`] ends).
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

use ndarray::{Array1, Array2, ArrayView1};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{ParamGradients, ParamId, ParamStore};

use crate::env::{Action, Env, EnvError, Space, TabularModel, Transition};
use crate::tabular::{Policy, value_iteration};
use crate::train::TrainError;

/// Maximum-entropy IRL's options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaxEntConfig {
    /// Discount γ of rewards and of feature counts, in `[0, 1)` (default 0.9).
    pub gamma: f64,
    /// Gradient steps `K` at most (default 300).
    pub iterations: usize,
    /// Adam's learning rate on `θ` (default 0.1; other options are Adam's defaults).
    pub lr: f64,
    /// Stop once the feature-count gap `‖f̃ − Fᵀ D‖∞` is below this (default 1e-4).
    pub gap_tolerance: f64,
    /// Soft value iteration stops when a sweep changes no `V(s)` by this much (default 1e-10).
    pub soft_tolerance: f64,
    /// The forward pass stops when the remaining discounted mass `γᵗ Σ_s μ_t(s)` falls
    /// below this (default 1e-10).
    pub visitation_tolerance: f64,
}

impl Default for MaxEntConfig {
    fn default() -> Self {
        MaxEntConfig {
            gamma: 0.9,
            iterations: 300,
            lr: 0.1,
            gap_tolerance: 1e-4,
            soft_tolerance: 1e-10,
            visitation_tolerance: 1e-10,
        }
    }
}

impl MaxEntConfig {
    fn validate(&self) -> Result<(), TrainError> {
        let bad = |message: String| Err(TrainError::Config(format!("MaxEnt IRL: {message}")));
        if !(0.0..1.0).contains(&self.gamma) {
            return bad(format!("gamma = {} must lie in [0, 1)", self.gamma));
        }
        if self.iterations == 0 {
            return bad("iterations must be at least 1".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("lr = {} must be positive and finite", self.lr));
        }
        for (name, value) in [
            ("gap_tolerance", self.gap_tolerance),
            ("soft_tolerance", self.soft_tolerance),
            ("visitation_tolerance", self.visitation_tolerance),
        ] {
            if !(value >= 0.0 && value.is_finite()) {
                return bad(format!("{name} = {value} must be non-negative and finite"));
            }
        }
        for (name, value) in [
            ("soft_tolerance", self.soft_tolerance),
            ("visitation_tolerance", self.visitation_tolerance),
        ] {
            if value == 0.0 {
                return bad(format!("{name} must be positive, or the loop never ends"));
            }
        }
        Ok(())
    }
}

/// The soft-optimal solution for one reward: `Q`, `V` and `π(a|s) = exp(Q − V)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftSolution {
    /// `Q(s, a)` as `q[s][a]`.
    pub q: Vec<Vec<f64>>,
    /// `V(s) = log Σ_a exp Q(s, a)`.
    pub values: Vec<f64>,
    /// `π(a|s)` as `policy[s][a]`.
    pub policy: Vec<Vec<f64>>,
    /// Number of soft Bellman sweeps.
    pub sweeps: usize,
}

/// One iteration of [`maxent_irl`], at the `θ` before its update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaxEntIteration {
    /// 1-based iteration number.
    pub iteration: usize,
    /// `L(θ) = θᵀ f̃ − (1 − γ) Σ_s μ_0(s) V(s)`.
    pub log_likelihood: f64,
    /// `‖f̃ − Fᵀ D‖∞`.
    pub feature_gap: f64,
}

/// What [`maxent_irl`] learned, all at the final `θ`.
pub struct MaxEntIrl {
    /// Holds `θ` under the name `theta`.
    pub store: ParamStore<f64>,
    /// The id of `θ` in `store`.
    pub theta: ParamId,
    /// `r_θ(s) = θᵀ f(s)` for every state.
    pub reward: Vec<f64>,
    /// Soft `Q`, `V`, `π` under `r_θ`.
    pub soft: SoftSolution,
    /// `D(s)` under the soft policy.
    pub visitation: Vec<f64>,
    /// The expert's discounted feature counts `f̃`.
    pub expert_feature_counts: Array1<f64>,
    /// The model's discounted feature counts `Fᵀ D`.
    pub feature_counts: Array1<f64>,
    /// One entry per iteration.
    pub history: Vec<MaxEntIteration>,
}

impl MaxEntIrl {
    /// `θ` as a vector.
    pub fn theta(&self) -> Array1<f64> {
        let theta = self.store.value(self.theta);
        Array1::from_iter(theta.iter().copied())
    }

    /// The final feature-count gap `‖f̃ − Fᵀ D‖∞`.
    pub fn feature_gap(&self) -> f64 {
        sup_norm(&(&self.expert_feature_counts - &self.feature_counts))
    }
}

/// The model with the same dynamics and the reward `r(s)` of the state being left on every
/// outcome, so that [`crate::tabular`]'s planners solve the MDP of a state reward.
///
/// ```
/// use wengert_rl::env::Gridworld;
/// use wengert_rl::irl::state_reward_model;
/// let world = Gridworld::russell_norvig();
/// let reward: Vec<f64> = (0..12).map(|s| s as f64).collect();
/// let model = state_reward_model(world.model(), &reward);
/// assert!(model.outcomes(9, 2).iter().all(|t| t.reward == 9.0));
/// ```
pub fn state_reward_model(model: &TabularModel, reward: &[f64]) -> TabularModel {
    assert_eq!(
        reward.len(),
        model.num_states(),
        "state_reward_model: one reward per state"
    );
    let (num_states, num_actions) = (model.num_states(), model.num_actions());
    let outcomes = (0..num_states)
        .flat_map(|s| (0..num_actions).map(move |a| (s, a)))
        .map(|(s, a)| {
            model
                .outcomes(s, a)
                .iter()
                .map(|t| Transition {
                    reward: reward[s],
                    ..*t
                })
                .collect()
        })
        .collect();
    TabularModel::new(
        num_states,
        num_actions,
        outcomes,
        model.initial_distribution().to_vec(),
    )
}

/// An optimal deterministic policy for the state reward `r(s)`, by value iteration (to a
/// sup-norm change of 1e-12) on [`state_reward_model`].
///
/// ```
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::optimal_policy;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SSS", noiseless).unwrap();
/// // Reward only in the right-hand cell: move right (2), then stay there (any move but left).
/// let policy = optimal_policy(corridor.model(), &[0.0, 0.0, 1.0], 0.9);
/// assert!(policy[0] == 2 && policy[1] == 2 && policy[2] != 0);
/// ```
pub fn optimal_policy(model: &TabularModel, reward: &[f64], gamma: f64) -> Policy {
    value_iteration(&state_reward_model(model, reward), gamma, 1e-12).policy
}

/// `log Σ_i exp x_i`, shifted by the maximum so that no term overflows.
fn log_sum_exp(x: &[f64]) -> f64 {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + x.iter().map(|&xi| (xi - max).exp()).sum::<f64>().ln()
}

/// `Q(s, a) = r(s) + γ Σ_{s'} P(s'|s, a) V(s')` for every `(s, a)` (no bootstrap on termination).
// ANCHOR: soft_action_values
fn soft_action_values(
    model: &TabularModel,
    reward: &[f64],
    values: &[f64],
    gamma: f64,
) -> Vec<Vec<f64>> {
    (0..model.num_states())
        .map(|s| {
            (0..model.num_actions())
                .map(|a| {
                    let expected_next_value: f64 = model
                        .outcomes(s, a)
                        .iter()
                        .filter(|t| !t.terminated)
                        .map(|t| t.probability * values[t.next_state])
                        .sum();
                    reward[s] + gamma * expected_next_value
                })
                .collect()
        })
        .collect()
}
// ANCHOR_END: soft_action_values

/// Soft value iteration: iterate `Q ← r + γ P V`, `V ← log Σ_a exp Q` from `V = 0` until no
/// `V(s)` changes by `tolerance`; then `π(a|s) = exp(Q(s, a) − V(s))`. The soft backup is a
/// `γ`-contraction, like the hard one. Panics unless `0 ≤ γ < 1`.
///
/// ```
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::soft_value_iteration;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SS", noiseless).unwrap();
/// let soft = soft_value_iteration(corridor.model(), &[0.0, 1.0], 0.5, 1e-12);
/// // In the left cell, left/up/down stay (3 actions) and right moves on: π(right) is the
/// // largest, and every π(·|s) sums to one.
/// assert!(soft.policy[0][2] > soft.policy[0][0]);
/// assert!(soft.policy.iter().all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-12));
/// ```
pub fn soft_value_iteration(
    model: &TabularModel,
    reward: &[f64],
    gamma: f64,
    tolerance: f64,
) -> SoftSolution {
    soft_value_iteration_from(
        model,
        reward,
        vec![0.0; model.num_states()],
        gamma,
        tolerance,
    )
}

/// [`soft_value_iteration`] from given values (each IRL step warm-starts from the last).
fn soft_value_iteration_from(
    model: &TabularModel,
    reward: &[f64],
    mut values: Vec<f64>,
    gamma: f64,
    tolerance: f64,
) -> SoftSolution {
    assert!(
        (0.0..1.0).contains(&gamma),
        "soft_value_iteration: γ = {gamma} must lie in [0, 1) for convergence"
    );
    assert_eq!(
        reward.len(),
        model.num_states(),
        "soft_value_iteration: one reward per state"
    );
    let mut sweeps = 0;
    let q = loop {
        let q = soft_action_values(model, reward, &values, gamma);
        let next: Vec<f64> = q.iter().map(|q_s| log_sum_exp(q_s)).collect();
        sweeps += 1;
        let delta = next
            .iter()
            .zip(&values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        values = next;
        if delta < tolerance {
            // Q consistent with the returned V, so that π = exp(Q − V) sums to one.
            break soft_action_values(model, reward, &values, gamma);
        }
    };
    values = q.iter().map(|q_s| log_sum_exp(q_s)).collect();
    let policy = q
        .iter()
        .zip(&values)
        .map(|(q_s, &v_s)| q_s.iter().map(|&q_sa| (q_sa - v_s).exp()).collect())
        .collect();
    SoftSolution {
        q,
        values,
        policy,
        sweeps,
    }
}

/// The forward pass: `D(s) = (1 − γ) Σ_t γᵗ μ_t(s)` with `μ_{t+1}(s') = Σ_{s,a} μ_t(s) π(a|s) P(s'|s, a)`
/// (terminating outcomes leave), run until `γᵗ Σ_s μ_t(s) < tolerance`.
///
/// ```
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::state_visitation;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SS", noiseless).unwrap();
/// let always_right = vec![vec![0.0, 0.0, 1.0, 0.0]; 2];
/// let d = state_visitation(corridor.model(), &always_right, &[1.0, 0.0], 0.5, 1e-14);
/// // One step in the left cell, then the right cell forever: D = (1 − γ) (1, γ / (1 − γ)).
/// assert!((d[0] - 0.5).abs() < 1e-12 && (d[1] - 0.5).abs() < 1e-12);
/// ```
// ANCHOR: state_visitation
pub fn state_visitation(
    model: &TabularModel,
    policy: &[Vec<f64>],
    initial: &[f64],
    gamma: f64,
    tolerance: f64,
) -> Vec<f64> {
    let num_states = model.num_states();
    assert!(
        policy.len() == num_states && initial.len() == num_states,
        "state_visitation: need π(·|s) and μ_0(s) for each of the {num_states} states"
    );
    assert!(
        (0.0..1.0).contains(&gamma) && tolerance > 0.0,
        "state_visitation: need 0 ≤ γ < 1 (got {gamma}) and a positive tolerance"
    );
    let mut mu = initial.to_vec();
    let mut visitation = vec![0.0; num_states];
    let mut discount = 1.0;
    while discount * mu.iter().sum::<f64>() >= tolerance {
        for (d, &m) in visitation.iter_mut().zip(&mu) {
            *d += discount * m;
        }
        let mut next = vec![0.0; num_states];
        for (s, &mu_s) in mu.iter().enumerate().filter(|(_, m)| **m != 0.0) {
            for (a, &pi_a) in policy[s].iter().enumerate() {
                for t in model.outcomes(s, a).iter().filter(|t| !t.terminated) {
                    next[t.next_state] += mu_s * pi_a * t.probability;
                }
            }
        }
        mu = next;
        discount *= gamma;
    }
    visitation.iter().map(|d| (1.0 - gamma) * d).collect()
}
// ANCHOR_END: state_visitation

/// `Σ_s D(s) f(s)`: the feature counts of a visitation.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::irl::feature_counts;
/// let features = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// assert_eq!(feature_counts(&features, &[0.5, 2.0, 1.0]), array![1.5, 3.0]);
/// ```
pub fn feature_counts(features: &Array2<f64>, visitation: &[f64]) -> Array1<f64> {
    features.t().dot(&ArrayView1::from(visitation))
}

/// The expert's discounted feature counts `f̃ = (1 − γ) (1/N) Σ_i Σ_t γᵗ f(s_t^i)`.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::irl::expert_feature_counts;
/// let features = array![[1.0], [0.0]];
/// let counts = expert_feature_counts(&[vec![0, 1, 0], vec![1]], &features, 0.5).unwrap();
/// assert_eq!(counts, array![0.5 * (1.0 + 0.25) / 2.0]);
/// assert!(expert_feature_counts(&[vec![0, 2]], &features, 0.5).is_err()); // no state 2
/// ```
pub fn expert_feature_counts(
    demonstrations: &[Vec<usize>],
    features: &Array2<f64>,
    gamma: f64,
) -> Result<Array1<f64>, TrainError> {
    check_demonstrations(demonstrations, features.nrows())?;
    let mut counts = Array1::zeros(features.ncols());
    for path in demonstrations {
        let mut discount = 1.0;
        for &s in path {
            counts.scaled_add(discount, &features.row(s));
            discount *= gamma;
        }
    }
    Ok(counts * ((1.0 - gamma) / demonstrations.len() as f64))
}

/// The empirical distribution `μ_0` of the demonstrations' first states.
///
/// ```
/// use wengert_rl::irl::initial_distribution;
/// let mu0 = initial_distribution(&[vec![0, 1], vec![2], vec![0]], 3).unwrap();
/// assert_eq!(mu0, vec![2.0 / 3.0, 0.0, 1.0 / 3.0]);
/// ```
pub fn initial_distribution(
    demonstrations: &[Vec<usize>],
    num_states: usize,
) -> Result<Vec<f64>, TrainError> {
    check_demonstrations(demonstrations, num_states)?;
    let mut mu0 = vec![0.0; num_states];
    for path in demonstrations {
        mu0[path[0]] += 1.0 / demonstrations.len() as f64;
    }
    Ok(mu0)
}

fn check_demonstrations(
    demonstrations: &[Vec<usize>],
    num_states: usize,
) -> Result<(), TrainError> {
    let bad = |message: String| Err(TrainError::Config(format!("MaxEnt IRL: {message}")));
    if demonstrations.is_empty() {
        return bad("no demonstrations; expected at least one path of states".into());
    }
    for (i, path) in demonstrations.iter().enumerate() {
        if path.is_empty() {
            return bad(format!(
                "demonstration {i} is empty; expected at least one state"
            ));
        }
        if let Some(&s) = path.iter().find(|&&s| s >= num_states) {
            return bad(format!(
                "demonstration {i} visits state {s}; expected states below {num_states}"
            ));
        }
    }
    Ok(())
}

/// `L(θ) = θᵀ f̃ − (1 − γ) Σ_s μ_0(s) V_θ(s)`, the demonstrations' log-likelihood (see the
/// module doc).
///
/// ```
/// use ndarray::array;
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::log_likelihood;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SS", noiseless).unwrap();
/// let features = array![[1.0, 0.0], [0.0, 1.0]];
/// // At θ = 0 every action is equally likely: V = Σ_t γᵗ log 4, so L = −log 4 (per step).
/// let l = log_likelihood(corridor.model(), &features, &array![0.0, 0.0], &array![1.0, 1.0], &[1.0, 0.0], 0.5, 1e-14);
/// assert!((l + 4f64.ln()).abs() < 1e-12);
/// ```
pub fn log_likelihood(
    model: &TabularModel,
    features: &Array2<f64>,
    theta: &Array1<f64>,
    expert_feature_counts: &Array1<f64>,
    initial: &[f64],
    gamma: f64,
    tolerance: f64,
) -> f64 {
    let reward = features.dot(theta).to_vec();
    let soft = soft_value_iteration(model, &reward, gamma, tolerance);
    likelihood_of(theta, expert_feature_counts, initial, &soft.values, gamma)
}

fn likelihood_of(
    theta: &Array1<f64>,
    expert_feature_counts: &Array1<f64>,
    initial: &[f64],
    values: &[f64],
    gamma: f64,
) -> f64 {
    let expected_initial_value: f64 = initial.iter().zip(values).map(|(m, v)| m * v).sum();
    theta.dot(expert_feature_counts) - (1.0 - gamma) * expected_initial_value
}

fn sup_norm(x: &Array1<f64>) -> f64 {
    x.iter().map(|v| v.abs()).fold(0.0, f64::max)
}

/// Maximum-entropy IRL: learns `θ` of `r_θ(s) = θᵀ f(s)` (`features` has one row `f(s)` per
/// state) from `demonstrations` (paths of states, each starting at its first state) by Adam
/// ascent on `L(θ)`; see the module doc.
///
/// Errors if the configuration is out of range, `features` does not have one row per state or
/// holds a non-finite number, a demonstration is empty or names a state out of range, or `θ`
/// becomes non-finite.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::{MaxEntConfig, maxent_irl, optimal_policy};
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SSS", noiseless).unwrap();
/// let features = array![[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]; // "plain" or "goal"
/// // The expert walks right and stays in the goal cell.
/// let demonstrations = vec![vec![0, 1, 2, 2, 2, 2, 2, 2, 2, 2], vec![1, 2, 2, 2, 2, 2, 2, 2, 2]];
/// let config = MaxEntConfig { gamma: 0.5, ..MaxEntConfig::default() };
/// let learned = maxent_irl(corridor.model(), &features, &demonstrations, &config).unwrap();
/// let theta = learned.theta();
/// assert!(theta[1] > theta[0]); // the goal is worth more
/// let policy = optimal_policy(corridor.model(), &learned.reward, 0.5);
/// assert!(policy[0] == 2 && policy[1] == 2 && policy[2] != 0); // right, then stay
/// ```
pub fn maxent_irl(
    model: &TabularModel,
    features: &Array2<f64>,
    demonstrations: &[Vec<usize>],
    config: &MaxEntConfig,
) -> Result<MaxEntIrl, TrainError> {
    config.validate()?;
    if features.nrows() != model.num_states() {
        return Err(TrainError::Config(format!(
            "MaxEnt IRL: features have {} rows; expected one per state ({})",
            features.nrows(),
            model.num_states()
        )));
    }
    if features.iter().any(|f| !f.is_finite()) {
        return Err(TrainError::Config(
            "MaxEnt IRL: features hold a non-finite number".into(),
        ));
    }
    let gamma = config.gamma;
    let f_expert = expert_feature_counts(demonstrations, features, gamma)?;
    let mu0 = initial_distribution(demonstrations, model.num_states())?;

    let mut store = ParamStore::<f64>::new();
    let theta_id = store
        .root()
        .param("theta", Array1::<f64>::zeros(features.ncols()));
    let mut adam = Adam::new(
        [theta_id],
        AdamConfig {
            lr: config.lr,
            ..AdamConfig::default()
        },
    );

    let mut values = vec![0.0; model.num_states()];
    let mut history = Vec::with_capacity(config.iterations);
    let mut iteration = 0;
    loop {
        let theta = Array1::from_iter(store.value(theta_id).iter().copied());
        if theta.iter().any(|t| !t.is_finite()) {
            return Err(TrainError::NonFinite {
                what: "θ".into(),
                iteration,
                anomaly: None,
            });
        }
        let reward = features.dot(&theta).to_vec();
        let soft = soft_value_iteration_from(model, &reward, values, gamma, config.soft_tolerance);
        let visitation = state_visitation(
            model,
            &soft.policy,
            &mu0,
            gamma,
            config.visitation_tolerance,
        );
        let f_model = feature_counts(features, &visitation);
        let g = &f_expert - &f_model;
        let feature_gap = sup_norm(&g);
        if iteration == config.iterations || feature_gap < config.gap_tolerance {
            return Ok(MaxEntIrl {
                store,
                theta: theta_id,
                reward,
                soft,
                visitation,
                expert_feature_counts: f_expert,
                feature_counts: f_model,
                history,
            });
        }
        iteration += 1;
        history.push(MaxEntIteration {
            iteration,
            log_likelihood: likelihood_of(&theta, &f_expert, &mu0, &soft.values, gamma),
            feature_gap,
        });
        // Adam descends, so hand it the gradient of −L.
        let ascent =
            ParamGradients::from_pairs(store.len(), [(theta_id, (-g).into_dyn().into_shared())]);
        adam.step(&store, &ascent);
        values = soft.values;
    }
}

/// Records `episodes` paths of states by following `policy` in `env` for at most `max_steps`
/// steps each (a path ends early when the episode terminates or is truncated; the state it
/// ends in is not recorded, as it is never acted in). The first episode is reset with `seed`,
/// the rest continue the environment's random stream.
///
/// Errors if the environment's observations or actions are not discrete, or a step fails.
///
/// ```
/// use wengert_rl::env::Gridworld;
/// use wengert_rl::irl::sample_demonstrations;
/// let mut world = Gridworld::russell_norvig();
/// let up_then_right = vec![2, 2, 2, 0, 3, 0, 3, 0, 3, 0, 0, 0];
/// let paths = sample_demonstrations(&mut world, &up_then_right, 5, 50, 7).unwrap();
/// assert_eq!(paths.len(), 5);
/// assert!(paths.iter().all(|p| p[0] == 8)); // every episode starts at S
/// ```
pub fn sample_demonstrations<E: Env + ?Sized>(
    env: &mut E,
    policy: &[usize],
    episodes: usize,
    max_steps: usize,
    seed: u64,
) -> Result<Vec<Vec<usize>>, EnvError> {
    let (Space::Discrete { n: num_states }, Space::Discrete { .. }) =
        (env.observation_space(), env.action_space())
    else {
        return Err(EnvError::InvalidConfig(format!(
            "sample_demonstrations: {} must have discrete observations and actions",
            env.id()
        )));
    };
    if policy.len() != *num_states {
        return Err(EnvError::InvalidConfig(format!(
            "sample_demonstrations: the policy has {} actions; expected one per state ({num_states})",
            policy.len()
        )));
    }
    let mut paths = Vec::with_capacity(episodes);
    for episode in 0..episodes {
        let mut s = env.reset((episode == 0).then_some(seed))[0] as usize;
        let mut path = Vec::with_capacity(max_steps);
        for _ in 0..max_steps {
            path.push(s);
            let step = env.step(Action::Discrete(policy[s]))?;
            if step.terminated || step.truncated {
                break;
            }
            s = step.observation[0] as usize;
        }
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Gridworld, GridworldRewards};
    use ndarray::array;

    fn noisy_world() -> Gridworld {
        Gridworld::new(
            "SSSS\nS#SS\nSSSS",
            GridworldRewards {
                noise: 0.2,
                ..GridworldRewards::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences_of_the_log_likelihood() {
        let world = noisy_world();
        let model = world.model();
        let n = model.num_states();
        // Three arbitrary features per state, expert counts and start distribution made up.
        let features = Array2::from_shape_fn((n, 3), |(s, k)| ((s * 7 + k * 3) % 5) as f64 / 4.0);
        let f_expert = array![0.4, 0.9, 0.2];
        let mut mu0 = vec![0.0; n];
        (mu0[0], mu0[6], mu0[11]) = (0.5, 0.25, 0.25);
        let theta = array![0.3, -0.7, 1.1];
        let (gamma, tolerance) = (0.8, 1e-14);

        let reward = features.dot(&theta).to_vec();
        let soft = soft_value_iteration(model, &reward, gamma, tolerance);
        let d = state_visitation(model, &soft.policy, &mu0, gamma, tolerance);
        let analytic = &f_expert - &feature_counts(&features, &d);

        let eps = 1e-5;
        for k in 0..3 {
            let mut plus = theta.clone();
            plus[k] += eps;
            let mut minus = theta.clone();
            minus[k] -= eps;
            let l = |t: &Array1<f64>| {
                log_likelihood(model, &features, t, &f_expert, &mu0, gamma, tolerance)
            };
            let numeric = (l(&plus) - l(&minus)) / (2.0 * eps);
            assert!(
                (numeric - analytic[k]).abs() < 1e-7,
                "∂L/∂θ_{k}: analytic {} vs numeric {numeric}",
                analytic[k]
            );
        }
    }

    #[test]
    fn soft_values_approach_hard_values_as_the_reward_scales_up() {
        // V_soft(c r) / c → V*(r) as c → ∞: log Σ exp is a smooth max.
        let world = noisy_world();
        let model = world.model();
        let reward: Vec<f64> = (0..12).map(|s| ((s * 5) % 7) as f64 / 7.0).collect();
        let hard = value_iteration(&state_reward_model(model, &reward), 0.9, 1e-12);
        let c = 1e4;
        let scaled: Vec<f64> = reward.iter().map(|r| c * r).collect();
        let soft = soft_value_iteration(model, &scaled, 0.9, 1e-9);
        for s in 0..12 {
            assert!((soft.values[s] / c - hard.values[s]).abs() < 1e-2);
        }
    }

    #[test]
    fn bad_input_is_named() {
        let world = noisy_world();
        let features = Array2::zeros((11, 2));
        let error = maxent_irl(
            world.model(),
            &features,
            &[vec![0]],
            &MaxEntConfig::default(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            error.contains("11 rows") && error.contains("(12)"),
            "{error}"
        );
        let features = Array2::zeros((12, 2));
        let error = maxent_irl(world.model(), &features, &[], &MaxEntConfig::default())
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("no demonstrations"), "{error}");
        let config = MaxEntConfig {
            gamma: 1.0,
            ..MaxEntConfig::default()
        };
        let error = maxent_irl(world.model(), &features, &[vec![0]], &config)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("gamma = 1"), "{error}");
    }
}
