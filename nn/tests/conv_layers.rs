//! Conv2d, MaxPool2d, Flatten and BatchNorm2d against PyTorch (float64), gradient checks of the
//! layers over a grid of options, PyTorch's initialisation, and the messages for bad shapes.
//!
//! Reference data (see `nn/tests/data/README.md`): `sequence_models_conv2d.json` (the Conv2d
//! cases of the shared `sequence_models.json`) and `conv_reference.json` (made by
//! `nn/tools/conv_reference.py`).

use autograd::conv::Conv2dOptions;
use autograd::pool::MaxPool2dOptions;
use autograd::prelude::*;
use autograd::{gradcheck, gradgradcheck};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use wengert_nn::{BatchNorm, Conv2d, Flatten, Init, MaxPool2d, Module, ParamStore};

fn data(file: &str) -> Value {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A nested JSON list of numbers as an array (its shape read from the nesting).
fn array(value: &Value) -> ArrayD<f64> {
    fn walk(v: &Value, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                items.iter().for_each(|i| walk(i, depth + 1, shape, out));
            }
            Value::Number(n) => out.push(n.as_f64().unwrap()),
            other => panic!("expected numbers, found {other}"),
        }
    }
    let (mut shape, mut flat) = (Vec::new(), Vec::new());
    walk(value, 0, &mut shape, &mut flat);
    ArrayD::from_shape_vec(IxDyn(&shape), flat).unwrap()
}

fn pair(value: &Value) -> [usize; 2] {
    [
        value[0].as_u64().unwrap() as usize,
        value[1].as_u64().unwrap() as usize,
    ]
}

/// `|a − b| ≤ rtol · max|b|` elementwise, shapes equal.
fn assert_close(ours: &ArrayD<f64>, reference: &ArrayD<f64>, rtol: f64, what: &str) {
    assert_eq!(ours.shape(), reference.shape(), "{what}: shape");
    let scale = reference.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
    for (x, y) in ours.iter().zip(reference) {
        assert!(
            (x - y).abs() <= rtol * scale,
            "{what}: {x} vs {y} (relative {:e})",
            (x - y).abs() / scale
        );
    }
}

/// The layer of a reference case, with the case's weights.
fn conv_layer(case: &Value, store: &mut ParamStore<f64>) -> Conv2d {
    let options = Conv2dOptions {
        stride: pair(&case["stride"]),
        padding: pair(&case["padding"]),
        dilation: pair(&case["dilation"]),
        groups: case["groups"].as_u64().unwrap() as usize,
    };
    let size = |k: &str| case[k].as_u64().unwrap() as usize;
    let conv = Conv2d::with_options(
        &mut store.root().sub("conv"),
        size("C"),
        size("out_channels"),
        pair(&case["kernel_size"]),
        options,
        case["bias"].as_bool().unwrap(),
        &mut StdRng::seed_from_u64(0),
    );
    store.set(conv.weight, array(&case["weights"]["weight"]));
    if let Some(bias) = conv.bias {
        store.set(bias, array(&case["weights"]["bias"]));
    }
    conv
}

/// Output and every gradient of `L = Σ output · probe_output` against PyTorch to 1e-10
/// relative; returns how many cases were checked.
fn check_conv_cases(cases: &Value) -> usize {
    let mut checked = 0;
    for (k, case) in cases.as_array().unwrap().iter().enumerate() {
        let mut store = ParamStore::<f64>::new();
        let conv = conv_layer(case, &mut store);
        let tape = Tape::new();
        let params = store.bind(&tape);
        let x = tape.var(array(&case["input"]));
        let y = conv.forward(&params, &x);
        assert_close(
            &y.value().to_owned(),
            &array(&case["output"]),
            1e-10,
            &format!("case {k} output"),
        );
        let loss = (&y * Var::constant(array(&case["probe_output"]))).sum_all();
        let expected_loss = case["loss"].as_f64().unwrap();
        assert!((loss.value()[[]] - expected_loss).abs() <= 1e-10 * expected_loss.abs().max(1.0));
        let mut wanted = vec![
            ("input", x.clone()),
            ("weight", params[conv.weight].clone()),
        ];
        if let Some(bias) = conv.bias {
            wanted.push(("bias", params[bias].clone()));
        }
        let refs: Vec<&Var<f64>> = wanted.iter().map(|(_, v)| v).collect();
        let grads = grad(&[&loss], &refs);
        for ((name, _), g) in wanted.iter().zip(&grads) {
            assert_close(
                &g.to_owned(),
                &array(&case["grad"][name]),
                1e-10,
                &format!("case {k} ∂L/∂{name}"),
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn conv2d_matches_the_shared_pytorch_reference() {
    assert_eq!(
        check_conv_cases(&data("sequence_models_conv2d.json")["conv2d"]),
        2
    );
}

#[test]
fn conv2d_matches_pytorch_with_dilation_groups_and_no_bias() {
    assert_eq!(check_conv_cases(&data("conv_reference.json")["conv2d"]), 4);
}

/// `∂/∂(x, W) [Σ ∂L'/∂x · v_x + Σ ∂L'/∂W · v_W]` with `L' = Σ tanh(conv(x, W) + b) · probe`:
/// second order through the convolution's VJPs, against PyTorch's double backward.
#[test]
fn conv2d_second_order_gradients_match_pytorch() {
    for (k, case) in data("conv_reference.json")["conv2d"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let mut store = ParamStore::<f64>::new();
        let conv = conv_layer(case, &mut store);
        let tape = Tape::new();
        let params = store.bind(&tape);
        let x = tape.var(array(&case["input"]));
        let w = params[conv.weight].clone();
        let y = conv.forward(&params, &x).tanh();
        let loss = (&y * Var::constant(array(&case["probe_output"]))).sum_all();
        let [gx, gw] = grad_graph(&[&loss], &[&x, &w]).try_into().unwrap();
        let second = &case["second_order"];
        let inner = (&gx * Var::constant(array(&second["probe_input"]))).sum_all()
            + (&gw * Var::constant(array(&second["probe_weight"]))).sum_all();
        let [hx, hw] = grad(&[&inner], &[&x, &w]).try_into().unwrap();
        assert_close(
            &hx.to_owned(),
            &array(&second["input"]),
            1e-10,
            &format!("case {k} second order, input"),
        );
        assert_close(
            &hw.to_owned(),
            &array(&second["weight"]),
            1e-10,
            &format!("case {k} second order, weight"),
        );
    }
}

#[test]
fn max_pool2d_matches_pytorch_including_its_tie_rule() {
    let cases = data("conv_reference.json");
    let cases = cases["max_pool2d"].as_array().unwrap();
    for (k, case) in cases.iter().enumerate() {
        let kernel = pair(&case["kernel_size"]);
        let options = MaxPool2dOptions {
            kernel,
            stride: pair(&case["stride"]),
            padding: pair(&case["padding"]),
            dilation: pair(&case["dilation"]),
            ceil_mode: case["ceil_mode"].as_bool().unwrap(),
        };
        let store = ParamStore::<f64>::new();
        let tape = Tape::new();
        let x = tape.var(array(&case["input"]));
        let y = MaxPool2d::new(options).forward(&store.constants(), &x);
        assert_eq!(
            y.value().to_owned(),
            array(&case["output"]),
            "case {k} output"
        );
        let loss = (&y * Var::constant(array(&case["probe_output"]))).sum_all();
        // The gradient lands on PyTorch's argmax only, so equal to round-off (a sum of probes).
        assert_close(
            &loss.backward()[&x].to_owned(),
            &array(&case["grad"]["input"]),
            1e-14,
            &format!("case {k} ∂L/∂x"),
        );
    }
    assert_eq!(cases.len(), 4);
}

/// Training-mode steps of BatchNorm2d: output, running statistics (momentum 0.1 and the
/// cumulative average), `num_batches_tracked`, gradients; then evaluation mode.
#[test]
fn batch_norm2d_running_statistics_match_pytorch() {
    for case in data("conv_reference.json")["batch_norm2d"]
        .as_array()
        .unwrap()
    {
        let channels = case["shape"][1].as_u64().unwrap() as usize;
        let mut store = ParamStore::<f64>::new();
        let bn = BatchNorm::new_2d(&mut store.root().sub("bn"), channels);
        let bn = match case["momentum"].as_f64() {
            Some(momentum) => bn.with_momentum(momentum),
            None => bn.with_cumulative_average(),
        };
        store.set(bn.weight, array(&case["weight"]));
        store.set(bn.bias, array(&case["bias"]));
        assert_eq!(store.name(bn.num_batches_tracked), "bn.num_batches_tracked");
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let what = |name: &str| format!("momentum {} step {i} {name}", case["momentum"]);
            let tape = Tape::new();
            let params = store.bind(&tape);
            let x = tape.var(array(&step["x"]));
            let y = bn.forward(&params, &x);
            assert_close(&y.value().to_owned(), &array(&step["y"]), 1e-12, &what("y"));
            for (id, name) in [
                (bn.running_mean, "running_mean"),
                (bn.running_var, "running_var"),
            ] {
                assert_close(
                    &store.value(id).to_owned(),
                    &array(&step[name]),
                    1e-12,
                    &what(name),
                );
            }
            let batches = step["num_batches_tracked"].as_f64().unwrap();
            assert_eq!(store.value(bn.num_batches_tracked)[[]], batches);
            let loss = (&y * Var::constant(array(&step["probe"]))).sum_all();
            let wanted = [&x, &params[bn.weight], &params[bn.bias]];
            let grads = grad(&[&loss], &wanted);
            for (g, name) in grads.iter().zip(["input", "weight", "bias"]) {
                assert_close(
                    &g.to_owned(),
                    &array(&step["grad"][name]),
                    1e-10,
                    &what(name),
                );
            }
        }
        store.set_training(false);
        let y = bn.forward(&store.constants(), &Var::constant(array(&case["x_eval"])));
        assert_close(
            &y.value().to_owned(),
            &array(&case["y_eval"]),
            1e-12,
            "eval",
        );
    }
}

fn random(shape: &[usize], seed: u64) -> SharedArray<f64> {
    Init::Uniform {
        low: -1.0,
        high: 1.0,
    }
    .sample::<f64>(shape, &mut StdRng::seed_from_u64(seed))
    .into_shared()
}

/// The layer (input, weight and bias) against finite differences over a grid of options, and
/// to second order on two of them.
#[test]
fn conv2d_layer_passes_gradcheck_over_options_and_bias() {
    let mut seed = 0;
    for (stride, padding, dilation, groups) in [
        (1, 0, 1, 1),
        (2, 1, 1, 1),
        (1, 2, 2, 1),
        (2, 1, 2, 3),
        (3, 0, 1, 3),
    ] {
        for bias in [true, false] {
            let options = Conv2dOptions {
                stride: [stride, 1],
                padding: [padding, 1],
                dilation: [dilation, 1],
                groups,
            };
            let mut store = ParamStore::<f64>::new();
            let conv = Conv2d::with_options(
                &mut store.root().sub("conv"),
                3,
                6,
                [3, 2],
                options,
                bias,
                &mut StdRng::seed_from_u64(seed),
            );
            let ids: Vec<_> = store.trainable().collect();
            assert_eq!(ids.len(), 1 + bias as usize);
            let mut inputs = vec![random(&[2, 3, 7, 5], seed)];
            inputs.extend(ids.iter().map(|&id| store.value(id)));
            let f = |v: &[Var<f64>]| {
                let bound = store.bind_with(ids.iter().copied().zip(v[1..].iter().cloned()));
                conv.forward(&bound, &v[0]).tanh()
            };
            if let Err(e) = gradcheck(f, &inputs) {
                panic!("{options:?} bias {bias}: {e}");
            }
            if seed < 2 {
                gradgradcheck(f, &inputs).unwrap();
            }
            seed += 1;
        }
    }
}

/// PyTorch's default: `U(−1/√fan_in, 1/√fan_in)` for weight and bias, `fan_in = C_in/G·kh·kw`.
#[test]
fn conv2d_initialisation_is_pytorchs() {
    let mut store = ParamStore::<f64>::new();
    let options = Conv2dOptions::default().groups(2);
    let conv = Conv2d::with_options(
        &mut store.root().sub("c"),
        8,
        64,
        [3, 5],
        options,
        true,
        &mut StdRng::seed_from_u64(1),
    );
    let bound = 1.0 / ((4 * 3 * 5) as f64).sqrt();
    let weight = store.value(conv.weight);
    assert_eq!(weight.shape(), &[64, 4, 3, 5]);
    assert!(weight.iter().all(|w| w.abs() <= bound));
    // U(−b, b) has standard deviation b/√3; 3840 draws give it to a few per cent.
    let std = (weight.iter().map(|w| w * w).sum::<f64>() / weight.len() as f64).sqrt();
    assert!(
        (std / (bound / 3f64.sqrt()) - 1.0).abs() < 0.05,
        "std {std}"
    );
    let bias = store.value(conv.bias.unwrap());
    assert!(bias.iter().all(|b| b.abs() <= bound) && bias.iter().any(|b| b.abs() > bound / 2.0));
    assert_eq!(store.name(conv.bias.unwrap()), "c.bias");
}

#[test]
fn flatten_merges_the_given_axes() {
    let store = ParamStore::<f64>::new();
    let x = Var::constant(random(&[2, 3, 4, 5], 0));
    let flat = Flatten::default().forward(&store.constants(), &x);
    assert_eq!(flat.shape(), &[2, 60]);
    assert_eq!(
        flat.value().iter().copied().collect::<Vec<_>>(),
        x.value().iter().copied().collect::<Vec<_>>()
    );
    let middle = Flatten {
        start_dim: 1,
        end_dim: 2,
    }
    .forward(&store.constants(), &x);
    assert_eq!(middle.shape(), &[2, 12, 5]);
    let message = panic_message(|| {
        Flatten {
            start_dim: 3,
            end_dim: 1,
        }
        .forward(&store.constants(), &x);
    });
    assert!(
        message.contains("start_dim 3 and end_dim 1 do not fit an input of shape [2, 3, 4, 5]"),
        "{message}"
    );
}

fn panic_message(f: impl FnOnce()) -> String {
    let error =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("expected a panic");
    error
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| error.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn bad_shapes_give_messages_naming_what_was_expected() {
    let mut store = ParamStore::<f64>::new();
    let mut rng = StdRng::seed_from_u64(0);
    let conv = Conv2d::new(&mut store.root().sub("conv"), 3, 4, 3, &mut rng);
    let bn = BatchNorm::new_2d(&mut store.root().sub("bn"), 4);
    let params = store.constants();
    let x = |shape: &[usize]| Var::constant(ArrayD::<f64>::zeros(IxDyn(shape)));

    let channels = panic_message(|| {
        conv.forward(&params, &x(&[2, 5, 8, 8]));
    });
    assert!(
        channels.contains("expected input (N, 3, H, W), found shape [2, 5, 8, 8]"),
        "{channels}"
    );
    let rank = panic_message(|| {
        conv.forward(&params, &x(&[3, 8, 8]));
    });
    assert!(
        rank.contains("expected input (N, 3, H, W), found shape [3, 8, 8]"),
        "{rank}"
    );
    let small = panic_message(|| {
        conv.forward(&params, &x(&[1, 3, 2, 8]));
    });
    assert!(
        small.contains("is larger than the padded input [2, 8]"),
        "{small}"
    );
    let mut other = ParamStore::<f64>::new();
    let groups = panic_message(|| {
        Conv2d::with_options(
            &mut other.root().sub("g"),
            6,
            4,
            [3, 3],
            Conv2dOptions::default().groups(4),
            true,
            &mut rng,
        );
    });
    assert!(
        groups.contains("groups = 4 must divide both in_channels = 6 and out_channels = 4"),
        "{groups}"
    );
    let bn_rank = panic_message(|| {
        bn.forward(&params, &x(&[8, 4]));
    });
    assert!(
        bn_rank.contains("batch_norm2d: expected input (N, 4, H, W), found shape [8, 4]"),
        "{bn_rank}"
    );
}
