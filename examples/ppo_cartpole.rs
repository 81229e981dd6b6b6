//! PPO on CartPole-v1 with the tuned defaults: train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example ppo_cartpole [seed]`

use wengert::rl::algorithms::ppo::{Ppo, PpoConfig};
use wengert::rl::algorithms::preset;
use wengert::rl::common::trainer::train;
use wengert::rl::train::evaluate;

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let config = PpoConfig {
        seed,
        ..preset("ppo", "CartPole-v1").expect("the CartPole preset")
    };
    let trained = train::<Ppo>("CartPole-v1", &config, |m| {
        if m.iteration % 20 == 0 {
            println!(
                "iteration {:4}  steps {:7}  return {:7.1}  kl {:.4}  clip {:.3}  ev {:.3}  {:.1}s",
                m.iteration,
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("approx_kl").unwrap_or(f64::NAN),
                m.get("clip_fraction").unwrap_or(f64::NAN),
                m.get("explained_variance").unwrap_or(f64::NAN),
                m.wall_time
            );
        }
        true
    })
    .expect("training failed");
    let returns = evaluate(&trained.agent, 10, 1000).expect("evaluation failed");
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    println!("deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}");
}
