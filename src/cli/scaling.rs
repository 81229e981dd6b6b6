//! `wengert report scaling`: an algorithm's environment steps per second against its number of
//! actors, in one process, one configuration after the other (so the runs do not compete for
//! cores). For IMPALA in its asynchronous mode: how far the actor threads scale on this machine.
//!
//! Every run trains the algorithm's preset for the environment with `num_actors = N` and the
//! given budget; the table gives the wall time, the steps per second and the speed-up over the
//! first count of actors.

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
    /// The counts of actors to measure, in order.
    pub actors: Vec<usize>,
    /// Environment steps per run.
    pub steps: usize,
    /// More `key=value` settings for every run.
    pub settings: Vec<(String, String)>,
    pub seed: u64,
    pub out: PathBuf,
}

/// One measured count of actors.
pub struct Measurement {
    pub actors: usize,
    pub env_steps: usize,
    pub seconds: f64,
    pub final_return: Option<f64>,
    pub mean_lag: f64,
}

impl Measurement {
    /// Environment steps per second.
    pub fn steps_per_second(&self) -> f64 {
        self.env_steps as f64 / self.seconds
    }
}

/// Trains once per count of actors and measures it.
pub fn measure(args: &ScalingArgs, env_id: &str) -> Result<Vec<Measurement>, String> {
    let mut measurements = Vec::new();
    for &actors in &args.actors {
        let mut settings = args.settings.clone();
        settings.push(("num_actors".into(), actors.to_string()));
        settings.push(("total_timesteps".into(), args.steps.to_string()));
        let (mut env_steps, mut final_return, mut lags) = (0, None, Vec::new());
        let start = Instant::now();
        algorithms::train(&args.algo, env_id, args.seed, &settings, &mut |m| {
            env_steps = m.env_steps;
            final_return = m.mean_return;
            lags.extend(m.get("policy_lag_mean"));
            true
        })
        .map_err(|e| format!("{} with {actors} actors: {e}", args.algo))?;
        let seconds = start.elapsed().as_secs_f64();
        let mean_lag = lags.iter().sum::<f64>() / lags.len().max(1) as f64;
        eprintln!(
            "{actors} actors: {env_steps} steps in {seconds:.1} s ({:.0} steps/s), lag {mean_lag:.2}",
            env_steps as f64 / seconds
        );
        measurements.push(Measurement {
            actors,
            env_steps,
            seconds,
            final_return,
            mean_lag,
        });
    }
    Ok(measurements)
}

/// The Markdown table of the measurements.
pub fn table(measurements: &[Measurement], command: &str) -> String {
    let cores = wengert::rl::exec::cores();
    let mut out = format!(
        "Environment steps per second against actors, one run after the other on a machine with \
         {cores} cores (`{command}`).\n\n\
         | actors | env steps | wall time (s) | env steps/s | speed-up | mean policy lag | mean return at the end |\n\
         |---|---|---|---|---|---|---|\n"
    );
    let base = measurements.first().map(Measurement::steps_per_second);
    for m in measurements {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.0} | {:.2}× | {:.2} | {} |",
            m.actors,
            m.env_steps,
            m.seconds,
            m.steps_per_second(),
            base.map_or(f64::NAN, |b| m.steps_per_second() / b),
            m.mean_lag,
            m.final_return.map_or("–".into(), |r| format!("{r:.1}")),
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
    let list: Vec<String> = args.actors.iter().map(usize::to_string).collect();
    let mut command = format!(
        "wengert report scaling --algo {} --env {} --actors {} --steps {} --seed {}",
        args.algo,
        args.env,
        list.join(","),
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

    #[test]
    fn the_table_gives_the_speed_up_over_the_first_row() {
        let m = |actors, seconds| Measurement {
            actors,
            env_steps: 1000,
            seconds,
            final_return: Some(20.0),
            mean_lag: 0.5,
        };
        let text = table(&[m(1, 2.0), m(2, 1.25)], "wengert report scaling");
        assert!(text.contains("| 1 | 1000 | 2.0 | 500 | 1.00× |"), "{text}");
        assert!(text.contains("| 2 | 1000 | 1.2 | 800 | 1.60× |"), "{text}");
    }
}
