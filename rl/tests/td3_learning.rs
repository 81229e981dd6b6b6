//! TD3 smoke tests: it learns a little of Pendulum within seconds and reports its diagnostics.

use wengert_rl::algorithms::preset;
use wengert_rl::algorithms::td3::{Td3, Td3Config};
use wengert_rl::common::trainer::{Trained, train_from};
use wengert_rl::continuous::ContinuousAgent;

mod pendulum;

fn train(config: &Td3Config) -> Trained<ContinuousAgent> {
    train_from::<Td3>("Pendulum-v1", config, None, |_| true).unwrap()
}

/// Small networks and batches, 1000 random steps: about 2 CPU-seconds in release mode.
fn small(seed: u64, total_timesteps: usize) -> Td3Config {
    let mut config: Td3Config = preset("td3", "Pendulum-v1").unwrap();
    let core = &mut config.core;
    (core.total_timesteps, core.learning_starts) = (total_timesteps, 1000);
    (core.hidden, core.batch_size) = (vec![32, 32], 64);
    config.seed = seed;
    config
}

#[test]
fn td3_improves_on_pendulum_within_6k_steps() {
    pendulum::improves(&train(&small(2, 6000)));
}

#[test]
fn td3_reports_losses_and_throughput() {
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

#[test]
fn the_actor_and_the_targets_move_once_every_policy_delay_critic_steps() {
    for (delay, expected) in [(1, 300.0), (2, 150.0), (3, 100.0)] {
        let mut config: Td3Config = preset("td3", "Pendulum-v1").unwrap();
        let core = &mut config.core;
        (core.total_timesteps, core.learning_starts, core.hidden) = (400, 100, vec![8]);
        (config.policy_delay, config.log_interval) = (delay, 400);
        let run = train(&config);
        let last = run.history.last().unwrap();
        assert_eq!(last.get("gradient_steps"), Some(300.0));
        assert_eq!(
            last.get("actor_updates"),
            Some(expected),
            "policy_delay {delay}"
        );
    }
}
