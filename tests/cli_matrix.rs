//! The whole path a user takes — `train` → `eval` (reproducing the training's final
//! evaluation exactly) → `eval --gif` (a valid GIF) → `train --resume --set total_timesteps=…`
//! (extending the budget) — for every algorithm on every environment `wengert list` pairs it
//! with; and every setting of every algorithm, fed an out-of-range value on the command line,
//! exits 2 naming the setting and its range, with nothing written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use wengert::rl::algorithms::ALGORITHMS;
use wengert::rl::env::{Space, make};

fn wengert() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wengert"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wengert-matrix-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The environments `wengert list` shows: (short name, Gymnasium id).
const ENVIRONMENTS: [(&str, &str); 8] = [
    ("cartpole", "CartPole-v1"),
    ("acrobot", "Acrobot-v1"),
    ("mountaincar", "MountainCar-v0"),
    ("pendulum", "Pendulum-v1"),
    ("mountaincar-continuous", "MountainCarContinuous-v0"),
    ("cartpole-novel", "CartPoleNoVel-v1"),
    ("pendulum-novel", "PendulumNoVel-v1"),
    ("pointnav", "PointNavigation-v0"),
];

/// Settings that make one iteration a few dozen steps and the networks small, and the budget
/// of two iterations (the resumed run gets four).
fn tiny(algorithm: &str) -> (Vec<&'static str>, usize) {
    match algorithm {
        "ppo" => (
            vec![
                "num_envs=2",
                "num_steps=16",
                "num_minibatches=2",
                "update_epochs=2",
                "hidden=8,8",
            ],
            64,
        ),
        "recurrent_ppo" => (
            vec![
                "num_envs=2",
                "num_steps=16",
                "batch_size=16",
                "update_epochs=2",
                "lstm_hidden_size=8",
                "hidden=8",
            ],
            64,
        ),
        "reinforce" => (vec!["num_envs=2", "num_steps=16", "hidden=8,8"], 64),
        "a2c" => (vec!["num_envs=2", "num_steps=16", "hidden=8,8"], 64),
        "trpo" | "npg" => (
            vec![
                "num_envs=2",
                "num_steps=16",
                "batch_size=16",
                "n_critic_updates=1",
                "hidden=8,8",
            ],
            64,
        ),
        "impala" => (
            vec![
                "num_actors=2",
                "num_envs=2",
                "unroll_length=8",
                "batch_size=2",
                "hidden=8,8",
            ],
            64,
        ),
        "r2d2" => (
            vec![
                "buffer_size=64",
                "learning_starts=16",
                "batch_size=4",
                "log_interval=32",
                "encoder_hidden=8",
                "lstm_hidden=8",
                "burn_in=2",
                "learn_length=4",
                "sequence_period=4",
                "n_step=2",
                "train_freq=4",
            ],
            64,
        ),
        "dqn" => (
            vec![
                "buffer_size=256",
                "learning_starts=16",
                "batch_size=8",
                "log_interval=32",
                "hidden=8,8",
            ],
            64,
        ),
        "diayn" => (
            vec![
                "buffer_size=256",
                "learning_starts=16",
                "batch_size=8",
                "log_interval=32",
                "hidden=8,8",
                "discriminator_hidden=8",
                "skills=3",
            ],
            64,
        ),
        _ => (
            vec![
                "buffer_size=256",
                "learning_starts=16",
                "batch_size=8",
                "log_interval=32",
                "hidden=8,8",
            ],
            64,
        ),
    }
}

fn evaluation_line(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| {
            l.split_once("deterministic evaluation over ")
                .map(|(_, e)| e.to_string())
        })
        .unwrap_or_else(|| panic!("no evaluation in {stdout}"))
}

fn check_pair(algorithm: &str, env: &str, env_id: &str, runs: &Path) {
    let (settings, budget) = tiny(algorithm);
    let mut train = wengert();
    train.args([
        "train",
        algorithm,
        env,
        "--no-progress",
        "--eval-episodes",
        "2",
    ]);
    train.args(["--set", &format!("total_timesteps={budget}")]);
    for s in &settings {
        train.args(["--set", s]);
    }
    let output = train.arg("--runs-dir").arg(runs).output().unwrap();
    let what = format!("{algorithm} on {env}");
    assert!(output.status.success(), "{what}: {}", text(&output));
    let trained = evaluation_line(&String::from_utf8_lossy(&output.stdout));
    let run = runs.join(format!("{algorithm}-{}-1", env_id.to_lowercase()));

    let output = wengert()
        .arg("eval")
        .arg(&run)
        .args(["--episodes", "2"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{what} eval: {}", text(&output));
    let evaluated = evaluation_line(&String::from_utf8_lossy(&output.stdout));
    assert_eq!(
        evaluated, trained,
        "{what}: eval reproduces the training's evaluation"
    );

    let gif = runs.join(format!("{algorithm}-{env}.gif"));
    let output = wengert()
        .arg("eval")
        .arg(&run)
        .args(["--episodes", "1", "--gif"])
        .arg(&gif)
        .output()
        .unwrap();
    assert!(output.status.success(), "{what} gif: {}", text(&output));
    let decoder = gif::DecodeOptions::new()
        .read_info(fs::File::open(&gif).unwrap())
        .unwrap_or_else(|e| panic!("{what}: not a GIF: {e}"));
    assert!(decoder.width() > 0 && decoder.height() > 0, "{what}");

    let output = wengert()
        .args(["train", "--resume"])
        .arg(&run)
        .args(["--no-progress", "--eval-episodes", "0"])
        .args(["--set", &format!("total_timesteps={}", 2 * budget)])
        .output()
        .unwrap();
    assert!(output.status.success(), "{what} resume: {}", text(&output));
    let metrics = fs::read_to_string(run.join("metrics.csv")).unwrap();
    let last = metrics.lines().last().unwrap();
    let steps: usize = last.split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(steps, 2 * budget, "{what}: the extended budget is trained");
}

#[test]
fn every_algorithm_trains_evaluates_records_and_resumes_on_every_environment_it_handles() {
    let runs = scratch("pairs");
    let mut pairs = Vec::new();
    for algorithm in ALGORITHMS {
        for (env, env_id) in ENVIRONMENTS {
            let fits = match make(env_id).unwrap().action_space() {
                Space::Discrete { .. } => algorithm.discrete,
                Space::Box(_) => algorithm.continuous,
            };
            if fits {
                pairs.push((algorithm.name, env, env_id));
            }
        }
    }
    // Two at a time: each pair is a handful of short processes.
    std::thread::scope(|scope| {
        for chunk in pairs.chunks(pairs.len().div_ceil(2)) {
            let runs = &runs;
            scope.spawn(move || {
                for (algorithm, env, env_id) in chunk {
                    check_pair(algorithm, env, env_id, runs);
                }
            });
        }
    });
    fs::remove_dir_all(&runs).unwrap();
}

#[test]
fn every_setting_of_every_algorithm_out_of_range_on_the_command_line_exits_2_writing_nothing() {
    let runs = scratch("settings");
    for algorithm in ALGORITHMS {
        let env = ENVIRONMENTS
            .iter()
            .find(|(_, id)| match make(id).unwrap().action_space() {
                Space::Discrete { .. } => algorithm.discrete,
                Space::Box(_) => algorithm.continuous,
            })
            .unwrap()
            .0;
        for (key, range) in algorithm.ranges() {
            for x in range.outside() {
                let value = match x {
                    x if x.is_nan() => "nan".to_string(),
                    f64::INFINITY => "inf".to_string(),
                    f64::NEG_INFINITY => "-inf".to_string(),
                    x => format!("{x}"),
                };
                let output = wengert()
                    .args([
                        "train",
                        algorithm.name,
                        env,
                        "--set",
                        &format!("{key}={value}"),
                    ])
                    .arg("--runs-dir")
                    .arg(&runs)
                    .output()
                    .unwrap();
                let what = format!("{} {key}={value}", algorithm.name);
                let stderr = String::from_utf8_lossy(&output.stderr);
                assert_eq!(output.status.code(), Some(2), "{what}: {}", text(&output));
                assert!(
                    stderr.contains(&format!("`{key}`")) && stderr.contains(&range.to_string()),
                    "{what}: {stderr}"
                );
                assert!(!stderr.contains("panicked"), "{what}: {stderr}");
                assert_eq!(
                    fs::read_dir(&runs).unwrap().count(),
                    0,
                    "{what}: a rejected run wrote into {}",
                    runs.display()
                );
            }
        }
    }
    fs::remove_dir_all(&runs).unwrap();
}
