//! The critics `Q_φ(s, a)`, `(Q_φ1, Q_φ2)` and the deterministic actor `μ_θ(s)`, with the
//! deterministic policy gradient loss of DDPG and TD3.

use autograd::{Float, Tensor, Var};
use nn::{Bound, Mlp, Module, Path};
use rand::Rng;

/// Layer sizes `[input, hidden…, output]`.
fn sizes(input: usize, hidden: &[usize], output: usize) -> Vec<usize> {
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
/// use wengert_rl::continuous::QNetwork;
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

impl QNetwork {
    /// A critic for `observation_dim`-dimensional states and `action_dim`-dimensional actions.
    pub fn new<T: Float>(
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

impl TwinQ {
    /// Both critics, under `path.q1` and `path.q2`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use nn::ParamStore;
    /// use wengert_rl::continuous::TwinQ;
    /// let mut store = ParamStore::<f32>::new();
    /// TwinQ::new(&mut store.root(), 3, 1, &[8], &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert!(store.id("q1.0.weight").is_some() && store.id("q2.2.bias").is_some());
    /// ```
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        observation_dim: usize,
        action_dim: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        TwinQ {
            q1: QNetwork::new(
                &mut path.sub("q1"),
                observation_dim,
                action_dim,
                hidden,
                rng,
            ),
            q2: QNetwork::new(
                &mut path.sub("q2"),
                observation_dim,
                action_dim,
                hidden,
                rng,
            ),
        }
    }

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
/// use wengert_rl::continuous::DeterministicActor;
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

impl DeterministicActor {
    /// A policy for `observation_dim`-dimensional states and `action_dim`-dimensional actions.
    pub fn new<T: Float>(
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

    /// `μ_θ(s)`, `(B, |A|)`.
    pub fn forward<T: Float>(&self, params: &nn::Bound<'_, T>, observations: &Var<T>) -> Var<T> {
        self.mlp.forward(params, observations)
    }
}

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
