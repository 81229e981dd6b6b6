//! The `wengert` command: train, evaluate and watch agents, run the learning-results report and
//! the optimal-control demonstrations.
//!
//! ```text
//! wengert list
//! wengert train ppo cartpole [--seed 1] [--config file.toml] [--set key=value]… [--runs-dir runs]
//! wengert train ppo cartpole --checkpoint-every 20000
//! wengert train --resume runs/ppo-cartpole-v1-1
//! wengert eval runs/ppo-cartpole-v1-1 [--episodes 10] [--gif cartpole.gif]
//! wengert report scaling [--algo impala] [--env cartpole] [--actors 1,2] [--steps 200000]
//! wengert report learning [--algo ppo] [--env cartpole] [--seeds 5 [--seed-start 101] | --seeds 101,102,103]
//! wengert report policy-from-control [--seeds 5 [--seed-start 3]] [--rows gps-pendulum,…] [--methods dagger,bc] [--out reports]
//! wengert report shooting-vs-collocation [--seed 1] [--out reports]
//! wengert report frozenlake-values [--out reports]
//! wengert report diayn [--seeds 5] [--max-steps 20000]
//! wengert report shaping [--seeds 5] [--env MountainCar-v0]
//! wengert control ilqr-pendulum
//! ```

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::train::{Outcome, TrainArgs};

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
    /// List the algorithms, environments and control demonstrations, one line each.
    List,
    /// Train an agent with the algorithm's documented defaults for the environment.
    ///
    /// Settings come from the algorithm's defaults for the environment, then the TOML file of
    /// `--config` (a flat table such as `total_timesteps = 50000`), then `--set` in order. The
    /// run goes to `<runs-dir>/<algo>-<env>-<seed>/`: config.toml, metrics.csv, train.log,
    /// learning_curve.svg, policy.safetensors, state.toml and the training state
    /// (training_state.toml and .safetensors: parameters, optimiser moments, random
    /// generators, environments, normalisers, replay buffer), written every
    /// `--checkpoint-every` steps. Ctrl-C stops after the current iteration and saves a
    /// checkpoint. `--resume <run>` loads the training state and continues from its step —
    /// no replay — to the same result as an uninterrupted run, bit for bit; a run killed
    /// without warning continues from its last checkpoint.
    Train(TrainArgs),
    /// Evaluate a run's checkpoint deterministically; optionally record an episode as a GIF.
    Eval {
        /// The run directory.
        run: PathBuf,
        /// Episodes to evaluate.
        #[arg(long, default_value_t = 10)]
        episodes: usize,
        /// Seed of the first episode (episode i uses seed + i).
        #[arg(long, default_value_t = 10_000)]
        seed: u64,
        /// Record the first episode as an animated GIF at this path.
        #[arg(long, value_name = "OUT.gif")]
        gif: Option<PathBuf>,
    },
    /// Reports: `learning` runs the learning-results table of the policy-gradient and
    /// value-based issues; `shooting-vs-collocation` the constrained-control comparison.
    Report {
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Run an optimal-control demonstration, printing iterations and costs and plotting states
    /// and controls (see `wengert list`).
    Control {
        /// The demonstration.
        demo: String,
        /// Where the plots go (default `runs/control-<demo>`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Train every (algorithm, environment) row of the learning-results table over several
    /// seeds in parallel threads; write a Markdown table and one plot per environment.
    Learning {
        /// Only rows of this algorithm.
        #[arg(long)]
        algo: Option<String>,
        /// Only rows of this environment.
        #[arg(long)]
        env: Option<String>,
        /// Seeds per row: a count (`5`: seeds 1 to 5, or from `--seed-start`) or a list of
        /// seeds (`101,102,103`).
        #[arg(long, value_name = "COUNT|LIST", default_value = "5")]
        seeds: cli::report::Seeds,
        /// The first seed of a count of seeds, for fresh seeds (`--seeds 5 --seed-start 101`).
        #[arg(long, value_name = "SEED")]
        seed_start: Option<u64>,
        /// Threads training seeds at once (default: the machine's cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Cap every row's budget at this many steps (a smoke run: the targets do not apply).
        #[arg(long, value_name = "STEPS")]
        max_steps: Option<usize>,
        /// Where the table and plots go.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// DIAYN's skills (issue 22) on PointNavigation-v0 (K = 8, 100k steps) and
    /// MountainCarContinuous-v0 (K = 10, 200k steps): the discriminator's accuracy on fresh
    /// rollouts, the skills' spread or best true return, E[log q(z|s)] over training, and the
    /// skills' trajectories, one colour per skill.
    Diayn {
        #[command(flatten)]
        common: RewardsFlags,
    },
    /// Potential-based reward shaping (issue 22): Q-learning's episodes to success on
    /// FrozenLake 8×8 with Φ = V* against no shaping, and PPO's on MountainCar-v0 with a height
    /// potential and with Φ ≈ V* (value iteration on a grid) against none.
    Shaping {
        #[command(flatten)]
        common: RewardsFlags,
    },
    /// Train an algorithm with 1, 2, … actors one after the other and tabulate environment
    /// steps per second and the speed-up (IMPALA's asynchronous actors).
    Scaling {
        /// The algorithm (one with a `num_actors` setting).
        #[arg(long, default_value = "impala")]
        algo: String,
        /// The environment.
        #[arg(long, default_value = "cartpole")]
        env: String,
        /// The counts of actors, comma-separated; they alternate in every round.
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        actors: Vec<usize>,
        /// Rounds over the counts of actors (medians over the rounds).
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Environment steps per run.
        #[arg(long, default_value_t = 200_000)]
        steps: usize,
        /// More settings for every run, `key=value`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// The training seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where the table goes.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// Train MLP policies from optimal control — guided policy search on the pendulum swing-up,
    /// DAgger and behaviour cloning with an MPC expert on Pendulum-v1 and with an LQR expert on a
    /// linear system — and run them alone, over seeds.
    PolicyFromControl {
        /// Seeds: a count (`5`: seeds 1 to 5, or from `--seed-start`) or a list (`101,102`).
        #[arg(long, value_name = "COUNT|LIST", default_value = "5")]
        seeds: cli::report::Seeds,
        /// The first seed of a count of seeds (`--seeds 1 --seed-start 3`: seed 3 alone).
        #[arg(long)]
        seed_start: Option<u64>,
        /// Only these rows (comma-separated: gps-pendulum, gps-cart-pole, pendulum-v1,
        /// linear); all by default.
        #[arg(long, value_delimiter = ',')]
        rows: Vec<String>,
        /// Only these methods of the pendulum-v1 row (comma-separated: expert, plato, dagger,
        /// bc); all by default.
        #[arg(long, value_delimiter = ',')]
        methods: Vec<String>,
        /// Where the table goes.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// Solve the cart-pole swing-up by shooting (AL-iLQR) and by direct collocation from the
    /// same bad initial guesses (infeasible states, unstable rollouts); tabulate convergence,
    /// iterations, time, cost and violation.
    ShootingVsCollocation {
        /// Seed of the noisy and random guesses.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where the table goes.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// Value iteration on Gymnasium's slippery FrozenLake 4×4 and 8×8 (γ = 0.99): SVG heatmaps
    /// of V* with the greedy actions, holes and goal.
    FrozenlakeValues {
        /// Where the SVGs go.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct RewardsFlags {
    /// Seeds: a count (`5`: seeds 1 to 5, or from `--seed-start`) or a list (`101,102,103`).
    #[arg(long, value_name = "COUNT|LIST", default_value = "5")]
    seeds: cli::report::Seeds,
    /// The first seed of a count of seeds.
    #[arg(long, value_name = "SEED")]
    seed_start: Option<u64>,
    /// Only the rows of this environment (DIAYN: `PointNavigation-v0` or
    /// `MountainCarContinuous-v0`; shaping: `FrozenLake8x8-v1` or `MountainCar-v0`); the table
    /// is then written to `<report>-<env>.md`.
    #[arg(long)]
    env: Option<String>,
    /// Threads training seeds at once (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    /// DIAYN: cap every row's budget at this many steps (the targets then do not apply);
    /// shaping: the most Q-learning episodes, and a cap on PPO's steps.
    #[arg(long, value_name = "STEPS")]
    max_steps: Option<usize>,
    /// Where the tables and plots go.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// shaping: PPO on MountainCar-v0 with running observation normalisation (rl-zoo's
    /// `normalize: true`), in place of CleanRL's raw observations.
    #[arg(long)]
    normalize_observations: bool,
}

impl RewardsFlags {
    fn args(self) -> Result<cli::rewards::RewardsArgs, String> {
        Ok(cli::rewards::RewardsArgs {
            seeds: self.seeds.resolve(self.seed_start)?,
            env: self.env,
            threads: self.threads.unwrap_or_else(wengert::rl::exec::cores),
            max_steps: self.max_steps,
            out: self.out,
            normalize_observations: self.normalize_observations,
        })
    }
}

/// The command's allocator. Training allocates and frees the same arrays every minibatch (a
/// tape's values and gradients, dropped with the tape); mimalloc serves them from per-size free
/// lists, where glibc's allocator spent 8 % of a PPO CartPole run splitting and merging chunks
/// (`perf`: `_int_malloc`, `_int_free`, `malloc_consolidate`). Results are the same bit for
/// bit; the run takes about 0.9 of the time (BENCHMARKS.md).
///
/// Freed pages stay with the process ([`keep_freed_pages`]).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tells mimalloc never to return freed pages to the system. By default (mimalloc v3) it does
/// so a second after they empty, and a training loop, which frees a tape's arrays and allocates
/// them again every minibatch, then faults the same pages back in and has the kernel zero them
/// (`perf`: `clear_page_erms`, 0.9 % of a PPO CartPole run); without it the run took 0.95 of
/// the time. The footprint stays at its peak: 28 MB at most in that run.
fn keep_freed_pages() {
    // SAFETY: setting an option is allowed at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
}

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3): the 16th option, in milliseconds, -1 for
/// never (the sys crate names no constant for it; it builds mimalloc v3, where the default is
/// 1000).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Lets a closed stdout end the program the way it ends `ls` or `cat`: quietly, killed by
/// SIGPIPE. Rust sets SIGPIPE to "ignore" before `main`, so a write to a pipe whose reader has
/// gone (`wengert train … | head -1`) returns an error instead, and `println!` turns that into
/// a panic and exit status 101. Restoring the default disposition once, here, covers every
/// print of every subcommand; handling the error instead would mean replacing each `println!`
/// with a checked write. Only writes to a pipe raise the signal (files never do), and a training
/// run ended this way resumes from its last checkpoint like any killed run.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn restore_default_sigpipe() {
    // SAFETY: `signal` with a valid signal number and SIG_DFL only changes the disposition; it
    // runs first in `main`, before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    restore_default_sigpipe();
    keep_freed_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            cli::list();
            Ok(Outcome::Finished)
        }
        Command::Train(args) => cli::train::run(args),
        Command::Eval {
            run,
            episodes,
            seed,
            gif,
        } => cli::eval::run(&run, episodes, seed, gif.as_deref()).map(|()| Outcome::Finished),
        Command::Report {
            report:
                ReportCommand::Learning {
                    algo,
                    env,
                    seeds,
                    seed_start,
                    threads,
                    max_steps,
                    out,
                },
        } => cli::report::run_learning(&cli::report::LearningArgs {
            algo,
            env,
            seeds,
            seed_start,
            threads,
            max_steps,
            out,
        })
        .map(|()| Outcome::Finished),
        Command::Report {
            report: ReportCommand::Diayn { common },
        } => common
            .args()
            .and_then(|args| cli::rewards::run_diayn(&args))
            .map(|()| Outcome::Finished),
        Command::Report {
            report: ReportCommand::Shaping { common },
        } => common
            .args()
            .and_then(|args| cli::rewards::run_shaping(&args))
            .map(|()| Outcome::Finished),
        Command::Report {
            report:
                ReportCommand::Scaling {
                    algo,
                    env,
                    actors,
                    rounds,
                    steps,
                    settings,
                    seed,
                    out,
                },
        } => cli::parse_settings(&settings)
            .and_then(|settings| {
                cli::scaling::run_scaling(&cli::scaling::ScalingArgs {
                    algo,
                    env,
                    actors,
                    rounds,
                    steps,
                    settings,
                    seed,
                    out,
                })
            })
            .map(|()| Outcome::Finished),
        Command::Report {
            report:
                ReportCommand::PolicyFromControl {
                    seeds,
                    seed_start,
                    rows,
                    methods,
                    out,
                },
        } => seeds
            .resolve(seed_start)
            .and_then(|seeds| cli::policy_report::run(&out, &seeds, &rows, &methods))
            .map(|()| Outcome::Finished),
        Command::Report {
            report: ReportCommand::ShootingVsCollocation { seed, out },
        } => cli::shooting_report::run(&out, seed).map(|()| Outcome::Finished),
        Command::Report {
            report: ReportCommand::FrozenlakeValues { out },
        } => cli::frozenlake_values::run(&out).map(|()| Outcome::Finished),
        Command::Control { demo, out } => {
            cli::control_demos::run(&demo, out).map(|()| Outcome::Finished)
        }
    };
    match result {
        Ok(Outcome::Finished) => ExitCode::SUCCESS,
        // The conventional status of a program stopped by SIGINT.
        Ok(Outcome::Stopped) => ExitCode::from(130),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_pages_are_kept() {
        // The option is the purge delay: it starts at v3's default of 1000 ms (unless the
        // environment sets it) and is then "never".
        // SAFETY: reading and setting options is allowed at any time.
        let before = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(before, 1000, "option {PURGE_DELAY} is not the purge delay");
        }
        keep_freed_pages();
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }, -1);
    }
}
