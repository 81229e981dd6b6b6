//! The policy the family trains — [`ModelPolicy`], an MLP squashed into the action box, its
//! inputs standardised with the first data set's statistics — and its supervised fit:
//! minibatch Adam on a loss of `π_θ(x)` against targets, the learning rate annealed along half a
//! cosine so that every fit ends near a minimum rather than in Adam's noise floor.
//!
//! ```text
//! imitation loss    L(θ) = (1/B) Σ_b ½ ‖π_θ(x_b) − u_b‖²
//! learning rate     γ_e = γ_min + ½ (γ₀ − γ_min)(1 + cos(π e / E)),   epoch e of E
//! ```

#![allow(non_snake_case)]

use crate::model_based::ModelPolicy;
use autograd::{Float, Tape, Tensor, Var};
use ndarray::{Array2, Axis};
use nn::optim::{Adam, AdamConfig, LrSchedule, Optimizer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// `L = (1/B) Σ_b ½ ‖π_b − u_b‖²` for actions `π` and labels `u` batched as columns (`m × B`).
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::imitation_loss;
/// let pi = Var::constant(array![[1.0, 0.0]]);
/// let u = Var::constant(array![[0.0, 0.0]]);
/// assert_eq!(imitation_loss(&pi, &u).item(), 0.25);
/// ```
// ANCHOR: imitation_loss
pub fn imitation_loss<T: Float>(pi: &Var<T>, u: &Var<T>) -> Var<T> {
    let batch = T::from_f64(pi.shape()[1] as f64);
    (pi - u).powi(2).sum_all() * (T::from_f64(0.5) / batch)
}
// ANCHOR_END: imitation_loss

/// `π_θ(x)` of a state `[n]` or a batch `[n, B]` on autograd variables, in the same shape
/// convention (`[m]` or `[m, B]`), with `θ` constant: how a planner's cost differentiates the
/// policy with respect to the state.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::policy::policy_on;
/// use wengert_control::model_based::ModelPolicy;
/// let policy = ModelPolicy::new(2, &[4], array![-1.0], array![1.0], 0);
/// assert_eq!(policy_on(&policy, &Var::constant(array![0.5, 0.5])).shape(), &[1]);
/// assert_eq!(policy_on(&policy, &Var::constant(array![[0.5], [0.5]])).shape(), &[1, 1]);
/// ```
pub fn policy_on(policy: &ModelPolicy, x: &Var<f64>) -> Var<f64> {
    let theta = policy.store.constants();
    if x.shape().len() == 1 {
        let m = policy.lower.len();
        policy
            .action(&theta, &x.reshape(&[x.shape()[0], 1]))
            .reshape(&[m])
    } else {
        policy.action(&theta, x)
    }
}

/// Settings of [`fit_policy`].
///
/// ```
/// use wengert_control::gps::FitConfig;
/// assert_eq!(FitConfig::default().batch_size, 64);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    /// Passes over the data per fit (default 50).
    pub epochs: usize,
    /// Minibatch size (default 64).
    pub batch_size: usize,
    /// Adam's learning rate `γ₀` at the first epoch (default 3e-3).
    pub learning_rate: f64,
    /// `γ_min`, the learning rate the cosine reaches at the last epoch (default 3e-4).
    pub min_learning_rate: f64,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 50,
            batch_size: 64,
            learning_rate: 3e-3,
            min_learning_rate: 3e-4,
        }
    }
}

/// Minimises `loss(π_θ(x), b)` over `θ` by minibatch Adam with the cosine learning rate: states
/// `x` (`n × D`) and the loss's per-sample data `b` (`k × D`, e.g. labels, or labels and
/// multipliers), shuffled each epoch with `seed`. Returns the mean loss of the last epoch.
///
/// ```
/// use ndarray::array;
/// use wengert_control::gps::{FitConfig, fit_policy, imitation_loss};
/// use wengert_control::model_based::ModelPolicy;
///
/// let mut policy = ModelPolicy::new(1, &[16], array![-2.0], array![2.0], 0);
/// let x = array![[-1.0, -0.5, 0.0, 0.5, 1.0]];
/// let u = x.mapv(|x: f64| -x); // u = −x
/// let config = FitConfig { epochs: 400, batch_size: 5, learning_rate: 1e-2, min_learning_rate: 1e-3 };
/// let loss = fit_policy(&mut policy, &x, &u, &config, 0, imitation_loss);
/// assert!(loss < 1e-3, "{loss}");
/// ```
pub fn fit_policy(
    policy: &mut ModelPolicy,
    x: &Array2<f64>,
    b: &Array2<f64>,
    config: &FitConfig,
    seed: u64,
    loss: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64>,
) -> f64 {
    assert_eq!(
        x.ncols(),
        b.ncols(),
        "fit_policy: {} states but {} targets",
        x.ncols(),
        b.ncols()
    );
    let mut adam = Adam::new(
        policy.store.trainable(),
        AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        },
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..x.ncols()).collect();
    let mut last_epoch = f64::NAN;
    let schedule = LrSchedule::Cosine {
        total_steps: config.epochs.saturating_sub(1).max(1),
        min_lr: config.min_learning_rate,
    };
    for epoch in 0..config.epochs {
        schedule.apply(&mut adam, epoch);
        order.shuffle(&mut rng);
        let (mut total, mut batches) = (0.0, 0);
        for batch in order.chunks(config.batch_size.max(1)) {
            let tape = Tape::new();
            let theta = policy.store.bind(&tape);
            let pi = policy.action(&theta, &Var::constant(x.select(Axis(1), batch)));
            let L = loss(&pi, &Var::constant(b.select(Axis(1), batch)));
            let gradients = theta.gradients(&L);
            adam.step(&policy.store, &gradients);
            total += L.item();
            batches += 1;
        }
        last_epoch = total / batches.max(1) as f64;
    }
    last_epoch
}
