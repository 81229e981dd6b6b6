//! trajax's constrained car problem (google/trajax, `tests/optimizers_test.py`,
//! `testConstrainedCarSolve`), shared by the shooting and collocation tests.
#![allow(dead_code, non_snake_case)]

use autograd::{Tensor, Var};
use ndarray::{Array2, array};
use wengert_control::constrained::Constraints;
use wengert_control::ilqr::{Problem, quadratic_cost};
use wengert_control::systems::System;

/// trajax's `car`: the unicycle `ẋ = (v cos θ, v sin θ, ω)`.
pub use wengert_control::systems::Unicycle as Car;

pub const DT: f64 = 0.1;

/// `½ 0.1 ‖x − goal‖² + ½ ‖u‖²`.
pub fn car_cost() -> impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static {
    |x, u| {
        quadratic_cost(x, &array![1.0, 0.0, 0.0], &array![0.1, 0.1, 0.1])
            + u.powi(2).sum(&[0], false) * 0.5
    }
}

/// The same car with the Euler step `x + h f(x, u)` in place of RK4.
pub fn euler_car_problem() -> Problem {
    Problem::new(
        3,
        2,
        25,
        |x, u| x + &(Car.continuous(x, u) * DT),
        car_cost(),
        |x| x.sum(&[0], false) * 0.0,
    )
}

/// `testConstrainedCarSolve`: T = 25, RK4 with dt = 0.1, stage cost ½ 0.1 ‖x − goal‖² + ½ ‖u‖²,
/// no terminal cost, x_T = goal = (1, 0, 0), |u_i| ≤ 1, and a disc of radius 0.25 at
/// (0.5, 0.01) to go around.
pub fn car_problem() -> (Problem, Constraints) {
    let goal = array![1.0, 0.0, 0.0];
    let problem = Problem::from_system(Car, DT, 25, car_cost(), |x| x.sum(&[0], false) * 0.0);
    let constraints = Constraints::new(3, 2)
        .with_inequality(|x, _| {
            let (dx, dy) = (x.slice(0, 0, 1) - 0.5, x.slice(0, 1, 2) - 0.01);
            (dx.powi(2) + dy.powi(2)).sqrt() * -1.0 + 0.25
        })
        .with_control_bounds(array![-1.0, -1.0], array![1.0, 1.0])
        .with_goal(goal);
    (problem, constraints)
}

pub fn distance_to_obstacle(x: &Array2<f64>) -> f64 {
    x.rows()
        .into_iter()
        .map(|x| ((x[0] - 0.5).powi(2) + (x[1] - 0.01).powi(2)).sqrt())
        .fold(f64::INFINITY, f64::min)
}
