//! The pieces of the `wengert` command: one module per subcommand, plus the run directory and
//! the plots they share.

pub mod control_demos;
pub mod eval;
pub mod frozenlake_values;
pub mod plot;
pub mod policy_report;
pub mod render;
pub mod report;
pub mod rewards;
pub mod runs;
pub mod scaling;
pub mod shooting_report;
pub mod train;
pub mod training_state;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use wengert::rl::algorithms::ALGORITHMS;

/// The environments the command line offers: short name, Gymnasium id, one line about it.
pub const ENVIRONMENTS: [(&str, &str, &str); 8] = [
    (
        "cartpole",
        "CartPole-v1",
        "balance a pole on a cart (2 actions)",
    ),
    (
        "acrobot",
        "Acrobot-v1",
        "swing a two-link arm above a line (3 actions)",
    ),
    (
        "pendulum",
        "Pendulum-v1",
        "swing up and hold a pendulum (continuous torque)",
    ),
    (
        "mountaincar",
        "MountainCar-v0",
        "drive an underpowered car up a hill (3 actions)",
    ),
    (
        "mountaincar-continuous",
        "MountainCarContinuous-v0",
        "the same with a continuous force",
    ),
    (
        "cartpole-novel",
        "CartPoleNoVel-v1",
        "CartPole seeing x and θ only: velocities masked (rl-zoo)",
    ),
    (
        "pendulum-novel",
        "PendulumNoVel-v1",
        "Pendulum seeing cos θ and sin θ only: θ̇ masked (rl-zoo)",
    ),
    (
        "pointnav",
        "PointNavigation-v0",
        "push a point mass around a 2D box to a goal (continuous force)",
    ),
];

/// The Gymnasium id of `name` (a short name, case-insensitive, or the id itself).
pub fn resolve_env(name: &str) -> Result<&'static str, String> {
    ENVIRONMENTS
        .iter()
        .find(|(short, id, _)| name.eq_ignore_ascii_case(short) || name.eq_ignore_ascii_case(id))
        .map(|(_, id, _)| *id)
        .ok_or_else(|| {
            let valid: Vec<String> = ENVIRONMENTS
                .iter()
                .map(|(s, id, _)| format!("{s} ({id})"))
                .collect();
            format!(
                "unknown environment `{name}`; valid environments: {}",
                valid.join(", ")
            )
        })
}

/// `wengert list`.
pub fn list() {
    println!("algorithms:");
    for algorithm in ALGORITHMS {
        let spaces = match (algorithm.discrete, algorithm.continuous) {
            (true, true) => "discrete+continuous",
            (true, false) => "discrete",
            _ => "continuous",
        };
        println!(
            "  {:<24} {:<20} {}",
            algorithm.name, spaces, algorithm.about
        );
    }
    println!("environments:");
    for (short, id, about) in ENVIRONMENTS {
        println!("  {short:<24} {id:<26} {about}");
    }
    println!("control demos (wengert control <demo>):");
    for demo in control_demos::DEMOS {
        println!("  {:<24} {}", demo.name, demo.about);
    }
}

/// Parses `KEY=VALUE` arguments.
pub fn parse_settings(arguments: &[String]) -> Result<Vec<(String, String)>, String> {
    arguments
        .iter()
        .map(|setting| {
            setting
                .split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("--set expects KEY=VALUE, found `{setting}`"))
        })
        .collect()
}

/// Writes `path` so that a reader (or a crash) sees either the old file or the new one, never
/// half of one: a temporary file beside it, synced, then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(error) = written.and_then(|()| fs::rename(&temporary, path)) {
        let _ = fs::remove_file(&temporary);
        return Err(error);
    }
    Ok(())
}

/// Mean and (population) standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let count = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / count;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_resolve_by_short_name_or_id_and_unknown_ones_list_the_valid() {
        assert_eq!(resolve_env("cartpole").unwrap(), "CartPole-v1");
        assert_eq!(resolve_env("Pendulum-v1").unwrap(), "Pendulum-v1");
        let error = resolve_env("cartpool").unwrap_err();
        assert!(error.contains("cartpole (CartPole-v1)"), "{error}");
    }

    #[test]
    fn an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("wengert-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.toml");
        write_atomically(&path, b"old").unwrap();
        write_atomically(&path, b"new contents").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new contents");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn settings_need_a_key_and_a_value() {
        let parsed = parse_settings(&["gamma = 0.9".into()]).unwrap();
        assert_eq!(parsed, vec![("gamma".to_string(), "0.9".to_string())]);
        assert!(parse_settings(&["gamma".into()]).is_err());
        assert!(parse_settings(&["=1".into()]).is_err());
    }
}
