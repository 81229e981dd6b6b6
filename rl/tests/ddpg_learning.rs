//! DDPG smoke tests: it learns a little of Pendulum within seconds and reports its diagnostics.

use wengert_rl::algorithms::ddpg::{Ddpg, DdpgConfig};
use wengert_rl::algorithms::preset;
use wengert_rl::common::trainer::{Trained, train_from};
use wengert_rl::continuous::ContinuousAgent;

mod pendulum;

fn train(config: &DdpgConfig) -> Trained<ContinuousAgent> {
    train_from::<Ddpg>("Pendulum-v1", config, None, |_| true).unwrap()
}

/// Small networks and batches, 1000 random steps: about 2 CPU-seconds in release mode.
fn small(seed: u64, total_timesteps: usize) -> DdpgConfig {
    let mut config: DdpgConfig = preset("ddpg", "Pendulum-v1").unwrap();
    let core = &mut config.core;
    (core.total_timesteps, core.learning_starts) = (total_timesteps, 1000);
    (core.hidden, core.batch_size) = (vec![32, 32], 64);
    config.seed = seed;
    config
}

#[test]
fn ddpg_improves_on_pendulum_within_6k_steps() {
    pendulum::improves(&train(&small(1, 6000)));
}

#[test]
fn ddpg_reports_losses_and_throughput() {
    let run = train(&small(1, 2000));
    let names = [
        "critic_loss",
        "actor_loss",
        "q_mean",
        "steps_per_second",
        "gradient_steps_per_second",
    ];
    pendulum::reports(&run, &names);
    assert_eq!(
        run.history.last().unwrap().get("gradient_steps"),
        Some(1000.0)
    );
}
