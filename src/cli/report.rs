//! `wengert report learning`: the learning-results tables of the policy-gradient (issue 6) and
//! value-based (issue 7) issues, as data, run over seeds in parallel threads.
//!
//! For each row every seed trains with the algorithm's defaults for the environment at the
//! row's budget, then its deterministic policy is evaluated over 10 episodes. The table gives
//! the median, minimum and maximum of those evaluations over seeds, whether enough seeds reach
//! the target, and the median wall time and environment steps per second of a seed; one plot
//! per environment shows each algorithm's median learning curve with its min–max band. Rows
//! whose algorithm is not in the registry are listed as not implemented.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use wengert::rl::algorithms;
use wengert::rl::train::evaluate;

use super::plot::{self, Series};
use super::resolve_env;

/// One row of the learning-results table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearningTarget {
    pub algorithm: &'static str,
    /// How the row is named in the table (an algorithm with options).
    pub label: &'static str,
    pub env: &'static str,
    /// Environment steps per seed.
    pub budget: usize,
    /// Settings on top of the algorithm's defaults for the environment.
    pub settings: &'static [(&'static str, &'static str)],
    /// The deterministic 10-episode evaluation a seed must reach.
    pub threshold: f64,
    /// Seeds out of five that must reach it.
    pub required_of_five: usize,
}

const fn target(
    algorithm: &'static str,
    label: &'static str,
    env: &'static str,
    budget: usize,
    threshold: f64,
    required_of_five: usize,
) -> LearningTarget {
    LearningTarget {
        algorithm,
        label,
        env,
        budget,
        settings: &[],
        threshold,
        required_of_five,
    }
}

/// The targets of issues 6 and 7, IMPALA's (issue 21), and R2D2's and recurrent PPO's (issue 20).
pub const LEARNING_TARGETS: &[LearningTarget] = &[
    target("ppo", "PPO", "CartPole-v1", 100_000, 475.0, 5),
    target("a2c", "A2C", "CartPole-v1", 500_000, 475.0, 4),
    target("reinforce", "REINFORCE", "CartPole-v1", 500_000, 475.0, 4),
    target("trpo", "TRPO", "CartPole-v1", 100_000, 475.0, 4),
    target("npg", "NPG", "CartPole-v1", 200_000, 475.0, 4),
    target("dqn", "DQN", "CartPole-v1", 50_000, 475.0, 4),
    LearningTarget {
        settings: &[
            ("double", "true"),
            ("dueling", "true"),
            ("prioritized", "true"),
        ],
        ..target(
            "dqn",
            "DQN double+dueling+prioritized",
            "CartPole-v1",
            50_000,
            475.0,
            4,
        )
    },
    target("ppo", "PPO", "Acrobot-v1", 500_000, -100.0, 5),
    target("dqn", "DQN", "Acrobot-v1", 100_000, -100.0, 4),
    target("ppo", "PPO", "Pendulum-v1", 200_000, -250.0, 4),
    target("trpo", "TRPO", "Pendulum-v1", 200_000, -300.0, 4),
    target("sac", "SAC", "Pendulum-v1", 20_000, -200.0, 5),
    target("td3", "TD3", "Pendulum-v1", 20_000, -200.0, 4),
    target("ddpg", "DDPG", "Pendulum-v1", 20_000, -250.0, 4),
    target("sac", "SAC", "MountainCarContinuous-v0", 50_000, 90.0, 4),
    target("impala", "IMPALA", "CartPole-v1", 500_000, 475.0, 4),
    target("impala", "IMPALA", "Acrobot-v1", 1_000_000, -100.0, 4),
    target("r2d2", "R2D2", "CartPoleNoVel-v1", 300_000, 400.0, 4),
    target(
        "recurrent_ppo",
        "Recurrent PPO (LSTM)",
        "CartPoleNoVel-v1",
        100_000,
        475.0,
        4,
    ),
    target(
        "recurrent_ppo",
        "Recurrent PPO (LSTM)",
        "PendulumNoVel-v1",
        200_000,
        -250.0,
        4,
    ),
    // The control row of issue 20: PPO with an MLP and CartPole-v1's tuned settings sees only
    // (x, θ), so it is expected to fail; it shows why memory is needed.
    LearningTarget {
        settings: &[
            ("num_envs", "8"),
            ("num_steps", "32"),
            ("learning_rate", "1e-3"),
            ("gamma", "0.98"),
            ("gae_lambda", "0.8"),
            ("num_minibatches", "1"),
            ("update_epochs", "20"),
            ("ent_coef", "0.0"),
            ("clip_vloss", "false"),
        ],
        ..target(
            "ppo",
            "PPO (MLP, control: no memory)",
            "CartPoleNoVel-v1",
            100_000,
            475.0,
            4,
        )
    },
    // the preset's LSTM policy; two actors taking turns, so that a seed gives one result on
    // any machine
    LearningTarget {
        settings: &[("deterministic", "true"), ("num_actors", "2")],
        ..target(
            "impala",
            "IMPALA LSTM",
            "CartPoleNoVel-v1",
            1_000_000,
            400.0,
            4,
        )
    },
];

impl LearningTarget {
    /// Seeds out of `seeds` that must pass: the row's fraction of five, rounded up.
    pub fn required(&self, seeds: usize) -> usize {
        (self.required_of_five * seeds).div_ceil(5)
    }
}

/// The command line of `wengert report learning`.
pub struct LearningArgs {
    pub algo: Option<String>,
    pub env: Option<String>,
    pub seeds: Seeds,
    /// The first seed of a count of seeds (default 1).
    pub seed_start: Option<u64>,
    pub threads: Option<usize>,
    pub max_steps: Option<usize>,
    pub out: PathBuf,
}

/// `--seeds`: how many training seeds (`5`: seeds 1 to 5, or from `--seed-start`), or which
/// (`101,102,103`: a comma-separated list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seeds {
    /// Consecutive seeds, from 1 or from `--seed-start`.
    Count(usize),
    /// Exactly these seeds, in this order.
    List(Vec<u64>),
}

impl std::str::FromStr for Seeds {
    type Err = String;

    /// A number is a count, at least 1; anything with a comma is a list of distinct seeds
    /// (non-negative integers; spaces around them are allowed).
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected a count such as 5 or a list such as 101,102,103";
        if !text.contains(',') {
            return match text.trim().parse::<usize>() {
                Ok(0) => Err("--seeds must be at least 1".into()),
                Ok(count) => Ok(Seeds::Count(count)),
                Err(_) => Err(format!("--seeds: `{text}` is not a count; {expected}")),
            };
        }
        let mut seeds: Vec<u64> = Vec::new();
        for entry in text.split(',').map(str::trim) {
            let seed = entry.parse::<u64>().map_err(|_| {
                format!("--seeds: `{entry}` in `{text}` is not a seed (a non-negative integer); {expected}")
            })?;
            if seeds.contains(&seed) {
                return Err(format!("--seeds: seed {seed} appears twice in `{text}`"));
            }
            seeds.push(seed);
        }
        Ok(Seeds::List(seeds))
    }
}

impl Seeds {
    /// The seeds to train: a count from `seed_start` (default 1), or the list as given. A
    /// `seed_start` with a list is an error, since the list already says where it starts.
    pub fn resolve(&self, seed_start: Option<u64>) -> Result<Vec<u64>, String> {
        match (self, seed_start) {
            (Seeds::List(_), Some(_)) => Err(
                "--seed-start goes with a count of seeds (--seeds 5 --seed-start 101), not with a list"
                    .into(),
            ),
            (Seeds::List(seeds), None) => Ok(seeds.clone()),
            (Seeds::Count(0), _) => Err("--seeds must be at least 1".into()),
            (&Seeds::Count(count), start) => {
                let start = start.unwrap_or(1);
                start
                    .checked_add(count as u64 - 1)
                    .map(|last| (start..=last).collect())
                    .ok_or_else(|| {
                        format!("--seed-start {start} with --seeds {count} runs past the largest seed")
                    })
            }
        }
    }
}

/// The `--seeds` (and `--seed-start`) that reproduce `seeds`: `--seeds 5` for 1 to 5,
/// `--seeds 5 --seed-start 101` for 101 to 105, else the list.
pub fn seeds_flags(seeds: &[u64]) -> String {
    let consecutive = seeds
        .windows(2)
        .all(|pair| pair[0].checked_add(1) == Some(pair[1]));
    match seeds.first() {
        Some(1) if consecutive => format!("--seeds {}", seeds.len()),
        Some(start) if consecutive => format!("--seeds {} --seed-start {start}", seeds.len()),
        _ => {
            let list: Vec<String> = seeds.iter().map(u64::to_string).collect();
            format!("--seeds {}", list.join(","))
        }
    }
}

/// What one seed produced.
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub evaluation: f64,
    pub wall_time: f64,
    pub env_steps: usize,
    /// `(env_steps, mean_return)` per iteration.
    pub curve: Vec<(f64, f64)>,
}

/// A seed and what it produced.
type SeedOutcome = (u64, Result<SeedResult, String>);

/// A row's outcome.
#[derive(Debug)]
pub enum RowResult {
    NotImplemented,
    Failed(String),
    Done(Vec<SeedResult>),
}

/// The rows `algo` and `env` select; an unknown environment name is an error.
pub fn select(algo: Option<&str>, env: Option<&str>) -> Result<Vec<LearningTarget>, String> {
    let env = env.map(resolve_env).transpose()?;
    let rows: Vec<LearningTarget> = LEARNING_TARGETS
        .iter()
        .filter(|t| algo.is_none_or(|a| t.algorithm == a))
        .filter(|t| env.is_none_or(|e| t.env == e))
        .copied()
        .collect();
    if rows.is_empty() {
        let algorithms: Vec<&str> = LEARNING_TARGETS.iter().map(|t| t.algorithm).collect();
        return Err(format!(
            "no row of the learning table matches; its algorithms are {} on CartPole-v1, Acrobot-v1, Pendulum-v1 and MountainCarContinuous-v0",
            dedup(algorithms).join(", ")
        ));
    }
    Ok(rows)
}

fn dedup(mut names: Vec<&str>) -> Vec<&str> {
    let mut seen = Vec::new();
    names.retain(|n| {
        let new = !seen.contains(n);
        seen.push(*n);
        new
    });
    names
}

/// Trains one seed of a row and evaluates it.
fn run_seed(row: &LearningTarget, budget: usize, seed: u64) -> Result<SeedResult, String> {
    let mut settings: Vec<(String, String)> = row
        .settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    settings.push(("total_timesteps".into(), budget.to_string()));
    let start = Instant::now();
    let mut curve = Vec::new();
    let mut env_steps = 0;
    let run = algorithms::train(row.algorithm, row.env, seed, &settings, &mut |m| {
        env_steps = m.env_steps;
        if let Some(r) = m.mean_return {
            curve.push((m.env_steps as f64, r));
        }
        true
    })
    .map_err(|e| format!("seed {seed}: {e}"))?;
    let wall_time = start.elapsed().as_secs_f64();
    let returns =
        evaluate(run.agent.as_ref(), 10, 10_000).map_err(|e| format!("seed {seed}: {e}"))?;
    Ok(SeedResult {
        evaluation: returns.iter().sum::<f64>() / returns.len() as f64,
        wall_time,
        env_steps,
        curve,
    })
}

/// Runs every (row, seed) job on `threads` scoped threads.
pub fn run_rows(
    rows: &[LearningTarget],
    seeds: &[u64],
    threads: usize,
    max_steps: Option<usize>,
    is_registered: impl Fn(&str) -> bool,
) -> Vec<RowResult> {
    let jobs: Vec<(usize, u64)> = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| is_registered(row.algorithm))
        .flat_map(|(i, _)| seeds.iter().map(move |&seed| (i, seed)))
        .collect();
    let results: Mutex<Vec<Vec<SeedOutcome>>> =
        Mutex::new(rows.iter().map(|_| Vec::new()).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1).min(jobs.len().max(1)) {
            scope.spawn(|| {
                while let Some(&(i, seed)) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let row = &rows[i];
                    let budget = max_steps.map_or(row.budget, |cap| cap.min(row.budget));
                    let result = run_seed(row, budget, seed);
                    match &result {
                        Ok(r) => eprintln!(
                            "{} on {} seed {seed}: {:.1} after {} steps ({:.0} s)",
                            row.label, row.env, r.evaluation, r.env_steps, r.wall_time
                        ),
                        Err(e) => eprintln!("{} on {}: {e}", row.label, row.env),
                    }
                    results.lock().expect("no panics while held")[i].push((seed, result));
                }
            });
        }
    });
    let results = results.into_inner().expect("no panics while held");
    rows.iter()
        .zip(results)
        .map(|(row, mut outcomes)| {
            if !is_registered(row.algorithm) {
                return RowResult::NotImplemented;
            }
            // In the order the seeds were given, as the table's last column names them.
            outcomes.sort_by_key(|(seed, _)| seeds.iter().position(|s| s == seed));
            match outcomes.into_iter().map(|(_, r)| r).collect() {
                Ok(done) => RowResult::Done(done),
                Err(e) => RowResult::Failed(e),
            }
        })
        .collect()
}

/// Median, minimum and maximum.
pub fn median_min_max(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (median, sorted[0], sorted[n - 1])
}

/// The Markdown table.
pub fn table(
    rows: &[LearningTarget],
    results: &[RowResult],
    seeds: &[u64],
    max_steps: Option<usize>,
    command: &str,
) -> String {
    let mut text = String::from("# Learning results\n\n");
    let seed_list: Vec<String> = seeds.iter().map(u64::to_string).collect();
    let seed_list = seed_list.join(", ");
    let _ = writeln!(
        text,
        "Deterministic evaluation over 10 episodes (seeds 10000–10009) of each of {} training seeds ({seed_list}), \
         with each algorithm's defaults for the environment. Produced by `{command}` \
         on a machine with {} threads.\n",
        seeds.len(),
        wengert::rl::exec::cores()
    );
    if let Some(cap) = max_steps {
        let _ = writeln!(
            text,
            "**Smoke run: budgets capped at {cap} steps, so the targets do not apply.**\n"
        );
    }
    let _ = writeln!(
        text,
        "| algorithm | environment | budget | target | median | min | max | passed | wall time per seed (s) | env steps/s | seeds {seed_list} |"
    );
    text.push_str("|---|---|---:|---|---:|---:|---:|---|---:|---:|---|\n");
    for (row, result) in rows.iter().zip(results) {
        let required = row.required(seeds.len());
        let target = format!("≥ {} on {required}/{}", row.threshold, seeds.len());
        let cells = match result {
            RowResult::NotImplemented => "not implemented | | | | | | |".to_string(),
            RowResult::Failed(e) => format!(
                "failed: {} | | | | | | |",
                e.replace('|', "/").replace('\n', " ")
            ),
            RowResult::Done(seeds_done) => {
                let evaluations: Vec<f64> = seeds_done.iter().map(|s| s.evaluation).collect();
                let (median, min, max) = median_min_max(&evaluations);
                let passed = evaluations.iter().filter(|&&e| e >= row.threshold).count();
                let verdict = if passed >= required { "✓" } else { "✗" };
                let (wall, _, _) =
                    median_min_max(&seeds_done.iter().map(|s| s.wall_time).collect::<Vec<_>>());
                let (rate, _, _) = median_min_max(
                    &seeds_done
                        .iter()
                        .map(|s| s.env_steps as f64 / s.wall_time.max(1e-9))
                        .collect::<Vec<_>>(),
                );
                let by_seed: Vec<String> = evaluations.iter().map(|e| format!("{e:.1}")).collect();
                format!(
                    "{median:.1} | {min:.1} | {max:.1} | {verdict} {passed}/{} | {wall:.1} | {rate:.0} | {}",
                    seeds_done.len(),
                    by_seed.join(", ")
                )
            }
        };
        let budget = max_steps.map_or(row.budget, |cap| cap.min(row.budget));
        let _ = writeln!(
            text,
            "| {} | {} | {budget} | {target} | {cells} |",
            row.label, row.env
        );
    }
    text
}

/// The median curve over seeds with its min–max band, on the iterations every seed reached.
pub fn band(seeds: &[SeedResult]) -> Option<Series> {
    let length = seeds.iter().map(|s| s.curve.len()).min()?;
    if length == 0 {
        return None;
    }
    let mut series = Series::line("", Vec::new(), Vec::new());
    let (mut lower, mut upper) = (Vec::new(), Vec::new());
    for i in 0..length {
        let values: Vec<f64> = seeds.iter().map(|s| s.curve[i].1).collect();
        let (median, min, max) = median_min_max(&values);
        let steps: Vec<f64> = seeds.iter().map(|s| s.curve[i].0).collect();
        series.x.push(median_min_max(&steps).0);
        series.y.push(median);
        lower.push(min);
        upper.push(max);
    }
    series.band = Some((lower, upper));
    Some(series)
}

/// `wengert report learning`.
pub fn run_learning(args: &LearningArgs) -> Result<(), String> {
    let seeds = args.seeds.resolve(args.seed_start)?;
    let rows = select(args.algo.as_deref(), args.env.as_deref())?;
    let threads = args.threads.unwrap_or_else(wengert::rl::exec::cores);
    let results = run_rows(&rows, &seeds, threads, args.max_steps, |name| {
        algorithms::find(name).is_ok()
    });
    fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let mut command = String::from("wengert report learning");
    for (flag, value) in [("--algo", &args.algo), ("--env", &args.env)] {
        if let Some(value) = value {
            command.push_str(&format!(" {flag} {value}"));
        }
    }
    command.push_str(&format!(" {}", seeds_flags(&seeds)));
    if let Some(cap) = args.max_steps {
        command.push_str(&format!(" --max-steps {cap}"));
    }
    let markdown = table(&rows, &results, &seeds, args.max_steps, &command);
    let path = args.out.join("learning.md");
    fs::write(&path, &markdown).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    print!("{markdown}");
    println!("wrote {}", path.display());

    let mut envs: Vec<&str> = rows.iter().map(|r| r.env).collect();
    envs.dedup();
    for env in dedup(envs) {
        let curves: Vec<Series> = rows
            .iter()
            .zip(&results)
            .filter(|(row, _)| row.env == env)
            .filter_map(|(row, result)| match result {
                RowResult::Done(seeds) => band(seeds).map(|mut s| {
                    s.label = row.label.to_string();
                    s
                }),
                _ => None,
            })
            .collect();
        if curves.is_empty() {
            continue;
        }
        let path = args
            .out
            .join(format!("learning-{}.svg", env.to_lowercase()));
        plot::line_plot(
            &path,
            &format!("{env}: median over {} seeds, min–max band", seeds.len()),
            "environment steps",
            "mean return (last 20 episodes)",
            &curves,
        )?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_the_issues_targets() {
        assert_eq!(LEARNING_TARGETS.len(), 22);
        let find = |label: &str, env: &str| {
            *LEARNING_TARGETS
                .iter()
                .find(|t| t.label == label && t.env == env)
                .unwrap()
        };
        let ppo = find("PPO", "CartPole-v1");
        assert_eq!(
            (ppo.budget, ppo.threshold, ppo.required(5)),
            (100_000, 475.0, 5)
        );
        let sac = find("SAC", "MountainCarContinuous-v0");
        assert_eq!(
            (sac.budget, sac.threshold, sac.required(5)),
            (50_000, 90.0, 4)
        );
        assert_eq!(find("TRPO", "Pendulum-v1").threshold, -300.0);
        let r2d2 = find("R2D2", "CartPoleNoVel-v1");
        assert_eq!(
            (r2d2.budget, r2d2.threshold, r2d2.required(5)),
            (300_000, 400.0, 4)
        );
        // Four of five scales up: 4 of 5, 2 of 2, 1 of 1; all stays all.
        assert_eq!((sac.required(2), sac.required(1)), (2, 1));
        assert_eq!(ppo.required(3), 3);
    }

    #[test]
    fn selection_filters_rows_and_rejects_what_matches_nothing() {
        let rows = select(Some("ppo"), None).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(select(None, Some("pendulum")).unwrap().len(), 5);
        assert!(
            select(Some("ppo"), Some("mountaincar-continuous"))
                .unwrap_err()
                .contains("no row")
        );
        assert!(
            select(None, Some("cartpool"))
                .unwrap_err()
                .contains("valid environments")
        );
    }

    #[test]
    fn rows_of_unregistered_algorithms_are_listed_as_not_implemented() {
        let rows = select(None, Some("pendulum")).unwrap();
        let results = run_rows(&rows, &[1, 2], 2, None, |_| false);
        assert!(
            results
                .iter()
                .all(|r| matches!(r, RowResult::NotImplemented))
        );
        let markdown = table(&rows, &results, &[1, 2], None, "wengert report learning");
        assert_eq!(markdown.matches("not implemented").count(), 5);
        assert!(markdown.contains("| SAC | Pendulum-v1 | 20000 | ≥ -200 on 2/2 | not implemented"));
    }

    #[test]
    fn statistics_and_bands_over_seeds() {
        assert_eq!(median_min_max(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(median_min_max(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
        let seed = |curve: Vec<(f64, f64)>| SeedResult {
            evaluation: 0.0,
            wall_time: 1.0,
            env_steps: 0,
            curve,
        };
        let series = band(&[
            seed(vec![(100.0, 1.0), (200.0, 5.0), (300.0, 9.0)]),
            seed(vec![(100.0, 3.0), (200.0, 7.0)]),
        ])
        .unwrap();
        assert_eq!(series.x, vec![100.0, 200.0]);
        assert_eq!(series.y, vec![2.0, 6.0]);
        assert_eq!(series.band, Some((vec![1.0, 5.0], vec![3.0, 7.0])));
    }

    #[test]
    fn seeds_are_a_count_or_a_list() {
        let parse = |text: &str| text.parse::<Seeds>();
        assert_eq!(parse("5"), Ok(Seeds::Count(5)));
        assert_eq!(parse("101,102,103"), Ok(Seeds::List(vec![101, 102, 103])));
        assert_eq!(parse(" 7 , 0,3 "), Ok(Seeds::List(vec![7, 0, 3])));
        assert_eq!(parse("5").unwrap().resolve(None), Ok(vec![1, 2, 3, 4, 5]));
        assert_eq!(
            parse("3").unwrap().resolve(Some(101)),
            Ok(vec![101, 102, 103])
        );
        assert_eq!(parse("102,101").unwrap().resolve(None), Ok(vec![102, 101]));
        assert_eq!(
            parse("1").unwrap().resolve(Some(u64::MAX)),
            Ok(vec![u64::MAX])
        );
    }

    #[test]
    fn bad_seeds_are_errors_naming_the_flag() {
        for (text, problem) in [
            ("", "`` is not a count"),
            ("0", "at least 1"),
            ("five", "`five` is not a count"),
            ("-3", "`-3` is not a count"),
            (",", "`` in `,` is not a seed"),
            ("101,,103", "`` in `101,,103` is not a seed"),
            ("101,x", "`x` in `101,x` is not a seed"),
            ("1,-2", "`-2` in `1,-2` is not a seed"),
            ("4,5,4", "seed 4 appears twice"),
        ] {
            let error = text.parse::<Seeds>().unwrap_err();
            assert!(
                error.starts_with("--seeds") && error.contains(problem),
                "{text:?}: {error}"
            );
        }
        let error = Seeds::List(vec![1, 2]).resolve(Some(5)).unwrap_err();
        assert!(
            error.contains("--seed-start") && error.contains("list"),
            "{error}"
        );
        let error = Seeds::Count(2).resolve(Some(u64::MAX)).unwrap_err();
        assert!(
            error.contains("--seed-start") && error.contains("--seeds 2"),
            "{error}"
        );
    }

    #[test]
    fn the_table_names_the_seeds_and_the_flags_that_reproduce_them() {
        assert_eq!(seeds_flags(&[1, 2, 3, 4, 5]), "--seeds 5");
        assert_eq!(seeds_flags(&[101, 102]), "--seeds 2 --seed-start 101");
        assert_eq!(seeds_flags(&[0]), "--seeds 1 --seed-start 0");
        assert_eq!(seeds_flags(&[7, 3]), "--seeds 7,3");
        let rows = select(Some("sac"), Some("pendulum")).unwrap();
        let results = run_rows(&rows, &[101, 103], 1, None, |_| false);
        let markdown = table(
            &rows,
            &results,
            &[101, 103],
            None,
            "wengert report learning",
        );
        assert!(
            markdown.contains("2 training seeds (101, 103)"),
            "{markdown}"
        );
        assert!(markdown.contains("| seeds 101, 103 |"), "{markdown}");
        assert!(markdown.contains("≥ -200 on 2/2"), "{markdown}");
    }
}
