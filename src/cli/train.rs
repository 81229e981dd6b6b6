//! `wengert train`: trains through the algorithm registry, so every registered algorithm is
//! available, and keeps the run directory current.
//!
//! ## Stopping and resuming
//! Ctrl-C sets a flag that the per-iteration callback reads: training stops after the current
//! iteration, the checkpoint is saved and `state.toml` says `stopped` (a second Ctrl-C aborts at
//! once). `--resume <run>` continues a stopped (or killed) run to its budget.
//!
//! The trainers cannot yet start from a checkpoint: that needs the parameters, the optimiser's
//! moments, the random generator, the environments' states, normalisation statistics and the
//! step count, and the registry's `train` takes none of them. Since the same seed gives the
//! same run bit for bit, a resume instead *replays* the run from the start to the saved
//! iteration — checking every replayed iteration's metrics against `metrics.csv`, and failing
//! if they differ — then continues writing. The result is the uninterrupted run; the cost is
//! the replay's time. A `train_from(checkpoint)` hook in the trainers would remove that cost.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wengert::rl::algorithms;
use wengert::rl::train::{IterationMetrics, evaluate};

use super::plot::{self, Series};
use super::runs::{
    self, CONFIG, CURVE, LOG, METRICS, RunConfig, RunState, Status, csv_header, csv_row,
    read_metrics, without_wall_time,
};
use super::{mean_std, parse_settings, resolve_env, write_atomically};

/// The command line of `wengert train`.
pub struct TrainArgs {
    pub algo: Option<String>,
    pub env: Option<String>,
    pub seed: Option<u64>,
    pub config: Option<PathBuf>,
    pub settings: Vec<String>,
    pub runs_dir: PathBuf,
    pub eval_episodes: usize,
    pub resume: Option<PathBuf>,
    pub stop_after: Option<usize>,
    pub progress: bool,
}

/// How a command ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Stopped by Ctrl-C (or `--stop-after`) with a checkpoint saved.
    Stopped,
}

/// Set by Ctrl-C; read by the training callback.
static STOP: AtomicBool = AtomicBool::new(false);

fn install_ctrl_c_handler() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: aborting without saving");
                std::process::exit(130);
            }
            eprintln!("\nstopping after this iteration; the checkpoint will be saved (Ctrl-C again to abort)");
        });
    });
}

/// `wengert train`.
pub fn run(args: TrainArgs) -> Result<Outcome, String> {
    match &args.resume {
        Some(run) => resume(run, &args),
        None => start(&args),
    }
}

fn start(args: &TrainArgs) -> Result<Outcome, String> {
    let algo = args
        .algo
        .as_deref()
        .expect("clap requires it without --resume");
    let env = args
        .env
        .as_deref()
        .expect("clap requires it without --resume");
    algorithms::find(algo).map_err(|e| e.to_string())?;
    let env_id = resolve_env(env)?;

    // Defaults ← config file ← --set, later ones winning.
    let mut settings = match &args.config {
        Some(path) => runs::settings_from_toml(path)?,
        None => Vec::new(),
    };
    settings.extend(parse_settings(&args.settings)?);
    let mut seed = args.seed;
    let mut overrides = std::collections::BTreeMap::new();
    for (key, value) in settings {
        if key == "seed" {
            let parsed = value
                .parse()
                .map_err(|_| format!("`seed` expects a non-negative integer, found `{value}`"))?;
            seed = args.seed.or(Some(parsed));
        } else {
            overrides.insert(key, value);
        }
    }
    let config = RunConfig {
        algorithm: algo.to_string(),
        env: env_id.to_string(),
        seed: seed.unwrap_or(1),
        settings: overrides,
        resolved: String::new(),
    };
    // Checks the settings before anything is written (for algorithms the helper knows).
    let budget =
        algorithms::total_timesteps(algo, env_id, &config.settings()).map_err(|e| e.to_string())?;

    let run = args.runs_dir.join(config.directory_name());
    if let Ok(state) = RunState::read(&run) {
        return Err(format!(
            "{} already holds a run ({:?} at step {}); continue it with `wengert train --resume {}`, or remove it",
            run.display(),
            state.status,
            state.env_steps,
            run.display()
        ));
    }
    fs::create_dir_all(&run).map_err(|e| format!("cannot create {}: {e}", run.display()))?;
    config.write(&run)?;
    let state = RunState {
        status: Status::Running,
        iteration: 0,
        env_steps: 0,
        wall_time: 0.0,
    };
    state.write(&run)?;
    let _ = fs::remove_file(run.join(METRICS));
    println!(
        "training {algo} on {env_id} (seed {}) → {}",
        config.seed,
        run.display()
    );
    let result = train(&run, config, budget, state, Vec::new(), args);
    if result.is_err() && RunState::read(&run).is_ok_and(|s| s.iteration == 0) {
        // Nothing was trained: leave no half-made run behind.
        let _ = fs::remove_dir_all(&run);
    }
    result
}

fn resume(run: &Path, args: &TrainArgs) -> Result<Outcome, String> {
    let run = runs::existing_run(run)?;
    let config = RunConfig::read(&run)?;
    let state = RunState::read(&run)?;
    if state.status == Status::Finished {
        return Err(format!(
            "{} is finished ({} steps); there is nothing to resume",
            run.display(),
            state.env_steps
        ));
    }
    // Keep the rows the checkpoint covers; later rows (written after it by a killed process) and
    // a line cut mid-write are dropped, and will be replayed.
    let (header, mut rows) = read_metrics(&run.join(METRICS))?;
    if rows.len() < state.iteration {
        return Err(format!(
            "{} has {} rows but the checkpoint is from iteration {}: the run directory is damaged",
            run.join(METRICS).display(),
            rows.len(),
            state.iteration
        ));
    }
    rows.truncate(state.iteration);
    let mut text = String::new();
    if !header.is_empty() {
        text = std::iter::once(header.as_str())
            .chain(rows.iter().map(String::as_str))
            .map(|line| format!("{line}\n"))
            .collect();
    }
    write_atomically(&run.join(METRICS), text.as_bytes())
        .map_err(|e| format!("cannot rewrite {}: {e}", run.join(METRICS).display()))?;
    let budget = algorithms::total_timesteps(&config.algorithm, &config.env, &config.settings())
        .map_err(|e| e.to_string())?;
    println!(
        "resuming {} on {} (seed {}) from step {} → {}",
        config.algorithm,
        config.env,
        config.seed,
        state.env_steps,
        run.display()
    );
    train(&run, config, budget, state, rows, args)
}

/// Trains, replaying the first `saved.iteration` iterations (which must reproduce
/// `saved_rows`), then appending to the run directory.
fn train(
    run: &Path,
    mut config: RunConfig,
    budget: Option<usize>,
    saved: RunState,
    saved_rows: Vec<String>,
    args: &TrainArgs,
) -> Result<Outcome, String> {
    install_ctrl_c_handler();
    let bar = progress_bar(budget, args.progress);
    bar.set_position(0);
    let mut metrics_file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.join(METRICS))
        .map_err(|e| format!("cannot open {}: {e}", run.join(METRICS).display()))?;
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.join(LOG))
        .map_err(|e| format!("cannot open {}: {e}", run.join(LOG).display()))?;
    if saved.iteration > 0 {
        let _ = writeln!(
            log,
            "resumed: replaying {} iterations to step {}",
            saved.iteration, saved.env_steps
        );
    }

    let mut replay_wall_at_saved = 0.0;
    let mut divergence: Option<String> = None;
    let mut last: Option<RunState> = None;
    let mut stopped = false;
    let mut write_error: Option<String> = None;
    let result = algorithms::train(
        &config.algorithm,
        &config.env,
        config.seed,
        &config.settings(),
        &mut |m: &IterationMetrics| {
            bar.set_position(m.env_steps as u64);
            let recent = format!(
                "{:.0} steps/s  {}",
                m.env_steps as f64 / m.wall_time.max(1e-9),
                m.mean_return
                    .map_or("return –".to_string(), |r| format!("return {r:.1}"))
            );
            if m.iteration <= saved.iteration {
                let expected = saved_rows
                    .get(m.iteration - 1)
                    .map(|r| without_wall_time(r));
                let replayed = without_wall_time(&csv_row(m, 0.0));
                if expected.as_deref() != Some(replayed.as_str()) {
                    divergence = Some(format!(
                        "the replay differs from the saved run at iteration {}:\n  saved    {}\n  replayed {replayed}",
                        m.iteration,
                        expected.unwrap_or_default()
                    ));
                    return false;
                }
                replay_wall_at_saved = m.wall_time;
                bar.set_message(format!("{recent} (replaying to step {})", saved.env_steps));
            } else {
                let wall_time = saved.wall_time + (m.wall_time - replay_wall_at_saved);
                let mut line = String::new();
                if m.iteration == 1 {
                    line = format!("{}\n", csv_header(m));
                }
                line.push_str(&csv_row(m, wall_time));
                line.push('\n');
                let losses: Vec<String> = m
                    .losses
                    .iter()
                    .map(|(name, value)| format!("{name} {value:.4}"))
                    .collect();
                let summary = format!(
                    "iteration {:>5}  step {:>9}  {recent}  episodes {}  {}",
                    m.iteration,
                    m.env_steps,
                    m.episodes,
                    losses.join("  ")
                );
                if let Err(e) = metrics_file
                    .write_all(line.as_bytes())
                    .and_then(|()| writeln!(log, "{summary}"))
                {
                    write_error = Some(format!("cannot append to {}: {e}", run.display()));
                    return false;
                }
                bar.set_message(recent);
                last = Some(RunState {
                    status: Status::Running,
                    iteration: m.iteration,
                    env_steps: m.env_steps,
                    wall_time,
                });
            }
            let stop_requested = STOP.load(Ordering::SeqCst)
                || args.stop_after.is_some_and(|steps| m.env_steps >= steps);
            if stop_requested {
                stopped = true;
            }
            !stop_requested
        },
    );
    bar.finish_and_clear();
    let trained = result.map_err(|e| e.to_string())?;
    if let Some(error) = write_error {
        return Err(error);
    }
    if let Some(divergence) = divergence {
        return Err(format!(
            "cannot resume {}: {divergence}\n(a resume replays the run with the same seed; a different build or machine can change the numbers)",
            run.display()
        ));
    }
    let Some(mut state) = last else {
        println!(
            "stopped while replaying (before step {}); the run is unchanged",
            saved.env_steps
        );
        return Ok(if stopped {
            Outcome::Stopped
        } else {
            Outcome::Finished
        });
    };

    // The checkpoint first, then the state that points at it.
    config.resolved = trained.config.clone();
    config.write(run)?;
    runs::save_agent(run, trained.agent.as_ref())?;
    state.status = if stopped {
        Status::Stopped
    } else {
        Status::Finished
    };
    state.write(run)?;
    write_learning_curve(run, &config)?;
    if stopped {
        println!(
            "stopped at step {} (iteration {}); checkpoint saved. Continue with `wengert train --resume {}`",
            state.env_steps,
            state.iteration,
            run.display()
        );
        return Ok(Outcome::Stopped);
    }
    let returns =
        evaluate(trained.agent.as_ref(), args.eval_episodes, 10_000).map_err(|e| e.to_string())?;
    let (mean, std) = mean_std(&returns);
    println!(
        "trained {} steps in {:.1} s; deterministic evaluation over {} episodes: {mean:.1} ± {std:.1}",
        state.env_steps, state.wall_time, args.eval_episodes
    );
    println!(
        "wrote {} ({CONFIG}, {METRICS}, {LOG}, {CURVE}, {})",
        run.display(),
        runs::CHECKPOINT
    );
    Ok(Outcome::Finished)
}

fn progress_bar(budget: Option<usize>, visible: bool) -> ProgressBar {
    let bar = match budget {
        Some(total) => ProgressBar::new(total as u64).with_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {human_pos}/{human_len} steps  {msg}  ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        ),
        // An algorithm whose budget the registry cannot tell beforehand: no ETA.
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {human_pos} steps  {msg}")
                .expect("valid template"),
        ),
    };
    if !visible {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Draws `learning_curve.svg` from `metrics.csv`.
pub fn write_learning_curve(run: &Path, config: &RunConfig) -> Result<(), String> {
    let (header, rows) = read_metrics(&run.join(METRICS))?;
    let steps = runs::column(&header, &rows, "env_steps")?;
    let returns = runs::column(&header, &rows, "mean_return")?;
    plot::line_plot(
        &run.join(CURVE),
        &format!(
            "{} on {} (seed {})",
            config.algorithm, config.env, config.seed
        ),
        "environment steps",
        "mean return (last 20 episodes)",
        &[Series::line(&config.algorithm, steps, returns)],
    )
}
