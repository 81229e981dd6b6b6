//! MPC on Gymnasium's Pendulum-v1, and the sampling planners on the same task.
//!
//! The environment is written out here because `wengert-control` must not depend on
//! `wengert-rl`; once the rl crate's `Pendulum-v1` exists, this test should drive that
//! environment instead (the equations below are the same).
//!
//! Pendulum-v1 (`θ = 0` upright): `g = 10`, `m = 1`, `l = 1`, `dt = 0.05`, torque clipped to
//! `±2`, speed clipped to `±8`, semi-implicit Euler
//!
//! ```text
//! θ̇' = clip(θ̇ + (3g/(2l) sin θ + 3/(m l²) u) dt, −8, 8),     θ' = θ + θ̇' dt
//! reward = −(normalize(θ)² + 0.1 θ̇² + 0.001 u²)
//! ```
//!
//! with episodes of 200 steps from `θ ~ U(−π, π)`, `θ̇ ~ U(−1, 1)`.

use autograd::{Tensor, Var};
use ndarray::{Array1, array};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::f64::consts::PI;
use wengert_control::ilqr::{IlqrOptions, Problem};
use wengert_control::planners::{
    CemOptions, CrossEntropyMethod, Mpc, Planner, RandomShooting, RandomShootingOptions,
};

const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;
const DT: f64 = 0.05;
const MAX_TORQUE: f64 = 2.0;
const MAX_SPEED: f64 = 8.0;
const EPISODE_STEPS: usize = 200;

/// Pendulum-v1's step on autograd variables (batched as columns).
fn pendulum_v1_step(x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
    let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
    let u = u.clamp(-MAX_TORQUE, MAX_TORQUE);
    let theta_ddot = theta.sin() * (3.0 * G / (2.0 * L)) + u * (3.0 / (M * L * L));
    let theta_dot_next = (theta_dot + theta_ddot * DT).clamp(-MAX_SPEED, MAX_SPEED);
    let theta_next = theta + &theta_dot_next * DT;
    Var::concat(&[&theta_next, &theta_dot_next], 0)
}

/// The environment's reward on plain numbers.
fn reward(theta: f64, theta_dot: f64, u: f64) -> f64 {
    let normalized = (theta + PI).rem_euclid(2.0 * PI) - PI;
    -(normalized * normalized + 0.1 * theta_dot * theta_dot + 0.001 * u * u)
}

/// The planning problem: the true dynamics, and the reward's cost with the non-smooth
/// `normalize(θ)²` replaced by `2 (1 − cos θ)` (equal to second order at upright, periodic).
fn planning_problem(horizon: usize) -> Problem {
    let cost = |x: &Var<f64>| {
        let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
        ((1.0 - theta.cos()) * 2.0 + theta_dot.powi(2) * 0.1).sum(&[0], false)
    };
    Problem::new(
        2,
        1,
        horizon,
        pendulum_v1_step,
        move |x, u| cost(x) + u.powi(2).sum(&[0], false) * 0.001,
        move |x| cost(x) * 5.0,
    )
    .with_control_limits(array![-MAX_TORQUE], array![MAX_TORQUE])
}

/// Runs one episode with the planner; returns the return and the final state.
fn episode(planner: &mut dyn Planner, x0: Array1<f64>) -> (f64, Array1<f64>) {
    let step = planning_problem(1);
    planner.reset();
    let mut x = x0;
    let mut total = 0.0;
    for _ in 0..EPISODE_STEPS {
        let u = planner.plan(&x);
        let u_applied = u[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        total += reward(x[0], x[1], u_applied);
        x = step.step(&x, &array![u_applied]);
    }
    (total, x)
}

fn random_starts(count: usize, seed: u64) -> Vec<Array1<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| array![rng.random_range(-PI..PI), rng.random_range(-1.0..1.0)])
        .collect()
}

#[test]
fn mpc_balances_pendulum_v1_from_any_start() {
    let options = IlqrOptions {
        max_iterations: 5,
        ..IlqrOptions::default()
    };
    let mut mpc = Mpc::new(planning_problem(40), options).with_first_call_iterations(100);
    let start = std::time::Instant::now();
    let mut returns = Vec::new();
    for (i, x0) in random_starts(10, 2024).into_iter().enumerate() {
        let (total, x) = episode(&mut mpc, x0.clone());
        let upright = ((x[0] + PI).rem_euclid(2.0 * PI) - PI).abs();
        println!(
            "episode {i}: start {x0:.3}, return {total:.1}, final |θ| {upright:.4}, θ̇ {:.4}",
            x[1]
        );
        assert!(
            upright < 0.05 && x[1].abs() < 0.1,
            "episode {i} ends at {x}"
        );
        returns.push(total);
    }
    let average = returns.iter().sum::<f64>() / returns.len() as f64;
    println!(
        "MPC average return over 10 episodes: {average:.1} ({:?})",
        start.elapsed()
    );
    assert!(average >= -200.0, "average return {average}");
}

#[test]
fn sampling_planners_balance_pendulum_v1_near_upright() {
    // Sampling planners are far costlier per step than MPC over iLQR, so they are checked on the
    // balancing half of the task only: from near upright (within the ≈ 0.4 rad where the torque
    // limit can still beat gravity), hold it there.
    let starts = [array![0.3, 0.0], array![-0.2, 0.5]];
    let mut cem = CrossEntropyMethod::new(
        planning_problem(15),
        CemOptions {
            samples: 64,
            elites: 8,
            iterations: 3,
            ..CemOptions::default()
        },
    );
    let mut shooting = RandomShooting::new(
        planning_problem(10),
        RandomShootingOptions {
            samples: 200,
            seed: 1,
        },
    );
    for (name, planner) in [
        ("CEM", &mut cem as &mut dyn Planner),
        ("random shooting", &mut shooting as &mut dyn Planner),
    ] {
        for x0 in &starts {
            let (total, x) = episode(planner, x0.clone());
            println!("{name}: start {x0}, return {total:.1}, final {x:.3}");
            let upright = ((x[0] + PI).rem_euclid(2.0 * PI) - PI).abs();
            assert!(
                upright < 0.1 && x[1].abs() < 0.5,
                "{name} from {x0} ends at {x}"
            );
        }
    }
}
