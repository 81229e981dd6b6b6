//! Recurrent PPO smoke tests: it improves on CartPoleNoVel-v1 (no velocities) within a small
//! budget, and runs on a continuous task with a shared LSTM, reporting its diagnostics.

use wengert_rl::algorithms::preset;
use wengert_rl::algorithms::recurrent_ppo::{RecurrentPpo, RecurrentPpoConfig};
use wengert_rl::common::trainer::train;
use wengert_rl::train::evaluate;

#[test]
fn recurrent_ppo_improves_on_cartpole_without_velocities_within_20k_steps() {
    let config = RecurrentPpoConfig {
        total_timesteps: 20_480,
        seed: 1,
        ..preset("recurrent_ppo", "CartPoleNoVel-v1").unwrap()
    };
    let trained = train::<RecurrentPpo>("CartPoleNoVel-v1", &config, |_| true).unwrap();
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    // A random policy averages about 22.
    assert!(
        last > 50.0 && last > 2.5 * first,
        "mean return {last} (first {first})"
    );
    let evaluation = evaluate(&trained.agent, 3, 0).unwrap();
    assert!(evaluation.iter().all(|r| *r > 30.0), "{evaluation:?}");
}

#[test]
fn recurrent_ppo_runs_on_a_continuous_action_space_with_a_shared_lstm() {
    let config = RecurrentPpoConfig {
        total_timesteps: 1024,
        num_steps: 128,
        batch_size: 64,
        update_epochs: 2,
        lstm_hidden_size: 16,
        shared_lstm: true,
        ..preset("recurrent_ppo", "PendulumNoVel-v1").unwrap()
    };
    let trained = train::<RecurrentPpo>("PendulumNoVel-v1", &config, |_| true).unwrap();
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
fn a_minibatch_larger_than_the_rollout_is_rejected() {
    let config = RecurrentPpoConfig {
        num_envs: 2,
        num_steps: 8,
        batch_size: 32,
        ..preset("recurrent_ppo", "CartPoleNoVel-v1").unwrap()
    };
    let error = train::<RecurrentPpo>("CartPoleNoVel-v1", &config, |_| true)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("batch_size = 32") && error.contains("16"),
        "{error}"
    );
}
