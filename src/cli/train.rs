//! `wengert train`: trains through the algorithm registry, so every registered algorithm is
//! available, and keeps the run directory current.
//!
//! ## Checkpoints, stopping and resuming
//! Every `--checkpoint-every` environment steps (at the end of the iteration that crosses the
//! multiple) the trainer hands over its whole training state — parameters, optimiser moments,
//! random generators, environments, normalisers, replay buffer (see
//! [`wengert::rl::snapshot`]) — which is written to the run directory
//! ([`super::training_state`]) together with the policy checkpoint and `state.toml`.
//! Ctrl-C sets a flag that the per-iteration callback reads: training stops after the current
//! iteration and the same checkpoint is written, with `state.toml` saying `stopped` (a second
//! Ctrl-C aborts at once).
//!
//! `--resume <run>` loads the training state and continues from its iteration — no replay —
//! to the run's budget; the result is the uninterrupted run, bit for bit. A run killed without
//! warning continues from its last checkpoint; the metrics rows written after it are dropped
//! and written again. A run with no training state yet (killed before its first checkpoint)
//! starts over; a run directory from a wengert older than training states cannot be resumed.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wengert::rl::algorithms;
use wengert::rl::common::trainer::Iteration;
use wengert::rl::snapshot::TrainingState;
use wengert::rl::train::evaluate;

use super::plot::{self, Series};
use super::runs::{
    self, CONFIG, CURVE, LOG, METRICS, RunConfig, RunState, Status, csv_header, csv_row,
    read_metrics,
};
use super::{mean_std, parse_settings, resolve_env, training_state, write_atomically};

/// The command line of `wengert train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// The algorithm (see `wengert list`).
    #[arg(required_unless_present = "resume")]
    pub algo: Option<String>,
    /// The environment: a Gymnasium id or a short name such as `cartpole`.
    #[arg(required_unless_present = "resume")]
    pub env: Option<String>,
    /// Random seed (default 1, or `seed` from the config file).
    #[arg(long)]
    pub seed: Option<u64>,
    /// A TOML file of settings, applied before `--set`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a setting, e.g. `--set total_timesteps=50000` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
    /// Where run directories go.
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Deterministic evaluation episodes after training.
    #[arg(long, default_value_t = 10)]
    pub eval_episodes: usize,
    /// Continue a stopped run (a run directory), with its saved configuration.
    /// With `--resume`, `--set total_timesteps=N` extends the run's budget (nothing else may
    /// change).
    #[arg(long, value_name = "RUN", conflicts_with_all = ["algo", "env", "seed", "config"])]
    pub resume: Option<PathBuf>,
    /// Stop as if Ctrl-C was pressed once this many environment steps are done.
    #[arg(long, value_name = "STEPS")]
    pub stop_after: Option<usize>,
    /// Save the whole training state (what `--resume` continues from) every this many
    /// environment steps, at the end of the iteration that crosses the multiple.
    #[arg(long, value_name = "STEPS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: u64,
    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Print the resolved configuration (defaults ← preset ← config file ← --set) as
    /// TOML and exit without training.
    #[arg(long, conflicts_with = "resume")]
    pub show_config: bool,
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
                .map_err(|_| format!("`seed` expects a number in [0, ∞), found `{value}`"))?;
            seed = args.seed.or(Some(parsed));
        } else {
            overrides.insert(key, value);
        }
    }
    let mut config = RunConfig {
        algorithm: algo.to_string(),
        env: env_id.to_string(),
        seed: seed.unwrap_or(1),
        settings: overrides,
        resolved: toml::Table::new(),
    };
    // Resolves and checks the configuration before anything is written: a bad setting or a
    // budget below one iteration leaves no run directory behind.
    let resolved = algorithms::resolve(algo, env_id, config.seed, &config.settings())
        .map_err(|e| e.to_string())?;
    if args.show_config {
        print!("{resolved}");
        return Ok(Outcome::Finished);
    }
    config.resolved = toml::from_str(&resolved).expect("resolve writes TOML");
    let budget = budget_of(&config);

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
    let result = train(&run, config, budget, None, args);
    if result.is_err() && RunState::read(&run).is_ok_and(|s| s.iteration == 0) {
        // Nothing was trained: leave no half-made run behind.
        let _ = fs::remove_dir_all(&run);
    }
    result
}

fn resume(run: &Path, args: &TrainArgs) -> Result<Outcome, String> {
    let run = runs::existing_run(run)?;
    let mut config = RunConfig::read(&run)?;
    let mut state = RunState::read(&run)?;
    if let Some(budget) = extended_budget(&args.settings, &config, &state)? {
        if training_state::load(&run)?.is_none() {
            return Err(format!(
                "{} has no {} to continue from; its budget cannot be extended",
                run.display(),
                training_state::STATE
            ));
        }
        // Checked through the registry (range, one iteration) before anything is written.
        let mut settings = config.settings();
        settings.retain(|(k, _)| k != "total_timesteps");
        settings.push(("total_timesteps".into(), budget.to_string()));
        let resolved = algorithms::resolve(&config.algorithm, &config.env, config.seed, &settings)
            .map_err(|e| e.to_string())?;
        config.resolved = toml::from_str(&resolved).expect("resolve writes TOML");
        config
            .settings
            .insert("total_timesteps".into(), budget.to_string());
        config.write(&run)?;
        if state.status == Status::Finished {
            state.status = Status::Stopped;
            state.write(&run)?;
        }
    }
    if state.status == Status::Finished {
        return Err(format!(
            "{} is finished ({} steps); there is nothing to resume",
            run.display(),
            state.env_steps
        ));
    }
    let saved = training_state::load(&run)?;
    let iteration = saved.as_ref().map_or(0, |s| s.iteration);
    if saved.is_none() && state.iteration > 0 {
        return Err(format!(
            "{} has a checkpoint from iteration {} but no {}: it was made by an older wengert \
             that saved only the policy, and cannot be continued; train it again",
            run.display(),
            state.iteration,
            training_state::STATE
        ));
    }
    // Keep the rows the training state covers; later rows (written after it by a killed
    // process) and a line cut mid-write are dropped, and will be written again.
    let (header, mut rows) = read_metrics(&run.join(METRICS))?;
    if rows.len() < iteration {
        return Err(format!(
            "{} has {} rows but the training state is from iteration {iteration}: the run \
             directory is damaged",
            run.join(METRICS).display(),
            rows.len(),
        ));
    }
    rows.truncate(iteration);
    let text: String = match rows.is_empty() {
        true => String::new(),
        false => std::iter::once(header.as_str())
            .chain(rows.iter().map(String::as_str))
            .map(|line| format!("{line}\n"))
            .collect(),
    };
    write_atomically(&run.join(METRICS), text.as_bytes())
        .map_err(|e| format!("cannot rewrite {}: {e}", run.join(METRICS).display()))?;
    if config.resolved.is_empty() {
        return Err(format!(
            "{} has no resolved configuration in its {CONFIG}: it was made by an older wengert \
             and cannot be continued; train it again",
            run.display()
        ));
    }
    let budget = budget_of(&config);
    println!(
        "resuming {} on {} (seed {}) from step {} → {}",
        config.algorithm,
        config.env,
        config.seed,
        saved.as_ref().map_or(0, |s| s.env_steps),
        run.display()
    );
    train(&run, config, budget, saved, args)
}

/// Trains from the start or from `saved`, appending to the run directory and checkpointing
/// every `checkpoint_every` steps.
/// The budget `--set total_timesteps=N` asks a resumed run for: the one setting that may
/// change on resume, and only upwards from the steps already taken.
fn extended_budget(
    settings: &[String],
    config: &RunConfig,
    state: &RunState,
) -> Result<Option<usize>, String> {
    let mut budget = None;
    for (key, value) in parse_settings(settings)? {
        if key != "total_timesteps" {
            return Err(format!(
                "`--set {key}` cannot change a run being resumed; only `total_timesteps` can be \
                 raised (the run keeps the configuration it was started with)"
            ));
        }
        let steps: usize = value.parse().map_err(|_| {
            format!("`total_timesteps` expects a non-negative integer, found `{value}`")
        })?;
        let current = budget_of(config).unwrap_or(0);
        if steps < current.max(state.env_steps) {
            return Err(format!(
                "`total_timesteps` = {steps} would shrink the run's budget of {current} steps \
                 ({} taken); a resumed run's budget can only grow",
                state.env_steps
            ));
        }
        budget = Some(steps);
    }
    Ok(budget)
}

/// The run's environment-step budget, from its resolved configuration.
fn budget_of(config: &RunConfig) -> Option<usize> {
    config
        .resolved
        .get("total_timesteps")
        .and_then(|v| v.as_integer())
        .map(|steps| steps as usize)
}

fn train(
    run: &Path,
    config: RunConfig,
    budget: Option<usize>,
    saved: Option<TrainingState>,
    args: &TrainArgs,
) -> Result<Outcome, String> {
    install_ctrl_c_handler();
    let bar = progress_bar(budget, !args.no_progress);
    bar.set_position(saved.as_ref().map_or(0, |s| s.env_steps as u64));
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
    if let Some(saved) = &saved {
        let _ = writeln!(
            log,
            "resumed from the training state of iteration {} (step {})",
            saved.iteration, saved.env_steps
        );
    }

    let checkpoint_every = args.checkpoint_every as usize;
    let mut last: Option<RunState> = None;
    let mut stopped = false;
    let mut write_error: Option<String> = None;
    let mut previous_steps = saved.as_ref().map_or(0, |s| s.env_steps);
    let result = algorithms::train_resolved(
        &config.algorithm,
        &config.env,
        &config.resolved_text(),
        saved.as_ref(),
        &mut |i: &Iteration<'_>| {
            let m = i.metrics;
            bar.set_position(m.env_steps as u64);
            let recent = format!(
                "{:.0} steps/s  {}",
                m.env_steps as f64 / m.wall_time.max(1e-9),
                m.mean_return
                    .map_or("return –".to_string(), |r| format!("return {r:.1}"))
            );
            let mut line = String::new();
            if m.iteration == 1 {
                line = format!("{}\n", csv_header(m));
            }
            line.push_str(&csv_row(m, m.wall_time));
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
            let state = RunState {
                status: Status::Running,
                iteration: m.iteration,
                env_steps: m.env_steps,
                wall_time: m.wall_time,
            };
            let stop_requested = STOP.load(Ordering::SeqCst)
                || args.stop_after.is_some_and(|steps| m.env_steps >= steps);
            // The last iteration (the next one would pass the budget) also saves the training
            // state, so that a finished run's budget can be extended with `--resume`.
            let last_iteration =
                budget.is_some_and(|b| m.env_steps + (m.env_steps - previous_steps) > b);
            let due = m.env_steps / checkpoint_every > previous_steps / checkpoint_every
                || last_iteration;
            previous_steps = m.env_steps;
            if due || stop_requested {
                // The training state first, then the policy, then the state that points at them.
                let snapshot = i.training_state();
                let written = training_state::save(run, &snapshot)
                    .and_then(|()| runs::save_policy_from(run, &snapshot))
                    .and_then(|()| state.write(run));
                if let Err(e) = written {
                    write_error = Some(e);
                    return false;
                }
                let _ = writeln!(log, "checkpoint at step {}", m.env_steps);
            }
            last = Some(state);
            if stop_requested {
                stopped = true;
            }
            !stop_requested
        },
    );
    bar.finish_and_clear();
    let trained = result.map_err(|e| match &saved {
        Some(_) => format!(
            "cannot resume {} from {}: {e}",
            run.display(),
            run.join(training_state::STATE).display()
        ),
        None => e.to_string(),
    })?;
    if let Some(error) = write_error {
        return Err(error);
    }
    // No iteration ran but a training state was loaded: the run was killed after its last
    // iteration's checkpoint and before it was marked finished. Its training is complete, and
    // the resume finishes it (final checkpoint, state, evaluation) from that training state.
    let last = last.or_else(|| {
        saved.as_ref().map(|s| RunState {
            status: Status::Running,
            iteration: s.iteration,
            env_steps: s.env_steps,
            wall_time: s.wall_time,
        })
    });
    let Some(mut state) = last else {
        return Err(format!(
            "{} trained no iteration: its budget is already spent",
            run.display()
        ));
    };

    // The checkpoint first, then the state that points at it.
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
    if args.eval_episodes == 0 {
        println!(
            "trained {} steps in {:.1} s; no evaluation (--eval-episodes 0)",
            state.env_steps, state.wall_time
        );
    } else {
        let returns = evaluate(trained.agent.as_ref(), args.eval_episodes, 10_000)
            .map_err(|e| e.to_string())?;
        let (mean, std) = mean_std(&returns);
        println!(
            "trained {} steps in {:.1} s; deterministic evaluation over {} episodes: {mean:.1} ± {std:.1}",
            state.env_steps, state.wall_time, args.eval_episodes
        );
    }
    println!(
        "wrote {} ({CONFIG}, {METRICS}, {LOG}, {CURVE}, {}, {})",
        run.display(),
        runs::CHECKPOINT,
        training_state::STATE
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
