//! LSTM and GRU beyond the reference values: gradient checks of cells and multi-layer modules
//! (with a reset mask), second derivatives through an LSTM step, the reset mask's semantics,
//! truncated backpropagation through time, PyTorch's initialisation, checkpoint names that
//! `torch.nn.LSTM`/`GRU` load, and shape errors.

#[allow(dead_code)]
#[path = "../examples/recurrent_checkpoint.rs"]
mod recurrent_checkpoint;

use std::panic::{AssertUnwindSafe, catch_unwind};

use autograd::prelude::*;
use autograd::{gradcheck, gradgradcheck};
use ndarray::{Array2, ArrayD, IxDyn, s};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::Value;
use wengert_nn::{GRU, GRUCell, LSTM, LSTMCell, LSTMState, ParamStore};

fn normal(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || StandardNormal.sample(&mut rng))
}

fn flat(v: &Var<f64>) -> Var<f64> {
    v.reshape(&[v.size()])
}

/// The inputs of a gradient check: `leading` (input and states), then every parameter.
fn with_params(store: &ParamStore<f64>, leading: Vec<ArrayD<f64>>) -> Vec<SharedArray<f64>> {
    leading
        .into_iter()
        .map(|a| a.into_shared())
        .chain(store.ids().map(|id| store.value(id)))
        .collect()
}

/// The store bound with its parameters replaced by `vars[skip..]`, in store order.
fn bind_vars<'s>(
    store: &'s ParamStore<f64>,
    vars: &[Var<f64>],
    skip: usize,
) -> wengert_nn::Bound<'s, f64> {
    store.bind_with(store.ids().zip(vars[skip..].iter().cloned()))
}

/// A reset mask with starts at the first step (drops the initial state) and mid-sequence.
fn resets(steps: usize, batch: usize) -> Var<f64> {
    let mut m = Array2::<f64>::zeros((steps, batch));
    m[[0, 0]] = 1.0;
    m[[2, 1]] = 1.0;
    m[[2, batch - 1]] = 1.0;
    Var::constant(m)
}

#[test]
fn lstm_cell_passes_gradcheck() {
    let mut store = ParamStore::<f64>::new();
    let cell = LSTMCell::new(&mut store.root(), 2, 3, &mut StdRng::seed_from_u64(1));
    let f = |v: &[Var<f64>]| {
        let params = bind_vars(&store, v, 3);
        let s = LSTMState {
            h: v[1].clone(),
            c: v[2].clone(),
        };
        let next = cell.forward(&params, &v[0], Some(&s));
        Var::concat(&[&flat(&next.h), &flat(&next.c)], 0)
    };
    let inputs = with_params(
        &store,
        vec![normal(&[2, 2], 2), normal(&[2, 3], 3), normal(&[2, 3], 4)],
    );
    gradcheck(f, &inputs).unwrap();
}

#[test]
fn gru_cell_passes_gradcheck() {
    let mut store = ParamStore::<f64>::new();
    let cell = GRUCell::new(&mut store.root(), 2, 3, &mut StdRng::seed_from_u64(1));
    let f = |v: &[Var<f64>]| {
        let params = bind_vars(&store, v, 2);
        flat(&cell.forward(&params, &v[0], Some(&v[1])))
    };
    let inputs = with_params(&store, vec![normal(&[2, 2], 2), normal(&[2, 3], 3)]);
    gradcheck(f, &inputs).unwrap();
}

#[test]
fn multi_layer_lstm_with_resets_passes_gradcheck() {
    let mut store = ParamStore::<f64>::new();
    let lstm = LSTM::new(&mut store.root(), 2, 3, 2, &mut StdRng::seed_from_u64(1));
    let (steps, batch) = (4, 3);
    for mask in [None, Some(resets(steps, batch))] {
        let f = |v: &[Var<f64>]| {
            let params = bind_vars(&store, v, 3);
            let s = LSTMState {
                h: v[1].clone(),
                c: v[2].clone(),
            };
            let (out, last) = match &mask {
                Some(m) => lstm.forward_with_resets(&params, &v[0], Some(&s), m),
                None => lstm.forward(&params, &v[0], Some(&s)),
            };
            Var::concat(&[&flat(&out), &flat(&last.h), &flat(&last.c)], 0)
        };
        let inputs = with_params(
            &store,
            vec![
                normal(&[steps, batch, 2], 2),
                normal(&[2, batch, 3], 3),
                normal(&[2, batch, 3], 4),
            ],
        );
        gradcheck(f, &inputs).unwrap();
    }
}

#[test]
fn multi_layer_gru_with_resets_passes_gradcheck() {
    let mut store = ParamStore::<f64>::new();
    let gru = GRU::new(&mut store.root(), 2, 3, 2, &mut StdRng::seed_from_u64(1));
    let (steps, batch) = (4, 3);
    for mask in [None, Some(resets(steps, batch))] {
        let f = |v: &[Var<f64>]| {
            let params = bind_vars(&store, v, 2);
            let (out, h_n) = match &mask {
                Some(m) => gru.forward_with_resets(&params, &v[0], Some(&v[1]), m),
                None => gru.forward(&params, &v[0], Some(&v[1])),
            };
            Var::concat(&[&flat(&out), &flat(&h_n)], 0)
        };
        let inputs = with_params(
            &store,
            vec![normal(&[steps, batch, 2], 2), normal(&[2, batch, 3], 3)],
        );
        gradcheck(f, &inputs).unwrap();
    }
}

#[test]
fn second_derivatives_through_an_lstm_step_pass_gradgradcheck() {
    let mut store = ParamStore::<f64>::new();
    let cell = LSTMCell::new(&mut store.root(), 2, 2, &mut StdRng::seed_from_u64(5));
    let f = |v: &[Var<f64>]| {
        let params = bind_vars(&store, v, 3);
        let s = LSTMState {
            h: v[1].clone(),
            c: v[2].clone(),
        };
        let next = cell.forward(&params, &v[0], Some(&s));
        Var::concat(&[&flat(&next.h), &flat(&next.c)], 0)
    };
    let inputs = with_params(
        &store,
        vec![normal(&[2, 2], 6), normal(&[2, 2], 7), normal(&[2, 2], 8)],
    );
    gradgradcheck(f, &inputs).unwrap();
}

fn assert_close(what: &str, a: &ArrayD<f64>, b: &ArrayD<f64>) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-14 * (1.0 + y.abs()),
            "{what}: {x} against {y}"
        );
    }
}

/// A batch where sequence 1 restarts at step `cut` and sequence 2 at step 0 gives, for those
/// sequences, what two separate runs give: steps `..cut` from the initial state, steps `cut..`
/// from the zero state. The gradient of the later outputs stops at the reset.
#[test]
fn a_reset_inside_a_sequence_equals_two_separate_sequences() {
    let (steps, batch, input, hidden, cut) = (6, 3, 2, 3, 4);
    let mut starts = Array2::<f64>::zeros((steps, batch));
    starts[[cut, 1]] = 1.0;
    starts[[0, 2]] = 1.0;
    let starts = Var::constant(starts);
    let mut store = ParamStore::<f64>::new();
    let mut rng = StdRng::seed_from_u64(3);
    let lstm = LSTM::new(&mut store.root().sub("lstm"), input, hidden, 2, &mut rng);
    let gru = GRU::new(&mut store.root().sub("gru"), input, hidden, 2, &mut rng);
    let x = normal(&[steps, batch, input], 4);
    let (h0, c0) = (
        normal(&[2, batch, hidden], 5),
        normal(&[2, batch, hidden], 6),
    );
    let params = store.constants();
    let part = |a: &ArrayD<f64>, t: std::ops::Range<usize>, n: usize| {
        Var::constant(a.slice(s![t, n..n + 1, ..]).to_owned())
    };
    // (outputs of the masked run, then for each sequence n what separate runs give)
    let lstm_run = |x: &Var<f64>, state: Option<&LSTMState<f64>>, m: Option<&Var<f64>>| {
        let (out, _) = match m {
            Some(m) => lstm.forward_with_resets(&params, x, state, m),
            None => lstm.forward(&params, x, state),
        };
        out.value().to_owned()
    };
    let gru_run = |x: &Var<f64>, h: Option<&Var<f64>>, m: Option<&Var<f64>>| {
        let (out, _) = match m {
            Some(m) => gru.forward_with_resets(&params, x, h, m),
            None => gru.forward(&params, x, h),
        };
        out.value().to_owned()
    };
    let state_of = |n: usize| LSTMState {
        h: part(&h0, 0..2, n),
        c: part(&c0, 0..2, n),
    };
    let xs = Var::constant(x.clone());
    let full = LSTMState {
        h: Var::constant(h0.clone()),
        c: Var::constant(c0.clone()),
    };
    let masked = lstm_run(&xs, Some(&full), Some(&starts));
    let masked_gru = gru_run(&xs, Some(&full.h), Some(&starts));
    let column = |a: &ArrayD<f64>, t: std::ops::Range<usize>, n: usize| {
        a.slice(s![t, n..n + 1, ..]).to_owned().into_dyn()
    };

    // sequence 0: no reset
    assert_close(
        "lstm, no reset",
        &column(&masked, 0..steps, 0),
        &lstm_run(&part(&x, 0..steps, 0), Some(&state_of(0)), None),
    );
    assert_close(
        "gru, no reset",
        &column(&masked_gru, 0..steps, 0),
        &gru_run(&part(&x, 0..steps, 0), Some(&state_of(0).h), None),
    );
    // sequence 1: restarts at `cut`
    assert_close(
        "lstm, before the reset",
        &column(&masked, 0..cut, 1),
        &lstm_run(&part(&x, 0..cut, 1), Some(&state_of(1)), None),
    );
    assert_close(
        "lstm, after the reset",
        &column(&masked, cut..steps, 1),
        &lstm_run(&part(&x, cut..steps, 1), None, None),
    );
    assert_close(
        "gru, before the reset",
        &column(&masked_gru, 0..cut, 1),
        &gru_run(&part(&x, 0..cut, 1), Some(&state_of(1).h), None),
    );
    assert_close(
        "gru, after the reset",
        &column(&masked_gru, cut..steps, 1),
        &gru_run(&part(&x, cut..steps, 1), None, None),
    );
    // sequence 2: a reset at step 0 drops the initial state
    assert_close(
        "lstm, reset at 0",
        &column(&masked, 0..steps, 2),
        &lstm_run(&part(&x, 0..steps, 2), None, None),
    );
    assert_close(
        "gru, reset at 0",
        &column(&masked_gru, 0..steps, 2),
        &gru_run(&part(&x, 0..steps, 2), None, None),
    );

    // No gradient crosses the reset: outputs after it do not depend on anything before it.
    let tape = Tape::<f64>::new();
    let bound = store.bind(&tape);
    let xv = tape.var(x.clone());
    let (h0v, c0v) = (tape.var(h0.clone()), tape.var(c0.clone()));
    let state = LSTMState {
        h: h0v.clone(),
        c: c0v.clone(),
    };
    let (out, _) = lstm.forward_with_resets(&bound, &xv, Some(&state), &starts);
    let (out_gru, _) = gru.forward_with_resets(&bound, &xv, Some(&h0v), &starts);
    let after = (out.slice(0, cut, steps).slice(1, 1, 2).sum_all()
        + out_gru.slice(0, cut, steps).slice(1, 1, 2).sum_all())
    .sum_all();
    let [dx, dh0, dc0] = grad(&[&after], &[&xv, &h0v, &c0v]).try_into().unwrap();
    assert!(
        dx.slice(s![..cut, 1, ..]).iter().all(|&g| g == 0.0),
        "inputs before the reset"
    );
    assert!(
        dx.slice(s![cut.., 1, ..]).iter().any(|&g| g != 0.0),
        "inputs after it"
    );
    assert!(
        dh0.iter().chain(dc0.iter()).all(|&g| g == 0.0),
        "the initial state"
    );
    // and without the mask it does
    let (out, _) = lstm.forward(&bound, &xv, Some(&state));
    let later = out.slice(0, cut, steps).slice(1, 1, 2).sum_all();
    let [dx] = grad(&[&later], &[&xv]).try_into().unwrap();
    assert!(dx.slice(s![..cut, 1, ..]).iter().any(|&g| g != 0.0));
}

/// Truncated BPTT: the second chunk starts from the first chunk's final state, detached. Its
/// loss then gives zero gradient to the first chunk's inputs and initial state, and the same
/// parameter gradient as a run of the second chunk alone from that state as a constant; without
/// the cut the gradient reaches the first chunk.
#[test]
fn truncated_bptt_gives_zero_gradient_past_the_cut() {
    let (steps, batch, input, hidden) = (5, 2, 3, 4);
    let mut store = ParamStore::<f64>::new();
    let lstm = LSTM::new(
        &mut store.root().sub("lstm"),
        input,
        hidden,
        2,
        &mut StdRng::seed_from_u64(9),
    );
    let gru = GRU::new(
        &mut store.root().sub("gru"),
        input,
        hidden,
        2,
        &mut StdRng::seed_from_u64(10),
    );
    let (x1, x2) = (
        normal(&[steps, batch, input], 1),
        normal(&[steps, batch, input], 2),
    );
    let h0 = normal(&[2, batch, hidden], 3);

    let chunked = |cut: bool| {
        let tape = Tape::<f64>::new();
        let params = store.bind(&tape);
        let (first, second, h0v) = (
            tape.var(x1.clone()),
            tape.var(x2.clone()),
            tape.var(h0.clone()),
        );
        let start = LSTMState {
            h: h0v.clone(),
            c: h0v.clone(),
        };
        let (_, s) = lstm.forward(&params, &first, Some(&start));
        let (_, h) = gru.forward(&params, &first, Some(&h0v));
        let (s, h) = if cut {
            (s.detach(), h.detach())
        } else {
            (s, h)
        };
        let (out, _) = lstm.forward(&params, &second, Some(&s));
        let (out_gru, _) = gru.forward(&params, &second, Some(&h));
        let loss = (out.powi(2).sum_all() + out_gru.powi(2).sum_all()).sum_all();
        let [d_first, d_h0] = grad(&[&loss], &[&first, &h0v]).try_into().unwrap();
        (d_first, d_h0, params.gradients(&loss), s, h)
    };
    let (d_first, d_h0, with_cut, s, h) = chunked(true);
    assert!(d_first.iter().chain(d_h0.iter()).all(|&g| g == 0.0));
    let (d_first, _, _, _, _) = chunked(false);
    assert!(
        d_first.iter().any(|&g| g != 0.0),
        "without the cut the gradient reaches chunk 1"
    );

    let tape = Tape::<f64>::new();
    let params = store.bind(&tape);
    let second = Var::constant(x2.clone());
    let (out, _) = lstm.forward(&params, &second, Some(&s));
    let (out_gru, _) = gru.forward(&params, &second, Some(&h));
    let alone = params.gradients(&(out.powi(2).sum_all() + out_gru.powi(2).sum_all()).sum_all());
    for id in store.ids() {
        assert_eq!(with_cut[id], alone[id], "{}", store.name(id));
    }
}

#[test]
fn parameters_follow_pytorchs_default_initialisation() {
    let hidden = 64;
    let bound = 1.0 / (hidden as f64).sqrt();
    let mut store = ParamStore::<f64>::new();
    let mut rng = StdRng::seed_from_u64(0);
    LSTM::new(&mut store.root().sub("lstm"), 8, hidden, 2, &mut rng);
    GRU::new(&mut store.root().sub("gru"), 8, hidden, 1, &mut rng);
    assert_eq!(store.len(), 8 + 4);
    for id in store.ids() {
        let v = store.value(id);
        let (min, max) = v
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let mean = v.sum() / v.len() as f64;
        // U(−k, k): inside the bounds, reaching near both, mean ≈ 0 (σ/√n ≈ 0.036/√n·…).
        assert!(
            min >= -bound && max <= bound,
            "{}: [{min}, {max}] outside ±{bound}",
            store.name(id)
        );
        assert!(
            min < -0.9 * bound && max > 0.9 * bound,
            "{}: [{min}, {max}]",
            store.name(id)
        );
        assert!(mean.abs() < 0.2 * bound, "{}: mean {mean}", store.name(id));
    }
}

/// The names, shapes and dtypes `nn::checkpoint::save` writes for each model are those of the
/// PyTorch module's `state_dict()`, as listed by `nn/tools/recurrent_checkpoint.py names`
/// (float32 modules, compared with an f32 store; the f64 store writes `F64` under the same
/// names). `recurrent_checkpoint.py check` loads the files into PyTorch and runs them.
#[test]
fn checkpoint_names_shapes_and_dtypes_are_pytorchs() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/recurrent_state_dict.json"
    );
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let directory = std::env::temp_dir().join(format!("wengert-recurrent-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    recurrent_checkpoint::write_all::<f32>(&directory, "_f32").unwrap();
    recurrent_checkpoint::write_all::<f64>(&directory, "").unwrap();
    for name in recurrent_checkpoint::MODELS {
        let torch = expected["models"][name].as_array().unwrap();
        for (suffix, dtype) in [
            ("_f32", safetensors::Dtype::F32),
            ("", safetensors::Dtype::F64),
        ] {
            let bytes =
                std::fs::read(directory.join(format!("{name}{suffix}.safetensors"))).unwrap();
            let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let mut written: Vec<String> = file.names().into_iter().map(str::to_string).collect();
            let mut wanted: Vec<String> = torch
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect();
            written.sort();
            wanted.sort();
            assert_eq!(written, wanted, "{name}{suffix}: the state dict's names");
            for entry in torch {
                let tensor = file.tensor(entry["name"].as_str().unwrap()).unwrap();
                let shape: Vec<usize> = serde_json::from_value(entry["shape"].clone()).unwrap();
                assert_eq!(tensor.shape(), shape, "{name}{suffix}: {}", entry["name"]);
                assert_eq!(tensor.dtype(), dtype, "{name}{suffix}: {}", entry["name"]);
                if suffix == "_f32" {
                    assert_eq!(entry["dtype"], "float32");
                }
            }
        }
    }
    std::fs::remove_dir_all(&directory).unwrap();
}

/// The panic message of `f`.
fn message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap()
}

#[test]
fn bad_shapes_give_errors_naming_the_expected_shape() {
    let mut store = ParamStore::<f64>::new();
    let mut rng = StdRng::seed_from_u64(0);
    let lstm = LSTM::new(&mut store.root().sub("lstm"), 3, 4, 2, &mut rng);
    let gru = GRU::new(&mut store.root().sub("gru"), 3, 4, 1, &mut rng);
    let lstm_cell = LSTMCell::new(&mut store.root().sub("lstm_cell"), 3, 4, &mut rng);
    let gru_cell = GRUCell::new(&mut store.root().sub("gru_cell"), 3, 4, &mut rng);
    let p = store.constants();
    let zeros = |shape: &[usize]| Var::constant(ArrayD::<f64>::zeros(IxDyn(shape)));
    let x = zeros(&[5, 2, 3]);
    let state = |shape: &[usize]| LSTMState {
        h: zeros(shape),
        c: zeros(shape),
    };

    let cases: Vec<(String, &str)> = vec![
        (
            message(|| drop(lstm.forward(&p, &zeros(&[5, 3]), None))),
            "lstm: expected input of shape (T, N, 3) = (sequence length ≥ 1, batch, input_size), found [5, 3]",
        ),
        (
            message(|| drop(lstm.forward(&p, &zeros(&[5, 2, 4]), None))),
            "found [5, 2, 4]",
        ),
        (
            message(|| drop(gru.forward(&p, &zeros(&[0, 2, 3]), None))),
            "gru: expected input of shape (T, N, 3)",
        ),
        (
            message(|| drop(lstm.forward(&p, &x, Some(&state(&[1, 2, 4]))))),
            "lstm: expected h0 of shape (num_layers, N, hidden_size) = [2, 2, 4], found [1, 2, 4]",
        ),
        (
            message(|| {
                drop(lstm.forward(
                    &p,
                    &x,
                    Some(&LSTMState {
                        h: zeros(&[2, 2, 4]),
                        c: zeros(&[2, 2, 5]),
                    }),
                ))
            }),
            "lstm: expected c0 of shape (num_layers, N, hidden_size) = [2, 2, 4], found [2, 2, 5]",
        ),
        (
            message(|| drop(gru.forward(&p, &x, Some(&zeros(&[1, 3, 4]))))),
            "gru: expected h0 of shape (num_layers, N, hidden_size) = [1, 2, 4], found [1, 3, 4]",
        ),
        (
            message(|| drop(lstm.forward_with_resets(&p, &x, None, &zeros(&[2, 5])))),
            "lstm: expected a reset mask of shape (T, N) = [5, 2], found [2, 5]",
        ),
        (
            message(|| {
                drop(gru.forward_with_resets(
                    &p,
                    &x,
                    None,
                    &Var::constant(Array2::from_elem((5, 2), 0.5)),
                ))
            }),
            "gru: the reset mask holds 0.5; expected 0 (carry the state) or 1 (reset)",
        ),
        (
            message(|| drop(lstm_cell.forward(&p, &x, None))),
            "lstm_cell: expected input of shape (N, 3) = (batch, input_size), found [5, 2, 3]",
        ),
        (
            message(|| drop(lstm_cell.forward(&p, &zeros(&[2, 3]), Some(&state(&[2, 5]))))),
            "lstm_cell: expected h of shape (N, hidden_size) = [2, 4], found [2, 5]",
        ),
        (
            message(|| drop(gru_cell.forward(&p, &zeros(&[2, 3]), Some(&zeros(&[3, 4]))))),
            "gru_cell: expected h of shape (N, hidden_size) = [2, 4], found [3, 4]",
        ),
    ];
    for (got, want) in cases {
        assert!(
            got.contains(want),
            "message {got:?} does not contain {want:?}"
        );
    }
}
