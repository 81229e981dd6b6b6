//! What imitation needs whatever drives the episodes: an [`Expert`] that labels states, the
//! aggregated [`Dataset`], one labelled episode ([`collect_episode`]) and the learner's test run
//! ([`evaluate`]). DAgger, behaviour cloning and PLATO differ only in who acts and who labels.
//!
//! ```text
//! 𝒟 ← 𝒟 ∪ {(s_t, π*(s_t))}   for every s_t the episode visits,   s_{t+1} ~ p(· | s_t, a_t)
//! π̂ ← fit on 𝒟 ∪ g(𝒟)        g(𝒟) = {g(s, u) : (s, u) ∈ 𝒟, g a symmetry of the task}
//! ```

#![allow(non_snake_case)]

use super::policy::{FitConfig, fit_policy, imitation_loss};
use crate::model_based::ModelPolicy;
use crate::plant::Plant;
use autograd::{Tensor, Var};
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

/// `π*(s)` as a function of the state alone: `expert` reset before every label, so that no
/// memory (an MPC's warm start, the restarts its history triggered) carries from one label to
/// the next.
///
/// ```text
/// π*(s) = E.label(s) right after E.reset()   for every s, whatever was labelled before
/// ```
///
/// DAgger's analysis (Ross et al. 2011) takes the expert to be a policy `π*(s)`. A warm-started
/// MPC is not one: at the learner's states its label depends on the plan it carries from the
/// states labelled before, so the same state (or two neighbours) can be labelled with opposite
/// swings, and the learner is fitted to their average.
///
/// ```
/// use ndarray::{Array1, array};
/// use wengert_control::gps::{Expert, Memoryless};
///
/// // an expert with memory: its label grows with the labels since its last reset
/// struct Counting(f64);
/// impl Expert for Counting {
///     fn reset(&mut self) { self.0 = 0.0; }
///     fn label(&mut self, s: &Array1<f64>) -> Array1<f64> { self.0 += 1.0; s + self.0 }
/// }
/// let mut expert = Memoryless(Counting(0.0));
/// let first = expert.label(&array![1.0]);
/// expert.label(&array![5.0]);
/// assert_eq!(expert.label(&array![1.0]), first);
/// ```
#[derive(Clone, Debug)]
pub struct Memoryless<E>(pub E);

impl<E: Expert> Expert for Memoryless<E> {
    fn label(&mut self, observation: &Array1<f64>) -> Array1<f64> {
        self.0.reset();
        self.0.label(observation)
    }
}

/// A symmetry of the task, `g(o, u) = (M_o o, M_u u)`: a map of observations and actions that
/// leaves the dynamics, the cost and the start-state distribution unchanged, so that the
/// optimal policy commutes with it, `π*(M_o o) = M_u π*(o)`. Pendulum-v1's reflection
/// `(cos θ, sin θ, θ̇, u) → (cos θ, −sin θ, −θ̇, −u)` is one. Each expert label `(o, π*(o))` then
/// gives a second, `g(o, π*(o))`, at no expert query: the fit sees the mirror image of every
/// state the expert labelled ([`Dataset::with_images`], [`fit_dataset`]).
pub type Symmetry = fn(&Array1<f64>, &Array1<f64>) -> (Array1<f64>, Array1<f64>);

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

    /// `𝒟 ∪ g_1(𝒟) ∪ … ∪ g_k(𝒟)`: the labelled pairs followed by their images under each
    /// symmetry in turn (`𝒟` itself for none).
    ///
    /// ```
    /// use ndarray::{Array1, array};
    /// use wengert_control::gps::{Dataset, Symmetry};
    /// let mirror: Symmetry = |o: &Array1<f64>, u: &Array1<f64>| (-o, -u);
    /// let mut data = Dataset::default();
    /// data.push(array![1.0, 2.0], array![0.5]);
    /// let images = data.with_images(&[mirror]);
    /// assert_eq!(images.len(), 2);
    /// assert_eq!((&images.observations[1], &images.actions[1]), (&array![-1.0, -2.0], &array![-0.5]));
    /// assert_eq!(data.with_images(&[]), data);
    /// ```
    pub fn with_images(&self, symmetries: &[Symmetry]) -> Dataset {
        let mut images = self.clone();
        for g in symmetries {
            for (o, u) in self.observations.iter().zip(&self.actions) {
                let (o, u) = g(o, u);
                images.push(o, u);
            }
        }
        images
    }
}

/// One episode from `plant.reset(seed)` of at most `steps` steps: `act_and_label(s)` gives the
/// executed action and the expert's label of `s`, and `(s, label)` joins `data` while `data` has
/// fewer than `budget` labels (the episode stops there). Returns the episode's return.
///
/// ```
/// use ndarray::{Array1, array};
/// use wengert_control::gps::imitation::collect_episode;
/// use wengert_control::gps::Dataset;
/// use wengert_control::plant::{Plant, PlantStep};
///
/// struct Integrator(f64);
/// impl Plant for Integrator {
///     fn name(&self) -> &str { "integrator" }
///     fn observation_dim(&self) -> usize { 1 }
///     fn action_bounds(&self) -> (Array1<f64>, Array1<f64>) { (array![-1.0], array![1.0]) }
///     fn reset(&mut self, _: u64) -> Array1<f64> { self.0 = 1.0; array![1.0] }
///     fn step(&mut self, a: &Array1<f64>) -> Result<PlantStep, String> {
///         self.0 += a[0];
///         Ok(PlantStep { observation: array![self.0], reward: 0.0, done: false })
///     }
/// }
/// let mut data = Dataset::default();
/// collect_episode(&mut Integrator(0.0), 0, 3, &mut data, 10, |s| (s * 0.0, s * -1.0)).unwrap();
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.actions[2], array![-1.0]); // the executed action was 0: s stayed at 1
/// ```
pub fn collect_episode(
    plant: &mut impl Plant,
    seed: u64,
    steps: usize,
    data: &mut Dataset,
    budget: usize,
    mut act_and_label: impl FnMut(&Array1<f64>) -> (Array1<f64>, Array1<f64>),
) -> Result<f64, String> {
    let mut s = plant.reset(seed);
    let mut total = 0.0;
    for _ in 0..steps {
        if data.len() >= budget {
            break;
        }
        let (a, label) = act_and_label(&s);
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

/// What one round logged.
#[derive(Clone, Debug, PartialEq)]
pub struct ImitationRound {
    /// `i`, from 1.
    pub round: usize,
    /// `|𝒟|` after the round (= expert labels so far).
    pub dataset_size: usize,
    /// Mean return of the round's episodes (of whoever acted: the expert, the learner, the
    /// teacher).
    pub mean_return: f64,
    /// The loss on all of `𝒟` (with its images under the symmetries, `𝒟 ∪ g(𝒟)`) after the
    /// round's fit ([`dataset_loss`]).
    pub policy_loss: f64,
    /// The loss of the learner fitted so far on the round's new labels only, before the fit:
    /// the learner's imitation error on the states of this round (on its own state
    /// distribution for DAgger), which DAgger's guarantee is about. `None` in round 1 (no
    /// learner yet).
    pub new_data_loss: Option<f64>,
    /// `Ĵ_val(π̂_{i+1})`: the mean return of the round's fitted learner alone over the
    /// validation episodes ([`Rounds::validation_episodes`]); `None` without them.
    pub validation_return: Option<f64>,
}

/// The policy, its data and the rounds (DAgger, behaviour cloning, PLATO).
#[derive(Clone, Debug)]
pub struct ImitationResult {
    /// `π̂` after the last fit, or, with validation episodes, the round's `π̂_{i+1}` with the
    /// best validation return ([`imitation_rounds`]).
    pub policy: ModelPolicy,
    /// `𝒟`.
    pub dataset: Dataset,
    /// One entry per round.
    pub rounds: Vec<ImitationRound>,
}

/// A fresh learner for `plant`'s observations and action box.
pub fn new_learner(plant: &impl Plant, hidden: &[usize], seed: u64) -> ModelPolicy {
    let (lower, upper) = plant.action_bounds();
    ModelPolicy::new(plant.observation_dim(), hidden, lower, upper, seed)
}

/// `L(θ) = (1/|𝒟|) Σ_{(o,u)∈𝒟} ½ ‖π_θ(o) − u‖²`: the imitation loss of `policy` on all of
/// `data` (0 for no data).
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::{Dataset, imitation::dataset_loss};
/// use wengert_control::model_based::ModelPolicy;
/// let policy = ModelPolicy::new(1, &[4], array![-1.0], array![1.0], 0);
/// let mut data = Dataset::default();
/// data.push(array![0.0], array![1.0]);
/// data.push(array![1.0], array![-0.5]);
/// // π at the two observations, as a 1 × 2 batch
/// let pi = policy.action(&policy.store.constants(), &Var::constant(array![[0.0, 1.0]]));
/// let pi: Vec<f64> = pi.value().iter().copied().collect();
/// let expected = 0.5 * ((pi[0] - 1.0).powi(2) + (pi[1] + 0.5).powi(2)) / 2.0;
/// assert!((dataset_loss(&policy, &data) - expected).abs() < 1e-12);
/// assert_eq!(dataset_loss(&policy, &Dataset::default()), 0.0);
/// ```
pub fn dataset_loss(policy: &ModelPolicy, data: &Dataset) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let (x, u) = data.columns();
    let pi = policy.action(&policy.store.constants(), &Var::constant(x));
    imitation_loss(&pi, &Var::constant(u)).item()
}

/// Fits `policy` to all of `data` and its images under `symmetries` (`𝒟 ∪ g(𝒟)`,
/// [`Dataset::with_images`]) by [`imitation_loss`] (from its current parameters), its inputs
/// first standardised with their statistics: from scratch if it is `fresh` (not fitted
/// before), else re-standardised without changing the function
/// ([`ModelPolicy::restandardise_inputs`]), so that the inputs stay standardised as the
/// aggregated states spread; the minibatches are shuffled with `seed + round`. Returns the
/// loss on all of `𝒟 ∪ g(𝒟)` after the fit ([`dataset_loss`]).
///
/// ```
/// use ndarray::{Array1, array};
/// use wengert_control::gps::{Dataset, FitConfig, Symmetry, imitation::fit_dataset};
/// use wengert_control::model_based::ModelPolicy;
/// // labels of the odd expert π*(s) = −sign(s), at positive states only
/// let mut data = Dataset::default();
/// for k in 1..=8 {
///     data.push(array![0.25 * k as f64], array![-1.0]);
/// }
/// let mirror: Symmetry = |o: &Array1<f64>, u: &Array1<f64>| (-o, -u);
/// let fit = FitConfig { epochs: 300, batch_size: 16, ..FitConfig::default() };
/// let mut policy = ModelPolicy::new(1, &[8], array![-2.0], array![2.0], 0);
/// fit_dataset(&mut policy, &data, &fit, 0, 1, true, &[mirror]);
/// // the mirrored labels taught it the negative states no label was given at
/// assert!((policy.act(&array![-1.0])[0] - 1.0).abs() < 0.1);
/// ```
pub fn fit_dataset(
    policy: &mut ModelPolicy,
    data: &Dataset,
    fit: &FitConfig,
    seed: u64,
    round: usize,
    fresh: bool,
    symmetries: &[Symmetry],
) -> f64 {
    let images;
    let data = match symmetries {
        [] => data,
        _ => {
            images = data.with_images(symmetries);
            &images
        }
    };
    let (x, u) = data.columns();
    if fresh {
        policy.standardise_inputs(&x);
    } else {
        policy.restandardise_inputs(&x);
    }
    fit_policy(
        policy,
        &x,
        &u,
        fit,
        seed.wrapping_add(round as u64),
        imitation_loss,
    );
    dataset_loss(policy, data)
}

/// Who acts and who labels in the episodes of [`imitation_rounds`]: DAgger's expert or learner
/// with the expert's labels, PLATO's pulled MPC with the unconstrained MPC's labels.
pub trait Teacher {
    /// Starts an episode of round `round` (from 1) with the learner `π̂` fitted so far.
    fn start_episode(&mut self, round: usize, learner: &ModelPolicy);
    /// `(a, π*(o))` at observation `o`: the action executed and the label stored.
    fn act_and_label(
        &mut self,
        round: usize,
        learner: &ModelPolicy,
        observation: &Array1<f64>,
    ) -> (Array1<f64>, Array1<f64>);
}

/// The rounds of [`imitation_rounds`]: how many, their episodes, the learner and its fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Rounds<'a> {
    /// Rounds.
    pub rounds: usize,
    /// Episodes per round.
    pub episodes_per_round: usize,
    /// Steps per episode at most.
    pub episode_length: usize,
    /// Hidden widths of the learner's MLP.
    pub hidden: &'a [usize],
    /// The supervised fit after each round.
    pub fit: &'a FitConfig,
    /// Seed of the learner, the minibatches and the episodes' start states.
    pub seed: u64,
    /// Refit a fresh learner (the same initial `θ₀`) on all of `𝒟` each round, as Ross et al.
    /// (2011) train `π̂_{i+1}` anew, instead of continuing from `π̂_i` (warm start).
    pub from_scratch: bool,
    /// `V`, the validation episodes each fitted learner runs alone (0: none, the last learner
    /// is returned); see [`imitation_rounds`].
    pub validation_episodes: usize,
    /// Symmetries of the task: each fit is on `𝒟 ∪ g(𝒟)` ([`fit_dataset`]); `𝒟` keeps the
    /// expert's labels only.
    pub symmetries: &'a [Symmetry],
    /// The validation episodes start from `plant.reset(validation_seed + e)`, `e < V`: seeds
    /// the caller keeps apart from its training (`seed · 1_000_003 + k`) and test episodes.
    pub validation_seed: u64,
}

/// The round loop DAgger and PLATO share: each round `teacher` drives `episodes_per_round`
/// episodes, every visited observation joins `𝒟` with the teacher's label, and the learner is
/// refitted on all of `𝒟`; `on_round` is called after each round.
///
/// ```text
/// for round i = 1, …, rounds:
///     for each episode: at every visited o: execute a, add (o, π*(o)) to 𝒟   (teacher.act_and_label)
///     π̂_{i+1} ← fit on all of 𝒟 ∪ g(𝒟) (warm-started from π̂_i, or from a fresh θ₀ if `from_scratch`)
///     Ĵ_val(π̂_{i+1}) = (1/V) Σ_{e<V} R(π̂_{i+1} alone from plant.reset(validation_seed + e))
/// return π̂_{rounds+1} if V = 0, else π̂_{î+1},  î = argmax_i Ĵ_val(π̂_{i+1})   (the later on a tie)
/// ```
///
/// The selection is Ross et al.'s (2011, Algorithm 3.1, "return best π̂_i on validation"): the
/// guarantee is for the best (or a uniformly mixed) policy of the sequence, not the last, and it
/// costs environment steps of the learner alone, no expert labels. The fits continue from the
/// last learner whatever was chosen.
pub fn imitation_rounds(
    plant: &mut impl Plant,
    teacher: &mut impl Teacher,
    config: &Rounds<'_>,
    mut on_round: impl FnMut(&ImitationRound),
) -> Result<ImitationResult, String> {
    let mut policy = new_learner(plant, config.hidden, config.seed);
    let mut dataset = Dataset::default();
    let mut rounds = Vec::with_capacity(config.rounds);
    let mut seed = config.seed.wrapping_mul(1_000_003);
    // `(Ĵ_val, π̂)` of the best learner on validation so far
    let mut best: Option<(f64, ModelPolicy)> = None;
    // ANCHOR: imitation_rounds
    for round in 1..=config.rounds {
        let mut returns = Vec::with_capacity(config.episodes_per_round);
        let before = dataset.len();
        for _ in 0..config.episodes_per_round {
            seed += 1;
            let learner = &policy;
            teacher.start_episode(round, learner);
            returns.push(collect_episode(
                plant,
                seed,
                config.episode_length,
                &mut dataset,
                usize::MAX,
                |o| teacher.act_and_label(round, learner, o),
            )?);
        }
        let new_data = Dataset {
            observations: dataset.observations[before..].to_vec(),
            actions: dataset.actions[before..].to_vec(),
        };
        let new_data_loss = (round > 1).then(|| dataset_loss(&policy, &new_data));
        let fresh = round == 1 || config.from_scratch;
        if config.from_scratch {
            policy = new_learner(plant, config.hidden, config.seed);
        }
        let policy_loss = fit_dataset(
            &mut policy,
            &dataset,
            config.fit,
            config.seed,
            round,
            fresh,
            config.symmetries,
        );
        let validation_return = if config.validation_episodes > 0 {
            let episodes = config.validation_episodes;
            let returns = evaluate(
                plant,
                &policy,
                episodes,
                config.episode_length,
                config.validation_seed,
            )?;
            let J_val = returns.iter().sum::<f64>() / episodes as f64;
            if best.as_ref().is_none_or(|(J_best, _)| J_val >= *J_best) {
                best = Some((J_val, policy.clone()));
            }
            Some(J_val)
        } else {
            None
        };
        let report = ImitationRound {
            round,
            dataset_size: dataset.len(),
            mean_return: returns.iter().sum::<f64>() / returns.len().max(1) as f64,
            policy_loss,
            new_data_loss,
            validation_return,
        };
        on_round(&report);
        rounds.push(report);
    }
    // ANCHOR_END: imitation_rounds
    Ok(ImitationResult {
        policy: best.map_or(policy, |(_, best)| best),
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
