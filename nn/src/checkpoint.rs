//! Checkpoints: a [`ParamStore`] (and optionally an optimiser's state) in the
//! [safetensors](https://huggingface.co/docs/safetensors) format, so a model trained here
//! opens in PyTorch with `safetensors.torch.load_file(path)`.
//!
//! ## Layout of the file
//!
//! * Every store entry — parameters and buffers — under its own name (`policy.0.weight`,
//!   `bn.running_mean`, …), with its shape, in `F32` or `F64` as the store's element type.
//!   These names are what `module.load_state_dict` expects from an `nn.Module` built with the
//!   same names.
//! * Optimiser state, when saved, under `optimizer.state.<parameter name>.<key>`, with
//!   PyTorch's keys (`momentum_buffer`; `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`;
//!   `square_avg`, `grad_avg`); `step` is a 0-dimensional tensor. Hyperparameters are not
//!   saved: they come from the code that builds the optimiser.
//! * The header's metadata says `"format": "pt"`, as Hugging Face tools expect.
//!
//! ## Writing and reading safely
//!
//! A save writes `<path>.tmp-<pid>`, flushes it to disk (`sync_all`), and renames it over
//! `<path>`, so a crash mid-write leaves the previous checkpoint whole. A load reads and checks
//! everything first — the file parses, every name is present, no name is unexpected, shapes and
//! dtypes match, optimiser state fits its parameters — and only then writes into the store, so a
//! bad file is an error naming the parameter and the problem and the model is untouched.
//!
//! ```
//! use ndarray::array;
//! use wengert_nn::{ParamStore, checkpoint};
//! let path = std::env::temp_dir().join(format!("wengert-doc-{}.safetensors", std::process::id()));
//! let mut store = ParamStore::<f32>::new();
//! let w = store.root().sub("policy").param("w", array![[1.0f32, 2.0], [3.0, 4.0]]);
//! checkpoint::save(&path, &store).unwrap();
//! store.set(w, array![[0.0f32, 0.0], [0.0, 0.0]]);
//! checkpoint::load(&path, &store).unwrap();
//! assert_eq!(store.value(w)[[1, 0]], 3.0);
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use autograd::{Float, SharedArray};
use ndarray::ArrayD;
use safetensors::tensor::Metadata;
use safetensors::{Dtype, SafeTensorError, SafeTensors, View};

use crate::ParamStore;
use crate::optim::{Optimizer, StateError};

/// The prefix of optimiser-state names in a checkpoint.
pub const OPTIMIZER_PREFIX: &str = "optimizer.state.";

/// Why a checkpoint could not be written or read.
#[derive(Debug)]
pub enum CheckpointError {
    /// Reading, writing or renaming a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file is not a readable safetensors file (garbage, or its header is cut off).
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The file ends before the data of `name` does.
    Truncated {
        /// The first tensor whose bytes are cut off.
        name: String,
        /// The bytes its data needs (up to its end offset in the body).
        needed: usize,
        /// The bytes of body the file has.
        available: usize,
    },
    /// The model has an entry the file lacks.
    Missing {
        /// The entry's name.
        name: String,
    },
    /// The file has an entry the model lacks.
    Unexpected {
        /// The entry's name.
        name: String,
    },
    /// An entry's shape differs between the file and the model.
    Shape {
        /// The entry's name.
        name: String,
        /// Its shape in the file.
        file: Vec<usize>,
        /// Its shape in the model.
        model: Vec<usize>,
    },
    /// An entry's element type differs between the file and the model.
    Dtype {
        /// The entry's name.
        name: String,
        /// Its dtype in the file (`F32`, `BF16`, …).
        file: String,
        /// The model's element type (`F32` or `F64`).
        model: String,
    },
    /// The optimiser state in the file does not fit the optimiser.
    OptimizerState(StateError),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::Io { path, source } => {
                write!(f, "checkpoint: {}: {source}", path.display())
            }
            CheckpointError::Corrupt { path, problem } => write!(
                f,
                "checkpoint: {} is not a valid safetensors file: {problem}",
                path.display()
            ),
            CheckpointError::Truncated {
                name,
                needed,
                available,
            } => write!(
                f,
                "checkpoint: `{name}` is truncated: its data ends at byte {needed} of the body \
                 but the file holds only {available} bytes of body"
            ),
            CheckpointError::Missing { name } => {
                write!(
                    f,
                    "checkpoint: `{name}` is in the model but missing from the file"
                )
            }
            CheckpointError::Unexpected { name } => {
                write!(
                    f,
                    "checkpoint: `{name}` is in the file but not in the model"
                )
            }
            CheckpointError::Shape { name, file, model } => write!(
                f,
                "checkpoint: `{name}` has shape {file:?} in the file but {model:?} in the model"
            ),
            CheckpointError::Dtype { name, file, model } => write!(
                f,
                "checkpoint: `{name}` has dtype {file} in the file but {model} in the model"
            ),
            CheckpointError::OptimizerState(error) => write!(f, "checkpoint: {error}"),
        }
    }
}

impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CheckpointError::Io { source, .. } => Some(source),
            CheckpointError::OptimizerState(error) => Some(error),
            _ => None,
        }
    }
}

/// Saves every entry of `store` to `path` (atomically: temporary file, then rename).
pub fn save<T: Float>(
    path: impl AsRef<Path>,
    store: &ParamStore<T>,
) -> Result<(), CheckpointError> {
    write_atomically(path.as_ref(), &serialize(store, None)?)
}

/// Saves every entry of `store` and the state of `optimizer` to `path`.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamStore, checkpoint};
/// use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
/// let path = std::env::temp_dir().join(format!("wengert-doc-opt-{}.safetensors", std::process::id()));
/// let mut store = ParamStore::<f64>::new();
/// let w = store.root().param("w", array![1.0]);
/// let mut adam = Adam::new(store.trainable(), AdamConfig::default());
/// adam.step(&store, &ParamGradients::from_pairs(1, [(w, array![0.5].into_dyn().into_shared())]));
/// checkpoint::save_with_optimizer(&path, &store, &adam).unwrap();
/// let mut resumed = Adam::new(store.trainable(), AdamConfig::default());
/// checkpoint::load_with_optimizer(&path, &store, &mut resumed).unwrap();
/// assert_eq!(resumed.state(w).unwrap().step, 1);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_with_optimizer<T: Float>(
    path: impl AsRef<Path>,
    store: &ParamStore<T>,
    optimizer: &dyn Optimizer<T>,
) -> Result<(), CheckpointError> {
    write_atomically(path.as_ref(), &serialize(store, Some(optimizer))?)
}

/// Loads every entry of `store` from `path`; optimiser state in the file is ignored. On error
/// the store is unchanged.
pub fn load<T: Float>(
    path: impl AsRef<Path>,
    store: &ParamStore<T>,
) -> Result<(), CheckpointError> {
    load_impl(path.as_ref(), store, None)
}

/// Loads every entry of `store` and the state of `optimizer` from `path`. On error neither is
/// changed.
pub fn load_with_optimizer<T: Float>(
    path: impl AsRef<Path>,
    store: &ParamStore<T>,
    optimizer: &mut dyn Optimizer<T>,
) -> Result<(), CheckpointError> {
    load_impl(path.as_ref(), store, Some(optimizer))
}

/// One tensor to write: its dtype, shape and little-endian bytes, as `safetensors::serialize`
/// takes it (also the training-state files' writer's).
///
/// ```
/// use safetensors::{Dtype, SafeTensors};
/// use wengert_nn::checkpoint::TensorBytes;
/// let w = TensorBytes { dtype: Dtype::F32, shape: vec![2], bytes: [1.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect() };
/// let file = safetensors::serialize([("w", &w)], None).unwrap();
/// let read = SafeTensors::deserialize(&file).unwrap();
/// assert_eq!(read.tensor("w").unwrap().data(), &w.bytes[..]);
/// ```
pub struct TensorBytes {
    /// The element type.
    pub dtype: Dtype,
    /// The shape.
    pub shape: Vec<usize>,
    /// The elements, little-endian, in row-major order.
    pub bytes: Vec<u8>,
}

impl View for &TensorBytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The safetensors dtype of `T`.
fn dtype_of<T: Float>() -> Dtype {
    match T::NAME {
        "f32" => Dtype::F32,
        "f64" => Dtype::F64,
        other => unreachable!("no safetensors dtype for element type {other}"),
    }
}

fn encode<T: Float>(value: &SharedArray<T>) -> TensorBytes {
    let dtype = dtype_of::<T>();
    let mut bytes = Vec::with_capacity(value.len() * dtype.bitsize() / 8);
    for &x in value.iter() {
        match dtype {
            // `as f32` is exact: the value is an f32 widened to f64.
            Dtype::F32 => bytes.extend_from_slice(&(x.as_f64() as f32).to_le_bytes()),
            _ => bytes.extend_from_slice(&x.as_f64().to_le_bytes()),
        }
    }
    TensorBytes {
        dtype,
        shape: value.shape().to_vec(),
        bytes,
    }
}

fn serialize<T: Float>(
    store: &ParamStore<T>,
    optimizer: Option<&dyn Optimizer<T>>,
) -> Result<Vec<u8>, CheckpointError> {
    let mut tensors: Vec<(String, TensorBytes)> = store
        .ids()
        .map(|id| (store.name(id).to_string(), encode(&store.value(id))))
        .collect();
    if let Some(optimizer) = optimizer {
        for (param, key, value) in optimizer.state_dict(store) {
            tensors.push((format!("{OPTIMIZER_PREFIX}{param}.{key}"), encode(&value)));
        }
    }
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata)).map_err(
        |error| CheckpointError::Corrupt {
            path: PathBuf::new(),
            problem: format!("could not serialize: {error}"),
        },
    )
}

/// Writes `<path>.tmp-<pid>`, syncs it, and renames it to `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckpointError::Io { path, source }
    };
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temporary);
        return Err(io_error(&temporary)(source));
    }
    if let Err(source) = fs::rename(&temporary, path) {
        let _ = fs::remove_file(&temporary);
        return Err(io_error(path)(source));
    }
    // Make the rename itself durable; not every platform can open a directory, so best effort.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(directory) = fs::File::open(parent)
    {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Explains why `bytes` did not parse: names the first truncated tensor when the header is
/// whole but the body is short.
fn diagnose(path: &Path, bytes: &[u8], error: SafeTensorError) -> CheckpointError {
    let corrupt = |problem: String| CheckpointError::Corrupt {
        path: path.to_path_buf(),
        problem,
    };
    let Some(length) = bytes.get(..8) else {
        return corrupt(format!(
            "the file has {} bytes, fewer than the 8-byte header length",
            bytes.len()
        ));
    };
    let header_length = u64::from_le_bytes(length.try_into().expect("8 bytes")) as usize;
    let Some(header) = bytes.get(8..8usize.saturating_add(header_length)) else {
        return corrupt(format!(
            "{error} (the header claims {header_length} bytes but the file has {})",
            bytes.len()
        ));
    };
    let Ok(metadata) = serde_json::from_slice::<Metadata>(header) else {
        return corrupt(error.to_string());
    };
    let available = bytes.len() - 8 - header_length;
    let mut cut: Vec<(String, usize)> = metadata
        .tensors()
        .into_iter()
        .filter(|(_, info)| info.data_offsets.1 > available)
        .map(|(name, info)| (name, info.data_offsets.1))
        .collect();
    cut.sort_by_key(|&(_, end)| end);
    match cut.into_iter().next() {
        Some((name, needed)) => CheckpointError::Truncated {
            name,
            needed,
            available,
        },
        None => corrupt(error.to_string()),
    }
}

/// Decodes the tensor `name` as `T`, checking its dtype and (if given) its shape.
fn decode<T: Float>(
    tensors: &SafeTensors<'_>,
    name: &str,
    expected_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, CheckpointError> {
    let view = tensors.tensor(name).map_err(|_| CheckpointError::Missing {
        name: name.to_string(),
    })?;
    let dtype = dtype_of::<T>();
    if view.dtype() != dtype {
        return Err(CheckpointError::Dtype {
            name: name.to_string(),
            file: view.dtype().to_string(),
            model: dtype.to_string(),
        });
    }
    if let Some(shape) = expected_shape
        && view.shape() != shape
    {
        return Err(CheckpointError::Shape {
            name: name.to_string(),
            file: view.shape().to_vec(),
            model: shape.to_vec(),
        });
    }
    let values: Vec<T> = match dtype {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|b| T::from_f64(f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64))
            .collect(),
        _ => view
            .data()
            .chunks_exact(8)
            .map(|b| T::from_f64(f64::from_le_bytes(b.try_into().expect("8 bytes"))))
            .collect(),
    };
    Ok(ArrayD::from_shape_vec(view.shape().to_vec(), values)
        .expect("safetensors checked that the data fills the shape"))
}

fn load_impl<T: Float>(
    path: &Path,
    store: &ParamStore<T>,
    optimizer: Option<&mut dyn Optimizer<T>>,
) -> Result<(), CheckpointError> {
    let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let tensors =
        SafeTensors::deserialize(&bytes).map_err(|error| diagnose(path, &bytes, error))?;

    // Check and decode everything before touching the model.
    let mut values = Vec::with_capacity(store.len());
    for id in store.ids() {
        let name = store.name(id);
        let shape = store.value(id).shape().to_vec();
        values.push((id, decode::<T>(&tensors, name, Some(&shape))?));
    }
    let mut names: Vec<&str> = tensors.names();
    names.sort();
    let model_names: HashSet<&str> = store.ids().map(|id| store.name(id)).collect();
    if let Some(name) = names
        .iter()
        .find(|n| !n.starts_with(OPTIMIZER_PREFIX) && !model_names.contains(**n))
    {
        return Err(CheckpointError::Unexpected {
            name: name.to_string(),
        });
    }

    if let Some(optimizer) = optimizer {
        let mut entries = Vec::new();
        for name in names.iter().filter(|n| n.starts_with(OPTIMIZER_PREFIX)) {
            let rest = &name[OPTIMIZER_PREFIX.len()..];
            let Some((param, key)) = rest.rsplit_once('.') else {
                return Err(CheckpointError::Unexpected {
                    name: name.to_string(),
                });
            };
            let value = decode::<T>(&tensors, name, None)?;
            entries.push((param.to_string(), key.to_string(), value.into_shared()));
        }
        // All or nothing, so on error the optimiser keeps its state and the store is untouched.
        optimizer
            .load_state_dict(store, &entries)
            .map_err(CheckpointError::OptimizerState)?;
    }

    for (id, value) in values {
        store.set(id, value);
    }
    Ok(())
}
