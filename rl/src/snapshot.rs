//! # Training state: stop a run and continue it bit for bit
//!
//! ## Background
//! A run that stops (Ctrl-C, a killed process, a time limit on a cluster) should continue as
//! if it had never stopped — not start over, and not replay its past. What the future of a
//! run depends on is more than its network parameters: the optimiser's moments and step
//! count, the position of every random stream, each environment copy's physical state, its
//! time-limit counter and its running episode return, observation and reward normalisers,
//! counters, and — for off-policy agents — the replay buffer (with a prioritised buffer's sum
//! tree) and any half-filled n-step windows. A [`TrainingState`] holds all of it, taken at an
//! iteration boundary, as named arrays.
//!
//! ## Key equations
//! Write `z_k` for everything a trainer holds after iteration `k` and `F` for one iteration,
//! `z_{k+1} = F(z_k)`. A snapshot is `z_k` itself, so for any `k ≤ K`
//!
//! `F^{K−k}(restore(snapshot(F^k(z_0)))) = F^K(z_0)`, bit for bit,
//!
//! which is what the tests of every trainer check (parameters and metrics). The random streams
//! make this possible: every trainer draws from a [`TrainerRng`] (ChaCha12, the algorithm behind
//! `StdRng`, so a seed gives the same stream as before), whose position can be read and set,
//! and every environment's generator is a `Xoshiro256++` whose four state words can be read.
//!
//! ## Pseudocode
//! ```text
//! train_from(env, config, resume, on_iteration):
//!     build networks, optimisers, environments from config and seed    (as a fresh run)
//!     if resume: check it is this algorithm, environment and configuration;
//!                overwrite every part with its saved state; k ← resume.iteration
//!     for iteration = k + 1, …:
//!         … the algorithm …
//!         on_iteration(metrics, snapshot = || TrainingState of every part)
//! ```
//! The caller decides when a snapshot is worth taking ([`crate::common::trainer::Iteration::training_state`] builds it
//! only when asked), and where to keep it; the command line writes it to the run directory.
//!
//! ## Naming
//! Entries are named `part.sub.…`. Entries under `agent.` are exactly the trained agent's
//! parameters (the names its [`crate::train::Agent::store`] will have), so a snapshot also
//! serves as a policy checkpoint.

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayD, IxDyn};
use nn::ParamStore;
use nn::optim::Optimizer;
use rand::rngs::ChaCha12Rng;

/// The generator every trainer draws from: ChaCha12, the algorithm behind `rand`'s `StdRng`
/// (so `seed_from_u64(s)` gives the very same stream), but one whose position can be saved.
pub type TrainerRng = ChaCha12Rng;

/// One saved array.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Parameters, optimiser moments, stored observations.
    F32(ArrayD<f32>),
    /// Statistics, rewards, returns, physical states.
    F64(ArrayD<f64>),
    /// Counters, flags, indices and random-generator words.
    U64(ArrayD<u64>),
}

impl Values {
    /// `f32`, `f64` or `u64`.
    pub fn dtype(&self) -> &'static str {
        match self {
            Values::F32(_) => "f32",
            Values::F64(_) => "f64",
            Values::U64(_) => "u64",
        }
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Values::F32(a) => a.shape(),
            Values::F64(a) => a.shape(),
            Values::U64(a) => a.shape(),
        }
    }
}

/// Everything a trainer needs to continue a run bit for bit from an iteration boundary (see
/// the [module doc](self)).
///
/// ```
/// use wengert_rl::snapshot::TrainingState;
/// let mut state = TrainingState::new("ppo", "CartPole-v1", "PpoConfig { .. }");
/// state.put_u64("counters", vec![3, 4]);
/// assert_eq!(state.u64s("counters", Some(2)).unwrap(), vec![3, 4]);
/// let error = state.u64s("counters", Some(3)).unwrap_err().to_string();
/// assert!(error.contains("`counters`") && error.contains("3"), "{error}");
/// assert!(state.f64s("missing", None).unwrap_err().to_string().contains("missing"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingState {
    /// The registry name of the algorithm, e.g. `ppo`.
    pub algorithm: String,
    /// The Gymnasium id.
    pub env_id: String,
    /// The whole configuration, as `{:#?}` prints it: a run continues only with the
    /// configuration it was started with.
    pub config: String,
    /// Iterations finished.
    pub iteration: usize,
    /// Environment steps taken.
    pub env_steps: usize,
    /// Seconds of training so far.
    pub wall_time: f64,
    entries: BTreeMap<String, Values>,
}

impl TrainingState {
    /// An empty state for `algorithm` on `env_id` with configuration text `config`.
    pub fn new(algorithm: &str, env_id: &str, config: &str) -> Self {
        TrainingState {
            algorithm: algorithm.to_string(),
            env_id: env_id.to_string(),
            config: config.to_string(),
            iteration: 0,
            env_steps: 0,
            wall_time: 0.0,
            entries: BTreeMap::new(),
        }
    }

    /// Every entry, in name order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Values)> {
        self.entries
            .iter()
            .map(|(name, values)| (name.as_str(), values))
    }

    /// Adds (or replaces) entry `name`.
    pub fn insert(&mut self, name: impl Into<String>, values: Values) {
        self.entries.insert(name.into(), values);
    }

    /// The entry `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Values> {
        self.entries.get(name)
    }

    /// Adds `f32` values of the given shape.
    pub fn put_f32(&mut self, name: impl Into<String>, shape: &[usize], values: Vec<f32>) {
        let array = ArrayD::from_shape_vec(IxDyn(shape), values).expect("values fit the shape");
        self.insert(name, Values::F32(array));
    }

    /// Adds a vector of `f64`s.
    pub fn put_f64(&mut self, name: impl Into<String>, values: Vec<f64>) {
        self.insert(
            name,
            Values::F64(ArrayD::from_shape_vec(IxDyn(&[values.len()]), values).expect("1-D")),
        );
    }

    /// Adds a vector of `u64`s.
    pub fn put_u64(&mut self, name: impl Into<String>, values: Vec<u64>) {
        self.insert(
            name,
            Values::U64(ArrayD::from_shape_vec(IxDyn(&[values.len()]), values).expect("1-D")),
        );
    }

    /// Saves `part` under `name`.
    pub fn save(&mut self, name: &str, part: &impl Resumable) {
        part.save(name, self);
    }

    /// Restores `part` from what was saved under `name`.
    pub fn load(&self, name: &str, part: &mut impl Resumable) -> Result<(), StateError> {
        part.load(name, self)
    }

    fn entry(&self, name: &str) -> Result<&Values, StateError> {
        self.entries
            .get(name)
            .ok_or_else(|| StateError::new(name, "is missing"))
    }

    /// The `f32` entry `name`, checked to have `shape` when given.
    pub fn f32s(&self, name: &str, shape: Option<&[usize]>) -> Result<ArrayD<f32>, StateError> {
        match self.entry(name)? {
            Values::F32(a) => check_shape(name, a.shape(), shape).map(|()| a.clone()),
            other => Err(wrong_dtype(name, other, "f32")),
        }
    }

    /// The `f64` vector `name`, checked to have `len` elements when given.
    pub fn f64s(&self, name: &str, len: Option<usize>) -> Result<Vec<f64>, StateError> {
        match self.entry(name)? {
            Values::F64(a) => {
                check_shape(name, a.shape(), len.as_ref().map(std::slice::from_ref))?;
                Ok(a.iter().copied().collect())
            }
            other => Err(wrong_dtype(name, other, "f64")),
        }
    }

    /// The `u64` vector `name`, checked to have `len` elements when given.
    pub fn u64s(&self, name: &str, len: Option<usize>) -> Result<Vec<u64>, StateError> {
        match self.entry(name)? {
            Values::U64(a) => {
                check_shape(name, a.shape(), len.as_ref().map(std::slice::from_ref))?;
                Ok(a.iter().copied().collect())
            }
            other => Err(wrong_dtype(name, other, "u64")),
        }
    }

    /// The single count `name`.
    pub fn count(&self, name: &str) -> Result<usize, StateError> {
        Ok(self.u64s(name, Some(1))?[0] as usize)
    }

    /// The `f32` matrix `name`, `(rows, cols)` with `cols` checked.
    pub fn rows(&self, name: &str, cols: usize) -> Result<Array2<f32>, StateError> {
        let a = self.f32s(name, None)?;
        if a.ndim() != 2 || a.shape()[1] != cols {
            return Err(StateError::new(
                name,
                format!("has shape {:?}, expected (rows, {cols})", a.shape()),
            ));
        }
        Ok(a.into_dimensionality().expect("2-D"))
    }

    /// Saves every entry of `store` under `name.<parameter name>`.
    pub fn save_params(&mut self, name: &str, store: &ParamStore<f32>) {
        for id in store.ids() {
            let value = store.value(id);
            self.insert(
                format!("{name}.{}", store.name(id)),
                Values::F32(value.to_owned()),
            );
        }
    }

    /// Overwrites every entry of `store` from `name.<parameter name>`, checking shapes.
    pub fn load_params(&self, name: &str, store: &ParamStore<f32>) -> Result<(), StateError> {
        let mut values = Vec::new();
        for id in store.ids() {
            let key = format!("{name}.{}", store.name(id));
            let expected = store.value(id).shape().to_vec();
            values.push((id, self.f32s(&key, Some(&expected))?));
        }
        for (id, value) in values {
            store.set(id, value);
        }
        Ok(())
    }

    /// Saves an optimiser's per-parameter state (`name.<parameter>.<key>`, e.g. Adam's moments
    /// and step count) and every group's current learning rate (`name.lr`).
    pub fn save_optimizer(
        &mut self,
        name: &str,
        optimizer: &dyn Optimizer<f32>,
        store: &ParamStore<f32>,
    ) {
        for (param, key, value) in optimizer.state_dict(store) {
            self.insert(
                format!("{name}.{param}.{key}"),
                Values::F32(value.to_owned()),
            );
        }
        let lrs = (0..optimizer.num_groups())
            .map(|g| optimizer.lr(g) as f64)
            .collect();
        self.put_f64(format!("{name}.lr"), lrs);
    }

    /// Restores what [`TrainingState::save_optimizer`] saved.
    pub fn load_optimizer(
        &self,
        name: &str,
        optimizer: &mut dyn Optimizer<f32>,
        store: &ParamStore<f32>,
    ) -> Result<(), StateError> {
        let lr_key = format!("{name}.lr");
        let lrs = self.f64s(&lr_key, Some(optimizer.num_groups()))?;
        let prefix = format!("{name}.");
        let mut entries = Vec::new();
        for (key, values) in self.entries.range(prefix.clone()..) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                break;
            };
            if *key == lr_key {
                continue;
            }
            let (param, state_key) = rest
                .rsplit_once('.')
                .ok_or_else(|| StateError::new(key, "is not `<parameter>.<state>`"))?;
            match values {
                Values::F32(a) => entries.push((
                    param.to_string(),
                    state_key.to_string(),
                    a.clone().into_shared(),
                )),
                other => return Err(wrong_dtype(key, other, "f32")),
            }
        }
        optimizer
            .load_state_dict(store, &entries)
            .map_err(|e| StateError::new(name, e.to_string()))?;
        for (group, lr) in lrs.into_iter().enumerate() {
            optimizer.set_lr(group, lr as f32);
        }
        Ok(())
    }

    /// Checks that this state is from `algorithm` on `env_id` with the configuration `config`
    /// (TOML, compared as data); the error names what differs.
    pub fn check(&self, algorithm: &str, env_id: &str, config: &str) -> Result<(), String> {
        if self.algorithm != algorithm || self.env_id != env_id {
            return Err(format!(
                "the saved state is from {} on {}, not {algorithm} on {env_id}",
                self.algorithm, self.env_id
            ));
        }
        let differs = crate::common::config::differences(&self.config, config)
            .map_err(|e| format!("the saved configuration is not TOML: {e}"))?;
        if !differs.is_empty() {
            return Err(format!(
                "the saved state was made with a different configuration: {}",
                differs.join(", ")
            ));
        }
        Ok(())
    }
}

fn check_shape(name: &str, shape: &[usize], expected: Option<&[usize]>) -> Result<(), StateError> {
    match expected {
        Some(expected) if shape != expected => Err(StateError::new(
            name,
            format!("has shape {shape:?}, expected {expected:?}"),
        )),
        _ => Ok(()),
    }
}

fn wrong_dtype(name: &str, values: &Values, expected: &str) -> StateError {
    StateError::new(
        name,
        format!("has dtype {}, expected {expected}", values.dtype()),
    )
}

/// Why a saved state could not be restored: the entry and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError {
    /// The entry's name.
    pub entry: String,
    /// What is wrong, e.g. `has shape [4], expected [5]`.
    pub problem: String,
}

impl StateError {
    /// An error about entry `entry`.
    pub fn new(entry: &str, problem: impl Into<String>) -> Self {
        StateError {
            entry: entry.to_string(),
            problem: problem.into(),
        }
    }
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "saved state `{}` {}", self.entry, self.problem)
    }
}

impl std::error::Error for StateError {}

/// A part of a trainer whose state can be saved into a [`TrainingState`] and restored from
/// it: environments, buffers, normalisers, generators.
pub trait Resumable {
    /// Writes this part's state as entries `name…`.
    fn save(&self, name: &str, state: &mut TrainingState);
    /// Restores what [`Resumable::save`] wrote; an error names the entry and what is wrong.
    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError>;
}

/// An absent part (a normaliser that is switched off) saves nothing.
impl<T: Resumable> Resumable for Option<T> {
    fn save(&self, name: &str, state: &mut TrainingState) {
        if let Some(part) = self {
            part.save(name, state);
        }
    }
    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        match self {
            Some(part) => part.load(name, state),
            None => Ok(()),
        }
    }
}

/// The generator's position: its 32-byte key, stream and word position (ChaCha's whole state).
///
/// ```
/// use rand::{RngExt, SeedableRng};
/// use wengert_rl::snapshot::{TrainerRng, TrainingState};
/// let mut rng = TrainerRng::seed_from_u64(7);
/// let _: u32 = rng.random(); // mid-block, mid-word-pair
/// let mut state = TrainingState::new("x", "y", "z");
/// state.save("rng", &rng);
/// let mut restored = TrainerRng::seed_from_u64(0);
/// state.load("rng", &mut restored).unwrap();
/// assert_eq!(rng.random::<u64>(), restored.random::<u64>());
/// // the same stream as StdRng with the same seed
/// assert_eq!(TrainerRng::seed_from_u64(3).random::<f64>(), rand::rngs::StdRng::seed_from_u64(3).random::<f64>());
/// ```
impl Resumable for TrainerRng {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let bytes = self.serialize_state();
        let mut padded = [0u8; 56];
        padded[..bytes.len()].copy_from_slice(&bytes);
        let words = padded
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        state.put_u64(name, words);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let words = state.u64s(name, Some(7))?;
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let serialized: [u8; 49] = bytes[..49].try_into().expect("49 bytes");
        *self = TrainerRng::deserialize_state(&serialized);
        Ok(())
    }
}

/// Finished episodes' returns.
impl Resumable for Vec<f64> {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(name, self.clone());
    }
    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        *self = state.f64s(name, None)?;
        Ok(())
    }
}

/// Wall-clock seconds of training that carry on across a resume.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: std::time::Instant,
    before: f64,
}

impl Clock {
    /// A clock at 0 s.
    pub fn start() -> Self {
        Clock {
            start: std::time::Instant::now(),
            before: 0.0,
        }
    }

    /// A clock at `seconds`.
    pub fn resume_at(seconds: f64) -> Self {
        Clock {
            start: std::time::Instant::now(),
            before: seconds,
        }
    }

    /// Seconds since the run started, not counting the time it was stopped.
    pub fn seconds(&self) -> f64 {
        self.before + self.start.elapsed().as_secs_f64()
    }
}
