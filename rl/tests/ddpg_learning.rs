//! DDPG smoke tests: it learns a little of Pendulum within seconds and reports its diagnostics.

use wengert_rl::algorithms::ddpg::{Ddpg, DdpgConfig};
use wengert_rl::algorithms::preset;
use wengert_rl::common::trainer::{Trained, train_from};
use wengert_rl::continuous::ContinuousAgent;

fn train(config: &DdpgConfig) -> Trained<ContinuousAgent> {
    train_from::<Ddpg>("Pendulum-v1", config, None, |_| true).unwrap()
}

/// Small networks and batches, 1000 random steps: about 2 CPU-seconds in release mode.
fn small(seed: u64, total_timesteps: usize) -> DdpgConfig {
    DdpgConfig {
        total_timesteps,
        learning_starts: 1000,
        hidden: vec![32, 32],
        batch_size: 64,
        seed,
        ..preset("ddpg", "Pendulum-v1").unwrap()
    }
}

#[test]
fn ddpg_improves_on_pendulum_within_6k_steps() {
    let run = train(&small(1, 6000));
    // The first 1000 steps are uniformly random: about −1200 per episode.
    let first = run.history[0].mean_return.unwrap();
    let evaluation = run.agent.evaluate(5, 1000).unwrap();
    let mean = evaluation.iter().sum::<f64>() / 5.0;
    assert!(
        mean > -800.0 && mean > first + 300.0,
        "evaluation {evaluation:?}, first {first}"
    );
}

#[test]
fn ddpg_reports_losses_and_throughput() {
    let run = train(&small(1, 2000));
    let last = run.history.last().unwrap();
    for name in [
        "critic_loss",
        "actor_loss",
        "q_mean",
        "steps_per_second",
        "gradient_steps_per_second",
    ] {
        let value = last.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(value.is_finite(), "{name} = {value}");
    }
    assert_eq!(last.get("gradient_steps"), Some(1000.0));
    // The warm-up reports the same columns, with no losses yet.
    let names = |i: usize| {
        run.history[i]
            .losses
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(0), names(1));
    assert!(run.history[0].get("critic_loss").unwrap().is_nan());
}
