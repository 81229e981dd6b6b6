//! Deterministic evaluation runs its episodes side by side in one batch; each must be exactly
//! the episode it would be alone.

use wengert_rl::algorithms::ppo::{Ppo, PpoConfig};
use wengert_rl::algorithms::preset;
use wengert_rl::common::trainer::train;
use wengert_rl::train::evaluate;

fn check_batched_equals_alone(env_id: &str, config: PpoConfig) -> Vec<f64> {
    let trained = train::<Ppo>(env_id, &config, |_| true).unwrap().agent;
    let batched = evaluate(&trained, 6, 100).unwrap();
    let alone: Vec<f64> = (0..6)
        .map(|i| evaluate(&trained, 1, 100 + i).unwrap()[0])
        .collect();
    assert_eq!(batched, alone, "{env_id}");
    batched
}

#[test]
fn batched_episodes_equal_episodes_run_alone() {
    // A barely trained CartPole policy: episodes of different lengths leave the batch at
    // different steps.
    let mut cartpole = PpoConfig {
        seed: 1,
        ..preset("ppo", "CartPole-v1").unwrap()
    };
    cartpole.rollout.total_timesteps = 2048;
    let returns = check_batched_equals_alone("CartPole-v1", cartpole);
    assert!(
        returns.iter().any(|&r| r != returns[0]),
        "the episodes should end at different steps: {returns:?}"
    );
    // Continuous actions: any difference in a network's output would show in the return.
    let mut pendulum = PpoConfig {
        seed: 1,
        ..preset("ppo", "Pendulum-v1").unwrap()
    };
    pendulum.rollout.total_timesteps = 2048;
    pendulum.rollout.num_steps = 512;
    check_batched_equals_alone("Pendulum-v1", pendulum);
}
