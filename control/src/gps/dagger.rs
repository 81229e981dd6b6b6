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
//! The analysis takes `π*` to be a policy, a function of the state. An expert with memory — MPC
//! warm-started from the plan it made at the state before — labels the learner's states by
//! where the *learner* came from, and two visits of one state can get opposite labels, which
//! the fit averages; [`Memoryless`](super::imitation::Memoryless) makes any expert a function
//! of the state by resetting it before every label.
//!
//! ## Key equations
//!
//! ```text
//! 𝒟_i = {(s, π*(s)) : s visited by π_i = β_i π* + (1 − β_i) π̂_i},   β_i = β^{i−1}
//! 𝒟   ← 𝒟 ∪ 𝒟_i
//! π̂_{i+1} = argmin_θ (1/|𝒟̃|) Σ_{(s,u)∈𝒟̃} ½ ‖π_θ(s) − u‖²,   𝒟̃ = 𝒟 ∪ g(𝒟)   (imitation_loss)
//! return π̂_{î+1},  î = argmax_i Ĵ_val(π̂_{i+1})   (or π̂_{N+1}, the last, without validation)
//! ```
//!
//! `g` ranges over the task's symmetries ([`Symmetry`], none by default): a map
//! `g(s, u) = (M_s s, M_u u)` that leaves the dynamics, the cost and the start states unchanged,
//! so that `π*(M_s s) = M_u π*(s)` and every label also labels the mirror image of its state, at
//! no expert query. The expert's swing through one side of a state space (a pendulum passing
//! the bottom on its way up from the left) then teaches the learner the mirrored swing too,
//! which the rounds' few start states may never have shown the expert doing.
//!
//! `Ĵ_val` is the mean return of the learner alone over `validation_episodes` episodes whose
//! start states are kept apart from the test's: Ross et al.'s Algorithm 3.1 returns the best
//! `π̂_i` on validation, since the no-regret guarantee bounds the best (or the uniform mixture)
//! of the sequence, and the last can be worse than an earlier one.
//!
//! ## Pseudocode
//!
//! ```text
//! 𝒟 ← ∅
//! for round i = 1, …, rounds:
//!     for each of `episodes_per_round` episodes:
//!         at every step act with π* with probability β_i, else with π̂_i (β_1 = 1: the expert's
//!         round; β = 0, the default, lets the learner alone drive every later round);
//!         label every visited s with π*(s); add to 𝒟
//!     π̂_{i+1} ← fit on all of 𝒟 ∪ g(𝒟) (warm-started, or from θ₀ if `from_scratch`)
//!     if validation_episodes > 0: Ĵ_val(π̂_{i+1}) ← mean return of π̂_{i+1} alone on them
//! return the best π̂_{i+1} on validation (the later on a tie), or π̂_{N+1} without validation
//! behaviour cloning: the expert's episodes alone, up to the same number of labels, one fit
//! (on 𝒟 ∪ g(𝒟) too: the same learner, the same labels)
//! ```

use super::imitation::{
    Dataset, Expert, ImitationResult, ImitationRound, Rounds, Symmetry, Teacher, collect_episode,
    fit_dataset, imitation_rounds, new_learner,
};
use super::policy::FitConfig;
use crate::model_based::ModelPolicy;
use crate::plant::Plant;
use ndarray::Array1;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

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
    /// `β` of the mixture `π_i = β_i π* + (1 − β_i) π̂_i`, `β_i = β^{i−1}`: the probability
    /// that the expert acts at a step of round `i` (default 0: the expert drives round 1, the
    /// learner every later round).
    pub beta: f64,
    /// Refit a fresh policy on all of `𝒟` each round instead of continuing from the last
    /// (default false).
    pub from_scratch: bool,
    /// `V`: after each round's fit the learner `π̂_{i+1}` runs alone for `V` episodes, and
    /// [`dagger`] returns the one with the best mean return `Ĵ_val` (Ross et al.'s "best `π̂_i`
    /// on validation"); 0 (the default) returns the last. Costs plant steps, no expert labels.
    pub validation_episodes: usize,
    /// The validation episodes start from `plant.reset(validation_seed + e)`, `e < V`; keep them
    /// apart from the training episodes' seeds (`seed · 1_000_003 + k`, `k ≥ 1`) and from the
    /// test episodes' (default 1 << 40).
    pub validation_seed: u64,
    /// The task's symmetries `g`: [`dagger`]'s and [`behaviour_cloning`]'s fits are on
    /// `𝒟 ∪ g(𝒟)`, the expert's labels and their images (default none). `𝒟`, and so the count
    /// of expert labels, holds the expert's labels only.
    pub symmetries: Vec<Symmetry>,
    /// Seed of the policy, the minibatches, the episodes' start states and the mixture's draws
    /// (default 0).
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
            beta: 0.0,
            from_scratch: false,
            validation_episodes: 0,
            validation_seed: 1 << 40,
            symmetries: Vec::new(),
            seed: 0,
        }
    }
}

/// DAgger's driver: at each step of round `i` the expert with probability `β_i = β^{i−1}`,
/// else the learner; the label is always the expert's.
struct Mixture<'a, E> {
    expert: &'a mut E,
    beta: f64,
    rng: StdRng,
}

impl<E: Expert> Teacher for Mixture<'_, E> {
    fn start_episode(&mut self, _round: usize, _learner: &ModelPolicy) {
        self.expert.reset();
    }

    // ANCHOR: dagger_rounds
    fn act_and_label(
        &mut self,
        round: usize,
        learner: &ModelPolicy,
        s: &Array1<f64>,
    ) -> (Array1<f64>, Array1<f64>) {
        let label = self.expert.label(s);
        let beta_i = self.beta.powi(round as i32 - 1);
        let expert_acts = beta_i >= 1.0 || (beta_i > 0.0 && self.rng.random::<f64>() < beta_i);
        let a = if expert_acts {
            label.clone()
        } else {
            learner.act(s)
        };
        (a, label)
    }
    // ANCHOR_END: dagger_rounds
}

/// DAgger on `plant` with `expert` (see the module doc), calling `on_round` after each round.
pub fn dagger(
    plant: &mut impl Plant,
    expert: &mut impl Expert,
    config: &DaggerConfig,
    on_round: impl FnMut(&ImitationRound),
) -> Result<ImitationResult, String> {
    if !(0.0..=1.0).contains(&config.beta) {
        return Err(format!(
            "DaggerConfig: beta = {} is not a probability (expected 0 ≤ β ≤ 1)",
            config.beta
        ));
    }
    let mut teacher = Mixture {
        expert,
        beta: config.beta,
        rng: StdRng::seed_from_u64(config.seed),
    };
    let rounds = Rounds {
        rounds: config.rounds,
        episodes_per_round: config.episodes_per_round,
        episode_length: config.episode_length,
        hidden: &config.hidden,
        fit: &config.fit,
        seed: config.seed,
        from_scratch: config.from_scratch,
        validation_episodes: config.validation_episodes,
        validation_seed: config.validation_seed,
        symmetries: &config.symmetries,
    };
    imitation_rounds(plant, &mut teacher, &rounds, on_round)
}

/// Behaviour cloning with the same budget of `labels`: the expert's own episodes until `labels`
/// observations are labelled, then one fit with `config.rounds` times the epochs (DAgger's
/// total).
pub fn behaviour_cloning(
    plant: &mut impl Plant,
    expert: &mut impl Expert,
    labels: usize,
    config: &DaggerConfig,
) -> Result<ImitationResult, String> {
    let mut policy = new_learner(plant, &config.hidden, config.seed);
    let mut dataset = Dataset::default();
    let mut seed = config.seed.wrapping_mul(1_000_003);
    let mut returns = Vec::new();
    while dataset.len() < labels {
        seed += 1;
        expert.reset();
        returns.push(collect_episode(
            plant,
            seed,
            config.episode_length,
            &mut dataset,
            labels,
            |s| {
                let label = expert.label(s);
                (label.clone(), label)
            },
        )?);
    }
    let long = FitConfig {
        epochs: config.fit.epochs * config.rounds,
        ..config.fit.clone()
    };
    let policy_loss = fit_dataset(
        &mut policy,
        &dataset,
        &long,
        config.seed,
        1,
        true,
        &config.symmetries,
    );
    let rounds = vec![ImitationRound {
        round: 1,
        dataset_size: dataset.len(),
        mean_return: returns.iter().sum::<f64>() / returns.len().max(1) as f64,
        policy_loss,
        new_data_loss: None,
        validation_return: None,
    }];
    Ok(ImitationResult {
        policy,
        dataset,
        rounds,
    })
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;
    use crate::gps::{Memoryless, evaluate};
    use crate::plant::PlantStep;
    use ndarray::{Array1, array};

    /// `s' = s + a`, reward `−s²`, episodes of 6 steps from `s_0 = seed mod 3 − 1`, recording
    /// every observation it is asked to act from.
    #[derive(Default)]
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
        let mut plant = Integrator::default();
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

    #[test]
    fn a_memoryless_expert_labels_each_state_as_it_would_right_after_a_reset() {
        /// An expert with memory: it labels `−s/2 + (labels since its last reset)`.
        struct Counting(f64);
        impl Expert for Counting {
            fn reset(&mut self) {
                self.0 = 0.0;
            }
            fn label(&mut self, s: &Array1<f64>) -> Array1<f64> {
                self.0 += 1.0;
                s * -0.5 + self.0
            }
        }
        let config = DaggerConfig {
            rounds: 2,
            episodes_per_round: 2,
            hidden: vec![4],
            fit: FitConfig {
                epochs: 1,
                ..FitConfig::default()
            },
            ..DaggerConfig::default()
        };
        let mut plant = Integrator::default();
        let mut expert = Memoryless(Counting(0.0));
        let result = dagger(&mut plant, &mut expert, &config, |_| {}).unwrap();
        for (s, u) in result
            .dataset
            .observations
            .iter()
            .zip(&result.dataset.actions)
        {
            assert_eq!(u[0], -0.5 * s[0] + 1.0, "the label of s = {}", s[0]);
        }
        // without the reset the labels carry the expert's memory
        let mut plant = Integrator::default();
        let result = dagger(&mut plant, &mut Counting(0.0), &config, |_| {}).unwrap();
        assert_eq!(
            result.dataset.actions[5][0],
            -0.5 * result.dataset.observations[5][0] + 6.0
        );
    }

    #[test]
    fn with_validation_episodes_the_best_round_policy_is_returned_not_the_last() {
        // the expert labels `−s` (to 0 in one step) for round 1's 18 labels, then `+2` (away
        // from 0): every later fit is pulled further from round 1's good learner
        let mut labels = 0;
        let mut expert = |s: &Array1<f64>| {
            labels += 1;
            if labels <= 18 { s * -1.0 } else { array![2.0] }
        };
        let config = DaggerConfig {
            rounds: 3,
            episodes_per_round: 3,
            hidden: vec![8],
            fit: FitConfig {
                epochs: 200,
                learning_rate: 1e-2,
                min_learning_rate: 1e-3,
                ..FitConfig::default()
            },
            validation_episodes: 3,
            validation_seed: 100,
            ..DaggerConfig::default()
        };
        let mut plant = Integrator::default();
        let result = dagger(&mut plant, &mut expert, &config, |_| {}).unwrap();
        let J_val: Vec<f64> = result
            .rounds
            .iter()
            .map(|round| round.validation_return.unwrap())
            .collect();
        assert!(
            J_val[0] > J_val[2],
            "the last learner is the worse here: {J_val:?}"
        );
        let J_chosen = evaluate(&mut plant, &result.policy, 3, 6, 100).unwrap();
        let J_chosen = J_chosen.iter().sum::<f64>() / 3.0;
        let J_best = J_val.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(J_chosen, J_best, "{J_val:?}");
        // without validation the same rounds (validation changes no fit) return the last
        let mut labels = 0;
        let mut expert = |s: &Array1<f64>| {
            labels += 1;
            if labels <= 18 { s * -1.0 } else { array![2.0] }
        };
        let last = DaggerConfig {
            validation_episodes: 0,
            ..config
        };
        let result = dagger(&mut plant, &mut expert, &last, |_| {}).unwrap();
        assert!(result.rounds.iter().all(|r| r.validation_return.is_none()));
        let J_last = evaluate(&mut plant, &result.policy, 3, 6, 100).unwrap();
        assert_eq!(J_last.iter().sum::<f64>() / 3.0, J_val[2]);
    }

    #[test]
    fn beta_one_lets_the_expert_drive_every_round_and_beta_outside_zero_one_is_refused() {
        let mut plant = Integrator::default();
        let config = DaggerConfig {
            rounds: 3,
            episodes_per_round: 1,
            hidden: vec![4],
            fit: FitConfig {
                epochs: 1,
                ..FitConfig::default()
            },
            beta: 1.0,
            ..DaggerConfig::default()
        };
        let expert = |s: &Array1<f64>| s * -0.5;
        let result = dagger(&mut plant, &mut { expert }, &config, |_| {}).unwrap();
        // the expert halves s at every step, whatever the (barely trained) learner would do
        for (k, s) in result.dataset.observations.iter().enumerate() {
            let t = k % 6;
            let s_0 = plant.visited[k - t];
            assert_eq!(s[0], s_0 * 0.5_f64.powi(t as i32), "step {k}");
        }
        assert_eq!(result.dataset.len(), 18);
        let bad = DaggerConfig {
            beta: 1.5,
            ..config
        };
        let error = dagger(&mut plant, &mut { expert }, &bad, |_| {}).unwrap_err();
        assert!(error.contains("beta = 1.5"), "{error}");
    }
}
