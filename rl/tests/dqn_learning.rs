//! DQN smoke tests: it learns CartPole within a small budget, every switch runs end to end, and
//! bad settings are rejected with a clear error.

use wengert_rl::algorithms;
use wengert_rl::dqn::{DqnConfig, train};
use wengert_rl::train::evaluate;

/// A small, fast CartPole configuration: a 64×64 network, training from 1000 steps on.
fn small_cartpole() -> DqnConfig {
    DqnConfig {
        total_timesteps: 8_000,
        hidden: vec![64, 64],
        train_freq: 64,
        gradient_steps: 32,
        exploration_fraction: 0.3,
        log_interval: 500,
        seed: 1,
        ..DqnConfig::for_env("CartPole-v1")
    }
}

#[test]
fn dqn_improves_on_cartpole_within_8k_steps() {
    let trained = train("CartPole-v1", &small_cartpole(), |_| true).unwrap();
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap();
    let last_return = last.mean_return.unwrap();
    // A random policy averages about 22.
    assert!(
        last_return > 80.0,
        "mean return {last_return} (first {first})"
    );
    assert!(last_return > 2.0 * first);
    let evaluation = evaluate(&trained, 5, 0).unwrap();
    let mean = evaluation.iter().sum::<f64>() / 5.0;
    assert!(mean > 80.0, "{evaluation:?}");
    // Training phases at t = 1024, 1088, …, 8000 (the multiples of 64 past 1000), 32 steps each.
    assert_eq!(last.get("gradient_steps"), Some(110.0 * 32.0));
    assert!((last.get("epsilon").unwrap() - 0.04).abs() < 1e-12);
}

#[test]
fn every_switch_runs_and_reports_finite_metrics() {
    let config = DqnConfig {
        total_timesteps: 2_000,
        learning_starts: 500,
        double: true,
        dueling: true,
        prioritized: true,
        n_step: 3,
        num_envs: 2,
        anneal_lr: true,
        ..small_cartpole()
    };
    let trained = train("CartPole-v1", &config, |_| true).unwrap();
    assert_eq!(trained.history.len(), 4);
    assert!(trained.store.id("q.advantage.weight").is_some());
    let mut last_beta = 0.0;
    for m in &trained.history[1..] {
        for name in ["loss", "mean_q", "grad_norm", "gradient_steps_per_second"] {
            let value = m.get(name).unwrap();
            assert!(value.is_finite() && value >= 0.0, "{name} = {value}");
        }
        // α(t) = α₀ (1 − t / T), reported as the next phase will use it.
        let learning_rate = m.get("learning_rate").unwrap();
        assert_eq!(learning_rate, config.learning_rate(m.env_steps));
        assert!(learning_rate < config.learning_rate);
        let beta = m.get("beta").unwrap();
        assert!(beta > last_beta && beta <= 1.0);
        last_beta = beta;
    }
    assert_eq!(trained.history.last().unwrap().env_steps, 2_000);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let config = DqnConfig {
        total_timesteps: 1_500,
        learning_starts: 500,
        prioritized: true,
        ..small_cartpole()
    };
    let run = || {
        let trained = train("CartPole-v1", &config, |_| true).unwrap();
        let id = trained.store.id("q.4.weight").unwrap();
        (
            trained.store.value(id),
            trained.history.last().unwrap().get("loss"),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn the_registry_trains_dqn_with_settings_and_acts_greedily() {
    let settings = [
        ("total_timesteps", "600"),
        ("learning_starts", "300"),
        ("hidden", "16"),
        ("train_freq", "100"),
        ("gradient_steps", "2"),
        ("dueling", "true"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let run = algorithms::train("dqn", "Acrobot-v1", 3, &settings, &mut |_| true).unwrap();
    assert!(run.config.contains("dueling: true"));
    assert_eq!(run.agent.env_id(), "Acrobot-v1");
    assert!(run.agent.store().id("q.trunk.0.weight").is_some());
    assert_eq!(
        run.agent.history().last().unwrap().get("gradient_steps"),
        Some(6.0)
    );
}

#[test]
fn bad_settings_are_rejected_with_what_was_expected() {
    let message = |env: &str, config: DqnConfig| {
        train(env, &config, |_| true)
            .err()
            .expect("an error")
            .to_string()
    };
    assert!(
        message("Pendulum-v1", DqnConfig::default()).contains("discrete action space"),
        "continuous actions"
    );
    let no_trunk = DqnConfig {
        dueling: true,
        hidden: vec![],
        ..DqnConfig::default()
    };
    assert!(message("CartPole-v1", no_trunk).contains("hidden layer"));
    let zero_batch = DqnConfig {
        batch_size: 0,
        ..DqnConfig::default()
    };
    assert!(message("CartPole-v1", zero_batch).contains("`batch_size` must be a positive"));
    let bad_tau = DqnConfig {
        tau: 1.5,
        ..DqnConfig::default()
    };
    assert!(message("CartPole-v1", bad_tau).contains("`tau` must lie in (0, 1]"));
    let error = algorithms::train("dqn", "Pendulum-v1", 1, &[], &mut |_| true)
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .contains("does not handle the action space")
    );
}
