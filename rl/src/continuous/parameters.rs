//! `θ`, `φ`, their targets and their Adam optimisers: built, listed as resumable parts and
//! merged into the agent's store the same way by DDPG, TD3 and SAC.

use nn::ParamStore;
use nn::optim::{Adam, AdamConfig};

use super::{Network, merge_stores};
use crate::common::off_policy::{ActionScale, OffPolicy};
use crate::common::trainer::Part;
use crate::snapshot::TrainerRng;
use crate::train::TrainError;

/// The actor's parameters `θ` (and a target copy `θ̄`, for a deterministic actor), the
/// critics' `φ` and their target `φ̄`, and an Adam optimiser for each of `θ` and `φ`.
pub struct Parameters {
    /// `θ` (names `actor.*`).
    pub actor: ParamStore<f32>,
    /// `θ̄`, for DDPG and TD3 (SAC has none).
    pub actor_target: Option<ParamStore<f32>>,
    /// `φ`.
    pub critic: ParamStore<f32>,
    /// `φ̄`.
    pub critic_target: ParamStore<f32>,
    /// Adam on `θ`.
    pub actor_optimizer: Adam<f32>,
    /// Adam on `φ`.
    pub critic_optimizer: Adam<f32>,
}

impl Parameters {
    /// `θ` of an actor `A` and `φ` of critics `Q` for the loop's environments, initialised in
    /// that order from its generator, then their targets and optimisers as
    /// [`Parameters::new`] makes them; an error names a discrete or unbounded action space.
    pub fn init<A: Network, Q: Network>(
        off_policy: &mut OffPolicy,
        hidden: &[usize],
        actor_target: bool,
        learning_rate: f64,
    ) -> Result<(A, Q, Parameters), TrainError> {
        let (observation_dim, action_dim) = dimensions(off_policy)?;
        let rng = &mut off_policy.rng;
        let (mut actor_store, mut critic_store) = (ParamStore::new(), ParamStore::new());
        let actor: A = build(&mut actor_store, observation_dim, action_dim, hidden, rng);
        let critic: Q = build(&mut critic_store, observation_dim, action_dim, hidden, rng);
        let parameters = Parameters::new(actor_store, critic_store, actor_target, learning_rate);
        Ok((actor, critic, parameters))
    }

    /// The targets as copies, `θ̄ ← θ` (when `actor_target`) and `φ̄ ← φ`, and Adam with
    /// `learning_rate` on each of `θ` and `φ`.
    ///
    /// ```
    /// use nn::ParamStore;
    /// use wengert_rl::continuous::Parameters;
    /// let mut actor = ParamStore::<f32>::new();
    /// actor.root().sub("actor").param("w", ndarray::arr1(&[1.0f32]));
    /// let mut critic = ParamStore::<f32>::new();
    /// critic.root().sub("q").param("w", ndarray::arr1(&[2.0f32]));
    /// let mut parameters = Parameters::new(actor, critic, true, 1e-3);
    /// let names: Vec<_> = parameters.parts().into_iter().map(|(name, _)| name).collect();
    /// assert_eq!(names[..4], ["agent", "agent.actor_target", "agent.critic", "agent.critic_target"]);
    /// assert!(parameters.merged(&[]).id("critic_target.q.w").is_some());
    /// ```
    pub fn new(
        actor: ParamStore<f32>,
        critic: ParamStore<f32>,
        actor_target: bool,
        learning_rate: f64,
    ) -> Self {
        let adam = AdamConfig {
            lr: learning_rate as f32,
            ..AdamConfig::default()
        };
        Parameters {
            actor_target: actor_target.then(|| actor.clone()),
            critic_target: critic.clone(),
            actor_optimizer: Adam::new(actor.trainable(), adam),
            critic_optimizer: Adam::new(critic.trainable(), adam),
            actor,
            critic,
        }
    }

    /// `θ̄`.
    ///
    /// # Panics
    /// If built without it (SAC's parameters).
    pub fn actor_target(&self) -> &ParamStore<f32> {
        self.actor_target
            .as_ref()
            .expect("a deterministic actor's parameters keep θ̄")
    }

    /// `θ̄ ← τ θ + (1 − τ) θ̄` (when there is a `θ̄`), then `φ̄ ← τ φ + (1 − τ) φ̄`.
    pub fn update_targets(&mut self, tau: f32) {
        if let Some(target) = &mut self.actor_target {
            target.polyak_from(&self.actor, tau);
        }
        self.critic_target.polyak_from(&self.critic, tau);
    }

    /// The resumable parts: `agent` (`θ`), `agent.actor_target`, `agent.critic`,
    /// `agent.critic_target`, `actor_optimizer` and `critic_optimizer`.
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = vec![("agent", Part::Params(&self.actor))];
        if let Some(target) = &self.actor_target {
            parts.push(("agent.actor_target", Part::Params(target)));
        }
        parts.extend([
            ("agent.critic", Part::Params(&self.critic)),
            ("agent.critic_target", Part::Params(&self.critic_target)),
            (
                "actor_optimizer",
                Part::Optimizer(&mut self.actor_optimizer, &self.actor),
            ),
            (
                "critic_optimizer",
                Part::Optimizer(&mut self.critic_optimizer, &self.critic),
            ),
        ]);
        parts
    }

    /// One store for the agent: `θ` first (ids unchanged), then `actor_target.*`, `critic.*`,
    /// `critic_target.*` and the `others`.
    pub fn merged(&self, others: &[(&str, &ParamStore<f32>)]) -> ParamStore<f32> {
        let mut stores: Vec<(&str, &ParamStore<f32>)> = Vec::new();
        if let Some(target) = &self.actor_target {
            stores.push(("actor_target", target));
        }
        stores.extend([
            ("critic", &self.critic),
            ("critic_target", &self.critic_target),
        ]);
        stores.extend_from_slice(others);
        merge_stores(&self.actor, &stores)
    }
}

/// A network `N` in `store`, under `N::PATH`.
fn build<N: Network>(
    store: &mut ParamStore<f32>,
    observation_dim: usize,
    action_dim: usize,
    hidden: &[usize],
    rng: &mut TrainerRng,
) -> N {
    let mut root = store.root();
    match N::PATH {
        "" => N::new(&mut root, observation_dim, action_dim, hidden, rng),
        name => N::new(
            &mut root.sub(name),
            observation_dim,
            action_dim,
            hidden,
            rng,
        ),
    }
}

/// `(obs_dim, |A|)` of the loop's environments; an error names a discrete or unbounded action
/// space.
pub fn dimensions(off_policy: &OffPolicy) -> Result<(usize, usize), TrainError> {
    let scale = ActionScale::new(&off_policy.envs.action_space())?;
    Ok((off_policy.envs.observation_dim(), scale.dim()))
}
