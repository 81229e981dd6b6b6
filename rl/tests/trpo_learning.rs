//! TRPO and NPG smoke tests: each learns CartPole within a small budget; TRPO's line search
//! accepts only steps inside the trust region that improve the surrogate (and keeps θ_old
//! otherwise); NPG's unchecked step lands near the KL radius; the continuous case runs; the
//! presets and the settings' ranges.

use nn::ParamStore;
use rand::SeedableRng;
use wengert_rl::algorithms::trpo::TrpoConfig;
use wengert_rl::algorithms::{Run, preset, train_from};
use wengert_rl::common::config::{from_toml, to_toml};
use wengert_rl::env::Space;
use wengert_rl::policy::{ActorCritic, NetworkConfig};
use wengert_rl::snapshot::TrainerRng;
use wengert_rl::train::{IterationMetrics, evaluate};

fn metric(m: &IterationMetrics, name: &str) -> f64 {
    m.get(name)
        .unwrap_or_else(|| panic!("iteration {} does not report {name}", m.iteration))
}

/// Trains `name` (`trpo` or `npg`) on `env` from its preset with `settings`; returns the run
/// and the configuration it resolved to.
fn train(name: &str, env: &str, seed: u64, settings: &[(&str, &str)]) -> (Run, TrpoConfig) {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let run = train_from(name, env, seed, &settings, None, &mut |_| true)
        .unwrap_or_else(|e| panic!("{name} on {env}: {e}"));
    let config = from_toml(&run.config).unwrap();
    (run, config)
}

fn error(name: &str, settings: &[(&str, &str)]) -> String {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    train_from(name, "CartPole-v1", 1, &settings, None, &mut |_| true)
        .err()
        .expect("the configuration should be rejected")
        .to_string()
}

#[test]
fn trpo_improves_on_cartpole_and_every_accepted_step_is_inside_the_trust_region() {
    let (run, config) = train("trpo", "CartPole-v1", 2, &[("total_timesteps", "20480")]);
    assert_eq!(run.history.len(), 20);
    let first = run.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = run.history.last().unwrap().mean_return.unwrap();
    // A random policy averages about 22.
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first);

    let mut accepted = 0;
    for m in &run.history {
        let steps = metric(m, "line_search_steps");
        assert!((1.0..=config.line_search_max_iter as f64).contains(&steps));
        assert!(metric(m, "cg_iterations") <= config.cg_max_steps as f64);
        assert!(metric(m, "cg_residual").is_finite());
        assert!(metric(m, "explained_variance").is_finite());
        if metric(m, "step_accepted") == 1.0 {
            accepted += 1;
            let (kl, improvement) = (metric(m, "kl"), metric(m, "surrogate_improvement"));
            assert!(kl <= config.target_kl, "accepted KL {kl} > δ");
            assert!(improvement > 0.0);
            let expected = metric(m, "expected_improvement");
            let alpha = config.line_search_shrinking_factor.powi(steps as i32 - 1);
            assert!(improvement >= config.line_search_accept_ratio * alpha * expected);
        } else {
            assert_eq!(steps, config.line_search_max_iter as f64);
            assert_eq!(
                (metric(m, "kl"), metric(m, "surrogate_improvement")),
                (0.0, 0.0)
            );
        }
    }
    assert!(accepted >= 15, "only {accepted} of 20 steps accepted");
}

#[test]
fn npg_improves_on_cartpole_with_unchecked_steps_near_the_kl_radius() {
    let (run, config) = train("npg", "CartPole-v1", 2, &[("total_timesteps", "20480")]);
    assert!(!config.line_search);
    let first = run.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = run.history.last().unwrap().mean_return.unwrap();
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first);
    let mut kls: Vec<f64> = run
        .history
        .iter()
        .map(|m| {
            assert_eq!(metric(m, "line_search_steps"), 0.0);
            assert_eq!(metric(m, "step_accepted"), 1.0);
            metric(m, "kl")
        })
        .collect();
    kls.sort_by(f64::total_cmp);
    let median = kls[kls.len() / 2];
    let delta = config.target_kl;
    // ½ Δθᵀ F Δθ = δ exactly; the true KL of the full step is δ to second order.
    assert!(
        median > delta / 4.0 && median < 4.0 * delta,
        "median KL after the step {median}, δ = {delta}"
    );
}

#[test]
fn a_failed_line_search_keeps_the_old_policy() {
    // No step can improve the surrogate by 10⁹ times its linear estimate.
    let (run, config) = train(
        "trpo",
        "CartPole-v1",
        5,
        &[
            ("total_timesteps", "256"),
            ("num_envs", "2"),
            ("num_steps", "128"),
            ("line_search_accept_ratio", "1e9"),
            ("line_search_max_iter", "3"),
        ],
    );
    let m = &run.history[0];
    assert_eq!(metric(m, "step_accepted"), 0.0);
    assert_eq!(metric(m, "line_search_steps"), 3.0);

    // The same initialisation as the trainer's: the seed's generator, used first by the networks.
    let mut initial = ParamStore::<f32>::new();
    let network = NetworkConfig {
        hidden: config.hidden.clone(),
        activation: config.activation,
        log_std_init: config.log_std_init,
    };
    let mut rng = TrainerRng::seed_from_u64(config.seed);
    ActorCritic::new(
        &mut initial,
        4,
        &Space::Discrete { n: 2 },
        &network,
        &mut rng,
    );
    let trained = run.agent.store();
    let mut critic_moved = false;
    for id in initial.ids() {
        let name = initial.name(id).to_string();
        let after = trained.value(trained.id(&name).unwrap());
        if name.starts_with("actor.") {
            assert_eq!(after, initial.value(id), "{name} moved");
        } else {
            critic_moved |= after != initial.value(id);
        }
    }
    assert!(critic_moved, "the critic should still be fitted");
}

#[test]
fn trpo_runs_on_a_continuous_action_space_and_is_deterministic_per_seed() {
    let settings = [
        ("total_timesteps", "2048"),
        ("num_envs", "2"),
        ("num_steps", "512"),
        ("n_critic_updates", "2"),
    ];
    let (a, config) = train("trpo", "Pendulum-v1", 1, &settings);
    let (b, _) = train("trpo", "Pendulum-v1", 1, &settings);
    assert_eq!(a.history.len(), 2);
    for m in &a.history {
        for name in [
            "kl",
            "surrogate_improvement",
            "expected_improvement",
            "line_search_steps",
            "cg_residual",
            "entropy",
            "value_loss",
            "explained_variance",
        ] {
            let value = metric(m, name);
            assert!(value.is_finite(), "{name} = {value}");
        }
        assert!(metric(m, "kl") <= config.target_kl);
    }
    let strip = |h: &[IterationMetrics]| -> Vec<Vec<(&'static str, f64)>> {
        h.iter().map(|m| m.losses.clone()).collect()
    };
    assert_eq!(strip(&a.history), strip(&b.history));
    assert!(evaluate(&*a.agent, 1, 0).unwrap()[0] < 0.0);
}

#[test]
fn invalid_settings_are_rejected_with_what_was_expected() {
    let e = error("trpo", &[("target_kl", "0")]);
    assert!(e.contains("`target_kl`") && e.contains("(0, ∞)"), "{e}");
    let e = error("npg", &[("line_search_shrinking_factor", "1.5")]);
    assert!(e.contains("`line_search_shrinking_factor`"), "{e}");
    let e = error("trpo", &[("cg_max_steps", "0")]);
    assert!(e.contains("`cg_max_steps`"), "{e}");
    let e = error("trpo", &[("cg_damping", "nan")]);
    assert!(e.contains("`cg_damping`"), "{e}");
    let e = error("trpo", &[("cg_damping", "lots")]);
    assert!(e.contains("`cg_damping`") && e.contains("a number"), "{e}");
    let e = error("trpo", &[("max_kl", "0.02")]);
    assert!(
        e.contains("unknown setting `max_kl`") && e.contains("target_kl"),
        "{e}"
    );
}

#[test]
fn the_npg_presets_are_trpos_without_the_line_search() {
    for env in ["CartPole-v1", "Pendulum-v1", "Acrobot-v1"] {
        let trpo: TrpoConfig = preset("trpo", env).unwrap();
        let npg: TrpoConfig = preset("npg", env).unwrap();
        assert!(trpo.line_search && !npg.line_search, "{env}");
        let expected = match env {
            // NPG's CartPole: a longer budget, SB3's damping and KL radius
            "CartPole-v1" => {
                let mut expected = TrpoConfig {
                    line_search: false,
                    cg_damping: 0.1,
                    target_kl: 0.01,
                    ..trpo
                };
                expected.rollout.total_timesteps = 200_000;
                expected
            }
            _ => TrpoConfig {
                line_search: false,
                ..trpo
            },
        };
        assert_eq!(npg, expected, "{env}");
    }
    let cartpole: TrpoConfig = preset("trpo", "CartPole-v1").unwrap();
    assert_eq!(
        (cartpole.rollout.total_timesteps, cartpole.target_kl),
        (100_000, 0.02)
    );
    assert_eq!(
        from_toml::<TrpoConfig>(&to_toml(&cartpole)).unwrap(),
        cartpole
    );
}

#[test]
fn the_registry_trains_trpo_and_npg_by_name() {
    for (name, line_search) in [("trpo", true), ("npg", false)] {
        let (run, config) = train(name, "CartPole-v1", 3, &[("total_timesteps", "1024")]);
        assert_eq!(run.history.len(), 1);
        assert_eq!(config.line_search, line_search);
        assert!(run.config.contains(&format!("line_search = {line_search}")));
    }
}
