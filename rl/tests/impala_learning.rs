//! IMPALA end to end: it learns CartPole in the deterministic mode within a small budget; two
//! deterministic runs are identical bit for bit while the asynchronous mode trains and logs its
//! policy lag; `num_actors = auto` resolves to a recorded number.

use wengert_rl::algorithms::impala::{Impala, ImpalaConfig};
use wengert_rl::algorithms::{preset, resolve};
use wengert_rl::common::trainer::train;
use wengert_rl::train::{IterationMetrics, evaluate};

fn small(deterministic: bool, total_timesteps: usize) -> ImpalaConfig {
    ImpalaConfig {
        total_timesteps,
        deterministic,
        num_actors: 2,
        seed: 2,
        ..preset("impala", "CartPole-v1").unwrap()
    }
}

#[test]
fn impala_improves_on_cartpole_in_the_deterministic_mode() {
    let trained = train::<Impala>("CartPole-v1", &small(true, 60_000), |_| true).unwrap();
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    // a random policy averages about 22
    assert!(
        last > 100.0 && last > 2.0 * first,
        "mean return {last} (first {first})"
    );
    assert!(
        trained
            .history
            .iter()
            .all(|m| m.get("policy_lag_max") == Some(0.0))
    );
    let evaluation = evaluate(&trained.agent, 3, 0).unwrap();
    assert!(evaluation.iter().all(|r| *r > 50.0), "{evaluation:?}");
}

fn bits(history: &[IterationMetrics]) -> Vec<Vec<u64>> {
    history
        .iter()
        .map(|m| {
            let mut words: Vec<u64> = (m.losses.iter())
                .filter(|(name, _)| !name.ends_with("_seconds")) // wall-clock timings
                .map(|(_, v)| v.to_bits())
                .collect();
            words.push(m.mean_return.unwrap_or(f64::NAN).to_bits());
            words
        })
        .collect()
}

#[test]
fn the_deterministic_mode_repeats_bit_for_bit_and_the_asynchronous_mode_logs_its_lag() {
    let config = small(true, 8000);
    let a = train::<Impala>("CartPole-v1", &config, |_| true).unwrap();
    let b = train::<Impala>("CartPole-v1", &config, |_| true).unwrap();
    assert_eq!(bits(&a.history), bits(&b.history));

    let trained = train::<Impala>("CartPole-v1", &small(false, 8000), |_| true).unwrap();
    assert_eq!(trained.history.len(), 20);
    for m in &trained.history {
        let (mean, max) = (
            m.get("policy_lag_mean").unwrap(),
            m.get("policy_lag_max").unwrap(),
        );
        assert!(0.0 <= mean && mean <= max && max < 20.0, "lag {mean} {max}");
        assert!(m.get("rho_mean").unwrap() <= 1.0);
    }
}

#[test]
fn auto_actors_resolve_to_the_cores_minus_one_and_are_recorded() {
    let cores = wengert_rl::exec::cores();
    let expected = format!("num_actors = {}", cores.saturating_sub(1).max(1));
    for value in ["auto", "0"] {
        let set = vec![("num_actors".to_string(), value.to_string())];
        let config = resolve("impala", "CartPole-v1", 1, &set).unwrap();
        assert!(config.contains(&expected), "{value}: {config}");
    }
    let config = resolve("impala", "CartPole-v1", 1, &[]).unwrap();
    assert!(config.contains(&expected), "{config}");
    let set = vec![("num_actors".to_string(), "many".to_string())];
    let error = resolve("impala", "CartPole-v1", 1, &set)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`num_actors`") && error.contains("auto"),
        "{error}"
    );
}
