//! SAC on Pendulum-v1 with the tuned defaults: train for 20k steps, then evaluate the
//! deterministic policy `tanh(μ)` over 10 episodes.
//!
//! `cargo run --release --example sac_pendulum [seed] [key=value]…`

use wengert::rl::algorithms::preset;
use wengert::rl::algorithms::sac::{Sac, SacConfig};
use wengert::rl::common::config;
use wengert::rl::common::trainer::train;
use wengert::rl::train::evaluate;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut config = SacConfig {
        seed,
        ..preset("sac", "Pendulum-v1").expect("a preset")
    };
    for setting in args {
        let (key, value) = setting.split_once('=').expect("settings are key=value");
        config::set(&mut config, key, value).unwrap_or_else(|e| panic!("{e}"));
    }
    let agent = train::<Sac>("Pendulum-v1", &config, |m| {
        if m.iteration % 2 == 0 {
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
    let returns = evaluate(&agent.agent, 10, 1000).expect("evaluation failed");
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
    println!(
        "seed {seed}: deterministic evaluation over 10 episodes: mean {mean:.1} (min {:.1}); \
         wall {:.1}s, {:.0} env steps/s, {:.0} gradient steps/s",
        returns.iter().copied().fold(f64::INFINITY, f64::min),
        last.wall_time,
        last.get("steps_per_second").unwrap(),
        last.get("gradient_steps_per_second").unwrap(),
    );
}
