//! Hessian-vector products, Hessians, Jacobians and Jacobian-vector products against closed
//! forms and finite differences.

mod common;

use common::uniform;
use ndarray::{Array2, ArrayD, IxDyn, array};
use wengert_autograd::prelude::*;
use wengert_autograd::{HessianVectorProduct, SharedArray, hessian, hvp, jacobian, jvp};

fn shared(a: ArrayD<f64>) -> SharedArray<f64> {
    a.into_shared()
}

#[test]
fn hessian_vector_product_of_a_quadratic_is_exactly_a_v() {
    // f(x) = ½ xᵀ A x with symmetric integer A: every operation is exact in f64.
    let a = array![[4.0, 1.0, -2.0], [1.0, 3.0, 0.0], [-2.0, 0.0, 5.0]];
    let x = array![1.0, -2.0, 3.0];
    let v = array![2.0, 1.0, -1.0];
    let a_const = a.clone().into_dyn().into_shared();
    let f = move |x: &[Var<f64>]| {
        let ax = Var::constant(a_const.clone()).matmul(&x[0]);
        x[0].dot(&ax) * 0.5
    };
    let hv = hvp(f, &[shared(x.into_dyn())], &[shared(v.clone().into_dyn())]);
    assert_eq!(hv[0], a.dot(&v).into_dyn().into_shared());
}

/// f(x) = Σ_i 100 (x_{i+1} − x_i²)² + (1 − x_i)².
fn rosenbrock(x: &Var<f64>) -> Var<f64> {
    let n = x.shape()[0];
    let head = x.slice(0, 0, n - 1);
    let tail = x.slice(0, 1, n);
    let valley = (&tail - &head.powi(2)).powi(2) * 100.0;
    let slope = (1.0 - &head).powi(2);
    (valley + slope).sum_all()
}

/// The closed-form Hessian of the Rosenbrock function.
fn rosenbrock_hessian(x: &[f64]) -> Array2<f64> {
    let n = x.len();
    let mut h = Array2::zeros((n, n));
    for i in 0..n - 1 {
        h[[i, i]] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        h[[i + 1, i + 1]] += 200.0;
        h[[i, i + 1]] -= 400.0 * x[i];
        h[[i + 1, i]] -= 400.0 * x[i];
    }
    h
}

#[test]
fn rosenbrock_hessian_equals_closed_form() {
    let x = [-1.2, 1.0, 0.5, 2.0, -0.3];
    let blocks = hessian(
        |v| rosenbrock(&v[0]),
        &[shared(
            ArrayD::from_shape_vec(IxDyn(&[5]), x.to_vec()).unwrap(),
        )],
    );
    let expected = rosenbrock_hessian(&x);
    for ((i, j), &e) in expected.indexed_iter() {
        let got = blocks[0][0][[i, j]];
        assert!(
            (got - e).abs() <= 1e-10 * (1.0 + e.abs()),
            "H[{i},{j}] = {got}, expected {e}"
        );
    }
}

/// A small MLP's loss: mean((tanh(x W1 + b1) W2 + b2 − y)²), parameters first.
fn mlp_loss(p: &[Var<f64>], x: &Var<f64>, y: &Var<f64>) -> Var<f64> {
    let hidden = (x.matmul(&p[0]) + &p[1]).tanh();
    let out = hidden.matmul(&p[2]) + &p[3];
    (out - y).powi(2).mean_all()
}

fn mlp_parameters() -> Vec<SharedArray<f64>> {
    vec![
        uniform(&[3, 5], -0.8, 0.8, 1),
        uniform(&[5], -0.1, 0.1, 2),
        uniform(&[5, 2], -0.8, 0.8, 3),
        uniform(&[2], -0.1, 0.1, 4),
    ]
}

#[test]
fn mlp_hessian_vector_product_equals_finite_differences_of_the_gradient() {
    let x = Var::constant(uniform(&[8, 3], -1.0, 1.0, 5));
    let y = Var::constant(uniform(&[8, 2], -1.0, 1.0, 6));
    let params = mlp_parameters();
    let v: Vec<SharedArray<f64>> = params
        .iter()
        .enumerate()
        .map(|(i, p)| uniform(p.shape(), -1.0, 1.0, 10 + i as u64))
        .collect();

    let gradient_at = |shift: f64| -> Vec<SharedArray<f64>> {
        let tape = Tape::new();
        let p: Vec<Var<f64>> = params
            .iter()
            .zip(&v)
            .map(|(p, v)| tape.var(p + &(v * shift)))
            .collect();
        let loss = mlp_loss(&p, &x, &y);
        grad(&[&loss], &p.iter().collect::<Vec<_>>())
    };
    let eps = 1e-5;
    let (plus, minus) = (gradient_at(eps), gradient_at(-eps));

    let tape = Tape::new();
    let p: Vec<Var<f64>> = params.iter().map(|p| tape.var(p.clone())).collect();
    let loss = mlp_loss(&p, &x, &y);
    let hv = HessianVectorProduct::new(&loss, &p.iter().collect::<Vec<_>>()).apply(&v);
    for i in 0..p.len() {
        let numeric = (&plus[i] - &minus[i]) / (2.0 * eps);
        for (a, n) in hv[i].iter().zip(numeric.iter()) {
            assert!(
                (a - n).abs() <= 1e-7 + 1e-5 * n.abs(),
                "parameter {i}: Hv {a}, finite differences {n}"
            );
        }
    }
}

#[test]
fn hessian_vector_products_reuse_the_recorded_forward_pass() {
    let tape = Tape::new();
    let params: Vec<Var<f64>> = mlp_parameters().into_iter().map(|p| tape.var(p)).collect();
    let x = Var::constant(uniform(&[4, 3], -1.0, 1.0, 7));
    let y = Var::constant(uniform(&[4, 2], -1.0, 1.0, 8));
    let loss = mlp_loss(&params, &x, &y);
    let hvp = HessianVectorProduct::new(&loss, &params.iter().collect::<Vec<_>>());
    let recorded = tape.len();
    let v: Vec<SharedArray<f64>> = params
        .iter()
        .map(|p| uniform(p.shape(), -1.0, 1.0, 9))
        .collect();
    let first = hvp.apply(&v);
    let second = hvp.apply(&v);
    assert_eq!(first, second);
    assert_eq!(
        tape.len(),
        recorded,
        "applying H v must not record anything new"
    );
    // and H v is linear in v
    let doubled: Vec<SharedArray<f64>> = v.iter().map(|v| (v * 2.0).into_shared()).collect();
    for (a, b) in hvp.apply(&doubled).iter().zip(&first) {
        assert_eq!(a, &(b * 2.0).into_shared());
    }
}

#[test]
fn jacobian_of_a_nonlinear_map_matches_its_closed_form() {
    // f(x) = [x₀ x₁, sin x₀, x₁²]
    let f = |v: &[Var<f64>]| {
        let x0 = v[0].slice(0, 0, 1);
        let x1 = v[0].slice(0, 1, 2);
        Var::concat(&[&(&x0 * &x1), &x0.sin(), &x1.powi(2)], 0)
    };
    let (value, jacobians) = jacobian(f, &[shared(array![0.5, -2.0].into_dyn())]);
    assert_eq!(
        value,
        array![-1.0, 0.5f64.sin(), 4.0].into_dyn().into_shared()
    );
    let expected = array![[-2.0, 0.5], [0.5f64.cos(), 0.0], [0.0, -4.0]];
    assert_eq!(jacobians[0], expected);
}

#[test]
fn jvp_equals_jacobian_times_tangent() {
    let w = uniform(&[3, 4], -1.0, 1.0, 11);
    let f = |v: &[Var<f64>]| v[0].matmul(&v[1]).tanh();
    let x = uniform(&[4], -1.0, 1.0, 12);
    let (tw, tx) = (
        uniform(&[3, 4], -1.0, 1.0, 13),
        uniform(&[4], -1.0, 1.0, 14),
    );
    let (_, jt) = jvp(f, &[w.clone(), x.clone()], &[tw.clone(), tx.clone()]);
    let (_, jacobians) = jacobian(f, &[w, x]);
    let flat = |a: &SharedArray<f64>| a.iter().copied().collect::<ndarray::Array1<f64>>();
    let expected = jacobians[0].dot(&flat(&tw)) + jacobians[1].dot(&flat(&tx));
    for (a, e) in jt.iter().zip(expected.iter()) {
        assert!((a - e).abs() < 1e-12, "jvp {a}, J t {e}");
    }
}

#[test]
fn third_derivative_by_recording_twice() {
    // d³/dx³ sin(x) = −cos(x)
    let tape = Tape::new();
    let x = tape.var(0.7);
    let y = x.sin();
    let [d1]: [Var<f64>; 1] = grad_graph(&[&y], &[&x]).try_into().unwrap();
    let [d2]: [Var<f64>; 1] = grad_graph(&[&d1], &[&x]).try_into().unwrap();
    let [d3] = grad(&[&d2], &[&x]).try_into().unwrap();
    assert!((d1.item() - 0.7f64.cos()).abs() < 1e-15);
    assert!((d2.item() + 0.7f64.sin()).abs() < 1e-15);
    assert!((d3.sum() + 0.7f64.cos()).abs() < 1e-15);
}
