//! Gymnasium's Pendulum-v1 as a planning problem: its exact discrete step on autograd
//! variables, and a smooth cost for iLQR/MPC and the sampling planners.
//!
//! Pendulum-v1 (`θ = 0` upright): `g = 10`, `m = 1`, `l = 1`, `dt = 0.05`, torque clipped to
//! `±2`, speed clipped to `±8`, semi-implicit Euler
//!
//! ```text
//! θ̇' = clip(θ̇ + (3g/(2l) sin θ + 3/(m l²) u) dt, −8, 8),     θ' = θ + θ̇' dt
//! reward = −(normalize(θ)² + 0.1 θ̇² + 0.001 u²)
//! ```
//!
//! The planner's cost replaces the non-smooth `normalize(θ)²` by `2 (1 − cos θ)`, equal to it
//! to second order at upright and periodic in `θ`. (The environment itself lives in the rl
//! crate, which this one depends on for model-based RL (`crate::model_based`);
//! `tests/mpc_pendulum.rs` at the repository root drives it with MPC.)

use autograd::{Tensor, Var};
use ndarray::array;

use crate::ilqr::Problem;

/// Gravity `g`.
pub const G: f64 = 10.0;
/// Mass `m`.
pub const M: f64 = 1.0;
/// Length `l`.
pub const L: f64 = 1.0;
/// Time step.
pub const DT: f64 = 0.05;
/// Torque limit.
pub const MAX_TORQUE: f64 = 2.0;
/// Angular speed limit.
pub const MAX_SPEED: f64 = 8.0;

/// Pendulum-v1's step on autograd variables, states and controls batched as columns
/// (`x` is `[2, B]`, `u` is `[1, B]`).
///
/// ```
/// use autograd::prelude::*;
/// use wengert_control::systems::pendulum_v1;
/// let x = Var::constant(ndarray::array![[0.0], [0.0]]);
/// let u = Var::constant(ndarray::array![[5.0]]); // clipped to 2
/// let next = pendulum_v1::step(&x, &u);
/// assert!((next.value()[[1, 0]] - 3.0 * 2.0 * 0.05).abs() < 1e-12);
/// ```
pub fn step(x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
    let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
    let u = clip(u, MAX_TORQUE);
    let theta_ddot = theta.sin() * (3.0 * G / (2.0 * L)) + u * (3.0 / (M * L * L));
    let theta_dot_next = clip(&(theta_dot + theta_ddot * DT), MAX_SPEED);
    let theta_next = theta + &theta_dot_next * DT;
    Var::concat(&[&theta_next, &theta_dot_next], 0)
}

/// `clip(v, −limit, limit)` with derivative 1 on the closed interval, bounds included. The
/// planners hold `u` inside the torque box, often exactly on its bound, where they need the
/// one-sided derivative from inside; `clamp` follows PyTorch and has derivative 0 exactly at a
/// bound. The values are `clamp`'s, bit for bit.
fn clip(v: &Var<f64>, limit: f64) -> Var<f64> {
    let inside = v.value().mapv(|x| if x.abs() <= limit { 1.0 } else { 0.0 });
    let outside = v.value().mapv(|x| {
        if x.abs() <= limit {
            0.0
        } else {
            x.clamp(-limit, limit)
        }
    });
    v * &Var::constant(inside) + Var::constant(outside)
}

/// The planning problem over `horizon` steps: the true dynamics, the smooth stage cost
/// `2 (1 − cos θ) + 0.1 θ̇² + 0.001 u²`, five times the state cost at the end, torque limits.
///
/// ```
/// use wengert_control::systems::pendulum_v1;
/// let problem = pendulum_v1::planning_problem(40);
/// let next = problem.step(&ndarray::array![0.0, 0.0], &ndarray::array![0.0]);
/// assert_eq!(next, ndarray::array![0.0, 0.0]); // upright at rest stays there
/// ```
pub fn planning_problem(horizon: usize) -> Problem {
    let cost = |x: &Var<f64>| {
        let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
        ((1.0 - theta.cos()) * 2.0 + theta_dot.powi(2) * 0.1).sum(&[0], false)
    };
    Problem::new(
        2,
        1,
        horizon,
        step,
        move |x, u| cost(x) + u.powi(2).sum(&[0], false) * 0.001,
        move |x| cost(x) * 5.0,
    )
    .with_control_limits(array![-MAX_TORQUE], array![MAX_TORQUE])
}

/// `normalize(θ) = ((θ + π) mod 2π) − π` on autograd variables: `θ` minus a constant multiple of
/// `2π`, so its derivative is 1 (Gymnasium's `angle_normalize`).
pub fn angle_normalize(theta: &Var<f64>) -> Var<f64> {
    let two_pi = 2.0 * std::f64::consts::PI;
    let turns = theta
        .value()
        .mapv(|t| ((t + std::f64::consts::PI) / two_pi).floor() * two_pi);
    theta - &Var::constant(turns)
}

/// The planning problem with Gymnasium's reward as its cost: the true dynamics, the stage
/// cost `normalize(θ)² + 0.1 θ̇² + 0.001 u²` (exactly `−reward`), `terminal` times the state
/// cost at the end, torque limits.
///
/// ```
/// use wengert_control::systems::pendulum_v1;
/// let problem = pendulum_v1::reward_problem(40, 5.0);
/// let (x, u) = (ndarray::array![3.0 * std::f64::consts::PI, 1.0], ndarray::array![2.0]);
/// let pi = std::f64::consts::PI;
/// let expected = pi * pi + 0.1 + 0.004; // 3π normalises to −π
/// assert!((problem.running_cost_at(0, &x, &u) - expected).abs() < 1e-9);
/// ```
pub fn reward_problem(horizon: usize, terminal: f64) -> Problem {
    let cost = |x: &Var<f64>| {
        let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
        (angle_normalize(&theta).powi(2) + theta_dot.powi(2) * 0.1).sum(&[0], false)
    };
    Problem::new(
        2,
        1,
        horizon,
        step,
        move |x, u| cost(x) + u.powi(2).sum(&[0], false) * 0.001,
        move |x| cost(x) * terminal,
    )
    .with_control_limits(array![-MAX_TORQUE], array![MAX_TORQUE])
}
