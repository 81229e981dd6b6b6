//! Natural policy gradient on CartPole-v1 with the tuned defaults (TRPO's machinery without the
//! line search): train, then evaluate the deterministic policy.
//!
//! `cargo run --release --example npg_cartpole [seed] [env_id] [key=value]…`

mod common;

use wengert::rl::algorithms::trpo::{Trpo, TrpoConfig};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<TrpoConfig>("npg", "CartPole-v1");
    let trained = train::<Trpo>(&env_id, &config, |m| {
        if m.iteration % 10 == 0 {
            println!(
                "iteration {:4}  steps {:7}  return {:8.1}  kl {:.5}  improvement {:.5}  \
                 cg residual {:.2e}  ev {:.3}  {:.1}s",
                m.iteration,
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("kl").unwrap_or(f64::NAN),
                m.get("surrogate_improvement").unwrap_or(f64::NAN),
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
        "NPG {env_id} seed {seed}: {} steps in {:.1}s ({:.0} steps/s)",
        last.env_steps,
        last.wall_time,
        last.env_steps as f64 / last.wall_time
    );
    println!("deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}");
}
