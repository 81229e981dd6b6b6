//! NaN, infinities, zeros, kink points and empty axes behave as in PyTorch.
//!
//! `tests/data/nan_inf_cases.tsv` holds PyTorch's (float64) value `y = f(x)`, gradient
//! `∂(Σ y)/∂x_i` and Hessian-vector product `∂(Σ_j ⟨∂(Σ y)/∂x_j, 1⟩)/∂x_i` for each case, made by
//! `autograd/tools/nan_inf_reference.py`. Each case below computes the same function with the
//! engine; the three must agree: NaN where PyTorch has NaN, the same infinity where it has one,
//! and otherwise to round-off. The deliberate differences (listed in [`DELIBERATE`], and in
//! the crate's docs) are checked too, so that a change to them is noticed.

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};
use wengert_autograd::prelude::*;

type Case = fn(&[Var<f64>]) -> Var<f64>;

/// The engine's side of each case, by the name the data file uses.
fn cases() -> Vec<(&'static str, Case)> {
    vec![
        ("relu", |x| x[0].relu()),
        ("leaky_relu", |x| x[0].leaky_relu(0.1)),
        ("elu_1", |x| x[0].elu(1.0)),
        ("elu_0.5", |x| x[0].elu(0.5)),
        ("clamp", |x| x[0].clamp(-1.0, 1.0)),
        ("clamp_cubed", |x| x[0].clamp(-1.0, 1.0).powi(3)),
        ("clamp_point", |x| x[0].clamp(0.5, 0.5)),
        ("maximum", |x| x[0].maximum(&x[1])),
        ("minimum", |x| x[0].minimum(&x[1])),
        ("pow_scalar_0", |x| x[0].powf(0.0)),
        ("pow_scalar_1", |x| x[0].powf(1.0)),
        ("pow_scalar_2", |x| x[0].powf(2.0)),
        ("pow_scalar_-1", |x| x[0].powf(-1.0)),
        ("pow_scalar_3", |x| x[0].powf(3.0)),
        ("pow_scalar_0.5", |x| x[0].powf(0.5)),
        ("pow_scalar_2.5", |x| x[0].powf(2.5)),
        ("pow_tensor", |x| x[0].pow(&x[1])),
        ("var_inf", |x| x[0].variance(&[0], 1, false)),
        ("var_nan", |x| x[0].variance(&[0], 1, false)),
        ("var_one_element", |x| x[0].variance(&[0], 1, false)),
        ("var_two_short", |x| x[0].variance(&[0], 2, false)),
        ("var_population_one", |x| x[0].variance(&[0], 0, false)),
        ("logsumexp_empty", |x| x[0].logsumexp(&[1], false)),
        ("softmax_empty", |x| x[0].softmax(1)),
        ("log_softmax_empty", |x| x[0].log_softmax(1)),
        ("logsumexp_special", |x| x[0].logsumexp(&[1], false)),
        ("softmax_special", |x| x[0].softmax(1)),
        ("abs", |x| x[0].abs()),
        ("sqrt", |x| x[0].sqrt()),
        ("log", |x| x[0].log()),
        ("log1p", |x| x[0].log1p()),
        ("exp", |x| x[0].exp()),
        ("tanh", |x| x[0].tanh()),
        ("sigmoid", |x| x[0].sigmoid()),
        ("softplus", |x| x[0].softplus()),
        ("sin", |x| x[0].sin()),
        ("max_reduce", |x| x[0].max(&[1], false)),
        ("min_reduce", |x| x[0].min(&[1], false)),
        ("mean_inf", |x| x[0].mean_all()),
        ("div", |x| &x[0] / &x[1]),
        ("mul", |x| &x[0] * &x[1]),
    ]
}

/// Integer exponents through `powi` as well: the same data as `powf`.
fn integer_power_cases() -> Vec<(&'static str, i32)> {
    vec![
        ("pow_scalar_0", 0),
        ("pow_scalar_1", 1),
        ("pow_scalar_2", 2),
        ("pow_scalar_-1", -1),
        ("pow_scalar_3", 3),
    ]
}

/// Where the engine differs from PyTorch on purpose: `(case, quantity, what the engine gives)`.
///
/// * `variance` is the composition `Σ (x − x̄)² / (N − c)`, whose backward pass also runs through
///   the mean `x̄`; PyTorch's own rule `2 (x − x̄) / (N − c)` drops that path, which is zero in
///   exact arithmetic. With an infinite entry, or with `N ≤ c`, the mean's path makes the
///   engine's gradient NaN along the whole axis where PyTorch has ±inf at some entries, and its
///   second derivative NaN where PyTorch's is 0. Taking PyTorch's rule would change LayerNorm's
///   and BatchNorm's gradients at round-off level for every finite input.
/// * `softmax` is `e^{x − logsumexp x}`: a row holding +inf gives 0 at its finite entries and
///   NaN at the infinite ones, where PyTorch gives NaN for the whole row. NaN still shows.
const DELIBERATE: &[(&str, &str, &str)] = &[
    ("var_inf", "grad 0", "all NaN"),
    ("var_one_element", "hvp 0", "all NaN"),
    ("var_two_short", "grad 0", "all NaN"),
    ("var_two_short", "hvp 0", "all NaN"),
    ("softmax_special", "y", "0 and NaN in the row [1, inf]"),
];

type Quantities = BTreeMap<String, ArrayD<f64>>;

/// The data file: case → quantity (`x 0`, `y`, `grad 0`, `hvp 0`, …) → array.
fn reference() -> BTreeMap<String, Quantities> {
    let text = include_str!("data/nan_inf_cases.tsv");
    let mut cases: BTreeMap<String, Quantities> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, quantity, shape, values] = fields[..] else {
            panic!("malformed line {line:?}");
        };
        let shape: Vec<usize> = shape
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let values: Vec<f64> = values
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let array = ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap();
        cases
            .entry(name.to_string())
            .or_default()
            .insert(quantity.to_string(), array);
    }
    cases
}

/// The engine's `y`, gradients and Hessian-vector products, named as in the data file.
fn evaluate(f: &dyn Fn(&[Var<f64>]) -> Var<f64>, reference: &Quantities) -> Quantities {
    let tape = Tape::<f64>::new();
    let inputs: Vec<Var<f64>> = (0..)
        .map_while(|i| reference.get(&format!("x {i}")))
        .map(|x| tape.var(x.clone()))
        .collect();
    let refs: Vec<&Var<f64>> = inputs.iter().collect();
    let y = f(&inputs);
    let gradients = grad_graph(&[&y.sum_all()], &refs);
    let second = gradients
        .iter()
        .map(|g| g.sum_all())
        .reduce(|a, b| &a + &b)
        .unwrap();
    let hvps = grad(&[&second], &refs);
    let mut out = Quantities::new();
    out.insert("y".into(), y.value().to_owned());
    for (i, (g, h)) in gradients.iter().zip(hvps).enumerate() {
        out.insert(format!("grad {i}"), g.value().to_owned());
        out.insert(format!("hvp {i}"), h.to_owned());
    }
    out
}

/// NaN against NaN, the same infinity, or round-off (the sign of a zero is not compared).
fn agrees(engine: f64, torch: f64) -> bool {
    if torch.is_nan() || engine.is_nan() {
        return torch.is_nan() && engine.is_nan();
    }
    if torch.is_infinite() || engine.is_infinite() {
        return torch == engine;
    }
    (engine - torch).abs() <= 1e-12 * torch.abs().max(1.0)
}

fn compare(name: &str, engine: &Quantities, torch: &Quantities) -> Vec<String> {
    let mut mismatches = Vec::new();
    for (quantity, expected) in torch.iter().filter(|(q, _)| !q.starts_with('x')) {
        let found = &engine[quantity];
        let same = found.shape() == expected.shape()
            && found.iter().zip(expected).all(|(&e, &t)| agrees(e, t));
        let deliberate = DELIBERATE
            .iter()
            .any(|&(c, q, _)| c == name && q == quantity);
        if same == deliberate {
            mismatches.push(format!(
                "{name} {quantity}: engine {found} , PyTorch {expected}{}",
                if deliberate {
                    " (listed as a deliberate difference, but they agree)"
                } else {
                    ""
                }
            ));
        }
    }
    mismatches
}

#[test]
fn values_gradients_and_second_derivatives_match_pytorch() {
    let reference = reference();
    let cases = cases();
    assert_eq!(
        cases
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
            .len(),
        reference.len(),
        "every case in the data file has an engine side, and no other"
    );
    let mut mismatches = Vec::new();
    for (name, f) in &cases {
        let torch = reference
            .get(*name)
            .unwrap_or_else(|| panic!("no data for {name}"));
        mismatches.extend(compare(name, &evaluate(f, torch), torch));
    }
    for (name, n) in integer_power_cases() {
        let torch = &reference[name];
        let powi = move |x: &[Var<f64>]| x[0].powi(n);
        mismatches.extend(compare(
            &format!("{name} (powi)"),
            &evaluate(&powi, torch),
            torch,
        ));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_deliberate_differences_are_still_non_finite() {
    // A deliberate difference never hides a NaN: each listed quantity keeps a non-finite value.
    let reference = reference();
    for (name, f) in cases() {
        let engine = evaluate(&f, &reference[name]);
        for &(case, quantity, _) in DELIBERATE.iter().filter(|d| d.0 == name) {
            assert!(
                engine[quantity].iter().any(|v| !v.is_finite()),
                "{case} {quantity}: {}",
                engine[quantity]
            );
        }
    }
}
