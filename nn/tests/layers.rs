//! Layers: BatchNorm against PyTorch, gradient checks of every layer (first and second order),
//! train/eval switching, freezing and target-network updates.

use autograd::gradcheck::{Tolerance, directional_check};
use autograd::prelude::*;
use autograd::{gradcheck, gradgradcheck};
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use wengert_nn::{Activation, BatchNorm, Init, LayerNorm, Linear, Mlp, Module, ParamStore};

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/reference/torch_nn.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A nested JSON list of numbers as an array of `shape`.
fn array(value: &Value, shape: &[usize]) -> ArrayD<f64> {
    fn flatten(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            Value::Number(n) => out.push(n.as_f64().unwrap()),
            other => panic!("expected numbers, found {other}"),
        }
    }
    let mut flat = Vec::new();
    flatten(value, &mut flat);
    ArrayD::from_shape_vec(IxDyn(shape), flat).unwrap()
}

fn assert_close(a: &ArrayD<f64>, b: &ArrayD<f64>, tolerance: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (x, y) in a.iter().zip(b.iter()) {
        assert!(
            (x - y).abs() <= tolerance * (1.0 + y.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

#[test]
fn batch_norm_matches_pytorch_in_train_and_eval_mode() {
    let reference = reference();
    for case in reference["batchnorm"].as_array().unwrap() {
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let channels = shape[1];
        let mut store = ParamStore::<f64>::new();
        let bn = BatchNorm::new(&mut store.root().sub("bn"), channels)
            .with_momentum(case["momentum"].as_f64().unwrap())
            .with_eps(case["eps"].as_f64().unwrap());
        store.set(bn.weight, array(&case["weight"], &[channels]));
        store.set(bn.bias, array(&case["bias"], &[channels]));
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let x = Var::constant(array(&step["x"], &shape));
            let y = bn.forward(&store.constants(), &x);
            assert_close(
                &y.value().to_owned(),
                &array(&step["y_train"], &shape),
                1e-12,
                &format!("{shape:?} step {i} y"),
            );
            assert_close(
                &store.value(bn.running_mean).to_owned(),
                &array(&step["running_mean"], &[channels]),
                1e-12,
                "running_mean",
            );
            assert_close(
                &store.value(bn.running_var).to_owned(),
                &array(&step["running_var"], &[channels]),
                1e-12,
                "running_var",
            );
        }
        store.set_training(false);
        let before = store.value(bn.running_mean);
        let y = bn.forward(
            &store.constants(),
            &Var::constant(array(&case["x_eval"], &shape)),
        );
        assert_close(
            &y.value().to_owned(),
            &array(&case["y_eval"], &shape),
            1e-12,
            "y_eval",
        );
        assert_eq!(
            store.value(bn.running_mean),
            before,
            "eval mode must not update running statistics"
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

/// Checks a module's output against finite differences, in its input and in its parameters
/// (substituted for the stored ones with `bind_with`, so the check can perturb them).
fn check_module(
    name: &str,
    store: &ParamStore<f64>,
    module: &dyn Module<f64>,
    x: SharedArray<f64>,
) {
    let ids: Vec<_> = store.trainable().collect();
    let mut inputs = vec![x];
    inputs.extend(ids.iter().map(|&id| store.value(id)));
    let f = |v: &[Var<f64>]| {
        let bound = store.bind_with(ids.iter().copied().zip(v[1..].iter().cloned()));
        module.forward(&bound, &v[0]).tanh()
    };
    if let Err(e) = gradcheck(f, &inputs) {
        panic!("{name}: {e}");
    }
    if let Err(e) = gradgradcheck(f, &inputs) {
        panic!("{name}: {e}");
    }
}

#[test]
fn every_layer_passes_gradcheck_and_gradgradcheck() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut store = ParamStore::<f64>::new();
    let linear = Linear::new(&mut store.root().sub("linear"), 3, 2, &mut rng);
    check_module("linear", &store, &linear, random(&[4, 3], 1));

    let mut store = ParamStore::<f64>::new();
    let mlp = Mlp::builder(&[3, 5, 2])
        .activation(Activation::Tanh)
        .build(&mut store.root().sub("mlp"), &mut rng);
    check_module("mlp", &store, &mlp, random(&[4, 3], 2));

    let mut store = ParamStore::<f64>::new();
    let norm = LayerNorm::new(&mut store.root().sub("ln"), 4);
    store.set(norm.weight, random(&[4], 3));
    store.set(norm.bias, random(&[4], 4));
    check_module("layer_norm", &store, &norm, random(&[3, 4], 5));

    let mut store = ParamStore::<f64>::new();
    let bn = BatchNorm::new(&mut store.root().sub("bn"), 3);
    store.set(bn.weight, random(&[3], 6));
    check_module("batch_norm train (N, C)", &store, &bn, random(&[5, 3], 7));
    check_module(
        "batch_norm train (N, C, L)",
        &store,
        &bn,
        random(&[4, 3, 2], 8),
    );
    store.set_training(false);
    check_module("batch_norm eval", &store, &bn, random(&[4, 3], 9));
}

#[test]
fn directional_check_on_a_whole_network() {
    let mut rng = StdRng::seed_from_u64(10);
    let mut store = ParamStore::<f64>::new();
    let mlp = Mlp::builder(&[17, 64, 64, 6])
        .activation(Activation::Tanh)
        .build(&mut store.root().sub("mlp"), &mut rng);
    let ids: Vec<_> = store.trainable().collect();
    let mut inputs = vec![random(&[32, 17], 11)];
    inputs.extend(ids.iter().map(|&id| store.value(id)));
    let f = |v: &[Var<f64>]| {
        let bound = store.bind_with(ids.iter().copied().zip(v[1..].iter().cloned()));
        mlp.forward(&bound, &v[0]).powi(2).mean_all()
    };
    let result = directional_check(f, &inputs, 3, Tolerance::default()).unwrap();
    assert!(result.analytic.abs() > 1e-6);
}

#[test]
fn frozen_parameters_get_no_gradient() {
    let mut rng = StdRng::seed_from_u64(12);
    let mut store = ParamStore::<f64>::new();
    let encoder = Linear::new(&mut store.root().sub("encoder"), 3, 3, &mut rng);
    let head = Linear::new(&mut store.root().sub("head"), 3, 1, &mut rng);
    store.freeze("encoder", true);
    let tape = Tape::new();
    let params = store.bind(&tape);
    let x = Var::constant(random(&[2, 3], 13));
    let loss = head
        .forward(&params, &encoder.forward(&params, &x))
        .powi(2)
        .sum_all();
    let grads = params.gradients(&loss);
    assert!(grads.get(encoder.weight).is_none());
    assert!(grads.get(head.weight).is_some());
    assert_eq!(store.trainable().count(), 2);
}

#[test]
fn hard_and_polyak_target_updates_match_by_name() {
    let mut rng = StdRng::seed_from_u64(14);
    let mut online = ParamStore::<f64>::new();
    let q = Mlp::builder(&[2, 4, 1]).build(&mut online.root().sub("q"), &mut rng);
    let target = online.clone();
    let w = q.layers[0].weight;
    let before = target.value(w).to_owned();
    online.set(w, online.value(w).mapv(|v| v + 1.0));
    target.polyak_from(&online, 0.005);
    assert_close(
        &target.value(w).to_owned(),
        &before.mapv(|v| v + 0.005),
        1e-15,
        "polyak",
    );
    target.copy_from(&online);
    assert_eq!(target.value(w), online.value(w));
}
