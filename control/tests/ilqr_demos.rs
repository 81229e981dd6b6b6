//! iLQR and DDP demonstrations: one step to the LQR solution on a linear-quadratic problem,
//! pendulum and cart-pole swing-ups, and DDP against iLQR on the acrobot.
#![allow(non_snake_case)]

use autograd::{Tensor, Var};
use ndarray::{Array1, Array2, array};
use std::f64::consts::PI;
use wengert_control::ilqr::{Ilqr, IlqrOptions, IlqrSolution, Method, Problem};
use wengert_control::lqr::LqrProblem;
use wengert_control::systems::{Acrobot, CartPole, DoubleIntegrator, Pendulum};

/// `½ (x − x*)ᵀ diag(w) (x − x*)` as autograd ops.
fn weighted_distance(x: &Var<f64>, target: &Array1<f64>, weights: &Array1<f64>) -> Var<f64> {
    let error = x - &Var::constant(target.clone());
    (error.powi(2) * &Var::constant(weights.clone())).sum_all() * 0.5
}

fn print_history(name: &str, solution: &IlqrSolution) {
    println!(
        "{name}: {:?} after {} iterations",
        solution.termination,
        solution.iterations.len()
    );
    for (i, report) in solution.iterations.iter().enumerate() {
        println!(
            "  {:3}  cost {:12.6}  step {:.4}  μ {:.1e}  expected {:.3e}  ‖∇‖ {:.3e}",
            i + 1,
            report.cost,
            report.step,
            report.regularisation,
            report.expected_improvement,
            report.gradient_norm
        );
    }
}

#[test]
fn ilqr_takes_one_step_to_the_lqr_solution_of_a_linear_quadratic_problem() {
    // Double integrator, h = 0.1, N = 30: x' = A x + B u with A = [1 h; 0 1], B = [h²/2; h]
    // (RK4 is exact here), ℓ = ½ xᵀ Q x + ½ r u², ℓ_T = ½ xᵀ Q_T x.
    let (h, N) = (0.1, 30);
    let (q, r, q_T) = (array![1.0, 0.5], 0.1, array![20.0, 5.0]);
    let problem = {
        let (q, q_T) = (q.clone(), q_T.clone());
        let zero = array![0.0, 0.0];
        let zero_T = zero.clone();
        Problem::from_system(
            DoubleIntegrator,
            h,
            N,
            move |x, u| weighted_distance(x, &zero, &q) + u.powi(2).sum_all() * (0.5 * r),
            move |x| weighted_distance(x, &zero_T, &q_T),
        )
    };
    let x0 = array![1.0, -0.5];
    let solution = Ilqr::new(IlqrOptions::default())
        .solve(&problem, &x0, None)
        .unwrap();
    print_history("linear-quadratic", &solution);
    assert_eq!(solution.iterations.len(), 1);
    assert_eq!(solution.iterations[0].step, 1.0);
    assert!(solution.termination.converged());

    // The same problem in the LQR module's form: T = N + 1 steps over z_t = [x_t; u_t], where
    // the last step carries ℓ_T and a free control u_{N+1} that nothing depends on (cost ½u²).
    let F_t = array![[1.0, h, h * h / 2.0], [0.0, 1.0, h]];
    let mut C = vec![Array2::from_diag(&array![q[0], q[1], r]); N];
    C.push(Array2::from_diag(&array![q_T[0], q_T[1], 1.0]));
    let lqr = LqrProblem::new(
        vec![F_t; N + 1],
        vec![array![0.0, 0.0]; N + 1],
        C,
        vec![array![0.0, 0.0, 0.0]; N + 1],
        x0.clone(),
    )
    .unwrap()
    .solve()
    .unwrap();
    let u_difference = &solution.u - &lqr.u.slice(ndarray::s![..N, ..]);
    let x_difference = &solution.x - &lqr.x;
    assert!(
        u_difference.iter().all(|d| d.abs() < 1e-10),
        "{u_difference}"
    );
    assert!(x_difference.iter().all(|d| d.abs() < 1e-10));
    assert!((solution.cost - lqr.cost).abs() < 1e-10);
    // And the gains agree: iLQR's K_t is LQR's K_t.
    for t in 0..N {
        assert!(
            (&solution.K[t] - &lqr.policy.K[t])
                .iter()
                .all(|d| d.abs() < 1e-9)
        );
    }
}

/// Swing-up cost: `ℓ = ½ (x − x*)ᵀ diag(w) (x − x*) + ½ r |u|²`, `ℓ_T` with weights `w_T`.
fn swing_up_problem(
    problem: impl FnOnce(
        Box<dyn Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync>,
        Box<dyn Fn(&Var<f64>) -> Var<f64> + Send + Sync>,
    ) -> Problem,
    target: Array1<f64>,
    w: Array1<f64>,
    r: f64,
    w_T: Array1<f64>,
) -> Problem {
    let target_T = target.clone();
    problem(
        Box::new(move |x, u| weighted_distance(x, &target, &w) + u.powi(2).sum_all() * (0.5 * r)),
        Box::new(move |x| weighted_distance(x, &target_T, &w_T)),
    )
}

#[test]
fn pendulum_swings_up_from_hanging_down() {
    let problem = swing_up_problem(
        |running, terminal| {
            Problem::from_system(Pendulum::default(), 0.05, 100, running, terminal)
                .with_control_limits(array![-5.0], array![5.0])
        },
        array![PI, 0.0],
        array![0.1, 0.01],
        0.01,
        array![1000.0, 100.0],
    );
    let options = IlqrOptions {
        max_iterations: 100,
        ..IlqrOptions::default()
    };
    let solution = Ilqr::new(options)
        .solve(&problem, &array![0.0, 0.0], None)
        .unwrap();
    print_history("pendulum", &solution);
    let x_N = solution.x.row(100);
    println!("pendulum final state θ = {:.5}, θ̇ = {:.5}", x_N[0], x_N[1]);
    assert!((x_N[0] - PI).abs() < 0.05 && x_N[1].abs() < 0.1, "{x_N}");
    assert!(solution.u.iter().all(|u| u.abs() <= 5.0));
}
