//! `wengert report diayn` and `wengert report shaping`: the measured results of issue 22.
//!
//! **DIAYN.** Every seed trains DIAYN with its preset for the environment at the row's budget,
//! recording `E[log q(z|s)]` (the replayed batches' mean, per iteration). Then each skill `z`
//! runs 3 fresh deterministic episodes in the `+skills=K:z` environment; the discriminator's
//! accuracy is the fraction of the visited states it assigns to `z`. On PointNavigation the
//! skills' mean final positions are compared pairwise; on MountainCarContinuous each skill's
//! return on the true reward is measured. The first seed's trajectories are drawn, one colour
//! per skill.
//!
//! **Shaping.** Tabular Q-learning on slippery FrozenLake 8×8, with and without `Φ = V*`
//! (`--set shaping=value` on the command line): the episodes until the greedy policy's exact
//! probability of reaching the goal within 200 steps is 90 % of the optimum's, checked every
//! 250 episodes. PPO on MountainCar-v0 with the height potential and with `Φ ≈ V*`
//! (`--set shaping=vstar`) against no shaping: the training episodes until the first reaches the
//! flag.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;

use ndarray::Array2;
use wengert::rl::algorithms::diayn::{Diayn, DiaynConfig, SkillAgent};
use wengert::rl::algorithms::ppo::{Ppo, PpoConfig};
use wengert::rl::algorithms::preset;
use wengert::rl::common::config;
use wengert::rl::common::trainer::train;
use wengert::rl::env::{Action, Env, FrozenLake, Shaping, VSTAR_GRID, make};
use wengert::rl::policy::Actions;
use wengert::rl::tabular::{
    Exploration, StepSize, TdConfig, evaluate_policy_finite_horizon, q_learning, value_iteration,
};
use wengert::rl::train::Agent;

use super::mean_std;
use super::plot::{self, Series};
use super::report::{SeedResult, band, median_min_max, seeds_flags};

/// The command line of `wengert report diayn` and `wengert report shaping`.
pub struct RewardsArgs {
    pub seeds: Vec<u64>,
    /// Only the rows of this environment.
    pub env: Option<String>,
    pub threads: usize,
    pub max_steps: Option<usize>,
    pub out: PathBuf,
    /// PPO on MountainCar-v0 normalises its observations (rl-zoo) instead of CleanRL's raw ones.
    pub normalize_observations: bool,
}

/// One row of the DIAYN table.
struct DiaynRow {
    env: &'static str,
    skills: usize,
    budget: usize,
    accuracy: f64,
    required_of_five: usize,
}

const DIAYN_ROWS: [DiaynRow; 2] = [
    DiaynRow {
        env: "PointNavigation-v0",
        skills: 8,
        budget: 100_000,
        accuracy: 0.9,
        required_of_five: 4,
    },
    DiaynRow {
        env: "MountainCarContinuous-v0",
        skills: 10,
        budget: 200_000,
        accuracy: 0.7,
        required_of_five: 3,
    },
];

/// What one DIAYN seed produced.
struct DiaynSeed {
    accuracy: f64,
    /// Mean pairwise distance of the skills' mean final positions (PointNavigation), or the
    /// best skill's mean true return (MountainCarContinuous).
    spread_or_best_return: f64,
    wall_time: f64,
    /// `(env_steps, E[log q(z|s)])`.
    log_q: Vec<(f64, f64)>,
    /// `(skill, [(x, y)])` per fresh episode.
    trajectories: Vec<(usize, Vec<(f64, f64)>)>,
}

fn train_diayn(row: &DiaynRow, budget: usize, seed: u64) -> Result<DiaynSeed, String> {
    let mut config: DiaynConfig = preset("diayn", row.env).map_err(|e| e.to_string())?;
    config::set(&mut config, "total_timesteps", &budget.to_string())?;
    config::set(&mut config, "skills", &row.skills.to_string())?;
    config.seed = seed;
    let start = std::time::Instant::now();
    let mut log_q = Vec::new();
    let trained = train::<Diayn>(row.env, &config, |m| {
        if let Some(value) = m.get("log_q").filter(|v| v.is_finite()) {
            log_q.push((m.env_steps as f64, value));
            if log_q.len() % 10 == 0 {
                eprintln!(
                    "DIAYN on {} seed {seed}: {} steps, E[log q(z|s)] {value:.3}, accuracy {:.3} ({:.0} s)",
                    row.env,
                    m.env_steps,
                    m.get("discriminator_accuracy").unwrap_or(f64::NAN),
                    start.elapsed().as_secs_f64()
                );
            }
        }
        true
    })
    .map_err(|e| e.to_string())?;
    let wall_time = start.elapsed().as_secs_f64();
    let agent = trained.agent;
    let (accuracy, finals, returns, trajectories) = rollouts(&agent, row)?;
    let spread_or_best_return = if row.env == "PointNavigation-v0" {
        let mut distances = Vec::new();
        for i in 0..finals.len() {
            for j in i + 1..finals.len() {
                let (a, b): ((f64, f64), (f64, f64)) = (finals[i], finals[j]);
                distances.push((a.0 - b.0).hypot(a.1 - b.1));
            }
        }
        mean_std(&distances).0
    } else {
        returns.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    };
    Ok(DiaynSeed {
        accuracy,
        spread_or_best_return,
        wall_time,
        log_q,
        trajectories,
    })
}

type Rollouts = (
    f64,
    Vec<(f64, f64)>,
    Vec<f64>,
    Vec<(usize, Vec<(f64, f64)>)>,
);

/// Each skill's 3 fresh deterministic episodes: the discriminator's accuracy on their states,
/// each skill's mean final `(x, y)` (or `(x, v)`), mean true return, and the trajectories.
fn rollouts(agent: &SkillAgent, row: &DiaynRow) -> Result<Rollouts, String> {
    let (mut correct, mut visited) = (0, 0);
    let (mut finals, mut returns, mut trajectories) = (Vec::new(), Vec::new(), Vec::new());
    for z in 0..row.skills {
        let mut env =
            make(&format!("{}+skills={}:{z}", row.env, row.skills)).map_err(|e| e.to_string())?;
        let (mut final_sum, mut return_sum) = ((0.0, 0.0), 0.0);
        for episode in 0..3 {
            let mut observation = env.reset(Some(10_000 + episode));
            let state_dim = observation.len() - row.skills;
            let mut path = vec![point(&observation)];
            loop {
                let rows = Array2::from_shape_vec((1, observation.len()), observation.clone())
                    .expect("one row");
                let Actions::Continuous(action) = agent.act(&rows) else {
                    return Err("DIAYN acts continuously".into());
                };
                let step = env
                    .step(Action::Continuous(action.row(0).as_slice().expect("a row")))
                    .map_err(|e| e.to_string())?;
                return_sum += step.reward / 3.0;
                let state =
                    Array2::from_shape_vec((1, state_dim), step.observation[..state_dim].to_vec())
                        .expect("one row");
                correct += usize::from(agent.discriminate(&state)[0] == z);
                visited += 1;
                path.push(point(&step.observation));
                let done = step.done();
                observation = step.observation;
                if done {
                    break;
                }
            }
            let last = *path.last().expect("a step");
            final_sum = (final_sum.0 + last.0 / 3.0, final_sum.1 + last.1 / 3.0);
            trajectories.push((z, path));
        }
        finals.push(final_sum);
        returns.push(return_sum);
    }
    Ok((
        correct as f64 / visited.max(1) as f64,
        finals,
        returns,
        trajectories,
    ))
}

/// The first two observation components: `(x, y)`, or MountainCar's `(x, v)`.
fn point(observation: &[f32]) -> (f64, f64) {
    (f64::from(observation[0]), f64::from(observation[1]))
}

/// Runs `job` for every seed on `threads` threads, results in the seeds' order.
fn over_seeds<R: Send>(seeds: &[u64], threads: usize, job: impl Fn(u64) -> R + Sync) -> Vec<R> {
    let next = Mutex::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, seeds.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().expect("no panics while held");
                        *next += 1;
                        *next - 1
                    };
                    let Some(&seed) = seeds.get(index) else { break };
                    let result = job(seed);
                    results.lock().expect("no panics").push((index, result));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("no panics");
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

/// `wengert report diayn`.
pub fn run_diayn(args: &RewardsArgs) -> Result<(), String> {
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let rows: Vec<&DiaynRow> = DIAYN_ROWS
        .iter()
        .filter(|row| {
            args.env
                .as_ref()
                .is_none_or(|env| env.eq_ignore_ascii_case(row.env))
        })
        .collect();
    if rows.is_empty() {
        let known: Vec<&str> = DIAYN_ROWS.iter().map(|row| row.env).collect();
        return Err(format!(
            "report diayn: no row for --env {}; expected one of {}",
            args.env.as_deref().unwrap_or(""),
            known.join(", ")
        ));
    }
    let mut command = format!("wengert report diayn {}", seeds_flags(&args.seeds));
    if let Some(env) = &args.env {
        command.push_str(&format!(" --env {env}"));
    }
    if let Some(cap) = args.max_steps {
        command.push_str(&format!(" --max-steps {cap}"));
    }
    let mut text = String::from("# DIAYN: skills without a reward\n\n");
    let _ = writeln!(
        text,
        "Produced by `{command}` on a machine with {} threads. Accuracy: the discriminator's \
         argmax on the states of 3 fresh deterministic episodes per skill (chance 1/K).\n",
        wengert::rl::exec::cores()
    );
    if let Some(cap) = args.max_steps {
        let _ = writeln!(
            text,
            "**Smoke run: budgets capped at {cap} steps, so the targets do not apply.**\n"
        );
    }
    let _ = writeln!(
        text,
        "| env | K | budget | target | accuracy (median, min–max) | passed | spread / best return | final E[log q(z|s)] (chance −log K) | wall time per seed (s) | by seed |"
    );
    text.push_str("|---|---:|---:|---|---|---|---|---|---:|---|\n");
    for row in rows {
        let budget = args.max_steps.map_or(row.budget, |cap| cap.min(row.budget));
        let results = over_seeds(&args.seeds, args.threads, |seed| {
            let result = train_diayn(row, budget, seed);
            if let Ok(r) = &result {
                eprintln!(
                    "DIAYN on {} seed {seed}: accuracy {:.3}, {:.3} ({:.0} s)",
                    row.env, r.accuracy, r.spread_or_best_return, r.wall_time
                );
            }
            result
        });
        let results: Vec<DiaynSeed> = results.into_iter().collect::<Result<_, _>>()?;
        let accuracies: Vec<f64> = results.iter().map(|r| r.accuracy).collect();
        let (median, min, max) = median_min_max(&accuracies);
        let second: Vec<f64> = results.iter().map(|r| r.spread_or_best_return).collect();
        let passed = results
            .iter()
            .filter(|r| {
                if row.env == "PointNavigation-v0" {
                    r.accuracy >= row.accuracy
                } else {
                    r.accuracy >= row.accuracy && r.spread_or_best_return >= 90.0
                }
            })
            .count();
        let required = (row.required_of_five * args.seeds.len()).div_ceil(5);
        let (target, second_text) = if row.env == "PointNavigation-v0" {
            let spread = mean_std(&second).0;
            (
                format!(
                    "accuracy ≥ {} on {required}/{}; spread ≥ 0.4",
                    row.accuracy,
                    args.seeds.len()
                ),
                format!(
                    "spread {spread:.2} {}",
                    if spread >= 0.4 { "✓" } else { "✗" }
                ),
            )
        } else {
            (
                format!(
                    "accuracy ≥ {} and a skill's return ≥ 90 on {required}/{}",
                    row.accuracy,
                    args.seeds.len()
                ),
                format!("best returns {}", list(&second, 1)),
            )
        };
        let last_log_q: Vec<f64> = results
            .iter()
            .filter_map(|r| r.log_q.last().map(|p| p.1))
            .collect();
        let wall = median_min_max(&results.iter().map(|r| r.wall_time).collect::<Vec<_>>()).0;
        let _ = writeln!(
            text,
            "| {} | {} | {budget} | {target} | {median:.3} ({min:.3}–{max:.3}) | {} {passed}/{} | {second_text} | {:.3} ({:.3}) | {wall:.0} | {} |",
            row.env,
            row.skills,
            if passed >= required { "✓" } else { "✗" },
            results.len(),
            median_min_max(&last_log_q).0,
            -(row.skills as f64).ln(),
            list(&accuracies, 3),
        );
        let name = row.env.to_lowercase();
        let curves: Vec<SeedResult> = results
            .iter()
            .map(|r| SeedResult {
                evaluation: r.accuracy,
                wall_time: r.wall_time,
                env_steps: budget,
                curve: r.log_q.clone(),
            })
            .collect();
        if let Some(mut curve) = band(&curves) {
            curve.label = format!(
                "E[log q(z|s)] (chance −log {} = {:.2})",
                row.skills,
                -(row.skills as f64).ln()
            );
            let path = args.out.join(format!("diayn-log-q-{name}.svg"));
            plot::line_plot(
                &path,
                &format!(
                    "DIAYN on {}: median over {} seeds, min–max band",
                    row.env,
                    results.len()
                ),
                "environment steps",
                "E[log q(z|s)] on replayed batches",
                &[curve],
            )?;
            println!("wrote {}", path.display());
        }
        if let Some(first) = results.first() {
            let lines: Vec<Series> = first
                .trajectories
                .iter()
                .enumerate()
                .map(|(i, (z, path))| {
                    let label = if i % 3 == 0 {
                        format!("skill {z}")
                    } else {
                        String::new()
                    };
                    let mut series = Series::line(
                        &label,
                        path.iter().map(|p| p.0).collect(),
                        path.iter().map(|p| p.1).collect(),
                    );
                    series.color = Some(*z);
                    series
                })
                .collect();
            let (x_label, y_label) = if row.env == "PointNavigation-v0" {
                ("x", "y")
            } else {
                ("position x", "velocity v")
            };
            let path = args.out.join(format!("diayn-skills-{name}.svg"));
            plot::line_plot(
                &path,
                &format!(
                    "DIAYN skills on {} (seed {}, 3 episodes each)",
                    row.env, args.seeds[0]
                ),
                x_label,
                y_label,
                &lines,
            )?;
            println!("wrote {}", path.display());
        }
    }
    let path = args.out.join(match &args.env {
        Some(env) => format!("diayn-{}.md", env.to_lowercase()),
        None => "diayn.md".to_string(),
    });
    fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    print!("{text}");
    println!("wrote {}", path.display());
    Ok(())
}

fn list(values: &[f64], decimals: usize) -> String {
    let texts: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    texts.join(", ")
}

/// Episodes of Q-learning until the greedy policy reaches the goal of slippery FrozenLake 8×8
/// within 200 steps with 90 % of the optimum's probability (checked every 250 episodes, at
/// most `cap`), on `env_id` (plain or shaped).
fn episodes_to_success(env_id: &str, seed: u64, cap: usize) -> Result<Option<usize>, String> {
    let lake = FrozenLake::eight_by_eight(true);
    let success =
        |policy: &[usize]| evaluate_policy_finite_horizon(lake.model(), policy, 1.0, 200)[0];
    let target = 0.9 * success(&value_iteration(lake.model(), 0.99, 1e-12).policy);
    for episodes in (250..=cap).step_by(250) {
        let mut env = make(env_id).map_err(|e| e.to_string())?;
        let config = TdConfig {
            episodes,
            gamma: 0.99,
            exploration: Exploration {
                start: 1.0,
                end: 0.05,
                decay_episodes: 10_000,
            },
            step_size: StepSize::Constant(0.1),
            seed,
        };
        let q = q_learning(&mut env, &config).map_err(|e| e.to_string())?;
        if success(&q.greedy_policy()) >= target {
            return Ok(Some(episodes));
        }
    }
    Ok(None)
}

/// PPO's budget on MountainCar-v0 in `wengert report shaping` (CleanRL's `total_timesteps`).
const PPO_BUDGET: usize = 500_000;

/// The scale of the height potential for PPO on MountainCar-v0: `Φ(s) = 50 (h(x) − h(x_goal))`,
/// so climbing from the valley to the flag is worth about +45, against −1 per step.
const HEIGHT_SCALE: f64 = 50.0;

/// What one PPO seed on MountainCar-v0 produced.
struct PpoSeed {
    /// Finished training episodes up to and including the first that reached the flag.
    first_success: Option<usize>,
    /// Finished training episodes until 18 of the last 20 reached the flag.
    sustained_success: Option<usize>,
    /// Mean true return of 10 deterministic episodes of the trained policy on MountainCar-v0.
    true_return: f64,
}

/// PPO (its preset for MountainCar-v0, `PPO_BUDGET` steps) on `MountainCar-v0` shaped with
/// `shaping` (or not): success is an episode that ends before the time limit of 200 steps, the
/// flag reached (episode lengths are those of the true environment, whatever the shaping).
fn ppo_mountain_car(
    shaping: Option<&str>,
    seed: u64,
    budget: usize,
    normalize_observations: bool,
) -> Result<PpoSeed, String> {
    let mut config: PpoConfig = preset("ppo", "MountainCar-v0").map_err(|e| e.to_string())?;
    config::set(&mut config, "total_timesteps", &budget.to_string())?;
    config.rollout.normalize_observations |= normalize_observations;
    config.seed = seed;
    let env_id = match shaping {
        Some(text) => Shaping::parse(text, config.rollout.gamma)
            .map_err(|e| e.to_string())?
            .wrap_id("MountainCar-v0"),
        None => "MountainCar-v0".to_string(),
    };
    let (mut finished, mut window) = (0, std::collections::VecDeque::new());
    let (mut first_success, mut sustained_success) = (None, None);
    let trained = train::<Ppo>(&env_id, &config, |m| {
        for &length in &m.episode_lengths {
            finished += 1;
            let reached = length < 200;
            if reached && first_success.is_none() {
                first_success = Some(finished);
            }
            window.push_back(reached);
            if window.len() > 20 {
                window.pop_front();
            }
            let successes = window.iter().filter(|&&r| r).count();
            if window.len() == 20 && successes >= 18 && sustained_success.is_none() {
                sustained_success = Some(finished);
            }
        }
        true
    })
    .map_err(|e| e.to_string())?;
    let true_return = true_returns(&trained.agent, "MountainCar-v0", 10)?;
    Ok(PpoSeed {
        first_success,
        sustained_success,
        true_return,
    })
}

/// The mean undiscounted return of `episodes` deterministic episodes of `agent` on `env_id`
/// (the unshaped environment: the true reward), reset with seeds 10 000, 10 001, ….
fn true_returns(agent: &dyn Agent, env_id: &str, episodes: u64) -> Result<f64, String> {
    let mut env = make(env_id).map_err(|e| e.to_string())?;
    let mut total = 0.0;
    for episode in 0..episodes {
        let mut observation = env.reset(Some(10_000 + episode));
        loop {
            let rows = Array2::from_shape_vec((1, observation.len()), observation.clone())
                .expect("one row");
            let action = match agent.act(&rows) {
                Actions::Discrete(a) => a[0],
                Actions::Continuous(_) => {
                    return Err("PPO on MountainCar-v0 acts discretely".into());
                }
            };
            let step = env
                .step(Action::Discrete(action))
                .map_err(|e| e.to_string())?;
            total += step.reward;
            observation = step.observation.clone();
            if step.done() {
                break;
            }
        }
    }
    Ok(total / episodes as f64)
}

/// `first`/`sustained` episodes as "median (min–max), reached k/n" text.
fn episodes_summary(results: &[Option<usize>], cap: &str) -> (String, String) {
    let reached: Vec<f64> = results.iter().flatten().map(|&e| e as f64).collect();
    let summary = if reached.is_empty() {
        format!("— ({}/{} reached)", 0, results.len())
    } else {
        let (median, min, max) = median_min_max(&reached);
        format!(
            "{median:.0} ({min:.0}–{max:.0}), {}/{} reached",
            reached.len(),
            results.len()
        )
    };
    let by_seed: Vec<String> = results
        .iter()
        .map(|r| r.map_or(cap.to_string(), |e| e.to_string()))
        .collect();
    (summary, by_seed.join(", "))
}

/// `wengert report shaping`.
pub fn run_shaping(args: &RewardsArgs) -> Result<(), String> {
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let wants = |env: &str| {
        args.env
            .as_ref()
            .is_none_or(|e| e.eq_ignore_ascii_case(env))
    };
    if !wants("FrozenLake8x8-v1") && !wants("MountainCar-v0") {
        return Err(format!(
            "report shaping: no rows for --env {}; expected FrozenLake8x8-v1 or MountainCar-v0",
            args.env.as_deref().unwrap_or("")
        ));
    }
    let cap = args.max_steps.unwrap_or(30_000);
    let mut command = format!("wengert report shaping {}", seeds_flags(&args.seeds));
    if let Some(env) = &args.env {
        command.push_str(&format!(" --env {env}"));
    }
    if args.max_steps.is_some() {
        command.push_str(&format!(" --max-steps {cap}"));
    }
    if args.normalize_observations {
        command.push_str(" --normalize-observations");
    }
    let mut text = String::from("# Potential-based reward shaping: episodes to success\n\n");
    let _ = writeln!(text, "Produced by `{command}`.\n");
    if wants("FrozenLake8x8-v1") {
        q_learning_table(args, cap, &mut text)?;
    }
    if wants("MountainCar-v0") {
        let budget = args.max_steps.map_or(PPO_BUDGET, |c| c.min(PPO_BUDGET));
        ppo_table(args, budget, &mut text)?;
    }
    let path = args.out.join(match &args.env {
        Some(env) => format!("shaping-{}.md", env.to_lowercase()),
        None => "shaping.md".to_string(),
    });
    fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    print!("{text}");
    println!("wrote {}", path.display());
    Ok(())
}

/// Q-learning on FrozenLake 8×8 with `Φ = V*` against none.
fn q_learning_table(args: &RewardsArgs, cap: usize, text: &mut String) -> Result<(), String> {
    let _ = writeln!(
        text,
        "## Q-learning on FrozenLake 8×8\n\nTabular Q-learning (γ = 0.99, α = 0.1, ε from 1 to 0.05 over \
         10 000 episodes, Q₀ = 0) on slippery FrozenLake8x8-v1; success: the greedy policy reaches \
         the goal within 200 steps with at least 90 % of the optimal policy's probability \
         (computed exactly on the model), checked every 250 episodes up to {cap}.\n"
    );
    text.push_str("| shaping | episodes to success (median, min–max) | reached | by seed |\n|---|---|---|---|\n");
    let shaped = Shaping::parse("value", 0.99)
        .map_err(|e| e.to_string())?
        .wrap_id("FrozenLake8x8-v1");
    for (label, id) in [("none", "FrozenLake8x8-v1".to_string()), ("Φ = V*", shaped)] {
        let results = over_seeds(&args.seeds, args.threads, |seed| {
            episodes_to_success(&id, seed, cap)
        });
        let results: Vec<Option<usize>> = results.into_iter().collect::<Result<_, _>>()?;
        let reached: Vec<f64> = results.iter().flatten().map(|&e| e as f64).collect();
        let summary = if reached.is_empty() {
            "—".to_string()
        } else {
            let (median, min, max) = median_min_max(&reached);
            format!("{median:.0} ({min:.0}–{max:.0})")
        };
        let by_seed: Vec<String> = results
            .iter()
            .map(|r| r.map_or(format!("> {cap}"), |e| e.to_string()))
            .collect();
        let _ = writeln!(
            text,
            "| {label} | {summary} | {}/{} | {} |",
            reached.len(),
            results.len(),
            by_seed.join(", ")
        );
    }
    Ok(())
}

/// PPO on MountainCar-v0 with the height potential and with `Φ ≈ V*` against none.
fn ppo_table(args: &RewardsArgs, budget: usize, text: &mut String) -> Result<(), String> {
    let _ = writeln!(
        text,
        "## PPO on MountainCar-v0\n\nPPO with its preset for MountainCar-v0 (CleanRL's defaults: 4 \
         environments × 128 steps, γ = 0.99, {}), {budget} steps, with \
         and without the height potential `Φ(s) = {HEIGHT_SCALE} (h(x) − h(0.5))`, \
         `h(x) = 0.45 sin(3x) + 0.55` (`--set shaping=height:{HEIGHT_SCALE}`). An episode succeeds \
         when it reaches the flag before the 200-step limit (its length, which shaping does not \
         change). Episodes are counted over all environments. The trained policy's true return is \
         the mean of 10 deterministic episodes on unshaped MountainCar-v0 (−200: never reaches \
         the flag). `Φ ≈ V*` (`--set shaping=vstar`): value iteration at γ = 0.99 on a \
         {VSTAR_GRID} × {VSTAR_GRID} grid of (position, velocity) with the environment's own step \
         function, interpolated bilinearly; its greedy policy reaches the flag from every start \
         state (`rl/tests/shaping.rs`).\n",
        if args.normalize_observations {
            "observations normalised by running statistics (rl-zoo's `normalize: true`; \
             `--normalize-observations`)"
        } else {
            "no observation normalisation"
        }
    );
    text.push_str(
        "| shaping | episodes to the first success | by seed | episodes until 18 of the last 20 succeed | by seed | true return of the trained policy (by seed) |\n|---|---|---|---|---|---|\n",
    );
    let height = format!("height:{HEIGHT_SCALE}");
    for (label, shaping) in [
        ("none", None),
        ("Φ = height", Some(height.as_str())),
        ("Φ ≈ V*", Some("vstar")),
    ] {
        let results = over_seeds(&args.seeds, args.threads, |seed| {
            let result = ppo_mountain_car(shaping, seed, budget, args.normalize_observations);
            if let Ok(r) = &result {
                eprintln!(
                    "PPO on MountainCar-v0 ({label}) seed {seed}: first success {:?}, sustained {:?}, true return {:.1}",
                    r.first_success, r.sustained_success, r.true_return
                );
            }
            result
        });
        let results: Vec<PpoSeed> = results.into_iter().collect::<Result<_, _>>()?;
        let never = "never".to_string();
        let (first, first_by_seed) = episodes_summary(
            &results.iter().map(|r| r.first_success).collect::<Vec<_>>(),
            &never,
        );
        let (sustained, sustained_by_seed) = episodes_summary(
            &results
                .iter()
                .map(|r| r.sustained_success)
                .collect::<Vec<_>>(),
            &never,
        );
        let returns: Vec<f64> = results.iter().map(|r| r.true_return).collect();
        let _ = writeln!(
            text,
            "| {label} | {first} | {first_by_seed} | {sustained} | {sustained_by_seed} | {} |",
            list(&returns, 1)
        );
    }
    Ok(())
}
