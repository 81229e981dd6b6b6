//! Checkpoints: exact round trips, every kind of bad file gives its error and leaves the model
//! (and optimiser) untouched, and a crash mid-write leaves the previous checkpoint readable.

use std::path::PathBuf;

use autograd::prelude::*;
use ndarray::{ArrayD, array};
use rand::SeedableRng;
use wengert_nn::checkpoint::{self, CheckpointError};
use wengert_nn::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig};
use wengert_nn::{Activation, BatchNorm, Mlp, Module, ParamStore};

/// A per-test directory under the system temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let directory =
            std::env::temp_dir().join(format!("wengert-checkpoint-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        Scratch(directory)
    }

    fn file(&self) -> PathBuf {
        self.0.join("model.safetensors")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A policy MLP with a BatchNorm (so the store has buffers as well as parameters).
fn model<T: Float>(seed: u64, hidden: usize) -> ParamStore<T> {
    let mut store = ParamStore::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Mlp::builder(&[4, hidden, 2])
        .activation(Activation::Tanh)
        .build(&mut store.root().sub("policy"), &mut rng);
    BatchNorm::new(&mut store.root().sub("bn"), 3);
    store
}

fn snapshot<T: Float>(store: &ParamStore<T>) -> Vec<(String, ArrayD<T>)> {
    store
        .ids()
        .map(|id| (store.name(id).to_string(), store.value(id).to_owned()))
        .collect()
}

/// Changes every value (so a load must restore them).
fn perturb<T: Float>(store: &ParamStore<T>) {
    for id in store.ids() {
        let value = store.value(id).mapv(|x| x * T::from_f64(0.5) + T::one());
        store.set(id, value);
    }
}

fn round_trip<T: Float>(test: &str) {
    let scratch = Scratch::new(test);
    let path = scratch.file();
    let store = model::<T>(1, 8);
    // Awkward values survive bit for bit.
    let first = store.ids().next().unwrap();
    let mut odd = store.value(first).to_owned();
    odd.as_slice_mut().unwrap()[..4].copy_from_slice(&[
        T::from_f64(1e-300_f64.max(T::min_positive_value().as_f64())),
        T::from_f64(-0.0),
        T::max_value(),
        T::from_f64(1.0 / 3.0),
    ]);
    store.set(first, odd);
    let before = snapshot(&store);
    checkpoint::save(&path, &store).unwrap();
    perturb(&store);
    checkpoint::load(&path, &store).unwrap();
    let after = snapshot(&store);
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        let bits_a: Vec<u64> = a.iter().map(|x| x.as_f64().to_bits()).collect();
        let bits_b: Vec<u64> = b.iter().map(|x| x.as_f64().to_bits()).collect();
        assert_eq!(bits_a, bits_b, "`{name}` changed in the round trip");
    }
    // A second model with the same names loads the same file.
    let other = model::<T>(2, 8);
    checkpoint::load(&path, &other).unwrap();
    assert_eq!(snapshot(&other), before);
}

#[test]
fn round_trip_is_exact_f32() {
    round_trip::<f32>("exact-f32");
}

#[test]
fn round_trip_is_exact_f64() {
    round_trip::<f64>("exact-f64");
}

#[test]
fn file_is_a_plain_safetensors_file() {
    let scratch = Scratch::new("layout");
    let path = scratch.file();
    let store = model::<f32>(3, 8);
    checkpoint::save(&path, &store).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let header_length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_length]).unwrap();
    assert_eq!(header["__metadata__"]["format"], "pt");
    assert_eq!(header["policy.0.weight"]["dtype"], "F32");
    assert_eq!(
        header["policy.0.weight"]["shape"],
        serde_json::json!([8, 4])
    );
    assert_eq!(header["bn.running_var"]["shape"], serde_json::json!([3]));
    assert_eq!(header.as_object().unwrap().len(), store.len() + 1);
}

/// Loads `path` into `store`, expects an error, and checks the store did not change.
fn expect_failure<T: Float>(path: &PathBuf, store: &ParamStore<T>) -> CheckpointError {
    let before = snapshot(store);
    let error = checkpoint::load(path, store).expect_err("a bad file must not load");
    assert_eq!(
        snapshot(store),
        before,
        "a failed load changed the model ({error})"
    );
    error
}

#[test]
fn missing_name_is_an_error_naming_it() {
    let scratch = Scratch::new("missing");
    let path = scratch.file();
    let mut smaller = ParamStore::<f64>::new();
    smaller
        .root()
        .sub("policy")
        .sub(0)
        .param("weight", ArrayD::zeros(vec![8, 4]));
    checkpoint::save(&path, &smaller).unwrap();
    let store = model::<f64>(4, 8);
    let error = expect_failure(&path, &store);
    assert!(
        matches!(&error, CheckpointError::Missing { name } if name == "policy.0.bias"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "checkpoint: `policy.0.bias` is in the model but missing from the file"
    );
}

#[test]
fn unexpected_name_is_an_error_naming_it() {
    let scratch = Scratch::new("unexpected");
    let path = scratch.file();
    let mut bigger = model::<f64>(5, 8);
    bigger.root().param("extra", array![1.0]);
    checkpoint::save(&path, &bigger).unwrap();
    let store = model::<f64>(6, 8);
    let error = expect_failure(&path, &store);
    assert!(
        matches!(&error, CheckpointError::Unexpected { name } if name == "extra"),
        "{error}"
    );
}

#[test]
fn wrong_shape_is_an_error_naming_both_shapes() {
    let scratch = Scratch::new("shape");
    let path = scratch.file();
    checkpoint::save(&path, &model::<f64>(7, 16)).unwrap();
    let store = model::<f64>(8, 8);
    let error = expect_failure(&path, &store);
    assert_eq!(
        error.to_string(),
        "checkpoint: `policy.0.weight` has shape [16, 4] in the file but [8, 4] in the model"
    );
}

#[test]
fn wrong_dtype_is_an_error_naming_both_dtypes() {
    let scratch = Scratch::new("dtype");
    let path = scratch.file();
    checkpoint::save(&path, &model::<f32>(9, 8)).unwrap();
    let store = model::<f64>(10, 8);
    let error = expect_failure(&path, &store);
    assert_eq!(
        error.to_string(),
        "checkpoint: `policy.0.weight` has dtype F32 in the file but F64 in the model"
    );
}

#[test]
fn truncated_file_is_an_error_naming_the_cut_tensor() {
    let scratch = Scratch::new("truncated");
    let path = scratch.file();
    let store = model::<f64>(11, 8);
    checkpoint::save(&path, &store).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // Cut inside the body: some tensor is named.
    std::fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();
    perturb(&store);
    let error = expect_failure(&path, &store);
    assert!(
        matches!(error, CheckpointError::Truncated { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("is truncated"), "{error}");
    // Cut inside the header: a corrupt file.
    std::fs::write(&path, &bytes[..40]).unwrap();
    let error = expect_failure(&path, &store);
    assert!(matches!(error, CheckpointError::Corrupt { .. }), "{error}");
    // Shorter than the length prefix.
    std::fs::write(&path, &bytes[..3]).unwrap();
    let error = expect_failure(&path, &store);
    assert!(matches!(error, CheckpointError::Corrupt { .. }), "{error}");
}

#[test]
fn garbage_file_is_an_error() {
    let scratch = Scratch::new("garbage");
    let path = scratch.file();
    let store = model::<f64>(12, 8);
    std::fs::write(
        &path,
        b"this is not a safetensors file, it is a sentence of plain text",
    )
    .unwrap();
    let error = expect_failure(&path, &store);
    assert!(matches!(error, CheckpointError::Corrupt { .. }), "{error}");
    // A valid length prefix followed by a header that is not JSON.
    let mut bytes = 16u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{not json at all");
    std::fs::write(&path, &bytes).unwrap();
    let error = expect_failure(&path, &store);
    assert!(matches!(error, CheckpointError::Corrupt { .. }), "{error}");
    // Trailing bytes after a valid file.
    checkpoint::save(&path, &store).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0; 8]);
    std::fs::write(&path, &bytes).unwrap();
    perturb(&store);
    let error = expect_failure(&path, &store);
    assert!(matches!(error, CheckpointError::Corrupt { .. }), "{error}");
}

#[test]
fn missing_file_is_an_io_error() {
    let scratch = Scratch::new("absent");
    let path = scratch.0.join("does-not-exist.safetensors");
    let store = model::<f64>(13, 8);
    let error = expect_failure(&path, &store);
    assert!(matches!(error, CheckpointError::Io { .. }), "{error}");
    assert!(error.to_string().contains("does-not-exist.safetensors"));
}

#[test]
fn crash_mid_write_leaves_the_previous_checkpoint_readable() {
    let scratch = Scratch::new("crash");
    let path = scratch.file();
    let store = model::<f64>(14, 8);
    checkpoint::save(&path, &store).unwrap();
    let saved = snapshot(&store);
    // A crash while writing the next checkpoint leaves a partial temporary file behind, never
    // a partial `path`.
    let bytes = std::fs::read(&path).unwrap();
    let mut temporary = path.clone().into_os_string();
    temporary.push(format!(".tmp-{}", std::process::id()));
    std::fs::write(&temporary, &bytes[..bytes.len() / 2]).unwrap();
    perturb(&store);
    checkpoint::load(&path, &store).unwrap();
    assert_eq!(snapshot(&store), saved);
    // The next save replaces the stale temporary file and leaves none behind.
    perturb(&store);
    checkpoint::save(&path, &store).unwrap();
    assert!(!PathBuf::from(&temporary).exists());
    let expected = snapshot(&store);
    perturb(&store);
    checkpoint::load(&path, &store).unwrap();
    assert_eq!(snapshot(&store), expected);
}

/// Gradients of a small regression loss on the store's policy.
fn train_step<O: Optimizer<f64> + ?Sized>(store: &ParamStore<f64>, optimizer: &mut O) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut probe = ParamStore::<f64>::new();
    let net = Mlp::builder(&[4, 8, 2])
        .activation(Activation::Tanh)
        .build(&mut probe.root().sub("policy"), &mut rng);
    let x = Var::constant(array![[0.5, -1.0, 0.25, 2.0], [1.0, 0.0, -0.5, 0.3]]);
    let tape = Tape::new();
    let bound = store.bind(&tape);
    let loss = net.forward(&bound, &x).powi(2).mean_all();
    let grads = bound.gradients(&loss);
    optimizer.step(store, &grads);
}

#[test]
fn optimizer_state_round_trips_and_resumes_identically() {
    let scratch = Scratch::new("optimizer");
    let path = scratch.file();
    let config = AdamConfig {
        lr: 0.01,
        amsgrad: true,
        ..AdamConfig::default()
    };
    let store = model::<f64>(15, 8);
    let mut adam = Adam::new(store.trainable(), config);
    for _ in 0..3 {
        train_step(&store, &mut adam);
    }
    checkpoint::save_with_optimizer(&path, &store, &adam).unwrap();
    for _ in 0..2 {
        train_step(&store, &mut adam);
    }
    let uninterrupted = snapshot(&store);

    let resumed_store = model::<f64>(16, 8);
    let mut resumed = Adam::new(resumed_store.trainable(), config);
    checkpoint::load_with_optimizer(&path, &resumed_store, &mut resumed).unwrap();
    for _ in 0..2 {
        train_step(&resumed_store, &mut resumed);
    }
    assert_eq!(
        snapshot(&resumed_store),
        uninterrupted,
        "resuming must be bit-identical"
    );

    // Model-only loading ignores the optimiser entries.
    checkpoint::load(&path, &model::<f64>(17, 8)).unwrap();
}

#[test]
fn optimizer_state_mismatch_leaves_model_and_optimizer_unchanged() {
    let scratch = Scratch::new("optimizer-mismatch");
    let path = scratch.file();
    let store = model::<f64>(18, 8);
    let mut sgd = Sgd::new(
        store.trainable(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..SgdConfig::default()
        },
    );
    train_step(&store, &mut sgd);
    checkpoint::save_with_optimizer(&path, &store, &sgd).unwrap();

    // RMSprop cannot read SGD's state.
    let target = model::<f64>(19, 8);
    let mut rmsprop = RmsProp::new(target.trainable(), RmsPropConfig::default());
    train_step(&target, &mut rmsprop);
    let model_before = snapshot(&target);
    let state_before = format!("{:?}", rmsprop.state_dict(&target));
    let error = checkpoint::load_with_optimizer(&path, &target, &mut rmsprop).unwrap_err();
    assert!(
        matches!(error, CheckpointError::OptimizerState(_)),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "checkpoint: optimizer state of `bn.bias`: `step` is missing"
    );
    assert_eq!(snapshot(&target), model_before);
    assert_eq!(format!("{:?}", rmsprop.state_dict(&target)), state_before);
}
