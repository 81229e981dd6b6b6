//! Losses against PyTorch (float64), `tests/reference/torch_nn.json` → `losses`.

use autograd::prelude::*;
use ndarray::{ArrayD, IxDyn};
use serde_json::Value;
use wengert_nn::losses::{
    CrossEntropy, Reduction, binary_cross_entropy_with_logits, gaussian_nll, huber, smooth_l1,
};

const RELATIVE_TOLERANCE: f64 = 1e-12;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/reference/torch_nn.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("reading torch_nn.json"))
        .expect("parsing torch_nn.json")
}

/// A JSON number, vector or matrix as an array.
fn array(value: &Value) -> ArrayD<f64> {
    match value {
        Value::Number(x) => ndarray::arr0(x.as_f64().unwrap()).into_dyn(),
        Value::Array(rows) if rows.first().is_some_and(Value::is_array) => {
            let rows: Vec<ArrayD<f64>> = rows.iter().map(array).collect();
            let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
            ndarray::stack(ndarray::Axis(0), &views).unwrap()
        }
        Value::Array(items) => {
            let v: Vec<f64> = items.iter().map(|x| x.as_f64().unwrap()).collect();
            ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap()
        }
        other => panic!("not a numeric array: {other}"),
    }
}

fn var(value: &Value) -> Var<f64> {
    Var::constant(array(value))
}

fn assert_close(name: &str, actual: f64, expected: f64) {
    let error = (actual - expected).abs() / expected.abs().max(1e-300);
    assert!(
        error <= RELATIVE_TOLERANCE,
        "{name}: {actual} vs PyTorch {expected} (relative error {error:e})"
    );
}

#[test]
fn every_reference_loss_agrees_with_pytorch() {
    let reference = reference();
    let cases = reference["losses"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for case in cases {
        let kind = case["loss"].as_str().unwrap();
        let expected = case["mean"].as_f64().unwrap();
        let actual = match kind {
            "smooth_l1" => smooth_l1(
                &var(&case["input"]),
                &var(&case["target"]),
                case["beta"].as_f64().unwrap(),
                Reduction::Mean,
            ),
            "huber" => huber(
                &var(&case["input"]),
                &var(&case["target"]),
                case["delta"].as_f64().unwrap(),
                Reduction::Mean,
            ),
            "cross_entropy_ignore_index" | "cross_entropy_label_smoothing" => {
                let targets: Vec<i64> = case["target"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_i64().unwrap())
                    .collect();
                let options = CrossEntropy {
                    ignore_index: Some(
                        case.get("ignore_index")
                            .map_or(-100, |i| i.as_i64().unwrap()),
                    ),
                    label_smoothing: case
                        .get("label_smoothing")
                        .map_or(0.0, |e| e.as_f64().unwrap()),
                    reduction: Reduction::Mean,
                };
                options.loss(&var(&case["logits"]), &targets)
            }
            "bce_with_logits" => binary_cross_entropy_with_logits(
                &var(&case["logits"]),
                &var(&case["target"]),
                Reduction::Mean,
            ),
            "gaussian_nll" => gaussian_nll(
                &var(&case["input"]),
                &var(&case["target"]),
                &var(&case["var"]),
                case["full"].as_bool().unwrap(),
                1e-6,
                Reduction::Mean,
            ),
            other => panic!("unknown reference loss {other}"),
        };
        assert_close(kind, actual.item(), expected);
    }
}

#[test]
fn huber_is_delta_times_smooth_l1_on_the_reference_inputs() {
    let reference = reference();
    for case in reference["losses"].as_array().unwrap() {
        if case["loss"] != "huber" {
            continue;
        }
        let delta = case["delta"].as_f64().unwrap();
        let (x, y) = (var(&case["input"]), var(&case["target"]));
        let h = huber(&x, &y, delta, Reduction::None);
        let s = smooth_l1(&x, &y, delta, Reduction::None);
        for (a, b) in h.value().iter().zip(s.value().iter()) {
            assert!((a - delta * b).abs() <= 1e-15 * a.abs().max(1.0));
        }
    }
}

#[test]
fn sum_and_none_reductions_are_consistent_with_the_mean() {
    let reference = reference();
    let case = &reference["losses"][0];
    let (x, y) = (var(&case["input"]), var(&case["target"]));
    let none = smooth_l1(&x, &y, 1.0, Reduction::None);
    let sum = smooth_l1(&x, &y, 1.0, Reduction::Sum).item();
    assert_eq!(none.shape(), &[5, 4]);
    assert_close("sum", sum, none.value().sum());
    assert_close("mean", sum / 20.0, case["mean"].as_f64().unwrap());
}

#[test]
fn the_mask_counts_only_masked_positions_and_matches_the_ignore_index() {
    let reference = reference();
    let case = &reference["losses"][4]; // cross-entropy with ignored positions
    let logits = var(&case["logits"]);
    let targets: Vec<i64> = case["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    // Give the ignored positions real (wrong) classes, and mask them out instead.
    let mask: Vec<bool> = targets.iter().map(|&t| t != -100).collect();
    let garbage: Vec<i64> = targets
        .iter()
        .map(|&t| if t == -100 { 2 } else { t })
        .collect();
    let options = CrossEntropy {
        ignore_index: None,
        ..CrossEntropy::default()
    };
    let masked = options.masked_loss(&logits, &garbage, &mask).item();
    assert_close("masked", masked, case["mean"].as_f64().unwrap());

    // Mean over |M| positions, not all of them; the per-position terms are 0 off the mask.
    let sum = CrossEntropy {
        reduction: Reduction::Sum,
        ..options
    }
    .masked_loss(&logits, &garbage, &mask)
    .item();
    let count = mask.iter().filter(|&&m| m).count() as f64;
    assert_close("sum / |M|", sum / count, masked);
    let terms = CrossEntropy {
        reduction: Reduction::None,
        ..options
    }
    .masked_loss(&logits, &garbage, &mask);
    for (term, &m) in terms.value().iter().zip(&mask) {
        assert_eq!(*term == 0.0, !m);
    }

    // The same batch shaped (B, L, C) = (1, 7, 6), as a language model produces it.
    let batched = logits.reshape(&[1, 7, 6]);
    assert_close(
        "batched",
        options.masked_loss(&batched, &garbage, &mask).item(),
        masked,
    );
}

#[test]
fn the_gradient_of_the_masked_loss_vanishes_off_the_mask() {
    let reference = reference();
    let case = &reference["losses"][4];
    let tape = Tape::new();
    let logits = tape.var(array(&case["logits"]));
    let mask = [true, false, false, true, false, false, true];
    let loss = CrossEntropy::default().masked_loss(&logits, &[3, 0, 0, 5, 0, 0, 3], &mask);
    let grad = &loss.backward()[&logits];
    for (row, &m) in mask.iter().enumerate() {
        let norm: f64 = grad
            .index_axis(ndarray::Axis(0), row)
            .iter()
            .map(|g| g * g)
            .sum();
        assert_eq!(norm > 0.0, m, "row {row}");
        // softmax − onehot sums to zero over classes, scaled by 1/|M|
        let total: f64 = grad.index_axis(ndarray::Axis(0), row).sum();
        assert!(total.abs() < 1e-15);
    }
}

#[test]
fn f32_agrees_with_f64_on_the_reference_losses() {
    let reference = reference();
    for case in reference["losses"].as_array().unwrap() {
        if case["loss"] != "bce_with_logits" {
            continue;
        }
        let x = array(&case["logits"]).mapv(|v| v as f32);
        let y = array(&case["target"]).mapv(|v| v as f32);
        let loss =
            binary_cross_entropy_with_logits(&Var::constant(x), &Var::constant(y), Reduction::Mean);
        let expected = case["mean"].as_f64().unwrap();
        assert!((loss.item() as f64 - expected).abs() < 1e-6 * expected);
    }
}

#[test]
fn gaussian_nll_clamps_the_variance_in_value_only() {
    let tape = Tape::<f64>::new();
    let variance = tape.var(ndarray::array![1e-9, 2.0]);
    let x = Var::constant(ndarray::array![0.0, 0.0]);
    let y = Var::constant(ndarray::array![1e-3, 1.0]);
    let loss = gaussian_nll(&x, &y, &variance, false, 1e-6, Reduction::Sum);
    let expected = 0.5 * ((1e-6f64).ln() + 1e-6 / 1e-6) + 0.5 * (2f64.ln() + 0.5);
    assert_close("clamped value", loss.item(), expected);
    // ∂ℓ/∂σ² = ½ (1/σ̃² − d²/σ̃⁴), at σ̃² = ε although σ² < ε (PyTorch's straight-through clamp)
    let grad = &loss.backward()[&variance];
    assert_close(
        "clamped gradient",
        grad[0],
        0.5 * (1.0 / 1e-6 - 1e-6 / 1e-12),
    );
    assert_close("gradient", grad[1], 0.5 * (0.5 - 1.0 / 4.0));
}
