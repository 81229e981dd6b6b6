//! R2D2's value rescaling `h` and its inverse against NumPy's values (`rl/tests/data/`), and
//! `h⁻¹(h(x)) = x` to round-off from 10⁻³⁰⁰ to 10³⁰⁰, in f64 and f32.

use wengert_rl::value_rescaling::{EPSILON, h, h_inverse};

fn reference() -> serde_json::Value {
    let text = include_str!("data/value_rescaling.json");
    serde_json::from_str::<serde_json::Value>(text).unwrap()["value_rescaling"].clone()
}

fn column(v: &serde_json::Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn h_and_its_inverse_match_numpy() {
    let v = reference();
    let epsilon = v["eps"].as_f64().unwrap();
    assert_eq!(epsilon, EPSILON);
    let (x, hx, round_trip) = (column(&v, "x"), column(&v, "h"), column(&v, "h_inv_of_h"));
    assert_eq!(x.len(), 7);
    for ((&x, &hx), &round_trip) in x.iter().zip(&hx).zip(&round_trip) {
        let ours = h(x, epsilon);
        assert!(
            (ours - hx).abs() <= 1e-15 * hx.abs(),
            "h({x}) = {ours}, NumPy {hx}"
        );
        // The inverse of NumPy's h(x) is x. NumPy's own h⁻¹ (the textbook form) loses up to
        // 1e-13 to cancellation; ours must do at least as well.
        let back = h_inverse(hx, epsilon);
        assert!(
            (back - x).abs() <= 1e-15 * x.abs().max(1e-300),
            "h⁻¹(h({x})) = {back}"
        );
        assert!((back - x).abs() <= (round_trip - x).abs(), "{x}");
        assert!((round_trip - x).abs() <= 1e-12 * x.abs(), "the data: {x}");
    }
}

#[test]
fn the_inverse_undoes_h_to_round_off_over_six_hundred_decades() {
    for epsilon in [0.0_f64, 1e-6, EPSILON, 0.1, 1.0] {
        let mut worst: f64 = 0.0;
        for k in -3000..=3000 {
            for sign in [-1.0_f64, 1.0] {
                let x = sign * 10f64.powf(k as f64 / 10.0) * 1.2345;
                let (forward, back) = (h(x, epsilon), h_inverse(x, epsilon));
                for (y, target) in [(h_inverse(forward, epsilon), x), (h(back, epsilon), x)] {
                    if target.is_finite() && y.is_finite() {
                        worst = worst.max((y - target).abs() / target.abs());
                    }
                }
            }
        }
        assert!(
            worst <= 8.0 * f64::EPSILON,
            "ε = {epsilon}: relative error {worst:e}"
        );
        assert_eq!(h(0.0, epsilon), 0.0);
        assert_eq!(h_inverse(0.0, epsilon), 0.0);
    }
    // f32, where the textbook inverse would keep only about four digits.
    let mut worst = 0.0_f32;
    for k in -370..=370 {
        let x: f32 = 10f32.powf(k as f32 / 10.0) * 1.2345;
        for x in [x, -x] {
            let y: f32 = h_inverse(h(x, 1e-3_f32), 1e-3_f32);
            worst = worst.max((y - x).abs() / x.abs());
        }
    }
    assert!(worst <= 8.0 * f32::EPSILON, "f32: relative error {worst:e}");
}

#[test]
fn h_is_odd_increasing_and_squashes_like_a_square_root() {
    let xs: Vec<f64> = (-400..=400).map(|i| (i as f64 / 20.0).sinh()).collect();
    for w in xs.windows(2) {
        assert!(
            h(w[1], EPSILON) > h(w[0], EPSILON),
            "increasing at {}",
            w[0]
        );
        assert_eq!(h(-w[0], EPSILON), -h(w[0], EPSILON));
    }
    // h(x) ≈ √x for large x (ε = 0): h(10⁶ − 1) = 10³ − 1.
    assert!((h(999_999.0_f64, 0.0) - 999.0).abs() < 1e-9);
    // h'(0) = ½ + ε.
    let d: f64 = 1e-7;
    assert!(((h(d, EPSILON) - h(-d, EPSILON)) / (2.0 * d) - (0.5 + EPSILON)).abs() < 1e-7);
}
