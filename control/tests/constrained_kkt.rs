//! The outcome of constrained solves checked against closed forms and against the KKT
//! conditions: infeasible constraints end in a named failure, a two-step QP with a known
//! active set gives its closed-form controls and multipliers, and the converged multipliers
//! of trajax's car make the Lagrangian stationary by finite differences.
#![allow(non_snake_case)]

mod common;

use autograd::Tensor;
use common::car_problem;
use ndarray::{Array2, array};
use wengert_control::collocation::{CollocationOptions, DirectCollocation, Transcription};
use wengert_control::constrained::{
    AugmentedLagrangianIlqr, AugmentedLagrangianOptions, Constraints, augmented_lagrangian_problem,
};
use wengert_control::ilqr::Problem;

/// `x_{t+1} = x_t + u_t` from `x_0 = 0` over `N` steps at cost `Σ_t (x_t² + u_t²)`.
fn integrator(N: usize) -> Problem {
    Problem::new(
        1,
        1,
        N,
        |x, u| x + u,
        |x, u| (x.powi(2) + u.powi(2)).sum(&[0], false),
        |x| x.sum(&[0], false) * 0.0,
    )
}

/// `x_N = 1` and `x_N = 2` at once: no trajectory satisfies both, and the best the penalty can
/// do is `x_N = 1.5`, a violation of 0.5 whatever `ρ`. Both solvers return within their
/// update budget with a finite trajectory, `converged` false, and `check()` naming the
/// violation — no hang, no NaN.
#[test]
fn contradicting_terminal_constraints_end_in_a_named_failure() {
    let problem = integrator(3);
    let contradiction = Constraints::new(1, 1)
        .with_goal(array![1.0])
        .with_goal(array![2.0]);
    let x0 = array![0.0];

    let start = std::time::Instant::now();
    let shooting = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &contradiction, &x0, None)
        .unwrap();
    let error = shooting.check().unwrap_err();
    println!("AL-iLQR: {error} ({:.1?})", start.elapsed());
    assert!(!shooting.converged);
    assert!(
        shooting
            .x
            .iter()
            .chain(shooting.u.iter())
            .all(|v| v.is_finite())
    );
    assert!((shooting.x[[3, 0]] - 1.5).abs() < 1e-6);
    assert!((error.violation - 0.5).abs() < 1e-6);
    assert_eq!(error.updates, 30);
    assert!(error.to_string().contains("constraint violation 5.0e-1"));

    let start = std::time::Instant::now();
    let collocation = DirectCollocation::new(
        &problem,
        |_, u| u.clone(),
        1.0,
        contradiction,
        Transcription::Euler,
    )
    .solve(&x0, None, None, &CollocationOptions::default());
    let error = collocation.check().unwrap_err();
    println!("collocation: {error} ({:.1?})", start.elapsed());
    assert!(!collocation.converged);
    assert!(
        collocation
            .x
            .iter()
            .chain(collocation.u.iter())
            .all(|v| v.is_finite())
    );
    assert!((collocation.x[[3, 0]] - 1.5).abs() < 1e-6);
    assert!((error.violation - 0.5).abs() < 1e-6);
    assert!(error.to_string().contains("constraint violation 5.0e-1"));
}

/// Two steps, `x_2 = 3`, `u_t ≤ 1.8`: `J = x_1² + u_0² + u_1² = 2u_0² + u_1²` with
/// `u_0 + u_1 = 3`. Without the bound the optimum is `u = (1, 2)` (`4u_0 = 2u_1`); the bound cuts
/// `u_1` to 1.8, so `u_0 = 1.2`, `J = 6.12`. Stationarity of
/// `L = J + λ_T (x_2 − 3) + Σ_t μ_t (u_t − 1.8)`: `4u_0 + λ_T = 0` gives `λ_T = −4.8`, and
/// `2u_1 + λ_T + μ_1 = 0` gives `μ_1 = 1.2 > 0`; `μ_0 = 0` (inactive). Shooting and Euler
/// collocation (the same finite-dimensional problem) must both land there.
#[test]
fn two_step_qp_with_an_active_bound_has_the_closed_form_solution_and_multipliers() {
    let problem = integrator(2);
    let constraints = Constraints::new(1, 1)
        .with_control_bounds(array![-10.0], array![1.8])
        .with_goal(array![3.0]);
    let x0 = array![0.0];
    let shooting = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &x0, None)
        .unwrap();
    let collocation = DirectCollocation::new(
        &problem,
        |_, u| u.clone(),
        1.0,
        constraints.clone(),
        Transcription::Euler,
    )
    .solve(&x0, None, None, &CollocationOptions::default());
    assert!(shooting.check().is_ok() && collocation.check().is_ok());
    for (method, u, cost, lambda_T, mu) in [
        (
            "AL-iLQR",
            &shooting.u,
            shooting.cost,
            shooting.multipliers.lambda_T[0],
            &shooting.multipliers.mu,
        ),
        (
            "collocation",
            &collocation.u,
            collocation.cost,
            collocation.multipliers.lambda_T[0],
            &collocation.multipliers.mu,
        ),
    ] {
        println!("{method}: u = {u}, J = {cost:.9}, λ_T = {lambda_T:.7}, μ = {mu}");
        assert!(
            (u[[0, 0]] - 1.2).abs() < 1e-6 && (u[[1, 0]] - 1.8).abs() < 1e-6,
            "{method}"
        );
        assert!((cost - 6.12).abs() < 1e-5, "{method}");
        assert!((lambda_T + 4.8).abs() < 1e-5, "{method}: λ_T = {lambda_T}");
        // Rows: [u_min − u, u − u_max]; only the upper bound at t = 1 is active.
        assert!((mu[[1, 1]] - 1.2).abs() < 1e-5, "{method}: μ = {mu}");
        assert!(mu[[0, 1]].abs() < 1e-6 && mu.column(0).iter().all(|mu| *mu == 0.0));
    }
}

/// The KKT conditions at AL-iLQR's solution of trajax's car (obstacle and bounds active),
/// solved to `ε_s = 1e-6`, checked without the solver's costate code: `∇_u L(u; λ, μ)` by central differences of the
/// Lagrangian along rollouts, `‖·‖_∞ ≤ 1e-6`, with primal feasibility, `μ ≥ 0` and
/// complementarity to 1e-6.
#[test]
fn car_multipliers_make_the_lagrangian_stationary_by_finite_differences() {
    let (problem, constraints) = car_problem();
    let x0 = array![0.0, 0.0, 0.0];
    let solution = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions {
        stationarity_tolerance: 1e-6,
        ..AugmentedLagrangianOptions::default()
    })
    .solve(&problem, &constraints, &x0, None)
    .unwrap();
    if let Err(error) = solution.check() {
        panic!("{error}");
    }
    let lagrangian =
        augmented_lagrangian_problem(&problem, &constraints, &solution.multipliers, 0.0);
    let L = |u: &Array2<f64>| lagrangian.rollout(&x0, u).1;
    let epsilon = 1e-5;
    let mut gradient = Array2::<f64>::zeros(solution.u.dim());
    for ((t, i), g) in gradient.indexed_iter_mut() {
        let (mut plus, mut minus) = (solution.u.clone(), solution.u.clone());
        plus[[t, i]] += epsilon;
        minus[[t, i]] -= epsilon;
        *g = (L(&plus) - L(&minus)) / (2.0 * epsilon);
    }
    let stationarity = gradient.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let values = &solution.values;
    let complementarity = values.complementarity(&solution.multipliers.mu);
    println!(
        "‖∇_u L‖_∞ = {stationarity:.1e} (finite differences), violation {:.1e}, complementarity {complementarity:.1e}, max μ {:.3}",
        values.max_violation(),
        solution
            .multipliers
            .mu
            .iter()
            .fold(0.0f64, |a, m| a.max(*m))
    );
    assert!(stationarity <= 1e-6, "{stationarity}");
    assert!(values.max_violation() <= 1e-6 && complementarity <= 1e-6);
    assert!(solution.multipliers.mu.iter().all(|mu| *mu >= 0.0));
    // Not vacuous: the multipliers are large, and without them the gradient is not small.
    assert!(solution.multipliers.mu.iter().any(|mu| *mu > 0.1));
    let cost_only = augmented_lagrangian_problem(
        &problem,
        &constraints,
        &wengert_control::constrained::Multipliers::for_constraints(&constraints, 25),
        0.0,
    );
    let (mut plus, mut minus) = (solution.u.clone(), solution.u.clone());
    plus[[24, 0]] += epsilon;
    minus[[24, 0]] -= epsilon;
    let cost_gradient =
        (cost_only.rollout(&x0, &plus).1 - cost_only.rollout(&x0, &minus).1) / (2.0 * epsilon);
    assert!(cost_gradient.abs() > 1e-3, "{cost_gradient}");
}
