//! Gradient transforms: functions of all of a group's gradients, applied before the update.
//!
//! Global-norm clipping (PyTorch's `torch.nn.utils.clip_grad_norm_`) rescales every gradient
//! by one factor when their joint norm is too large, keeping the update's direction:
//!
//! ```text
//! ‖g‖ = √(Σ_i ‖g_i‖²)
//! g_i ← g_i · min(1, c / (‖g‖ + 10⁻⁶))
//! ```
//!
//! Any `FnMut(&mut ParamGradients<T>)` is a transform too, e.g. a layer-wise rescaling.

use autograd::Float;

use crate::ParamGradients;

/// A function of all of a parameter group's gradients, applied before the optimiser's update.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamId};
/// use wengert_nn::optim::GradientTransform;
/// // A user-written transform: normalise each layer's gradient to unit norm.
/// let mut per_layer_unit = |grads: &mut ParamGradients<f64>| {
///     let ids: Vec<ParamId> = grads.iter().map(|(id, _)| id).collect();
///     for id in ids {
///         let g = grads[id].clone();
///         let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
///         grads.set(id, g.mapv(|x| x / norm).into_shared());
///     }
/// };
/// let mut grads = ParamGradients::from_pairs(1, [(ParamId(0), array![3.0, 4.0].into_dyn().into_shared())]);
/// per_layer_unit.transform(&mut grads);
/// assert_eq!(grads[ParamId(0)], array![0.6, 0.8].into_dyn().into_shared());
/// ```
pub trait GradientTransform<T>: Send {
    /// Transforms the group's gradients in place.
    fn transform(&mut self, grads: &mut ParamGradients<T>);

    /// A number worth logging from the last call, if any (clipping: the norm before clipping).
    fn last_value(&self) -> Option<T> {
        None
    }
}

impl<T, F: FnMut(&mut ParamGradients<T>) + Send> GradientTransform<T> for F {
    fn transform(&mut self, grads: &mut ParamGradients<T>) {
        self(grads)
    }
}

/// Rescales `grads` so that their global norm is at most `max_norm` (as PyTorch's
/// `clip_grad_norm_`, including its `10⁻⁶`), returning the norm before clipping.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamId};
/// use wengert_nn::optim::clip_grad_norm;
/// let mut grads = ParamGradients::from_pairs(1, [(ParamId(0), array![3.0f64, 4.0].into_dyn().into_shared())]);
/// let norm = clip_grad_norm(&mut grads, 1.0);
/// assert_eq!(norm, 5.0);
/// assert!((grads.global_norm() - 1.0).abs() < 1e-6);
/// ```
pub fn clip_grad_norm<T: Float>(grads: &mut ParamGradients<T>, max_norm: T) -> T {
    let norm = grads.global_norm();
    let clip_coefficient = max_norm / (norm + T::from_f64(1e-6));
    if clip_coefficient < T::one() {
        grads.scale(clip_coefficient);
    }
    norm
}

/// Global-norm clipping as a [`GradientTransform`]; remembers the last norm for logging.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamStore};
/// use wengert_nn::optim::{ClipGlobalNorm, Optimizer, Sgd, SgdConfig};
/// let mut store = ParamStore::<f64>::new();
/// let w = store.root().param("w", array![0.0, 0.0]);
/// let config = SgdConfig { lr: 1.0, ..SgdConfig::default() };
/// let mut sgd = Sgd::new(store.trainable(), config).with_transform(ClipGlobalNorm::new(0.5));
/// let g = ParamGradients::from_pairs(1, [(w, array![30.0, 40.0].into_dyn().into_shared())]);
/// sgd.step(&store, &g);
/// assert!((store.value(w)[[0]] + 0.3).abs() < 1e-6); // the step has length 0.5
/// assert_eq!(sgd.groups()[0].transforms[0].last_value(), Some(50.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipGlobalNorm<T> {
    /// The largest allowed global norm `c`.
    pub max_norm: T,
    /// The global norm before clipping, at the last call.
    pub last_norm: Option<T>,
}

impl<T: Float> ClipGlobalNorm<T> {
    /// Clipping to global norm `max_norm`.
    pub fn new(max_norm: T) -> Self {
        ClipGlobalNorm {
            max_norm,
            last_norm: None,
        }
    }
}

impl<T: Float> GradientTransform<T> for ClipGlobalNorm<T> {
    fn transform(&mut self, grads: &mut ParamGradients<T>) {
        self.last_norm = Some(clip_grad_norm(grads, self.max_norm));
    }

    fn last_value(&self) -> Option<T> {
        self.last_norm
    }
}
