//! SAC on MountainCarContinuous-v0 with the tuned defaults (the zoo's settings, with
//! Ornstein–Uhlenbeck action noise instead of gSDE for exploration): train for 50k steps, then
//! evaluate the deterministic policy `tanh(μ)` over 10 episodes.
//!
//! `cargo run --release --example sac_mountain_car [seed] [env_id] [key=value]…`

mod common;

use wengert::rl::algorithms::sac::{Sac, SacConfig};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<SacConfig>("sac", "MountainCarContinuous-v0");
    let agent = train::<Sac>(&env_id, &config, |m| {
        if m.iteration % 5 == 0 {
            println!(
                "steps {:6}  return {:8.1}  critic {:8.3}  actor {:8.2}  α {:.3}  entropy {:6.2}  Q {:8.1}  {:.0} steps/s  {:.0} grad/s",
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("critic_loss").unwrap_or(f64::NAN),
                m.get("actor_loss").unwrap_or(f64::NAN),
                m.get("alpha").unwrap_or(f64::NAN),
                m.get("entropy").unwrap_or(f64::NAN),
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
