//! # An actor-critic with a shared trunk
//!
//! One MLP `h = f_ψ(s)` (the activation after every layer, including the last) feeds two
//! linear heads: the policy's logits or Gaussian mean, `π_θ(·|s) = head_π(h)`, and the value
//! `V(s) = head_V(h)`. This is A3C's network (Mnih et al., 2016) and Stable-Baselines3's
//! `net_arch=[64, 64]` with a shared feature extractor: the policy loss and the value loss
//! both shape the trunk, so the two objectives' weights (`c_v`) matter more than with the
//! separate networks of [`crate::policy::ActorCritic`].
//!
//! Initialisation as there: orthogonal with gain `√2` in the trunk, `0.01` on the policy head,
//! `1` on the value head, biases zero. Parameters live under `trunk.`, `actor.` (policy head
//! and `ln σ`) and `critic.` (value head).

use autograd::{Float, Tensor, Var};
use nn::{Bound, Init, Linear, Mlp, Module, ParamStore};
use rand::Rng;

use crate::env::Space;
use crate::policy::{ActionHead, NetworkConfig, PolicyDistribution};

/// A shared trunk with a policy head and a value head.
///
/// ```
/// use rand::SeedableRng;
/// use autograd::Tensor;
/// use nn::ParamStore;
/// use wengert_rl::env::Space;
/// use wengert_rl::policy::{NetworkConfig, observations_var};
/// use wengert_rl::shared_actor_critic::SharedActorCritic;
/// let mut store = ParamStore::<f32>::new();
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let net = SharedActorCritic::new(&mut store, 4, &Space::Discrete { n: 2 }, &NetworkConfig::default(), &mut rng);
/// let (pi, v) = net.forward(&store.constants(), &observations_var(&ndarray::Array2::zeros((3, 4))));
/// assert_eq!(v.shape(), &[3]);
/// assert_eq!(pi.entropy().shape(), &[3]);
/// assert!(store.id("trunk.2.weight").is_some() && store.id("critic.weight").is_some());
/// ```
#[derive(Clone, Debug)]
pub struct SharedActorCritic {
    pub trunk: Mlp,
    pub policy_head: Linear,
    pub value_head: Linear,
    pub head: ActionHead,
    pub observation_dim: usize,
}

impl SharedActorCritic {
    /// Builds the trunk (`config.hidden`, which must not be empty) and both heads for
    /// observations of `observation_dim` and the given action space.
    ///
    /// # Panics
    /// If `config.hidden` is empty: there would be no trunk to share.
    pub fn new<T: Float>(
        store: &mut ParamStore<T>,
        observation_dim: usize,
        action_space: &Space,
        config: &NetworkConfig,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let Some(&features) = config.hidden.last() else {
            panic!("shared actor-critic: needs at least one hidden layer to share, found none");
        };
        let outputs = ActionHead::outputs(action_space);
        let mut sizes = vec![observation_dim];
        sizes.extend(&config.hidden);
        let hidden_init = Init::Orthogonal { gain: 2f64.sqrt() };
        let trunk = Mlp::builder(&sizes)
            .activation(config.activation)
            .output_activation(config.activation)
            .hidden_init(hidden_init)
            .output_init(hidden_init)
            .bias_init(Init::Zeros)
            .build(&mut store.root().sub("trunk"), rng);
        let policy_head = Linear::with_init(
            &mut store.root().sub("actor"),
            features,
            outputs,
            Init::Orthogonal { gain: 0.01 },
            Some(Init::Zeros),
            rng,
        );
        let value_head = Linear::with_init(
            &mut store.root().sub("critic"),
            features,
            1,
            Init::Orthogonal { gain: 1.0 },
            Some(Init::Zeros),
            rng,
        );
        let log_std_init = config.log_std_init;
        let head = ActionHead::new(action_space, &mut store.root().sub("actor"), log_std_init);
        SharedActorCritic {
            trunk,
            policy_head,
            value_head,
            head,
            observation_dim,
        }
    }

    /// `π(·|s)` and `V(s)` (shape `(B)`) for a batch of observations `(B, obs_dim)`, with one
    /// pass through the trunk.
    pub fn forward<T: Float>(
        &self,
        params: &Bound<'_, T>,
        observations: &Var<T>,
    ) -> (PolicyDistribution<T>, Var<T>) {
        let h = self.trunk.forward(params, observations);
        let out = self.policy_head.forward(params, &h);
        let pi = self.head.distribution(params, &out);
        (pi, self.value_head.forward(params, &h).squeeze(-1))
    }
}
