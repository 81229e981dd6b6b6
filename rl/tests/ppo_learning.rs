//! PPO smoke tests: it learns CartPole within a small budget, and runs on a continuous task.

use wengert_rl::algorithms::ppo::{Ppo, PpoConfig};
use wengert_rl::algorithms::preset;
use wengert_rl::common::trainer::train;
use wengert_rl::train::evaluate;

#[test]
fn ppo_improves_on_cartpole_within_25k_steps() {
    let config = PpoConfig {
        total_timesteps: 25_600,
        seed: 3,
        ..preset("ppo", "CartPole-v1").unwrap()
    };
    let trained = train::<Ppo>("CartPole-v1", &config, |_| true).unwrap();
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    // A random policy averages about 22; PPO should be well past 100 by now.
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first);
    let evaluation = evaluate(&trained.agent, 3, 0).unwrap();
    assert!(evaluation.iter().all(|r| *r > 50.0), "{evaluation:?}");
}

#[test]
fn ppo_runs_on_a_continuous_action_space_and_reports_its_diagnostics() {
    let config = PpoConfig {
        total_timesteps: 4096,
        num_steps: 512,
        num_minibatches: 8,
        update_epochs: 2,
        ..preset("ppo", "Pendulum-v1").unwrap()
    };
    let trained = train::<Ppo>("Pendulum-v1", &config, |_| true).unwrap();
    assert_eq!(trained.history.len(), 2);
    for m in &trained.history {
        for name in [
            "policy_loss",
            "value_loss",
            "entropy",
            "approx_kl",
            "clip_fraction",
            "explained_variance",
        ] {
            let value = m.get(name).unwrap();
            assert!(value.is_finite(), "{name} = {value}");
        }
        assert!(m.get("approx_kl").unwrap() >= 0.0);
    }
    assert!(evaluate(&trained.agent, 1, 0).unwrap()[0] < 0.0);
}

#[test]
fn a_batch_that_does_not_split_into_minibatches_is_rejected() {
    let config = PpoConfig {
        num_envs: 3,
        num_steps: 5,
        num_minibatches: 4,
        ..preset("ppo", "Unknown-v0").unwrap()
    };
    let error = train::<Ppo>("CartPole-v1", &config, |_| true)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .contains("does not split into num_minibatches = 4 minibatches")
    );
}
