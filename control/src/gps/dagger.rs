//! DAgger (Ross, Gordon & Bagnell 2011), standalone, against behaviour cloning.
//!
//! ## Background
//!
//! An expert `π*` (LQR, MPC over iLQR, a trained policy — anything that maps a state to an
//! action) is imitated by a policy `π̂`. Behaviour cloning fits `π̂` to the expert's own states;
//! run alone, `π̂`'s small errors take it to states the expert never visited, where it was never
//! trained, and the errors compound (`O(T² ε)` cost over `T` steps). DAgger instead lets the
//! learner drive, asks the expert to label the states the *learner* visits, and aggregates
//! them: the training distribution becomes the learner's own (`O(T ε)`).
//!
//! ## Key equations
//!
//! ```text
//! 𝒟_i = {(s, π*(s)) : s visited by π_i = β_i π* + (1 − β_i) π̂_i},   β_1 = 1, β_i = 0 for i > 1
//! 𝒟   ← 𝒟 ∪ 𝒟_i
//! π̂_{i+1} = argmin_θ (1/|𝒟|) Σ_{(s,u)∈𝒟} ½ ‖π_θ(s) − u‖²               (imitation_loss)
//! ```
//!
//! ## Pseudocode
//!
//! ```text
//! 𝒟 ← ∅
//! for round i = 1, …, rounds:
//!     for each of `episodes_per_round` episodes:
//!         act with π* if i = 1, else with π̂_i; label every visited s with π*(s); add to 𝒟
//!     π̂_{i+1} ← fit on all of 𝒟 (warm-started)
//! behaviour cloning: the expert's episodes alone, up to the same number of labels, one fit
//! ```

use super::policy::{FitConfig, fit_policy, imitation_loss};
use crate::model_based::ModelPolicy;
use crate::plant::Plant;
use ndarray::{Array1, Array2};

/// Something that labels a state with an action; closures `FnMut(&Array1<f64>) -> Array1<f64>`
/// are experts. `reset` is called at the start of every episode (an MPC expert drops its warm
/// start).
pub trait Expert {
    /// Called at the start of every episode.
    fn reset(&mut self) {}
    /// `π*(s)`.
    fn label(&mut self, observation: &Array1<f64>) -> Array1<f64>;
}

impl<F: FnMut(&Array1<f64>) -> Array1<f64>> Expert for F {
    fn label(&mut self, observation: &Array1<f64>) -> Array1<f64> {
        self(observation)
    }
}

/// The aggregated data set: observations and the expert's actions.
///
/// ```
/// use ndarray::array;
/// use wengert_control::gps::Dataset;
/// let mut data = Dataset::default();
/// data.push(array![1.0, 2.0], array![0.5]);
/// let (x, u) = data.columns();
/// assert_eq!((x.dim(), u.dim()), ((2, 1), (1, 1)));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Observations, in the order they were labelled.
    pub observations: Vec<Array1<f64>>,
    /// The expert's label of each.
    pub actions: Vec<Array1<f64>>,
}

impl Dataset {
    /// The number of labelled observations.
    pub fn len(&self) -> usize {
        self.observations.len()
    }

    /// No observations yet.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
    }

    /// Adds one labelled observation.
    pub fn push(&mut self, observation: Array1<f64>, action: Array1<f64>) {
        self.observations.push(observation);
        self.actions.push(action);
    }

    /// Observations (`n × D`) and actions (`m × D`) as columns.
    pub fn columns(&self) -> (Array2<f64>, Array2<f64>) {
        let stack = |rows: &[Array1<f64>]| {
            let width = rows.first().map_or(0, |r| r.len());
            Array2::from_shape_fn((width, rows.len()), |(i, j)| rows[j][i])
        };
        (stack(&self.observations), stack(&self.actions))
    }
}

/// Settings of [`dagger`] and [`behaviour_cloning`].
///
/// ```
/// use wengert_control::gps::DaggerConfig;
/// assert_eq!(DaggerConfig::default().rounds, 5);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DaggerConfig {
    /// Rounds (default 5); the first is the expert's.
    pub rounds: usize,
    /// Episodes per round (default 5).
    pub episodes_per_round: usize,
    /// Steps per episode at most (default 200).
    pub episode_length: usize,
    /// Hidden widths of the policy's MLP (default `[32, 32]`).
    pub hidden: Vec<usize>,
    /// The supervised fit after each round.
    pub fit: FitConfig,
    /// Seed of the policy, the minibatches and the episodes' start states (default 0).
    pub seed: u64,
}

impl Default for DaggerConfig {
    fn default() -> Self {
        DaggerConfig {
            rounds: 5,
            episodes_per_round: 5,
            episode_length: 200,
            hidden: vec![32, 32],
            fit: FitConfig::default(),
            seed: 0,
        }
    }
}

/// What one round logged.
#[derive(Clone, Debug, PartialEq)]
pub struct DaggerRound {
    /// `i`, from 1.
    pub round: usize,
    /// `|𝒟|` after the round (= expert labels so far).
    pub dataset_size: usize,
    /// Mean return of the round's episodes (the expert's in round 1, the learner's after).
    pub mean_return: f64,
    /// The fit's last-epoch loss.
    pub policy_loss: f64,
}

/// The policy, its data and the rounds.
#[derive(Clone, Debug)]
pub struct DaggerResult {
    /// `π̂` after the last fit.
    pub policy: ModelPolicy,
    /// `𝒟`.
    pub dataset: Dataset,
    /// One entry per round.
    pub rounds: Vec<DaggerRound>,
}

/// One episode from `plant.reset(seed)`, acting with `act`, labelling each visited observation
/// with the expert into `data` while `data` has fewer than `budget` labels; returns the return.
fn episode(
    plant: &mut impl Plant,
    expert: &mut impl Expert,
    seed: u64,
    steps: usize,
    data: &mut Dataset,
    budget: usize,
    mut act: impl FnMut(&Array1<f64>, &Array1<f64>) -> Array1<f64>,
) -> Result<f64, String> {
    expert.reset();
    let mut s = plant.reset(seed);
    let mut total = 0.0;
    for _ in 0..steps {
        if data.len() >= budget {
            break;
        }
        let label = expert.label(&s);
        let a = act(&s, &label);
        data.push(s.clone(), label);
        let step = plant.step(&a)?;
        total += step.reward;
        s = step.observation;
        if step.done {
            break;
        }
    }
    Ok(total)
}

fn new_policy(plant: &impl Plant, config: &DaggerConfig) -> ModelPolicy {
    let (lower, upper) = plant.action_bounds();
    ModelPolicy::new(
        plant.observation_dim(),
        &config.hidden,
        lower,
        upper,
        config.seed,
    )
}

fn fit(policy: &mut ModelPolicy, data: &Dataset, config: &DaggerConfig, round: usize) -> f64 {
    let (x, u) = data.columns();
    fit_policy(
        policy,
        &x,
        &u,
        &config.fit,
        config.seed.wrapping_add(round as u64),
        imitation_loss,
    )
}

/// DAgger on `plant` with `expert` (see the module doc), calling `on_round` after each round.
pub fn dagger(
    plant: &mut impl Plant,
    expert: &mut impl Expert,
    config: &DaggerConfig,
    mut on_round: impl FnMut(&DaggerRound),
) -> Result<DaggerResult, String> {
    let mut policy = new_policy(plant, config);
    let mut dataset = Dataset::default();
    let mut rounds = Vec::with_capacity(config.rounds);
    let mut seed = config.seed.wrapping_mul(1_000_003);
    // ANCHOR: dagger_rounds
    for round in 1..=config.rounds {
        let mut returns = Vec::with_capacity(config.episodes_per_round);
        for _ in 0..config.episodes_per_round {
            seed += 1;
            let learner = &policy;
            returns.push(episode(
                plant,
                expert,
                seed,
                config.episode_length,
                &mut dataset,
                usize::MAX,
                |s, label| {
                    if round == 1 {
                        label.clone()
                    } else {
                        learner.act(s)
                    }
                },
            )?);
        }
        let policy_loss = fit(&mut policy, &dataset, config, round);
        let report = DaggerRound {
            round,
            dataset_size: dataset.len(),
            mean_return: returns.iter().sum::<f64>() / returns.len().max(1) as f64,
            policy_loss,
        };
        on_round(&report);
        rounds.push(report);
    }
    // ANCHOR_END: dagger_rounds
    Ok(DaggerResult {
        policy,
        dataset,
        rounds,
    })
}

/// Behaviour cloning with the same budget of `labels`: the expert's own episodes until `labels`
/// observations are labelled, then one fit with `config.rounds` times the epochs (DAgger's
/// total).
pub fn behaviour_cloning(
    plant: &mut impl Plant,
    expert: &mut impl Expert,
    labels: usize,
    config: &DaggerConfig,
) -> Result<DaggerResult, String> {
    let mut policy = new_policy(plant, config);
    let mut dataset = Dataset::default();
    let mut seed = config.seed.wrapping_mul(1_000_003);
    let mut returns = Vec::new();
    while dataset.len() < labels {
        seed += 1;
        returns.push(episode(
            plant,
            expert,
            seed,
            config.episode_length,
            &mut dataset,
            labels,
            |_, label| label.clone(),
        )?);
    }
    let long = DaggerConfig {
        fit: FitConfig {
            epochs: config.fit.epochs * config.rounds,
            ..config.fit.clone()
        },
        ..config.clone()
    };
    let policy_loss = fit(&mut policy, &dataset, &long, 1);
    let rounds = vec![DaggerRound {
        round: 1,
        dataset_size: dataset.len(),
        mean_return: returns.iter().sum::<f64>() / returns.len().max(1) as f64,
        policy_loss,
    }];
    Ok(DaggerResult {
        policy,
        dataset,
        rounds,
    })
}

/// The policy alone on `plant`: the returns of `episodes` episodes of at most `steps` steps
/// from the start states `seed`, `seed + 1`, ….
pub fn evaluate(
    plant: &mut impl Plant,
    policy: &ModelPolicy,
    episodes: usize,
    steps: usize,
    seed: u64,
) -> Result<Vec<f64>, String> {
    (0..episodes as u64)
        .map(|e| {
            let mut s = plant.reset(seed + e);
            let mut total = 0.0;
            for _ in 0..steps {
                let step = plant.step(&policy.act(&s))?;
                total += step.reward;
                s = step.observation;
                if step.done {
                    break;
                }
            }
            Ok(total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::PlantStep;
    use ndarray::array;

    /// `s' = s + a`, reward `−s²`, episodes of 6 steps from `s_0 = seed mod 3 − 1`, recording
    /// every observation it is asked to act from.
    struct Integrator {
        s: f64,
        t: usize,
        visited: Vec<f64>,
    }

    impl Plant for Integrator {
        fn name(&self) -> &str {
            "integrator"
        }
        fn observation_dim(&self) -> usize {
            1
        }
        fn action_bounds(&self) -> (Array1<f64>, Array1<f64>) {
            (array![-2.0], array![2.0])
        }
        fn reset(&mut self, seed: u64) -> Array1<f64> {
            (self.s, self.t) = ((seed % 3) as f64 - 1.0, 0);
            array![self.s]
        }
        fn step(&mut self, a: &Array1<f64>) -> Result<PlantStep, String> {
            self.visited.push(self.s);
            self.s += a[0];
            self.t += 1;
            Ok(PlantStep {
                observation: array![self.s],
                reward: -self.s * self.s,
                done: self.t == 6,
            })
        }
    }

    #[test]
    fn each_round_adds_exactly_the_visited_states_labelled_by_the_expert() {
        let mut plant = Integrator {
            s: 0.0,
            t: 0,
            visited: Vec::new(),
        };
        let config = DaggerConfig {
            rounds: 3,
            episodes_per_round: 2,
            hidden: vec![8],
            fit: FitConfig {
                epochs: 5,
                ..FitConfig::default()
            },
            ..DaggerConfig::default()
        };
        let mut sizes = Vec::new();
        let expert = |s: &Array1<f64>| s * -0.5;
        let result = dagger(&mut plant, &mut { expert }, &config, |round| {
            sizes.push(round.dataset_size);
        })
        .unwrap();
        // two episodes of six steps a round: the data set grows by exactly the twelve states
        // visited in the round (by the expert in round 1, by the learner after)
        assert_eq!(sizes, vec![12, 24, 36]);
        assert_eq!(plant.visited.len(), 36);
        // … in order, each with the expert's label
        for (k, (s, u)) in result
            .dataset
            .observations
            .iter()
            .zip(&result.dataset.actions)
            .enumerate()
        {
            assert_eq!(s[0], plant.visited[k]);
            assert_eq!(u[0], -0.5 * plant.visited[k]);
        }
    }
}
