//! Max pooling and flattening, as PyTorch's `nn.MaxPool2d` and `nn.Flatten`.

use autograd::pool::{MaxPool2dOptions, max_pool2d};
use autograd::{Float, Tensor, Var};

use super::Module;
use crate::Bound;

/// PyTorch's `nn.MaxPool2d`: `Y[n, c, p, q] = max` over each (strided, padded, dilated) window,
/// the gradient going to the window's argmax (first on a tie; see [`autograd::pool`]).
///
/// ```
/// use autograd::pool::MaxPool2dOptions;
/// use autograd::prelude::*;
/// use wengert_nn::{MaxPool2d, Module, ParamStore};
///
/// let store = ParamStore::<f64>::new();
/// let pool = MaxPool2d::new(MaxPool2dOptions::new(2));
/// let x = Var::constant(ndarray::Array4::from_shape_fn((1, 1, 4, 4), |(_, _, i, j)| (4 * i + j) as f64));
/// let y = pool.forward(&store.constants(), &x);
/// assert_eq!(y.value().as_slice().unwrap(), &[5.0, 7.0, 13.0, 15.0]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    pub options: MaxPool2dOptions,
}

impl MaxPool2d {
    /// A max pool with the given kernel, stride, padding, dilation and ceil mode.
    pub fn new(options: MaxPool2dOptions) -> Self {
        MaxPool2d { options }
    }
}

impl<T: Float> Module<T> for MaxPool2d {
    fn forward(&self, _params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        max_pool2d(x, &self.options)
    }
}

/// PyTorch's `nn.Flatten`: merges axes `start_dim ..= end_dim` into one (defaults `1` and the
/// last, so `(N, C, H, W)` becomes `(N, C·H·W)`). Negative `end_dim` counts from the end.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::{Flatten, Module, ParamStore};
/// let store = ParamStore::<f32>::new();
/// let x = Var::constant(ndarray::Array4::<f32>::zeros((2, 3, 4, 5)));
/// assert_eq!(Flatten::default().forward(&store.constants(), &x).shape(), &[2, 60]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Flatten {
    pub start_dim: isize,
    pub end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }
}

impl<T: Float> Module<T> for Flatten {
    fn forward(&self, _params: &Bound<'_, T>, x: &Var<T>) -> Var<T> {
        let rank = x.ndim() as isize;
        let axis = |d: isize| if d < 0 { d + rank } else { d };
        let (start, end) = (axis(self.start_dim), axis(self.end_dim));
        if rank == 0 || start < 0 || end >= rank || start > end {
            panic!(
                "flatten: start_dim {} and end_dim {} do not fit an input of shape {:?}",
                self.start_dim,
                self.end_dim,
                x.shape()
            );
        }
        let (start, end) = (start as usize, end as usize);
        let shape = x.shape();
        let mut flat: Vec<usize> = shape[..start].to_vec();
        flat.push(shape[start..=end].iter().product());
        flat.extend_from_slice(&shape[end + 1..]);
        x.reshape(&flat)
    }
}
