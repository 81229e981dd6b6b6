//! The critics `Q_φ(s, a)`, `(Q_φ1, Q_φ2)`, the deterministic actor `μ_θ(s)` (with the
//! deterministic policy gradient loss of DDPG and TD3) and the squashed Gaussian policy `π_θ`
//! of SAC (and of what builds on it).

use autograd::{Float, Tensor, Var, no_grad};
use ndarray::Array2;
use nn::distributions::TanhGaussian;
use nn::{Bound, Mlp, Module, ParamStore, Path};
use rand::Rng;

use super::to_rows;
use crate::policy::Actions;

/// A network of a continuous learner, built for `obs_dim`-dimensional states and
/// `|A|`-dimensional actions with the given hidden layers: what [`super::Parameters::init`]
/// (super::Parameters::init) builds.
pub trait Network: Sized {
    /// The name its parameters live under in their store (empty: at the root).
    const PATH: &'static str;

    /// The network under `path`, initialised from `rng`.
    fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self;
}

/// Layer sizes `[input, hidden…, output]`.
pub fn sizes(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
    let mut s = vec![input];
    s.extend(hidden);
    s.push(output);
    s
}

/// `Q_φ(s, a) = f_φ([s; a])`: an MLP (ReLU, PyTorch's default initialisation, as
/// Stable-Baselines3) on the concatenated state and unit-box action.
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::continuous::{Network, QNetwork};
/// let mut store = ParamStore::<f32>::new();
/// let q = QNetwork::new(&mut store.root().sub("q"), 3, 1, &[16, 16], &mut rand::rngs::StdRng::seed_from_u64(0));
/// let s = Var::constant(ndarray::Array2::<f32>::zeros((5, 3)));
/// let a = Var::constant(ndarray::Array2::<f32>::zeros((5, 1)));
/// assert_eq!(q.forward(&store.constants(), &s, &a).shape(), &[5]);
/// ```
#[derive(Clone, Debug)]
pub struct QNetwork {
    pub mlp: Mlp,
}

impl Network for QNetwork {
    const PATH: &'static str = "q";

    /// A critic for `observation_dim`-dimensional states and `action_dim`-dimensional actions.
    fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        QNetwork {
            mlp: Mlp::builder(&sizes(observation_dim + action_dim, hidden, 1)).build(path, rng),
        }
    }
}

impl QNetwork {
    /// `Q(s, a)` for a batch: `s` is `(B, obs_dim)`, `a` is `(B, |A|)`; the result is `(B)`.
    pub fn forward<T: Float>(
        &self,
        params: &nn::Bound<'_, T>,
        observations: &Var<T>,
        actions: &Var<T>,
    ) -> Var<T> {
        let input = Var::concat(&[observations, actions], -1);
        self.mlp.forward(params, &input).squeeze(-1)
    }
}

/// Two independent critics `Q_φ1, Q_φ2` (parameters `q1.*`, `q2.*`), for the clipped double-Q
/// estimate `min_i Q_φi(s, a)` of TD3 and SAC.
#[derive(Clone, Debug)]
pub struct TwinQ {
    pub q1: QNetwork,
    pub q2: QNetwork,
}

impl Network for TwinQ {
    const PATH: &'static str = "";

    /// Both critics, under `path.q1` and `path.q2`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use nn::ParamStore;
    /// use wengert_rl::continuous::{Network, TwinQ};
    /// let mut store = ParamStore::<f32>::new();
    /// TwinQ::new(&mut store.root(), 3, 1, &[8], &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert!(store.id("q1.0.weight").is_some() && store.id("q2.2.bias").is_some());
    /// ```
    fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let [q1, q2] = ["q1", "q2"].map(|name| {
            QNetwork::new(
                &mut path.sub(name),
                observation_dim,
                action_dim,
                hidden,
                rng,
            )
        });
        TwinQ { q1, q2 }
    }
}

impl TwinQ {
    /// `(Q_φ1(s, a), Q_φ2(s, a))`, each `(B)`.
    pub fn forward<T: Float>(
        &self,
        params: &nn::Bound<'_, T>,
        observations: &Var<T>,
        actions: &Var<T>,
    ) -> (Var<T>, Var<T>) {
        (
            self.q1.forward(params, observations, actions),
            self.q2.forward(params, observations, actions),
        )
    }

    /// `min(Q_φ1(s, a), Q_φ2(s, a))`, elementwise.
    pub fn min<T: Float>(
        &self,
        params: &nn::Bound<'_, T>,
        observations: &Var<T>,
        actions: &Var<T>,
    ) -> Var<T> {
        let (q1, q2) = self.forward(params, observations, actions);
        q1.minimum(&q2)
    }
}

/// The deterministic policy `μ_θ(s) = tanh(f_θ(s)) ∈ (−1, 1)^|A|` of DDPG and TD3 (ReLU hidden
/// layers, PyTorch's default initialisation, as Stable-Baselines3).
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use nn::ParamStore;
/// use wengert_rl::continuous::{DeterministicActor, Network};
/// let mut store = ParamStore::<f32>::new();
/// let mu = DeterministicActor::new(&mut store.root().sub("actor"), 3, 2, &[16], &mut rand::rngs::StdRng::seed_from_u64(0));
/// let a = mu.forward(&store.constants(), &Var::constant(ndarray::Array2::<f32>::ones((4, 3)) * 100.0));
/// assert_eq!(a.shape(), &[4, 2]);
/// assert!(a.value().iter().all(|v| v.abs() <= 1.0));
/// ```
#[derive(Clone, Debug)]
pub struct DeterministicActor {
    pub mlp: Mlp,
}

impl Network for DeterministicActor {
    const PATH: &'static str = "actor";

    /// A policy for `observation_dim`-dimensional states and `action_dim`-dimensional actions.
    fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        DeterministicActor {
            mlp: Mlp::builder(&sizes(observation_dim, hidden, action_dim))
                .output_activation(nn::Activation::Tanh)
                .build(path, rng),
        }
    }
}

impl DeterministicActor {
    /// `μ_θ(s)` for each row of `observations`, without recording: the behaviour action
    /// before exploration noise.
    pub fn act(&self, store: &ParamStore<f32>, observations: &Array2<f32>) -> Actions {
        let params = store.constants();
        let mu = no_grad(|| self.forward(&params, &Var::constant(observations.clone())));
        Actions::Continuous(to_rows(mu.value(), mu.shape()[1]))
    }

    /// `μ_θ(s)`, `(B, |A|)`.
    pub fn forward<T: Float>(&self, params: &nn::Bound<'_, T>, observations: &Var<T>) -> Var<T> {
        self.mlp.forward(params, observations)
    }
}

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
/// use wengert_rl::continuous::{Network, SquashedGaussianActor};
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

impl Network for SquashedGaussianActor {
    const PATH: &'static str = "actor";

    /// A policy for `observation_dim`-dimensional states and `action_dim`-dimensional actions
    /// (ReLU hidden layers, PyTorch's default initialisation).
    fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        SquashedGaussianActor {
            mlp: Mlp::builder(&sizes(observation_dim, hidden, 2 * action_dim)).build(path, rng),
            action_dim,
        }
    }
}

impl SquashedGaussianActor {
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

// ANCHOR: deterministic_policy_loss
/// The deterministic policy gradient loss `L(θ) = −mean_B Q_φ(s, μ_θ(s))` through one critic,
/// DDPG's and TD3's actor loss (bind `critic_params` as constants so that only `θ` is
/// trained).
pub fn deterministic_policy_loss<T: Float>(
    actor: &DeterministicActor,
    actor_params: &Bound<'_, T>,
    critic: &QNetwork,
    critic_params: &Bound<'_, T>,
    observations: &Var<T>,
) -> Var<T> {
    let actions = actor.forward(actor_params, observations);
    critic
        .forward(critic_params, observations, &actions)
        .mean_all()
        .neg()
}
// ANCHOR_END: deterministic_policy_loss
