//! The constrained problems of trajax's `tests/optimizers_test.py` (google/trajax), solved by
//! augmented-Lagrangian iLQR and dual gradient descent, held to a tighter bar: trajax asserts a
//! violation below 1e-3, these assert 1e-6.
#![allow(non_snake_case)]

use autograd::{Tensor, Var};
use ndarray::{Array1, Array2, array};
use wengert_control::constrained::{
    AugmentedLagrangianIlqr, AugmentedLagrangianOptions, Constraints, DualGradientDescent,
    DualGradientOptions,
};
use wengert_control::ilqr::{Ilqr, IlqrOptions, Problem, quadratic_cost};
use wengert_control::systems::System;

/// trajax's `car`: `ẋ = (v cos θ, v sin θ, ω)` with `x = (p_x, p_y, θ)`, `u = (v, ω)`.
struct Car;

impl System for Car {
    fn state_dim(&self) -> usize {
        3
    }
    fn control_dim(&self) -> usize {
        2
    }
    fn continuous(&self, x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let theta = x.slice(0, 2, 3);
        let (v, omega) = (u.slice(0, 0, 1), u.slice(0, 1, 2));
        Var::concat(&[&(&v * &theta.cos()), &(&v * &theta.sin()), &omega], 0)
    }
}

/// `testConstrainedCarSolve`: T = 25, RK4 with dt = 0.1, stage cost ½ 0.1 ‖x − goal‖² + ½ ‖u‖²,
/// no terminal cost, x_T = goal = (1, 0, 0), |u_i| ≤ 1, and a disc of radius 0.25 at
/// (0.5, 0.01) to go around.
fn car_problem() -> (Problem, Constraints) {
    let goal = array![1.0, 0.0, 0.0];
    let target = goal.clone();
    let problem = Problem::from_system(
        Car,
        0.1,
        25,
        move |x, u| quadratic_cost(x, &target, &array![0.1, 0.1, 0.1]) + u.powi(2).sum(&[0], false) * 0.5,
        |x| x.sum(&[0], false) * 0.0,
    );
    let constraints = Constraints::new(3, 2)
        .with_inequality(|x, _| {
            let (dx, dy) = (x.slice(0, 0, 1) - 0.5, x.slice(0, 1, 2) - 0.01);
            (dx.powi(2) + dy.powi(2)).sqrt() * -1.0 + 0.25
        })
        .with_control_bounds(array![-1.0, -1.0], array![1.0, 1.0])
        .with_goal(goal);
    (problem, constraints)
}

fn distance_to_obstacle(x: &Array2<f64>) -> f64 {
    x.rows()
        .into_iter()
        .map(|x| ((x[0] - 0.5).powi(2) + (x[1] - 0.01).powi(2)).sqrt())
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn car_around_an_obstacle_by_augmented_lagrangian_ilqr() {
    let (problem, constraints) = car_problem();
    let solution = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &array![0.0, 0.0, 0.0], None)
        .unwrap();
    for (k, it) in solution.iterations.iter().enumerate() {
        println!(
            "{k:2} J {:.6} viol {:.2e} compl {:.2e} stat {:.2e} rho {:.0e} inner {} {:?} |λ| {:.3}",
            it.cost, it.violation, it.complementarity, it.stationarity, it.penalty,
            it.inner_iterations, it.inner_termination, it.multipliers.max_abs()
        );
    }
    println!("x_N {:.8}  min distance {:.6}", solution.x.row(25), distance_to_obstacle(&solution.x));
    assert!(solution.converged);
    assert!(solution.values.max_violation() <= 1e-6);
}
