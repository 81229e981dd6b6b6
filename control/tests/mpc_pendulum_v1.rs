//! The sampling planners on Gymnasium's Pendulum-v1.
//!
//! Here the episode is simulated with the crate's own copy of the Pendulum-v1 step
//! (`systems::pendulum_v1`). MPC over iLQR is demonstrated against the rl crate's environment
//! itself in `tests/mpc_pendulum.rs` at the repository root.
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

use ndarray::{Array1, array};
use std::f64::consts::PI;
use wengert_control::planners::{
    CemOptions, CrossEntropyMethod, Planner, RandomShooting, RandomShootingOptions,
};

use wengert_control::systems::pendulum_v1::{MAX_TORQUE, planning_problem};

const EPISODE_STEPS: usize = 200;

/// The environment's reward on plain numbers.
fn reward(theta: f64, theta_dot: f64, u: f64) -> f64 {
    let normalized = (theta + PI).rem_euclid(2.0 * PI) - PI;
    -(normalized * normalized + 0.1 * theta_dot * theta_dot + 0.001 * u * u)
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
