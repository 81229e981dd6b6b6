//! f32 and f64 give the same results within f32 precision.

mod common;

use common::uniform;
use wengert_autograd::prelude::*;

fn loss<T: Float>(p: &[Var<T>], x: &Var<T>, labels: &ndarray::ArrayD<usize>) -> Var<T> {
    let hidden = (x.matmul(&p[0]) + &p[1]).tanh();
    let logits = hidden.matmul(&p[2]) + &p[3];
    let log_pi = logits.log_softmax(-1).gather(1, labels);
    let entropy_like = logits.softmax(-1).mul(&logits.log_softmax(-1)).sum_all();
    (log_pi.mean_all() + entropy_like * T::from_f64(0.01)).neg()
}

#[test]
fn f32_and_f64_agree_within_f32_precision() {
    let shapes: [&[usize]; 4] = [&[6, 16], &[16], &[16, 4], &[4]];
    let params64: Vec<_> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| uniform(s, -0.5, 0.5, i as u64))
        .collect();
    let x64 = uniform(&[32, 6], -2.0, 2.0, 9);
    let labels = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[32, 1]), |i| (i[0] * 7) % 4);

    let tape64 = Tape::<f64>::new();
    let p64: Vec<Var<f64>> = params64.iter().map(|p| tape64.var(p.clone())).collect();
    let l64 = loss(&p64, &Var::constant(x64.clone()), &labels);
    let g64 = grad(&[&l64], &p64.iter().collect::<Vec<_>>());

    let tape32 = Tape::<f32>::new();
    let p32: Vec<Var<f32>> = params64
        .iter()
        .map(|p| tape32.var(p.mapv(|v| v as f32)))
        .collect();
    let l32 = loss(&p32, &Var::constant(x64.mapv(|v| v as f32)), &labels);
    let g32 = grad(&[&l32], &p32.iter().collect::<Vec<_>>());

    assert!((l32.item() as f64 - l64.item()).abs() <= 1e-5 * l64.item().abs().max(1.0));
    for (a, b) in g32.iter().zip(&g64) {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-3);
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((*x as f64 - y).abs() <= 1e-5 * scale, "f32 {x} vs f64 {y}");
        }
    }
}
