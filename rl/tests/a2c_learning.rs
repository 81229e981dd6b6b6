//! A2C smoke tests: it learns CartPole within a small budget; the shared-trunk and Adam
//! options, a continuous action space and the registry all run; bad settings are rejected.

use wengert_rl::algorithms::a2c::{A2c, A2cAgent, A2cConfig, A2cNetwork, A2cOptimizer};
use wengert_rl::algorithms::{self, preset};
use wengert_rl::common::config::{Config, to_toml};
use wengert_rl::common::trainer::{Trained, Trainer, train_from};
use wengert_rl::train::{Agent, TrainError, evaluate};

fn cartpole() -> A2cConfig {
    preset("a2c", "CartPole-v1").unwrap()
}

fn train(config: &A2cConfig) -> Result<Trained<A2cAgent>, TrainError> {
    train_from::<A2c>("CartPole-v1", config, None, |_| true)
}

#[test]
fn a2c_improves_on_cartpole_within_20k_steps() {
    let mut config = A2cConfig {
        seed: 1,
        ..cartpole()
    };
    config.rollout.total_timesteps = 20_000;
    let trained = train(&config).unwrap();
    assert_eq!(trained.history.len(), 20_000 / (8 * 5));
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    // A random policy averages about 22.
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first, "mean return {last} (first {first})");
    let evaluation = evaluate(&trained.agent, 3, 0).unwrap();
    assert!(evaluation.iter().all(|r| *r > 50.0), "{evaluation:?}");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let mut config: A2cConfig = cartpole();
    config.rollout.total_timesteps = 2_000;
    let losses = |t: Trained<A2cAgent>| {
        t.history
            .iter()
            .map(|m| (m.mean_return, m.get("policy_loss"), m.get("value_loss")))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        losses(train(&config).unwrap()),
        losses(train(&config).unwrap())
    );
}

#[test]
fn a_shared_trunk_learns_on_cartpole_with_rmsprop_and_with_adam() {
    for optimizer in [A2cOptimizer::RmsProp, A2cOptimizer::Adam] {
        let mut config = A2cConfig {
            shared_network: true,
            optimizer,
            seed: 1,
            ..cartpole()
        };
        config.rollout.total_timesteps = 40_000;
        let trained = train(&config).unwrap();
        assert!(matches!(trained.agent.network, A2cNetwork::Shared(_)));
        assert!(trained.agent.store.id("trunk.0.weight").is_some());
        assert!(trained.agent.store.id("critic.weight").is_some());
        let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
        let last = trained.history.last().unwrap().mean_return.unwrap();
        let evaluation = evaluate(&trained.agent, 5, 0).unwrap();
        let mean = evaluation.iter().sum::<f64>() / 5.0;
        println!("{optimizer:?}: mean return {first} → {last}, evaluation {mean}");
        // Slower than separate networks (the value loss dominates the shared trunk's
        // gradient), but well past a random policy's 22.
        assert!(
            last > 40.0,
            "{optimizer:?}: mean return {last} (first {first})"
        );
        assert!(mean > 60.0, "{optimizer:?}: evaluation {evaluation:?}");
    }
}

#[test]
fn a2c_runs_on_a_continuous_action_space_through_the_registry() {
    let settings: Vec<(String, String)> = [
        ("total_timesteps", "800"),
        ("num_steps", "10"),
        ("ent_coef", "0.01"),
        ("gae_lambda", "0.9"),
        ("optimizer", "adam"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let run = algorithms::train("a2c", "Pendulum-v1", 3, &settings, &mut |_| true).unwrap();
    assert_eq!(run.history.len(), 10);
    for m in &run.history {
        for name in ["policy_loss", "value_loss", "entropy", "grad_norm"] {
            let value = m.get(name).unwrap();
            assert!(value.is_finite(), "{name} = {value}");
        }
    }
    assert!(run.config.contains("gae_lambda = 0.9"), "{}", run.config);
    assert!(
        run.config.contains("optimizer = \"adam\""),
        "{}",
        run.config
    );
    assert!(evaluate(run.agent.as_ref(), 1, 0).unwrap()[0] < 0.0);
}

#[test]
fn bad_settings_are_rejected_with_what_was_expected() {
    let config = A2cConfig {
        shared_network: true,
        hidden: vec![],
        ..cartpole()
    };
    let error = train(&config).err().unwrap();
    assert!(
        error.to_string().contains("at least one hidden layer"),
        "{error}"
    );
    let mut config: A2cConfig = cartpole();
    config.rollout.num_steps = 0;
    let error = train(&config).err().unwrap().to_string();
    assert!(error.contains("`num_steps`"), "{error}");
    let set = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let resolve = |k: &str, v: &str| {
        algorithms::resolve("a2c", "CartPole-v1", 1, &set(k, v))
            .unwrap_err()
            .to_string()
    };
    assert!(resolve("gae_lambda", "x").contains("`gae_lambda`"));
    assert!(resolve("optimizer", "sgd").contains("`optimizer`"));
    assert!(resolve("rmsprop_alpha", "1").contains("`rmsprop_alpha`"));
    let error = resolve("learning_rat", "1");
    assert!(error.contains("unknown setting `learning_rat`") && error.contains("learning_rate"));
}

#[test]
fn a_checkpoint_carries_the_observation_statistics_acting_needs() {
    let mut config: A2cConfig = cartpole();
    config.rollout.total_timesteps = 640;
    config.rollout.normalize_observations = true;
    let trained = train(&config).unwrap().agent;
    let state = trained.extra_state();
    let names: Vec<&str> = state.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "observation_stats.mean",
            "observation_stats.var",
            "observation_stats.count"
        ]
    );
    // A fresh agent (as `wengert eval` builds one) acts like the trained one once loaded.
    let mut fresh = A2c::new("CartPole-v1", &config).unwrap().into_agent();
    fresh.store.copy_from(&trained.store);
    fresh.load_extra_state(&state).unwrap();
    assert_eq!(fresh.extra_state(), state);
    let observations = ndarray::array![[0.01f32, 0.5, -0.02, -0.7], [0.1, -1.0, 0.05, 1.2]];
    assert_eq!(
        format!("{:?}", fresh.act(&observations)),
        format!("{:?}", trained.act(&observations))
    );
    let wrong = vec![("observation_stats.mean".to_string(), vec![0.0; 3])];
    assert!(
        fresh
            .load_extra_state(&wrong)
            .unwrap_err()
            .contains("has length 3, expected 4")
    );
}

/// Every numeric setting of the preset (integers, floats, lists of numbers) has a range.
#[test]
fn every_numeric_setting_has_a_range() {
    let config: A2cConfig = preset("a2c", "CartPole-v1").unwrap();
    let table: toml::Table = toml::from_str(&to_toml(&config)).unwrap();
    for (key, value) in &table {
        let numeric = match value {
            toml::Value::Integer(_) | toml::Value::Float(_) => true,
            toml::Value::Array(items) => items.iter().all(|v| v.is_integer() || v.is_float()),
            _ => false,
        };
        let ranged = <A2cConfig as Config>::RANGES.iter().any(|(k, _)| k == key);
        assert!(!numeric || ranged, "`{key}` has no range");
    }
}
