//! A2C on CartPole-v1 with the tuned defaults: train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example a2c_cartpole [seed] [env_id] [key=value]…`

mod common;

use wengert::rl::algorithms::a2c::{A2c, A2cConfig};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<A2cConfig>("a2c", "CartPole-v1");
    let report_every = (20_000 / config.rollout.steps_per_iteration()).max(1);
    let trained = train::<A2c>(&env_id, &config, |m| {
        if m.iteration % report_every == 0 {
            println!(
                "iteration {:6}  steps {:7}  return {:7.1}  entropy {:.3}  ev {:6.3}  {:5.0} steps/s  {:.1}s",
                m.iteration,
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("entropy").unwrap_or(f64::NAN),
                m.get("explained_variance").unwrap_or(f64::NAN),
                m.env_steps as f64 / m.wall_time,
                m.wall_time
            );
        }
        true
    })
    .expect("training failed");
    let (mean, returns) = common::evaluation(&trained.agent);
    let last = trained.history.last().expect("at least one iteration");
    println!(
        "seed {seed}: {} steps in {:.1}s ({:.0} steps/s); deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}",
        last.env_steps,
        last.wall_time,
        last.env_steps as f64 / last.wall_time
    );
}
