//! DQN on CartPole-v1 (or another discrete task) with the tuned defaults: train, then evaluate
//! the greedy policy over 10 episodes.
//!
//! `cargo run --release --example dqn_cartpole [seed] [env_id] [key=value …]`, e.g.
//! `cargo run --release --example dqn_cartpole 1 CartPole-v1 double=true dueling=true prioritized=true`.

use wengert::rl::algorithms::dqn::{Dqn, DqnConfig};
use wengert::rl::algorithms::preset;
use wengert::rl::common::config;
use wengert::rl::common::trainer::train;
use wengert::rl::train::evaluate;

fn main() {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let env_id = args.next().unwrap_or_else(|| "CartPole-v1".into());
    let mut config = DqnConfig {
        seed,
        ..preset("dqn", &env_id).expect("a preset")
    };
    for setting in args {
        let (key, value) = setting
            .split_once('=')
            .unwrap_or_else(|| panic!("expected key=value, found `{setting}`"));
        config::set(&mut config, key, value).unwrap_or_else(|e| panic!("{e}"));
    }
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
    let returns = evaluate(&trained.agent, 10, 1000).expect("evaluation failed");
    let mean = returns.iter().sum::<f64>() / returns.len() as f64;
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
