//! TRPO on CartPole-v1 with the tuned defaults: train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example trpo_cartpole [seed] [env_id] [key=value]…` — the second
//! argument runs the same program on another environment with its preset (e.g. `Pendulum-v1`),
//! the rest override settings (e.g. `target_kl=0.02`).

use wengert::rl::algorithms::preset;
use wengert::rl::algorithms::trpo::{Trpo, TrpoConfig};
use wengert::rl::common::config;
use wengert::rl::common::trainer::train;
use wengert::rl::train::evaluate;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let env_id = args.next().unwrap_or_else(|| "CartPole-v1".to_string());
    let mut config = TrpoConfig {
        seed,
        ..preset("trpo", &env_id).expect("a preset")
    };
    for setting in args {
        let (key, value) = setting
            .split_once('=')
            .unwrap_or_else(|| panic!("expected key=value, found `{setting}`"));
        config::set(&mut config, key, value).unwrap_or_else(|e| panic!("{e}"));
    }
    run("TRPO", &env_id, &config);
}

/// Trains, logging every 10th iteration, then evaluates over 10 deterministic episodes.
fn run(name: &str, env_id: &str, config: &TrpoConfig) {
    let trained = train::<Trpo>(env_id, config, |m| {
        if m.iteration % 10 == 0 {
            println!(
                "iteration {:4}  steps {:7}  return {:8.1}  kl {:.5}  improvement {:.5}  \
                 line search {}  cg residual {:.2e}  ev {:.3}  {:.1}s",
                m.iteration,
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("kl").unwrap_or(f64::NAN),
                m.get("surrogate_improvement").unwrap_or(f64::NAN),
                m.get("line_search_steps").unwrap_or(f64::NAN),
                m.get("cg_residual").unwrap_or(f64::NAN),
                m.get("explained_variance").unwrap_or(f64::NAN),
                m.wall_time
            );
        }
        true
    })
    .expect("training failed");
    let last = trained.history.last().expect("at least one iteration");
    let returns = evaluate(&trained.agent, 10, 1000).expect("evaluation failed");
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    println!(
        "{name} {env_id} seed {}: {} steps in {:.1}s ({:.0} steps/s)",
        config.seed,
        last.env_steps,
        last.wall_time,
        last.env_steps as f64 / last.wall_time
    );
    println!("deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}");
}
