//! The `wengert` command: train and evaluate agents from the terminal.
//!
//! ```text
//! wengert list
//! wengert train ppo cartpole [--seed 1] [--set key=value]… [--runs-dir runs]
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use wengert::rl::algorithms::{self, ALGORITHMS};
use wengert::rl::train::{IterationMetrics, evaluate};

#[derive(Parser)]
#[command(
    name = "wengert",
    version,
    about = "Autodiff, neural networks, reinforcement learning and control, from scratch"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the algorithms and environments.
    List,
    /// Train an agent with the algorithm's defaults for the environment.
    Train {
        /// The algorithm (see `wengert list`).
        algo: String,
        /// The environment: a Gymnasium id or a short name such as `cartpole`.
        env: String,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Override a hyperparameter, e.g. `--set total_timesteps=50000` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Where run directories go.
        #[arg(long, default_value = "runs")]
        runs_dir: PathBuf,
        /// Deterministic evaluation episodes after training.
        #[arg(long, default_value_t = 10)]
        eval_episodes: usize,
    },
}

const ENVIRONMENTS: [(&str, &str, &str); 5] = [
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
];

fn resolve_env(name: &str) -> Result<&'static str, String> {
    ENVIRONMENTS
        .iter()
        .find(|(short, id, _)| name.eq_ignore_ascii_case(short) || name == *id)
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            println!("algorithms:");
            for algorithm in ALGORITHMS {
                println!("  {:<24} {}", algorithm.name, algorithm.about);
            }
            println!("environments:");
            for (short, id, about) in ENVIRONMENTS {
                println!("  {short:<24} {id:<26} {about}");
            }
            Ok(())
        }
        Command::Train {
            algo,
            env,
            seed,
            settings,
            runs_dir,
            eval_episodes,
        } => run_train(&algo, &env, seed, &settings, &runs_dir, eval_episodes),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_train(
    algo: &str,
    env: &str,
    seed: u64,
    settings: &[String],
    runs_dir: &Path,
    eval_episodes: usize,
) -> Result<(), String> {
    algorithms::find(algo).map_err(|e| e.to_string())?;
    let env_id = resolve_env(env)?;
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|setting| {
            setting
                .split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("--set expects KEY=VALUE, found `{setting}`"))
        })
        .collect::<Result<_, _>>()?;

    let run_dir = runs_dir.join(format!("{algo}-{}-{seed}", env_id.to_lowercase()));
    fs::create_dir_all(&run_dir)
        .map_err(|e| format!("cannot create {}: {e}", run_dir.display()))?;
    let metrics_path = run_dir.join("metrics.csv");
    let mut metrics_file = fs::File::create(&metrics_path)
        .map_err(|e| format!("cannot create {}: {e}", metrics_path.display()))?;
    let mut header_written = false;

    println!(
        "training {algo} on {env_id} (seed {seed}) → {}",
        run_dir.display()
    );
    let mut last_print = f64::NEG_INFINITY;
    let run = algorithms::train(
        algo,
        env_id,
        seed,
        &settings,
        &mut |m: &IterationMetrics| {
            if !header_written {
                let names: Vec<&str> = m.losses.iter().map(|(n, _)| *n).collect();
                let _ = writeln!(
                    metrics_file,
                    "iteration,env_steps,wall_time,mean_return,episodes,{}",
                    names.join(",")
                );
                header_written = true;
            }
            let values: Vec<String> = m.losses.iter().map(|(_, v)| format!("{v}")).collect();
            let mean_return = m.mean_return.map_or(String::new(), |r| format!("{r}"));
            let _ = writeln!(
                metrics_file,
                "{},{},{:.3},{},{},{}",
                m.iteration,
                m.env_steps,
                m.wall_time,
                mean_return,
                m.episodes,
                values.join(",")
            );
            if m.wall_time - last_print >= 1.0 {
                last_print = m.wall_time;
                let rate = m.env_steps as f64 / m.wall_time.max(1e-9);
                println!(
                    "{:>9} steps  {:>8.0} steps/s  return {:>8.1}  episodes {:>5}",
                    m.env_steps,
                    rate,
                    m.mean_return.unwrap_or(f64::NAN),
                    m.episodes
                );
            }
            true
        },
    )
    .map_err(|e| e.to_string())?;

    fs::write(
        run_dir.join("config.txt"),
        format!(
            "algorithm = {algo}\nenv = {env_id}\nseed = {seed}\n{}\n",
            run.config
        ),
    )
    .map_err(|e| format!("cannot write the config: {e}"))?;
    let checkpoint = run_dir.join("policy.safetensors");
    wengert::nn::checkpoint::save(&checkpoint, run.agent.store()).map_err(|e| e.to_string())?;
    let returns = evaluate(run.agent.as_ref(), eval_episodes, 10_000).map_err(|e| e.to_string())?;
    let count = returns.len().max(1) as f64;
    let mean = returns.iter().sum::<f64>() / count;
    let std = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / count).sqrt();
    println!("deterministic evaluation over {eval_episodes} episodes: {mean:.1} ± {std:.1}");
    println!(
        "wrote {}, {} and {}",
        run_dir.join("config.txt").display(),
        metrics_path.display(),
        checkpoint.display()
    );
    Ok(())
}
