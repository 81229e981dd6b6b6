//! Distributions against PyTorch (float64), `tests/reference/torch_nn.json` → `distributions`,
//! plus gradient checks, properties of KL and entropy, and sampling statistics.

use autograd::prelude::*;
use autograd::{gradcheck, gradgradcheck, hessian};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;
use wengert_nn::distributions::{Categorical, DiagGaussian, TanhGaussian};

const RELATIVE_TOLERANCE: f64 = 1e-12;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/reference/torch_nn.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("reading torch_nn.json"))
        .expect("parsing torch_nn.json")
}

fn vector(value: &Value) -> ArrayD<f64> {
    let v: Vec<f64> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()
}

fn constant(value: &Value) -> Var<f64> {
    Var::constant(vector(value))
}

fn assert_close(name: &str, actual: f64, expected: f64, tolerance: f64) {
    let error = (actual - expected).abs() / expected.abs().max(1e-300);
    assert!(
        error <= tolerance,
        "{name}: {actual} vs PyTorch {expected} (relative error {error:e})"
    );
}

fn cases(kind: &str) -> Vec<Value> {
    let all = reference()["distributions"].as_array().unwrap().clone();
    let found: Vec<Value> = all.into_iter().filter(|c| c["dist"] == kind).collect();
    assert!(!found.is_empty(), "no reference cases for {kind}");
    found
}

fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> SharedArray<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(lo..hi)).into_shared()
}

fn check_both(name: &str, f: impl Fn(&[Var<f64>]) -> Var<f64>, inputs: &[SharedArray<f64>]) {
    if let Err(e) = gradcheck(&f, inputs) {
        panic!("{name}: {e}");
    }
    if let Err(e) = gradgradcheck(&f, inputs) {
        panic!("{name}: {e}");
    }
}

// ---- agreement with PyTorch ----

#[test]
fn diagonal_gaussian_agrees_with_pytorch() {
    for case in cases("diag_gaussian") {
        let p = DiagGaussian::from_std(&constant(&case["mean"]), &constant(&case["std"]));
        let q = DiagGaussian::from_std(
            &constant(&case["kl_to"]["mean"]),
            &constant(&case["kl_to"]["std"]),
        );
        let log_prob = p.log_prob(&constant(&case["x"])).item();
        assert_close(
            "log_prob",
            log_prob,
            case["log_prob_sum"].as_f64().unwrap(),
            RELATIVE_TOLERANCE,
        );
        assert_close(
            "entropy",
            p.entropy().item(),
            case["entropy_sum"].as_f64().unwrap(),
            RELATIVE_TOLERANCE,
        );
        assert_close(
            "kl",
            p.kl(&q).item(),
            case["kl_to"]["kl_sum"].as_f64().unwrap(),
            RELATIVE_TOLERANCE,
        );

        // The same through the ln σ parameterisation.
        let by_log_std = DiagGaussian::new(p.mean(), &Var::constant(vector(&case["std"]).ln()));
        let log_prob = by_log_std.log_prob(&constant(&case["x"])).item();
        assert_close(
            "log_prob (ln σ)",
            log_prob,
            case["log_prob_sum"].as_f64().unwrap(),
            RELATIVE_TOLERANCE,
        );
    }
}

#[test]
fn tanh_gaussian_agrees_with_pytorch() {
    for case in cases("tanh_gaussian") {
        let pi = TanhGaussian::from_std(&constant(&case["mean"]), &constant(&case["std"]));
        let expected = case["log_prob_sum"].as_f64().unwrap();
        let u = constant(&case["pre_tanh"]);
        let action = vector(&case["action"]);
        for (a, b) in u.tanh().value().iter().zip(action.iter()) {
            assert!((a - b).abs() <= 1e-15);
        }
        assert_close(
            "log_prob(u)",
            pi.log_prob_pre_tanh(&u).item(),
            expected,
            RELATIVE_TOLERANCE,
        );
        // From the action, by atanh (the actions are far enough from ±1 not to lose digits).
        let from_action = pi.log_prob_of_action(&Var::constant(action), 1e-12).item();
        assert_close(
            "log_prob(atanh a)",
            from_action,
            expected,
            RELATIVE_TOLERANCE,
        );
    }
}

#[test]
fn categorical_agrees_with_pytorch() {
    for case in cases("categorical") {
        let p = Categorical::new(&constant(&case["logits"]));
        let q = Categorical::new(&constant(&case["kl_to"]["logits"]));
        let expected = vector(&case["log_probs"]);
        for (class, &l) in expected.iter().enumerate() {
            assert_close(
                "log_probs",
                p.log_probs().value()[class],
                l,
                RELATIVE_TOLERANCE,
            );
            assert_close(
                "log_prob",
                p.log_prob(&[class]).item(),
                l,
                RELATIVE_TOLERANCE,
            );
        }
        assert_close(
            "entropy",
            p.entropy().item(),
            case["entropy"].as_f64().unwrap(),
            RELATIVE_TOLERANCE,
        );
        assert_close(
            "kl",
            p.kl(&q).item(),
            case["kl_to"]["kl"].as_f64().unwrap(),
            RELATIVE_TOLERANCE,
        );
    }
}

#[test]
fn f32_agrees_with_the_f64_reference() {
    let as_f32 = |value: &Value| Var::constant(vector(value).mapv(|x| x as f32));
    for case in cases("diag_gaussian") {
        let p = DiagGaussian::from_std(&as_f32(&case["mean"]), &as_f32(&case["std"]));
        let q = DiagGaussian::from_std(
            &as_f32(&case["kl_to"]["mean"]),
            &as_f32(&case["kl_to"]["std"]),
        );
        let log_prob = p.log_prob(&as_f32(&case["x"])).item() as f64;
        assert_close(
            "f32 log_prob",
            log_prob,
            case["log_prob_sum"].as_f64().unwrap(),
            1e-5,
        );
        let kl = p.kl(&q).item() as f64;
        assert_close(
            "f32 kl",
            kl,
            case["kl_to"]["kl_sum"].as_f64().unwrap(),
            1e-5,
        );
    }
    for case in cases("tanh_gaussian") {
        let pi = TanhGaussian::from_std(&as_f32(&case["mean"]), &as_f32(&case["std"]));
        let log_prob = pi.log_prob_pre_tanh(&as_f32(&case["pre_tanh"])).item() as f64;
        assert_close(
            "f32 tanh log_prob",
            log_prob,
            case["log_prob_sum"].as_f64().unwrap(),
            1e-5,
        );
    }
    for case in cases("categorical") {
        let p = Categorical::new(&as_f32(&case["logits"]));
        let q = Categorical::new(&as_f32(&case["kl_to"]["logits"]));
        assert_close(
            "f32 entropy",
            p.entropy().item() as f64,
            case["entropy"].as_f64().unwrap(),
            1e-5,
        );
        assert_close(
            "f32 kl",
            p.kl(&q).item() as f64,
            case["kl_to"]["kl"].as_f64().unwrap(),
            1e-5,
        );
    }
}

// ---- gradient checks, first and second order ----

#[test]
fn diagonal_gaussian_log_prob_entropy_and_kl_pass_gradient_checks() {
    let mean = uniform(&[2, 3], -1.0, 1.0, 1);
    let log_std = uniform(&[2, 3], -0.5, 0.5, 2);
    let x = uniform(&[2, 3], -1.5, 1.5, 3);
    let mean_q = uniform(&[2, 3], -1.0, 1.0, 4);
    let log_std_q = uniform(&[2, 3], -0.5, 0.5, 5);
    check_both(
        "log_prob",
        |v| DiagGaussian::new(&v[0], &v[1]).log_prob(&v[2]),
        &[mean.clone(), log_std.clone(), x.clone()],
    );
    check_both(
        "log_prob (from σ)",
        |v| DiagGaussian::from_std(&v[0], &v[1]).log_prob(&v[2]),
        &[
            mean.clone(),
            log_std.mapv(f64::exp).into_shared(),
            x.clone(),
        ],
    );
    check_both(
        "log_prob (state-independent ln σ)",
        |v| DiagGaussian::new(&v[0], &v[1]).log_prob(&v[2]),
        &[mean.clone(), uniform(&[3], -0.5, 0.5, 6), x],
    );
    check_both(
        "entropy",
        |v| DiagGaussian::new(&v[0], &v[1]).entropy(),
        &[mean.clone(), log_std.clone()],
    );
    check_both(
        "kl",
        |v| DiagGaussian::new(&v[0], &v[1]).kl(&DiagGaussian::new(&v[2], &v[3])),
        &[mean, log_std, mean_q, log_std_q],
    );
}

#[test]
fn tanh_gaussian_log_prob_and_kl_pass_gradient_checks() {
    let mean = uniform(&[2, 2], -1.0, 1.0, 7);
    let log_std = uniform(&[2, 2], -0.5, 0.5, 8);
    let u = uniform(&[2, 2], -2.0, 2.0, 9);
    check_both(
        "log_prob(u)",
        |v| TanhGaussian::new(&v[0], &v[1]).log_prob_pre_tanh(&v[2]),
        &[mean.clone(), log_std.clone(), u.clone()],
    );
    check_both(
        "log_prob(a)",
        |v| TanhGaussian::new(&v[0], &v[1]).log_prob_of_action(&v[2], 1e-6),
        &[
            mean.clone(),
            log_std.clone(),
            u.mapv(|x| x.tanh() * 0.9).into_shared(),
        ],
    );
    check_both(
        "log_prob of a reparameterised sample",
        |v| {
            let pi = TanhGaussian::new(&v[0], &v[1]);
            pi.log_prob(&pi.rsample_with(&u.to_owned()))
        },
        &[mean.clone(), log_std.clone()],
    );
    check_both(
        "kl",
        |v| TanhGaussian::new(&v[0], &v[1]).kl(&TanhGaussian::new(&v[2], &v[3])),
        &[
            mean,
            log_std,
            uniform(&[2, 2], -1.0, 1.0, 10),
            uniform(&[2, 2], -0.5, 0.5, 11),
        ],
    );
}

#[test]
fn categorical_log_prob_entropy_and_kl_pass_gradient_checks() {
    let logits = uniform(&[3, 4], -2.0, 2.0, 12);
    let other = uniform(&[3, 4], -2.0, 2.0, 13);
    check_both(
        "log_prob",
        |v| Categorical::new(&v[0]).log_prob(&[3, 0, 2]),
        std::slice::from_ref(&logits),
    );
    check_both(
        "entropy",
        |v| Categorical::new(&v[0]).entropy(),
        std::slice::from_ref(&logits),
    );
    check_both(
        "kl",
        |v| Categorical::new(&v[0]).kl(&Categorical::new(&v[1])),
        &[logits, other],
    );
}

/// TRPO's Fisher information: at `θ = θ_old`, `∇²_θ KL(π_old ‖ π_θ)` is the Fisher matrix.
#[test]
fn the_hessian_of_the_kl_at_the_old_policy_is_the_fisher_matrix() {
    // Categorical: F = diag(p) − p pᵀ in logit coordinates.
    let old = ndarray::array![0.3, -1.0, 0.8, 0.1]
        .into_dyn()
        .into_shared();
    let p = Categorical::new(&Var::constant(old.clone()))
        .probs()
        .value()
        .to_owned();
    let fixed = old.clone();
    let kl = move |v: &[Var<f64>]| {
        Categorical::new(&Var::constant(fixed.clone())).kl(&Categorical::new(&v[0]))
    };
    let h = &hessian(kl, std::slice::from_ref(&old))[0][0];
    for i in 0..4 {
        for j in 0..4 {
            let fisher = if i == j { p[i] } else { 0.0 } - p[i] * p[j];
            assert!(
                (h[[i, j]] - fisher).abs() < 1e-12,
                "({i}, {j}): {} vs {fisher}",
                h[[i, j]]
            );
        }
    }

    // Diagonal Gaussian in (μ, ln σ): F = diag(1/σ², 2).
    let mean = ndarray::array![0.5, -0.2].into_dyn().into_shared();
    let log_std = ndarray::array![0.3, -0.7].into_dyn().into_shared();
    let (m0, s0) = (mean.clone(), log_std.clone());
    let kl = move |v: &[Var<f64>]| {
        let old = DiagGaussian::new(&Var::constant(m0.clone()), &Var::constant(s0.clone()));
        old.kl(&DiagGaussian::new(&v[0], &v[1]))
    };
    let blocks = hessian(kl, &[mean, log_std.clone()]);
    for d in 0..2 {
        let inverse_variance = (-2.0 * log_std[d]).exp();
        assert!((blocks[0][0][[d, d]] - inverse_variance).abs() < 1e-12);
        assert!((blocks[1][1][[d, d]] - 2.0).abs() < 1e-12);
        assert!(blocks[0][1][[d, d]].abs() < 1e-12);
    }
    assert!(blocks[0][0][[0, 1]].abs() < 1e-12);
}

// ---- properties ----

#[test]
fn kl_of_a_distribution_with_itself_is_zero_and_kl_is_never_negative() {
    for seed in 0..20 {
        let (m, s) = (
            uniform(&[4, 3], -2.0, 2.0, seed),
            uniform(&[4, 3], -1.0, 1.0, seed + 100),
        );
        let (m2, s2) = (
            uniform(&[4, 3], -2.0, 2.0, seed + 200),
            uniform(&[4, 3], -1.0, 1.0, seed + 300),
        );
        let p = DiagGaussian::new(&Var::constant(m.clone()), &Var::constant(s.clone()));
        let q = DiagGaussian::new(&Var::constant(m2.clone()), &Var::constant(s2.clone()));
        assert!(p.kl(&p).value().iter().all(|&k| k.abs() < 1e-15));
        assert!(p.kl(&q).value().iter().all(|&k| k > 0.0));
        let tp = TanhGaussian::new(&Var::constant(m.clone()), &Var::constant(s));
        let tq = TanhGaussian::new(&Var::constant(m2.clone()), &Var::constant(s2));
        assert!(tp.kl(&tp).value().iter().all(|&k| k.abs() < 1e-15));
        assert!(tp.kl(&tq).value().iter().all(|&k| k > 0.0));

        let cp = Categorical::new(&Var::constant(m));
        let cq = Categorical::new(&Var::constant(m2));
        assert!(cp.kl(&cp).value().iter().all(|&k| k.abs() < 1e-15));
        assert!(cp.kl(&cq).value().iter().all(|&k| k >= 0.0));
        assert_eq!(cp.kl(&cq).shape(), &[4]);
    }
}

#[test]
fn categorical_entropy_is_minus_sum_p_log_p() {
    let logits = uniform(&[3, 5], -3.0, 3.0, 14);
    let pi = Categorical::new(&Var::constant(logits.clone()));
    let entropy = pi.entropy();
    for (row, z) in logits.outer_iter().enumerate() {
        let normaliser: f64 = z.iter().map(|v| v.exp()).sum();
        let by_hand: f64 = z
            .iter()
            .map(|v| {
                let p = v.exp() / normaliser;
                -p * p.ln()
            })
            .sum();
        assert!((entropy.value()[row] - by_hand).abs() < 1e-14);
    }
}

#[test]
fn a_state_independent_log_std_is_shared_by_every_row() {
    let mean = Var::constant(ndarray::array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
    let pi = DiagGaussian::new(&mean, &Var::constant(ndarray::array![0.1, -0.2]));
    assert_eq!(pi.std().shape(), &[3, 2]);
    let entropy = pi.entropy();
    assert_eq!(entropy.shape(), &[3]);
    assert_eq!(entropy.value()[0], entropy.value()[2]);
}

// ---- sampling ----

#[test]
fn gaussian_samples_have_the_right_mean_and_standard_deviation() {
    let n = 20_000;
    let mean = ndarray::Array2::from_shape_fn((n, 2), |(_, d)| [1.5, -2.0][d]);
    let std = ndarray::Array2::from_shape_fn((n, 2), |(_, d)| [0.5, 2.0][d]);
    let pi = DiagGaussian::from_std(&Var::constant(mean), &Var::constant(std));
    let x = pi.sample(&mut StdRng::seed_from_u64(42)).value().to_owned();
    for (d, (mu, sigma)) in [(1.5f64, 0.5f64), (-2.0, 2.0)].into_iter().enumerate() {
        let column = x.index_axis(ndarray::Axis(1), d);
        let sample_mean = column.mean().unwrap();
        let sample_std = column.std(1.0);
        // standard errors σ/√n and σ/√(2n); allow 4 of them
        assert!(
            (sample_mean - mu).abs() < 4.0 * sigma / (n as f64).sqrt(),
            "mean {sample_mean}"
        );
        assert!(
            (sample_std - sigma).abs() < 4.0 * sigma / (2.0 * n as f64).sqrt(),
            "std {sample_std}"
        );
    }
}

#[test]
fn tanh_gaussian_samples_are_squashed_gaussian_samples() {
    let pi = TanhGaussian::<f64>::new(
        &Var::constant(ndarray::Array2::from_elem((5000, 1), 0.4)),
        &Var::constant(ndarray::Array2::from_elem((5000, 1), 0.0)),
    );
    let draw = pi.sample(&mut StdRng::seed_from_u64(5));
    assert!(draw.action.value().iter().all(|a| a.abs() < 1.0));
    for (a, u) in draw.action.value().iter().zip(draw.pre_tanh.value().iter()) {
        assert_eq!(*a, u.tanh());
    }
    let u_mean = draw.pre_tanh.value().mean().unwrap();
    assert!((u_mean - 0.4).abs() < 4.0 / 5000f64.sqrt());
    assert_eq!(pi.mode().value()[[0, 0]], 0.4f64.tanh());
}

#[test]
fn categorical_sample_frequencies_match_the_probabilities() {
    let n = 40_000;
    let probabilities = [0.1, 0.2, 0.3, 0.4];
    let logits = ndarray::Array2::from_shape_fn((n, 4), |(_, c)| f64::ln(probabilities[c]));
    let pi = Categorical::new(&Var::constant(logits));
    let classes = pi.sample(&mut StdRng::seed_from_u64(9));
    let mut counts = [0usize; 4];
    for c in classes {
        counts[c] += 1;
    }
    for (c, &p) in probabilities.iter().enumerate() {
        let frequency = counts[c] as f64 / n as f64;
        // binomial standard error √(p(1 − p)/n); allow 4 of them
        assert!(
            (frequency - p).abs() < 4.0 * (p * (1.0 - p) / n as f64).sqrt(),
            "class {c}: {frequency}"
        );
    }
    assert_eq!(pi.mode()[0], 3);
}

#[test]
fn reparameterised_samples_carry_gradients_and_plain_samples_do_not() {
    let tape = Tape::<f64>::new();
    let mean = tape.var(ndarray::array![0.2, -0.3]);
    let log_std = tape.var(ndarray::array![0.1, 0.4]);
    let pi = DiagGaussian::new(&mean, &log_std);
    let epsilon = ndarray::array![0.7, -1.1].into_dyn();
    let x = pi.rsample_with(&epsilon);
    let grads = x.sum_all().backward();
    for d in 0..2 {
        assert_eq!(grads[&mean][d], 1.0);
        assert!((grads[&log_std][d] - log_std.value()[d].exp() * epsilon[d]).abs() < 1e-15);
    }
    assert!(!pi.sample(&mut StdRng::seed_from_u64(0)).is_tracked());
}
