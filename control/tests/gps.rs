//! Guided policy search, PLATO and DAgger: the losses against central differences, the
//! augmented-Lagrangian update on a 1-D problem with a known solution, GPS's fixed point
//! (policy and trajectories agree), the stop at a disagreement tolerance, the penalty per point,
//! the policy samples' states and feedback labels, PLATO's teacher with zero pull (plain MPC),
//! and DAgger's and behaviour cloning's fits on a task's symmetry. (DAgger's data-set growth is
//! tested beside it, in `control/src/gps/dagger.rs`.)

use std::sync::Arc;

use autograd::{SharedArray, Tape, Tensor, Var, grad, gradcheck};
use ndarray::{Array1, Array2, array};
use wengert_control::gps::guided_policy_search::{
    executed_regression_loss, policy_rollout, policy_sample_data, weighted_regression_loss,
};
use wengert_control::gps::plato::Observe;
use wengert_control::gps::{
    DaggerConfig, FitConfig, GpsConfig, GpsResult, PenaltyRule, PlatoTeacher, Symmetry,
    behaviour_cloning, dagger, guided_policy_search, imitation_loss, multiplier_update,
    policy_constraint_terms,
};
use wengert_control::ilqr::{IlqrOptions, Problem};
use wengert_control::model_based::ModelPolicy;
use wengert_control::planners::{Mpc, Planner};
use wengert_control::plant::{Plant, PlantStep};
use wengert_control::systems::pendulum_v1;

fn shared(a: Array2<f64>) -> SharedArray<f64> {
    a.into_dyn().into_shared()
}

#[test]
fn the_losses_pass_gradcheck() {
    let u = array![[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]];
    let pi = array![[0.1, -0.2, 0.9], [1.5, 0.3, 0.2]];
    let lambda = array![[0.5], [-1.5]];
    gradcheck(
        |v: &[Var<f64>]| imitation_loss(&v[0], &v[1]),
        &[shared(pi.clone()), shared(u.clone())],
    )
    .unwrap();
    gradcheck(
        |v: &[Var<f64>]| policy_constraint_terms(&v[0], &v[1], &v[2], 2.5).sum_all(),
        &[shared(u.clone()), shared(pi.clone()), shared(lambda)],
    )
    .unwrap();
    let rho = array![[4.0, 1.0, 0.5]];
    gradcheck(
        |v: &[Var<f64>]| weighted_regression_loss(&(&v[0] - &v[1]), &v[2]),
        &[shared(pi), shared(u), shared(rho)],
    )
    .unwrap();
}

/// The executed-action fit, `U = [−1, 2] × [−3, 3]`: inside the box it is the plain
/// regression `(ρ/2B) ‖π − b‖²`; a target past a bound asks only that `π` reach it (no loss and
/// no gradient once it has, the residual to the bound while it has not); and it passes gradcheck
/// away from the kinks.
#[test]
fn the_executed_fit_asks_only_for_the_bound_past_it() {
    let bounds = (array![-1.0, -3.0], array![2.0, 3.0]);
    let box_ = (&bounds.0, &bounds.1);
    let rho = 4.0;
    let plain = |pi: &Array2<f64>, b: &Array2<f64>| {
        (pi - b).mapv(|r| r * r).sum() * rho / 2.0 / pi.ncols() as f64
    };
    // every target inside the box: the plain regression, whatever π is
    let (pi, b) = (
        array![[0.5, 2.5, -1.5], [4.0, 0.0, -2.0]],
        array![[0.3, 1.0, -0.5], [2.0, -1.0, 2.9]],
    );
    let loss = executed_regression_loss(
        &Var::constant(pi.clone()),
        &Var::constant(b.clone()),
        box_,
        rho,
    );
    assert!((loss.item() - plain(&pi, &b)).abs() < 1e-12);
    // targets past the bounds (2.3 ≥ 2, −3.2 ≤ −3, −1 ≤ −1): π beyond them costs nothing …
    let b = array![[2.3, -1.0], [0.0, -3.2]];
    let beyond = array![[2.4, -1.7], [0.0, -3.5]];
    let loss =
        executed_regression_loss(&Var::constant(beyond), &Var::constant(b.clone()), box_, rho);
    let at_bounds = array![[2.0, -1.0], [0.0, -3.0]];
    assert!(
        (loss.item() - plain(&at_bounds, &b)).abs() < 1e-12,
        "{}",
        loss.item()
    );
    // … and gets no gradient, while π short of a bound is pulled towards it
    let tape = Tape::new();
    let short = array![[2.4, 0.5], [0.0, -3.5]];
    let pi = tape.var(short.clone());
    let loss = executed_regression_loss(&pi, &Var::constant(b.clone()), box_, rho);
    let g = grad(&[&loss], &[&pi]).remove(0);
    let g: Array2<f64> = g.to_owned().into_dimensionality().unwrap();
    assert_eq!((g[[0, 0]], g[[1, 1]]), (0.0, 0.0));
    assert!((g[[0, 1]] - rho / 2.0 * (0.5 - -1.0)).abs() < 1e-12, "{g}");
    gradcheck(
        |v: &[Var<f64>]| executed_regression_loss(&v[0], &v[1], box_, rho),
        &[shared(short), shared(b)],
    )
    .unwrap();
}

/// `min ½(u₁ − 1)² + ½(u₂ − 3)²` subject to `u₁ = θ`, `u₂ = θ` (two trajectories of one step
/// from the same state, one constant policy): `θ = u₁ = u₂ = 2`, and stationarity
/// `u_i − a_i + λ_i = 0` gives `λ = (−1, 1)`. Each block is minimised in closed form; the
/// multiplier step is the library's, and the solution's stationarity is checked with the
/// library's `φ_ρ` differentiated by autograd.
#[test]
fn the_augmented_lagrangian_update_solves_a_one_dimensional_problem() {
    let a = [1.0, 3.0];
    let rho = 2.0;
    let (mut u, mut lambda, mut theta) = ([0.0; 2], [0.0; 2], 0.0);
    for _ in 0..100 {
        // policy step: argmin_θ Σ φ_ρ(u_i, θ; λ_i) = mean(u_i + λ_i/ρ)
        theta = (0..2).map(|i| u[i] + lambda[i] / rho).sum::<f64>() / 2.0;
        for i in 0..2 {
            // trajectory step: argmin_u ½(u − a)² + φ_ρ(u, θ; λ)
            u[i] = (a[i] - lambda[i] + rho * theta) / (1.0 + rho);
            lambda[i] = multiplier_update(
                &array![[lambda[i]]],
                &array![[u[i]]],
                &array![[theta]],
                &array![rho],
            )[[0, 0]];
        }
    }
    assert!((theta - 2.0).abs() < 1e-9, "θ = {theta}");
    assert!(
        (u[0] - 2.0).abs() < 1e-9 && (u[1] - 2.0).abs() < 1e-9,
        "u = {u:?}"
    );
    assert!(
        (lambda[0] + 1.0).abs() < 1e-9 && (lambda[1] - 1.0).abs() < 1e-9,
        "λ = {lambda:?}"
    );
    // stationarity of the Lagrangian in u: (u − a) + ∂φ₀/∂u = 0 at ρ = 0
    for i in 0..2 {
        let tape = Tape::new();
        let u_var = tape.var(array![u[i]]);
        let phi = policy_constraint_terms(
            &u_var,
            &Var::constant(array![theta]),
            &Var::constant(array![lambda[i]]),
            0.0,
        );
        let [d] = grad(&[&phi], &[&u_var]).try_into().unwrap();
        assert!((u[i] - a[i] + d[0]).abs() < 1e-9);
    }
}

/// `x' = x + 0.1 u`, `ℓ = x² + 0.1 u²`, 10 steps: the integrator the GPS tests steer.
fn integrator() -> Problem {
    Problem::new(
        1,
        1,
        10,
        |x, u| x + &(u * 0.1),
        |x, u| x.powi(2).sum(&[0], false) + u.powi(2).sum(&[0], false) * 0.1,
        |x| x.powi(2).sum(&[0], false),
    )
}

/// The integrator's four starts, steered by one policy.
fn integrator_starts() -> Vec<Array1<f64>> {
    [-1.0, -0.5, 0.5, 1.0].iter().map(|&x| array![x]).collect()
}

/// GPS on the one-dimensional test problems: 12 iterations, a 16-unit policy.
fn small_config() -> GpsConfig {
    GpsConfig {
        iterations: 12,
        hidden: vec![16],
        fit: FitConfig {
            epochs: 150,
            batch_size: 40,
            learning_rate: 1e-2,
            min_learning_rate: 1e-3,
        },
        ilqr: IlqrOptions {
            max_iterations: 30,
            ..IlqrOptions::default()
        },
        ..GpsConfig::default()
    }
}

/// GPS on `problem` from `starts`, controls in ±10.
fn integrator_gps(problem: &Problem, starts: &[Array1<f64>], config: GpsConfig) -> GpsResult {
    guided_policy_search(
        problem,
        starts,
        None,
        (array![-10.0], array![10.0]),
        &config,
        |k| println!("{k:?}"),
    )
    .unwrap()
}

#[test]
fn at_the_fixed_point_the_policy_and_the_trajectories_agree() {
    let (problem, starts) = (integrator(), integrator_starts());
    let result = integrator_gps(&problem, &starts, small_config());
    let first = result.iterations[0].disagreement;
    let last = result.iterations.last().unwrap().disagreement;
    assert!(
        last < 1e-2 && last < first / 10.0,
        "disagreement {first} → {last}"
    );
    for (i, x0) in starts.iter().enumerate() {
        let (x, _) = policy_rollout(&problem, &result.policy, x0, 10);
        let gap = (&x - &result.x[i])
            .iter()
            .fold(0.0_f64, |a, b| a.max(b.abs()));
        assert!(
            gap < 1e-2,
            "start {x0}: the policy's rollout is {gap} from the trajectory"
        );
    }
}

/// With a disagreement tolerance `ε` the loop stops after the first iteration whose max
/// disagreement is at most `ε` (the augmented Lagrangian's feasibility test): the same
/// iterations as the full run up to there, and the policy and trajectories it returns are that
/// iteration's, agreeing to `ε`.
#[test]
fn a_disagreement_tolerance_stops_at_the_first_feasible_iteration() {
    let (problem, starts) = (integrator(), integrator_starts());
    let full = integrator_gps(&problem, &starts, small_config());
    let tolerance = full.iterations[4].disagreement;
    let first_feasible = full
        .iterations
        .iter()
        .position(|k| k.disagreement <= tolerance)
        .unwrap();
    assert!(first_feasible >= 1, "{:?}", full.iterations);
    let config = GpsConfig {
        disagreement_tolerance: Some(tolerance),
        ..small_config()
    };
    let stopped = integrator_gps(&problem, &starts, config);
    assert_eq!(stopped.iterations, full.iterations[..=first_feasible]);
    let mut largest = 0.0_f64;
    for (x, u) in stopped.x.iter().zip(&stopped.u) {
        for t in 0..u.nrows() {
            let pi = stopped.policy.act(&x.row(t).to_owned());
            largest = largest.max((u[[t, 0]] - pi[0]).abs());
        }
    }
    assert!(
        largest <= tolerance
            && (largest - stopped.iterations.last().unwrap().disagreement).abs() < 1e-12,
        "the returned policy and trajectories disagree by {largest}, tolerance {tolerance}"
    );
}

/// Pendulum-v1's observation `(cos θ, sin θ, θ̇)` of the planner's state `(θ, θ̇)`.
fn pendulum_observation() -> Observe {
    Arc::new(|x: &Var<f64>| {
        let theta = x.slice(0, 0, 1);
        Var::concat(&[&theta.cos(), &theta.sin(), &x.slice(0, 1, 2)], 0)
    })
}

/// Pendulum-v1's swing-up over a 20-step horizon, with 3 iLQR iterations a control step.
fn swing_up() -> (Problem, IlqrOptions) {
    let options = IlqrOptions {
        max_iterations: 3,
        ..IlqrOptions::default()
    };
    (pendulum_v1::planning_problem(20), options)
}

/// The restarts of the zero-pull tests: from the constant controls `u ≡ 2` and `u ≡ −2`.
fn swing_up_restarts() -> Vec<Array1<f64>> {
    vec![array![2.0], array![-2.0]]
}

/// Plain MPC on the swing-up (30 iterations on the first call), restarting from each control in
/// `restarts` (5 iterations each) while the warm plan costs more than `threshold` (−∞: always).
fn swing_up_mpc(restarts: &[Array1<f64>], threshold: f64) -> Mpc {
    let (problem, options) = swing_up();
    Mpc::new(problem, options)
        .with_first_call_iterations(30)
        .with_restarts(restarts.to_vec(), 5)
        .with_restart_threshold(threshold)
}

/// PLATO's teacher with zero pull on the swing-up, with the restarts and threshold of
/// [`swing_up_mpc`], reset on an untrained learner.
fn zero_pull_teacher(restarts: &[Array1<f64>], threshold: f64) -> PlatoTeacher {
    let (problem, options) = swing_up();
    let learner = ModelPolicy::new(3, &[8], array![-2.0], array![2.0], 0);
    let mut teacher =
        PlatoTeacher::new(problem, options, 30, pendulum_observation(), 0.0, &learner)
            .with_restarts(restarts.to_vec(), 5)
            .with_restart_threshold(threshold);
    teacher.reset(&learner);
    teacher
}

/// Asserts that at `x` the zero-pull teacher executes and labels plain MPC's action `u_mpc`.
fn assert_acts_as_mpc(
    teacher: &mut PlatoTeacher,
    x: &Array1<f64>,
    u_mpc: &Array1<f64>,
    step: usize,
) {
    let (executed, label) = teacher.act(x);
    assert_eq!(
        &executed, u_mpc,
        "step {step}: the zero-pull teacher's action"
    );
    assert_eq!(&label, u_mpc, "step {step}: the label");
}

#[test]
fn platos_teacher_with_zero_pull_is_plain_mpc_and_a_pull_moves_it_towards_the_learner() {
    let (problem, options) = swing_up();
    // a learner that pushes clockwise everywhere: π_θ(o) ≈ −1.5
    let mut learner = ModelPolicy::new(3, &[8], array![-2.0], array![2.0], 0);
    let o = Array2::from_shape_fn((3, 20), |(i, b)| ((i * 20 + b) as f64 * 0.37).sin());
    let fit = FitConfig {
        epochs: 200,
        batch_size: 20,
        learning_rate: 1e-2,
        min_learning_rate: 1e-3,
    };
    wengert_control::gps::fit_policy(
        &mut learner,
        &o,
        &Array2::from_elem((1, 20), -1.5),
        &fit,
        0,
        imitation_loss,
    );
    assert!((learner.act(&array![1.0, 0.0, 0.0])[0] + 1.5).abs() < 0.1);

    let mut plain = Mpc::new(problem.clone(), options.clone()).with_first_call_iterations(30);
    let mut teacher = PlatoTeacher::new(
        problem.clone(),
        options.clone(),
        30,
        pendulum_observation(),
        0.0,
        &learner,
    );
    let mut pulled = PlatoTeacher::new(
        problem.clone(),
        options,
        30,
        pendulum_observation(),
        10.0,
        &learner,
    );
    let mut x = array![2.5, 0.0];
    for step in 0..15 {
        let u_mpc = plain.plan(&x);
        assert_acts_as_mpc(&mut teacher, &x, &u_mpc, step);
        let (towards, optimum) = pulled.act(&x);
        assert_eq!(
            optimum, u_mpc,
            "step {step}: the pulled teacher's label is plain MPC's"
        );
        let pi = learner.act(&array![x[0].cos(), x[0].sin(), x[1]]);
        assert!(
            (towards[0] - pi[0]).abs() < (optimum[0] - pi[0]).abs(),
            "step {step}: pulled {towards} is no closer to the learner's {pi} than {optimum}"
        );
        x = problem.step(&x, &u_mpc);
    }
}

#[test]
fn platos_teacher_with_zero_pull_and_restarts_is_mpc_with_the_same_restarts() {
    let problem = swing_up().0;
    let restarts = swing_up_restarts();
    let mut plain = swing_up_mpc(&restarts, f64::NEG_INFINITY);
    let mut unrestarted = swing_up_mpc(&[], f64::NEG_INFINITY);
    let mut teacher = zero_pull_teacher(&restarts, f64::NEG_INFINITY);
    // from θ = −0.3 falling away from upright, the zero-control start lets it fall all the way
    // round; a restart catches it
    let mut x = array![-0.3, -1.0];
    let mut differs = false;
    for step in 0..15 {
        let u_mpc = plain.plan(&x);
        differs |= unrestarted.plan(&x) != u_mpc;
        assert_acts_as_mpc(&mut teacher, &x, &u_mpc, step);
        x = problem.step(&x, &u_mpc);
    }
    assert!(
        differs,
        "the restarts changed no action: the test checks nothing"
    );
}

/// With a restart threshold both of PLATO's MPCs restart only while their warm plan costs more
/// than it; with zero pull the teacher still acts and labels as plain MPC with the same
/// restarts and threshold, and the threshold skipped the restarts at some steps, not all.
#[test]
fn platos_teacher_with_zero_pull_and_a_restart_threshold_is_mpc_with_the_same_threshold() {
    let problem = swing_up().0;
    let restarts = swing_up_restarts();
    let threshold = 1.0;
    let mut plain = swing_up_mpc(&restarts, threshold);
    let mut always = swing_up_mpc(&restarts, f64::NEG_INFINITY);
    let mut teacher = zero_pull_teacher(&restarts, threshold);
    let mut x = array![-0.3, -1.0];
    let steps = 40;
    for step in 0..steps {
        let u_mpc = plain.plan(&x);
        always.plan(&x);
        assert_acts_as_mpc(&mut teacher, &x, &u_mpc, step);
        x = problem.step(&x, &u_mpc);
    }
    assert_eq!(always.restarted_steps(), steps);
    let restarted = plain.restarted_steps();
    assert!(
        0 < restarted && restarted < steps,
        "restarted at {restarted} of {steps} steps: the threshold should skip some, not all"
    );
    // upright is θ ≡ 0 (mod 2π): it swung up, maybe the long way round
    assert!(
        x[0].cos() > 0.9,
        "the thresholded MPC did not reach the top: {x}"
    );
}

/// The first trajectories are iLQR's from the given controls: on a problem with two local
/// optima (`ℓ_T = (x² − 1)²`, reached at `x = ±1`), a guess pushing down lands GPS's
/// trajectory at −1 and no guess (zeros, from `x₀ = 0.1`) at +1.
#[test]
fn the_first_trajectories_start_from_the_initial_controls() {
    let problem = Problem::new(
        1,
        1,
        5,
        |x, u| x + &(u * 0.2),
        |_, u| u.powi(2).sum(&[0], false) * 0.01,
        |x| (x.powi(2) - 1.0).powi(2).sum(&[0], false) * 10.0,
    );
    let starts = [array![0.1]];
    let config = GpsConfig {
        iterations: 0,
        ..GpsConfig::default()
    };
    let bounds = || (array![-5.0], array![5.0]);
    let down = [Array2::from_elem((5, 1), -1.0)];
    let guided =
        guided_policy_search(&problem, &starts, Some(&down), bounds(), &config, |_| {}).unwrap();
    let plain = guided_policy_search(&problem, &starts, None, bounds(), &config, |_| {}).unwrap();
    assert!((guided.x[0][[5, 0]] + 1.0).abs() < 1e-2, "{}", guided.x[0]);
    assert!((plain.x[0][[5, 0]] - 1.0).abs() < 1e-2, "{}", plain.x[0]);
}

#[test]
#[should_panic(expected = "2 initial control sequences for 1 start states")]
fn initial_controls_must_match_the_starts() {
    let problem = Problem::new(
        1,
        1,
        2,
        |x, u| x + u,
        |_, u| u.powi(2).sum(&[0], false),
        |x| x.powi(2).sum(&[0], false),
    );
    let controls = [Array2::zeros((2, 1)), Array2::zeros((2, 1))];
    let _ = guided_policy_search(
        &problem,
        &[array![1.0]],
        Some(&controls),
        (array![-1.0], array![1.0]),
        &GpsConfig::default(),
        |_| {},
    );
}

/// The policy samples on `x' = x + u`: the states are the policy's rollout from each start, and
/// each label is `u_t + λ_t/ρ + K_t (x^π_t − x_t)` (clipped to the box), against a trajectory
/// shifted from the rollout by a known offset per start and step.
#[test]
#[allow(non_snake_case)]
fn the_policy_samples_are_the_rollout_states_labelled_by_the_local_feedback() {
    let problem = Problem::new(
        2,
        1,
        3,
        |x, u| x + &u.sum(&[0], false),
        |_, u| u.powi(2).sum(&[0], false),
        |x| x.sum(&[0], false) * 0.0,
    );
    let policy = ModelPolicy::new(2, &[4], array![-10.0], array![10.0], 3);
    let starts = [array![0.5, -0.2], array![-1.0, 0.3]];
    let (mut x, mut u, mut lambda, mut K) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rollouts = Vec::new();
    for (i, x0) in starts.iter().enumerate() {
        let (x_pi, _) = policy_rollout(&problem, &policy, x0, 3);
        // x_t = x^π_t − offset, so x^π_t − x_t = offset
        let offset =
            Array2::from_shape_fn((4, 2), |(t, j)| 0.1 * (i + 1) as f64 * (t + 1 + j) as f64);
        x.push(&x_pi - &offset);
        u.push(Array2::from_shape_fn((3, 1), |(t, _)| t as f64 - 1.0));
        lambda.push(Array2::from_shape_fn((3, 1), |(t, _)| {
            0.5 * i as f64 + t as f64
        }));
        K.push(
            (0..3)
                .map(|t| array![[1.0 + t as f64, -2.0]])
                .collect::<Vec<_>>(),
        );
        rollouts.push((x_pi, offset));
    }
    let rho = 4.0;
    let (lower, upper) = (array![-1.5], array![1.5]);
    let (X, U) = policy_sample_data(
        &problem,
        &policy,
        &starts,
        (&x, &u, &lambda, &K),
        (&lower, &upper),
        &[Array1::from_elem(3, rho), Array1::from_elem(3, rho)],
    );
    assert_eq!((X.dim(), U.dim()), ((2, 6), (1, 6)));
    for (i, (x_pi, offset)) in rollouts.iter().enumerate() {
        for t in 0..3 {
            let b = 3 * i + t;
            assert_eq!(X.column(b), x_pi.row(t));
            let feedback = (1.0 + t as f64) * offset[[t, 0]] - 2.0 * offset[[t, 1]];
            let expected = (u[i][[t, 0]] + lambda[i][[t, 0]] / rho + feedback).clamp(-1.5, 1.5);
            assert!(
                (U[[0, b]] - expected).abs() < 1e-12,
                "sample {b}: {} vs {expected}",
                U[[0, b]]
            );
        }
    }
}

/// A learner with a pronounced slope in every input: fitted to `u = 1.5 tanh(o₂ − o₁ + 0.5 o₃)`
/// at 40 observations `(cos θ, sin θ, θ̇)` (a learner at its initialisation is ≈ 0 with
/// gradients ≈ 1e-3, which would make any comparison of pulls vacuous).
fn sloped_learner() -> ModelPolicy {
    let mut learner = ModelPolicy::new(3, &[16], array![-2.0], array![2.0], 3);
    let states = Array2::from_shape_fn((2, 40), |(i, b)| {
        let s = (b as f64 * 0.61 + i as f64 * 1.3).sin();
        if i == 0 { 3.0 * s } else { 4.0 * s }
    });
    let o = Array2::from_shape_fn((3, 40), |(i, b)| match i {
        0 => states[[0, b]].cos(),
        1 => states[[0, b]].sin(),
        _ => states[[1, b]],
    });
    let u = Array2::from_shape_fn((1, 40), |(_, b)| {
        1.5 * (o[[1, b]] - o[[0, b]] + 0.5 * o[[2, b]]).tanh()
    });
    learner.standardise_inputs(&o);
    let fit = FitConfig {
        epochs: 300,
        batch_size: 40,
        learning_rate: 1e-2,
        min_learning_rate: 1e-3,
    };
    wengert_control::gps::fit_policy(&mut learner, &o, &u, &fit, 0, imitation_loss);
    learner
}

/// At the linearisation point `x̄_t` the linearised pull has the full pull's value and
/// gradient in `(x, u)`; away from it the two differ (so the comparison is not vacuous).
#[test]
fn the_linearised_pull_equals_the_full_pull_at_the_linearisation_point() {
    let problem = pendulum_v1::planning_problem(4);
    let learner = sloped_learner();
    let x_bar = array![[2.5, 0.3], [2.4, -1.0], [-0.7, 2.0], [0.1, -3.0]];
    let lambda = 3.0;
    let full =
        wengert_control::gps::pulled_problem(&problem, &learner, &pendulum_observation(), lambda);
    let linear = wengert_control::gps::linearised_pull_problem(
        &problem,
        &learner,
        &pendulum_observation(),
        &x_bar,
        lambda,
    );
    let u = array![0.7];
    for t in 0..4 {
        let x_t = x_bar.row(t).to_owned();
        let (a, b) = (
            full.running_cost_at(t, &x_t, &u),
            linear.running_cost_at(t, &x_t, &u),
        );
        assert!((a - b).abs() < 1e-12, "t = {t}: value {a} against {b}");
        let (a, b) = (full.expand(t, &x_t, &u), linear.expand(t, &x_t, &u));
        let gap = (&a.c - &b.c).mapv(f64::abs).fold(0.0_f64, |m, &d| m.max(d));
        assert!(gap < 1e-10, "t = {t}: gradients {} against {}", a.c, b.c);
        // away from x̄_t, the learner's curvature makes them differ
        let away = &x_t + &array![0.8, 1.5];
        let (a, b) = (
            full.running_cost_at(t, &away, &u),
            linear.running_cost_at(t, &away, &u),
        );
        assert!(
            (a - b).abs() > 1e-4,
            "t = {t}: {a} = {b} away from x̄: vacuous"
        );
    }
}

/// `linearise_learner`'s Jacobians against central differences of `π_θ(o(x))`.
#[test]
fn the_learners_linearisation_matches_central_differences() {
    let learner = sloped_learner();
    let x_bar = array![[2.5, 0.3], [-0.7, 2.0], [0.1, -3.0]];
    let (a, gains) =
        wengert_control::gps::linearise_learner(&learner, &pendulum_observation(), &x_bar);
    let pi = |x: &Array1<f64>| learner.act(&array![x[0].cos(), x[0].sin(), x[1]])[0];
    let h = 1e-6;
    for t in 0..3 {
        let x = x_bar.row(t).to_owned();
        assert!((a[t][0] - pi(&x)).abs() < 1e-12);
        for j in 0..2 {
            let mut e = Array1::zeros(2);
            e[j] = h;
            let numeric = (pi(&(&x + &e)) - pi(&(&x - &e))) / (2.0 * h);
            assert!(
                (gains[t][[0, j]] - numeric).abs() < 1e-6,
                "t = {t}, j = {j}: {} against {numeric}",
                gains[t][[0, j]]
            );
        }
        assert!(
            gains[t].iter().any(|k| k.abs() > 1e-2),
            "a flat learner: vacuous"
        );
    }
}

/// Re-standardising the inputs changes `μ, σ` to the new data's and leaves `π_θ` unchanged,
/// for a two-layer learner at inputs well outside both data sets.
#[test]
fn restandardising_the_inputs_keeps_the_policy() {
    let mut learner = sloped_learner();
    let probes = Array2::from_shape_fn((3, 25), |(i, b)| ((i * 25 + b) as f64 * 0.91).sin() * 9.0);
    let before: Vec<f64> = (0..25)
        .map(|b| learner.act(&probes.column(b).to_owned())[0])
        .collect();
    let wider = Array2::from_shape_fn((3, 60), |(i, b)| {
        ((i * 60 + b) as f64 * 0.37).cos() * (1.0 + 3.0 * i as f64) + 0.5
    });
    let old_std = learner.input_std.clone();
    learner.restandardise_inputs(&wider);
    assert!(
        (&learner.input_std - &old_std).mapv(f64::abs).sum() > 0.1,
        "the statistics did not change: vacuous"
    );
    let mean = wider.mean_axis(ndarray::Axis(1)).unwrap();
    assert!((&learner.input_mean - &mean).mapv(f64::abs).sum() < 1e-12);
    for (b, before) in before.iter().enumerate() {
        let after = learner.act(&probes.column(b).to_owned())[0];
        assert!(
            (after - before).abs() < 1e-10,
            "probe {b}: {before} became {after}"
        );
    }
}

/// Two starts on `x' = x + 0.2 u` with a double well `ℓ_T = 10 (x² − 1)²`, whose first
/// trajectories cross: from `x₀ = 0.3` down to `−1`, from `−0.3` up to `+1`. No policy `π(x)`
/// executes both (at the states between them one pushes down and the other up). Warm-started
/// from the previous trajectories, the trajectory step stays in the crossing basins while the
/// multipliers run away; started from the policy's own rollouts (`policy_warm_start`), whose
/// states cannot cross, the trajectories become ones the policy executes, with small multipliers.
#[test]
fn starting_the_trajectory_step_from_the_policys_rollout_resolves_crossing_trajectories() {
    let problem = Problem::new(
        1,
        1,
        10,
        |x, u| x + &(u * 0.2),
        |_, u| u.powi(2).sum(&[0], false) * 0.01,
        |x| (x.powi(2) - 1.0).powi(2).sum(&[0], false) * 10.0,
    );
    let starts = [array![0.3], array![-0.1]];
    let crossing = [
        Array2::from_elem((10, 1), -1.0),
        Array2::from_elem((10, 1), 1.0),
    ];
    let run = |policy_warm_start| {
        let small = small_config();
        let config = GpsConfig {
            iterations: 16,
            rho_growth: 2.0,
            policy_warm_start,
            fit: FitConfig {
                batch_size: 20,
                ..small.fit
            },
            ..small
        };
        guided_policy_search(
            &problem,
            &starts,
            Some(&crossing),
            (array![-5.0], array![5.0]),
            &config,
            |k| println!("{k:?}"),
        )
        .unwrap()
    };
    let crossed = run(None);
    let executed = run(Some(3));
    let last = |result: &GpsResult| result.iterations.last().unwrap().disagreement;
    let peak_multiplier = |result: &GpsResult| {
        result
            .iterations
            .iter()
            .fold(0.0_f64, |a, k| a.max(k.max_multiplier))
    };
    println!(
        "crossed: disagreement {:.2e}, max |λ| {:.1}; executed: {:.2e}, {:.1}",
        last(&crossed),
        peak_multiplier(&crossed),
        last(&executed),
        peak_multiplier(&executed)
    );
    // the multipliers run away while the trajectories cross, and the max lags behind …
    assert!(peak_multiplier(&crossed) > 20.0 && last(&crossed) > 5e-3);
    // … and stay small once the trajectory step starts from the policy's rollout
    assert!(peak_multiplier(&executed) < 5.0 && last(&executed) < 5e-3);
    // … and end in a well, not balanced on the hump between them
    for x in &executed.x {
        assert!((x[[10, 0]].abs() - 1.0).abs() < 0.1, "{x}");
    }
}

/// One step whose control is stiff: `x' = x + 0.1 u`, `ℓ = x² + 0.1 u²` plus `100 (u − 1)²` at
/// `t = 4`, four starts, one policy. At that step the disagreement stalls (its multiplier must
/// reach ≈ the stiff cost's gradient); the shared rule then grows `ρ` at every point and the
/// trajectories, held to a policy fitted under that stiffness, end far costlier than the
/// optimum; with a penalty per point only the stalled points stiffen, and the trajectories
/// agree with the policy as closely at a fraction of the cost.
#[test]
fn a_penalty_per_point_stiffens_only_where_the_disagreement_stalls() {
    let problem = integrator().with_stage_cost(|t, _, u| {
        let weight = if t == 4 { 100.0 } else { 0.0 };
        (u * 1.0 - 1.0).powi(2).sum(&[0], false) * weight
    });
    let starts = integrator_starts();
    let run = |penalty: PenaltyRule| {
        let config = GpsConfig {
            rho_growth: 2.0,
            rho_stall: 0.25,
            penalty,
            ..small_config()
        };
        integrator_gps(&problem, &starts, config)
    };
    let shared = run(PenaltyRule::Shared);
    let per_point = run(PenaltyRule::PerPoint {
        stall: 0.25,
        tolerance: 1e-3,
        shared_floor: false,
    });
    let ends = |result: &GpsResult| {
        (
            result.iterations[0].clone(),
            result.iterations.last().unwrap().clone(),
        )
    };
    let (shared_first, shared_last) = ends(&shared);
    let (first, last) = ends(&per_point);
    println!(
        "shared: max {:.2e}, Σ c {:.2} (first {:.2}); per point: max {:.2e}, Σ c {:.2} (first {:.2})",
        shared_last.disagreement,
        shared_last.trajectory_cost,
        shared_first.trajectory_cost,
        last.disagreement,
        last.trajectory_cost,
        first.trajectory_cost
    );
    // both agree closely …
    assert!(shared_last.disagreement < 5e-2 && last.disagreement < 5e-2);
    // … the shared penalty at 4× the first trajectories' cost, the per-point one within 2×
    assert!(shared_last.trajectory_cost > 4.0 * shared_first.trajectory_cost);
    assert!(last.trajectory_cost < 2.0 * first.trajectory_cost);
    // the shared ρ is one number; the per-point ones differ, below ρ_max somewhere
    let spread = |result: &GpsResult| {
        let all = || result.rho.iter().flatten();
        let (low, high) = (
            all().fold(f64::INFINITY, |a, &b| a.min(b)),
            all().fold(0.0_f64, |a, &b| a.max(b)),
        );
        (low, high)
    };
    let (low, high) = spread(&shared);
    assert_eq!(low, high);
    let (low, high) = spread(&per_point);
    assert!(low <= high / 4.0, "per-point ρ from {low} to {high}");
}

#[test]
fn a_symmetry_teaches_the_mirrored_states_and_asks_the_expert_nothing_more() {
    /// `s' = max(s + a, 0.5)` from `s_0 = 1 + seed mod 3`: every visited state is positive.
    struct HalfLine(f64);
    impl Plant for HalfLine {
        fn name(&self) -> &str {
            "half-line"
        }
        fn observation_dim(&self) -> usize {
            1
        }
        fn action_bounds(&self) -> (Array1<f64>, Array1<f64>) {
            (array![-2.0], array![2.0])
        }
        fn reset(&mut self, seed: u64) -> Array1<f64> {
            self.0 = 1.0 + (seed % 3) as f64;
            array![self.0]
        }
        fn step(&mut self, a: &Array1<f64>) -> Result<PlantStep, String> {
            self.0 = (self.0 + a[0]).max(0.5);
            Ok(PlantStep {
                observation: array![self.0],
                reward: -self.0 * self.0,
                done: false,
            })
        }
    }
    // the odd expert π*(s) = −sign(s): the plant's reflection s → −s, u → −u is a symmetry
    let mirror: Symmetry = |s: &Array1<f64>, u: &Array1<f64>| (-s, -u);
    let mut queries = 0;
    let mut expert = |s: &Array1<f64>| {
        queries += 1;
        array![-s[0].signum()]
    };
    let config = DaggerConfig {
        rounds: 2,
        episodes_per_round: 2,
        episode_length: 6,
        hidden: vec![8],
        fit: FitConfig {
            epochs: 200,
            learning_rate: 1e-2,
            min_learning_rate: 1e-3,
            ..FitConfig::default()
        },
        symmetries: vec![mirror],
        ..DaggerConfig::default()
    };
    let result = dagger(&mut HalfLine(1.0), &mut expert, &config, |_| {}).unwrap();
    // 𝒟 holds the expert's 24 labels, all at positive states, and no image
    assert_eq!((result.dataset.len(), queries), (24, 24));
    assert!(result.dataset.observations.iter().all(|s| s[0] > 0.0));
    // … yet the fits saw the images: the learner answers +1 at states no label was given at
    let at = |policy: &ModelPolicy, s: f64| policy.act(&array![s])[0];
    assert!((at(&result.policy, -2.0) - 1.0).abs() < 0.1);
    assert!((at(&result.policy, 2.0) + 1.0).abs() < 0.1);
    let mut expert = |s: &Array1<f64>| array![-s[0].signum()];
    let cloned = behaviour_cloning(&mut HalfLine(1.0), &mut expert, 24, &config).unwrap();
    assert_eq!(cloned.dataset.len(), 24);
    assert!((at(&cloned.policy, -2.0) - 1.0).abs() < 0.1);
    // without the symmetry the learner carries the labelled side's −1 over to them
    let none = DaggerConfig {
        symmetries: Vec::new(),
        ..config
    };
    let result = dagger(&mut HalfLine(1.0), &mut expert, &none, |_| {}).unwrap();
    assert!(
        at(&result.policy, -2.0) < 0.0,
        "{}",
        at(&result.policy, -2.0)
    );
}
