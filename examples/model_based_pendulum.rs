//! Model-based RL on Pendulum-v1 (Nagabandi et al. 2018, MBMPC): random-action episodes, then
//! rounds of fitting an MLP dynamics model, running MPC (CEM on the learned model) in the real
//! environment, and adding its transitions to the data set. Prints each round's model losses
//! and returns.
//!
//! `cargo run --release --example model_based_pendulum [seed]`

use std::sync::Arc;
use std::time::Instant;
use wengert::control::model_based::{MbmpcConfig, pendulum_v1_cost, run};
use wengert::plant::GymPlant;
use wengert::rl::env::Pendulum;

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let config = MbmpcConfig {
        seed,
        rounds: 5,
        ..MbmpcConfig::default()
    };
    println!("{config:?}");
    let start = Instant::now();
    let result = run(
        &mut GymPlant::new(Pendulum::new()),
        Arc::new(pendulum_v1_cost),
        &config,
        |metrics| {
            let returns: Vec<String> = metrics.returns.iter().map(|r| format!("{r:.1}")).collect();
            println!(
                "round {}  transitions {:5}  model loss train {:.5} validation {:.5}  \
                 MPC returns [{}]  mean {:.1}  ({:.1}s)",
                metrics.round,
                metrics.transitions,
                metrics.training_loss,
                metrics.validation_loss,
                returns.join(", "),
                metrics.mean_return(),
                start.elapsed().as_secs_f64()
            );
        },
    );
    let random = result.random_returns.iter().sum::<f64>() / result.random_returns.len() as f64;
    println!(
        "random actions: mean return {random:.1} over {} episodes; {} transitions in all; wall {:.1}s",
        result.random_returns.len(),
        result.data.len(),
        start.elapsed().as_secs_f64()
    );
}
