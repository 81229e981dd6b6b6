//! LSTM and GRU against PyTorch (float64): outputs, final states and the gradient of the probe
//! loss `L = Σ output·probe_output + Σ h_n·probe_h (+ Σ c_n·probe_c)` with respect to the
//! input, the initial state and every weight, for every case in `nn/tests/data/` (the shared
//! `sequence_models.json` cases and `recurrent_extra.json`: more layers, no bias, reset masks,
//! cells). Exact to round-off in f64; within f32 round-off in f32.

use autograd::prelude::*;
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use serde_json::Value;
use wengert_nn::{GRU, GRUCell, LSTM, LSTMCell, LSTMState, ParamStore};

fn data(file: &str) -> Value {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("reading the reference"))
        .expect("parsing the reference")
}

/// Every case of both reference files.
fn cases() -> Vec<Value> {
    let shared = data("sequence_models_recurrent.json");
    let extra = data("recurrent_extra.json");
    let mut all = shared["recurrent"].as_array().unwrap().clone();
    all.extend(extra["recurrent"].as_array().unwrap().iter().cloned());
    assert_eq!(all.len(), 11, "3 shared cases and 8 extra");
    all
}

/// A nested JSON list of numbers as an array (its shape from the nesting).
fn array<T: Float>(value: &Value) -> ArrayD<T> {
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
    ArrayD::from_shape_vec(IxDyn(&shape), flat)
        .unwrap()
        .mapv(T::from_f64)
}

/// `|actual − expected| ≤ tolerance · max(|expected|, floor)`, element by element.
fn assert_close<T: Float>(
    what: &str,
    actual: &ArrayD<T>,
    expected: &Value,
    tolerance: f64,
    floor: f64,
) {
    let expected = array::<f64>(expected);
    assert_eq!(actual.shape(), expected.shape(), "{what}: shape");
    for (a, e) in actual.iter().zip(&expected) {
        let a = a.as_f64();
        let bound = tolerance * e.abs().max(floor);
        assert!(
            (a - e).abs() <= bound,
            "{what}: {a} against PyTorch {e} (difference {:e}, allowed {bound:e})",
            (a - e).abs()
        );
    }
}

/// The recurrent layer of a case, with the case's weights.
enum Layer {
    Lstm(LSTM),
    Gru(GRU),
    LstmCell(LSTMCell),
    GruCell(GRUCell),
}

fn build<T: Float>(case: &Value) -> (ParamStore<T>, Layer) {
    let size = |key: &str| case[key].as_u64().unwrap() as usize;
    let (input, hidden, layers) = (size("input_size"), size("hidden_size"), size("num_layers"));
    let bias = case["bias"].as_bool().unwrap();
    let cell = case["cell"].as_bool().unwrap_or(false);
    let mut store = ParamStore::<T>::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let root = &mut store.root();
    let layer = match (case["kind"].as_str().unwrap(), cell) {
        ("lstm", false) => {
            Layer::Lstm(LSTM::with_bias(root, input, hidden, layers, bias, &mut rng))
        }
        ("gru", false) => Layer::Gru(GRU::with_bias(root, input, hidden, layers, bias, &mut rng)),
        ("lstm", true) => Layer::LstmCell(LSTMCell::with_bias(root, input, hidden, bias, &mut rng)),
        ("gru", true) => Layer::GruCell(GRUCell::with_bias(root, input, hidden, bias, &mut rng)),
        (kind, _) => panic!("unknown kind {kind}"),
    };
    let weights = case["weights"].as_object().unwrap();
    assert_eq!(
        store.len(),
        weights.len(),
        "the same parameters as PyTorch's"
    );
    for (name, value) in weights {
        let id = store
            .id(name)
            .unwrap_or_else(|| panic!("no parameter named {name}"));
        store.set(id, array::<T>(value));
    }
    (store, layer)
}

/// Runs a case: the outputs, final states and the gradients the reference lists, by name.
struct Run<T> {
    output: ArrayD<T>,
    h_n: ArrayD<T>,
    c_n: Option<ArrayD<T>>,
    loss: T,
    grads: Vec<(String, ArrayD<T>)>,
}

fn run<T: Float>(case: &Value) -> Run<T> {
    let (store, layer) = build::<T>(case);
    let tape = Tape::<T>::new();
    let params = store.bind(&tape);
    let x = tape.var(array::<T>(&case["input"]));
    let h0 = (!case["h0"].is_null()).then(|| tape.var(array::<T>(&case["h0"])));
    let c0 = (!case["c0"].is_null()).then(|| tape.var(array::<T>(&case["c0"])));
    let resets = case
        .get("resets")
        .filter(|r| !r.is_null())
        .map(|r| Var::constant(array::<T>(r)));
    let lstm_state = || {
        h0.clone().map(|h| LSTMState {
            h,
            c: c0.clone().unwrap(),
        })
    };
    let (output, h_n, c_n) = match &layer {
        Layer::Lstm(lstm) => {
            let (out, s) = match &resets {
                Some(m) => lstm.forward_with_resets(&params, &x, lstm_state().as_ref(), m),
                None => lstm.forward(&params, &x, lstm_state().as_ref()),
            };
            (out, s.h, Some(s.c))
        }
        Layer::Gru(gru) => {
            let (out, h) = match &resets {
                Some(m) => gru.forward_with_resets(&params, &x, h0.as_ref(), m),
                None => gru.forward(&params, &x, h0.as_ref()),
            };
            (out, h, None)
        }
        Layer::LstmCell(cell) => {
            let state = lstm_state().map(|s| LSTMState {
                h: s.h.squeeze(0),
                c: s.c.squeeze(0),
            });
            let s = cell.forward(&params, &x.squeeze(0), state.as_ref());
            (s.h.unsqueeze(0), s.h.unsqueeze(0), Some(s.c.unsqueeze(0)))
        }
        Layer::GruCell(cell) => {
            let h = cell.forward(
                &params,
                &x.squeeze(0),
                h0.as_ref().map(|h| h.squeeze(0)).as_ref(),
            );
            (h.unsqueeze(0), h.unsqueeze(0), None)
        }
    };
    let probe = |key: &str| Var::constant(array::<T>(&case[key]));
    let mut loss =
        (&output * probe("probe_output")).sum_all() + (&h_n * probe("probe_h")).sum_all();
    if let Some(c_n) = &c_n {
        loss = loss + (c_n * probe("probe_c")).sum_all();
    }
    let mut names: Vec<String> = vec!["input".into()];
    let mut vars: Vec<Var<T>> = vec![x.clone()];
    for (name, var) in [("h0", &h0), ("c0", &c0)] {
        if let Some(v) = var {
            names.push(name.into());
            vars.push(v.clone());
        }
    }
    for id in store.ids() {
        names.push(store.name(id).to_string());
        vars.push(params[id].clone());
    }
    let refs: Vec<&Var<T>> = vars.iter().collect();
    let grads = grad(&[&loss], &refs)
        .into_iter()
        .map(|g| g.to_owned())
        .collect::<Vec<_>>();
    Run {
        output: output.value().to_owned(),
        h_n: h_n.value().to_owned(),
        c_n: c_n.map(|c| c.value().to_owned()),
        loss: loss.item(),
        grads: names.into_iter().zip(grads).collect(),
    }
}

fn label(case: &Value, i: usize) -> String {
    format!(
        "case {i} ({}{} {} layer(s), bias {}{})",
        case["kind"].as_str().unwrap(),
        if case["cell"].as_bool().unwrap_or(false) {
            " cell"
        } else {
            ""
        },
        case["num_layers"],
        case["bias"],
        if case.get("resets").is_some_and(|r| !r.is_null()) {
            ", resets"
        } else {
            ""
        }
    )
}

fn check_all<T: Float>(tolerance: f64, floor: f64) {
    for (i, case) in cases().iter().enumerate() {
        let label = label(case, i);
        let run = run::<T>(case);
        let close = |what: &str, actual: &ArrayD<T>, expected: &Value| {
            assert_close(
                &format!("{label}: {what}"),
                actual,
                expected,
                tolerance,
                floor,
            )
        };
        close("output", &run.output, &case["output"]);
        close("h_n", &run.h_n, &case["h_n"]);
        if let Some(c_n) = &run.c_n {
            close("c_n", c_n, &case["c_n"]);
        }
        let loss = ndarray::arr0(run.loss).into_dyn();
        close("loss", &loss, &case["loss"]);
        let expected = case["grad"].as_object().unwrap();
        assert_eq!(run.grads.len(), expected.len(), "{label}: every gradient");
        for (name, g) in &run.grads {
            close(&format!("∂L/∂{name}"), g, &expected[name]);
        }
    }
}

#[test]
fn lstm_and_gru_agree_with_pytorch_to_round_off_in_f64() {
    // Relative 1e-10, with an absolute floor far below any value that is not round-off.
    check_all::<f64>(1e-10, 1e-6);
}

#[test]
fn lstm_and_gru_agree_with_pytorch_to_f32_round_off() {
    check_all::<f32>(1e-4, 1e-2);
}
