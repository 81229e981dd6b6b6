//! Arithmetic operators for [`Var`]: `&a + &b`, `a * 2.0`, `2.0 / &a`, `-a`, with broadcasting.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::tensor::Tensor;
use crate::{Float, Var};

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $scalar_rhs:expr, $scalar_lhs:expr) => {
        impl<T: Float> $trait<&Var<T>> for &Var<T> {
            type Output = Var<T>;
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                Tensor::$method(self, rhs)
            }
        }
        impl<T: Float> $trait<Var<T>> for Var<T> {
            type Output = Var<T>;
            fn $method(self, rhs: Var<T>) -> Var<T> {
                Tensor::$method(&self, &rhs)
            }
        }
        impl<T: Float> $trait<&Var<T>> for Var<T> {
            type Output = Var<T>;
            fn $method(self, rhs: &Var<T>) -> Var<T> {
                Tensor::$method(&self, rhs)
            }
        }
        impl<T: Float> $trait<Var<T>> for &Var<T> {
            type Output = Var<T>;
            fn $method(self, rhs: Var<T>) -> Var<T> {
                Tensor::$method(self, &rhs)
            }
        }
        impl<T: Float> $trait<T> for &Var<T> {
            type Output = Var<T>;
            fn $method(self, rhs: T) -> Var<T> {
                let f: fn(&Var<T>, T) -> Var<T> = $scalar_rhs;
                f(self, rhs)
            }
        }
        impl<T: Float> $trait<T> for Var<T> {
            type Output = Var<T>;
            fn $method(self, rhs: T) -> Var<T> {
                let f: fn(&Var<T>, T) -> Var<T> = $scalar_rhs;
                f(&self, rhs)
            }
        }
        binary_operator!(@scalar_lhs f32, $trait, $method, $scalar_lhs);
        binary_operator!(@scalar_lhs f64, $trait, $method, $scalar_lhs);
    };
    (@scalar_lhs $t:ty, $trait:ident, $method:ident, $scalar_lhs:expr) => {
        impl $trait<&Var<$t>> for $t {
            type Output = Var<$t>;
            fn $method(self, rhs: &Var<$t>) -> Var<$t> {
                let f: fn($t, &Var<$t>) -> Var<$t> = $scalar_lhs;
                f(self, rhs)
            }
        }
        impl $trait<Var<$t>> for $t {
            type Output = Var<$t>;
            fn $method(self, rhs: Var<$t>) -> Var<$t> {
                let f: fn($t, &Var<$t>) -> Var<$t> = $scalar_lhs;
                f(self, &rhs)
            }
        }
    };
}

binary_operator!(Add, add, |a, c| a.add_scalar(c), |c, a| a.add_scalar(c));
binary_operator!(Sub, sub, |a, c| a.add_scalar(-c), |c, a| Tensor::neg(a)
    .add_scalar(c));
binary_operator!(Mul, mul, |a, c| a.mul_scalar(c), |c, a| a.mul_scalar(c));
binary_operator!(Div, div, |a, c| a.mul_scalar(T::one() / c), |c, a| a
    .powi(-1)
    .mul_scalar(c));

impl<T: Float> Neg for &Var<T> {
    type Output = Var<T>;
    fn neg(self) -> Var<T> {
        Tensor::neg(self)
    }
}

impl<T: Float> Neg for Var<T> {
    type Output = Var<T>;
    fn neg(self) -> Var<T> {
        Tensor::neg(&self)
    }
}
