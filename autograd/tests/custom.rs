//! User-defined functions ([`wengert_autograd::custom::Function`]): gradients, gradient
//! checks to second order through a VJP written with `Var` ops, several outputs, side data, a
//! VJP on arrays that refuses to be differentiated again, and the messages for wrong VJPs.

use ndarray::array;
use wengert_autograd::custom::Function;
use wengert_autograd::prelude::*;
use wengert_autograd::{SharedArray, gradcheck, gradgradcheck, jvp};

mod common;
use common::uniform;

// ANCHOR: polar
/// `(r, θ) ↦ (r cos θ, r sin θ)`: two inputs, two outputs, the VJP written with `Var` ops:
/// `r̄ = x̄ cos θ + ȳ sin θ`, `θ̄ = r (−x̄ sin θ + ȳ cos θ)`.
fn polar() -> Function<f64> {
    Function::new("polar", |x, _side| {
        let (r, theta) = (&x[0], &x[1]);
        vec![
            (r * &theta.mapv(f64::cos)).into_shared(),
            (r * &theta.mapv(f64::sin)).into_shared(),
        ]
    })
    .with_vjp(|c| {
        let (r, theta) = (&c.inputs[0], &c.inputs[1]);
        let (x_bar, y_bar) = (&c.cotangents[0], &c.cotangents[1]);
        let (cos, sin) = (theta.cos(), theta.sin());
        vec![
            c.needs[0].then(|| x_bar.mul(&cos).add(&y_bar.mul(&sin))),
            c.needs[1].then(|| r.mul(&y_bar.mul(&cos).sub(&x_bar.mul(&sin)))),
        ]
    })
}
// ANCHOR_END: polar

#[test]
fn several_inputs_and_outputs_pass_gradcheck_and_gradgradcheck() {
    let polar = polar();
    // Both outputs used, with different weights, so that a swapped cotangent is caught.
    let f = |v: &[Var<f64>]| {
        let [x, y] = polar.apply(&[&v[0], &v[1]], &[]).try_into().unwrap();
        (&x * 2.0 + y.powi(2)).tanh()
    };
    let inputs = [uniform(&[3], 0.5, 2.0, 1), uniform(&[3], -3.0, 3.0, 2)];
    gradcheck(f, &inputs).unwrap();
    gradgradcheck(f, &inputs).unwrap();
    // Only one output used: the other's cotangent is zeros.
    let g = |v: &[Var<f64>]| polar.apply(&[&v[0], &v[1]], &[]).remove(1).exp();
    gradcheck(g, &inputs).unwrap();
    gradgradcheck(g, &inputs).unwrap();
}

/// [`polar`] as the engine recorded a function with several outputs before each output was a
/// node of its own: one output, the outputs' elements packed into one vector, which the caller
/// and the VJP cut apart with slices and reshapes (so each output's cotangent reached the VJP
/// padded with zeros to the packed length, the pads summed).
fn polar_packed() -> Function<f64> {
    Function::new("polar_packed", |x, _side| {
        let (r, theta) = (&x[0], &x[1]);
        let (u, v) = (r * &theta.mapv(f64::cos), r * &theta.mapv(f64::sin));
        let packed: Vec<f64> = u.iter().chain(v.iter()).copied().collect();
        vec![
            ndarray::ArrayD::from_shape_vec(vec![packed.len()], packed)
                .unwrap()
                .into_shared(),
        ]
    })
    .with_vjp(move |c| {
        // polar's VJP, on the cotangents cut out of the packed one
        let n = c.inputs[0].shape()[0];
        let g = &c.cotangents[0];
        let (x_bar, y_bar) = (g.slice(0, 0, n), g.slice(0, n, 2 * n));
        let (r, theta) = (&c.inputs[0], &c.inputs[1]);
        let (cos, sin) = (theta.cos(), theta.sin());
        vec![
            c.needs[0].then(|| x_bar.mul(&cos).add(&y_bar.mul(&sin))),
            c.needs[1].then(|| r.mul(&y_bar.mul(&cos).sub(&x_bar.mul(&sin)))),
        ]
    })
}

#[test]
fn several_outputs_give_the_bits_of_the_packed_outputs() {
    let packed = polar_packed();
    let polar = polar();
    // Each output used, one of them twice; gradients with respect to the inputs and to the
    // outputs themselves, first order and through a recorded backward pass.
    let run = |separate: bool| -> Vec<SharedArray<f64>> {
        let tape = Tape::<f64>::new();
        let r = tape.var(uniform(&[4], 0.5, 2.0, 7));
        let theta = tape.var(uniform(&[4], -3.0, 3.0, 8));
        let [u, v]: [Var<f64>; 2] = match separate {
            true => polar.apply(&[&r, &theta], &[]).try_into().unwrap(),
            false => {
                let y = packed.apply(&[&r, &theta], &[]).remove(0);
                [y.slice(0, 0, 4), y.slice(0, 4, 8)]
            }
        };
        let loss = ((&u * 2.0 + v.powi(2)).tanh() + &v * &u.exp()).sum_all();
        let mut results = vec![u.value().clone(), v.value().clone()];
        results.extend(grad(&[&loss], &[&r, &theta, &u, &v]));
        let [dr, dtheta]: [Var<f64>; 2] = grad_graph(&[&loss], &[&r, &theta]).try_into().unwrap();
        results.extend(grad(&[&(&dr * &dtheta).sum_all()], &[&r, &theta]));
        results
    };
    let (ours, before) = (run(true), run(false));
    for (k, (a, b)) in ours.iter().zip(&before).enumerate() {
        let bits = |x: &SharedArray<f64>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b), "result {k}: {a} against {b}");
    }
}

#[test]
fn the_values_are_the_forward_pass_and_equal_the_built_in_ops() {
    let tape = Tape::<f64>::new();
    let r = tape.var(array![2.0, 0.5]);
    let theta = tape.var(array![0.3, -1.0]);
    let [x, y] = polar().apply(&[&r, &theta], &[]).try_into().unwrap();
    let built_in = (&r * &theta.cos(), &r * &theta.sin());
    assert_eq!(x.value(), built_in.0.value());
    assert_eq!(y.value(), built_in.1.value());
    let loss = (&x * &y).sum_all();
    let reference = (&built_in.0 * &built_in.1).sum_all();
    let (ours, theirs) = (
        grad(&[&loss], &[&r, &theta]),
        grad(&[&reference], &[&r, &theta]),
    );
    for (a, b) in ours.iter().zip(&theirs) {
        assert!(a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-14));
    }
}

#[test]
fn a_jacobian_vector_product_goes_through_a_var_vjp() {
    let polar = polar();
    let f = |v: &[Var<f64>]| polar.apply(&[&v[0], &v[1]], &[]).remove(0);
    let (r, theta) = (
        array![2.0].into_dyn().into_shared(),
        array![0.5].into_dyn().into_shared(),
    );
    let t = [
        array![0.0].into_dyn().into_shared(),
        array![1.0].into_dyn().into_shared(),
    ];
    let (_, jt) = jvp(f, &[r, theta], &t);
    assert!((jt[[0]] - (-2.0 * 0.5f64.sin())).abs() < 1e-15); // ∂(r cos θ)/∂θ
}

#[test]
fn a_wrong_vjp_is_caught_by_gradcheck() {
    let wrong = Function::new("wrong_exp", |x, _| vec![x[0].mapv(f64::exp).into_shared()])
        .with_vjp(|c| vec![Some(c.cotangents[0].mul(&c.inputs[0]))]); // should be ȳ eˣ
    let error = gradcheck(
        |v| wrong.apply(&[&v[0]], &[]).remove(0),
        &[uniform(&[2], 0.5, 1.0, 3)],
    )
    .unwrap_err();
    assert_eq!(error.check, "gradcheck");
}

#[test]
fn side_data_reaches_forward_and_backward_and_gets_no_gradient() {
    // y = Σ w x with the weights w as side data; x̄ = ȳ w.
    let weighted_sum = Function::new("weighted_sum", |x, side| {
        vec![
            ndarray::arr0((&x[0] * &side[0]).sum())
                .into_dyn()
                .into_shared(),
        ]
    })
    .with_vjp(|c| vec![Some(c.cotangents[0].mul(&Var::constant(c.side[0].clone())))]);
    let w: SharedArray<f64> = array![1.0, -2.0, 0.5].into_dyn().into_shared();
    let tape = Tape::new();
    let x = tape.var(array![3.0, 1.0, 4.0]);
    let y = weighted_sum
        .apply(&[&x], std::slice::from_ref(&w))
        .remove(0);
    assert_eq!(y.item(), 3.0 - 2.0 + 2.0);
    assert_eq!(y.backward()[&x], w);
    let inputs = [uniform(&[3], -1.0, 1.0, 4)];
    let f = |v: &[Var<f64>]| {
        weighted_sum
            .apply(&[&v[0]], std::slice::from_ref(&w))
            .remove(0)
            .powi(2)
    };
    gradcheck(f, &inputs).unwrap();
    gradgradcheck(f, &inputs).unwrap();
}

fn square_on_arrays() -> Function<f64> {
    Function::new("square_on_arrays", |x, _| {
        vec![x[0].mapv(|v| v * v).into_shared()]
    })
    .with_array_vjp(|c| vec![Some((&c.cotangents[0] * &c.inputs[0] * 2.0).into_shared())])
}

#[test]
fn an_array_vjp_gives_first_order_gradients() {
    let square = square_on_arrays();
    let f = |v: &[Var<f64>]| square.apply(&[&v[0]], &[]).remove(0).sin();
    gradcheck(f, &[uniform(&[4], -1.0, 1.0, 5)]).unwrap();
    // and a recorded first-order pass still has the right values
    let tape = Tape::new();
    let x = tape.var(array![1.5, -2.0]);
    let y = square.apply(&[&x], &[]).remove(0).sum_all();
    let [dx] = grad_graph(&[&y], &[&x]).try_into().unwrap();
    assert_eq!(dx.value(), &array![3.0, -4.0].into_dyn().into_shared());
}

#[test]
#[should_panic(expected = "square_on_arrays: its VJP is written on arrays")]
fn an_array_vjp_refuses_second_order_instead_of_returning_zero() {
    let square = square_on_arrays();
    let _ = gradgradcheck(
        |v| square.apply(&[&v[0]], &[]).remove(0),
        &[uniform(&[2], -1.0, 1.0, 6)],
    );
}

#[test]
#[should_panic(expected = "no_rule: no VJP was given")]
fn a_function_without_a_vjp_says_so_when_differentiated() {
    let f = Function::new("no_rule", |x, _| vec![x[0].clone()]);
    let tape = Tape::<f64>::new();
    let x = tape.var(array![1.0]);
    let _ = f.apply(&[&x], &[]).remove(0).sum_all().backward();
}

#[test]
#[should_panic(
    expected = "bad_shape: the VJP returned a gradient of shape [1] for input 0 of shape [2]"
)]
fn a_gradient_of_the_wrong_shape_is_reported_with_the_function_name() {
    let f = Function::new("bad_shape", |x, _| vec![x[0].clone()])
        .with_vjp(|c| vec![Some(c.cotangents[0].sum(&[0], true))]);
    let tape = Tape::<f64>::new();
    let x = tape.var(array![1.0, 2.0]);
    let _ = f.apply(&[&x], &[]).remove(0).sum_all().backward();
}

#[test]
#[should_panic(expected = "too_few: the VJP returned 1 gradients for 2 inputs")]
fn a_vjp_with_the_wrong_number_of_gradients_is_reported() {
    let f = Function::new("too_few", |x, _| vec![(&x[0] + &x[1]).into_shared()])
        .with_vjp(|c| vec![Some(c.cotangents[0].clone())]);
    let tape = Tape::<f64>::new();
    let (a, b) = (tape.var(array![1.0]), tape.var(array![2.0]));
    let _ = f.apply(&[&a, &b], &[]).remove(0).sum_all().backward();
}

#[test]
fn anomaly_mode_names_the_custom_function() {
    let f = Function::new("makes_nan", |x, _| {
        vec![x[0].mapv(|v: f64| (v - 2.0).sqrt()).into_shared()]
    })
    .with_vjp(|c| vec![Some(c.cotangents[0].clone())]);
    let tape = Tape::<f64>::new();
    tape.detect_anomaly(true);
    let x = tape.var(array![1.0]);
    let _ = f.apply(&[&x], &[]);
    assert_eq!(tape.first_anomaly().unwrap().op, "makes_nan");
}

#[test]
fn on_constants_and_under_no_grad_nothing_is_recorded() {
    let f = polar();
    let tape = Tape::<f64>::new();
    let r = tape.var(array![1.0]);
    let before = tape.len();
    let outputs = no_grad(|| f.apply(&[&r, &Var::constant(array![0.0])], &[]));
    assert!(outputs.iter().all(|y| !y.is_tracked()));
    assert_eq!(tape.len(), before);
}
