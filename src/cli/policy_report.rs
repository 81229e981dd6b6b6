//! `wengert report policy-from-control` and the `gps-pendulum` demo: a neural policy trained
//! from optimal control (issue 24), run alone at test time, over seeds.
//!
//! Rows: guided policy search on the pendulum swing-up from 8 starts; DAgger and behaviour
//! cloning with an MPC expert on Gymnasium's Pendulum-v1; DAgger with an LQR expert on a linear
//! system. PLATO and the cart-pole GPS row are not built.

#![allow(non_snake_case)]

use std::f64::consts::PI;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Instant;

use ndarray::{Array1, Array2, array};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert::autograd::Tensor;
use wengert::control::gps::dagger::Expert;
use wengert::control::gps::guided_policy_search::policy_rollout;
use wengert::control::gps::{
    DaggerConfig, FitConfig, GpsConfig, GpsResult, behaviour_cloning, dagger, evaluate,
    guided_policy_search,
};
use wengert::control::ilqr::{IlqrOptions, Problem};
use wengert::control::lqr::{DareProblem, RiccatiOptions};
use wengert::control::planners::{Mpc, Planner};
use wengert::control::plant::{Plant, PlantStep};
use wengert::control::systems::Pendulum;
use wengert::control::systems::pendulum_v1::planning_problem;
use wengert::plant::GymPlant;

/// Steps of the pendulum swing-up's trajectories (`h = 0.1` s) and of the policy's test run.
const SWING_STEPS: usize = 80;
const TEST_STEPS: usize = 80;

/// The damped pendulum (`θ = 0` hanging, `π` upright), RK4 `h = 0.1`, `|u| ≤ 6`,
/// `ℓ = (θ − π)² + 0.1 θ̇² + 0.01 u²`, `ℓ_T = 10 ((θ − π)² + 0.1 θ̇²)`.
pub fn swing_up_problem() -> Problem {
    let state_cost = |x: &wengert::autograd::Var<f64>| {
        let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
        ((theta - PI).powi(2) + theta_dot.powi(2) * 0.1).sum(&[0], false)
    };
    Problem::from_system(
        Pendulum::default(),
        0.1,
        SWING_STEPS,
        move |x, u| state_cost(x) + u.powi(2).sum(&[0], false) * 0.01,
        move |x| state_cost(x) * 10.0,
    )
    .with_control_limits(array![-6.0], array![6.0])
}

/// What GPS on the swing-up gave for one seed.
pub struct GpsPendulum {
    pub result: GpsResult,
    /// The policy alone from each start, `TEST_STEPS` steps.
    pub rollouts: Vec<Array2<f64>>,
    /// Starts from which `|θ − π| < 0.1` over the last 50 steps of the test run.
    pub held: usize,
    pub seconds: f64,
}

/// GPS from 8 starts hanging down with noise `θ₀, θ̇₀ ~ U(−0.3, 0.3)`.
pub fn gps_pendulum(seed: u64, verbose: bool) -> Result<GpsPendulum, String> {
    let problem = swing_up_problem();
    let mut rng = StdRng::seed_from_u64(seed);
    let starts: Vec<Array1<f64>> = (0..8)
        .map(|_| array![rng.random_range(-0.3..0.3), rng.random_range(-0.3..0.3)])
        .collect();
    let config = GpsConfig {
        iterations: 16,
        rho_growth: 1.8,
        hidden: vec![32, 32],
        fit: FitConfig {
            epochs: 200,
            batch_size: 100,
            learning_rate: 3e-3,
        },
        ilqr: IlqrOptions {
            max_iterations: 30,
            ..IlqrOptions::default()
        },
        seed,
        ..GpsConfig::default()
    };
    let start = Instant::now();
    let result = guided_policy_search(&problem, &starts, (array![-6.0], array![6.0]), &config, |k| {
        if verbose {
            println!(
                "GPS iteration {:>2}: disagreement max {:.2e} mean {:.2e}  Σ c(τ) {:.3}  ρ {:.1}  max |λ| {:.3}  policy loss {:.2e}  ({:.0} s)",
                k.iteration,
                k.disagreement,
                k.mean_disagreement,
                k.trajectory_cost,
                k.rho,
                k.max_multiplier,
                k.policy_loss,
                start.elapsed().as_secs_f64()
            );
        }
    })
    .map_err(|e| e.to_string())?;
    let test = problem.clone().with_horizon(TEST_STEPS);
    let rollouts: Vec<Array2<f64>> = starts
        .iter()
        .map(|x0| policy_rollout(&test, &result.policy, x0, TEST_STEPS).0)
        .collect();
    let held = rollouts
        .iter()
        .filter(|x| (TEST_STEPS - 49..=TEST_STEPS).all(|t| (x[[t, 0]] - PI).abs() < 0.1))
        .count();
    Ok(GpsPendulum {
        result,
        rollouts,
        held,
        seconds: start.elapsed().as_secs_f64(),
    })
}

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
fn dagger_linear(seed: u64) -> Result<(f64, usize, f64), String> {
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

/// MPC over iLQR on Pendulum-v1's own step (horizon 40, 5 iterations a step), labelling an
/// observation `(cos θ, sin θ, θ̇)` with its first action.
struct MpcExpert {
    mpc: Mpc,
}

impl Expert for MpcExpert {
    fn reset(&mut self) {
        self.mpc.reset();
    }
    fn label(&mut self, observation: &Array1<f64>) -> Array1<f64> {
        let theta = observation[1].atan2(observation[0]);
        self.mpc.plan(&array![theta, observation[2]])
    }
}

fn mpc_expert() -> MpcExpert {
    let options = IlqrOptions {
        max_iterations: 5,
        ..IlqrOptions::default()
    };
    MpcExpert {
        mpc: Mpc::new(planning_problem(40), options).with_first_call_iterations(100),
    }
}

/// DAgger and behaviour cloning on Pendulum-v1 with the MPC expert: (DAgger's mean return over
/// 10 test episodes, behaviour cloning's, labels each).
fn pendulum_v1(seed: u64) -> Result<(f64, f64, usize), String> {
    let config = DaggerConfig {
        rounds: 4,
        episodes_per_round: 3,
        episode_length: 200,
        fit: FitConfig {
            epochs: 150,
            batch_size: 64,
            learning_rate: 3e-3,
        },
        seed,
        ..DaggerConfig::default()
    };
    let mut plant = GymPlant::new(wengert::rl::env::Pendulum::new());
    let result = dagger(&mut plant, &mut mpc_expert(), &config, |round| {
        println!(
            "  Pendulum-v1 DAgger round {}: {} labels, mean return {:.1}, fit loss {:.4}",
            round.round, round.dataset_size, round.mean_return, round.policy_loss
        )
    })?;
    let labels = result.dataset.len();
    let cloned = behaviour_cloning(&mut plant, &mut mpc_expert(), labels, &config)?;
    let mean = |returns: Vec<f64>| returns.iter().sum::<f64>() / returns.len() as f64;
    let dagger_return = mean(evaluate(&mut plant, &result.policy, 10, 200, 10_000)?);
    let cloning_return = mean(evaluate(&mut plant, &cloned.policy, 10, 200, 10_000)?);
    Ok((dagger_return, cloning_return, labels))
}

/// Runs every row for every seed; prints and writes `<out>/policy-from-control.md`.
pub fn run(out: &Path, seeds: &[u64]) -> Result<(), String> {
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| seed | GPS pendulum: starts held (of 8) | GPS: final disagreement | GPS time (s) | \
         Pendulum-v1 DAgger return | BC return | labels each | linear DAgger cost / LQR | BC / LQR | labels |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|---|---|");
    for &seed in seeds {
        println!("seed {seed}");
        let gps = gps_pendulum(seed, true)?;
        let disagreement = gps
            .result
            .iterations
            .last()
            .map_or(f64::NAN, |k| k.disagreement);
        println!(
            "  GPS: held from {} of 8 starts, disagreement {disagreement:.2e}",
            gps.held
        );
        let (ratio, linear_labels, cloning_ratio) = dagger_linear(seed)?;
        println!(
            "  linear: DAgger cost / LQR {ratio:.4}, behaviour cloning {cloning_ratio:.4}, {linear_labels} labels"
        );
        let (dagger_return, cloning_return, labels) = pendulum_v1(seed)?;
        println!(
            "  Pendulum-v1: DAgger {dagger_return:.1}, behaviour cloning {cloning_return:.1}, {labels} labels each"
        );
        let _ = writeln!(
            table,
            "| {seed} | {} | {disagreement:.1e} | {:.0} | {dagger_return:.1} | {cloning_return:.1} | {labels} | {ratio:.4} | {cloning_ratio:.4} | {linear_labels} |",
            gps.held, gps.seconds
        );
    }
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let path = out.join("policy-from-control.md");
    fs::write(&path, &table).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\n{table}\nwritten to {}", path.display());
    Ok(())
}
