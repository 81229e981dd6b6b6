//! The forward pass (the soft policy's discounted state visitation `D`), feature counts, and
//! what the demonstrations give: `f̃`, `μ_0`, and paths recorded from an environment.

use ndarray::{Array1, Array2, ArrayView1};

use crate::env::{Action, Env, EnvError, Space, TabularModel};
use crate::train::TrainError;

/// The forward pass: `D(s) = (1 − γ) Σ_t γᵗ μ_t(s)` with `μ_{t+1}(s') = Σ_{s,a} μ_t(s) π(a|s) P(s'|s, a)`
/// (terminating outcomes leave), run until `γᵗ Σ_s μ_t(s) < tolerance`.
///
/// ```
/// use wengert_rl::env::{Gridworld, GridworldRewards};
/// use wengert_rl::irl::state_visitation;
/// let noiseless = GridworldRewards { noise: 0.0, ..GridworldRewards::default() };
/// let corridor = Gridworld::new("SS", noiseless).unwrap();
/// let always_right = vec![vec![0.0, 0.0, 1.0, 0.0]; 2];
/// let d = state_visitation(corridor.model(), &always_right, &[1.0, 0.0], 0.5, 1e-14);
/// // One step in the left cell, then the right cell forever: D = (1 − γ) (1, γ / (1 − γ)).
/// assert!((d[0] - 0.5).abs() < 1e-12 && (d[1] - 0.5).abs() < 1e-12);
/// ```
// ANCHOR: state_visitation
pub fn state_visitation(
    model: &TabularModel,
    policy: &[Vec<f64>],
    initial: &[f64],
    gamma: f64,
    tolerance: f64,
) -> Vec<f64> {
    let num_states = model.num_states();
    assert!(
        policy.len() == num_states && initial.len() == num_states,
        "state_visitation: need π(·|s) and μ_0(s) for each of the {num_states} states"
    );
    assert!(
        (0.0..1.0).contains(&gamma) && tolerance > 0.0,
        "state_visitation: need 0 ≤ γ < 1 (got {gamma}) and a positive tolerance"
    );
    let mut mu = initial.to_vec();
    let mut visitation = vec![0.0; num_states];
    let mut discount = 1.0;
    while discount * mu.iter().sum::<f64>() >= tolerance {
        for (d, &m) in visitation.iter_mut().zip(&mu) {
            *d += discount * m;
        }
        let mut next = vec![0.0; num_states];
        for (s, &mu_s) in mu.iter().enumerate().filter(|(_, m)| **m != 0.0) {
            for (a, &pi_a) in policy[s].iter().enumerate() {
                for t in model.outcomes(s, a).iter().filter(|t| !t.terminated) {
                    next[t.next_state] += mu_s * pi_a * t.probability;
                }
            }
        }
        mu = next;
        discount *= gamma;
    }
    visitation.iter().map(|d| (1.0 - gamma) * d).collect()
}
// ANCHOR_END: state_visitation

/// `Σ_s D(s) f(s)`: the feature counts of a visitation.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::irl::feature_counts;
/// let features = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// assert_eq!(feature_counts(&features, &[0.5, 2.0, 1.0]), array![1.5, 3.0]);
/// ```
pub fn feature_counts(features: &Array2<f64>, visitation: &[f64]) -> Array1<f64> {
    features.t().dot(&ArrayView1::from(visitation))
}

/// The expert's discounted feature counts `f̃ = (1 − γ) (1/N) Σ_i Σ_t γᵗ f(s_t^i)`.
///
/// ```
/// use ndarray::array;
/// use wengert_rl::irl::expert_feature_counts;
/// let features = array![[1.0], [0.0]];
/// let counts = expert_feature_counts(&[vec![0, 1, 0], vec![1]], &features, 0.5).unwrap();
/// assert_eq!(counts, array![0.5 * (1.0 + 0.25) / 2.0]);
/// assert!(expert_feature_counts(&[vec![0, 2]], &features, 0.5).is_err()); // no state 2
/// ```
pub fn expert_feature_counts(
    demonstrations: &[Vec<usize>],
    features: &Array2<f64>,
    gamma: f64,
) -> Result<Array1<f64>, TrainError> {
    check_demonstrations(demonstrations, features.nrows())?;
    let mut counts = Array1::zeros(features.ncols());
    for path in demonstrations {
        let mut discount = 1.0;
        for &s in path {
            counts.scaled_add(discount, &features.row(s));
            discount *= gamma;
        }
    }
    Ok(counts * ((1.0 - gamma) / demonstrations.len() as f64))
}

/// The empirical distribution `μ_0` of the demonstrations' first states.
///
/// ```
/// use wengert_rl::irl::initial_distribution;
/// let mu0 = initial_distribution(&[vec![0, 1], vec![2], vec![0]], 3).unwrap();
/// assert_eq!(mu0, vec![2.0 / 3.0, 0.0, 1.0 / 3.0]);
/// ```
pub fn initial_distribution(
    demonstrations: &[Vec<usize>],
    num_states: usize,
) -> Result<Vec<f64>, TrainError> {
    check_demonstrations(demonstrations, num_states)?;
    let mut mu0 = vec![0.0; num_states];
    for path in demonstrations {
        mu0[path[0]] += 1.0 / demonstrations.len() as f64;
    }
    Ok(mu0)
}

fn check_demonstrations(
    demonstrations: &[Vec<usize>],
    num_states: usize,
) -> Result<(), TrainError> {
    let bad = |message: String| Err(TrainError::Config(format!("MaxEnt IRL: {message}")));
    if demonstrations.is_empty() {
        return bad("no demonstrations; expected at least one path of states".into());
    }
    for (i, path) in demonstrations.iter().enumerate() {
        if path.is_empty() {
            return bad(format!(
                "demonstration {i} is empty; expected at least one state"
            ));
        }
        if let Some(&s) = path.iter().find(|&&s| s >= num_states) {
            return bad(format!(
                "demonstration {i} visits state {s}; expected states below {num_states}"
            ));
        }
    }
    Ok(())
}

/// Records `episodes` paths of states by following `policy` in `env` for at most `max_steps`
/// steps each (a path ends early when the episode terminates or is truncated; the state it
/// ends in is not recorded, as it is never acted in). The first episode is reset with `seed`,
/// the rest continue the environment's random stream.
///
/// Errors if the environment's observations or actions are not discrete, or a step fails.
///
/// ```
/// use wengert_rl::env::Gridworld;
/// use wengert_rl::irl::sample_demonstrations;
/// let mut world = Gridworld::russell_norvig();
/// let up_then_right = vec![2, 2, 2, 0, 3, 0, 3, 0, 3, 0, 0, 0];
/// let paths = sample_demonstrations(&mut world, &up_then_right, 5, 50, 7).unwrap();
/// assert_eq!(paths.len(), 5);
/// assert!(paths.iter().all(|p| p[0] == 8)); // every episode starts at S
/// ```
pub fn sample_demonstrations<E: Env + ?Sized>(
    env: &mut E,
    policy: &[usize],
    episodes: usize,
    max_steps: usize,
    seed: u64,
) -> Result<Vec<Vec<usize>>, EnvError> {
    let (Space::Discrete { n: num_states }, Space::Discrete { .. }) =
        (env.observation_space(), env.action_space())
    else {
        return Err(EnvError::InvalidConfig(format!(
            "sample_demonstrations: {} must have discrete observations and actions",
            env.id()
        )));
    };
    if policy.len() != *num_states {
        return Err(EnvError::InvalidConfig(format!(
            "sample_demonstrations: the policy has {} actions; expected one per state ({num_states})",
            policy.len()
        )));
    }
    let mut paths = Vec::with_capacity(episodes);
    for episode in 0..episodes {
        let mut s = env.reset((episode == 0).then_some(seed))[0] as usize;
        let mut path = Vec::with_capacity(max_steps);
        for _ in 0..max_steps {
            path.push(s);
            let step = env.step(Action::Discrete(policy[s]))?;
            if step.terminated || step.truncated {
                break;
            }
            s = step.observation[0] as usize;
        }
        paths.push(path);
    }
    Ok(paths)
}
