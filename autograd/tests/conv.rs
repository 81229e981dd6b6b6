//! `conv2d` and `max_pool2d`: gradcheck over a grid of stride, padding, dilation and groups,
//! gradgradcheck through the convolution (its VJPs are convolutions again), a non-contiguous
//! input, and the messages for shapes that do not fit.

use ndarray::{ArrayD, IxDyn};
use wengert_autograd::conv::{Conv2dOptions, conv2d, conv2d_input_grad};
use wengert_autograd::pool::{MaxPool2dOptions, max_pool2d};
use wengert_autograd::prelude::*;
use wengert_autograd::{SharedArray, gradcheck, gradgradcheck};

mod common;
use common::uniform;

/// Every combination of stride, padding, dilation and groups on a small input, with the
/// kernel's two sides different so that a swapped axis is caught.
#[test]
fn conv2d_passes_gradcheck_over_stride_padding_dilation_and_groups() {
    let mut cases = 0;
    for stride in [[1, 1], [2, 1], [2, 3]] {
        for padding in [[0, 0], [1, 2]] {
            for dilation in [[1, 1], [2, 1]] {
                for groups in [1, 2] {
                    let options = Conv2dOptions {
                        stride,
                        padding,
                        dilation,
                        groups,
                    };
                    let x = uniform(&[2, 4, 6, 5], -1.0, 1.0, cases);
                    let w = uniform(&[6, 4 / groups, 3, 2], -1.0, 1.0, 100 + cases);
                    let f = |v: &[Var<f64>]| conv2d(&v[0], &v[1], &options);
                    if let Err(error) = gradcheck(f, &[x, w]) {
                        panic!("{options:?}: {error}");
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 24);
}

/// Second order: the VJPs of `conv2d` are `conv2d_input_grad` and `conv2d_weight_grad`, whose
/// own VJPs are convolutions again. The `tanh` makes the second derivative depend on all three.
#[test]
fn conv2d_passes_gradgradcheck() {
    for options in [
        Conv2dOptions::default().padding(1),
        Conv2dOptions {
            stride: [2, 1],
            padding: [1, 0],
            dilation: [1, 2],
            groups: 2,
        },
    ] {
        let x = uniform(&[2, 2, 5, 5], -1.0, 1.0, 1);
        let w = uniform(&[4, 2 / options.groups, 3, 2], -1.0, 1.0, 2);
        let f = |v: &[Var<f64>]| conv2d(&v[0], &v[1], &options).tanh();
        if let Err(error) = gradgradcheck(f, &[x, w]) {
            panic!("{options:?}: {error}");
        }
    }
}

#[test]
fn conv2d_input_grad_passes_gradcheck_and_gradgradcheck() {
    let options = Conv2dOptions::default().stride(2).padding(1);
    let y_bar = uniform(&[2, 3, 3, 3], -1.0, 1.0, 3);
    let w = uniform(&[3, 2, 3, 3], -1.0, 1.0, 4);
    let f = |v: &[Var<f64>]| conv2d_input_grad(&v[0], &v[1], [6, 5], &options).tanh();
    gradcheck(f, &[y_bar.clone(), w.clone()]).unwrap();
    gradgradcheck(f, &[y_bar, w]).unwrap();
}

/// A permuted (non-contiguous) input gives the same values as its contiguous copy.
#[test]
fn conv2d_reads_non_contiguous_inputs() {
    let x: SharedArray<f64> = uniform(&[2, 5, 6, 3], -1.0, 1.0, 5).permuted_axes(&[0, 3, 1, 2][..]);
    assert!(!x.is_standard_layout());
    let w = Var::constant(uniform(&[2, 3, 2, 2], -1.0, 1.0, 6));
    let options = Conv2dOptions::default().stride(2);
    let strided = conv2d(&Var::constant(x.clone()), &w, &options);
    let contiguous = conv2d(
        &Var::constant(x.as_standard_layout().into_owned().into_shared()),
        &w,
        &options,
    );
    assert_eq!(strided.value(), contiguous.value());
}

fn message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let error = std::panic::catch_unwind(f).expect_err("expected a panic");
    error
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| error.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn conv2d_shape_errors_name_what_was_expected() {
    let var = |shape: &[usize]| Var::constant(ArrayD::<f64>::zeros(IxDyn(shape)));
    let wrong_channels = message(|| {
        conv2d(
            &var(&[1, 3, 5, 5]),
            &var(&[2, 4, 3, 3]),
            &Default::default(),
        );
    });
    assert!(
        wrong_channels.contains("expects an input with 4 channels, found 3 channels"),
        "{wrong_channels}"
    );
    let groups = message(|| {
        conv2d(
            &var(&[1, 4, 5, 5]),
            &var(&[3, 2, 3, 3]),
            &Conv2dOptions::default().groups(2),
        );
    });
    assert!(
        groups.contains("groups = 2 must divide both in_channels = 4 and out_channels = 3"),
        "{groups}"
    );
    let too_large = message(|| {
        conv2d(
            &var(&[1, 1, 2, 2]),
            &var(&[1, 1, 3, 3]),
            &Default::default(),
        );
    });
    assert!(
        too_large.contains(
            "the kernel [3, 3] (dilated to [3, 3]) is larger than the padded input [2, 2]"
        ),
        "{too_large}"
    );
    let dilated = message(|| {
        conv2d(
            &var(&[1, 1, 4, 4]),
            &var(&[1, 1, 3, 3]),
            &Conv2dOptions::default().dilation(2),
        );
    });
    assert!(dilated.contains("dilated to [5, 5]"), "{dilated}");
    let rank = message(|| {
        conv2d(&var(&[3, 5, 5]), &var(&[1, 3, 3, 3]), &Default::default());
    });
    assert!(
        rank.contains("expected input (N, C_in, H, W)") && rank.contains("[3, 5, 5]"),
        "{rank}"
    );
}

/// Distinct values (a permutation of a grid) so that no window has a tie and the finite
/// differences never cross a switch of the argmax.
fn distinct(shape: &[usize], seed: u64) -> SharedArray<f64> {
    let len: usize = shape.iter().product();
    let mut order: Vec<usize> = (0..len).collect();
    let random = uniform(&[len], 0.0, 1.0, seed);
    order.sort_by(|&a, &b| random[[a]].total_cmp(&random[[b]]));
    ArrayD::from_shape_vec(
        IxDyn(shape),
        order.iter().map(|&i| i as f64 * 0.1 - 1.0).collect(),
    )
    .unwrap()
    .into_shared()
}

#[test]
fn max_pool2d_passes_gradcheck_and_gradgradcheck() {
    for options in [
        MaxPool2dOptions::new(2),
        MaxPool2dOptions::new(3).stride(2).padding(1),
        MaxPool2dOptions::rectangular([2, 3])
            .stride(1)
            .dilation(2)
            .ceil_mode(true),
    ] {
        let x = distinct(&[2, 2, 7, 6], 9);
        let f = |v: &[Var<f64>]| max_pool2d(&v[0], &options).powi(2);
        if let Err(error) = gradcheck(f, std::slice::from_ref(&x)) {
            panic!("{options:?}: {error}");
        }
        gradgradcheck(f, &[x]).unwrap();
    }
}

#[test]
fn max_pool2d_errors_name_the_shape() {
    let x = || Var::constant(ArrayD::<f64>::zeros(IxDyn(&[1, 1, 2, 2])));
    let padding = message(|| {
        max_pool2d(&x(), &MaxPool2dOptions::new(2).padding(2));
    });
    assert!(
        padding.contains("padding [2, 2] must be at most half the kernel [2, 2]"),
        "{padding}"
    );
    let small = message(|| {
        max_pool2d(&x(), &MaxPool2dOptions::new(3));
    });
    assert!(
        small.contains("input [1, 1, 2, 2]") && small.contains("too small"),
        "{small}"
    );
    let rank = message(|| {
        max_pool2d(
            &Var::constant(ArrayD::<f64>::zeros(IxDyn(&[2, 2]))),
            &MaxPool2dOptions::new(2),
        );
    });
    assert!(rank.contains("expected an input (N, C, H, W)"), "{rank}");
}
