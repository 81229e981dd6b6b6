//! The trained agent of DDPG, TD3 and SAC, and the store that keeps all of its networks.

use autograd::{Tensor, Var, no_grad};
use ndarray::Array2;
use nn::{Kind, Mlp, Module, ParamStore};

use crate::common::off_policy::{ActionScale, OffPolicy};
use crate::policy::Actions;
use crate::train::Agent;

/// How a continuous agent turns its actor's output into the deterministic action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyHead {
    /// The output is `μ_θ(s) ∈ (−1, 1)^|A|` itself (DDPG, TD3).
    Deterministic,
    /// The output is `[μ; ln σ]` of a tanh-Gaussian; act with `tanh(μ)` (SAC).
    TanhGaussian,
}

/// A trained DDPG, TD3 or SAC agent. Its [`store`](Agent::store) holds every network — the
/// actor first (`actor.*`), then the critics and targets under their own prefixes — so a
/// checkpoint keeps the whole learner.
pub struct ContinuousAgent {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// Every parameter, actor first.
    pub store: ParamStore<f32>,
    /// The actor network (its ids index `store`).
    pub actor: Mlp,
    /// How the actor's output becomes an action.
    pub head: PolicyHead,
    /// Unit box → environment bounds.
    pub scale: ActionScale,
}

impl ContinuousAgent {
    /// The agent of a learner trained in `off_policy`'s environments: `store` holds every
    /// parameter, actor first; `actor` indexes it.
    pub fn new(
        env_id: String,
        store: ParamStore<f32>,
        actor: Mlp,
        head: PolicyHead,
        off_policy: &OffPolicy,
    ) -> Self {
        let scale = off_policy.envs.scale().cloned();
        ContinuousAgent {
            env_id,
            store,
            actor,
            head,
            scale: scale.expect("a continuous learner's environments have a bounded Box"),
        }
    }

    /// The deterministic unit-box action for each observation row.
    pub fn unit_actions(&self, observations: &Array2<f32>) -> Array2<f32> {
        let params = self.store.constants();
        let out = no_grad(|| {
            self.actor
                .forward(&params, &Var::constant(observations.clone()))
        });
        let d = self.scale.dim();
        let unit = match self.head {
            PolicyHead::Deterministic => out,
            PolicyHead::TanhGaussian => out.narrow(-1, 0, d).tanh(),
        };
        to_rows(unit.value(), d)
    }

    /// Returns of `episodes` deterministic episodes, seeded `seed, seed + 1, …`.
    pub fn evaluate(&self, episodes: usize, seed: u64) -> Result<Vec<f64>, crate::env::EnvError> {
        crate::train::evaluate(self, episodes, seed)
    }
}

impl Agent for ContinuousAgent {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    fn act(&self, observations: &Array2<f32>) -> Actions {
        Actions::Continuous(self.scale.rows_to_env(&self.unit_actions(observations)))
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }
}

/// A `(B, d)` array from a value of `B·d` elements.
pub fn to_rows(value: &autograd::SharedArray<f32>, d: usize) -> Array2<f32> {
    let rows = value.len() / d.max(1);
    Array2::from_shape_vec((rows, d), value.iter().copied().collect()).expect("B × d values")
}

/// One store holding `actor` (ids unchanged, so its networks still index it) followed by every
/// entry of the `others`, each name prefixed: the learner's whole state for a checkpoint.
///
/// ```
/// use nn::ParamStore;
/// use wengert_rl::continuous::merge_stores;
/// let mut actor = ParamStore::<f32>::new();
/// let w = actor.root().sub("actor").param("w", ndarray::arr1(&[1.0f32]));
/// let mut critic = ParamStore::<f32>::new();
/// critic.root().sub("q1").param("w", ndarray::arr1(&[2.0f32]));
/// let all = merge_stores(&actor, &[("critic", &critic)]);
/// assert_eq!(all.id("actor.w"), Some(w));
/// assert!(all.id("critic.q1.w").is_some());
/// ```
pub fn merge_stores(
    actor: &ParamStore<f32>,
    others: &[(&str, &ParamStore<f32>)],
) -> ParamStore<f32> {
    let mut all = actor.clone();
    for (prefix, store) in others {
        for id in store.ids() {
            all.add(
                &format!("{prefix}.{}", store.name(id)),
                Kind::Parameter,
                store.value(id).to_owned(),
            );
        }
    }
    all
}
