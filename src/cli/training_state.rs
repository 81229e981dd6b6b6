//! The training state of a run on disk, what `--resume` continues from (see
//! [`wengert::rl::snapshot`] for what it holds):
//!
//! - `training_state.<iteration>.safetensors`: every array (`F32`, `F64`, `U64`) under its name;
//! - `training_state.toml`: the scalars (algorithm, environment, iteration, steps, wall time, the
//!   resolved configuration) and the name, size and FNV-1a checksum of the tensor file.
//!
//! Both are written atomically, the tensor file first under a new name, then the TOML that
//! points at it, then older tensor files are removed: a process killed at any moment leaves a
//! TOML that points at a complete tensor file. A damaged or mismatched file is an error naming
//! it and what is wrong.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use wengert::nn::checkpoint::TensorBytes;
use wengert::rl::snapshot::{TrainingState, Values};

use super::write_atomically;

pub const STATE: &str = "training_state.toml";

/// Bumped when the layout changes.
const FORMAT: u32 = 1;

/// `training_state.toml`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Header {
    format: u32,
    algorithm: String,
    env: String,
    iteration: usize,
    env_steps: usize,
    wall_time: f64,
    /// The tensor file, beside this one.
    tensors: String,
    /// Its size in bytes and FNV-1a 64-bit hash, to catch a damaged or swapped file.
    bytes: u64,
    checksum: String,
    /// The algorithm's whole configuration, as the trainer checks it.
    config: String,
}

fn encode(values: &Values) -> TensorBytes {
    let (dtype, bytes): (Dtype, Vec<u8>) = match values {
        Values::F32(a) => (Dtype::F32, a.iter().flat_map(|v| v.to_le_bytes()).collect()),
        Values::F64(a) => (Dtype::F64, a.iter().flat_map(|v| v.to_le_bytes()).collect()),
        Values::U64(a) => (Dtype::U64, a.iter().flat_map(|v| v.to_le_bytes()).collect()),
    };
    TensorBytes {
        dtype,
        shape: values.shape().to_vec(),
        bytes,
    }
}

/// FNV-1a, 64 bits: enough to tell a damaged file from the one that was written.
fn checksum(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!("{hash:016x}")
}

/// Writes `state` into the run directory (see the module doc).
pub fn save(run: &Path, state: &TrainingState) -> Result<(), String> {
    let encoded: Vec<(&str, TensorBytes)> = state.entries().map(|(n, v)| (n, encode(v))).collect();
    let metadata = HashMap::from([("format".to_string(), "wengert-training-state".to_string())]);
    let bytes = safetensors::serialize(encoded.iter().map(|(n, e)| (*n, e)), Some(metadata))
        .map_err(|e| format!("cannot encode the training state: {e}"))?;
    let tensors = format!("training_state.{}.safetensors", state.iteration);
    write_atomically(&run.join(&tensors), &bytes)
        .map_err(|e| format!("cannot write {}: {e}", run.join(&tensors).display()))?;
    let header = Header {
        format: FORMAT,
        algorithm: state.algorithm.clone(),
        env: state.env_id.clone(),
        iteration: state.iteration,
        env_steps: state.env_steps,
        wall_time: state.wall_time,
        tensors: tensors.clone(),
        bytes: bytes.len() as u64,
        checksum: checksum(&bytes),
        config: state.config.clone(),
    };
    let text = toml::to_string(&header).map_err(|e| format!("cannot encode {STATE}: {e}"))?;
    write_atomically(&run.join(STATE), text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", run.join(STATE).display()))?;
    // Older tensor files (and temporaries of killed writes) are no longer pointed at.
    for entry in fs::read_dir(run).map_err(|e| format!("cannot list {}: {e}", run.display()))? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("training_state.") && name.contains(".safetensors") && name != tensors {
            let _ = fs::remove_file(run.join(name.as_ref()));
        }
    }
    Ok(())
}

/// The run's saved training state, or `None` if it has none yet.
pub fn load(run: &Path) -> Result<Option<TrainingState>, String> {
    let path = run.join(STATE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let header: Header =
        toml::from_str(&text).map_err(|e| format!("{} is not valid: {e}", path.display()))?;
    if header.format != FORMAT {
        return Err(format!(
            "{} has format {}, but this wengert reads format {FORMAT}",
            path.display(),
            header.format
        ));
    }
    let tensors_path: PathBuf = run.join(&header.tensors);
    let bytes = fs::read(&tensors_path).map_err(|e| {
        format!(
            "{} points at {}, which cannot be read: {e}",
            path.display(),
            tensors_path.display()
        )
    })?;
    let found = checksum(&bytes);
    if bytes.len() as u64 != header.bytes || found != header.checksum {
        return Err(format!(
            "{} is damaged: {} bytes with checksum {found}, but {} records {} bytes with checksum {}",
            tensors_path.display(),
            bytes.len(),
            path.display(),
            header.bytes,
            header.checksum
        ));
    }
    let file = SafeTensors::deserialize(&bytes).map_err(|e| {
        format!(
            "{} is not a valid safetensors file: {e}",
            tensors_path.display()
        )
    })?;
    let mut state = TrainingState::new(&header.algorithm, &header.env, &header.config);
    state.iteration = header.iteration;
    state.env_steps = header.env_steps;
    state.wall_time = header.wall_time;
    for (name, view) in file.tensors() {
        let shape = IxDyn(view.shape());
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => Values::F32(array(shape, data, f32::from_le_bytes)),
            Dtype::F64 => Values::F64(array(shape, data, f64::from_le_bytes)),
            Dtype::U64 => Values::U64(array(shape, data, u64::from_le_bytes)),
            other => {
                return Err(format!(
                    "{}: `{name}` has dtype {other:?}; a training state holds F32, F64 or U64",
                    tensors_path.display()
                ));
            }
        };
        state.insert(name, values);
    }
    Ok(Some(state))
}

fn array<T, const N: usize>(shape: IxDyn, data: &[u8], from: fn([u8; N]) -> T) -> ArrayD<T> {
    let values = data
        .chunks_exact(N)
        .map(|c| from(c.try_into().expect("N bytes")))
        .collect();
    ArrayD::from_shape_vec(shape, values).expect("safetensors checked the sizes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TrainingState {
        let mut state = TrainingState::new("ppo", "CartPole-v1", "gamma = 0.98\n");
        state.iteration = 3;
        state.env_steps = 768;
        state.wall_time = 1.5;
        state.put_f32("agent.w", &[2, 2], vec![1.0, -0.0, f32::NAN, 4.5]);
        state.put_f64("returns", vec![9.0, 10.5]);
        state.put_u64("rng", vec![u64::MAX, 0, 7]);
        state.put_f32("optimizer.w.step", &[], vec![3.0]);
        state
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wengert-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn bits(state: &TrainingState) -> Vec<(String, Vec<u64>)> {
        state
            .entries()
            .map(|(n, v)| {
                let words = match v {
                    Values::F32(a) => a.iter().map(|x| x.to_bits() as u64).collect(),
                    Values::F64(a) => a.iter().map(|x| x.to_bits()).collect(),
                    Values::U64(a) => a.iter().copied().collect(),
                };
                (format!("{n}{:?}", v.shape()), words)
            })
            .collect()
    }

    #[test]
    fn a_state_round_trips_exactly_and_older_tensor_files_are_removed() {
        let dir = scratch("round-trip");
        assert!(load(&dir).unwrap().is_none());
        let mut state = sample();
        save(&dir, &state).unwrap();
        state.iteration = 4;
        save(&dir, &state).unwrap();
        let loaded = load(&dir).unwrap().unwrap();
        assert_eq!(bits(&loaded), bits(&state));
        assert_eq!(
            (
                loaded.iteration,
                loaded.env_steps,
                loaded.wall_time,
                loaded.config.as_str()
            ),
            (4, 768, 1.5, state.config.as_str())
        );
        let files: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".safetensors"))
            .collect();
        assert_eq!(files, vec!["training_state.4.safetensors".to_string()]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_or_missing_tensor_file_is_an_error_naming_it() {
        let dir = scratch("damaged");
        save(&dir, &sample()).unwrap();
        let tensors = dir.join("training_state.3.safetensors");
        let mut bytes = fs::read(&tensors).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        fs::write(&tensors, &bytes).unwrap();
        let error = load(&dir).unwrap_err();
        assert!(
            error.contains("training_state.3.safetensors is damaged") && error.contains("checksum"),
            "{error}"
        );
        fs::remove_file(&tensors).unwrap();
        let error = load(&dir).unwrap_err();
        assert!(error.contains("cannot be read"), "{error}");
        fs::write(dir.join(STATE), "format = 1\n").unwrap();
        let error = load(&dir).unwrap_err();
        assert!(
            error.contains("training_state.toml is not valid"),
            "{error}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
