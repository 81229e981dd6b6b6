//! DQN on CartPole-v1 (or another discrete task) with the tuned defaults: train, then evaluate
//! the greedy policy over 10 episodes.
//!
//! `cargo run --release --example dqn_cartpole [seed] [env_id] [key=value …]`, e.g.
//! `cargo run --release --example dqn_cartpole 1 CartPole-v1 double=true dueling=true prioritized=true`.

mod common;

use wengert::rl::algorithms::dqn::{Dqn, DqnConfig};
use wengert::rl::common::trainer::train;

fn main() {
    let common::Run {
        seed,
        env_id,
        config,
    } = common::run::<DqnConfig>("dqn", "CartPole-v1");
    let report_every = (config.core.total_timesteps / 10).max(1);
    let trained = train::<Dqn>(&env_id, &config, |m| {
        if m.env_steps % report_every < config.log_interval {
            println!(
                "steps {:7}  return {:7.1}  loss {:.4}  mean Q {:7.2}  ε {:.3}  grad steps {:6}  {:.0} grad steps/s  {:.0} env steps/s  {:.1}s",
                m.env_steps,
                m.mean_return.unwrap_or(f64::NAN),
                m.get("loss").unwrap_or(f64::NAN),
                m.get("mean_q").unwrap_or(f64::NAN),
                m.get("epsilon").unwrap_or(f64::NAN),
                m.get("gradient_steps").unwrap_or(f64::NAN),
                m.get("gradient_steps_per_second").unwrap_or(f64::NAN),
                m.get("env_steps_per_second").unwrap_or(f64::NAN),
                m.wall_time
            );
        }
        true
    })
    .expect("training failed");
    let last = trained.history.last().expect("at least one report");
    let (mean, returns) = common::evaluation(&trained.agent);
    println!(
        "{env_id} seed {seed} double={} dueling={} prioritized={} n_step={}: deterministic evaluation over 10 episodes: mean {mean:.1}, returns {returns:?}; wall {:.1}s, {:.0} env steps/s, {:.0} gradient steps/s",
        config.double,
        config.dueling,
        config.prioritized,
        config.n_step,
        last.wall_time,
        last.get("env_steps_per_second").unwrap_or(f64::NAN),
        last.get("gradient_steps_per_second").unwrap_or(f64::NAN),
    );
}
