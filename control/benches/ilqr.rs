//! One iLQR iteration (expansion by autograd, backward pass, line search) on the cart-pole
//! swing-up, N = 100, dt = 0.05, and the same for DDP.
//!
//! Run: `cargo bench -p wengert-control --bench ilqr`.

use autograd::Tensor;
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::array;
use std::f64::consts::PI;
use std::hint::black_box;
use wengert_control::ilqr::{Ilqr, IlqrOptions, Method, Problem, quadratic_cost};
use wengert_control::systems::CartPole;

fn cart_pole_swing_up() -> Problem {
    let target = array![0.0, PI, 0.0, 0.0];
    let terminal_target = target.clone();
    Problem::from_system(
        CartPole::default(),
        0.05,
        100,
        move |x, u| {
            quadratic_cost(x, &target, &array![0.1, 0.1, 0.01, 0.01])
                + u.powi(2).sum(&[0], false) * 0.005
        },
        move |x| quadratic_cost(x, &terminal_target, &array![100.0, 1000.0, 100.0, 100.0]),
    )
    .with_control_limits(array![-10.0], array![10.0])
}

fn one_iteration(c: &mut Criterion) {
    let problem = cart_pole_swing_up();
    let x0 = array![0.0, 0.0, 0.0, 0.0];
    // Start from the controls after a few iterations, where a typical iteration happens.
    let warm = Ilqr::new(IlqrOptions {
        max_iterations: 5,
        ..IlqrOptions::default()
    })
    .solve(&problem, &x0, None)
    .unwrap()
    .u;
    let mut group = c.benchmark_group("ilqr_iteration");
    for (name, method) in [
        ("cart_pole_N100_ilqr", Method::Ilqr),
        ("cart_pole_N100_ddp", Method::Ddp),
    ] {
        let solver = Ilqr::new(IlqrOptions {
            method,
            max_iterations: 1,
            ..IlqrOptions::default()
        });
        group.bench_function(name, |b| {
            b.iter(|| black_box(solver.solve(&problem, &x0, Some(&warm)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, one_iteration);
criterion_main!(benches);
