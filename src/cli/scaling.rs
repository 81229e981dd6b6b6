//! `wengert report scaling`: an algorithm's environment steps per second against its number of
//! actors, in one process, one run after the other (so the runs do not compete for cores). For
//! IMPALA in its asynchronous mode: how far the actor threads scale on this machine.
//!
//! The counts of actors alternate within each of `--rounds` rounds (1, 2, 1, 2, …), so that a
//! change of the machine's load during the measurement hits every count alike; the summary
//! gives each count's median steps per second and the median of the rounds' speed-ups. Every
//! run records the 1-minute load average before and after it (`/proc/loadavg`, what `uptime`
//! prints) and where its time went (the executor's clocks, [`wengert::rl::exec::actor_learner::Timings`]):
//! the share of the wall time the learner waited for trajectories, and the share the actors
//! spent blocked on a full queue. A load average above the machine's cores means other work
//! shared them, and the speed-up then says little about the code.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use wengert::rl::algorithms;

use super::resolve_env;

/// The command line of `wengert report scaling`.
pub struct ScalingArgs {
    pub algo: String,
    pub env: String,
    /// The counts of actors to measure, in order, in every round.
    pub actors: Vec<usize>,
    /// Rounds over the counts of actors.
    pub rounds: usize,
    /// Environment steps per run.
    pub steps: usize,
    /// More `key=value` settings for every run.
    pub settings: Vec<(String, String)>,
    pub seed: u64,
    pub out: PathBuf,
}

/// One run: a count of actors in one round.
pub struct Measurement {
    pub round: usize,
    pub actors: usize,
    pub env_steps: usize,
    pub seconds: f64,
    pub final_return: Option<f64>,
    pub mean_lag: f64,
    /// The 1-minute load average before and after the run (`None` where it cannot be read).
    pub load: (Option<f64>, Option<f64>),
    /// Seconds the learner waited for trajectories.
    pub learner_waiting: f64,
    /// Seconds the actors spent blocked on a full queue, summed over actors.
    pub actors_blocked: f64,
    /// CPU seconds of the learner's thread and of the actors' threads (summed), where the
    /// operating system tells them (`/proc/self/task`, Linux).
    pub cpu: Option<ThreadCpu>,
}

/// CPU time by thread (`utime + stime`), which the load of other processes does not inflate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ThreadCpu {
    /// The learner: the main thread, which runs the training loop.
    pub learner: f64,
    /// Every `wengert-actor-*` thread, summed.
    pub actors: f64,
}

impl ThreadCpu {
    /// This process's threads now: the main thread's CPU time and the actor threads' (Linux).
    pub fn now() -> Option<ThreadCpu> {
        let ticks = 100.0; // USER_HZ, the unit of /proc's times on Linux
        let pid = std::process::id().to_string();
        let mut cpu = ThreadCpu::default();
        for task in fs::read_dir("/proc/self/task").ok()?.flatten() {
            let Ok(stat) = fs::read_to_string(task.path().join("stat")) else {
                continue; // the thread ended meanwhile
            };
            // "tid (comm) state ppid …": utime and stime are fields 14 and 15
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let time =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            if task.file_name().to_str() == Some(pid.as_str()) {
                cpu.learner += time / ticks;
            } else if comm.starts_with("wengert-actor-") {
                cpu.actors += time / ticks;
            }
        }
        Some(cpu)
    }

    /// On `cores` free cores, the best speed-up of `n` actors over one that these CPU times
    /// allow, `L` the learner's and `A` the actors' CPU per environment step: one actor runs at
    /// `1 / max(A, L)` steps per second, `n` at `min(1/L, n/A, cores/(A + L))`.
    pub fn speed_up_bound(&self, env_steps: usize, n: usize, cores: usize) -> f64 {
        let (l, a) = (
            self.learner / env_steps as f64,
            self.actors / env_steps as f64,
        );
        let one = 1.0 / a.max(l);
        let many = (1.0 / l).min(n as f64 / a).min(cores as f64 / (a + l));
        many / one
    }
}

impl Measurement {
    /// Environment steps per second.
    pub fn steps_per_second(&self) -> f64 {
        self.env_steps as f64 / self.seconds
    }
}

/// The 1-minute load average, as `uptime` prints it (Linux).
pub fn load_average() -> Option<f64> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Trains once per count of actors and round, and measures it.
pub fn measure(args: &ScalingArgs, env_id: &str) -> Result<Vec<Measurement>, String> {
    let mut measurements = Vec::new();
    for round in 1..=args.rounds {
        for &actors in &args.actors {
            measurements.push(measure_one(args, env_id, round, actors)?);
        }
    }
    Ok(measurements)
}

fn measure_one(
    args: &ScalingArgs,
    env_id: &str,
    round: usize,
    actors: usize,
) -> Result<Measurement, String> {
    let mut settings = args.settings.clone();
    settings.push(("num_actors".into(), actors.to_string()));
    settings.push(("total_timesteps".into(), args.steps.to_string()));
    let (mut env_steps, mut final_return, mut lags) = (0, None, Vec::new());
    let (mut learner_waiting, mut actors_blocked, mut cpu) = (0.0, 0.0, None);
    let load_before = load_average();
    // the learner is this (main) thread, whose clock counts the runs before this one too
    let before = ThreadCpu::now();
    let start = Instant::now();
    algorithms::train(&args.algo, env_id, args.seed, &settings, &mut |m| {
        env_steps = m.env_steps;
        final_return = m.mean_return;
        lags.extend(m.get("policy_lag_mean"));
        learner_waiting = m.get("learner_waiting_seconds").unwrap_or(f64::NAN);
        actors_blocked = m.get("actors_blocked_seconds").unwrap_or(f64::NAN);
        // the actors' threads live until training ends: read them at every iteration
        cpu = ThreadCpu::now();
        true
    })
    .map_err(|e| format!("{} with {actors} actors: {e}", args.algo))?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu.zip(before).map(|(after, before)| ThreadCpu {
        learner: after.learner - before.learner,
        actors: after.actors,
    });
    let load = (load_before, load_average());
    let mean_lag = lags.iter().sum::<f64>() / lags.len().max(1) as f64;
    eprintln!(
        "round {round}, {actors} actors: {env_steps} steps in {seconds:.1} s ({:.0} steps/s), \
         lag {mean_lag:.2}, learner waiting {:.0} %, CPU s learner / actors {}, load {}",
        env_steps as f64 / seconds,
        100.0 * learner_waiting / seconds,
        cpu.map_or("?".into(), |c| format!(
            "{:.2} / {:.2}",
            c.learner, c.actors
        )),
        show_load(load),
    );
    Ok(Measurement {
        round,
        actors,
        env_steps,
        seconds,
        final_return,
        mean_lag,
        load,
        learner_waiting,
        actors_blocked,
        cpu,
    })
}

fn show_load((before, after): (Option<f64>, Option<f64>)) -> String {
    let one = |x: Option<f64>| x.map_or("?".into(), |x| format!("{x:.2}"));
    format!("{} → {}", one(before), one(after))
}

/// The median of `xs` (the mean of the middle two for an even count); NaN for none.
pub fn median(xs: &[f64]) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => 0.5 * (xs[n / 2 - 1] + xs[n / 2]),
    }
}

/// The Markdown tables of the measurements: every run, then each count's medians.
pub fn table(measurements: &[Measurement], command: &str) -> String {
    let cores = wengert::rl::exec::cores();
    let mut out = format!(
        "Environment steps per second against actors on a machine with {cores} cores, the counts \
         alternating in each round, one run at a time (`{command}`).\n\n\
         | round | actors | env steps | wall time (s) | env steps/s | learner waiting | actors blocked | CPU µs per env step: learner / actors | mean policy lag | load average (1 min) before → after | mean return at the end |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    let per_step = |m: &Measurement| {
        m.cpu.map_or("–".into(), |c| {
            let us = 1e6 / m.env_steps as f64;
            format!("{:.2} / {:.2}", c.learner * us, c.actors * us)
        })
    };
    for m in measurements {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.0} | {:.0} % | {:.0} % | {} | {:.2} | {} | {} |",
            m.round,
            m.actors,
            m.env_steps,
            m.seconds,
            m.steps_per_second(),
            100.0 * m.learner_waiting / m.seconds,
            100.0 * m.actors_blocked / (m.seconds * m.actors as f64),
            per_step(m),
            m.mean_lag,
            show_load(m.load),
            m.final_return.map_or("–".into(), |r| format!("{r:.1}")),
        );
    }
    let first_round = measurements.first().map_or(1, |m| m.round);
    let counts: Vec<usize> = (measurements.iter())
        .filter(|m| m.round == first_round)
        .map(|m| m.actors)
        .collect();
    let base = counts.first().copied();
    let rate = |actors: usize, round: Option<usize>| -> Vec<f64> {
        (measurements.iter())
            .filter(|m| m.actors == actors && round.is_none_or(|r| m.round == r))
            .map(Measurement::steps_per_second)
            .collect()
    };
    let rounds = measurements.iter().map(|m| m.round).max().unwrap_or(0);
    let _ = write!(
        out,
        "\n| actors | median env steps/s | median speed-up over {} actor(s) (of the rounds' ratios) | best speed-up the CPU times allow on {cores} free cores (median) |\n|---|---|---|---|\n",
        base.unwrap_or(1)
    );
    for &actors in &counts {
        let ratios: Vec<f64> = (1..=rounds)
            .filter_map(|r| {
                let (a, b) = (rate(actors, Some(r)), rate(base?, Some(r)));
                Some(a.first()? / b.first()?)
            })
            .collect();
        let bounds: Vec<f64> = (measurements.iter())
            .filter(|m| m.actors == actors)
            .filter_map(|m| Some(m.cpu?.speed_up_bound(m.env_steps, actors, cores)))
            .collect();
        let _ = writeln!(
            out,
            "| {actors} | {:.0} | {:.2}× | {:.2}× |",
            median(&rate(actors, None)),
            median(&ratios),
            median(&bounds),
        );
    }
    let loads: Vec<f64> = (measurements.iter())
        .flat_map(|m| [m.load.0, m.load.1])
        .flatten()
        .collect();
    let highest = loads.iter().copied().fold(f64::NAN, f64::max);
    if highest > cores as f64 - 0.5 {
        let _ = writeln!(
            out,
            "\nThe load average reached {highest:.1} on {cores} cores during the measurement: \
             other work shared the cores, so the speed-up cannot be judged from these runs."
        );
    }
    out
}

/// `wengert report scaling`.
pub fn run_scaling(args: &ScalingArgs) -> Result<(), String> {
    let env_id = resolve_env(&args.env)?;
    if args.actors.is_empty() || args.actors.contains(&0) {
        return Err("--actors: a list of counts of at least 1, e.g. 1,2".into());
    }
    if args.rounds == 0 {
        return Err("--rounds: at least 1".into());
    }
    let list: Vec<String> = args.actors.iter().map(usize::to_string).collect();
    let mut command = format!(
        "wengert report scaling --algo {} --env {} --actors {} --rounds {} --steps {} --seed {}",
        args.algo,
        args.env,
        list.join(","),
        args.rounds,
        args.steps,
        args.seed
    );
    for (k, v) in &args.settings {
        let _ = write!(command, " --set {k}={v}");
    }
    let measurements = measure(args, env_id)?;
    let markdown = table(&measurements, &command);
    fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let path = args.out.join(format!("scaling-{}.md", args.algo));
    fs::write(&path, &markdown).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{markdown}");
    println!("written to {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(round: usize, actors: usize, seconds: f64, load: f64) -> Measurement {
        Measurement {
            round,
            actors,
            env_steps: 1000,
            seconds,
            final_return: Some(20.0),
            mean_lag: 0.5,
            load: (Some(load), Some(load)),
            learner_waiting: 0.5 * seconds,
            actors_blocked: 0.0,
            cpu: Some(ThreadCpu {
                learner: 0.5,
                actors: 1.0 * actors as f64,
            }),
        }
    }

    #[test]
    fn the_table_gives_medians_and_the_median_speed_up_of_the_rounds() {
        let runs = [
            m(1, 1, 2.0, 0.1),
            m(1, 2, 1.25, 0.1),
            m(2, 1, 4.0, 0.1),
            m(2, 2, 2.0, 0.1),
            m(3, 1, 2.5, 0.1),
            m(3, 2, 1.0, 0.1),
        ];
        let text = table(&runs, "wengert report scaling");
        assert!(
            text.contains("| 1 | 2 | 1000 | 1.2 | 800 | 50 % | 0 % | 500.00 / 2000.00 |"),
            "{text}"
        );
        // rates 500, 250, 400 → 400; 800, 500, 1000 → 800; ratios 1.6, 2.0, 2.5 → 2.0
        assert!(text.contains("| 1 | 400 | 1.00× |"), "{text}");
        assert!(text.contains("| 2 | 800 | 2.00× |"), "{text}");
        assert!(!text.contains("cannot be judged"), "{text}");
        let loaded = table(&[m(1, 1, 2.0, 9.0), m(1, 2, 1.0, 9.0)], "x");
        assert!(loaded.contains("cannot be judged"), "{loaded}");
    }

    /// Learner `L` and actors `A` per step: one actor runs at `1/max(A, L)`, two on two cores
    /// at `min(1/L, 2/A, 2/(A + L))`.
    #[test]
    fn the_bound_is_set_by_the_learner_or_by_the_cores() {
        let cpu = |learner, actors| ThreadCpu { learner, actors };
        // a learner as costly as the actor: more actors cannot help
        assert_eq!(cpu(1.0, 1.0).speed_up_bound(1, 2, 2), 1.0);
        // a free learner: twice as fast on two cores
        assert_eq!(cpu(0.0, 1.0).speed_up_bound(1, 2, 2), 2.0);
        // L = A/4: the two cores, 2/(A + L) = 1.6/A
        assert!((cpu(0.25, 1.0).speed_up_bound(1, 2, 2) - 1.6).abs() < 1e-12);
        // on four cores neither the cores nor the learner (1/L = 4/A) limit two actors
        assert!((cpu(0.25, 1.0).speed_up_bound(1, 2, 4) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
