//! `wengert control <demo>`: the control crate's demonstrations, printing each solver
//! iteration's cost and plotting the states and controls over time.
#![allow(non_snake_case)]

use std::f64::consts::PI;
use std::fs;
use std::path::PathBuf;

use ndarray::{Array1, Array2, Axis, array, s};
use wengert::autograd::{Tensor, Var};
use wengert::control::collocation::{
    CollocationOptions, CollocationSolution, DirectCollocation, Transcription,
};
use wengert::control::constrained::{
    AugmentedLagrangianIlqr, AugmentedLagrangianOptions, ConstrainedSolution, Constraints,
    DualGradientDescent, DualGradientOptions,
};
use wengert::control::gps::GpsResult;
use wengert::control::ilqr::{Ilqr, IlqrOptions, IlqrSolution, Method, Problem, quadratic_cost};
use wengert::control::lqr::{DareProblem, LqrProblem, RiccatiOptions};
use wengert::control::planners::{Mpc, Planner};
use wengert::control::systems::{Acrobot, CartPole, DoubleIntegrator, Pendulum, System, Unicycle};
use wengert::rl::env::{Env, PhysicalState};

use super::plot::{self, Series};

/// A demonstration.
pub struct Demo {
    pub name: &'static str,
    pub about: &'static str,
    run: fn() -> Result<Trajectory, String>,
}

/// What a demo plots: states `x` (one row per time) and controls `u`, with names, and any
/// further plots of its own.
pub struct Trajectory {
    dt: f64,
    x: Array2<f64>,
    u: Array2<f64>,
    state_names: &'static [&'static str],
    control_names: &'static [&'static str],
    extra: Vec<ExtraPlot>,
}

/// A plot beyond the states and controls (a convergence history, a path in the plane).
pub struct ExtraPlot {
    file: &'static str,
    title: String,
    x_label: &'static str,
    y_label: &'static str,
    series: Vec<Series>,
}

pub const DEMOS: &[Demo] = &[
    Demo {
        name: "lqr",
        about: "finite-horizon LQR on a double integrator, against the infinite-horizon Riccati gain",
        run: lqr_double_integrator,
    },
    Demo {
        name: "ilqr-pendulum",
        about: "iLQR swings a torque-limited pendulum up from hanging down",
        run: ilqr_pendulum,
    },
    Demo {
        name: "ilqr-cartpole",
        about: "iLQR swings the cart-pole's pole up and brings the cart back",
        run: ilqr_cart_pole,
    },
    Demo {
        name: "ddp-acrobot",
        about: "DDP against iLQR on an acrobot reaching up: fewer iterations, same optimum",
        run: ddp_acrobot,
    },
    Demo {
        name: "mpc-pendulum",
        about: "receding-horizon MPC over iLQR balancing Gymnasium's Pendulum-v1",
        run: mpc_pendulum,
    },
    Demo {
        name: "constrained-car",
        about: "trajax's car around an obstacle to a goal: augmented-Lagrangian iLQR, dual gradient descent, collocation",
        run: constrained_car,
    },
    Demo {
        name: "collocation-pendulum",
        about: "Drake's pendulum swing-up by Hermite–Simpson collocation: 21 knots, |u| ≤ 3, from a straight line",
        run: collocation_pendulum,
    },
    Demo {
        name: "al-ilqr-acrobot",
        about: "trajax's acrobot swing-up to an exact goal with |u| ≤ 5 by augmented-Lagrangian iLQR",
        run: al_ilqr_acrobot,
    },
    Demo {
        name: "gps-pendulum",
        about: "guided policy search: one MLP policy from 8 pendulum swing-ups, then the policy alone",
        run: gps_pendulum,
    },
    Demo {
        name: "gps-cart-pole",
        about: "guided policy search: one MLP policy from 4 cart-pole swing-ups, its cost alone against iLQR's",
        run: gps_cart_pole,
    },
    Demo {
        name: "plato-pendulum",
        about: "PLATO on Pendulum-v1: an MPC teacher pulled towards an MLP learner, then the learner alone",
        run: plato_pendulum,
    },
    Demo {
        name: "shooting-vs-collocation",
        about: "cart-pole swing-up to an exact goal: AL-iLQR shooting against Euler collocation, the same problem",
        run: shooting_vs_collocation,
    },
];

/// `wengert control <demo>`.
pub fn run(name: &str, out: Option<PathBuf>) -> Result<(), String> {
    let demo = DEMOS.iter().find(|d| d.name == name).ok_or_else(|| {
        let valid: Vec<&str> = DEMOS.iter().map(|d| d.name).collect();
        format!("unknown demo `{name}`; valid demos: {}", valid.join(", "))
    })?;
    let trajectory = (demo.run)()?;
    let out = out.unwrap_or_else(|| PathBuf::from("runs").join(format!("control-{name}")));
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let plots = [
        ("states.svg", "state", &trajectory.x, trajectory.state_names),
        (
            "controls.svg",
            "control",
            &trajectory.u,
            trajectory.control_names,
        ),
    ];
    for (file, what, values, names) in plots {
        let time: Vec<f64> = (0..values.nrows())
            .map(|t| t as f64 * trajectory.dt)
            .collect();
        let series: Vec<Series> = values
            .axis_iter(Axis(1))
            .zip(names.iter())
            .map(|(column, name)| Series::line(name, time.clone(), column.to_vec()))
            .collect();
        let path = out.join(file);
        plot::line_plot(
            &path,
            &format!("{name}: {what}s over time"),
            "time (s)",
            what,
            &series,
        )?;
        println!("wrote {}", path.display());
    }
    for extra in &trajectory.extra {
        let path = out.join(extra.file);
        plot::line_plot(
            &path,
            &extra.title,
            extra.x_label,
            extra.y_label,
            &extra.series,
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn print_history(name: &str, solution: &IlqrSolution) {
    println!(
        "{name}: {:?} after {} iterations, cost {:.6}",
        solution.termination,
        solution.iterations.len(),
        solution.cost
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

/// `ℓ = ½ (x − x*)ᵀ diag(w) (x − x*) + ½ r |u|²` and `ℓ_T` with weights `w_T`.
fn swing_up<S>(
    system: S,
    dt: f64,
    N: usize,
    target: Array1<f64>,
    w: Array1<f64>,
    r: f64,
    w_T: Array1<f64>,
) -> Problem
where
    S: wengert::control::systems::System + Send + Sync + 'static,
{
    let target_T = target.clone();
    Problem::from_system(
        system,
        dt,
        N,
        move |x, u| quadratic_cost(x, &target, &w) + u.powi(2).sum(&[0], false) * (0.5 * r),
        move |x| quadratic_cost(x, &target_T, &w_T),
    )
}

fn lqr_double_integrator() -> Result<Trajectory, String> {
    // x = [p, ṗ], x' = A x + B u with A = [1 h; 0 1], B = [h²/2; h], over N steps, then a
    // terminal cost; written as T = N + 1 LQR steps over z = [x; u] (the last control is free).
    let (h, N) = (0.1, 50);
    let (q, r, q_T) = (array![1.0, 0.5], 0.1, array![20.0, 5.0]);
    let F_t = array![[1.0, h, h * h / 2.0], [0.0, 1.0, h]];
    let mut C = vec![Array2::from_diag(&array![q[0], q[1], r]); N];
    C.push(Array2::from_diag(&array![q_T[0], q_T[1], 1.0]));
    let problem = LqrProblem::new(
        vec![F_t; N + 1],
        vec![array![0.0, 0.0]; N + 1],
        C,
        vec![array![0.0, 0.0, 0.0]; N + 1],
        array![1.0, -0.5],
    )
    .map_err(|e| e.to_string())?;
    let solution = problem.solve().map_err(|e| e.to_string())?;
    println!(
        "finite-horizon LQR, N = {N}: one backward Riccati recursion and a forward rollout, cost {:.6}",
        solution.cost
    );
    let dare = DareProblem::new(
        array![[1.0, h], [0.0, 1.0]],
        array![[h * h / 2.0], [h]],
        Array2::from_diag(&q),
        array![[r]],
    )
    .map_err(|e| e.to_string())?
    .solve(&RiccatiOptions::default())
    .map_err(|e| e.to_string())?;
    println!(
        "infinite-horizon LQR: {} Riccati iterations, residual {:.1e}, K∞ = {:.5}, closed-loop spectral radius {:.4}",
        dare.iterations, dare.residual, dare.K, dare.spectral_radius
    );
    // Far from the horizon's end the time-varying gain is the stationary one (u = K_t x vs −K∞ x).
    let K_0 = &solution.policy.K[0];
    println!(
        "first-step gain K_0 = {:.5}; ‖K_0 + K∞‖ = {:.2e}",
        K_0,
        (K_0 + &dare.K).mapv(|v| v * v).sum().sqrt()
    );
    Ok(Trajectory {
        dt: h,
        x: solution.x.slice(s![..N + 1, ..]).to_owned(),
        u: solution.u.slice(s![..N, ..]).to_owned(),
        state_names: &["position", "velocity"],
        control_names: &["force"],
        extra: Vec::new(),
    })
}

fn ilqr_pendulum() -> Result<Trajectory, String> {
    let (dt, N) = (0.05, 100);
    let problem = swing_up(
        Pendulum::default(),
        dt,
        N,
        array![PI, 0.0],
        array![0.1, 0.01],
        0.01,
        array![1000.0, 100.0],
    )
    .with_control_limits(array![-5.0], array![5.0]);
    let options = IlqrOptions {
        max_iterations: 100,
        ..IlqrOptions::default()
    };
    let solution = Ilqr::new(options)
        .solve(&problem, &array![0.0, 0.0], None)
        .map_err(|e| e.to_string())?;
    print_history(
        "iLQR pendulum swing-up (θ = 0 hanging, π upright)",
        &solution,
    );
    println!("final state {:.4}", solution.x.row(N));
    Ok(Trajectory {
        dt,
        x: solution.x,
        u: solution.u,
        state_names: &["θ", "θ̇"],
        control_names: &["torque"],
        extra: Vec::new(),
    })
}

fn ilqr_cart_pole() -> Result<Trajectory, String> {
    let (dt, N) = (0.05, 100);
    let problem = swing_up(
        CartPole::default(),
        dt,
        N,
        array![0.0, PI, 0.0, 0.0],
        array![0.1, 0.1, 0.01, 0.01],
        0.01,
        array![100.0, 1000.0, 100.0, 100.0],
    )
    .with_control_limits(array![-10.0], array![10.0]);
    let options = IlqrOptions {
        max_iterations: 30,
        ..IlqrOptions::default()
    };
    let solution = Ilqr::new(options)
        .solve(&problem, &array![0.0, 0.0, 0.0, 0.0], None)
        .map_err(|e| e.to_string())?;
    print_history("iLQR cart-pole swing-up", &solution);
    println!("final state {:.4}", solution.x.row(N));
    Ok(Trajectory {
        dt,
        x: solution.x,
        u: solution.u,
        state_names: &["p", "θ", "ṗ", "θ̇"],
        control_names: &["force"],
        extra: Vec::new(),
    })
}

fn ddp_acrobot() -> Result<Trajectory, String> {
    let (dt, N) = (0.05, 60);
    let problem = swing_up(
        Acrobot::default(),
        dt,
        N,
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
        Ilqr::new(options)
            .solve(&problem, &x0, None)
            .map_err(|e| e.to_string())
    };
    let ilqr = solve(Method::Ilqr)?;
    let ddp = solve(Method::Ddp)?;
    print_history("acrobot, iLQR", &ilqr);
    print_history("acrobot, DDP", &ddp);
    println!(
        "iLQR: {} iterations, cost {:.6}; DDP: {} iterations, cost {:.6}",
        ilqr.iterations.len(),
        ilqr.cost,
        ddp.iterations.len(),
        ddp.cost
    );
    Ok(Trajectory {
        dt,
        x: ddp.x,
        u: ddp.u,
        state_names: &["θ₁", "θ₂", "θ̇₁", "θ̇₂"],
        control_names: &["torque"],
        extra: Vec::new(),
    })
}

fn mpc_pendulum() -> Result<Trajectory, String> {
    // Pendulum-v1 (θ = 0 upright): g = 10, m = l = 1, dt = 0.05, |u| ≤ 2, |θ̇| ≤ 8, semi-implicit
    // Euler. The planner's model is that step on autograd variables; the reward's normalize(θ)²
    // becomes the smooth, periodic 2 (1 − cos θ).
    const DT: f64 = 0.05;
    fn model(x: &Var<f64>, u: &Var<f64>) -> Var<f64> {
        let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
        let u = u.clamp(-2.0, 2.0);
        let theta_ddot = theta.sin() * 15.0 + u * 3.0;
        let theta_dot_next = (theta_dot + theta_ddot * DT).clamp(-8.0, 8.0);
        let theta_next = theta + &theta_dot_next * DT;
        Var::concat(&[&theta_next, &theta_dot_next], 0)
    }
    let cost = |x: &Var<f64>| {
        let (theta, theta_dot) = (x.slice(0, 0, 1), x.slice(0, 1, 2));
        ((1.0 - theta.cos()) * 2.0 + theta_dot.powi(2) * 0.1).sum(&[0], false)
    };
    let problem = Problem::new(
        2,
        1,
        40,
        model,
        move |x, u| cost(x) + u.powi(2).sum(&[0], false) * 0.001,
        move |x| cost(x) * 5.0,
    )
    .with_control_limits(array![-2.0], array![2.0]);
    let options = IlqrOptions {
        max_iterations: 5,
        ..IlqrOptions::default()
    };
    let mut mpc = Mpc::new(problem, options).with_first_call_iterations(100);
    let mut env = wengert::rl::env::Pendulum::new();
    env.reset(Some(0));
    let steps = 200;
    let mut x = Array2::zeros((steps + 1, 2));
    let mut u = Array2::zeros((steps, 1));
    let mut total = 0.0;
    println!("MPC on Pendulum-v1 (seed 0), horizon 40, 5 iLQR iterations per step (100 at first)");
    for t in 0..steps {
        let state = Array1::from(env.state().to_vec());
        x.row_mut(t).assign(&state);
        let action = mpc.plan(&state)[0].clamp(-2.0, 2.0);
        if t == 0
            && let Some(first) = mpc.last_solution()
        {
            print_history("first plan", first);
        }
        u[[t, 0]] = action;
        let step = env
            .step((&[action as f32][..]).into())
            .map_err(|e| e.to_string())?;
        total += step.reward;
        if t % 20 == 19 {
            let plan_cost = mpc.last_solution().map_or(f64::NAN, |s| s.cost);
            println!(
                "  step {:3}  θ {:+.4}  θ̇ {:+.4}  u {:+.3}  plan cost {:10.4}  return so far {:.1}",
                t + 1,
                env.state()[0],
                env.state()[1],
                action,
                plan_cost,
                total
            );
        }
    }
    x.row_mut(steps).assign(&Array1::from(env.state().to_vec()));
    println!("return over {steps} steps: {total:.1}");
    Ok(Trajectory {
        dt: DT,
        x,
        u,
        state_names: &["θ", "θ̇"],
        control_names: &["torque"],
        extra: Vec::new(),
    })
}

/// trajax's `testConstrainedCarSolve` (google/trajax, `tests/optimizers_test.py`): a unicycle
/// over T = 25 RK4 steps of 0.1 s, cost `½ 0.1 ‖x − goal‖² + ½ ‖u‖²`, `x_T = goal = (1, 0, 0)`,
/// `|u_i| ≤ 1`, and a disc of radius 0.25 at (0.5, 0.01) to drive around.
fn trajax_car() -> (Problem, Constraints) {
    let goal = array![1.0, 0.0, 0.0];
    let target = goal.clone();
    let problem = Problem::from_system(
        Unicycle,
        0.1,
        25,
        move |x, u| {
            quadratic_cost(x, &target, &array![0.1, 0.1, 0.1]) + u.powi(2).sum(&[0], false) * 0.5
        },
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

fn print_outer(name: &str, solution: &ConstrainedSolution) {
    println!(
        "{name}: converged {} after {} multiplier updates ({} iLQR iterations), cost {:.6}, violation {:.1e}",
        solution.converged,
        solution.iterations.len(),
        solution.inner_iterations(),
        solution.cost,
        solution.values.max_violation()
    );
    for (k, report) in solution.iterations.iter().enumerate() {
        println!(
            "  {:3}  J {:10.6}  violation {:.2e}  complementarity {:.2e}  ‖∇L‖ {:.2e}  ρ {:.0e}  iLQR {:3}  max|λ, μ| {:8.4}",
            k + 1,
            report.cost,
            report.violation,
            report.complementarity,
            report.stationarity,
            report.penalty,
            report.inner_iterations,
            report.multipliers.max_abs()
        );
    }
}

/// `(update, log₁₀ violation)` for a convergence plot.
fn violation_series(label: &str, violations: impl Iterator<Item = f64>) -> Series {
    let (k, v): (Vec<f64>, Vec<f64>) = violations
        .enumerate()
        .map(|(k, v)| ((k + 1) as f64, v.max(1e-16).log10()))
        .unzip();
    Series::line(label, k, v)
}

fn constrained_car() -> Result<Trajectory, String> {
    let (problem, constraints) = trajax_car();
    let x0 = array![0.0, 0.0, 0.0];
    let augmented = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &x0, None)
        .map_err(|e| e.to_string())?;
    print_outer("augmented-Lagrangian iLQR on trajax's car", &augmented);
    println!(
        "  final multipliers: λ_T = {:.4}, obstacle μ_t max {:.4}",
        augmented.multipliers.lambda_T,
        augmented
            .multipliers
            .mu
            .column(0)
            .fold(0.0f64, |a, b| a.max(*b))
    );
    let dual_options = DualGradientOptions {
        step: 1.0,
        max_iterations: 60,
        ..DualGradientOptions::default()
    };
    let dual_car = DualGradientDescent::new(dual_options)
        .solve(&problem, &constraints, &x0, None)
        .map_err(|e| e.to_string())?;
    println!(
        "dual gradient descent (α = 1) on the car: converged {} after {} updates, violation {:.2e}, min over the last 10 {:.2e}",
        dual_car.converged,
        dual_car.iterations.len(),
        dual_car.values.max_violation(),
        dual_car
            .iterations
            .iter()
            .rev()
            .take(10)
            .map(|i| i.violation)
            .fold(f64::INFINITY, f64::min)
    );
    let collocation = DirectCollocation::from_system(
        Unicycle,
        0.1,
        &problem,
        constraints.clone(),
        Transcription::HermiteSimpson,
    )
    .solve(&x0, None, None, &CollocationOptions::default());
    print_collocation("Hermite–Simpson collocation on the car", &collocation);

    // A convex comparison: a double integrator from rest at −1 to rest at 1 in 3 s.
    let transfer = Problem::from_system(
        DoubleIntegrator,
        0.1,
        30,
        |_, u| u.powi(2).sum(&[0], false) * 0.5,
        |x| x.sum(&[0], false) * 0.0,
    );
    let goal = Constraints::new(2, 1).with_goal(array![1.0, 0.0]);
    let x0_transfer = array![-1.0, 0.0];
    let augmented_transfer = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&transfer, &goal, &x0_transfer, None)
        .map_err(|e| e.to_string())?;
    print_outer(
        "augmented Lagrangian on the double-integrator transfer",
        &augmented_transfer,
    );
    let dual_transfer = DualGradientDescent::new(DualGradientOptions {
        step: 1.5,
        max_iterations: 400,
        ..DualGradientOptions::default()
    })
    .solve(&transfer, &goal, &x0_transfer, None)
    .map_err(|e| e.to_string())?;
    println!(
        "dual gradient descent (α = 1.5) on the transfer: converged {} after {} updates, cost {:.6}, violation {:.1e}",
        dual_transfer.converged,
        dual_transfer.iterations.len(),
        dual_transfer.cost,
        dual_transfer.values.max_violation()
    );

    let convergence = ExtraPlot {
        file: "convergence.svg",
        title: "constraint violation per multiplier update".into(),
        x_label: "multiplier update",
        y_label: "log10 max violation",
        series: vec![
            violation_series(
                "car: AL-iLQR",
                augmented.iterations.iter().map(|i| i.violation),
            ),
            violation_series(
                "car: dual gradient descent, α = 1",
                dual_car.iterations.iter().map(|i| i.violation),
            ),
            violation_series(
                "car: Hermite–Simpson collocation (AL)",
                collocation.iterations.iter().map(|i| i.violation),
            ),
            violation_series(
                "transfer: AL-iLQR",
                augmented_transfer.iterations.iter().map(|i| i.violation),
            ),
            violation_series(
                "transfer: dual gradient descent, α = 1.5",
                dual_transfer.iterations.iter().map(|i| i.violation),
            ),
        ],
    };
    let circle: Vec<(f64, f64)> = (0..=100)
        .map(|k| {
            let angle = 2.0 * PI * k as f64 / 100.0;
            (0.5 + 0.25 * angle.cos(), 0.01 + 0.25 * angle.sin())
        })
        .collect();
    let path = |label: &str, x: &Array2<f64>| {
        Series::line(label, x.column(0).to_vec(), x.column(1).to_vec())
    };
    let paths = ExtraPlot {
        file: "paths.svg",
        title: "trajax's car: paths around the obstacle".into(),
        x_label: "p_x",
        y_label: "p_y",
        series: vec![
            Series::line(
                "obstacle",
                circle.iter().map(|p| p.0).collect(),
                circle.iter().map(|p| p.1).collect(),
            ),
            path("AL-iLQR (RK4 shooting)", &augmented.x),
            path("Hermite–Simpson collocation", &collocation.x),
            path("dual gradient descent, 60 updates", &dual_car.x),
        ],
    };
    Ok(Trajectory {
        dt: 0.1,
        x: augmented.x,
        u: augmented.u,
        state_names: &["p_x", "p_y", "θ"],
        control_names: &["v", "ω"],
        extra: vec![convergence, paths],
    })
}

fn print_collocation(name: &str, solution: &CollocationSolution) {
    println!(
        "{name}: converged {} after {} multiplier updates ({} Newton steps), cost {:.6}, violation {:.1e}",
        solution.converged,
        solution.iterations.len(),
        solution.newton_iterations(),
        solution.cost,
        solution.max_violation()
    );
    for (k, report) in solution.iterations.iter().enumerate() {
        println!(
            "  {:3}  J {:10.6}  violation {:.2e}  defect {:.2e}  ‖∇L‖ {:.2e}  ρ {:.0e}  Newton {:3}",
            k + 1,
            report.cost,
            report.violation,
            report.defect,
            report.stationarity,
            report.penalty,
            report.newton_iterations
        );
    }
}

/// Drake's pendulum swing-up (`examples/pendulum`): `PendulumPlant` (`m = 1`, `l = 0.5`,
/// `b = 0.1`), 21 knots, `|u| ≤ 3`, `∫ 10 u² dt`, `(0, 0)` to `(π, 0)`, the initial guess a
/// straight line over 4 s; the step is fixed at 0.2 s (Drake lets it vary in [0.2, 0.5]).
fn collocation_pendulum() -> Result<Trajectory, String> {
    let pendulum = Pendulum {
        mass: 1.0,
        length: 0.5,
        damping: 0.1,
        gravity: 9.81,
    };
    let (h, N) = (0.2, 20);
    let x_f = array![PI, 0.0];
    let problem = Problem::from_system(
        pendulum,
        h,
        N,
        move |_, u| u.powi(2).sum(&[0], false) * (10.0 * h),
        |x| x.sum(&[0], false) * 0.0,
    );
    let constraints = Constraints::new(2, 1)
        .with_control_bounds(array![-3.0], array![3.0])
        .with_goal(x_f.clone());
    let line = Array2::from_shape_fn((N + 1, 2), |(k, i)| x_f[i] * k as f64 / N as f64);
    let solution = DirectCollocation::from_system(
        pendulum,
        h,
        &problem,
        constraints,
        Transcription::HermiteSimpson,
    )
    .solve(
        &array![0.0, 0.0],
        Some(&line),
        None,
        &CollocationOptions::default(),
    );
    print_collocation("Hermite–Simpson collocation on Drake's pendulum", &solution);
    solution.check().map_err(|e| e.to_string())?;
    println!("  x_N = {:.8}", solution.x.row(N));
    let convergence = ExtraPlot {
        file: "convergence.svg",
        title: "Drake's pendulum: violation per multiplier update".into(),
        x_label: "multiplier update",
        y_label: "log10 max violation (defects included)",
        series: vec![violation_series(
            "Hermite–Simpson collocation",
            solution.iterations.iter().map(|i| i.violation),
        )],
    };
    Ok(Trajectory {
        dt: h,
        x: solution.x,
        u: solution.u,
        state_names: &["θ", "θ̇"],
        control_names: &["u"],
        extra: vec![convergence],
    })
}

/// trajax's `testConstrainedAcrobotSolve`: its acrobot (this crate's with inertias 1.25 about
/// the joints, g = 9.8), T = 50 Euler steps of 0.1 s, `½ 0.1 ‖x − goal‖² + ½ 0.01 u²`, no
/// terminal cost, `x_T = goal = (π, 0, 0, 0)`, `|u| ≤ 5`, from rest with zero controls.
fn al_ilqr_acrobot() -> Result<Trajectory, String> {
    let acrobot = Acrobot {
        inertias: [1.25, 1.25],
        gravity: 9.8,
        ..Acrobot::default()
    };
    let goal = array![PI, 0.0, 0.0, 0.0];
    let target = goal.clone();
    let problem = Problem::new(
        4,
        1,
        50,
        move |x, u| x + &(acrobot.continuous(x, u) * 0.1),
        move |x, u| {
            quadratic_cost(x, &target, &array![0.1, 0.1, 0.1, 0.1])
                + u.powi(2).sum(&[0], false) * 0.005
        },
        |x| x.sum(&[0], false) * 0.0,
    );
    let constraints = Constraints::new(4, 1)
        .with_control_bounds(array![-5.0], array![5.0])
        .with_goal(goal);
    let solution = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &array![0.0, 0.0, 0.0, 0.0], None)
        .map_err(|e| e.to_string())?;
    print_outer("augmented-Lagrangian iLQR on trajax's acrobot", &solution);
    solution.check().map_err(|e| e.to_string())?;
    println!(
        "  x_T = {:.8}, λ_T = {:.4}",
        solution.x.row(50),
        solution.multipliers.lambda_T
    );
    let convergence = ExtraPlot {
        file: "convergence.svg",
        title: "trajax's acrobot: violation per multiplier update".into(),
        x_label: "multiplier update",
        y_label: "log10 max violation",
        series: vec![violation_series(
            "AL-iLQR",
            solution.iterations.iter().map(|i| i.violation),
        )],
    };
    Ok(Trajectory {
        dt: 0.1,
        x: solution.x,
        u: solution.u,
        state_names: &["θ₁", "θ₂", "θ̇₁", "θ̇₂"],
        control_names: &["τ"],
        extra: vec![convergence],
    })
}

/// The cart-pole from rest hanging down to `x_N = (0, π, 0, 0)` in 2 s, `N = 20` Euler steps
/// of 0.1 s, cost `∫ u² dt`: AL-iLQR (shooting, from zero controls) and Euler collocation (from
/// a straight line) solve the same finite-dimensional problem, by different routes.
fn shooting_vs_collocation() -> Result<Trajectory, String> {
    let (h, N) = (0.1, 20);
    let goal = array![0.0, PI, 0.0, 0.0];
    let problem = Problem::new(
        4,
        1,
        N,
        move |x, u| x + &(CartPole::default().continuous(x, u) * h),
        move |_, u| u.powi(2).sum(&[0], false) * h,
        |x| x.sum(&[0], false) * 0.0,
    );
    let constraints = Constraints::new(4, 1).with_goal(goal.clone());
    let x0 = array![0.0, 0.0, 0.0, 0.0];
    let start = std::time::Instant::now();
    let shooting = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
        .solve(&problem, &constraints, &x0, None)
        .map_err(|e| e.to_string())?;
    let shooting_time = start.elapsed().as_secs_f64();
    print_outer("AL-iLQR (shooting) on the cart-pole", &shooting);
    let line = Array2::from_shape_fn((N + 1, 4), |(k, i)| goal[i] * k as f64 / N as f64);
    let start = std::time::Instant::now();
    let collocation = DirectCollocation::from_system(
        CartPole::default(),
        h,
        &problem,
        constraints,
        Transcription::Euler,
    )
    .solve(&x0, Some(&line), None, &CollocationOptions::default());
    let collocation_time = start.elapsed().as_secs_f64();
    print_collocation("Euler collocation on the cart-pole", &collocation);
    shooting.check().map_err(|e| format!("AL-iLQR: {e}"))?;
    collocation
        .check()
        .map_err(|e| format!("collocation: {e}"))?;
    println!(
        "shooting: J {:.6} in {shooting_time:.2} s; collocation: J {:.6} in {collocation_time:.2} s; relative difference {:.1e}",
        shooting.cost,
        collocation.cost,
        (collocation.cost - shooting.cost).abs() / shooting.cost
    );
    let time: Vec<f64> = (0..=N).map(|t| t as f64 * h).collect();
    let convergence = ExtraPlot {
        file: "convergence.svg",
        title: "cart-pole: violation per multiplier update".into(),
        x_label: "multiplier update",
        y_label: "log10 max violation",
        series: vec![
            violation_series(
                "AL-iLQR (shooting)",
                shooting.iterations.iter().map(|i| i.violation),
            ),
            violation_series(
                "Euler collocation (defects included)",
                collocation.iterations.iter().map(|i| i.violation),
            ),
        ],
    };
    let angles = ExtraPlot {
        file: "pole-angle.svg",
        title: "cart-pole: pole angle θ, shooting and collocation".into(),
        x_label: "time (s)",
        y_label: "θ (rad)",
        series: vec![
            Series::line("AL-iLQR", time.clone(), shooting.x.column(1).to_vec()),
            Series::line("Euler collocation", time, collocation.x.column(1).to_vec()),
        ],
    };
    Ok(Trajectory {
        dt: h,
        x: shooting.x,
        u: shooting.u,
        state_names: &["p", "θ", "ṗ", "θ̇"],
        control_names: &["u"],
        extra: vec![convergence, angles],
    })
}

/// Guided policy search on the pendulum swing-up from 8 starts (seed 0), the report's row: at
/// most 30 iterations, stopping at the first whose max disagreement is within 1e-2; prints the
/// disagreement per iteration, plots θ of the trajectories and of the policy run alone.
fn gps_pendulum() -> Result<Trajectory, String> {
    let run = super::policy_report::gps_pendulum(0, true)?;
    println!(
        "the policy alone holds upright (|θ − π| < 0.1 over its last 50 steps) from {} of 8 starts",
        run.held
    );
    Ok(gps_plots(&run.result, &run.rollouts, 0.1, 0, &["θ", "θ̇"]))
}

/// Guided policy search on the cart-pole swing-up from 4 starts (seed 0): prints the
/// disagreement per iteration and each start's cost, the policy alone against iLQR; plots θ of
/// the trajectories and of the policy run alone.
fn gps_cart_pole() -> Result<Trajectory, String> {
    let run = super::policy_report::gps_cart_pole(0, true)?;
    for (i, (policy, ilqr)) in run.policy_costs.iter().zip(&run.ilqr_costs).enumerate() {
        println!(
            "start {i}: the policy alone costs {policy:.3}, iLQR {ilqr:.3} ({:.3} × iLQR)",
            policy / ilqr
        );
    }
    Ok(gps_plots(
        &run.result,
        &run.rollouts,
        0.05,
        1,
        &["p", "θ", "ṗ", "θ̇"],
    ))
}

/// A GPS demo's plots: the disagreement per iteration, and θ (state column `theta`) of each
/// start's optimised trajectory beside the policy run alone from it (time step `h`).
fn gps_plots(
    result: &GpsResult,
    rollouts: &[Array2<f64>],
    h: f64,
    theta: usize,
    state_names: &'static [&'static str],
) -> Trajectory {
    let time = |rows: usize| (0..rows).map(|t| t as f64 * h).collect::<Vec<_>>();
    let mut series = Vec::new();
    for (i, (x, rollout)) in result.x.iter().zip(rollouts).enumerate() {
        series.push(Series::line(
            &format!("trajectory {i}"),
            time(x.nrows()),
            x.column(theta).to_vec(),
        ));
        series.push(Series::line(
            &format!("policy alone {i}"),
            time(rollout.nrows()),
            rollout.column(theta).to_vec(),
        ));
    }
    let iterations = &result.iterations;
    let disagreement = ExtraPlot {
        file: "disagreement.svg",
        title: "GPS: max ‖u − clamp(π_θ(x))‖ per iteration".into(),
        x_label: "iteration",
        y_label: "log10 disagreement",
        series: vec![Series::line(
            "disagreement",
            iterations.iter().map(|k| k.iteration as f64).collect(),
            iterations.iter().map(|k| k.disagreement.log10()).collect(),
        )],
    };
    let angles = ExtraPlot {
        file: "policy-vs-trajectories.svg",
        title: "GPS: θ of the optimised trajectories and of the policy alone, per start".into(),
        x_label: "time (s)",
        y_label: "θ (rad)",
        series,
    };
    Trajectory {
        dt: h,
        x: rollouts[0].clone(),
        u: result.u[0].clone(),
        state_names,
        control_names: &["u"],
        extra: vec![disagreement, angles],
    }
}

fn plato_pendulum() -> Result<Trajectory, String> {
    use wengert::control::plant::Plant;
    let result = super::policy_report::plato_pendulum(0)?;
    let mut plant = wengert::plant::GymPlant::new(wengert::rl::env::Pendulum::new());
    let mut o = plant.reset(10_000);
    let (mut x, mut u, mut total) = (Vec::new(), Vec::new(), 0.0);
    for _ in 0..200 {
        let a = result.policy.act(&o);
        x.push([o[1].atan2(o[0]), o[2]]);
        u.push(a[0]);
        let step = plant.step(&a)?;
        total += step.reward;
        o = step.observation;
        if step.done {
            break;
        }
    }
    println!(
        "the learner alone on Pendulum-v1 (reset seed 10000): return {total:.1} with {} expert labels",
        result.dataset.len()
    );
    let rounds = |f: fn(&wengert::control::gps::ImitationRound) -> f64| {
        result.rounds.iter().map(f).collect::<Vec<_>>()
    };
    let history = ExtraPlot {
        file: "rounds.svg",
        title: "PLATO on Pendulum-v1: the pulled teacher's mean return per round".into(),
        x_label: "round",
        y_label: "return",
        series: vec![Series::line(
            "teacher (executed)",
            rounds(|r| r.round as f64),
            rounds(|r| r.mean_return),
        )],
    };
    Ok(Trajectory {
        dt: wengert::control::systems::pendulum_v1::DT,
        x: Array2::from_shape_fn((x.len(), 2), |(t, j)| x[t][j]),
        u: Array2::from_shape_fn((u.len(), 1), |(t, _)| u[t]),
        state_names: &["θ", "θ̇"],
        control_names: &["u"],
        extra: vec![history],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lqr_demo_reaches_the_origin_and_its_first_gain_is_the_stationary_one() {
        let trajectory = lqr_double_integrator().unwrap();
        assert_eq!(trajectory.x.nrows(), 51);
        assert_eq!(trajectory.u.nrows(), 50);
        let end = trajectory.x.row(50);
        assert!(end.iter().all(|v| v.abs() < 0.05), "{end}");
    }

    #[test]
    fn the_shooting_vs_collocation_demo_ends_with_the_pole_upright() {
        let trajectory = shooting_vs_collocation().unwrap();
        let end = trajectory.x.row(20);
        assert!((end[1] - PI).abs() < 1e-6 && end[0].abs() < 1e-6, "{end}");
        assert_eq!(trajectory.extra.len(), 2);
    }

    #[test]
    fn unknown_demos_list_the_valid_ones() {
        let error = run("lqg", None).unwrap_err();
        assert!(error.contains("valid demos: lqr, ilqr-pendulum"), "{error}");
    }
}
