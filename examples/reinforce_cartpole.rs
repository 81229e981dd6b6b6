//! REINFORCE with a learned baseline on CartPole-v1 with the tuned defaults: train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example reinforce_cartpole [seed] [key=value]…`

use wengert::rl::algorithms::preset;
use wengert::rl::algorithms::reinforce::{Reinforce, ReinforceConfig};
use wengert::rl::common::config;
use wengert::rl::common::trainer::train;
use wengert::rl::train::evaluate;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut config = ReinforceConfig {
        seed,
        ..preset("reinforce", "CartPole-v1").expect("a preset")
    };
    for setting in args {
        let (key, value) = setting
            .split_once('=')
            .unwrap_or_else(|| panic!("expected key=value, found `{setting}`"));
        config::set(&mut config, key, value).unwrap_or_else(|e| panic!("{e}"));
    }
    let report_every = (40_000 / config.rollout.steps_per_iteration()).max(1);
    let trained = train::<Reinforce>("CartPole-v1", &config, |m| {
        if m.iteration % report_every == 0 {
            println!(
                "iteration {:6}  steps {:7}  return {:7.1}  entropy {:.3}  kl {:.4}  ev {:6.3}  {:5.0} steps/s  {:.1}s",
                m.iteration,
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("entropy").unwrap_or(f64::NAN),
                m.get("approx_kl").unwrap_or(f64::NAN),
                m.get("explained_variance").unwrap_or(f64::NAN),
                m.env_steps as f64 / m.wall_time,
                m.wall_time
            );
        }
        true
    })
    .expect("training failed");
    let returns = evaluate(&trained.agent, 10, 1000).expect("evaluation failed");
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    let last = trained.history.last().expect("at least one iteration");
    println!(
        "seed {seed}: {} steps in {:.1}s ({:.0} steps/s); deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}",
        last.env_steps,
        last.wall_time,
        last.env_steps as f64 / last.wall_time
    );
}
