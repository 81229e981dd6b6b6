//! # Actor-critic networks
//!
//! The policy `π_θ(a|s)` and the value function `V_φ(s)` as two MLPs (separate networks, as
//! CleanRL's PPO), with the action distribution chosen by the action space:
//!
//! * `Discrete(n)`: a categorical distribution over `n` logits, `π(a|s) = softmax(f_θ(s))_a`;
//! * `Box(d)`: a diagonal Gaussian `N(μ_θ(s), diag σ²)` with a state-independent `ln σ`
//!   parameter (initialised to `log_std_init`).
//!
//! Initialisation follows the PPO implementation details (Huang et al., 2022): orthogonal
//! weights with gain `√2` in hidden layers, `0.01` on the policy head, `1` on the value head,
//! biases zero.

use autograd::{Float, Tensor, Var};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use nn::distributions::{Categorical, DiagGaussian};
use nn::{Activation, Bound, Init, Mlp, Module, ParamId, ParamStore, Path};
use rand::Rng;

use crate::env::{Space, VectorActions};

/// A batch of actions, one per row.
#[derive(Clone, Debug, PartialEq)]
pub enum Actions {
    /// One class per row.
    Discrete(Vec<usize>),
    /// One `d`-vector per row.
    Continuous(Array2<f32>),
}

impl Actions {
    /// The actions as a vectorised environment takes them.
    pub fn as_vector_actions(&self) -> VectorActions<'_> {
        match self {
            Actions::Discrete(a) => VectorActions::Discrete(a),
            Actions::Continuous(a) => VectorActions::Continuous(
                a.as_slice().expect("actions are stored in standard layout"),
            ),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Actions::Discrete(a) => a.len(),
            Actions::Continuous(a) => a.nrows(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Actions {
        match self {
            Actions::Discrete(a) => Actions::Discrete(indices.iter().map(|&i| a[i]).collect()),
            Actions::Continuous(a) => Actions::Continuous(select_rows(a, indices)),
        }
    }
}

/// `π(·|s)` for a batch of states.
pub enum PolicyDistribution<T: Float> {
    Categorical(Categorical<T>),
    Gaussian(DiagGaussian<T>),
}

impl<T: Float> PolicyDistribution<T> {
    /// `ln π(a|s)`, one per row.
    pub fn log_prob(&self, actions: &Actions) -> Var<T> {
        match (self, actions) {
            (PolicyDistribution::Categorical(d), Actions::Discrete(a)) => d.log_prob(a),
            (PolicyDistribution::Gaussian(d), Actions::Continuous(a)) => {
                d.log_prob(&Var::constant(a.mapv(|v| T::from_f64(v as f64)).into_dyn()))
            }
            _ => panic!("log_prob: the actions do not match the policy's action space"),
        }
    }

    /// `H[π(·|s)]`, one per row.
    pub fn entropy(&self) -> Var<T> {
        match self {
            PolicyDistribution::Categorical(d) => d.entropy(),
            PolicyDistribution::Gaussian(d) => d.entropy(),
        }
    }

    /// `KL(self ‖ other)`, one per row.
    pub fn kl(&self, other: &Self) -> Var<T> {
        match (self, other) {
            (PolicyDistribution::Categorical(p), PolicyDistribution::Categorical(q)) => p.kl(q),
            (PolicyDistribution::Gaussian(p), PolicyDistribution::Gaussian(q)) => p.kl(q),
            _ => panic!("kl: the two policies have different action spaces"),
        }
    }

    /// A sample `a ~ π(·|s)` per row.
    pub fn sample(&self, rng: &mut (impl Rng + ?Sized)) -> Actions {
        match self {
            PolicyDistribution::Categorical(d) => Actions::Discrete(d.sample(rng)),
            PolicyDistribution::Gaussian(d) => {
                Actions::Continuous(to_matrix(d.sample(rng).value()))
            }
        }
    }

    /// The most likely action per row (the deterministic policy used for evaluation).
    pub fn mode(&self) -> Actions {
        match self {
            PolicyDistribution::Categorical(d) => Actions::Discrete(d.mode()),
            PolicyDistribution::Gaussian(d) => Actions::Continuous(to_matrix(d.mode().value())),
        }
    }
}

fn to_matrix<T: Float>(a: &autograd::SharedArray<T>) -> Array2<f32> {
    let rows = a.shape()[0];
    let cols = a.len() / rows.max(1);
    Array2::from_shape_vec((rows, cols), a.iter().map(|v| v.as_f64() as f32).collect())
        .expect("a batch of actions is 2-D")
}

/// The policy's action head.
#[derive(Clone, Debug)]
pub enum ActionHead {
    /// Logits over `n` actions.
    Categorical { actions: usize },
    /// Means of a `dim`-dimensional Gaussian, with a state-independent `ln σ` parameter.
    Gaussian { dim: usize, log_std: ParamId },
}

impl ActionHead {
    /// The width of the policy network's output for `action_space`: a logit per action, or a
    /// mean per action dimension.
    pub fn outputs(action_space: &Space) -> usize {
        match action_space {
            Space::Discrete { n } => *n,
            Space::Box(b) => b.low.len(),
        }
    }

    /// The head for `action_space`; a Gaussian's `ln σ` (every entry `log_std_init`) becomes
    /// the parameter `log_std` under `path`.
    ///
    /// ```
    /// use wengert_rl::{env::Space, policy::ActionHead};
    /// let mut store = nn::ParamStore::<f32>::new();
    /// let head = ActionHead::new(&Space::Discrete { n: 3 }, &mut store.root().sub("actor"), 0.0);
    /// assert!(matches!(head, ActionHead::Categorical { actions: 3 }) && store.len() == 0);
    /// ```
    pub fn new<T: Float>(action_space: &Space, path: &mut Path<'_, T>, log_std_init: f64) -> Self {
        let outputs = Self::outputs(action_space);
        match action_space {
            Space::Discrete { .. } => ActionHead::Categorical { actions: outputs },
            Space::Box(_) => {
                let log_std = ArrayD::from_elem(IxDyn(&[outputs]), T::from_f64(log_std_init));
                let log_std = path.param("log_std", log_std);
                ActionHead::Gaussian {
                    dim: outputs,
                    log_std,
                }
            }
        }
    }

    /// `π(·|s)` from the policy network's output `out`: `Categorical(logits = out)` or
    /// `N(out, diag(exp(ln σ))²)`.
    pub fn distribution<T: Float>(
        &self,
        params: &Bound<'_, T>,
        out: &Var<T>,
    ) -> PolicyDistribution<T> {
        match *self {
            ActionHead::Categorical { .. } => {
                PolicyDistribution::Categorical(Categorical::new(out))
            }
            ActionHead::Gaussian { log_std, .. } => {
                PolicyDistribution::Gaussian(DiagGaussian::new(out, &params[log_std]))
            }
        }
    }
}

/// Options of an [`ActorCritic`].
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Hidden layer sizes of both networks.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy.
    pub log_std_init: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            log_std_init: 0.0,
        }
    }
}

/// The actor-critic's MLPs and action head on `input_dim` features (the observation, or an
/// LSTM's output): `f_π` to the action head's outputs under `actor.`, `f_V` to one value under
/// `critic.`, and the [`ActionHead`] (a Gaussian's `ln σ` under `actor.`).
#[derive(Clone, Debug)]
pub struct ActorCriticHeads {
    /// `f_π`.
    pub actor: Mlp,
    /// `f_V`.
    pub critic: Mlp,
    /// The action distribution's head.
    pub head: ActionHead,
}

impl ActorCriticHeads {
    /// Builds `f_π`, then `f_V` (in that order from `rng`), through `config.hidden` with
    /// `config.activation`. With `ortho_init`, the PPO implementation details' initialisation:
    /// orthogonal weights with gain `√2` in hidden layers, `0.01` on the policy's output layer,
    /// `1` on the value's, biases zero; otherwise PyTorch's default.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use nn::ParamStore;
    /// use wengert_rl::env::Space;
    /// use wengert_rl::policy::{ActorCriticHeads, NetworkConfig};
    /// let mut store = ParamStore::<f32>::new();
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let config = NetworkConfig { hidden: vec![8], ..Default::default() };
    /// let heads = ActorCriticHeads::new(&mut store, 5, &Space::Discrete { n: 3 }, &config, true, &mut rng);
    /// assert_eq!((heads.actor.layers.len(), heads.critic.layers.len()), (2, 2));
    /// assert!(store.id("actor.2.weight").is_some() && store.id("critic.2.bias").is_some());
    /// ```
    pub fn new<T: Float>(
        store: &mut ParamStore<T>,
        input_dim: usize,
        action_space: &Space,
        config: &NetworkConfig,
        ortho_init: bool,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let sizes = |last: usize| {
            let mut s = vec![input_dim];
            s.extend(&config.hidden);
            s.push(last);
            s
        };
        let mlp = |sizes: &[usize], output_gain: f64| {
            let builder = Mlp::builder(sizes).activation(config.activation);
            match ortho_init {
                true => builder
                    .hidden_init(Init::Orthogonal { gain: 2f64.sqrt() })
                    .output_init(Init::Orthogonal { gain: output_gain })
                    .bias_init(Init::Zeros),
                false => builder,
            }
        };
        let outputs = ActionHead::outputs(action_space);
        let actor =
            mlp(&sizes(outputs), 0.01).build(&mut store.root().sub(ActorCritic::ACTOR), rng);
        let critic = mlp(&sizes(1), 1.0).build(&mut store.root().sub(ActorCritic::CRITIC), rng);
        let head = ActionHead::new(
            action_space,
            &mut store.root().sub(ActorCritic::ACTOR),
            config.log_std_init,
        );
        ActorCriticHeads {
            actor,
            critic,
            head,
        }
    }
}

/// A policy network and a value network, parameters under `actor.` and `critic.`.
#[derive(Clone, Debug)]
pub struct ActorCritic {
    pub actor: Mlp,
    pub critic: Mlp,
    pub head: ActionHead,
    pub observation_dim: usize,
}

impl ActorCritic {
    /// The path of the policy's parameters (its network and a Gaussian's `ln σ`).
    pub const ACTOR: &'static str = "actor";
    /// The path of the value network's parameters.
    pub const CRITIC: &'static str = "critic";

    /// Builds both networks for observations of `observation_dim` and the given action space.
    ///
    /// # Panics
    /// If the action space is neither discrete nor a box.
    pub fn new<T: Float>(
        store: &mut ParamStore<T>,
        observation_dim: usize,
        action_space: &Space,
        config: &NetworkConfig,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let ActorCriticHeads {
            actor,
            critic,
            head,
        } = ActorCriticHeads::new(store, observation_dim, action_space, config, true, rng);
        ActorCritic {
            actor,
            critic,
            head,
            observation_dim,
        }
    }

    /// `π(·|s)` for a batch of observations `(B, obs_dim)`.
    pub fn policy<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> PolicyDistribution<T> {
        self.head
            .distribution(params, &self.actor.forward(params, observations))
    }

    /// `V(s)` for a batch of observations, shape `(B)`.
    pub fn value<T: Float>(&self, params: &Bound<'_, T>, observations: &Var<T>) -> Var<T> {
        self.critic.forward(params, observations).squeeze(-1)
    }
}

/// An actor-critic that gives `π(·|s)` and `V(s)` for a batch of observations: what an
/// on-policy trainer samples from and what its agent acts with.
pub trait PolicyNetwork: Send {
    /// `π(·|s)` for a batch of observations `(B, obs_dim)`.
    fn policy<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> PolicyDistribution<T>;

    /// `V(s)` for a batch of observations, shape `(B)`.
    fn value<T: Float>(&self, params: &Bound<'_, T>, observations: &Var<T>) -> Var<T>;
}

impl PolicyNetwork for ActorCritic {
    fn policy<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> PolicyDistribution<T> {
        ActorCritic::policy(self, params, observations)
    }

    fn value<T: Float>(&self, params: &Bound<'_, T>, observations: &Var<T>) -> Var<T> {
        ActorCritic::value(self, params, observations)
    }
}

/// The rows `indices` of `a`, in that order: `a.select(Axis(0), indices)`, which for a batch
/// of short rows (256 four-element observations) took 8–11 µs against 0.6–1 µs here; ndarray
/// appends the rows one at a time.
pub fn select_rows<A: Copy>(a: &Array2<A>, indices: &[usize]) -> Array2<A> {
    let mut elements = Vec::with_capacity(indices.len() * a.ncols());
    for &i in indices {
        elements.extend(a.row(i).iter().copied());
    }
    Array2::from_shape_vec((indices.len(), a.ncols()), elements).expect("whole rows")
}

/// A batch of `f32` observations as a constant of the network's element type.
pub fn observations_var<T: Float>(observations: &Array2<f32>) -> Var<T> {
    Var::constant(observations.mapv(|v| T::from_f64(v as f64)).into_dyn())
}

/// A value vector `(B)` as `f64`s.
pub fn to_f64<T: Float>(v: &Var<T>) -> Array1<f64> {
    v.value().iter().map(|x| x.as_f64()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Axis;

    #[test]
    fn select_rows_is_ndarrays_select() {
        let a = Array2::from_shape_fn((7, 3), |(i, j)| (10 * i + j) as f32);
        for indices in [vec![], vec![6], vec![3, 0, 3, 6, 1]] {
            assert_eq!(select_rows(&a, &indices), a.select(Axis(0), &indices));
        }
        // A transposed (column-major) array gives the same rows.
        let t = Array2::from_shape_fn((3, 7), |(j, i)| (10 * i + j) as f32).reversed_axes();
        assert_eq!(select_rows(&t, &[4, 2]), a.select(Axis(0), &[4, 2]));
    }
}
