//! The plant: the real system a controller acts in and a learner collects data from, seen
//! through what this crate needs — episodes, actions in a box, and observations.
//!
//! `control` does not depend on `rl`: the algorithms that act in an environment
//! ([`model_based::run`](crate::model_based::run), and DAgger) take
//! any [`Plant`], and the `wengert` facade adapts `rl`'s Gymnasium environments to it
//! (`wengert::plant::GymPlant`). The equations of motion both crates share live below both, in
//! the `dynamics` crate.

use ndarray::Array1;

/// One step of a [`Plant`]: the next observation, the reward, and whether the episode ended
/// (terminated or truncated).
#[derive(Debug, Clone, PartialEq)]
pub struct PlantStep {
    /// The observation after the step.
    pub observation: Array1<f64>,
    /// The reward of the step.
    pub reward: f64,
    /// The episode ended (terminated or truncated).
    pub done: bool,
}

/// An episodic system with continuous actions in a box.
///
/// ```
/// use ndarray::{Array1, array};
/// use wengert_control::plant::{Plant, PlantStep};
///
/// /// `s' = s + a`, reward `−s'²`, ten steps an episode.
/// struct Integrator { s: f64, t: usize }
/// impl Plant for Integrator {
///     fn name(&self) -> &str { "integrator" }
///     fn observation_dim(&self) -> usize { 1 }
///     fn action_bounds(&self) -> (Array1<f64>, Array1<f64>) { (array![-1.0], array![1.0]) }
///     fn reset(&mut self, seed: u64) -> Array1<f64> {
///         (self.s, self.t) = (seed as f64, 0);
///         array![self.s]
///     }
///     fn step(&mut self, a: &Array1<f64>) -> Result<PlantStep, String> {
///         self.s += a[0];
///         self.t += 1;
///         Ok(PlantStep { observation: array![self.s], reward: -self.s * self.s, done: self.t == 10 })
///     }
/// }
/// let mut plant = Integrator { s: 0.0, t: 0 };
/// assert_eq!(plant.reset(3), array![3.0]);
/// assert_eq!(plant.step(&array![-1.0]).unwrap().reward, -4.0);
/// ```
pub trait Plant {
    /// A name for messages, e.g. Gymnasium's id.
    fn name(&self) -> &str;

    /// The length of an observation.
    fn observation_dim(&self) -> usize;

    /// The action box `[lower, upper]`.
    fn action_bounds(&self) -> (Array1<f64>, Array1<f64>);

    /// Starts an episode from a start state drawn with `seed`; returns the first observation.
    fn reset(&mut self, seed: u64) -> Array1<f64>;

    /// Applies `action`; an action the plant cannot take is an error naming it.
    fn step(&mut self, action: &Array1<f64>) -> Result<PlantStep, String>;
}
