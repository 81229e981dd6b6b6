//! Every op passes `gradcheck` and `gradgradcheck` in f64 on random inputs, including
//! broadcast shapes, non-contiguous (transposed) inputs and batched matmul.

#![allow(clippy::cloned_ref_to_slice_refs)] // `&[x.clone()]` reads better in a table of cases

mod common;

use common::{away_from_zero, transposed, uniform};
use ndarray::{ArrayD, Axis, Dimension, IxDyn, array};
use wengert_autograd::prelude::*;
use wengert_autograd::{SharedArray, gradcheck, gradgradcheck};

/// Checks first and second derivatives of `f` at `inputs`, naming the case on failure.
fn check(name: &str, f: impl Fn(&[Var<f64>]) -> Var<f64>, inputs: &[SharedArray<f64>]) {
    if let Err(e) = gradcheck(&f, inputs) {
        panic!("{name}: {e}");
    }
    if let Err(e) = gradgradcheck(&f, inputs) {
        panic!("{name}: {e}");
    }
}

#[test]
fn binary_ops_broadcast() {
    let a = uniform(&[3, 1, 4], -1.0, 1.0, 1);
    let b = uniform(&[5, 4], -1.0, 1.0, 2);
    let positive = uniform(&[5, 4], 0.5, 2.0, 3);
    check("add", |x| &x[0] + &x[1], &[a.clone(), b.clone()]);
    check("sub", |x| &x[0] - &x[1], &[a.clone(), b.clone()]);
    check("mul", |x| &x[0] * &x[1], &[a.clone(), b.clone()]);
    check("div", |x| &x[0] / &x[1], &[a.clone(), positive.clone()]);
    check("pow", |x| x[1].pow(&x[0]), &[a.clone(), positive.clone()]);
    check("minimum", |x| x[0].minimum(&x[1]), &[a.clone(), b.clone()]);
    check("maximum", |x| x[0].maximum(&x[1]), &[a.clone(), b.clone()]);
    // a scalar (0-d) against a matrix, and the same shapes in the other order
    let s = uniform(&[], 0.5, 1.5, 4);
    check(
        "div scalar by matrix",
        |x| &x[0] / &x[1],
        &[s.clone(), positive.clone()],
    );
    check("mul matrix by scalar", |x| &x[1] * &x[0], &[s, b]);
}

#[test]
fn scalar_ops() {
    let a = uniform(&[2, 3], 0.5, 2.0, 5);
    let signed = away_from_zero(&[2, 3], 6);
    check("add_scalar", |x| &x[0] + 1.5, &[signed.clone()]);
    check("scalar minus", |x| 1.5 - &x[0], &[signed.clone()]);
    check("mul_scalar", |x| &x[0] * -2.5, &[signed.clone()]);
    check("scalar over", |x| 2.0 / &x[0], &[signed.clone()]);
    check("powf", |x| x[0].powf(2.5), &[a.clone()]);
    check("powi 3", |x| x[0].powi(3), &[signed.clone()]);
    check("powi -2", |x| x[0].powi(-2), &[signed.clone()]);
    check("powi 0", |x| x[0].powi(0), &[signed.clone()]);
    check("neg", |x| -&x[0], &[signed]);
}

#[test]
fn unary_ops() {
    let any = uniform(&[3, 4], -2.0, 2.0, 7);
    let positive = uniform(&[3, 4], 0.3, 3.0, 8);
    let signed = away_from_zero(&[3, 4], 9);
    check("exp", |x| x[0].exp(), &[any.clone()]);
    check("log", |x| x[0].log(), &[positive.clone()]);
    check(
        "log1p",
        |x| x[0].log1p(),
        &[uniform(&[3, 4], -0.5, 2.0, 10)],
    );
    check("sqrt", |x| x[0].sqrt(), &[positive]);
    check("abs", |x| x[0].abs(), &[signed.clone()]);
    check("sin", |x| x[0].sin(), &[any.clone()]);
    check("cos", |x| x[0].cos(), &[any.clone()]);
    check("tanh", |x| x[0].tanh(), &[any.clone()]);
    check("sigmoid", |x| x[0].sigmoid(), &[any.clone()]);
    check("relu", |x| x[0].relu().powi(2), &[signed.clone()]);
    check(
        "leaky_relu",
        |x| x[0].leaky_relu(0.1).powi(2),
        &[signed.clone()],
    );
    check("elu", |x| x[0].elu(1.3), &[signed.clone()]);
    check("softplus", |x| x[0].softplus(), &[any]);
    check("clamp", |x| x[0].clamp(-1.0, 1.0).powi(3), &[signed]);
}

#[test]
fn where_selects_with_broadcast_mask() {
    let mask = array![[true, false, true]].into_dyn();
    let a = uniform(&[2, 3], -1.0, 1.0, 11);
    let b = uniform(&[3], -1.0, 1.0, 12);
    check(
        "where",
        |x| x[0].powi(2).where_(&mask, &x[1].exp()),
        &[a, b],
    );
}

#[test]
fn reductions() {
    let a = uniform(&[3, 4, 2], -2.0, 2.0, 13);
    check("sum axis 1", |x| x[0].sum(&[1], false), &[a.clone()]);
    check(
        "sum axes keep",
        |x| x[0].sum(&[0, -1], true).powi(2),
        &[a.clone()],
    );
    check("sum_all", |x| x[0].powi(2).sum_all(), &[a.clone()]);
    check("mean", |x| x[0].mean(&[2], false).powi(2), &[a.clone()]);
    check("mean_all", |x| x[0].powi(3).mean_all(), &[a.clone()]);
    check("max", |x| x[0].max(&[1], false).powi(2), &[a.clone()]);
    check(
        "min keep",
        |x| x[0].min(&[0, 2], true).powi(2),
        &[a.clone()],
    );
    check("logsumexp", |x| x[0].logsumexp(&[1], false), &[a.clone()]);
    check(
        "logsumexp all keep",
        |x| x[0].logsumexp(&[0, 1, 2], true),
        &[a.clone()],
    );
    check(
        "variance unbiased",
        |x| x[0].variance(&[1], 1, false),
        &[a.clone()],
    );
    check(
        "variance population",
        |x| x[0].variance(&[0, 2], 0, true),
        &[a],
    );
}

#[test]
fn softmax_and_log_softmax() {
    let logits = uniform(&[4, 5], -3.0, 3.0, 14);
    let weights = uniform(&[4, 5], -1.0, 1.0, 15);
    check(
        "softmax -1",
        |x| x[0].softmax(-1).mul(&x[1]),
        &[logits.clone(), weights.clone()],
    );
    check(
        "softmax 0",
        |x| x[0].softmax(0).mul(&x[1]),
        &[logits.clone(), weights.clone()],
    );
    check(
        "log_softmax",
        |x| x[0].log_softmax(1).mul(&x[1]),
        &[logits, weights],
    );
}

#[test]
fn matmul_variants() {
    check(
        "2d",
        |x| x[0].matmul(&x[1]),
        &[
            uniform(&[3, 4], -1.0, 1.0, 16),
            uniform(&[4, 2], -1.0, 1.0, 17),
        ],
    );
    check(
        "matrix-vector",
        |x| x[0].matmul(&x[1]),
        &[
            uniform(&[3, 4], -1.0, 1.0, 18),
            uniform(&[4], -1.0, 1.0, 19),
        ],
    );
    check(
        "vector-matrix",
        |x| x[0].matmul(&x[1]),
        &[
            uniform(&[3], -1.0, 1.0, 20),
            uniform(&[3, 2], -1.0, 1.0, 21),
        ],
    );
    check(
        "dot",
        |x| x[0].dot(&x[1]),
        &[uniform(&[5], -1.0, 1.0, 22), uniform(&[5], -1.0, 1.0, 23)],
    );
    check(
        "batched 3d",
        |x| x[0].matmul(&x[1]),
        &[
            uniform(&[2, 3, 4], -1.0, 1.0, 24),
            uniform(&[2, 4, 2], -1.0, 1.0, 25),
        ],
    );
    check(
        "3d by shared 2d",
        |x| x[0].matmul(&x[1]),
        &[
            uniform(&[2, 3, 4], -1.0, 1.0, 26),
            uniform(&[4, 2], -1.0, 1.0, 27),
        ],
    );
    check(
        "2d by 3d",
        |x| x[0].matmul(&x[1]),
        &[
            uniform(&[3, 4], -1.0, 1.0, 28),
            uniform(&[2, 4, 2], -1.0, 1.0, 29),
        ],
    );
    // transposed inputs (non-contiguous arrays) and transposes inside the function
    check(
        "transposed inputs",
        |x| x[0].matmul(&x[1]),
        &[transposed(&[3, 4], 30), transposed(&[4, 2], 31)],
    );
    check(
        "transpose ops",
        |x| x[0].t().matmul(&x[1].transpose(0, 1)),
        &[
            uniform(&[4, 3], -1.0, 1.0, 32),
            uniform(&[2, 4], -1.0, 1.0, 33),
        ],
    );
    check(
        "batched transpose",
        |x| x[0].matmul(&x[1].transpose(-1, -2)),
        &[
            uniform(&[2, 3, 4], -1.0, 1.0, 34),
            uniform(&[2, 5, 4], -1.0, 1.0, 35),
        ],
    );
    check(
        "nonlinear chain",
        |x| x[0].matmul(&x[1]).tanh().matmul(&x[1].t()),
        &[
            uniform(&[3, 4], -1.0, 1.0, 36),
            uniform(&[4, 4], -1.0, 1.0, 37),
        ],
    );
}

#[test]
fn batched_matmul_with_broadcast_batches() {
    // PyTorch's matmul rules: any number of batch axes, broadcast against each other; vectors
    // against batches. Gradients sum over the broadcast batch axes.
    for (name, sa, sb) in [
        ("4-d", vec![2, 2, 3, 4], vec![2, 2, 4, 5]),
        ("broadcast left batch", vec![1, 3, 4], vec![2, 4, 5]),
        ("broadcast right batch", vec![2, 3, 4], vec![1, 4, 2]),
        (
            "batches broadcast both ways",
            vec![2, 1, 3, 4],
            vec![3, 4, 2],
        ),
        ("2-d by 4-d", vec![3, 4], vec![2, 1, 4, 2]),
        ("batched matrix-vector", vec![2, 3, 4], vec![4]),
        ("vector by batch", vec![3], vec![2, 2, 3, 2]),
        ("4-d vector", vec![2, 2, 3, 4], vec![4]),
    ] {
        let inputs = [uniform(&sa, -1.0, 1.0, 45), uniform(&sb, -1.0, 1.0, 46)];
        check(name, |x| x[0].matmul(&x[1]).cumulative_weights(), &inputs);
    }
    check(
        "4-d transposed operand",
        |x| x[0].matmul(&x[1].transpose(-1, -2)).tanh(),
        &[
            uniform(&[2, 2, 3, 4], -1.0, 1.0, 47),
            uniform(&[2, 1, 5, 4], -1.0, 1.0, 48),
        ],
    );
}

#[test]
fn non_contiguous_inputs_through_elementwise_and_reductions() {
    let a = transposed(&[3, 4], 38);
    let b = uniform(&[4], -1.0, 1.0, 39);
    check(
        "broadcast over transposed",
        |x| (&x[0] * &x[1]).tanh(),
        &[a.clone(), b],
    );
    check(
        "reduce transposed",
        |x| x[0].exp().sum(&[0], false),
        &[a.clone()],
    );
    check(
        "reshape transposed",
        |x| x[0].reshape(&[2, 6]).powi(2),
        &[a.clone()],
    );
    check("softmax transposed", |x| x[0].softmax(1).powi(2), &[a]);
}

#[test]
fn shape_ops() {
    let a = uniform(&[2, 3, 4], -1.0, 1.0, 40);
    check("reshape", |x| x[0].reshape(&[6, 4]).powi(2), &[a.clone()]);
    check("flatten", |x| x[0].flatten().powi(2), &[a.clone()]);
    check(
        "permute",
        |x| x[0].permute(&[2, 0, 1]).powi(2).cumulative_weights(),
        &[a.clone()],
    );
    check(
        "unsqueeze squeeze",
        |x| x[0].unsqueeze(1).squeeze(1).powi(2),
        &[a.clone()],
    );
    check(
        "broadcast_to",
        |x| x[0].broadcast_to(&[5, 2, 3, 4]).cumulative_weights(),
        &[a.clone()],
    );
    check("sum_to", |x| x[0].powi(2).sum_to(&[3, 1]), &[a.clone()]);
    check("slice", |x| x[0].slice(1, 1, 3).powi(2), &[a.clone()]);
    check("narrow", |x| x[0].narrow(-1, 2, 2).powi(3), &[a.clone()]);
    let b = uniform(&[2, 1, 4], -1.0, 1.0, 41);
    check(
        "concat",
        |x| Var::concat(&[&x[0], &x[1].powi(2)], 1).cumulative_weights(),
        &[a.clone(), b],
    );
    let c = uniform(&[2, 3, 4], -1.0, 1.0, 42);
    check(
        "stack",
        |x| Var::stack(&[&x[0], &x[1]], 0).powi(2).cumulative_weights(),
        &[a.clone(), c],
    );
    let index = array![[[0, 2, 2, 1]], [[1, 1, 0, 0]]].into_dyn();
    check(
        "gather",
        move |x| x[0].gather(1, &index).powi(2),
        &[a.clone()],
    );
    // An index smaller than the input along the other axes (PyTorch allows it): only the
    // covered rows receive gradient.
    let short = array![[0, 2, 2], [1, 0, 0]].into_dyn();
    check(
        "gather short index",
        move |x| x[0].gather(1, &short).powi(2).cumulative_weights(),
        &[uniform(&[3, 3], -1.0, 1.0, 44)],
    );
    let small = array![[[1, 0]], [[0, 0]]].into_dyn();
    check(
        "gather index smaller on two axes",
        move |x| x[0].gather(0, &small).powi(2).cumulative_weights(),
        &[a.clone()],
    );
    check(
        "index_select repeats",
        |x| x[0].index_select(2, &[3, 0, 3]).powi(2),
        &[a],
    );
}

/// Multiplies by distinct weights before summing, so that a wrong element order is caught.
trait CumulativeWeights {
    fn cumulative_weights(&self) -> Self;
}

impl CumulativeWeights for Var<f64> {
    fn cumulative_weights(&self) -> Self {
        let weights = ArrayD::from_shape_fn(IxDyn(self.shape()), |i| {
            i.slice()
                .iter()
                .enumerate()
                .map(|(k, &j)| ((k + 1) * (j + 1)) as f64)
                .sum::<f64>()
        });
        self.mul(&Var::constant(weights))
    }
}

#[test]
fn gather_picks_log_probabilities_of_actions() {
    // log π(a|s) from a batch of logits: the use that gather exists for.
    let logits = uniform(&[4, 3], -2.0, 2.0, 43);
    let actions = [2usize, 0, 1, 1];
    let index = ArrayD::from_shape_vec(IxDyn(&[4, 1]), actions.to_vec()).unwrap();
    let f = move |x: &[Var<f64>]| x[0].log_softmax(-1).gather(1, &index).squeeze(1);
    check("log pi", &f, &[logits.clone()]);
    let tape = Tape::new();
    let log_pi = f(&[tape.var(logits.clone())]);
    for (row, &a) in actions.iter().enumerate() {
        let row_logits = logits.index_axis(Axis(0), row);
        let lse = row_logits.iter().map(|v| v.exp()).sum::<f64>().ln();
        assert!((log_pi.value()[row] - (row_logits[a] - lse)).abs() < 1e-12);
    }
}
