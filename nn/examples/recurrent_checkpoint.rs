//! Writes nn's recurrent models as checkpoints for PyTorch: each model's parameters
//! (`<name>.safetensors`, by `nn::checkpoint::save`, with the store's root as the module's
//! root, so the names are `torch.nn.LSTM`'s own: `weight_ih_l0`, …) and the input, initial
//! state, outputs and final state nn computed (`<name>_io.safetensors`), in float64 and, with
//! the suffix `_f32`, float32.
//!
//! `nn/tools/recurrent_checkpoint.py check DIR` loads each into a fresh PyTorch module with
//! `load_state_dict(strict=True)` and compares PyTorch's outputs with nn's.
//!
//! ```text
//! cargo run --release -p wengert-nn --example recurrent_checkpoint -- /tmp/recurrent
//! ```

use std::path::Path;

use autograd::prelude::*;
use ndarray::ArrayD;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use wengert_nn::checkpoint::{self, CheckpointError};
use wengert_nn::{GRU, GRUCell, LSTM, LSTMCell, LSTMState, ParamStore};

/// The models, as `nn/tools/recurrent_checkpoint.py` names and builds them in PyTorch.
pub const MODELS: [&str; 5] = ["lstm", "gru", "lstm_no_bias", "lstm_cell", "gru_cell"];

/// Sizes shared by every model: input 3, hidden 5; sequences of 4 steps, batch 2.
const INPUT: usize = 3;
const HIDDEN: usize = 5;
const STEPS: usize = 4;
const BATCH: usize = 2;

pub enum Model {
    Lstm(LSTM),
    Gru(GRU),
    LstmCell(LSTMCell),
    GruCell(GRUCell),
}

/// The model `name` (one of [`MODELS`]) at the root of a new store.
pub fn build<T: Float>(name: &str, seed: u64) -> (ParamStore<T>, Model) {
    let mut store = ParamStore::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let root = &mut store.root();
    let model = match name {
        "lstm" => Model::Lstm(LSTM::new(root, INPUT, HIDDEN, 2, &mut rng)),
        "gru" => Model::Gru(GRU::new(root, INPUT, HIDDEN, 2, &mut rng)),
        "lstm_no_bias" => Model::Lstm(LSTM::with_bias(root, INPUT, HIDDEN, 1, false, &mut rng)),
        "lstm_cell" => Model::LstmCell(LSTMCell::new(root, INPUT, HIDDEN, &mut rng)),
        "gru_cell" => Model::GruCell(GRUCell::new(root, INPUT, HIDDEN, &mut rng)),
        other => panic!("no model named {other}; expected one of {MODELS:?}"),
    };
    (store, model)
}

fn normal<T: Float>(shape: &[usize], rng: &mut rand::rngs::StdRng) -> Var<T> {
    let values =
        ArrayD::from_shape_simple_fn(shape, || T::from_f64(StandardNormal.sample(&mut *rng)));
    Var::constant(values)
}

/// The model on a random input and initial state: `(name, array)` for the input, `h0`
/// (and `c0`), and the outputs (`output` for a sequence module), `h_n` (and `c_n`).
pub fn run<T: Float>(
    store: &ParamStore<T>,
    model: &Model,
    seed: u64,
) -> Vec<(&'static str, Var<T>)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let params = store.constants();
    let (sequence, state) = ([STEPS, BATCH, INPUT], [BATCH, HIDDEN]);
    let layered = |layers: usize| [layers, BATCH, HIDDEN];
    match model {
        Model::Lstm(lstm) => {
            let x = normal(&sequence, &mut rng);
            let s = LSTMState {
                h: normal(&layered(lstm.num_layers()), &mut rng),
                c: normal(&layered(lstm.num_layers()), &mut rng),
            };
            let (output, last) = lstm.forward(&params, &x, Some(&s));
            vec![
                ("input", x),
                ("h0", s.h),
                ("c0", s.c),
                ("output", output),
                ("h_n", last.h),
                ("c_n", last.c),
            ]
        }
        Model::Gru(gru) => {
            let x = normal(&sequence, &mut rng);
            let h0 = normal(&layered(gru.num_layers()), &mut rng);
            let (output, h_n) = gru.forward(&params, &x, Some(&h0));
            vec![("input", x), ("h0", h0), ("output", output), ("h_n", h_n)]
        }
        Model::LstmCell(cell) => {
            let x = normal(&[BATCH, INPUT], &mut rng);
            let s = LSTMState {
                h: normal(&state, &mut rng),
                c: normal(&state, &mut rng),
            };
            let next = cell.forward(&params, &x, Some(&s));
            vec![
                ("input", x),
                ("h0", s.h),
                ("c0", s.c),
                ("h_n", next.h),
                ("c_n", next.c),
            ]
        }
        Model::GruCell(cell) => {
            let x = normal(&[BATCH, INPUT], &mut rng);
            let h0 = normal(&state, &mut rng);
            let h = cell.forward(&params, &x, Some(&h0));
            vec![("input", x), ("h0", h0), ("h_n", h)]
        }
    }
}

/// Writes `<name><suffix>.safetensors` and `<name><suffix>_io.safetensors` for every model.
pub fn write_all<T: Float>(directory: &Path, suffix: &str) -> Result<(), CheckpointError> {
    for (seed, name) in MODELS.iter().enumerate() {
        let (store, model) = build::<T>(name, seed as u64);
        checkpoint::save(
            directory.join(format!("{name}{suffix}.safetensors")),
            &store,
        )?;
        let mut io = ParamStore::<T>::new();
        for (key, value) in run(&store, &model, 100 + seed as u64) {
            io.root().buffer(key, value.value().clone());
        }
        checkpoint::save(
            directory.join(format!("{name}{suffix}_io.safetensors")),
            &io,
        )?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = std::env::args()
        .nth(1)
        .ok_or("usage: recurrent_checkpoint DIRECTORY")?;
    let directory = Path::new(&directory);
    std::fs::create_dir_all(directory)?;
    write_all::<f64>(directory, "")?;
    write_all::<f32>(directory, "_f32")?;
    println!(
        "wrote {} models (f64 and f32) to {}",
        MODELS.len(),
        directory.display()
    );
    Ok(())
}
