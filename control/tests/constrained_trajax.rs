//! The constrained problems of trajax's `tests/optimizers_test.py` (google/trajax), solved by
//! augmented-Lagrangian iLQR and dual gradient descent, held to a tighter bar: trajax asserts a
//! violation below 1e-3, these assert 1e-6; and its unconstrained acrobot, by iLQR.
#![allow(non_snake_case)]

mod common;

use autograd::Tensor;
use common::{car_problem, distance_to_obstacle};
use ndarray::array;
use wengert_control::constrained::{
    AugmentedLagrangianIlqr, AugmentedLagrangianOptions, Constraints, DualGradientDescent,
    DualGradientOptions,
};
use wengert_control::ilqr::{Ilqr, Problem, quadratic_cost};
use wengert_control::systems::{Acrobot, DoubleIntegrator, Pendulum, System};

#[test]
fn car_around_an_obstacle_by_augmented_lagrangian_ilqr() {
    let (problem, constraints) = car_problem();
    let solution = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &array![0.0, 0.0, 0.0], None)
        .unwrap();
    println!(
        "J {:.8} after {} updates and {} iLQR iterations, violation {:.1e}",
        solution.cost,
        solution.iterations.len(),
        solution.inner_iterations(),
        solution.values.max_violation()
    );
    assert!(solution.converged);
    assert!(solution.values.max_violation() <= 1e-6);
    // What trajax's test asserts, at 1e-6 instead of its 1e-3.
    let x_N = solution.x.row(25);
    assert!((x_N[0] - 1.0).abs() <= 1e-6 && x_N[1].abs() <= 1e-6 && x_N[2].abs() <= 1e-6);
    assert!(solution.u.iter().all(|u| u.abs() <= 1.0 + 1e-6));
    assert!(
        distance_to_obstacle(&solution.x.slice(ndarray::s![..25, ..]).to_owned()) >= 0.25 - 1e-6
    );
    // The obstacle is active (the car would drive straight through it otherwise).
    assert!(
        solution
            .multipliers
            .mu
            .column(0)
            .iter()
            .any(|mu| *mu > 1e-3)
    );
    assert!(solution.iterations.last().unwrap().stationarity <= 1e-4);
}

/// Constraints that the unconstrained optimum already satisfies with room to spare leave it
/// where it is, with zero multipliers.
#[test]
fn inactive_constraints_leave_the_unconstrained_ilqr_optimum() {
    let problem = Problem::from_system(
        Pendulum::default(),
        0.05,
        40,
        |x, u| x.powi(2).sum(&[0], false) * 0.1 + u.powi(2).sum(&[0], false) * 0.01,
        |x| x.powi(2).sum(&[0], false) * 10.0,
    );
    let x0 = array![1.0, 0.0];
    // The inner solver's options, so that both are converged equally far.
    let options = AugmentedLagrangianOptions::default();
    let unconstrained = Ilqr::new(options.ilqr.clone())
        .solve(&problem, &x0, None)
        .unwrap();
    let constraints = Constraints::new(2, 1)
        .with_control_bounds(array![-100.0], array![100.0])
        .with_inequality(|x, _| x.slice(0, 1, 2).powi(2) - 100.0); // |θ̇| ≤ 10
    let constrained = AugmentedLagrangianIlqr::new(options)
        .solve(&problem, &constraints, &x0, None)
        .unwrap();
    assert!(constrained.converged);
    assert_eq!(constrained.iterations.len(), 1);
    assert!(constrained.multipliers.mu.iter().all(|mu| *mu == 0.0));
    let difference = (&constrained.u - &unconstrained.u)
        .iter()
        .fold(0.0f64, |a, d| a.max(d.abs()));
    assert!(difference < 1e-6, "{difference}");
    assert!((constrained.cost - unconstrained.cost).abs() < 1e-9 * unconstrained.cost);
}

/// A double integrator from rest at p = −1 to rest at p = 1 in 3 s (RK4, exact for it) at
/// least effort `Σ ½ u_t²`: a convex problem, where dual gradient descent converges too.
fn double_integrator_transfer() -> Problem {
    Problem::from_system(
        DoubleIntegrator,
        0.1,
        30,
        |_, u| u.powi(2).sum(&[0], false) * 0.5,
        |x| x.sum(&[0], false) * 0.0,
    )
}

/// The transfer with the goal as its constraint: the dual function is a concave
/// quadratic in λ_T ∈ ℝ², so dual gradient descent converges linearly, at a rate set by its
/// step and the conditioning of `∂x_N/∂u (∂x_N/∂u)ᵀ`; the augmented Lagrangian's step ρ grows
/// instead, and it needs a fraction of the multiplier updates. Both reach the same optimum.
#[test]
fn augmented_lagrangian_needs_fewer_multiplier_updates_than_dual_gradient_descent() {
    let problem = double_integrator_transfer();
    let constraints = Constraints::new(2, 1).with_goal(array![1.0, 0.0]);
    let x0 = array![-1.0, 0.0];
    let augmented = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &x0, None)
        .unwrap();
    let dual = DualGradientDescent::new(DualGradientOptions {
        step: 1.5,
        max_iterations: 400,
        ..DualGradientOptions::default()
    })
    .solve(&problem, &constraints, &x0, None)
    .unwrap();
    println!(
        "augmented Lagrangian: J {:.8}, {} updates; dual gradient descent (α = 1.5): J {:.8}, {} updates",
        augmented.cost,
        augmented.iterations.len(),
        dual.cost,
        dual.iterations.len()
    );
    assert!(augmented.converged && dual.converged);
    assert!(augmented.values.max_violation() <= 1e-6 && dual.values.max_violation() <= 1e-6);
    assert!((augmented.cost - dual.cost).abs() < 1e-5 * augmented.cost);
    assert!(augmented.iterations.len() * 3 < dual.iterations.len());
}

/// trajax's `acrobot` (Sutton & Barto's, as Gym's Acrobot-v1: unit masses and lengths, centres
/// of mass at 0.5, moments of inertia 1 about the centres of mass, g = 9.8) is this crate's
/// [`Acrobot`] with inertias 0.25 + 1 about the joints.
fn trajax_acrobot() -> Acrobot {
    Acrobot {
        inertias: [1.25, 1.25],
        gravity: 9.8,
        ..Acrobot::default()
    }
}

/// trajax's acrobot with Euler steps of 0.1 s and the cost `½ 0.1 ‖x − goal‖² + ½ 0.01 u²` per
/// step, as `testAcrobotSolve` and `testConstrainedAcrobotSolve` share it, plus `terminal` on
/// `x_T`.
fn trajax_acrobot_problem(
    terminal: impl Fn(&autograd::Var<f64>) -> autograd::Var<f64> + Send + Sync + 'static,
) -> Problem {
    let target = array![std::f64::consts::PI, 0.0, 0.0, 0.0];
    let acrobot = trajax_acrobot();
    Problem::new(
        4,
        1,
        50,
        move |x, u| x + &(acrobot.continuous(x, u) * 0.1),
        move |x, u| {
            quadratic_cost(x, &target, &array![0.1, 0.1, 0.1, 0.1])
                + u.powi(2).sum(&[0], false) * 0.005
        },
        terminal,
    )
}

/// `‖∇_u J‖₂` over all `T m` controls by central differences of rollouts (trajax asserts the
/// Euclidean norm of its gradient).
fn gradient_norm_by_differences(
    problem: &Problem,
    x0: &ndarray::Array1<f64>,
    u: &ndarray::Array2<f64>,
) -> f64 {
    let epsilon = 1e-6;
    let mut squared = 0.0;
    for index in ndarray::indices(u.dim()) {
        let (mut plus, mut minus) = (u.clone(), u.clone());
        plus[index] += epsilon;
        minus[index] -= epsilon;
        let derivative =
            (problem.rollout(x0, &plus).1 - problem.rollout(x0, &minus).1) / (2.0 * epsilon);
        squared += derivative * derivative;
    }
    squared.sqrt()
}

/// `testAcrobotSolve`: unconstrained, with the terminal cost `½ 1000 ‖x_T − goal‖²`. From rest
/// hanging down with zero controls the state stays put, so `J = (50 · ½ 0.1 + ½ 1000) π² =
/// 4959.476212` (trajax checks it to 1e-6); iLQR (at most 100 iterations, as trajax runs it)
/// must end below 51.0 with `‖∇_u J‖₂ < 1e-4`. It needs to stop on the gradient
/// (`max_t ‖∇_{u_t} J‖_∞ ≤ 1e-6`) rather than on the default relative expected improvement
/// (1e-8), which stops at J 44.513287 with `‖∇_u J‖₂` = 1.7e-3.
#[test]
fn unconstrained_acrobot_swing_up_matches_trajax() {
    let goal = array![std::f64::consts::PI, 0.0, 0.0, 0.0];
    let problem = trajax_acrobot_problem(move |x| {
        quadratic_cost(x, &goal, &array![1000.0, 1000.0, 1000.0, 1000.0])
    });
    let x0 = array![0.0, 0.0, 0.0, 0.0];
    let zero = ndarray::Array2::zeros((50, 1));
    let (_, J_zero) = problem.rollout(&x0, &zero);
    assert!((J_zero - 4959.476212).abs() < 1e-6, "{J_zero}");

    let solution = Ilqr::new(wengert_control::ilqr::IlqrOptions {
        max_iterations: 100,
        tolerance: 1e-14,
        ..wengert_control::ilqr::IlqrOptions::default()
    })
    .solve(&problem, &x0, None)
    .unwrap();
    let gradient = gradient_norm_by_differences(&problem, &x0, &solution.u);
    println!(
        "acrobot: J(0) = {J_zero:.6}, iLQR J = {:.6} after {} iterations ({:?}), ‖∇_u J‖₂ = {gradient:.1e}",
        solution.cost,
        solution.iterations.len(),
        solution.termination
    );
    assert!(solution.cost < 51.0);
    assert!(gradient < 1e-4, "{gradient}");
}

/// `testConstrainedAcrobotSolve` from `x0` with the initial controls `u_0 = … = u_{T−1} =
/// initial_control`: T = 50 Euler steps of 0.1 s, stage cost `½ 0.1 ‖x − goal‖² + ½ 0.01 u²`,
/// no terminal cost, `x_T = goal = (π, 0, 0, 0)` and `|u| ≤ 5`. trajax asserts a violation
/// below 1e-3; this asserts 1e-6. Returns `J`.
fn constrained_acrobot_swing_up(x0: ndarray::Array1<f64>, initial_control: f64) -> f64 {
    let goal = array![std::f64::consts::PI, 0.0, 0.0, 0.0];
    let problem = trajax_acrobot_problem(|x| x.sum(&[0], false) * 0.0);
    let constraints = Constraints::new(4, 1)
        .with_control_bounds(array![-5.0], array![5.0])
        .with_goal(goal.clone());
    let initial_controls = ndarray::Array2::from_elem((50, 1), initial_control);
    let start = std::time::Instant::now();
    let solution = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &x0, Some(&initial_controls))
        .unwrap();
    println!(
        "acrobot from x0 = {x0}, u = {initial_control}: J {:.6} after {} updates and {} iLQR iterations, violation {:.1e}, {:.1} s",
        solution.cost,
        solution.iterations.len(),
        solution.inner_iterations(),
        solution.values.max_violation(),
        start.elapsed().as_secs_f64()
    );
    if let Err(error) = solution.check() {
        panic!("from {x0} with u = {initial_control}: {error}");
    }
    assert!(solution.values.max_violation() <= 1e-6);
    let x_T = solution.x.row(50);
    assert!((&x_T - &goal).iter().all(|e| e.abs() <= 1e-6), "{x_T}");
    assert!(solution.u.iter().all(|u| u.abs() <= 5.0 + 1e-6));
    solution.cost
}

/// trajax's first case: from rest hanging down with zero initial controls (`J` 44.850777).
#[test]
fn acrobot_swing_up_to_an_exact_goal_by_augmented_lagrangian_ilqr() {
    let J = constrained_acrobot_swing_up(array![0.0, 0.0, 0.0, 0.0], 0.0);
    assert!((J - 44.850777).abs() < 1e-5, "{J}");
}

/// trajax's last case: from `(1, 0, 0, 0)` with `u = 1` everywhere (`J` 32.525190); all six run
/// in the ignored test below.
#[test]
fn acrobot_swing_up_from_a_displaced_start_and_nonzero_controls() {
    let J = constrained_acrobot_swing_up(array![1.0, 0.0, 0.0, 0.0], 1.0);
    assert!((J - 32.525190).abs() < 1e-5, "{J}");
}

/// All of trajax's 3 starting states × 2 initial control sequences (`cargo test -p
/// wengert-control --release --test constrained_trajax -- --ignored`).
#[test]
#[ignore = "six swing-ups, several seconds; two of them run in the suite"]
fn acrobot_swing_up_from_all_of_trajaxs_starts() {
    for initial_control in [0.0, 1.0] {
        for x0 in [
            array![0.0, 0.0, 0.0, 0.0],
            array![0.1, 0.1, 0.1, 0.1],
            array![1.0, 0.0, 0.0, 0.0],
        ] {
            constrained_acrobot_swing_up(x0, initial_control);
        }
    }
}

/// Control bounds two ways: as inequality rows of the augmented Lagrangian (trajax's way), or
/// as the inner iLQR's box (projected Newton, [`Problem::with_control_limits`]); the same optimum.
#[test]
fn control_bounds_as_constraints_or_as_the_ilqr_box_give_the_same_car_optimum() {
    let (problem, with_bounds) = car_problem();
    let without_bounds = Constraints::new(3, 2)
        .with_inequality(|x, _| {
            let (dx, dy) = (x.slice(0, 0, 1) - 0.5, x.slice(0, 1, 2) - 0.01);
            (dx.powi(2) + dy.powi(2)).sqrt() * -1.0 + 0.25
        })
        .with_goal(array![1.0, 0.0, 0.0]);
    let boxed = problem
        .clone()
        .with_control_limits(array![-1.0, -1.0], array![1.0, 1.0]);
    let solver = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default());
    let x0 = array![0.0, 0.0, 0.0];
    let rows = solver.solve(&problem, &with_bounds, &x0, None).unwrap();
    let projected = solver.solve(&boxed, &without_bounds, &x0, None).unwrap();
    println!(
        "bounds as rows: J {:.8} ({} updates, {} iLQR); as the box: J {:.8} ({} updates, {} iLQR)",
        rows.cost,
        rows.iterations.len(),
        rows.inner_iterations(),
        projected.cost,
        projected.iterations.len(),
        projected.inner_iterations()
    );
    assert!(rows.converged && projected.converged);
    assert!(projected.u.iter().all(|u| u.abs() <= 1.0));
    // The bounds are active on the optimum (|v| or |ω| reaches 1).
    assert!(rows.u.iter().any(|u| u.abs() > 1.0 - 1e-4));
    assert!((rows.cost - projected.cost).abs() < 1e-5 * rows.cost);
}
