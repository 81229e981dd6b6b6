//! # The tanh-squashed Gaussian policy of the maximum-entropy agents
//!
//! `u = μ_θ(s) + σ_θ(s) ⊙ ε`, `ε ~ N(0, I)`, action `ã = tanh(u)` in the unit box, with
//! `ln σ_θ` clamped to `[−20, 2]` (Stable-Baselines3's bounds) and, by the change of variables,
//!
//! `ln π_θ(ã|s) = ln N(u; μ_θ(s), σ_θ(s)²) − Σ_j ln(1 − tanh² u_j)`
//!
//! ([`nn::distributions::TanhGaussian`], computed stably). It lives here, below the algorithms,
//! so that every algorithm built on Soft Actor-Critic (DIAYN's skills) can use it without
//! importing another algorithm.

use autograd::{Float, Tensor, Var};
use nn::distributions::TanhGaussian;
use nn::{Bound, Mlp, Module, Path};
use rand::Rng;

/// `ln σ` is clamped to `[LOG_STD_MIN, LOG_STD_MAX]` (Stable-Baselines3's bounds).
pub const LOG_STD_MIN: f64 = -20.0;
/// See [`LOG_STD_MIN`].
pub const LOG_STD_MAX: f64 = 2.0;

/// The squashed Gaussian policy: an MLP from `s` to `[μ_θ(s); ln σ_θ(s)]` (one linear head of
/// `2|A|` outputs on the shared hidden layers, equivalent to Stable-Baselines3's two heads).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::squashed_gaussian::SquashedGaussianActor;
/// let mut store = ParamStore::<f64>::new();
/// let actor = SquashedGaussianActor::new(&mut store.root().sub("actor"), 3, 2, &[8], &mut rand::rngs::StdRng::seed_from_u64(0));
/// let pi = actor.distribution(&store.constants(), &Var::constant(ndarray::Array2::<f64>::zeros((4, 3))));
/// assert_eq!(pi.mode().shape(), &[4, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct SquashedGaussianActor {
    pub mlp: Mlp,
    pub action_dim: usize,
}

impl SquashedGaussianActor {
    /// A policy for `observation_dim`-dimensional states and `action_dim`-dimensional actions
    /// (ReLU hidden layers, PyTorch's default initialisation).
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let mut sizes = vec![observation_dim];
        sizes.extend(hidden);
        sizes.push(2 * action_dim);
        SquashedGaussianActor {
            mlp: Mlp::builder(&sizes).build(path, rng),
            action_dim,
        }
    }

    /// `π_θ(·|s)` for a batch of states `(B, obs_dim)`.
    pub fn distribution<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> TanhGaussian<T> {
        let out = self.mlp.forward(params, observations);
        let d = self.action_dim;
        let mean = out.narrow(-1, 0, d);
        let log_std = out
            .narrow(-1, d, d)
            .clamp(T::from_f64(LOG_STD_MIN), T::from_f64(LOG_STD_MAX));
        TanhGaussian::new(&mean, &log_std)
    }
}
