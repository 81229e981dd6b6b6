//! Every setting of every algorithm, fed values outside its declared range — NaN, ±∞, negative,
//! zero, past either end — is refused by the one validator with an error that names the setting
//! and its valid range; and no numeric setting escapes the list of ranges.

use wengert_rl::algorithms::{ALGORITHMS, Algorithm, environment_ids, resolve};
use wengert_rl::env::{Space, make};

/// An environment the algorithm handles.
fn env_for(algorithm: &Algorithm) -> &'static str {
    environment_ids()
        .find(|id| match make(id).unwrap().action_space() {
            Space::Discrete { .. } => algorithm.discrete,
            Space::Box(_) => algorithm.continuous,
        })
        .expect("an environment for every algorithm")
}

/// As a user types it.
fn text(x: f64) -> String {
    match x {
        x if x.is_nan() => "nan".into(),
        f64::INFINITY => "inf".into(),
        f64::NEG_INFINITY => "-inf".into(),
        x => format!("{x}"),
    }
}

#[test]
fn every_out_of_range_value_of_every_setting_is_refused_with_its_name_and_range() {
    let mut checked = 0;
    for algorithm in ALGORITHMS {
        let env = env_for(algorithm);
        resolve(algorithm.name, env, 1, &[])
            .unwrap_or_else(|e| panic!("{}'s preset for {env} is valid: {e}", algorithm.name));
        for (key, range) in algorithm.ranges() {
            for value in range.outside().into_iter().map(text) {
                let settings = [(key.to_string(), value.clone())];
                let error = match resolve(algorithm.name, env, 1, &settings) {
                    Ok(_) => panic!(
                        "{} accepted {key} = {value} (range {range})",
                        algorithm.name
                    ),
                    Err(e) => e.to_string(),
                };
                assert!(
                    error.contains(&format!("`{key}`")) && error.contains(&range.to_string()),
                    "{} {key} = {value}: {error}",
                    algorithm.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * ALGORITHMS.len(), "only {checked} cases");
}

/// The list of ranges covers every numeric setting, and names no setting that does not exist.
#[test]
fn every_numeric_setting_has_a_declared_range() {
    for algorithm in ALGORITHMS {
        let resolved = resolve(algorithm.name, env_for(algorithm), 1, &[]).unwrap();
        let table: toml::Table = toml::from_str(&resolved).unwrap();
        let declared: Vec<&str> = algorithm.ranges().iter().map(|(k, _)| *k).collect();
        for (key, value) in &table {
            let numeric = match value {
                toml::Value::Integer(_) | toml::Value::Float(_) => true,
                toml::Value::Array(items) => items
                    .iter()
                    .any(|v| matches!(v, toml::Value::Integer(_) | toml::Value::Float(_))),
                _ => false,
            };
            assert!(
                !numeric || declared.contains(&key.as_str()),
                "{}: `{key}` has no declared range",
                algorithm.name
            );
        }
        for key in declared {
            // Present, or an optional setting that is off: setting it must be accepted as a key.
            if !table.contains_key(key) {
                let error = resolve(
                    algorithm.name,
                    env_for(algorithm),
                    1,
                    &[(key.to_string(), "none".to_string())],
                );
                assert!(
                    error.is_ok(),
                    "{}: `{key}` is not a setting",
                    algorithm.name
                );
            }
        }
    }
}

/// A configuration that flattens in a shared piece (DQN's and R2D2's ε-greedy settings) writes
/// and reads the piece's settings as flat keys, and still refuses a key it does not have.
#[test]
fn a_flattened_piece_keeps_flat_keys_and_unknown_keys_refused() {
    use wengert_rl::algorithms::{dqn::DqnConfig, r2d2::R2d2Config};
    use wengert_rl::common::config::{from_toml, to_toml};
    let dqn: DqnConfig = wengert_rl::algorithms::preset("dqn", "CartPole-v1").unwrap();
    let r2d2: R2d2Config = wengert_rl::algorithms::preset("r2d2", "CartPoleNoVel-v1").unwrap();
    for text in [to_toml(&dqn), to_toml(&r2d2)] {
        let table: toml::Table = toml::from_str(&text).unwrap();
        for key in [
            "exploration_initial_eps",
            "exploration_final_eps",
            "exploration_fraction",
        ] {
            assert!(
                table[key].is_float(),
                "`{key}` is not a flat setting: {text}"
            );
        }
    }
    assert_eq!(from_toml::<DqnConfig>(&to_toml(&dqn)).unwrap(), dqn);
    let error = from_toml::<DqnConfig>(&format!("{}\nexploration_eps = 0.1\n", to_toml(&dqn)));
    assert!(
        error
            .as_ref()
            .unwrap_err()
            .contains("unknown field `exploration_eps`"),
        "{error:?}"
    );
    let error = from_toml::<R2d2Config>(&to_toml(&r2d2).replace("exploration_fraction", "f"));
    assert!(error.is_err(), "{error:?}");
}

/// The pieces configurations flatten in (the rollout piece of REINFORCE, A2C, PPO, TRPO and
/// recurrent PPO, the PPO piece of PPO and recurrent PPO, the off-policy piece of DQN, DDPG,
/// TD3, SAC and DIAYN): written as flat keys, read back to the same configuration, and a key
/// neither the piece nor the configuration has is still refused.
#[test]
fn the_shared_pieces_keep_flat_keys_and_unknown_keys_refused() {
    use wengert_rl::algorithms::{
        a2c::A2cConfig, ddpg::DdpgConfig, diayn::DiaynConfig, dqn::DqnConfig, ppo::PpoConfig,
        preset, recurrent_ppo::RecurrentPpoConfig, reinforce::ReinforceConfig, sac::SacConfig,
        td3::Td3Config, trpo::TrpoConfig,
    };
    use wengert_rl::common::config::{Config, from_toml, to_toml};
    fn check<C: Config>(config: C, keys: &[&str]) {
        let text = to_toml(&config);
        let table: toml::Table = toml::from_str(&text).unwrap();
        for key in keys {
            assert!(
                table.get(*key).is_some_and(|v| !v.is_table()),
                "`{key}` is not a flat setting: {text}"
            );
        }
        assert_eq!(from_toml::<C>(&text).unwrap(), config);
        for unknown in ["clip_coeff", "buffer_sizes"] {
            let error = from_toml::<C>(&format!("{text}\n{unknown} = 1\n")).unwrap_err();
            assert!(
                error.contains(&format!("unknown field `{unknown}`")),
                "{error}"
            );
        }
    }
    let rollout_keys = [
        "total_timesteps",
        "num_envs",
        "num_steps",
        "gamma",
        "normalize_observations",
        "env_threads",
    ];
    let gae_keys = [&rollout_keys[..], &["gae_lambda"]].concat();
    let ppo_keys = [
        "learning_rate",
        "anneal_lr",
        "update_epochs",
        "norm_adv",
        "clip_coef",
        "ent_coef",
        "vf_coef",
        "max_grad_norm",
    ];
    let off_policy_keys = [
        "total_timesteps",
        "buffer_size",
        "learning_starts",
        "batch_size",
        "gamma",
        "tau",
        "learning_rate",
        "train_freq",
        "gradient_steps",
        "hidden",
    ];
    let mut ppo: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
    ppo.ppo.target_kl = Some(0.02);
    check(ppo, &[&gae_keys[..], &ppo_keys, &["target_kl"]].concat());
    let recurrent: RecurrentPpoConfig = preset("recurrent_ppo", "CartPoleNoVel-v1").unwrap();
    check(recurrent, &[&gae_keys[..], &ppo_keys].concat());
    check::<A2cConfig>(preset("a2c", "CartPole-v1").unwrap(), &gae_keys);
    check::<TrpoConfig>(preset("trpo", "Pendulum-v1").unwrap(), &gae_keys);
    let reinforce_keys = [&rollout_keys[..], &["baseline", "value_iterations"]].concat();
    check::<ReinforceConfig>(preset("reinforce", "CartPole-v1").unwrap(), &reinforce_keys);
    let sac_keys = [&off_policy_keys[..], &["target_update_interval"]].concat();
    check::<DqnConfig>(preset("dqn", "CartPole-v1").unwrap(), &sac_keys);
    check::<DdpgConfig>(preset("ddpg", "Pendulum-v1").unwrap(), &off_policy_keys);
    check::<Td3Config>(preset("td3", "Pendulum-v1").unwrap(), &off_policy_keys);
    check::<SacConfig>(preset("sac", "Pendulum-v1").unwrap(), &sac_keys);
    check::<DiaynConfig>(preset("diayn", "PointNavigation-v0").unwrap(), &sac_keys);
}

/// A flattened setting out of range, or not a number, is refused as any other: the error names
/// the setting and its range.
#[test]
fn a_flattened_setting_out_of_range_is_refused_with_its_name_and_range() {
    for (algorithm, env, key, outside, range) in [
        ("ppo", "CartPole-v1", "clip_coef", "0", "(0, ∞)"),
        ("ppo", "CartPole-v1", "target_kl", "-0.01", "(0, ∞)"),
        (
            "recurrent_ppo",
            "CartPoleNoVel-v1",
            "gae_lambda",
            "1.5",
            "[0, 1]",
        ),
        ("sac", "Pendulum-v1", "tau", "0", "(0, 1]"),
        ("diayn", "PointNavigation-v0", "gamma", "-0.1", "[0, 1]"),
        ("dqn", "CartPole-v1", "learning_starts", "-1", "[0, ∞)"),
        ("ddpg", "Pendulum-v1", "tau", "1.5", "(0, 1]"),
        ("td3", "Pendulum-v1", "batch_size", "0", "[1, ∞)"),
        ("a2c", "CartPole-v1", "num_envs", "0", "[1, ∞)"),
        ("a2c", "CartPole-v1", "gae_lambda", "-0.5", "[0, 1]"),
        ("reinforce", "CartPole-v1", "num_steps", "0", "[1, ∞)"),
        ("reinforce", "Pendulum-v1", "gamma", "1.5", "[0, 1]"),
        ("trpo", "Pendulum-v1", "gae_lambda", "1.5", "[0, 1]"),
        (
            "recurrent_ppo",
            "CartPoleNoVel-v1",
            "env_threads",
            "0",
            "[1, ∞)",
        ),
    ] {
        for value in [outside, "high"] {
            let settings = [(key.to_string(), value.to_string())];
            let error = resolve(algorithm, env, 1, &settings)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("`{key}`")) && error.contains(range),
                "{algorithm} {key} = {value}: {error}"
            );
        }
    }
}

#[test]
fn in_range_values_are_accepted_and_written_back() {
    let settings = [
        ("gamma".to_string(), "0.5".to_string()),
        ("hidden".to_string(), "8,8".to_string()),
        ("target_kl".to_string(), "0.02".to_string()),
    ];
    let resolved = resolve("ppo", "CartPole-v1", 7, &settings).unwrap();
    let table: toml::Table = toml::from_str(&resolved).unwrap();
    assert_eq!(table["gamma"].as_float(), Some(0.5));
    assert_eq!(table["seed"].as_integer(), Some(7));
    assert_eq!(table["target_kl"].as_float(), Some(0.02));
    assert_eq!(table["hidden"].as_array().unwrap().len(), 2);
}

#[test]
fn a_budget_below_one_iteration_names_the_iteration() {
    let settings = [("total_timesteps".to_string(), "3000".to_string())];
    let error = resolve("ppo", "Acrobot-v1", 1, &settings)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("num_envs × num_steps = 16 × 256 = 4096"),
        "{error}"
    );
}
