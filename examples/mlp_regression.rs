//! # Regression with a multilayer perceptron
//!
//! **Background.** Fit an unknown function `y = g(x)` from noisy samples with a small neural
//! network trained by minibatch Adam on the mean squared error. The data are made here:
//! `g(x) = sin 3x + x/2` on `x ∈ [−1, 1]`, observed with Gaussian noise of standard deviation
//! `σ = 0.05`, so no model can reach a held-out MSE below the noise floor `σ² = 0.0025`.
//!
//! **Key equations.**
//!
//! ```text
//! f_θ(x) = W₃ tanh(W₂ tanh(W₁ x + b₁) + b₂) + b₃        (an MLP with sizes 1, 64, 64, 1)
//! L(θ)   = (1/B) Σ_{i ∈ batch} (f_θ(x_i) − y_i)²          (mean squared error)
//! θ      ← Adam(θ, ∇_θ L)
//! ```
//!
//! **Pseudocode.**
//!
//! ```text
//! draw N training and N test pairs (x, y = g(x) + σ ε)
//! for step = 1, …, S:
//!     sample a minibatch of B training pairs
//!     L ← (1/B) Σ (f_θ(x) − y)²;  g ← ∇_θ L        (one tape per step)
//!     θ ← Adam(θ, g)
//! report the MSE on the training and the test pairs
//! ```
//!
//! `cargo run --release --example mlp_regression`

use rand::{RngExt, SeedableRng};
use wengert::autograd::prelude::*;
use wengert::nn::losses::{Reduction, mse};
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{Activation, Mlp, Module, ParamStore};

/// The experiment's settings, with their defaults.
#[derive(Clone, Debug)]
pub struct RegressionConfig {
    /// Seed of the data, the initialisation and the minibatches (default 0).
    pub seed: u64,
    /// Number of training pairs N (default 256); as many test pairs are drawn.
    pub points: usize,
    /// Observation noise σ (default 0.05).
    pub noise_std: f64,
    /// Hidden layer widths (default [64, 64]).
    pub hidden: Vec<usize>,
    /// Adam's learning rate (default 3e-3).
    pub lr: f64,
    /// Minibatch size B (default 64).
    pub batch_size: usize,
    /// Gradient steps S (default 2000).
    pub steps: usize,
    /// Report every this many steps (default 250).
    pub log_every: usize,
}

impl Default for RegressionConfig {
    fn default() -> Self {
        RegressionConfig {
            seed: 0,
            points: 256,
            noise_std: 0.05,
            hidden: vec![64, 64],
            lr: 3e-3,
            batch_size: 64,
            steps: 2000,
            log_every: 250,
        }
    }
}

/// The MSE on the training and test pairs after `step` steps.
#[derive(Clone, Copy, Debug)]
pub struct RegressionLog {
    pub step: usize,
    pub train_mse: f64,
    pub test_mse: f64,
}

/// The function to learn, `g(x) = sin 3x + x/2`.
pub fn target(x: f64) -> f64 {
    (3.0 * x).sin() + 0.5 * x
}

/// `points` pairs `(x, g(x) + σ ε)` with `x ~ U(−1, 1)`, as column vectors of shape (N, 1).
fn noisy_samples(
    points: usize,
    noise_std: f64,
    rng: &mut impl rand::Rng,
) -> (ndarray::Array2<f64>, ndarray::Array2<f64>) {
    let x = ndarray::Array2::from_shape_fn((points, 1), |_| rng.random_range(-1.0..1.0));
    let epsilon = wengert::nn::Init::Normal {
        mean: 0.0,
        std: 1.0,
    }
    .sample::<f64>(&[points, 1], rng);
    let y = ndarray::Array2::from_shape_fn((points, 1), |(i, _)| {
        target(x[[i, 0]]) + noise_std * epsilon[[i, 0]]
    });
    (x, y)
}

/// Trains the MLP; calls `on_log` before the first step, every `log_every` steps and after the
/// last, and returns all the logs.
pub fn train_regression(
    config: &RegressionConfig,
    mut on_log: impl FnMut(&RegressionLog),
) -> Vec<RegressionLog> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
    let (x_train, y_train) = noisy_samples(config.points, config.noise_std, &mut rng);
    let (x_test, y_test) = noisy_samples(config.points, config.noise_std, &mut rng);

    let mut store = ParamStore::<f64>::new();
    let sizes: Vec<usize> = [1]
        .iter()
        .chain(&config.hidden)
        .chain(&[1])
        .copied()
        .collect();
    let f = Mlp::builder(&sizes)
        .activation(Activation::Tanh)
        .build(&mut store.root().sub("f"), &mut rng);
    let mut adam = Adam::new(
        store.trainable(),
        AdamConfig {
            lr: config.lr,
            ..AdamConfig::default()
        },
    );

    // The MSE over a whole set, without recording a tape.
    let mean_squared_error = |x: &ndarray::Array2<f64>, y: &ndarray::Array2<f64>| {
        let prediction = f.forward(&store.constants(), &Var::constant(x.clone()));
        mse(&prediction, &Var::constant(y.clone()), Reduction::Mean).item()
    };

    let mut logs = Vec::new();
    let mut report = |step: usize| {
        let log = RegressionLog {
            step,
            train_mse: mean_squared_error(&x_train, &y_train),
            test_mse: mean_squared_error(&x_test, &y_test),
        };
        on_log(&log);
        logs.push(log);
    };
    report(0);
    for step in 1..=config.steps {
        let batch: Vec<usize> = (0..config.batch_size)
            .map(|_| rng.random_range(0..config.points))
            .collect();
        let x = Var::constant(x_train.select(ndarray::Axis(0), &batch));
        let y = Var::constant(y_train.select(ndarray::Axis(0), &batch));

        let tape = Tape::new();
        let theta = store.bind(&tape);
        let loss = mse(&f.forward(&theta, &x), &y, Reduction::Mean);
        let g = theta.gradients(&loss);
        adam.step(&store, &g);

        if step % config.log_every == 0 || step == config.steps {
            report(step);
        }
    }
    logs
}

fn main() {
    let config = RegressionConfig::default();
    println!(
        "fitting g(x) = sin 3x + x/2 from {} noisy points (noise floor σ² = {:.4})",
        config.points,
        config.noise_std.powi(2)
    );
    train_regression(&config, |log| {
        println!(
            "step {:5}  train MSE {:.5}  test MSE {:.5}",
            log.step, log.train_mse, log.test_mse
        );
    });
}
