//! # R2D2: Recurrent Replay Distributed DQN (Kapturowski et al., 2019), single-threaded
//!
//! ## Background
//! Under partial observability (CartPole without its velocities) a Q-function of the current
//! observation cannot act well; a recurrent Q network ([`RecurrentQNetwork`]) summarises the
//! history in an LSTM state `h_t`. Training it off-policy needs *sequences* from replay, and an
//! LSTM state to start each from. R2D2's answers:
//!
//! - **Stored state**: the actor's state at the sequence's start is stored with it
//!   ([`SequenceReplay`]) and the learner starts there (`stored_state = true`), instead of
//!   from zeros (`stored_state = false`). The stored state was computed by an older `θ`:
//!   **recurrent-state staleness** (representational drift) makes it disagree with what the
//!   current network would compute.
//! - **Burn-in**: the first `B` positions of each sequence only warm the state up, without
//!   gradient (detached), and the loss is on the next `K`; burn-in lets the state recover from a
//!   stale or zero start.
//! - **n-step double-Q targets with invertible value rescaling** `h` ([`crate::value_rescaling`])
//!   in place of reward clipping; **prioritised sequence replay** with the mixture
//!   `η max|δ| + (1 − η) mean|δ|`; a **target network** `θ'` copied every `C` updates;
//!   ε-greedy actors. Here the `N` actors step in lockstep on the learner's thread, all with one
//!   decaying `ε(t)`.
//!
//! **Staleness** (`staleness` in the reports) is the paper's `ΔQ`: how far apart the Q-values
//! at the first learned position `B` are when the burn-in starts from the stored state and
//! from zeros, with the current `θ` ([`staleness`]).
//!
//! ## Key equations
//! For sequence `i`, learned position `t ∈ [B, B + K)`, the `m ≤ n` rewards before the episode's
//! end or `n`, and `p = t + m`:
//!
//! $$ a^\star = \arg\max_a Q_\theta(h_p, a), \qquad
//!    y_{t} = h\Big(\sum_{k<m} \gamma^k r_{t+k} + \gamma^m (1 - d_p)\, h^{-1}\big(Q_{\theta'}(h'_p, a^\star)\big)\Big) , $$
//!
//! `d_p = 1` iff `p` is a terminal final observation (a truncated episode bootstraps from its
//! final observation). With `δ_t = Q_θ(h_t, a_t) − y_t` over the `T_i` learned positions that
//! are not final observations, importance weights `w_i` and priorities
//!
//! $$ L(\theta) = \frac1{|\mathcal B|}\sum_i \frac{w_i}{|T_i|}\sum_{t \in T_i} \tfrac12 \delta_t^2 , \qquad
//!    p_i = \eta \max_t |\delta_t| + (1 - \eta)\,\text{mean}_t |\delta_t| . $$
//!
//! ## Pseudocode
//! ```text
//! initialise Q_θ; θ' ← θ; per actor (h, c) ← 0 and a sequence writer; replay D of sequences
//! for t = 1 … T (environment steps, N actors in lockstep):
//!     Q(h_t, ·), (h, c)' ← the LSTM step on o_t from (h, c)
//!     a_t ← ε(t)-greedy in Q (uniform while t ≤ learning_starts)
//!     write (o_t, a_t, r_t, first) with the state before it; at an episode's end also its final
//!         observation (last, terminal), then (h, c) ← 0
//!     every L − period… positions a writer emits a sequence of L = B + K + n with its (h_0, c_0)
//!     if t > learning_starts, every train_freq steps, gradient_steps times:
//!         sample sequences by p^α with weights w (β)
//!         start state ← stored (h_0, c_0), or 0;  burn in over 0 … B without gradient, for θ and θ'
//!         y ← the n-step double-Q targets through h and h⁻¹;  L(θ);  clip ‖∇L‖; Adam step
//!         p_i ← η max|δ| + (1 − η) mean|δ|;  log ΔQ
//!         every C updates: θ' ← θ
//! ```

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::{Array2, ArrayD, Ix2, s};
use nn::optim::{AdamConfig, Optimizer, clip_grad_norm};
use nn::{Bound, LSTMState, ParamStore};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::buffers::{SequenceBatch, SequenceReplay};
use crate::common::config::{Config, Range, ranges};
use crate::common::off_policy::{
    Averages, EpsilonGreedyConfig, QParameters, Throughput, crossed, reports,
};
use crate::common::trainer::{Part, Report, Trainer};
use crate::q_network::greedy;
use crate::recurrent_q_network::{RecurrentGreedyAgent, RecurrentQNetwork, sequence_var};
use crate::recurrent_replay::{RecurrentActors, staleness, start_state, window};
pub use crate::recurrent_replay::{SequenceErrors, SequenceSettings};
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};
use crate::value_rescaling::{h, h_inverse};

/// R2D2's hyperparameters (`rl/presets/r2d2.toml`: the paper's defaults, scaled down for
/// classic control, and a CartPoleNoVel-v1 preset). Counts of steps are environment steps over
/// all actors; `buffer_size` and `batch_size` count sequences.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct R2d2Config {
    /// `T`.
    pub total_timesteps: usize,
    /// `N`: actors (environment copies) in lockstep.
    pub num_envs: usize,
    pub learning_rate: f64,
    /// Adam's `ε` (the paper: 1e-3).
    pub adam_epsilon: f64,
    /// Replay capacity in sequences.
    pub buffer_size: usize,
    /// Steps of uniformly random actions, and no training, before learning starts.
    pub learning_starts: usize,
    /// Sequences per gradient step.
    pub batch_size: usize,
    /// `B`: burn-in positions per sequence (no gradient).
    pub burn_in: usize,
    /// `K`: learned positions per sequence.
    pub learn_length: usize,
    /// Positions between sequence starts (the paper: 40 for `L = 80`); at most `K`.
    pub sequence_period: usize,
    /// `n` of the n-step targets.
    pub n_step: usize,
    /// `γ`.
    pub gamma: f64,
    /// Learn `h(Q)` with `h(x) = sign(x)(√(|x|+1) − 1) + εx` (false: plain targets).
    pub value_rescaling: bool,
    /// `ε` of `h` (the paper: 1e-3).
    pub value_rescaling_epsilon: f64,
    /// Start each replayed sequence from its stored state (false: from zeros).
    pub stored_state: bool,
    /// `η` of the priority mixture.
    pub priority_eta: f64,
    /// `α`: priority exponent.
    pub priority_alpha: f64,
    /// `β`: importance-sampling exponent (fixed, as the paper).
    pub priority_beta: f64,
    /// Floor added to every priority.
    pub priority_epsilon: f64,
    /// `C`: gradient steps between copies `θ' ← θ`.
    pub target_update_interval: usize,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// `ε₀`, `ε_end` and the fraction of `T` over which `ε` decays linearly:
    /// `exploration_initial_eps`, `exploration_final_eps`, `exploration_fraction`.
    #[serde(flatten)]
    pub exploration: EpsilonGreedyConfig,
    /// Maximum global gradient norm (the paper: 40).
    pub max_grad_norm: f64,
    /// Encoder width (ReLU) before the LSTM.
    pub encoder_hidden: usize,
    /// The LSTM's state width `H`.
    pub lstm_hidden: usize,
    /// Steps between reports.
    pub log_interval: usize,
    pub seed: u64,
}

impl Config for R2d2Config {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<28>(&[
        &[
            ("total_timesteps", Range::at_least(1.0)),
            ("num_envs", Range::at_least(1.0)),
            ("learning_rate", Range::positive()),
            ("adam_epsilon", Range::positive()),
            ("buffer_size", Range::at_least(1.0)),
            ("learning_starts", Range::at_least(0.0)),
            ("batch_size", Range::at_least(1.0)),
            ("burn_in", Range::at_least(0.0)),
            ("learn_length", Range::at_least(1.0)),
            ("sequence_period", Range::at_least(1.0)),
            ("n_step", Range::at_least(1.0)),
            ("gamma", Range::unit()),
            ("value_rescaling_epsilon", Range::non_negative()),
            ("priority_eta", Range::unit()),
            ("priority_alpha", Range::non_negative()),
            ("priority_beta", Range::unit()),
            ("priority_epsilon", Range::positive()),
            ("target_update_interval", Range::at_least(1.0)),
            ("train_freq", Range::at_least(1.0)),
            ("gradient_steps", Range::at_least(1.0)),
        ],
        &EpsilonGreedyConfig::RANGES,
        &[
            ("max_grad_norm", Range::positive()),
            ("encoder_hidden", Range::at_least(1.0)),
            ("lstm_hidden", Range::at_least(1.0)),
            ("log_interval", Range::at_least(1.0)),
            ("seed", Range::at_least(0.0)),
        ],
    ]);

    fn check_relations(&self) -> Result<(), String> {
        if self.sequence_period > self.learn_length {
            return Err(format!(
                "`sequence_period` = {} exceeds `learn_length` = {}: positions between the \
                 sequences' learned parts would never be learned",
                self.sequence_period, self.learn_length
            ));
        }
        Ok(())
    }
}

impl R2d2Config {
    /// `L = B + K + n`: positions per stored sequence.
    pub fn sequence_length(&self) -> usize {
        self.burn_in + self.learn_length + self.n_step
    }
}

// ---- the losses ----

// ANCHOR: burn_in
/// The state after the burn-in `0 … B` from `start`, **detached**: no gradient reaches the
/// burn-in positions or flows through them into `θ`.
pub fn burn_in<T: Float>(
    q: &RecurrentQNetwork,
    params: &Bound<'_, T>,
    o: &Var<T>,
    batch: &SequenceBatch,
    start: LSTMState<T>,
    burn_in: usize,
) -> LSTMState<T> {
    if burn_in == 0 {
        return start;
    }
    let (o_b, m_b) = window(o, batch, 0, burn_in);
    no_grad(|| q.q_values(params, &o_b, &start, &m_b).1).detach()
}
// ANCHOR_END: burn_in

// ANCHOR: n_step_targets
/// `y_t` `(K, N)` of the key equations, from `θ` (choosing `a*`) and `θ'` (evaluating it), each
/// burnt in from the batch's start state; a constant. Final-observation positions get 0 (masked).
pub fn n_step_targets<T: Float>(
    q: &RecurrentQNetwork,
    online: &Bound<'_, T>,
    target: &Bound<'_, T>,
    o: &Var<T>,
    batch: &SequenceBatch,
    settings: &SequenceSettings,
) -> Array2<f64> {
    let (b, k, n) = (settings.burn_in, settings.learn_length, settings.n_step);
    let (o_rest, m_rest) = window(o, batch, b, batch.length());
    let start = || start_state(batch, settings.stored_state);
    let values = |params: &Bound<'_, T>| -> ArrayD<T> {
        let state = burn_in(q, params, o, batch, start(), b);
        let q_rest = no_grad(|| q.q_values(params, &o_rest, &state, &m_rest).0);
        q_rest.value().to_owned()
    };
    let (q_online, q_target) = (values(online), values(target));
    let h_of = |x: f64| settings.rescaling.map_or(x, |e| h(x, e));
    let h_inv = |x: f64| settings.rescaling.map_or(x, |e| h_inverse(x, e));
    Array2::from_shape_fn((k, batch.len()), |(t, i)| {
        let t = b + t;
        if batch.last[[t, i]] {
            return 0.0;
        }
        let (mut ret, mut m) = (0.0, 0);
        while m < n && !batch.last[[t + m, i]] {
            ret += settings.gamma.powi(m as i32) * batch.rewards[[t + m, i]];
            m += 1;
        }
        let p = t + m;
        if batch.terminal[[p, i]] {
            return h_of(ret);
        }
        let row = q_online.slice(s![p - b..p - b + 1, i, ..]);
        let a_star = greedy(row.into_dimensionality::<Ix2>().expect("row"))[0];
        let bootstrap = h_inv(q_target[[p - b, i, a_star]].as_f64());
        h_of(ret + settings.gamma.powi(m as i32) * bootstrap)
    })
}
// ANCHOR_END: n_step_targets

// ANCHOR: r2d2_loss
/// `L(θ) = (1/N) Σ_i (w_i / |T_i|) Σ_{t∈T_i} ½ δ_t²`, `δ_t = Q_θ(h_t, a_t) − y_t` over the
/// learned positions `B … B + K` that are not final observations, read from `burnt_in`, the
/// state after the burn-in ([`burn_in`]): a constant of the loss, like `y`.
pub fn r2d2_loss<T: Float>(
    q: &RecurrentQNetwork,
    online: &Bound<'_, T>,
    o: &Var<T>,
    batch: &SequenceBatch,
    burnt_in: &LSTMState<T>,
    y: &Array2<f64>,
    settings: &SequenceSettings,
) -> (Var<T>, SequenceErrors) {
    let (b, k, n) = (settings.burn_in, settings.learn_length, batch.len());
    let (o_learn, m_learn) = window(o, batch, b, b + k);
    let (q_values, _) = q.q_values(online, &o_learn, burnt_in, &m_learn);
    let index = Array2::from_shape_fn((k * n, 1), |(r, _)| batch.actions[[b + r / n, r % n]]);
    let q_taken = q_values
        .reshape(&[k * n, q.num_actions()])
        .gather(1, &index.into_dyn())
        .reshape(&[k, n]);
    let learned = |t: usize, i: usize| !batch.last[[b + t, i]];
    let counts: Vec<usize> = (0..n)
        .map(|i| (0..k).filter(|&t| learned(t, i)).count())
        .collect();
    let coefficients = Array2::from_shape_fn((k, n), |(t, i)| match learned(t, i) {
        true => T::from_f64(0.5 * batch.weights[i] / (counts[i] as f64 * n as f64)),
        false => T::zero(),
    });
    let y_var = Var::constant(y.mapv(T::from_f64).into_dyn());
    let delta = &q_taken - &y_var;
    let loss = (&(&delta * &delta) * &Var::constant(coefficients.into_dyn())).sum_all();

    let delta = delta.value().mapv(|x| x.as_f64());
    let taken = q_taken.value().mapv(|x| x.as_f64());
    (
        loss,
        SequenceErrors::of(&delta, &taken, learned, settings.eta),
    )
}
// ANCHOR_END: r2d2_loss

// ---- the update and the loop ----

/// An R2D2 trainer: the networks, the actors and their environments, the sequence replay.
pub struct R2d2 {
    config: R2d2Config,
    env_id: String,
    q: RecurrentQNetwork,
    /// `θ`, `θ'` and the optimiser.
    params: QParameters,
    actors: RecurrentActors,
    replay: SequenceReplay,
    rng: TrainerRng,
    throughput: Throughput,
}

impl R2d2 {
    fn settings(&self) -> SequenceSettings {
        let c = &self.config;
        SequenceSettings {
            burn_in: c.burn_in,
            learn_length: c.learn_length,
            n_step: c.n_step,
            gamma: c.gamma,
            rescaling: c.value_rescaling.then_some(c.value_rescaling_epsilon),
            stored_state: c.stored_state,
            eta: c.priority_eta,
        }
    }

    /// `ε(t)`.
    fn epsilon(&self, t: usize) -> f64 {
        let c = &self.config;
        c.exploration.schedule(c.total_timesteps).epsilon(t)
    }

    /// One gradient step on a sampled batch of sequences.
    fn update(&mut self, iteration: usize, window: &mut Averages) -> Result<(), TrainError> {
        let config = &self.config;
        let batch = self
            .replay
            .sample(config.batch_size, config.priority_beta, &mut self.rng);
        let o = sequence_var::<f32>(&batch.observations);
        let settings = self.settings();
        let p = &mut self.params;
        let (online, target) = (p.online.constants(), p.target.constants());
        let y = n_step_targets(&self.q, &online, &target, &o, &batch, &settings);
        window.add(
            "staleness",
            staleness(&self.q, &online, &o, &batch, config.burn_in),
        );
        let start = start_state(&batch, settings.stored_state);
        let tape = Tape::new();
        let theta = p.online.bind(&tape);
        let burnt_in = burn_in(&self.q, &theta, &o, &batch, start, config.burn_in);
        let (loss, errors) = r2d2_loss(&self.q, &theta, &o, &batch, &burnt_in, &y, &settings);
        check_finite(&loss, "R2D2 loss", iteration, &tape)?;
        let mut gradients = theta.gradients(&loss);
        let grad_norm = clip_grad_norm(&mut gradients, config.max_grad_norm as f32);
        p.optimizer.step(&p.online, &gradients);
        self.replay
            .update_priorities(&batch.indices, &errors.priorities);
        window.add("loss", loss.item() as f64);
        window.add("mean_q", errors.mean_q);
        window.add("grad_norm", grad_norm as f64);
        self.throughput.gradient_steps += 1;
        if self
            .throughput
            .gradient_steps
            .is_multiple_of(config.target_update_interval)
        {
            p.target.copy_from(&p.online);
        }
        Ok(())
    }
}

impl Trainer for R2d2 {
    const NAME: &'static str = "r2d2";
    type Config = R2d2Config;
    type Agent = RecurrentGreedyAgent;

    fn steps_per_iteration(config: &R2d2Config) -> usize {
        config.log_interval
    }

    fn iterations(config: &R2d2Config) -> usize {
        reports(config.total_timesteps, config.num_envs, config.log_interval)
    }

    /// `N` copies reset with the seed, `Q_θ` from the generator, `θ' ← θ`, zero actor states.
    fn new(env_id: &str, config: &R2d2Config) -> Result<Self, TrainError> {
        let (hidden, length) = (config.lstm_hidden, config.sequence_length());
        let (actors, num_actions) = RecurrentActors::new(
            env_id,
            "R2D2",
            config.num_envs,
            config.seed,
            length,
            config.sequence_period,
            hidden,
        )?;
        let dim = actors.observation_dim();
        let mut rng = TrainerRng::seed_from_u64(config.seed);
        let mut online = ParamStore::<f32>::new();
        let q = RecurrentQNetwork::new(
            &mut online.root().sub("q"),
            dim,
            num_actions,
            config.encoder_hidden,
            config.lstm_hidden,
            &mut rng,
        );
        let adam = AdamConfig {
            lr: config.learning_rate as f32,
            eps: config.adam_epsilon as f32,
            ..AdamConfig::default()
        };
        Ok(R2d2 {
            env_id: env_id.to_string(),
            q,
            params: QParameters::new(online, adam),
            actors,
            replay: SequenceReplay::new(
                config.buffer_size,
                length,
                dim,
                hidden,
                config.priority_alpha,
                config.priority_epsilon,
            ),
            rng,
            throughput: Throughput::start(),
            config: config.clone(),
        })
    }

    /// Acts until `t` reaches `iteration · log_interval` (or `T`), training every `train_freq`.
    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        let first = self.actors.steps.0;
        let last = (iteration * self.config.log_interval).min(self.config.total_timesteps);
        let mut window = Averages::default();
        let (mut episode_returns, mut episode_lengths) = (Vec::new(), Vec::new());
        loop {
            let before = self.actors.steps.0;
            let epsilon = self.epsilon(before);
            let random = before < self.config.learning_starts;
            let (q, online, rng) = (&self.q, &self.params.online.constants(), &mut self.rng);
            for episode in self
                .actors
                .act(q, online, epsilon, random, rng, &mut self.replay)?
            {
                episode_returns.push(episode.episode_return);
                episode_lengths.push(episode.length);
            }
            let t = self.actors.steps.0;
            if t > self.config.learning_starts
                && crossed(before, t, self.config.train_freq)
                && !self.replay.is_empty()
            {
                let phase = self.throughput.start_phase();
                for _ in 0..self.config.gradient_steps {
                    self.update(iteration, &mut window)?;
                }
                self.throughput.end_phase(phase);
            }
            if t >= last {
                break;
            }
        }
        let t = self.actors.steps.0;
        let mut losses = window.take_as(&["loss", "mean_q", "grad_norm", "staleness"]);
        losses.push(("epsilon", self.epsilon(t)));
        losses.push(("replay_sequences", self.replay.len() as f64));
        losses.extend(self.throughput.report(t));
        Ok(Report {
            env_steps: t - first,
            episode_returns,
            episode_lengths,
            losses,
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = self.params.parts();
        parts.extend(self.actors.parts());
        parts.extend([
            ("replay", Part::State(&mut self.replay)),
            ("rng", Part::State(&mut self.rng)),
            ("gradient_steps", Part::State(&mut self.throughput)),
        ]);
        parts
    }

    fn into_agent(self) -> RecurrentGreedyAgent {
        RecurrentGreedyAgent {
            env_id: self.env_id,
            q: self.q,
            store: self.params.online,
        }
    }
}
