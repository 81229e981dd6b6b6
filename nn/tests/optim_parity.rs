//! Optimiser trajectories against PyTorch (`tests/reference/torch_nn.json`, float64): 8 steps
//! on `f(w) = Σ softplus(A w − b) + ½ |w|²` from `w0`, gradients from the autograd engine.

use autograd::prelude::*;
use ndarray::{Array1, Array2};
use serde_json::Value;
use wengert_nn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use wengert_nn::{ParamId, ParamStore};

const REFERENCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/reference/torch_nn.json"
));

fn vector(v: &Value) -> Array1<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Array1<f64>> = v.as_array().expect("rows").iter().map(vector).collect();
    let (n, m) = (rows.len(), rows[0].len());
    Array2::from_shape_fn((n, m), |(i, j)| rows[i][j])
}

fn number(kwargs: &Value, key: &str, default: f64) -> f64 {
    kwargs.get(key).and_then(Value::as_f64).unwrap_or(default)
}

/// The optimiser the reference ran, from its name and PyTorch keyword arguments (defaults as
/// PyTorch's).
fn optimizer(name: &str, kwargs: &Value, w: ParamId) -> Box<dyn Optimizer<f64>> {
    let lr = number(kwargs, "lr", f64::NAN);
    match name {
        "sgd" => Box::new(Sgd::new(
            [w],
            SgdConfig {
                lr,
                momentum: number(kwargs, "momentum", 0.0),
                dampening: number(kwargs, "dampening", 0.0),
                weight_decay: number(kwargs, "weight_decay", 0.0),
                nesterov: kwargs
                    .get("nesterov")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
        )),
        "adam" => Box::new(Adam::new(
            [w],
            AdamConfig {
                lr,
                weight_decay: number(kwargs, "weight_decay", 0.0),
                eps: number(kwargs, "eps", 1e-8),
                amsgrad: kwargs
                    .get("amsgrad")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                ..AdamConfig::default()
            },
        )),
        "adamw" => Box::new(AdamW::new(
            [w],
            AdamWConfig {
                lr,
                weight_decay: number(kwargs, "weight_decay", 1e-2),
                eps: number(kwargs, "eps", 1e-8),
                amsgrad: kwargs
                    .get("amsgrad")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                ..AdamWConfig::default()
            },
        )),
        "rmsprop" => Box::new(RmsProp::new(
            [w],
            RmsPropConfig {
                lr,
                alpha: number(kwargs, "alpha", 0.99),
                eps: number(kwargs, "eps", 1e-8),
                weight_decay: number(kwargs, "weight_decay", 0.0),
                momentum: number(kwargs, "momentum", 0.0),
                centered: kwargs
                    .get("centered")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
        )),
        other => panic!("unknown optimizer `{other}` in the reference file"),
    }
}

#[test]
fn optimizer_trajectories_match_pytorch() {
    let reference: Value = serde_json::from_str(REFERENCE).expect("valid JSON");
    assert_eq!(
        reference["objective_for_optimizers"],
        "f(w) = sum(softplus(A w - b)) + 0.5 * |w|^2"
    );
    let a = Var::constant(matrix(&reference["A"]));
    let b = Var::constant(vector(&reference["b"]));
    let w0 = vector(&reference["w0"]);
    let cases = reference["optimizers"].as_array().expect("a list");
    assert!(cases.len() >= 6);
    let mut worst = 0.0f64;
    for case in cases {
        let name = case["optimizer"].as_str().expect("a name");
        let mut store = ParamStore::<f64>::new();
        let w = store.root().param("w", w0.clone());
        let mut optimizer = optimizer(name, &case["kwargs"], w);
        for (t, expected) in case["w_after_each_step"]
            .as_array()
            .expect("steps")
            .iter()
            .enumerate()
        {
            let tape = Tape::new();
            let bound = store.bind(&tape);
            let f =
                (a.matmul(&bound[w]) - &b).softplus().sum_all() + bound[w].powi(2).sum_all() * 0.5;
            let grads = bound.gradients(&f);
            optimizer.step(&store, &grads);
            let expected = vector(expected);
            let actual = store.value(w);
            for (x, y) in actual.iter().zip(&expected) {
                let error = (x - y).abs() / y.abs().max(1.0);
                worst = worst.max(error);
                assert!(
                    error < 1e-12,
                    "{name} {}: step {}: w = {actual} but PyTorch has {expected}",
                    case["kwargs"],
                    t + 1
                );
            }
        }
    }
    eprintln!("worst relative error against PyTorch: {worst:e}");
}
