//! `wengert report shooting-vs-collocation`: the same swing-up solved by shooting (AL-iLQR over
//! the controls) and by direct collocation (augmented Lagrangian over states and controls)
//! from the same bad initial guesses, tabulated (issue 23).
//!
//! The problem is the `shooting-vs-collocation` demo's: the cart-pole from rest hanging down to
//! the exact goal `x_N = (0, π, 0, 0)` in 2 s, `N = 20` Euler steps of 0.1 s, cost `∫ u² dt`,
//! so both methods solve the same finite-dimensional problem. A guess is a pair of a state and
//! a control trajectory; shooting uses only the controls (its states are always their rollout,
//! dynamically feasible, however far they fly), collocation uses both (its states need not
//! satisfy the dynamics: an *infeasible* guess). The guesses are chosen to be bad in one way or
//! the other: at rest, a straight line through the dynamics, noisy controls whose rollout is
//! wild (an *unstable* start for shooting), random states far from any trajectory, and a hard
//! push that throws the cart metres away.

#![allow(non_snake_case)]

use std::f64::consts::PI;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::Instant;

use ndarray::{Array1, Array2, array};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use wengert::autograd::Tensor;
use wengert::control::collocation::{CollocationOptions, DirectCollocation, Transcription};
use wengert::control::constrained::{
    AugmentedLagrangianIlqr, AugmentedLagrangianOptions, Constraints,
};
use wengert::control::ilqr::Problem;
use wengert::control::systems::{CartPole, System};

/// Euler step and number of steps.
const H: f64 = 0.1;
const N: usize = 20;

/// One initial guess: states (`(N+1) × 4`) and controls (`N × 1`).
struct Guess {
    name: &'static str,
    what: &'static str,
    x: Array2<f64>,
    u: Array2<f64>,
}

/// One method's result from one guess.
struct Outcome {
    converged: bool,
    updates: usize,
    inner: usize,
    seconds: f64,
    cost: f64,
    violation: f64,
    message: String,
}

fn problem() -> Problem {
    Problem::new(
        4,
        1,
        N,
        move |x, u| x + &(CartPole::default().continuous(x, u) * H),
        move |_, u| u.powi(2).sum(&[0], false) * H,
        |x| x.sum(&[0], false) * 0.0,
    )
}

fn goal() -> Array1<f64> {
    array![0.0, PI, 0.0, 0.0]
}

/// The states the controls `u` drive the cart-pole through from rest.
fn rollout(problem: &Problem, u: &Array2<f64>) -> Array2<f64> {
    let mut x = Array2::zeros((N + 1, 4));
    for t in 0..N {
        let next = problem.step(&x.row(t).to_owned(), &u.row(t).to_owned());
        x.row_mut(t + 1).assign(&next);
    }
    x
}

fn guesses(problem: &Problem, seed: u64) -> Vec<Guess> {
    let goal = goal();
    let mut rng = StdRng::seed_from_u64(seed);
    let line = Array2::from_shape_fn((N + 1, 4), |(k, i)| goal[i] * k as f64 / N as f64);
    let zeros = Array2::zeros((N, 1));
    let mut noise = |sigma: f64| {
        let normal = Normal::new(0.0, sigma).expect("σ > 0");
        Array2::from_shape_fn((N, 1), |_| normal.sample(&mut rng))
    };
    let (noise_5, noise_30) = (noise(5.0), noise(30.0));
    let random_states = Array2::from_shape_fn((N + 1, 4), |(_, i)| {
        let half_width = [5.0, 2.0 * PI, 10.0, 20.0][i];
        rng.random_range(-half_width..half_width)
    });
    let push = Array2::from_elem((N, 1), 60.0);
    vec![
        Guess {
            name: "rest",
            what: "u = 0; states: its rollout (hanging still)",
            x: rollout(problem, &zeros),
            u: zeros.clone(),
        },
        Guess {
            name: "line",
            what: "u = 0; states: the straight line to the goal (infeasible)",
            x: line.clone(),
            u: zeros.clone(),
        },
        Guess {
            name: "noise σ=5",
            what: "u ~ N(0, 5²); states: its rollout",
            x: rollout(problem, &noise_5),
            u: noise_5.clone(),
        },
        Guess {
            name: "noise σ=30",
            what: "u ~ N(0, 30²); states: its rollout (the pole spins)",
            x: rollout(problem, &noise_30),
            u: noise_30.clone(),
        },
        Guess {
            name: "random states",
            what: "u ~ N(0, 30²); states: uniform in ±(5, 2π, 10, 20) (infeasible)",
            x: random_states,
            u: noise_30,
        },
        Guess {
            name: "push 60 N",
            what: "u = 60 N throughout; states: its rollout (the cart ends 12 m away)",
            x: rollout(problem, &push),
            u: push,
        },
    ]
}

fn shooting(problem: &Problem, constraints: &Constraints, guess: &Guess) -> Outcome {
    let start = Instant::now();
    let result = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default()).solve(
        problem,
        constraints,
        &Array1::zeros(4),
        Some(&guess.u),
    );
    let seconds = start.elapsed().as_secs_f64();
    match result {
        Ok(solution) => Outcome {
            converged: solution.check().is_ok(),
            updates: solution.iterations.len(),
            inner: solution.inner_iterations(),
            seconds,
            cost: solution.cost,
            violation: solution.values.max_violation(),
            message: solution
                .check()
                .err()
                .map_or(String::new(), |e| e.to_string()),
        },
        Err(error) => Outcome {
            converged: false,
            updates: 0,
            inner: 0,
            seconds,
            cost: f64::NAN,
            violation: f64::NAN,
            message: error.to_string(),
        },
    }
}

fn collocation(problem: &Problem, constraints: &Constraints, guess: &Guess) -> Outcome {
    let start = Instant::now();
    let solution = DirectCollocation::from_system(
        CartPole::default(),
        H,
        problem,
        constraints.clone(),
        Transcription::Euler,
    )
    .solve(
        &Array1::zeros(4),
        Some(&guess.x),
        Some(&guess.u),
        &CollocationOptions::default(),
    );
    let seconds = start.elapsed().as_secs_f64();
    let violation = solution
        .iterations
        .last()
        .map_or(f64::NAN, |last| last.violation);
    Outcome {
        converged: solution.check().is_ok(),
        updates: solution.iterations.len(),
        inner: solution
            .iterations
            .iter()
            .map(|i| i.newton_iterations)
            .sum(),
        seconds,
        cost: solution.cost,
        violation,
        message: solution
            .check()
            .err()
            .map_or(String::new(), |e| e.to_string()),
    }
}

/// Runs both methods from every guess; prints the table and writes it to
/// `<out>/shooting-vs-collocation.md`.
pub fn run(out: &Path, seed: u64) -> Result<(), String> {
    let problem = problem();
    let constraints = Constraints::new(4, 1).with_goal(goal());
    let mut table = String::new();
    let _ = writeln!(
        table,
        "Cart-pole swing-up to x_N = (0, π, 0, 0), N = {N} Euler steps of {H} s, cost ∫u² dt; \
         the same guess (states, controls) for both methods (seed {seed}). Shooting = \
         augmented-Lagrangian iLQR (inner: iLQR iterations); collocation = Euler defects, \
         augmented Lagrangian with banded Newton steps (inner: Newton steps). Violation: the \
         largest of the goal residual and, for collocation, the defects.\n"
    );
    let _ = writeln!(
        table,
        "| guess | method | converged | updates | inner | time (s) | cost J | violation | note |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|---|");
    for guess in guesses(&problem, seed) {
        let initial_defect = (0..N)
            .map(|t| {
                let next = problem.step(&guess.x.row(t).to_owned(), &guess.u.row(t).to_owned());
                (&next - &guess.x.row(t + 1))
                    .iter()
                    .fold(0.0_f64, |a, b| a.max(b.abs()))
            })
            .fold(0.0_f64, f64::max);
        let end_error = (&guess.x.row(N) - &goal())
            .iter()
            .fold(0.0_f64, |a, b| a.max(b.abs()));
        println!(
            "guess {:<14} {}  (largest defect {initial_defect:.2e}, distance of x_N from the goal {end_error:.2})",
            guess.name, guess.what
        );
        for (method, outcome) in [
            ("shooting", shooting(&problem, &constraints, &guess)),
            ("collocation", collocation(&problem, &constraints, &guess)),
        ] {
            println!(
                "  {method:<12} converged {:<5} updates {:>3} inner {:>5} time {:>6.2} s  J {:>10.6}  violation {:.1e}  {}",
                outcome.converged,
                outcome.updates,
                outcome.inner,
                outcome.seconds,
                outcome.cost,
                outcome.violation,
                outcome.message
            );
            let _ = writeln!(
                table,
                "| {} | {method} | {} | {} | {} | {:.2} | {:.6} | {:.1e} | {} |",
                guess.name,
                if outcome.converged { "yes" } else { "no" },
                outcome.updates,
                outcome.inner,
                outcome.seconds,
                outcome.cost,
                outcome.violation,
                outcome.message.replace('|', "/")
            );
        }
    }
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let path = out.join("shooting-vs-collocation.md");
    fs::write(&path, &table).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\n{table}\nwritten to {}", path.display());
    Ok(())
}
