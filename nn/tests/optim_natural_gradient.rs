//! Conjugate gradient on random SPD systems, and natural gradient descent on a softmax
//! classifier against its Fisher matrix written out by hand.

use autograd::prelude::*;
use ndarray::{Array1, Array2, ArrayD, Ix2};
use rand::SeedableRng;
use wengert_nn::optim::conjugate_gradient::{flatten, unflatten};
use wengert_nn::optim::{NaturalGradient, NaturalGradientConfig, NaturalStep, conjugate_gradient};
use wengert_nn::{Bound, Init, ParamId, ParamStore};

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Init::Normal {
        mean: 0.0,
        std: 1.0,
    }
    .sample::<f64>(shape, &mut rng)
}

#[test]
fn conjugate_gradient_solves_a_random_spd_system() {
    let n = 30;
    let m = normal(&[n, n], 1).into_dimensionality::<Ix2>().unwrap();
    // A = MᵀM + I: symmetric positive definite, condition number in the hundreds.
    let a: Array2<f64> = m.t().dot(&m) + Array2::<f64>::eye(n);
    let b: Array1<f64> = normal(&[n], 2).into_dimensionality().unwrap();
    let mut products = 0;
    let solution = conjugate_gradient(
        |v: &Array1<f64>| {
            products += 1;
            a.dot(v)
        },
        &b,
        10 * n,
        1e-10,
    );
    let residual = (&b - &a.dot(&solution.x)).mapv(|r| r * r).sum().sqrt();
    assert!(residual < 1e-8, "‖b − A x‖ = {residual}");
    assert!(solution.residual_norm <= 1e-10);
    assert_eq!(products, solution.iterations);
    assert!(
        solution.iterations <= 3 * n,
        "{} iterations",
        solution.iterations
    );

    // The iteration cap is respected, and a few iterations already reduce the residual.
    let capped = conjugate_gradient(|v: &Array1<f64>| a.dot(v), &b, 5, 0.0);
    assert_eq!(capped.iterations, 5);
    let b_norm = b.dot(&b).sqrt();
    assert!(capped.residual_norm < b_norm);

    // b = 0 needs no iterations.
    let zero = conjugate_gradient(|v: &Array1<f64>| a.dot(v), &Array1::zeros(n), 10, 1e-12);
    assert_eq!((zero.iterations, zero.x.sum()), (0, 0.0));
}

/// Inputs, labels, and a softmax classifier `p(y | x) = softmax(x W)` with `W` of shape 3 × 4.
struct Classifier {
    x: Array2<f64>,
    y: Vec<usize>,
    store: ParamStore<f64>,
    w: ParamId,
}

fn classifier() -> Classifier {
    let x = normal(&[12, 3], 3).into_dimensionality::<Ix2>().unwrap();
    let y = vec![0, 1, 2, 3, 0, 1, 2, 3, 1, 1, 2, 0];
    let mut store = ParamStore::new();
    let w = store
        .root()
        .param("w", normal(&[3, 4], 4).mapv(|v| 0.3 * v));
    Classifier { x, y, store, w }
}

impl Classifier {
    fn log_p(&self, p: &Bound<'_, f64>) -> Var<f64> {
        Var::constant(self.x.clone())
            .matmul(&p[self.w])
            .log_softmax(-1)
    }

    /// Mean negative log-likelihood of the labels.
    fn nll(&self, p: &Bound<'_, f64>) -> Var<f64> {
        let one_hot = autograd::one_hot::<f64>(&self.y, 4);
        self.log_p(p)
            .mul(&Var::constant(one_hot))
            .sum_all()
            .neg()
            .mul_scalar(1.0 / self.y.len() as f64)
    }

    /// Mean KL(p_old ‖ p_θ) with p_old the current model, detached: its Hessian is the Fisher.
    fn kl_from_current(&self, p: &Bound<'_, f64>) -> Var<f64> {
        let log_p = self.log_p(p);
        let log_p_old = log_p.detach();
        log_p_old
            .exp()
            .mul(&log_p_old.sub(&log_p))
            .sum(&[-1], false)
            .mean_all()
    }

    fn probabilities(&self) -> Array2<f64> {
        let logits = self.x.dot(
            &self
                .store
                .value(self.w)
                .into_dimensionality::<Ix2>()
                .unwrap(),
        );
        let mut p = logits.mapv(f64::exp);
        for mut row in p.rows_mut() {
            let total = row.sum();
            row.mapv_inplace(|v| v / total);
        }
        p
    }

    /// `F[(j,k),(j',k')] = (1/N) Σ_i x_ij x_ij' (δ_kk' p_ik − p_ik p_ik')`, indices row-major in W.
    fn fisher(&self) -> Array2<f64> {
        let p = self.probabilities();
        let (n, d, k) = (self.x.nrows(), self.x.ncols(), p.ncols());
        Array2::from_shape_fn((d * k, d * k), |(r, c)| {
            let (j, a, j2, b) = (r / k, r % k, c / k, c % k);
            (0..n)
                .map(|i| {
                    let delta = if a == b { p[[i, a]] } else { 0.0 };
                    self.x[[i, j]] * self.x[[i, j2]] * (delta - p[[i, a]] * p[[i, b]])
                })
                .sum::<f64>()
                / n as f64
        })
    }
}

#[test]
fn natural_gradient_solves_the_damped_fisher_system() {
    let model = classifier();
    let fisher = model.fisher();
    let tape = Tape::new();
    let bound = model.store.bind(&tape);
    let grads = bound.gradients(&model.nll(&bound));
    let g = flatten(&[grads[model.w].clone()]);
    let theta_before = model.store.value(model.w).to_owned();

    let lambda = 1e-3;
    let config = NaturalGradientConfig {
        step: NaturalStep::LearningRate(0.5),
        damping: lambda,
        cg_iterations: 50,
        cg_tolerance: 1e-13,
    };
    let mut natural = NaturalGradient::new(model.store.trainable(), config);
    let info = natural.step(&model.store, &grads, |p| model.kl_from_current(p));

    let x = flatten(&info.direction);
    let damped = &fisher + &(Array2::<f64>::eye(12) * lambda);
    let residual = (&damped.dot(&x) - &g).mapv(|r| r * r).sum().sqrt();
    assert!(residual < 1e-10, "‖(F + λI) x − g‖ = {residual}");
    assert!((info.x_f_x - x.dot(&damped.dot(&x))).abs() < 1e-10 * info.x_f_x);
    // θ ← θ − η x
    let expected = &theta_before - &unflatten(&(x * 0.5), &[vec![3, 4]])[0];
    assert!(
        (&model.store.value(model.w) - &expected)
            .iter()
            .all(|e| e.abs() < 1e-15)
    );
}

#[test]
fn kl_constrained_step_moves_the_model_by_the_requested_kl() {
    let model = classifier();
    let p_old = model.probabilities();
    let tape = Tape::new();
    let bound = model.store.bind(&tape);
    let grads = bound.gradients(&model.nll(&bound));
    let delta = 1e-4;
    let config = NaturalGradientConfig {
        step: NaturalStep::MaxKl(delta),
        damping: 1e-6,
        ..NaturalGradientConfig::default()
    };
    let info = NaturalGradient::new([model.w], config)
        .step(&model.store, &grads, |p| model.kl_from_current(p));
    assert!((0.5 * info.step_size * info.step_size * info.x_f_x - delta).abs() < 1e-15);
    let p_new = model.probabilities();
    let kl = (&p_old * &(p_old.mapv(f64::ln) - p_new.mapv(f64::ln))).sum() / p_old.nrows() as f64;
    assert!(
        (kl - delta).abs() < 0.05 * delta,
        "KL after the step {kl} vs δ = {delta}"
    );
}

#[test]
fn natural_gradient_descent_reduces_the_loss() {
    let model = classifier();
    let loss = |store: &ParamStore<f64>| model.nll(&store.constants()).item();
    let mut natural = NaturalGradient::new(
        [model.w],
        NaturalGradientConfig {
            step: NaturalStep::MaxKl(0.01),
            ..NaturalGradientConfig::default()
        },
    );
    let mut previous = loss(&model.store);
    for _ in 0..5 {
        let tape = Tape::new();
        let bound = model.store.bind(&tape);
        let grads = bound.gradients(&model.nll(&bound));
        natural.step(&model.store, &grads, |p| model.kl_from_current(p));
        let current = loss(&model.store);
        assert!(current < previous, "{current} ≥ {previous}");
        previous = current;
    }
}
