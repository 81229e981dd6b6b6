//! The fused LSTM op (`autograd::lstm::lstm`) against the step-by-step tape path
//! (`lstm_reference`): values and gradients in `f64` and `f32`, with and without biases and a
//! reset mask, and gradcheck / gradgradcheck of the fused op itself.

use ndarray::{ArrayD, IxDyn};
use wengert_autograd::lstm::{lstm, lstm_reference};
use wengert_autograd::prelude::*;
use wengert_autograd::{Float, SharedArray, gradcheck, gradgradcheck};

/// Deterministic values in about `[−scale, scale]` that round differently in other orders.
fn values<T: Float>(shape: &[usize], seed: u64, scale: f64) -> ArrayD<T> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        T::from_f64(((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale)
    })
}

/// A keep mask `(T, N)` with resets at a few places (and none at all in some steps).
fn keep<T: Float>(steps: usize, batch: usize) -> ArrayD<T> {
    ArrayD::from_shape_fn(IxDyn(&[steps, batch]), |i| {
        let (t, n) = (i[0], i[1]);
        if (t * 7 + n * 3) % 5 == 0 && t % 2 == 1 {
            T::zero()
        } else {
            T::one()
        }
    })
}

struct Case<T: Float> {
    x: ArrayD<T>,
    weight_ih: ArrayD<T>,
    weight_hh: ArrayD<T>,
    b_ih: ArrayD<T>,
    b_hh: ArrayD<T>,
    h0: ArrayD<T>,
    c0: ArrayD<T>,
    probe: [ArrayD<T>; 3],
}

fn case<T: Float>(steps: usize, batch: usize, input: usize, hidden: usize) -> Case<T> {
    let scale = 1.5 / (hidden as f64).sqrt();
    Case {
        x: values(&[steps, batch, input], 1, 1.0),
        weight_ih: values(&[4 * hidden, input], 2, scale * 2.0),
        weight_hh: values(&[4 * hidden, hidden], 3, scale * 2.0),
        b_ih: values(&[4 * hidden], 4, scale),
        b_hh: values(&[4 * hidden], 5, scale),
        h0: values(&[batch, hidden], 6, 0.8),
        c0: values(&[batch, hidden], 7, 1.5),
        probe: [
            values(&[steps, batch, hidden], 8, 1.0),
            values(&[batch, hidden], 9, 1.0),
            values(&[batch, hidden], 10, 1.0),
        ],
    }
}

type Layer<T> = fn(
    &Var<T>,
    &Var<T>,
    &Var<T>,
    Option<(&Var<T>, &Var<T>)>,
    &Var<T>,
    &Var<T>,
    Option<&ArrayD<T>>,
) -> (Var<T>, Var<T>, Var<T>);

/// The three outputs and the gradients of `⟨probe, outputs⟩` with respect to every input.
fn run<T: Float>(
    layer: Layer<T>,
    c: &Case<T>,
    bias: bool,
    keep: Option<&ArrayD<T>>,
) -> Vec<SharedArray<T>> {
    let tape = Tape::new();
    let v: Vec<Var<T>> = [
        &c.x,
        &c.weight_ih,
        &c.weight_hh,
        &c.h0,
        &c.c0,
        &c.b_ih,
        &c.b_hh,
    ]
    .into_iter()
    .map(|a| tape.var(a.clone()))
    .collect();
    let biases = bias.then(|| (&v[5], &v[6]));
    let (out, h_n, c_n) = layer(&v[0], &v[1], &v[2], biases, &v[3], &v[4], keep);
    let loss = [&out, &h_n, &c_n]
        .iter()
        .zip(&c.probe)
        .map(|(y, p)| (*y * &Var::constant(p.clone())).sum_all())
        .reduce(|a, b| a + b)
        .unwrap();
    let n = if bias { 7 } else { 5 };
    let targets: Vec<&Var<T>> = v[..n].iter().collect();
    let mut results = vec![
        out.value().clone(),
        h_n.value().clone(),
        c_n.value().clone(),
    ];
    results.extend(grad(&[&loss], &targets));
    results
}

const NAMES: [&str; 10] = [
    "output", "h_n", "c_n", "x̄", "W̄_ih", "W̄_hh", "h̄0", "c̄0", "b̄_ih", "b̄_hh",
];

#[test]
fn f64_forward_is_bit_for_bit_and_gradients_agree_to_round_off() {
    let c = case::<f64>(7, 3, 4, 5);
    let mask = keep::<f64>(7, 3);
    for bias in [true, false] {
        for keep in [None, Some(&mask)] {
            let fused = run(lstm, &c, bias, keep);
            let reference = run(lstm_reference, &c, bias, keep);
            assert_eq!(fused.len(), reference.len());
            for (k, (a, b)) in fused.iter().zip(&reference).enumerate() {
                assert_eq!(a.shape(), b.shape(), "{}", NAMES[k]);
                let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for (x, y) in a.iter().zip(b) {
                    if k < 3 {
                        assert_eq!(x.to_bits(), y.to_bits(), "{}: {x} against {y}", NAMES[k]);
                    } else {
                        assert!(
                            (x - y).abs() <= 1e-14 * scale,
                            "{} (bias {bias}, mask {}): {x} against {y}",
                            NAMES[k],
                            keep.is_some()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn f32_agrees_with_the_tape_path_within_a_few_ulp() {
    // The benchmark's sizes, with a mask.
    let (steps, batch) = (32, 64);
    let c = case::<f32>(steps, batch, 8, 64);
    let mask = keep::<f32>(steps, batch);
    for keep in [None, Some(&mask)] {
        let fused = run(lstm, &c, true, keep);
        let reference = run(lstm_reference, &c, true, keep);
        for (k, (a, b)) in fused.iter().zip(&reference).enumerate() {
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            // Values: the sigmoid is within 2 ulp, carried through 32 steps; gradients sum
            // 2048 rows in another order.
            let tolerance = if k < 3 { 3e-6 } else { 2e-5 };
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= tolerance * scale.max(1.0),
                    "{}: {x} against {y}",
                    NAMES[k]
                );
            }
        }
    }
}

#[test]
fn a_second_backward_pass_over_the_same_forward_pass_agrees() {
    let c = case::<f64>(4, 2, 3, 3);
    let tape = Tape::new();
    let (x, w_ih, w_hh) = (
        tape.var(c.x.clone()),
        tape.var(c.weight_ih.clone()),
        tape.var(c.weight_hh.clone()),
    );
    let (h0, c0) = (Var::constant(c.h0.clone()), Var::constant(c.c0.clone()));
    let (out, _, c_n) = lstm(&x, &w_ih, &w_hh, None, &h0, &c0, None);
    let first = grad(&[&out.sum_all()], &[&w_hh, &x]);
    let _other = grad(&[&c_n.sum_all()], &[&w_ih]);
    let again = grad(&[&out.sum_all()], &[&w_hh, &x]);
    assert_eq!(first, again);
}

fn as_inputs(c: &Case<f64>) -> Vec<SharedArray<f64>> {
    [
        &c.x,
        &c.weight_ih,
        &c.weight_hh,
        &c.h0,
        &c.c0,
        &c.b_ih,
        &c.b_hh,
    ]
    .into_iter()
    .map(|a| a.clone().into_shared())
    .collect()
}

fn flat_outputs(v: &[Var<f64>], keep: Option<&ArrayD<f64>>) -> Var<f64> {
    let (out, h_n, c_n) = lstm(
        &v[0],
        &v[1],
        &v[2],
        Some((&v[5], &v[6])),
        &v[3],
        &v[4],
        keep,
    );
    let flat = |y: &Var<f64>| y.reshape(&[y.value().len()]);
    Var::concat(&[&flat(&out), &flat(&h_n), &flat(&c_n)], 0)
}

#[test]
fn the_fused_op_passes_gradcheck_with_and_without_a_mask() {
    let c = case::<f64>(4, 3, 2, 3);
    let mask = keep::<f64>(4, 3);
    for keep in [None, Some(&mask)] {
        gradcheck(|v| flat_outputs(v, keep), &as_inputs(&c)).unwrap();
    }
}

/// Recorded backward passes go through the step-by-step path, so second derivatives exist.
#[test]
fn the_fused_op_passes_gradgradcheck() {
    let c = case::<f64>(3, 2, 2, 2);
    let mask = keep::<f64>(3, 2);
    for keep in [None, Some(&mask)] {
        gradgradcheck(|v| flat_outputs(v, keep), &as_inputs(&c)).unwrap();
    }
}

#[test]
#[should_panic(expected = "lstm: expected h0 (N, H) of shape [3, 5], found [3, 4]")]
fn a_state_of_the_wrong_size_is_named() {
    let c = case::<f64>(2, 3, 4, 5);
    let (x, w_ih, w_hh) = (
        Var::constant(c.x.clone()),
        Var::constant(c.weight_ih.clone()),
        Var::constant(c.weight_hh.clone()),
    );
    let h0 = Var::constant(ArrayD::<f64>::zeros(IxDyn(&[3, 4])));
    let c0 = Var::constant(c.c0.clone());
    lstm(&x, &w_ih, &w_hh, None, &h0, &c0, None);
}
