//! TRPO and NPG smoke tests: each learns CartPole within a small budget; TRPO's line search
//! accepts only steps inside the trust region that improve the surrogate (and keeps θ_old
//! otherwise); NPG's unchecked step lands near the KL radius; the continuous case runs.

use nn::ParamStore;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::env::Space;
use wengert_rl::policy::{ActorCritic, NetworkConfig};
use wengert_rl::train::IterationMetrics;
use wengert_rl::trpo::{TrpoConfig, train};

fn metric(m: &IterationMetrics, name: &str) -> f64 {
    m.get(name)
        .unwrap_or_else(|| panic!("iteration {} does not report {name}", m.iteration))
}

#[test]
fn trpo_improves_on_cartpole_and_every_accepted_step_is_inside_the_trust_region() {
    let config = TrpoConfig {
        total_timesteps: 20_480,
        seed: 2,
        ..TrpoConfig::for_env("CartPole-v1")
    };
    let trained = train("CartPole-v1", &config, |_| true).unwrap();
    assert_eq!(trained.history.len(), 20);
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    // A random policy averages about 22.
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first);

    let mut accepted = 0;
    for m in &trained.history {
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
    let config = TrpoConfig {
        total_timesteps: 20_480,
        seed: 2,
        ..TrpoConfig::npg_for_env("CartPole-v1")
    };
    assert!(!config.line_search);
    let trained = train("CartPole-v1", &config, |_| true).unwrap();
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first);
    let mut kls: Vec<f64> = trained
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
    let config = TrpoConfig {
        total_timesteps: 256,
        num_envs: 2,
        num_steps: 128,
        line_search_accept_ratio: 1e9,
        line_search_max_iter: 3,
        seed: 5,
        ..TrpoConfig::for_env("CartPole-v1")
    };
    let trained = train("CartPole-v1", &config, |_| true).unwrap();
    let m = &trained.history[0];
    assert_eq!(metric(m, "step_accepted"), 0.0);
    assert_eq!(metric(m, "line_search_steps"), 3.0);

    // The same initialisation as `train`: the seed's generator, used first by the networks.
    let mut initial = ParamStore::<f32>::new();
    let network = NetworkConfig {
        hidden: config.hidden.clone(),
        activation: config.activation,
        log_std_init: config.log_std_init,
    };
    let mut rng = StdRng::seed_from_u64(config.seed);
    ActorCritic::new(
        &mut initial,
        4,
        &Space::Discrete { n: 2 },
        &network,
        &mut rng,
    );
    let mut critic_moved = false;
    for id in initial.ids() {
        let name = initial.name(id).to_string();
        let after = trained.store.value(trained.store.id(&name).unwrap());
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
    let config = TrpoConfig {
        total_timesteps: 2048,
        num_envs: 2,
        num_steps: 512,
        n_critic_updates: 2,
        ..TrpoConfig::for_env("Pendulum-v1")
    };
    let run = || train("Pendulum-v1", &config, |_| true).unwrap();
    let (a, b) = (run(), run());
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
    assert!(a.evaluate(1, 0).unwrap()[0] < 0.0);
}

#[test]
fn invalid_settings_are_rejected_with_what_was_expected() {
    let bad = |config: TrpoConfig| {
        train("CartPole-v1", &config, |_| true)
            .err()
            .expect("the configuration should be rejected")
            .to_string()
    };
    let error = bad(TrpoConfig {
        target_kl: 0.0,
        ..TrpoConfig::default()
    });
    assert!(error.contains("target_kl must be positive"), "{error}");
    let error = bad(TrpoConfig {
        line_search_shrinking_factor: 1.5,
        ..TrpoConfig::default()
    });
    assert!(error.contains("line_search_shrinking_factor"), "{error}");
    let error = bad(TrpoConfig {
        cg_max_steps: 0,
        ..TrpoConfig::default()
    });
    assert!(error.contains("cg_max_steps"), "{error}");

    let mut config = TrpoConfig::default();
    assert!(
        config
            .set("cg_damping", "lots")
            .unwrap_err()
            .contains("a number")
    );
    for key in TrpoConfig::KEYS {
        assert!(
            !config.set(key, "").unwrap_err().contains("unknown"),
            "{key} is listed but not settable"
        );
    }
}

#[test]
fn the_registry_trains_trpo_and_npg_by_name() {
    let settings = [("total_timesteps".to_string(), "1024".to_string())];
    for (name, line_search) in [("trpo", true), ("npg", false)] {
        let run = wengert_rl::algorithms::train(name, "CartPole-v1", 3, &settings, &mut |_| true)
            .unwrap();
        assert_eq!(run.agent.history().len(), 1);
        assert!(run.config.contains(&format!("line_search: {line_search}")));
    }
}
