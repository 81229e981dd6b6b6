//! The loop: gradient ascent on `L(θ)` with Adam, from `θ = 0` until the feature counts match.

use ndarray::{Array1, Array2};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{ParamGradients, ParamId, ParamStore};

use super::config::MaxEntConfig;
use super::loss::{Problem, evaluate};
use super::soft::SoftSolution;
use super::visitation::{expert_feature_counts, initial_distribution};
use crate::env::TabularModel;
use crate::train::TrainError;

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

    let problem = Problem {
        model,
        features,
        expert_feature_counts: &f_expert,
        initial: &mu0,
        gamma,
        soft_tolerance: config.soft_tolerance,
        visitation_tolerance: config.visitation_tolerance,
    };
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
        // L(θ) and g = ∇_θ L = f̃ − Fᵀ D
        let at_theta = evaluate(&problem, &theta, values);
        let feature_gap = sup_norm(&at_theta.gradient);
        if iteration == config.iterations || feature_gap < config.gap_tolerance {
            return Ok(MaxEntIrl {
                store,
                theta: theta_id,
                reward: at_theta.reward,
                soft: at_theta.soft,
                visitation: at_theta.visitation,
                expert_feature_counts: f_expert,
                feature_counts: at_theta.feature_counts,
                history,
            });
        }
        iteration += 1;
        history.push(MaxEntIteration {
            iteration,
            log_likelihood: at_theta.log_likelihood,
            feature_gap,
        });
        // the update: Adam descends, so hand it the gradient of −L
        let ascent = ParamGradients::from_pairs(
            store.len(),
            [(theta_id, (-at_theta.gradient).into_dyn().into_shared())],
        );
        adam.step(&store, &ascent);
        values = at_theta.soft.values;
    }
}
