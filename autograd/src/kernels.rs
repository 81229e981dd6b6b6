//! Fast paths for the layouts a network produces most: arrays in standard (row-major,
//! contiguous) order, where one operand of a binary op is either the same shape as the other
//! or a block repeated along the other's leading axes — a bias `b` added to a batch `x W`, and
//! its gradient `Σ_rows ḡ` summed back over the batch.
//!
//! They compute exactly what the general `Zip` paths in [`crate::forward`] compute, element for
//! element and in the same order of summation, but on plain slices: no per-row index or
//! `IxDyn` bookkeeping, and loops the compiler can vectorise. Each returns `None` when the
//! layout is not one it handles, and the caller falls back to the general path.

use ndarray::IxDyn;

use crate::{Float, SharedArray};

/// Whether `block` (with any leading size-1 axes ignored) is the trailing part of `shape`,
/// so that an array of shape `shape` in standard order is `block` repeated row after row.
/// `block` may not have more axes than `shape` (the broadcast would then add axes).
fn repeats_along_leading_axes(block: &[usize], shape: &[usize]) -> bool {
    let ones = block.iter().take_while(|&&size| size == 1).count();
    block.len() <= shape.len() && shape.ends_with(&block[ones..])
}

fn from_vec<T: Float>(shape: &[usize], data: Vec<T>) -> SharedArray<T> {
    SharedArray::from_shape_vec(IxDyn(shape), data).expect("the data fills the shape")
}

/// `f(a, b)` elementwise with NumPy broadcasting, for standard-layout operands of equal shape
/// or where one repeats along the other's leading axes.
pub(crate) fn binary<T: Float>(
    a: &SharedArray<T>,
    b: &SharedArray<T>,
    f: impl Fn(T, T) -> T,
) -> Option<SharedArray<T>> {
    let (x, y) = (a.as_slice()?, b.as_slice()?);
    if a.shape() == b.shape() {
        let out = x.iter().zip(y).map(|(&x, &y)| f(x, y)).collect();
        return Some(from_vec(a.shape(), out));
    }
    if !y.is_empty() && repeats_along_leading_axes(b.shape(), a.shape()) {
        let mut out = Vec::with_capacity(x.len());
        for row in x.chunks_exact(y.len()) {
            out.extend(row.iter().zip(y).map(|(&x, &y)| f(x, y)));
        }
        return Some(from_vec(a.shape(), out));
    }
    if !x.is_empty() && repeats_along_leading_axes(a.shape(), b.shape()) {
        let mut out = Vec::with_capacity(y.len());
        for row in y.chunks_exact(x.len()) {
            out.extend(x.iter().zip(row).map(|(&x, &y)| f(x, y)));
        }
        return Some(from_vec(b.shape(), out));
    }
    None
}

/// The sum of a standard-layout `a` over its leading axes down to `shape` (a block that `a`
/// repeats, see [`repeats_along_leading_axes`]): rows are added one after another, as
/// `sum_axis(0)` does.
pub(crate) fn sum_leading_axes<T: Float>(
    a: &SharedArray<T>,
    shape: &[usize],
) -> Option<SharedArray<T>> {
    let x = a.as_slice()?;
    let size: usize = shape.iter().product();
    if size == 0 || x.is_empty() || !repeats_along_leading_axes(shape, a.shape()) {
        return None;
    }
    let mut rows = x.chunks_exact(size);
    let mut out = rows.next()?.to_vec();
    for row in rows {
        for (total, &value) in out.iter_mut().zip(row) {
            *total += value;
        }
    }
    Some(from_vec(shape, out))
}

/// `dst += src` on the contiguous buffers, for arrays of equal shape and layout (returns
/// `false`, doing nothing, for any other pair). The same sums as `zip_mut_with`, bit for bit.
pub(crate) fn add_assign<T: Float>(dst: &mut SharedArray<T>, src: &SharedArray<T>) -> bool {
    if dst.shape() != src.shape() || dst.strides() != src.strides() {
        return false;
    }
    let (Some(src), Some(out)) = (src.as_slice_memory_order(), dst.as_slice_memory_order_mut())
    else {
        return false;
    };
    for (d, &s) in out.iter_mut().zip(src) {
        *d += s;
    }
    true
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, Axis};

    use super::*;

    fn counting(shape: &[usize]) -> SharedArray<f64> {
        let n: usize = shape.iter().product();
        from_vec(shape, (0..n).map(|i| i as f64 * 0.5 - 3.0).collect())
    }

    #[test]
    fn repeated_blocks_are_recognised() {
        assert!(repeats_along_leading_axes(&[4], &[3, 4]));
        assert!(repeats_along_leading_axes(&[1, 4], &[3, 4]));
        assert!(repeats_along_leading_axes(&[5, 4], &[2, 5, 4]));
        assert!(repeats_along_leading_axes(&[], &[2, 5]));
        assert!(!repeats_along_leading_axes(&[3, 1], &[3, 4]));
        assert!(!repeats_along_leading_axes(&[1, 1, 4], &[3, 4]));
    }

    #[test]
    fn binary_agrees_with_broadcasting_zip() {
        for (sa, sb) in [
            (vec![3, 4], vec![3, 4]),
            (vec![3, 4], vec![4]),
            (vec![4], vec![2, 3, 4]),
            (vec![2, 3, 4], vec![1, 3, 4]),
            (vec![2, 3], vec![]),
        ] {
            let (a, b) = (
                counting(&sa),
                counting(&sb).mapv(|v| v + 0.25).into_shared(),
            );
            let fast = binary(&a, &b, |x, y| x * y - x).unwrap();
            let general = crate::forward::binary(&a, &b, "test", |x, y| x * y - x);
            assert_eq!(fast, general, "shapes {sa:?} and {sb:?}");
        }
    }

    #[test]
    fn binary_declines_what_it_does_not_handle() {
        let a = counting(&[3, 4]);
        assert!(binary(&a, &counting(&[3, 1]), |x, y| x + y).is_none());
        let transposed = a.clone().reversed_axes();
        assert!(binary(&transposed, &counting(&[4, 3]), |x, y| x + y).is_none());
    }

    #[test]
    fn add_assign_agrees_with_zip_for_equal_layouts_only() {
        let row_major = counting(&[37, 45]);
        let column_major = counting(&[45, 37]).reversed_axes();
        for a in [&row_major, &column_major] {
            let mut fast = a.clone();
            assert!(add_assign(&mut fast, a));
            let mut general = a.to_owned();
            general.zip_mut_with(a, |x, &y| *x += y);
            assert_eq!(fast, general);
            assert_eq!(
                fast.strides(),
                a.strides(),
                "the destination keeps its layout"
            );
        }
        let mut dst = row_major.clone();
        assert!(!add_assign(&mut dst, &column_major));
        let mut strided = counting(&[6, 8]);
        strided.slice_axis_inplace(ndarray::Axis(1), ndarray::Slice::new(0, None, 2));
        let mut dst = counting(&[6, 4]);
        assert!(
            !add_assign(&mut dst, &strided),
            "a strided view is left to the general path"
        );
    }

    #[test]
    fn leading_sums_agree_with_sum_axis() {
        let a = counting(&[5, 3, 4]);
        let once: ArrayD<f64> = a.sum_axis(Axis(0));
        assert_eq!(sum_leading_axes(&a, &[3, 4]).unwrap(), once);
        assert_eq!(
            sum_leading_axes(&a, &[1, 3, 4]).unwrap(),
            once.clone().insert_axis(Axis(0))
        );
        let twice = sum_leading_axes(&a, &[4]).unwrap();
        let expected = a.sum_axis(Axis(0)).sum_axis(Axis(0));
        assert!((&twice - &expected).iter().all(|d| d.abs() < 1e-12));
        assert!(sum_leading_axes(&a, &[5, 1, 4]).is_none());
    }
}
