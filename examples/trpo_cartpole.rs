//! TRPO on CartPole-v1 with the tuned defaults: train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example trpo_cartpole [seed] [env_id] [key=value]…` — the second
//! argument runs the same program on another environment with its preset (e.g. `Pendulum-v1`),
//! the rest override settings (e.g. `target_kl=0.02`).

mod common;

use wengert::rl::algorithms::trpo::{Trpo, TrpoConfig};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<TrpoConfig>("trpo", "CartPole-v1");
    let trained = train::<Trpo>(&env_id, &config, |m| {
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
    let (mean, returns) = common::evaluation(&trained.agent);
    println!(
        "TRPO {env_id} seed {seed}: {} steps in {:.1}s ({:.0} steps/s)",
        last.env_steps,
        last.wall_time,
        last.env_steps as f64 / last.wall_time
    );
    println!("deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}");
}
