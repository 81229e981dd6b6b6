//! The options the PyTorch reference file does not exercise (dampening, weight decay, AMSGrad,
//! centered RMSprop with momentum), against the update equations of PyTorch's documentation
//! written out for one scalar; plus parameter groups, gradient transforms and schedules.

use ndarray::array;
use wengert_nn::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, ClipGlobalNorm, LrSchedule, Optimizer, ParamGroup,
    RmsProp, RmsPropConfig, Sgd, SgdConfig,
};
use wengert_nn::{ParamGradients, ParamId, ParamStore};

/// A gradient sequence with sign changes and a large spike (so AMSGrad's maximum matters).
const GRADIENTS: [f64; 8] = [0.3, -1.2, 4.0, 0.05, -0.4, 0.9, -0.01, 0.2];
const THETA0: f64 = 0.7;

/// Runs `optimizer` on one scalar parameter over [`GRADIENTS`], where the gradient at each step
/// is `GRADIENTS[t] + θ` (so weight decay and the parameter's value interact).
fn trajectory(make: impl FnOnce(ParamId) -> Box<dyn Optimizer<f64>>) -> Vec<f64> {
    let mut store = ParamStore::<f64>::new();
    let w = store.root().param("w", array![THETA0]);
    let mut optimizer = make(w);
    GRADIENTS
        .iter()
        .map(|&g| {
            let theta = store.value(w)[[0]];
            let grads =
                ParamGradients::from_pairs(1, [(w, array![g + theta].into_dyn().into_shared())]);
            optimizer.step(&store, &grads);
            store.value(w)[[0]]
        })
        .collect()
}

fn assert_close(actual: &[f64], expected: &[f64], what: &str) {
    for (t, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-12 * e.abs().max(1.0),
            "{what}: step {}: {a} vs {e} from the documented algorithm",
            t + 1
        );
    }
}

#[test]
fn sgd_with_dampening_and_weight_decay_follows_the_documented_algorithm() {
    let (gamma, mu, tau, lambda) = (0.1, 0.8, 0.3, 0.05);
    let mut theta = THETA0;
    let mut b = 0.0;
    let expected: Vec<f64> = GRADIENTS
        .iter()
        .enumerate()
        .map(|(t, &g)| {
            let mut g = g + theta;
            g += lambda * theta;
            b = if t == 0 { g } else { mu * b + (1.0 - tau) * g };
            g = b;
            theta -= gamma * g;
            theta
        })
        .collect();
    let actual = trajectory(|w| {
        let config = SgdConfig {
            lr: gamma,
            momentum: mu,
            dampening: tau,
            weight_decay: lambda,
            nesterov: false,
        };
        Box::new(Sgd::new([w], config))
    });
    assert_close(&actual, &expected, "SGD");
}

/// A quick-forgetting β₂ = 0.9, so that `v` falls after the spike and AMSGrad's maximum differs.
const BETAS: (f64, f64) = (0.9, 0.9);

fn adam_reference(gamma: f64, lambda: f64, decoupled: bool, amsgrad: bool) -> Vec<f64> {
    let ((beta1, beta2), eps) = (BETAS, 1e-8);
    let (mut theta, mut m, mut v, mut v_max) = (THETA0, 0.0, 0.0, 0.0);
    GRADIENTS
        .iter()
        .enumerate()
        .map(|(i, &g)| {
            let t = (i + 1) as i32;
            let mut g = g + theta;
            if decoupled {
                theta -= gamma * lambda * theta;
            } else {
                g += lambda * theta;
            }
            m = beta1 * m + (1.0 - beta1) * g;
            v = beta2 * v + (1.0 - beta2) * g * g;
            let m_hat = m / (1.0 - beta1.powi(t));
            let v_hat = if amsgrad {
                v_max = f64::max(v_max, v);
                v_max / (1.0 - beta2.powi(t))
            } else {
                v / (1.0 - beta2.powi(t))
            };
            theta -= gamma * m_hat / (v_hat.sqrt() + eps);
            theta
        })
        .collect()
}

#[test]
fn adam_with_l2_and_amsgrad_follows_the_documented_algorithm() {
    for amsgrad in [false, true] {
        let actual = trajectory(|w| {
            let config = AdamConfig {
                lr: 0.05,
                betas: BETAS,
                weight_decay: 0.1,
                amsgrad,
                ..AdamConfig::default()
            };
            Box::new(Adam::new([w], config))
        });
        assert_close(&actual, &adam_reference(0.05, 0.1, false, amsgrad), "Adam");
    }
    // The spike at step 3 keeps AMSGrad's denominator large afterwards: smaller later steps.
    let plain = adam_reference(0.05, 0.0, false, false);
    let ams = adam_reference(0.05, 0.0, false, true);
    assert!(
        (ams[7] - ams[6]).abs() < (plain[7] - plain[6]).abs(),
        "{ams:?} {plain:?}"
    );
}

#[test]
fn adamw_with_amsgrad_follows_the_documented_algorithm() {
    for amsgrad in [false, true] {
        let actual = trajectory(|w| {
            let config = AdamWConfig {
                lr: 0.05,
                betas: BETAS,
                weight_decay: 0.1,
                amsgrad,
                ..AdamWConfig::default()
            };
            Box::new(AdamW::new([w], config))
        });
        assert_close(&actual, &adam_reference(0.05, 0.1, true, amsgrad), "AdamW");
    }
}

#[test]
fn rmsprop_centered_with_momentum_follows_the_documented_algorithm() {
    for (centered, mu) in [(false, 0.0), (true, 0.0), (false, 0.9), (true, 0.9)] {
        let (gamma, alpha, eps, lambda) = (0.01, 0.9, 1e-6, 0.02);
        let (mut theta, mut v, mut g_ave, mut b) = (THETA0, 0.0, 0.0, 0.0);
        let expected: Vec<f64> = GRADIENTS
            .iter()
            .map(|&g| {
                let mut g = g + theta;
                g += lambda * theta;
                v = alpha * v + (1.0 - alpha) * g * g;
                let mut v_tilde = v;
                if centered {
                    g_ave = alpha * g_ave + (1.0 - alpha) * g;
                    v_tilde -= g_ave * g_ave;
                }
                if mu > 0.0 {
                    b = mu * b + g / (v_tilde.sqrt() + eps);
                    theta -= gamma * b;
                } else {
                    theta -= gamma * g / (v_tilde.sqrt() + eps);
                }
                theta
            })
            .collect();
        let actual = trajectory(|w| {
            let config = RmsPropConfig {
                lr: gamma,
                alpha,
                eps,
                weight_decay: lambda,
                momentum: mu,
                centered,
            };
            Box::new(RmsProp::new([w], config))
        });
        assert_close(
            &actual,
            &expected,
            &format!("RMSprop centered={centered} momentum={mu}"),
        );
    }
}

fn two_layer_store() -> (ParamStore<f64>, ParamId, ParamId) {
    let mut store = ParamStore::<f64>::new();
    let body = store.root().sub("body").param("w", array![1.0, 1.0]);
    let head = store.root().sub("head").param("w", array![1.0]);
    (store, body, head)
}

fn unit_gradients(body: ParamId, head: ParamId) -> ParamGradients<f64> {
    ParamGradients::from_pairs(
        2,
        [
            (body, array![3.0, 4.0].into_dyn().into_shared()),
            (head, array![1.0].into_dyn().into_shared()),
        ],
    )
}

#[test]
fn each_group_has_its_own_learning_rate_and_options() {
    let (store, body, head) = two_layer_store();
    let config = SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    };
    let mut sgd = Sgd::new(store.trainable(), config).with_param_group(ParamGroup::new(
        [head],
        SgdConfig {
            lr: 0.5,
            momentum: 0.9,
            ..config
        },
    ));
    assert_eq!(sgd.groups()[0].params, vec![body]);
    for _ in 0..2 {
        sgd.step(&store, &unit_gradients(body, head));
    }
    // body: two plain steps of 0.1 g; head: b = 1 then 1.9, steps 0.5 and 0.95.
    let theta_body = store.value(body);
    assert!((theta_body[[0]] - 0.4).abs() < 1e-15 && (theta_body[[1]] - 0.2).abs() < 1e-15);
    assert!((store.value(head)[[0]] - (1.0 - 0.5 - 0.95)).abs() < 1e-15);
    assert!(sgd.state(body).unwrap().momentum_buffer.is_none());
}

#[test]
fn transforms_see_only_their_groups_gradients() {
    let (store, body, head) = two_layer_store();
    let config = SgdConfig {
        lr: 1.0,
        ..SgdConfig::default()
    };
    let seen_by_body_group = |grads: &mut ParamGradients<f64>| {
        let ids: Vec<ParamId> = grads.iter().map(|(id, _)| id).collect();
        assert_eq!(ids, vec![ParamId(0)]);
    };
    let mut sgd = Sgd::new([body], config)
        .with_param_group(ParamGroup::new([head], config))
        .with_transform(ClipGlobalNorm::new(1.0));
    sgd.groups_mut()[0]
        .transforms
        .push(Box::new(seen_by_body_group));
    sgd.step(&store, &unit_gradients(body, head));
    // Each group clipped separately: body's ‖(3, 4)‖ = 5 → 1, head's ‖1‖ is within the limit.
    assert_eq!(sgd.groups()[0].transforms[0].last_value(), Some(5.0));
    assert_eq!(sgd.groups()[1].transforms[0].last_value(), Some(1.0));
    let theta_body = store.value(body);
    assert!(
        (theta_body[[0]] - (1.0 - 0.6)).abs() < 1e-6
            && (theta_body[[1]] - (1.0 - 0.8)).abs() < 1e-6
    );
    // PyTorch's 10⁻⁶ makes a gradient exactly at the limit shrink by 1/(1 + 10⁻⁶).
    assert!((store.value(head)[[0]] - (1.0 - 1.0 / (1.0 + 1e-6))).abs() < 1e-15);
}

#[test]
fn parameters_without_gradients_or_groups_are_left_alone() {
    let (store, body, head) = two_layer_store();
    let mut adam = Adam::new([body], AdamConfig::default());
    let only_head = ParamGradients::from_pairs(2, [(head, array![1.0].into_dyn().into_shared())]);
    adam.step(&store, &only_head);
    assert_eq!(store.value(body), array![1.0, 1.0].into_dyn().into_shared());
    assert_eq!(store.value(head), array![1.0].into_dyn().into_shared());
    assert!(adam.state(body).is_none());
}

#[test]
fn schedules_match_pytorch_closed_forms() {
    let linear = LrSchedule::Linear {
        start_factor: 1.0,
        end_factor: 0.1,
        total_steps: 10,
    };
    assert!((linear.lr(0.2f64, 5) - 0.2 * 0.55).abs() < 1e-15);
    assert!((linear.lr(0.2f64, 10) - 0.02).abs() < 1e-15);
    assert!((linear.lr(0.2f64, 1000) - 0.02).abs() < 1e-15);
    let cosine = LrSchedule::Cosine {
        total_steps: 8,
        min_lr: 0.01,
    };
    let expected = 0.01 + (0.1 - 0.01) * (1.0 + (std::f64::consts::PI * 2.0 / 8.0).cos()) / 2.0;
    assert!((cosine.lr(0.1, 2) - expected).abs() < 1e-15);
    assert!((cosine.lr(0.1f64, 8) - 0.01).abs() < 1e-15);
    let step = LrSchedule::Step {
        step_size: 3,
        gamma: 0.1,
    };
    assert_eq!(step.lr(1.0f64, 2), 1.0);
    assert!((step.lr(1.0f64, 7) - 0.01).abs() < 1e-15);
    assert_eq!(LrSchedule::Constant.lr(0.3f32, 99), 0.3);

    let (store, body, head) = two_layer_store();
    let mut adam = Adam::<f64>::new(
        [body],
        AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        },
    )
    .with_group([head], 0.01);
    for t in 0..=8 {
        cosine.apply(&mut adam, t);
    }
    assert!((adam.lr(0) - 0.01).abs() < 1e-15);
    assert!((adam.lr(1) - 0.01).abs() < 1e-15); // min_lr is absolute, as in PyTorch
    assert_eq!(adam.initial_lr(1), 0.01);
    let _ = store;
}

#[test]
#[should_panic(expected = "Nesterov momentum requires a momentum and zero dampening")]
fn nesterov_without_momentum_is_rejected() {
    let _ = Sgd::<f64>::new(
        [],
        SgdConfig {
            nesterov: true,
            ..SgdConfig::default()
        },
    );
}
