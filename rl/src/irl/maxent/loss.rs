//! The loss: the demonstrations' log-likelihood `L(θ)` and its gradient `∇_θ L = f̃ − Fᵀ D`,
//! as pure functions of `θ` and the problem (checked against central differences in
//! `rl/tests/maxent_losses.rs`).

use ndarray::{Array1, Array2};

use super::soft::{SoftSolution, soft_value_iteration, soft_value_iteration_from};
use super::visitation::{feature_counts, state_visitation};
use crate::env::TabularModel;

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

/// What the problem of MaxEnt IRL fixes: the dynamics, the features `F` (one row `f(s)` per
/// state), the expert's counts `f̃` and start distribution `μ_0`, `γ`, and how finely the soft
/// values and the visitation are solved.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    /// `P(s'|s, a)`.
    pub model: &'a TabularModel,
    /// `F`.
    pub features: &'a Array2<f64>,
    /// `f̃`.
    pub expert_feature_counts: &'a Array1<f64>,
    /// `μ_0`.
    pub initial: &'a [f64],
    /// `γ`.
    pub gamma: f64,
    /// Soft value iteration's tolerance.
    pub soft_tolerance: f64,
    /// The forward pass's tolerance.
    pub visitation_tolerance: f64,
}

/// `L(θ)`, `∇_θ L = f̃ − Fᵀ D` and what they were computed from, at one `θ`.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// `r_θ = F θ`.
    pub reward: Vec<f64>,
    /// Soft `Q`, `V`, `π` under `r_θ`.
    pub soft: SoftSolution,
    /// `D(s)` under the soft policy from `μ_0`.
    pub visitation: Vec<f64>,
    /// `Fᵀ D`.
    pub feature_counts: Array1<f64>,
    /// `∇_θ L = f̃ − Fᵀ D`.
    pub gradient: Array1<f64>,
    /// `L(θ) = θᵀ f̃ − (1 − γ) Σ_s μ_0(s) V(s)`.
    pub log_likelihood: f64,
}

/// The key equations at `θ`, in order: `r = F θ`; soft value iteration (warm-started from
/// `values`); the forward pass `D`; `∇_θ L = f̃ − Fᵀ D`; `L(θ)`.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::maxent::{Problem, evaluate};
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SS", noiseless).unwrap();
/// let (features, f_expert) = (array![[1.0, 0.0], [0.0, 1.0]], array![0.5, 0.5]);
/// let problem = Problem {
///     model: corridor.model(), features: &features, expert_feature_counts: &f_expert,
///     initial: &[1.0, 0.0], gamma: 0.5, soft_tolerance: 1e-12, visitation_tolerance: 1e-12,
/// };
/// let at_zero = evaluate(&problem, &array![0.0, 0.0], vec![0.0; 2]);
/// // f̃ and Fᵀ D both sum to one: the gradient's entries cancel.
/// assert!(at_zero.gradient.sum().abs() < 1e-9);
/// assert!(at_zero.log_likelihood < 0.0);
/// ```
pub fn evaluate(problem: &Problem<'_>, theta: &Array1<f64>, values: Vec<f64>) -> Evaluation {
    let (model, gamma) = (problem.model, problem.gamma);
    let reward = problem.features.dot(theta).to_vec();
    let soft = soft_value_iteration_from(model, &reward, values, gamma, problem.soft_tolerance);
    let visitation = state_visitation(
        model,
        &soft.policy,
        problem.initial,
        gamma,
        problem.visitation_tolerance,
    );
    let f_model = feature_counts(problem.features, &visitation);
    let gradient = problem.expert_feature_counts - &f_model;
    let log_likelihood = likelihood_of(
        theta,
        problem.expert_feature_counts,
        problem.initial,
        &soft.values,
        gamma,
    );
    Evaluation {
        reward,
        soft,
        visitation,
        feature_counts: f_model,
        gradient,
        log_likelihood,
    }
}
