//! DAgger and behaviour cloning with an LQR expert on a linear system (the double integrator).

#![allow(non_snake_case)]

use ndarray::{Array1, Array2, array};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use wengert::control::gps::{DaggerConfig, FitConfig, behaviour_cloning, dagger, evaluate};
use wengert::control::lqr::{DareProblem, RiccatiOptions};
use wengert::control::plant::{Plant, PlantStep};

/// `x' = A x + B u` (the double integrator, `dt = 0.1`), reward `−(xᵀx + 0.1 uᵀu)`, episodes of
/// 50 steps from `x₀ ~ U(−1, 1)²` drawn with the reset's seed.
struct LinearPlant {
    x: Array1<f64>,
    t: usize,
}

const A: [[f64; 2]; 2] = [[1.0, 0.1], [0.0, 1.0]];
const B: [f64; 2] = [0.005, 0.1];

impl Plant for LinearPlant {
    fn name(&self) -> &str {
        "double integrator"
    }
    fn observation_dim(&self) -> usize {
        2
    }
    fn action_bounds(&self) -> (Array1<f64>, Array1<f64>) {
        (array![-20.0], array![20.0])
    }
    fn reset(&mut self, seed: u64) -> Array1<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        self.x = array![rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        self.t = 0;
        self.x.clone()
    }
    fn step(&mut self, u: &Array1<f64>) -> Result<PlantStep, String> {
        let cost = self.x.dot(&self.x) + 0.1 * u.dot(u);
        let x = &self.x;
        self.x = array![
            A[0][0] * x[0] + A[0][1] * x[1] + B[0] * u[0],
            A[1][0] * x[0] + A[1][1] * x[1] + B[1] * u[0]
        ];
        self.t += 1;
        Ok(PlantStep {
            observation: self.x.clone(),
            reward: -cost,
            done: self.t == 50,
        })
    }
}

/// DAgger with the LQR expert `u = −K x` on [`LinearPlant`]: (policy cost / LQR cost over 10
/// test episodes, labels, behaviour cloning's ratio on the same labels).
pub(super) fn dagger_linear(seed: u64) -> Result<(f64, usize, f64), String> {
    let dare = DareProblem::new(
        array![[A[0][0], A[0][1]], [A[1][0], A[1][1]]],
        array![[B[0]], [B[1]]],
        Array2::eye(2),
        array![[0.1]],
    )
    .map_err(|e| e.to_string())?
    .solve(&RiccatiOptions::default())
    .map_err(|e| e.to_string())?;
    let K = dare.K;
    let expert = move |x: &Array1<f64>| -K.dot(x);
    let config = DaggerConfig {
        rounds: 5,
        episodes_per_round: 4,
        episode_length: 50,
        fit: FitConfig {
            epochs: 100,
            batch_size: 64,
            learning_rate: 3e-3,
            min_learning_rate: 1e-4,
        },
        seed,
        ..DaggerConfig::default()
    };
    let mut plant = LinearPlant {
        x: Array1::zeros(2),
        t: 0,
    };
    let result = dagger(&mut plant, &mut expert.clone(), &config, |_| {})?;
    let cloned = behaviour_cloning(
        &mut plant,
        &mut expert.clone(),
        result.dataset.len(),
        &config,
    )?;
    let lqr = expert.clone();
    let lqr_cost: f64 = (0..10)
        .map(|e| {
            let mut x = plant.reset(1_000 + e);
            let mut total = 0.0;
            loop {
                let step = plant.step(&lqr(&x)).expect("a linear step");
                total -= step.reward;
                x = step.observation;
                if step.done {
                    break total;
                }
            }
        })
        .sum();
    let mut cost = |policy| -> Result<f64, String> {
        Ok(-evaluate(&mut plant, policy, 10, 50, 1_000)?
            .iter()
            .sum::<f64>())
    };
    let dagger_ratio = cost(&result.policy)? / lqr_cost;
    let cloning_ratio = cost(&cloned.policy)? / lqr_cost;
    Ok((dagger_ratio, result.dataset.len(), cloning_ratio))
}
