//! PPO on CartPole-v1 with the tuned defaults: train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example ppo_cartpole [seed] [env_id] [key=value]…`

mod common;

use wengert::rl::algorithms::ppo::{Ppo, PpoConfig};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<PpoConfig>("ppo", "CartPole-v1");
    let trained = train::<Ppo>(&env_id, &config, |m| {
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
    let (mean, returns) = common::evaluation(&trained.agent);
    println!(
        "{env_id} seed {seed}: deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}"
    );
}
