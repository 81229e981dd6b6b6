//! The claims the examples print, checked on the examples' own code: each example file is
//! included as a module and its core function run with the same defaults (`main` is unused).

#[allow(dead_code)]
#[path = "../examples/mlp_regression.rs"]
mod mlp_regression;

#[allow(dead_code)]
#[path = "../examples/vae.rs"]
mod vae;

#[allow(dead_code)]
#[path = "../examples/natural_gradient.rs"]
mod natural_gradient;

#[allow(dead_code)]
#[path = "../examples/common/mod.rs"]
mod common;

use ndarray::array;
use wengert::autograd::prelude::*;
use wengert::nn::distributions::DiagGaussian;
use wengert::rl::algorithms::trpo::TrpoConfig;

#[test]
fn mlp_regression_reaches_the_noise_floor() {
    let config = mlp_regression::RegressionConfig::default();
    let logs = mlp_regression::train_regression(&config, |_| {});
    let (first, last) = (logs[0], *logs.last().unwrap());
    assert_eq!(last.step, config.steps);
    // The noise floor is σ² = 0.0025; an MLP that has learned g sits just above it.
    assert!(
        first.test_mse > 0.1,
        "untrained test MSE {}",
        first.test_mse
    );
    assert!(last.test_mse < 0.005, "test MSE {}", last.test_mse);
    assert!(last.train_mse < 0.005, "train MSE {}", last.train_mse);
}

#[test]
fn vae_elbo_improves_by_ten_nats() {
    let config = vae::VaeConfig {
        epochs: 60,
        ..vae::VaeConfig::default()
    };
    let logs = vae::train_vae(&config, |_| {});
    let (first, last) = (logs[0], *logs.last().unwrap());
    for log in &logs {
        assert!((log.elbo - (log.reconstruction - log.kl)).abs() < 1e-12);
        assert!(log.kl >= 0.0);
    }
    assert!(
        last.elbo > first.elbo + 10.0,
        "ELBO {} → {}",
        first.elbo,
        last.elbo
    );
    // The posterior carries information about x: the KL term has grown away from zero.
    assert!(last.kl > 1.0, "KL {}", last.kl);
}

#[test]
fn vae_terms_match_the_diagonal_gaussian_distribution() {
    let mu = Var::constant(array![[0.3, -1.2], [2.0, 0.1]]);
    let log_var = Var::constant(array![[0.5, -0.4], [0.0, 1.3]]);
    let q = DiagGaussian::new(&mu, &log_var.mul_scalar(0.5));
    let prior = DiagGaussian::new(&mu.full_like(0.0), &mu.full_like(0.0));
    let kl = vae::kl_to_standard_normal(&mu, &log_var);
    let reference = q.kl(&prior);
    for (a, b) in kl.value().iter().zip(reference.value().iter()) {
        assert!((a - b).abs() < 1e-12, "KL {a} vs {b}");
    }

    let x = Var::constant(array![[0.1, 0.2], [-0.5, 0.7]]);
    let log_sigma_x = Var::constant(array![-1.0, 0.5]);
    let log_p = vae::gaussian_log_likelihood(&x, &mu, &log_sigma_x);
    let reference = DiagGaussian::new(&mu, &log_sigma_x).log_prob(&x);
    for (a, b) in log_p.value().iter().zip(reference.value().iter()) {
        assert!((a - b).abs() < 1e-12, "log p {a} vs {b}");
    }
}

#[test]
fn natural_gradient_beats_gradient_descent_on_ill_conditioned_logistic_regression() {
    let config = natural_gradient::LogisticConfig::default();
    let curves = natural_gradient::compare(&config);
    let gd = &curves.gradient_descent;
    let ng = &curves.natural_gradient;
    assert_eq!((gd.len(), ng.len()), (config.steps + 1, config.steps + 1));
    // The safe step 1 / L_smooth decreases the loss every step, but slowly.
    assert!(gd.windows(2).all(|w| w[1] < w[0]), "{gd:?}");
    // Fisher scoring (Newton) has converged to round-off well within the budget …
    let minimum = ng[config.steps];
    assert!((ng[config.steps / 2] - minimum).abs() < 1e-12, "{ng:?}");
    // … while gradient descent is still far from the minimum after as many steps.
    assert!(
        gd[config.steps] > minimum + 0.1,
        "GD {} vs NG {minimum}",
        gd[config.steps]
    );
}

fn line(text: &str) -> Vec<String> {
    text.split_whitespace().map(String::from).collect()
}

#[test]
fn examples_read_the_seed_the_environment_and_the_settings() {
    let run: common::Run<TrpoConfig> =
        common::parse("npg", "CartPole-v1", &line("7 gamma=0.9")).unwrap();
    assert_eq!((run.seed, run.env_id.as_str()), (7, "CartPole-v1"));
    assert_eq!((run.config.seed, run.config.rollout.gamma), (7, 0.9));
    // a setting in first place is a setting, not a seed read as 1 and dropped
    let run: common::Run<TrpoConfig> =
        common::parse("npg", "CartPole-v1", &line("gamma=0.9")).unwrap();
    assert_eq!((run.seed, run.config.rollout.gamma), (1, 0.9));
    let run: common::Run<TrpoConfig> =
        common::parse("npg", "CartPole-v1", &line("3 Acrobot-v1 gamma=0.95")).unwrap();
    assert_eq!((run.env_id.as_str(), run.config.seed), ("Acrobot-v1", 3));
}

#[test]
fn a_bad_example_command_line_is_an_error_naming_the_argument() {
    let error = |text: &str| {
        common::parse::<TrpoConfig>("npg", "CartPole-v1", &line(text))
            .err()
            .expect("an error")
    };
    assert!(error("seven").contains("`seven`"));
    assert!(error("1 CartPole-v1 extra").contains("`extra`"));
    assert!(error("1 =0.9").contains("`=0.9`"));
    assert!(error("1 gama=0.9").contains("`gama`"));
    assert!(error("1 gamma=1.5").contains("`gamma`"));
    assert!(error("1 Nowhere-v0").contains("Nowhere-v0"));
}
