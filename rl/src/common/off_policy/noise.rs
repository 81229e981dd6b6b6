//! Exploration noise on unit-box actions: none, Gaussian or Ornstein–Uhlenbeck, and the
//! standard normal draws of the continuous agents.

use autograd::Float;
use ndarray::{Array2, ArrayD};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::snapshot::{Resumable, StateError, TrainingState};

/// The exploration noise added to the policy's unit-box action while collecting data; written
/// (and saved in a configuration) as `none`, `normal:SIGMA` or `ou:SIGMA`.
///
/// ```
/// use wengert_rl::common::off_policy::ActionNoise;
/// assert_eq!(ActionNoise::parse("normal:0.1").unwrap(), ActionNoise::Normal { sigma: 0.1 });
/// assert_eq!(ActionNoise::parse("ou:0.5").unwrap().to_string(), "ou:0.5");
/// assert!(ActionNoise::parse("pink:1").unwrap_err().contains("normal:SIGMA"));
/// assert!(ActionNoise::parse("normal:inf").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ActionNoise {
    /// No noise (SAC explores through its own stochastic policy).
    None,
    /// `ε_t ~ N(0, σ² I)`, independent across steps.
    Normal { sigma: f64 },
    /// `x_{t+1} = x_t − θ x_t dt + σ √dt ξ_t`, Stable-Baselines3's `OrnsteinUhlenbeckActionNoise`
    /// with `θ =` [`ActionNoise::OU_THETA`] and `dt =` [`ActionNoise::OU_DT`].
    OrnsteinUhlenbeck { sigma: f64 },
}

impl ActionNoise {
    /// `θ` of the Ornstein–Uhlenbeck process.
    pub const OU_THETA: f64 = 0.15;
    /// `dt` of the Ornstein–Uhlenbeck process.
    pub const OU_DT: f64 = 1e-2;

    /// Parses `none`, `normal:SIGMA` or `ou:SIGMA` (`SIGMA` a finite number ≥ 0).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let expected = "none, normal:SIGMA or ou:SIGMA (e.g. normal:0.1)";
        if text == "none" {
            return Ok(ActionNoise::None);
        }
        let (kind, sigma) = text
            .split_once(':')
            .ok_or_else(|| format!("action noise expects {expected}, found `{text}`"))?;
        let sigma: f64 = sigma
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| format!("action noise `{text}`: SIGMA must be a finite number ≥ 0"))?;
        match kind.trim() {
            "normal" => Ok(ActionNoise::Normal { sigma }),
            "ou" => Ok(ActionNoise::OrnsteinUhlenbeck { sigma }),
            _ => Err(format!("action noise expects {expected}, found `{text}`")),
        }
    }
}

impl std::fmt::Display for ActionNoise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ActionNoise::None => write!(f, "none"),
            ActionNoise::Normal { sigma } => write!(f, "normal:{sigma}"),
            ActionNoise::OrnsteinUhlenbeck { sigma } => write!(f, "ou:{sigma}"),
        }
    }
}

impl TryFrom<String> for ActionNoise {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        ActionNoise::parse(&text)
    }
}

impl From<ActionNoise> for String {
    fn from(noise: ActionNoise) -> String {
        noise.to_string()
    }
}

/// The running state of an [`ActionNoise`] for `N` environments (`N` rows of `|A|`).
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::common::off_policy::{ActionNoise, NoiseProcess};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut ou = NoiseProcess::new(ActionNoise::OrnsteinUhlenbeck { sigma: 0.3 }, 2, 1);
/// let (first, second) = (ou.sample(&mut rng), ou.sample(&mut rng));
/// assert!((first[0] - second[0]).abs() < 0.3 * 0.1 * 5.0); // one step moves it by about σ√dt
/// ou.reset(1);
/// assert_eq!(ou.state()[1], 0.0);
/// assert_ne!(ou.state()[0], 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct NoiseProcess {
    kind: ActionNoise,
    /// `|A|`.
    dim: usize,
    /// `x_t`, row-major `N × |A|`.
    state: Vec<f64>,
}

impl NoiseProcess {
    /// A process for `copies` environments' actions of dimension `dim`, starting at 0.
    pub fn new(kind: ActionNoise, copies: usize, dim: usize) -> Self {
        NoiseProcess {
            kind,
            dim,
            state: vec![0.0; copies * dim],
        }
    }

    /// The next noise, row-major `N × |A|`.
    pub fn sample(&mut self, rng: &mut (impl Rng + ?Sized)) -> Vec<f32> {
        match self.kind {
            ActionNoise::None => vec![0.0; self.state.len()],
            ActionNoise::Normal { sigma } => (0..self.state.len())
                .map(|_| (sigma * standard_normal(rng)) as f32)
                .collect(),
            ActionNoise::OrnsteinUhlenbeck { sigma } => {
                let (theta, dt) = (ActionNoise::OU_THETA, ActionNoise::OU_DT);
                for x in &mut self.state {
                    *x += -theta * *x * dt + sigma * dt.sqrt() * standard_normal(rng);
                }
                self.state.iter().map(|&x| x as f32).collect()
            }
        }
    }

    /// Copy `copy`'s process back to 0 (at the start of its episode).
    pub fn reset(&mut self, copy: usize) {
        let d = self.dim;
        self.state[copy * d..(copy + 1) * d].fill(0.0);
    }

    /// The Ornstein–Uhlenbeck state `x_t` (zeros for the other kinds).
    pub fn state(&self) -> &[f64] {
        &self.state
    }

    /// `clip(ã + ε, −1, 1)` for a policy's action rows `(N, |A|)` and the next noise `ε`.
    pub fn add_to(&mut self, unit: Array2<f32>, rng: &mut (impl Rng + ?Sized)) -> Array2<f32> {
        let epsilon = self.sample(rng);
        let mut noisy = unit;
        for (a, e) in noisy.iter_mut().zip(epsilon) {
            *a = (*a + e).clamp(-1.0, 1.0);
        }
        noisy
    }
}

/// The Ornstein–Uhlenbeck state `x_t` (`name`).
impl Resumable for NoiseProcess {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(name, self.state.clone());
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.state = state.f64s(name, Some(self.state.len()))?;
        Ok(())
    }
}

/// One draw of `N(0, 1)`.
pub fn standard_normal(rng: &mut (impl Rng + ?Sized)) -> f64 {
    StandardNormal.sample(rng)
}

/// `ξ ~ N(0, I)` of shape `(B, d)`, drawn row by row.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::common::off_policy::standard_normal_array;
/// let xi = standard_normal_array::<f64>(4, 2, &mut rand::rngs::StdRng::seed_from_u64(0));
/// assert_eq!(xi.shape(), &[4, 2]);
/// ```
pub fn standard_normal_array<T: Float>(
    batch: usize,
    d: usize,
    rng: &mut (impl Rng + ?Sized),
) -> ArrayD<T> {
    ArrayD::from_shape_simple_fn(ndarray::IxDyn(&[batch, d]), || {
        T::from_f64(standard_normal(rng))
    })
}
