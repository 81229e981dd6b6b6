//! `θ`, its target `θ'` and its Adam optimiser: built and listed as resumable parts the same way
//! by the Q-learners (DQN, R2D2).

use nn::ParamStore;
use nn::optim::{Adam, AdamConfig};

use crate::common::trainer::Part;

/// A Q-network's parameters `θ`, the target network's `θ'` and an Adam optimiser on `θ`.
///
/// ```
/// use nn::ParamStore;
/// use nn::optim::AdamConfig;
/// use wengert_rl::common::off_policy::QParameters;
/// let mut online = ParamStore::<f32>::new();
/// online.root().sub("q").param("w", ndarray::arr1(&[1.0f32]));
/// let mut parameters = QParameters::new(online, AdamConfig::default());
/// assert!(parameters.target.id("q.w").is_some()); // θ' ← θ
/// let names: Vec<_> = parameters.parts().into_iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["agent", "target", "optimizer"]);
/// ```
pub struct QParameters {
    /// `θ`.
    pub online: ParamStore<f32>,
    /// `θ'`.
    pub target: ParamStore<f32>,
    /// Adam on `θ`.
    pub optimizer: Adam<f32>,
}

impl QParameters {
    /// `θ' ← θ` (a copy) and Adam with `adam` on `θ`'s trainable parameters.
    pub fn new(online: ParamStore<f32>, adam: AdamConfig<f32>) -> Self {
        QParameters {
            optimizer: Adam::new(online.trainable(), adam),
            target: online.clone(),
            online,
        }
    }

    /// The resumable parts: `agent` (`θ`, which doubles as the policy checkpoint), `target`
    /// (`θ'`) and `optimizer`.
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("agent", Part::Params(&self.online)),
            ("target", Part::Params(&self.target)),
            (
                "optimizer",
                Part::Optimizer(&mut self.optimizer, &self.online),
            ),
        ]
    }
}
