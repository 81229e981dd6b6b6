//! iLQR and DDP demonstrations: one step to the LQR solution on a linear-quadratic problem,
//! pendulum and cart-pole swing-ups, and DDP against iLQR on the acrobot.
#![allow(non_snake_case)]

use autograd::{Tensor, Var};
use ndarray::{Array1, Array2, array};
use std::f64::consts::PI;
use wengert_control::ilqr::{Ilqr, IlqrOptions, IlqrSolution, Method, Problem, quadratic_cost};
use wengert_control::lqr::LqrProblem;
use wengert_control::systems::{Acrobot, CartPole, DoubleIntegrator, Pendulum};

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
            move |x, u| quadratic_cost(x, &zero, &q) + u.powi(2).sum(&[0], false) * (0.5 * r),
            move |x| quadratic_cost(x, &zero_T, &q_T),
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
        Box::new(move |x, u| {
            quadratic_cost(x, &target, &w) + u.powi(2).sum(&[0], false) * (0.5 * r)
        }),
        Box::new(move |x| quadratic_cost(x, &target_T, &w_T)),
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

#[test]
fn cart_pole_swings_up() {
    let N = 100;
    let problem = swing_up_problem(
        |running, terminal| {
            Problem::from_system(CartPole::default(), 0.05, N, running, terminal)
                .with_control_limits(array![-10.0], array![10.0])
        },
        array![0.0, PI, 0.0, 0.0],
        array![0.1, 0.1, 0.01, 0.01],
        0.01,
        array![100.0, 1000.0, 100.0, 100.0],
    );
    // The swing-up is found within a few tens of iterations; after that iLQR keeps polishing
    // the cost slowly, which the test does not wait for.
    let options = IlqrOptions {
        max_iterations: 30,
        ..IlqrOptions::default()
    };
    let solution = Ilqr::new(options)
        .solve(&problem, &array![0.0, 0.0, 0.0, 0.0], None)
        .unwrap();
    print_history("cart-pole", &solution);
    let x_N = solution.x.row(N);
    println!("cart-pole final state {x_N:.5}");
    assert!((x_N[1] - PI).abs() < 0.05 && x_N[3].abs() < 0.1, "{x_N}");
    assert!(x_N[0].abs() < 0.1 && x_N[2].abs() < 0.1, "{x_N}");
}

#[test]
fn ddp_converges_in_fewer_iterations_than_ilqr_on_the_acrobot() {
    // From the first link horizontal, reach towards upright in 3 s. The cost stays large at the
    // optimum (the arm cannot get there exactly), which is where DDP's second-order dynamics
    // terms matter: Gauss–Newton (iLQR) drops curvature that the residuals multiply.
    let N = 60;
    let problem = swing_up_problem(
        |running, terminal| Problem::from_system(Acrobot::default(), 0.05, N, running, terminal),
        array![PI, 0.0, 0.0, 0.0],
        array![1.0, 1.0, 0.1, 0.1],
        0.1,
        array![100.0, 100.0, 10.0, 10.0],
    );
    let x0 = array![PI / 2.0, 0.0, 0.0, 0.0];
    let solve = |method| {
        let options = IlqrOptions {
            method,
            max_iterations: 150,
            ..IlqrOptions::default()
        };
        Ilqr::new(options).solve(&problem, &x0, None).unwrap()
    };
    let ilqr = solve(Method::Ilqr);
    let ddp = solve(Method::Ddp);
    print_history("acrobot iLQR", &ilqr);
    print_history("acrobot DDP", &ddp);
    println!(
        "acrobot: iLQR {} iterations (cost {:.6}), DDP {} iterations (cost {:.6})",
        ilqr.iterations.len(),
        ilqr.cost,
        ddp.iterations.len(),
        ddp.cost
    );
    assert!(ilqr.termination.converged() && ddp.termination.converged());
    assert!(
        (ilqr.cost - ddp.cost).abs() < 1e-6 * ilqr.cost,
        "same local optimum"
    );
    assert!(ddp.iterations.len() < ilqr.iterations.len());
}
