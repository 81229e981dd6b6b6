//! The tape's behaviour: repeated backward passes, pruning, accumulation, `no_grad`,
//! `detach`, anomaly mode, threads, gradient conventions at kinks, and shape errors.

mod common;

use common::uniform;
use ndarray::{Dimension, array};
use wengert_autograd::prelude::*;
use wengert_autograd::{SharedArray, one_hot};

fn arr(a: ndarray::ArrayD<f64>) -> SharedArray<f64> {
    a.into_shared()
}

#[test]
fn several_backward_passes_over_one_forward_pass() {
    let tape = Tape::<f64>::new();
    let w = tape.var(uniform(&[3, 3], -1.0, 1.0, 1));
    let y = w.matmul(&w).tanh().sum_all();
    let recorded = tape.len();
    let first = grad(&[&y], &[&w]);
    let second = grad(&[&y], &[&w]);
    assert_eq!(first, second);
    assert_eq!(
        tape.len(),
        recorded,
        "a plain backward pass records nothing"
    );
}

#[test]
fn a_variable_used_twice_accumulates_both_paths() {
    let tape = Tape::<f64>::new();
    let x = tape.var(3.0);
    let y = &x * &x + x.sin(); // dy/dx = 2x + cos x
    assert!((y.backward()[&x].sum() - (6.0 + 3.0f64.cos())).abs() < 1e-15);
}

#[test]
fn inputs_the_output_does_not_depend_on_get_zeros() {
    let tape = Tape::<f64>::new();
    let x = tape.var(array![1.0, 2.0]);
    let unrelated = tape.var(array![[1.0, 2.0], [3.0, 4.0]]);
    let y = x.exp().sum_all();
    let [dx, dz] = grad(&[&y], &[&x, &unrelated]).try_into().unwrap();
    assert_eq!(dx, x.value().mapv(f64::exp));
    assert_eq!(dz, arr(ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 2]))));
}

#[test]
fn gradient_with_respect_to_an_intermediate_variable() {
    let tape = Tape::<f64>::new();
    let x = tape.var(2.0);
    let h = x.exp();
    let y = h.powi(2); // dy/dh = 2h, dy/dx = 2h·h
    let [dh, dx] = grad(&[&y], &[&h, &x]).try_into().unwrap();
    let e2 = 2.0f64.exp();
    assert!((dh.sum() - 2.0 * e2).abs() < 1e-12);
    assert!((dx.sum() - 2.0 * e2 * e2).abs() < 1e-10);
}

#[test]
fn vjp_of_several_outputs_sums_their_contributions() {
    let tape = Tape::<f64>::new();
    let x = tape.var(array![1.0, 2.0]);
    let a = &x * 2.0;
    let b = x.powi(2);
    let dx = vjp(
        &[&a, &b],
        &[
            arr(array![1.0, 1.0].into_dyn()),
            arr(array![1.0, -1.0].into_dyn()),
        ],
        &[&x],
    );
    assert_eq!(dx[0], arr(array![2.0 + 2.0, 2.0 - 4.0].into_dyn()));
}

#[test]
fn a_weight_used_transposed_gets_its_gradient_in_its_own_layout() {
    // y = x Wᵀ, as a linear layer computes it: W̄ = ḡᵀ x must come out row-major like W, so
    // that adding a second contribution or an optimiser step runs over contiguous memory.
    let tape = Tape::<f64>::new();
    let x = tape.var(uniform(&[5, 3], -1.0, 1.0, 1));
    let w = tape.var(uniform(&[4, 3], -1.0, 1.0, 2));
    let y = x.matmul(&w.t()).tanh().sum_all();
    let grads = y.backward();
    let (dw, dx) = (&grads[&w], &grads[&x]);
    assert!(dw.is_standard_layout() && dx.is_standard_layout());
    // and the values are those of the plain formula
    fn matrix(v: &Var<f64>) -> ndarray::ArrayView2<'_, f64> {
        v.value().view().into_dimensionality().unwrap()
    }
    let g = matrix(&x)
        .dot(&matrix(&w).t())
        .mapv(|v| 1.0 - v.tanh().powi(2));
    let expected = g.t().dot(&matrix(&x));
    assert!((dw - &expected.into_dyn()).iter().all(|d| d.abs() < 1e-14));
}

#[test]
fn no_grad_records_nothing_and_restores_the_mode() {
    let tape = Tape::<f64>::new();
    let x = tape.var(array![1.0, 2.0]);
    let before = tape.len();
    let y = no_grad(|| {
        assert!(!is_grad_enabled());
        no_grad(|| x.exp()).add(&x)
    });
    assert!(is_grad_enabled());
    assert!(!y.is_tracked());
    assert_eq!(tape.len(), before);
}

#[test]
fn detach_stops_the_gradient() {
    let tape = Tape::<f64>::new();
    let x = tape.var(array![1.0, 2.0]);
    let y = (&x * &x.detach().exp()).sum_all(); // d/dx = stop(eˣ)
    assert_eq!(y.backward()[&x], x.value().mapv(f64::exp));
}

#[test]
fn anomaly_mode_names_the_first_non_finite_op() {
    let tape = Tape::<f64>::new();
    tape.detect_anomaly(true);
    let x = tape.var(array![[4.0, -1.0]]);
    let y = x.sqrt().exp().sum_all(); // sqrt(−1) = NaN
    let found = tape.first_anomaly().expect("NaN should be found");
    assert_eq!(found.op, "sqrt");
    assert_eq!(found.input_shapes, vec![vec![1, 2]]);
    assert!(found.to_string().contains("sqrt"));
    drop(y);
}

#[test]
fn anomaly_mode_catches_non_finite_gradients() {
    let tape = Tape::<f64>::new();
    tape.detect_anomaly(true);
    let x = tape.var(array![0.0, 1.0]);
    let y = x.sqrt().sum_all(); // forward finite; d sqrt/dx at 0 is infinite
    assert!(tape.first_anomaly().is_none());
    let _ = y.backward();
    assert_eq!(tape.first_anomaly().unwrap().op, "backward of sqrt");
}

#[test]
fn anomaly_mode_is_off_by_default() {
    let tape = Tape::<f64>::new();
    let x = tape.var(-1.0);
    let _ = x.log();
    assert!(tape.first_anomaly().is_none());
}

#[test]
fn variables_and_tapes_can_be_sent_to_threads() {
    fn assert_send_sync<X: Send + Sync>() {}
    assert_send_sync::<Var<f32>>();
    assert_send_sync::<Tape<f64>>();

    // A policy's weights evaluated in worker threads, recording nothing.
    let w = Var::constant(uniform(&[4, 2], -1.0, 1.0, 2));
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let w = w.clone();
            std::thread::spawn(move || {
                let obs = Var::constant(uniform(&[1, 4], -1.0, 1.0, 10 + i));
                obs.matmul(&w).softmax(-1)
            })
        })
        .collect();
    for worker in workers {
        let probabilities = worker.join().unwrap();
        assert!(!probabilities.is_tracked());
        assert!((probabilities.value().sum() - 1.0).abs() < 1e-12);
    }

    // Ops recorded from another thread land on the same tape.
    let tape = Tape::<f64>::new();
    let x = tape.var(2.0);
    let y = std::thread::spawn({
        let x = x.clone();
        move || x.powi(3)
    })
    .join()
    .unwrap();
    assert_eq!(y.backward()[&x].sum(), 12.0);
}

#[test]
fn gradient_conventions_at_kinks_follow_pytorch() {
    let tape = Tape::<f64>::new();
    let x = tape.var(array![-1.0, 0.0, 1.0, 2.0]);
    // clamp: only the open interval passes the gradient (PyTorch 2: none at the bounds)
    assert_eq!(
        x.clamp(-1.0, 1.0).sum_all().backward()[&x],
        arr(array![0.0, 1.0, 0.0, 0.0].into_dyn())
    );
    // relu and abs: zero gradient at zero
    assert_eq!(
        x.relu().sum_all().backward()[&x],
        arr(array![0.0, 0.0, 1.0, 1.0].into_dyn())
    );
    assert_eq!(
        x.abs().sum_all().backward()[&x],
        arr(array![-1.0, 0.0, 1.0, 1.0].into_dyn())
    );
    // max: ties share the gradient evenly
    let t = tape.var(array![1.0, 3.0, 3.0]);
    assert_eq!(
        t.max(&[0], false).backward()[&t],
        arr(array![0.0, 0.5, 0.5].into_dyn())
    );
    // minimum / maximum: ties split ½ and ½
    let a = tape.var(array![1.0, 2.0]);
    let b = tape.var(array![1.0, 5.0]);
    let [da, db] = grad(&[&a.maximum(&b).sum_all()], &[&a, &b])
        .try_into()
        .unwrap();
    assert_eq!(
        (da, db),
        (
            arr(array![0.5, 0.0].into_dyn()),
            arr(array![0.5, 1.0].into_dyn())
        )
    );
}

#[test]
fn stable_functions_do_not_overflow() {
    let tape = Tape::<f64>::new();
    let x = tape.var(array![-800.0, -30.0, 0.0, 30.0, 800.0]);
    let softplus = x.softplus();
    assert_eq!(softplus.value()[4], 800.0);
    assert!(softplus.value()[0] >= 0.0 && softplus.value()[0] < 1e-300);
    let ds = softplus.sum_all().backward()[&x].clone();
    assert!(ds.iter().all(|v| v.is_finite()));
    let lse = x.logsumexp(&[0], false);
    assert!((lse.item() - 800.0).abs() < 1e-12);
    let p = x.softmax(0);
    assert!((p.value()[4] - 1.0).abs() < 1e-15);
    assert!(x.sigmoid().value().iter().all(|v| v.is_finite()));
}

#[test]
fn operators_with_scalars_in_f32() {
    let tape = Tape::<f32>::new();
    let x = tape.var(array![1.0f32, 2.0]);
    let y = (2.0f32 * &x - 1.0f32) / 4.0f32 + (1.0f32 / &x) - (3.0f32 - &x) * 0.5f32;
    let g = y.sum_all().backward()[&x].clone();
    let expected = [0.5 - 1.0 + 0.5, 0.5 - 0.25 + 0.5];
    for (a, e) in g.iter().zip(expected) {
        assert!((a - e).abs() < 1e-6);
    }
}

#[test]
fn one_hot_selects_like_gather() {
    let tape = Tape::<f64>::new();
    let q = tape.var(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let chosen = (&q * &Var::constant(one_hot::<f64>(&[2, 0], 3))).sum(&[1], false);
    assert_eq!(chosen.value(), &arr(array![3.0, 4.0].into_dyn()));
}

#[test]
fn gather_with_an_index_shorter_than_the_input_scatters_back_into_the_input_shape() {
    // PyTorch's example shape: input (3, 3), index (2, 3) along axis 1. Row 2 is never read.
    let tape = Tape::<f64>::new();
    let x = tape.var(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
    let index = array![[0, 0, 2], [1, 2, 1]].into_dyn();
    let y = x.gather(1, &index);
    assert_eq!(
        y.value(),
        &arr(array![[1.0, 1.0, 3.0], [5.0, 6.0, 5.0]].into_dyn())
    );
    assert_eq!(
        y.sum_all().backward()[&x],
        arr(array![[2.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.0, 0.0]].into_dyn())
    );
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [4] cannot be broadcast together")]
fn broadcast_mismatch_names_the_op_and_both_shapes() {
    let a = Var::constant(ndarray::Array2::<f64>::zeros((2, 3)));
    let b = Var::constant(ndarray::Array1::<f64>::zeros(4));
    let _ = &a + &b;
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3] and [4, 5] are not compatible")]
fn matmul_mismatch_names_both_shapes() {
    let a = Var::constant(ndarray::Array2::<f64>::zeros((2, 3)));
    let b = Var::constant(ndarray::Array2::<f64>::zeros((4, 5)));
    let _ = a.matmul(&b);
}

/// `C[…, i, j] = Σ_k A[…, i, k] B[…, k, j]` by loops, batch axes broadcast by hand.
fn naive_batched_product(
    a: &ndarray::ArrayD<f64>,
    b: &ndarray::ArrayD<f64>,
) -> ndarray::ArrayD<f64> {
    let (sa, sb) = (a.shape(), b.shape());
    let (m, k, n) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
    let batch =
        wengert_autograd::shape::broadcast_shapes(&sa[..sa.len() - 2], &sb[..sb.len() - 2], "test");
    let out_shape = [&batch[..], &[m, n]].concat();
    ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&out_shape), |index| {
        let index = index.slice();
        let pick = |shape: &[usize], row: usize, column: usize| {
            let offset = batch.len() + 2 - shape.len();
            let mut at: Vec<usize> = (0..shape.len() - 2)
                .map(|d| if shape[d] == 1 { 0 } else { index[d + offset] })
                .collect();
            at.extend([row, column]);
            at
        };
        let (i, j) = (index[batch.len()], index[batch.len() + 1]);
        (0..k)
            .map(|l| a[pick(sa, i, l).as_slice()] * b[pick(sb, l, j).as_slice()])
            .sum()
    })
}

#[test]
fn batched_matmul_matches_loops_over_the_broadcast_batch() {
    for (sa, sb) in [
        (vec![2, 2, 3, 4], vec![2, 2, 4, 5]),
        (vec![1, 3, 4], vec![2, 4, 5]),
        (vec![2, 1, 3, 4], vec![3, 4, 2]),
        (vec![3, 4], vec![2, 1, 4, 2]),
        (vec![2, 3, 4], vec![1, 4, 5]),
    ] {
        let (a, b) = (
            uniform(&sa, -1.0, 1.0, 3).to_owned(),
            uniform(&sb, -1.0, 1.0, 4).to_owned(),
        );
        let c = Var::constant(a.clone()).matmul(&Var::constant(b.clone()));
        let expected = naive_batched_product(&a, &b);
        assert_eq!(c.shape(), expected.shape(), "{sa:?} @ {sb:?}");
        assert!(
            c.value()
                .iter()
                .zip(&expected)
                .all(|(x, y)| (x - y).abs() < 1e-12),
            "{sa:?} @ {sb:?}"
        );
    }
    // Batched matrix × vector: the vector is a column, removed again.
    let a = uniform(&[2, 3, 4], -1.0, 1.0, 5).to_owned();
    let v = uniform(&[4], -1.0, 1.0, 6).to_owned();
    let c = Var::constant(a.clone()).matmul(&Var::constant(v.clone()));
    let column = v
        .clone()
        .into_shape_with_order(ndarray::IxDyn(&[4, 1]))
        .unwrap();
    let expected = naive_batched_product(&a, &column);
    assert_eq!(c.shape(), &[2, 3]);
    assert!(
        c.value()
            .iter()
            .zip(&expected)
            .all(|(x, y)| (x - y).abs() < 1e-12)
    );
}

#[test]
fn matmul_keeps_its_two_and_three_dimensional_products_bit_for_bit() {
    // The direct cases are unchanged: the same op on the same arrays gives the same bits.
    let a = uniform(&[2, 3, 4], -1.0, 1.0, 7);
    let b = uniform(&[4, 5], -1.0, 1.0, 8);
    let stacked = Var::constant(a.clone()).matmul(&Var::constant(b.clone()));
    let rows = a
        .to_owned()
        .into_shape_with_order(ndarray::IxDyn(&[6, 4]))
        .unwrap();
    let flat = Var::constant(rows).matmul(&Var::constant(b.clone()));
    assert!(
        stacked
            .value()
            .iter()
            .zip(flat.value().iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 3, 4] and [3, 4, 5] are not compatible")]
fn matmul_batches_that_do_not_broadcast_are_reported() {
    let a = Var::constant(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 3, 4])));
    let b = Var::constant(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[3, 4, 5])));
    let _ = a.matmul(&b);
}

#[test]
#[should_panic(expected = "matmul: shapes [2, 2, 3, 4] and [5] are not compatible")]
fn matmul_inner_size_mismatch_names_the_original_shapes() {
    let a = Var::constant(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 2, 3, 4])));
    let b = Var::constant(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[5])));
    let _ = a.matmul(&b);
}

#[test]
#[should_panic(expected = "matmul: both operands need at least one axis")]
fn matmul_of_a_scalar_is_reported() {
    let _ = Var::constant(1.0f64).matmul(&Var::constant(ndarray::array![1.0]));
}

#[test]
#[should_panic(expected = "gather: index 3 is out of range for axis 1 of size 3")]
fn gather_out_of_range_is_reported() {
    let a = Var::constant(ndarray::Array2::<f64>::zeros((2, 3)));
    let _ = a.gather(1, &array![[0], [3]].into_dyn());
}

#[test]
#[should_panic(expected = "reshape: cannot reshape shape [2, 3] (6 elements) to [4]")]
fn reshape_mismatch_is_reported() {
    let a = Var::constant(ndarray::Array2::<f64>::zeros((2, 3)));
    let _ = a.reshape(&[4]);
}

#[test]
#[should_panic(expected = "inputs are recorded on different tapes")]
fn mixing_tapes_is_reported() {
    let (t1, t2) = (Tape::<f64>::new(), Tape::<f64>::new());
    let _ = &t1.var(1.0) + &t2.var(2.0);
}
