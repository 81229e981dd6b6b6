//! `wengert eval <run>`: the run's checkpoint, evaluated deterministically (the policy's mode or
//! the greedy action) over `N` seeded episodes; optionally one episode as a GIF.

use std::path::Path;

use wengert::rl::train::evaluate;

use super::mean_std;
use super::render::{record_episode, write_gif};
use super::runs::{self, RunConfig, RunState};

pub fn run(run: &Path, episodes: usize, seed: u64, gif: Option<&Path>) -> Result<(), String> {
    let run = runs::existing_run(run)?;
    let config = RunConfig::read(&run)?;
    let agent = runs::restore_agent(&run, &config)?;
    let state = RunState::read(&run)?;
    let returns = evaluate(agent.as_ref(), episodes, seed).map_err(|e| e.to_string())?;
    let (mean, std) = mean_std(&returns);
    println!(
        "{} on {} after {} steps ({:?}): deterministic evaluation over {episodes} episodes: {mean:.1} ± {std:.1}",
        config.algorithm, config.env, state.env_steps, state.status
    );
    if let Some(path) = gif {
        let recording = record_episode(agent.as_ref(), seed)?;
        write_gif(path, &recording)?;
        println!(
            "wrote {} ({} frames, return {:.1})",
            path.display(),
            recording.frames.len(),
            recording.total_return
        );
    }
    Ok(())
}
