//! TD3 on Pendulum-v1 with the tuned defaults: train for 20k steps, then evaluate the
//! deterministic policy `μ(s)` over 10 episodes.
//!
//! `cargo run --release --example td3_pendulum [seed] [env_id] [key=value]…`

mod common;

use wengert::rl::algorithms::td3::{Td3, Td3Config};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<Td3Config>("td3", "Pendulum-v1");
    let agent = train::<Td3>(&env_id, &config, |m| {
        if m.iteration % 2 == 0 {
            println!(
                "steps {:6}  return {:8.1}  critic {:8.3}  actor {:8.2}  Q {:8.1}  {:.0} steps/s  {:.0} grad/s",
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("critic_loss").unwrap_or(f64::NAN),
                m.get("actor_loss").unwrap_or(f64::NAN),
                m.get("q_mean").unwrap_or(f64::NAN),
                m.get("steps_per_second").unwrap_or(f64::NAN),
                m.get("gradient_steps_per_second").unwrap_or(f64::NAN),
            );
        }
        true
    })
    .expect("training failed");
    let last = agent.history.last().expect("at least one iteration");
    let (mean, returns) = common::evaluation(&agent.agent);
    println!(
        "seed {seed}: deterministic evaluation over 10 episodes: mean {mean:.1} (min {:.1}); \
         wall {:.1}s, {:.0} env steps/s, {:.0} gradient steps/s",
        returns.iter().copied().fold(f64::INFINITY, f64::min),
        last.wall_time,
        last.get("steps_per_second").unwrap(),
        last.get("gradient_steps_per_second").unwrap(),
    );
}
