//! `rl`'s Gymnasium environments as `control`'s [`Plant`]s, so the algorithms in `control` that
//! act in an environment (model-based RL, DAgger, PLATO) run on them without `control`
//! depending on `rl`.

use control::plant::{Plant, PlantStep};
use ndarray::Array1;
use rl::env::{Action, Env, Space};

/// An `rl` environment with a continuous (box) action space, seen as a [`Plant`]: observations
/// widened to `f64`, actions rounded to `f32`, `done` when terminated or truncated.
///
/// ```
/// use ndarray::array;
/// use wengert::control::plant::Plant;
/// use wengert::plant::GymPlant;
/// use wengert::rl::env::Pendulum;
///
/// let mut plant = GymPlant::new(Pendulum::new());
/// assert_eq!(plant.action_bounds(), (array![-2.0], array![2.0]));
/// let first = plant.reset(0);
/// assert_eq!(first.len(), 3); // cos θ, sin θ, θ̇
/// assert!(plant.step(&array![0.5]).unwrap().reward < 0.0);
/// ```
pub struct GymPlant<E> {
    env: E,
    lower: Array1<f64>,
    upper: Array1<f64>,
}

impl<E: Env> GymPlant<E> {
    /// Wraps `env`.
    ///
    /// # Panics
    /// If `env`'s action space is not a box: a plant's actions are continuous.
    pub fn new(env: E) -> Self {
        let (lower, upper) = match env.action_space() {
            Space::Box(bounds) => (
                bounds.low.iter().map(|&x| f64::from(x)).collect(),
                bounds.high.iter().map(|&x| f64::from(x)).collect(),
            ),
            other => panic!(
                "GymPlant: {} has the action space {other:?}; a plant needs a continuous (Box) one",
                env.id()
            ),
        };
        GymPlant { env, lower, upper }
    }

    /// The wrapped environment (e.g. to read its physical state).
    pub fn env(&self) -> &E {
        &self.env
    }
}

impl<E: Env> Plant for GymPlant<E> {
    fn name(&self) -> &str {
        self.env.id()
    }

    fn observation_dim(&self) -> usize {
        self.env.observation_space().dim()
    }

    fn action_bounds(&self) -> (Array1<f64>, Array1<f64>) {
        (self.lower.clone(), self.upper.clone())
    }

    fn reset(&mut self, seed: u64) -> Array1<f64> {
        self.env
            .reset(Some(seed))
            .iter()
            .map(|&x| f64::from(x))
            .collect()
    }

    fn step(&mut self, action: &Array1<f64>) -> Result<PlantStep, String> {
        let action: Vec<f32> = action.iter().map(|&x| x as f32).collect();
        let step = self
            .env
            .step(Action::Continuous(&action))
            .map_err(|error| error.to_string())?;
        Ok(PlantStep {
            observation: step.observation.iter().map(|&x| f64::from(x)).collect(),
            reward: step.reward,
            done: step.terminated || step.truncated,
        })
    }
}
