//! A run directory, `runs/<algo>-<env>-<seed>/`:
//!
//! | file | what it holds |
//! |---|---|
//! | `config.toml` | algorithm, environment, seed, the settings that override the defaults, and the resolved configuration |
//! | `state.toml` | `running`, `stopped` or `finished`, with the iteration and step of the checkpoint |
//! | `metrics.csv` | one row per iteration: step, wall time, recent mean return, losses and diagnostics |
//! | `train.log` | one line per iteration |
//! | `learning_curve.svg` | mean return against environment steps |
//! | `policy.safetensors` | the agent's parameters (plus `agent_state.safetensors` when acting needs more, e.g. observation statistics), written at every checkpoint |
//! | `training_state.toml`, `training_state.<iteration>.safetensors` | everything `--resume` continues from, bit for bit (see `training_state`) |
//!
//! Every file but the append-only CSV and log is replaced atomically, so a run killed at any
//! moment leaves the previous checkpoint and state readable.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ndarray::Array1;
use serde::{Deserialize, Serialize};
use wengert::nn::{Kind, ParamStore, checkpoint};
use wengert::rl::algorithms;
use wengert::rl::snapshot::{TrainingState, Values};
use wengert::rl::train::{Agent, IterationMetrics};

use super::write_atomically;

pub const CONFIG: &str = "config.toml";
pub const STATE: &str = "state.toml";
pub const METRICS: &str = "metrics.csv";
pub const LOG: &str = "train.log";
pub const CURVE: &str = "learning_curve.svg";
pub const CHECKPOINT: &str = "policy.safetensors";
pub const AGENT_STATE: &str = "agent_state.safetensors";

/// What a run was started with: enough to rebuild it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    pub algorithm: String,
    pub env: String,
    pub seed: u64,
    /// Overrides of the algorithm's defaults for the environment (config file, then `--set`).
    pub settings: BTreeMap<String, String>,
    /// The algorithm's whole configuration as the registry resolved it (preset, seed, then
    /// the overrides), written before training starts: what training, resuming and `eval`
    /// rebuild the agent from.
    #[serde(default)]
    pub resolved: toml::Table,
}

impl RunConfig {
    /// The directory name `<algo>-<env>-<seed>`.
    pub fn directory_name(&self) -> String {
        format!(
            "{}-{}-{}",
            self.algorithm,
            self.env.to_lowercase(),
            self.seed
        )
    }

    /// The settings in the registry's form.
    pub fn settings(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The resolved configuration as the registry reads it (TOML text).
    pub fn resolved_text(&self) -> String {
        toml::to_string(&self.resolved).expect("a TOML table serialises")
    }

    pub fn read(run: &Path) -> Result<Self, String> {
        read_toml(&run.join(CONFIG))
    }

    pub fn write(&self, run: &Path) -> Result<(), String> {
        write_toml(&run.join(CONFIG), self)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Training, or killed while training: the checkpoint (if any) is from `iteration`.
    Running,
    /// Stopped by Ctrl-C; the checkpoint is from `iteration`.
    Stopped,
    /// Trained to its budget.
    Finished,
}

/// Where a run is: the iteration and step its checkpoint holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub status: Status,
    pub iteration: usize,
    pub env_steps: usize,
    /// Seconds of training (not counting a resume's replay).
    pub wall_time: f64,
}

impl RunState {
    pub fn read(run: &Path) -> Result<Self, String> {
        read_toml(&run.join(STATE))
    }

    pub fn write(&self, run: &Path) -> Result<(), String> {
        write_toml(&run.join(STATE), self)
    }
}

fn read_toml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{} is not valid: {e}", path.display()))
}

fn write_toml<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text =
        toml::to_string(value).map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
    write_atomically(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The settings in a TOML config file: a flat table whose values may be numbers, booleans,
/// strings or arrays (an array becomes the comma-separated list `--set` takes, e.g.
/// `hidden = [64, 64]`).
pub fn settings_from_toml(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    table
        .into_iter()
        .map(|(key, value)| {
            let text = setting_text(&value).ok_or_else(|| {
                format!(
                    "{}: `{key}` must be a number, boolean, string or array of them, found {}",
                    path.display(),
                    value.type_str()
                )
            })?;
            Ok((key, text))
        })
        .collect()
}

fn setting_text(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                toml::Value::Array(_) | toml::Value::Table(_) => None,
                other => setting_text(other),
            })
            .collect::<Option<Vec<_>>>()
            .map(|items| items.join(",")),
        _ => None,
    }
}

/// The CSV header for metrics like `m`.
pub fn csv_header(m: &IterationMetrics) -> String {
    let names: Vec<&str> = m.losses.iter().map(|(n, _)| *n).collect();
    let mut header = "iteration,env_steps,wall_time,mean_return,episodes".to_string();
    for name in names {
        header.push(',');
        header.push_str(name);
    }
    header
}

/// One CSV row (`wall_time` given separately: a resumed run counts from where it stopped).
/// Values print in Rust's shortest round-trip form, so runs can be compared exactly.
pub fn csv_row(m: &IterationMetrics, wall_time: f64) -> String {
    let mean_return = m.mean_return.map_or(String::new(), |r| r.to_string());
    let mut row = format!(
        "{},{},{:.3},{},{}",
        m.iteration, m.env_steps, wall_time, mean_return, m.episodes
    );
    for (_, value) in &m.losses {
        row.push(',');
        row.push_str(&value.to_string());
    }
    row
}

/// The header and complete rows of a metrics file; a last line cut short by a crash (no final
/// newline) is dropped.
pub fn read_metrics(path: &Path) -> Result<(String, Vec<String>), String> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((String::new(), vec![])),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    let mut lines = complete.lines();
    let header = lines.next().unwrap_or_default().to_string();
    Ok((header, lines.map(str::to_string).collect()))
}

/// The numeric column `name` of a metrics file's rows (`NaN` where empty).
pub fn column(header: &str, rows: &[String], name: &str) -> Result<Vec<f64>, String> {
    let index = header
        .split(',')
        .position(|h| h == name)
        .ok_or_else(|| format!("metrics have no column `{name}` (header: {header})"))?;
    rows.iter()
        .map(|row| {
            let cell = row.split(',').nth(index).unwrap_or_default();
            if cell.is_empty() {
                Ok(f64::NAN)
            } else {
                cell.parse()
                    .map_err(|_| format!("metrics: `{cell}` in column `{name}` is not a number"))
            }
        })
        .collect()
}

/// Saves the agent's parameters, and its extra state if it has any.
pub fn save_agent(run: &Path, agent: &dyn Agent) -> Result<(), String> {
    checkpoint::save(run.join(CHECKPOINT), agent.store()).map_err(|e| e.to_string())?;
    let extra = agent.extra_state();
    if !extra.is_empty() {
        checkpoint::save(run.join(AGENT_STATE), &extra_store(&extra)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Saves the policy checkpoint from a training state: its `agent.*` entries are exactly the
/// agent's parameters, and its `observation_stats.*` entries the observation statistics the
/// agent carries as extra state.
pub fn save_policy_from(run: &Path, state: &TrainingState) -> Result<(), String> {
    let mut params = ParamStore::<f32>::new();
    let mut extra = Vec::new();
    for (name, values) in state.entries() {
        match values {
            Values::F32(a) if name.starts_with("agent.") => {
                params.add(&name["agent.".len()..], Kind::Parameter, a.clone());
            }
            Values::F64(a) if name.starts_with("observation_stats.") => {
                extra.push((name.to_string(), a.iter().copied().collect()));
            }
            _ => {}
        }
    }
    checkpoint::save(run.join(CHECKPOINT), &params).map_err(|e| e.to_string())?;
    if !extra.is_empty() {
        checkpoint::save(run.join(AGENT_STATE), &extra_store(&extra)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn extra_store(state: &[(String, Vec<f64>)]) -> ParamStore<f64> {
    let mut store = ParamStore::new();
    for (name, values) in state {
        store.root().buffer(name, Array1::from_vec(values.clone()));
    }
    store
}

/// Rebuilds a run's agent from its resolved configuration (networks shaped by it) and loads
/// its checkpoint over the parameters.
pub fn restore_agent(run: &Path, config: &RunConfig) -> Result<Box<dyn Agent>, String> {
    let path = run.join(CHECKPOINT);
    if !path.exists() {
        return Err(format!(
            "{} has no checkpoint yet ({} is missing)",
            run.display(),
            path.display()
        ));
    }
    if config.resolved.is_empty() {
        return Err(format!(
            "{} has no resolved configuration in its {CONFIG}: it was made by an older wengert; train it again",
            run.display()
        ));
    }
    let mut agent = algorithms::build(&config.algorithm, &config.env, &config.resolved_text())
        .map_err(|e| format!("cannot rebuild the agent of {}: {e}", run.display()))?;
    checkpoint::load(&path, agent.store()).map_err(|e| e.to_string())?;
    let extra = agent.extra_state();
    if !extra.is_empty() {
        let store = extra_store(&extra);
        checkpoint::load(run.join(AGENT_STATE), &store).map_err(|e| e.to_string())?;
        let loaded: Vec<(String, Vec<f64>)> = store
            .ids()
            .map(|id| {
                (
                    store.name(id).to_string(),
                    store.value(id).iter().copied().collect(),
                )
            })
            .collect();
        agent.load_extra_state(&loaded)?;
    }
    Ok(agent)
}

/// The run directory a path names, checked to hold a run.
pub fn existing_run(path: &Path) -> Result<PathBuf, String> {
    if path.join(CONFIG).is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(format!(
            "{} is not a run directory (it has no {CONFIG}); runs are made by `wengert train`",
            path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(iteration: usize, mean_return: Option<f64>) -> IterationMetrics {
        IterationMetrics {
            iteration,
            env_steps: 256 * iteration,
            wall_time: 0.5,
            mean_return,
            episodes: 3,
            episode_lengths: Vec::new(),
            losses: vec![("policy_loss", -0.125), ("approx_kl", 1e-7)],
        }
    }

    #[test]
    fn csv_rows_print_values_in_shortest_round_trip_form() {
        let m = metrics(2, Some(21.5));
        assert_eq!(
            csv_header(&m),
            "iteration,env_steps,wall_time,mean_return,episodes,policy_loss,approx_kl"
        );
        let row = csv_row(&m, 1.25);
        assert_eq!(row, "2,512,1.250,21.5,3,-0.125,0.0000001");
        assert_eq!(csv_row(&metrics(1, None), 0.0).split(',').nth(3), Some(""));
    }

    #[test]
    fn a_metrics_file_cut_mid_line_keeps_only_complete_rows() {
        let dir = std::env::temp_dir().join(format!("wengert-metrics-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(METRICS);
        fs::write(
            &path,
            "iteration,env_steps,wall_time,mean_return\n1,256,0.1,\n2,512,0.2,20.5\n3,76",
        )
        .unwrap();
        let (header, rows) = read_metrics(&path).unwrap();
        assert_eq!(rows.len(), 2);
        let returns = column(&header, &rows, "mean_return").unwrap();
        assert!(returns[0].is_nan());
        assert_eq!(returns[1], 20.5);
        assert!(
            column(&header, &rows, "loss")
                .unwrap_err()
                .contains("no column")
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn toml_settings_become_set_arguments() {
        let dir = std::env::temp_dir().join(format!("wengert-toml-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ppo.toml");
        fs::write(
            &path,
            "total_timesteps = 4096\nlearning_rate = 3e-4\nanneal_lr = false\nhidden = [32, 32]\nactivation = \"relu\"\n",
        )
        .unwrap();
        let mut settings = settings_from_toml(&path).unwrap();
        settings.sort();
        let expected = [
            ("activation", "relu"),
            ("anneal_lr", "false"),
            ("hidden", "32,32"),
            ("learning_rate", "0.0003"),
            ("total_timesteps", "4096"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(settings, expected);
        fs::write(&path, "schedule = { a = 1 }\n").unwrap();
        assert!(
            settings_from_toml(&path)
                .unwrap_err()
                .contains("`schedule` must be")
        );
        fs::write(&path, "gamma = \n").unwrap();
        assert!(
            settings_from_toml(&path)
                .unwrap_err()
                .contains("not valid TOML")
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn run_config_and_state_round_trip_through_toml() {
        let config = RunConfig {
            algorithm: "ppo".into(),
            env: "CartPole-v1".into(),
            seed: 3,
            settings: BTreeMap::from([("total_timesteps".into(), "2048".into())]),
            resolved: toml::from_str("gamma = 0.98\nhidden = [64, 64]").unwrap(),
        };
        assert_eq!(config.directory_name(), "ppo-cartpole-v1-3");
        let text = toml::to_string(&config).unwrap();
        assert_eq!(toml::from_str::<RunConfig>(&text).unwrap(), config);
        let state = RunState {
            status: Status::Stopped,
            iteration: 4,
            env_steps: 1024,
            wall_time: 1.5,
        };
        let text = toml::to_string(&state).unwrap();
        assert!(text.contains("status = \"stopped\""), "{text}");
        assert_eq!(toml::from_str::<RunState>(&text).unwrap(), state);
    }
}
