//! What the Pendulum smoke tests of DDPG, TD3 and SAC share: the learning check and the check
//! of the reported columns.

// Each test file includes this module and uses what it needs of it.
#![allow(dead_code)]

use wengert_rl::common::trainer::Trained;
use wengert_rl::continuous::ContinuousAgent;

/// After 6000 steps the deterministic policy evaluates above −800 and at least 300 above the
/// first iteration's mostly random episodes (about −1200 each).
pub fn improves(run: &Trained<ContinuousAgent>) {
    let first = run.history[0].mean_return.unwrap();
    let evaluation = run.agent.evaluate(5, 1000).unwrap();
    let mean = evaluation.iter().sum::<f64>() / 5.0;
    assert!(
        mean > -800.0 && mean > first + 300.0,
        "evaluation {evaluation:?}, first {first}"
    );
}

/// The last report holds finite values of `names`; every report has the same columns (the
/// command line writes them to one CSV), the warm-up's losses NaN.
pub fn reports(run: &Trained<ContinuousAgent>, names: &[&str]) {
    let last = run.history.last().unwrap();
    for &name in names {
        let value = last.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(value.is_finite(), "{name} = {value}");
    }
    let columns = |i: usize| {
        run.history[i]
            .losses
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
    };
    assert_eq!(columns(0), columns(1));
    assert!(run.history[0].get("critic_loss").unwrap().is_nan());
}
