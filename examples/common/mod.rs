//! What the reinforcement-learning examples share: their command line
//! `[seed] [env_id] [key=value]…`, read into the configuration `wengert train` would use (the
//! preset for `env_id`, the seed, then the overrides, each checked against its range), and the
//! deterministic evaluation they end with.
//!
//! A command line the example cannot use ends it with a message naming the argument and what
//! was expected, before any training. Tested in `tests/examples.rs`.

use wengert::rl::algorithms::resolve;
use wengert::rl::common::config::{self, Config};
use wengert::rl::train::{Agent, evaluate};

/// An example's run: the seed, the environment and the checked configuration.
pub struct Run<C> {
    pub seed: u64,
    pub env_id: String,
    pub config: C,
}

/// The run `algorithm` (a registry name: `ppo`, `npg`, …) makes of the process's command line,
/// on `default_env` unless the line names another; a bad line ends the process with its
/// message (exit code 2).
pub fn run<C: Config>(algorithm: &str, default_env: &str) -> Run<C> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    parse(algorithm, default_env, &arguments).unwrap_or_else(|message| {
        eprintln!("error: {message}");
        eprintln!("usage: [seed] [env_id] [key=value]…");
        std::process::exit(2)
    })
}

/// [`run`] of `arguments`: the positional seed (default 1) and environment id, in that order,
/// and `key=value` settings anywhere.
pub fn parse<C: Config>(
    algorithm: &str,
    default_env: &str,
    arguments: &[String],
) -> Result<Run<C>, String> {
    let (settings, positional): (Vec<&String>, Vec<&String>) =
        arguments.iter().partition(|a| a.contains('='));
    let seed = match positional.first() {
        None => 1,
        Some(text) => text.parse().map_err(|_| {
            format!("the first argument is the seed, a whole number ≥ 0, found `{text}`")
        })?,
    };
    let env_id = positional.get(1).map_or(default_env, |id| id.as_str());
    if let Some(extra) = positional.get(2) {
        return Err(format!(
            "unexpected argument `{extra}`: after the seed and the environment id, settings are key=value"
        ));
    }
    let settings = settings
        .iter()
        .map(|setting| match setting.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_string(), value.trim().to_string()))
            }
            _ => Err(format!("a setting is key=value, found `{setting}`")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let resolved = resolve(algorithm, env_id, seed, &settings).map_err(|e| e.to_string())?;
    Ok(Run {
        seed,
        env_id: env_id.to_string(),
        config: config::from_toml(&resolved)?,
    })
}

/// The returns of `agent`'s deterministic policy over 10 episodes (seeds 1000…1009) and their mean.
pub fn evaluation(agent: &dyn Agent) -> (f64, Vec<f64>) {
    let returns = evaluate(agent, 10, 1000).unwrap_or_else(|e| {
        eprintln!("error: the evaluation failed: {e}");
        std::process::exit(1)
    });
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    (mean, returns)
}
