//! Fast paths for the layouts a network produces most: arrays in standard (row-major,
//! contiguous) order, where one operand of a binary op is either the same shape as the other
//! or broadcasts to it by repetition — a bias `b` added to a batch `x W` (a block repeated
//! along leading axes), a row statistic `m` subtracted from its row `x − m` (each element
//! repeated along trailing axes), a scalar — and the sums that are their adjoints; and
//! `gather`/`scatter_add` along one axis, the per-row pick of a class.
//!
//! They compute exactly what the general `Zip` paths in `crate::forward` compute, element for
//! element and in the same order of summation, but on plain slices: no per-row index or
//! `IxDyn` bookkeeping, and loops the compiler can vectorise. Each returns `None` when the
//! layout is not one it handles, and the caller falls back to the general path.

use ndarray::{ArrayView1, IxDyn};

use crate::{Float, SharedArray};

/// How an array of shape `from` broadcasts to `to` when the broadcast only repeats: a block
/// of `block` elements (`from`'s elements, in order) repeated `outer` times along `to`'s
/// leading axes, with each element repeated `inner` times along its trailing axes, so that
/// element `(o, m, t)` of the `(outer, block, inner)` view of `to` is `from[m]`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Repeat {
    outer: usize,
    block: usize,
    inner: usize,
}

/// The [`Repeat`] that broadcasts `from` to `to`, if the axes `from` broadcasts along are a
/// leading and a trailing run of `to`'s axes (`None` for one in the middle, as `(3, 1, 4)`
/// to `(3, 5, 4)`, or when `from` does not broadcast to `to`).
fn repeat(from: &[usize], to: &[usize]) -> Option<Repeat> {
    let ndim = to.len();
    let padding = ndim.checked_sub(from.len())?;
    let size = |axis: usize| {
        if axis < padding {
            1
        } else {
            from[axis - padding]
        }
    };
    let leading = (0..ndim).take_while(|&axis| size(axis) == 1).count();
    let trailing = (leading..ndim)
        .rev()
        .take_while(|&axis| size(axis) == 1)
        .count();
    let middle = leading..ndim - trailing;
    if !middle.clone().all(|axis| size(axis) == to[axis]) {
        return None;
    }
    Some(Repeat {
        outer: to[..leading].iter().product(),
        block: to[middle].iter().product(),
        inner: to[ndim - trailing..].iter().product(),
    })
}

/// Whether `block` (with any leading size-1 axes ignored) is the trailing part of `shape`,
/// so that an array of shape `shape` in standard order is `block` repeated row after row.
/// `block` may not have more axes than `shape` (the broadcast would then add axes).
fn repeats_along_leading_axes(block: &[usize], shape: &[usize]) -> bool {
    matches!(repeat(block, shape), Some(Repeat { inner: 1, .. }))
}

fn from_vec<T: Float>(shape: &[usize], data: Vec<T>) -> SharedArray<T> {
    SharedArray::from_shape_vec(IxDyn(shape), data).expect("the data fills the shape")
}

/// `f(x, y)` over `x` in standard order, with `y` broadcast to it by `r`.
fn zip_repeated<T: Float>(x: &[T], y: &[T], r: Repeat, f: impl Fn(T, T) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(x.len());
    if r.block == 0 || r.inner == 0 {
        return out;
    }
    if r.inner == 1 {
        for row in x.chunks_exact(r.block) {
            out.extend(row.iter().zip(y).map(|(&x, &y)| f(x, y)));
        }
    } else {
        for (run, &y) in x.chunks_exact(r.inner).zip(y.iter().cycle()) {
            out.extend(run.iter().map(|&x| f(x, y)));
        }
    }
    out
}

/// `f(a, b)` elementwise with NumPy broadcasting, for standard-layout operands of equal shape
/// or where one repeats along the other's leading and trailing axes ([`Repeat`]).
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
    if let Some(r) = repeat(b.shape(), a.shape()) {
        return Some(from_vec(a.shape(), zip_repeated(x, y, r, f)));
    }
    if let Some(r) = repeat(a.shape(), b.shape()) {
        let out = zip_repeated(y, x, r, |y, x| f(x, y));
        return Some(from_vec(b.shape(), out));
    }
    None
}

/// A standard-layout `a` broadcast to `shape` and written out ([`Repeat`]).
pub(crate) fn broadcast<T: Float>(a: &SharedArray<T>, shape: &[usize]) -> Option<SharedArray<T>> {
    let x = a.as_slice()?;
    let r = repeat(a.shape(), shape)?;
    let mut out = Vec::with_capacity(r.outer * r.block * r.inner);
    if let [value] = x {
        // One value everywhere (the backward pass of a sum to a scalar): a fill, not one copy
        // of one element per output.
        out.resize(r.outer * r.block * r.inner, *value);
        return Some(from_vec(shape, out));
    }
    for _ in 0..r.outer {
        if r.inner == 1 {
            out.extend_from_slice(x);
        } else {
            for &value in x {
                out.extend(std::iter::repeat_n(value, r.inner));
            }
        }
    }
    Some(from_vec(shape, out))
}

/// The lanes along the last axis of a standard-layout `a`, in order (`None` for a 0-d `a` or
/// an empty last axis).
fn last_axis_lanes<T: Float>(a: &SharedArray<T>) -> Option<std::slice::ChunksExact<'_, T>> {
    let lane = *a.shape().last()?;
    (lane > 0).then(|| a.as_slice().map(|x| x.chunks_exact(lane)))?
}

/// The sums of a standard-layout `a` over its last axis, the lanes summed as ndarray's
/// `sum_axis` sums them (its unrolled fold over a contiguous lane).
pub(crate) fn sum_last_axis<T: Float>(a: &SharedArray<T>) -> Option<Vec<T>> {
    Some(
        last_axis_lanes(a)?
            .map(|lane| ArrayView1::from(lane).sum())
            .collect(),
    )
}

/// The fold of a standard-layout `a` over its last axis, each lane from `init` in order, as
/// ndarray's `fold_axis` folds.
pub(crate) fn fold_last_axis<T: Float>(
    a: &SharedArray<T>,
    init: T,
    f: impl Fn(T, T) -> T,
) -> Option<Vec<T>> {
    Some(
        last_axis_lanes(a)?
            .map(|lane| lane.iter().fold(init, |m, &v| f(m, v)))
            .collect(),
    )
}

/// `a` and `index` of one axis count and in standard layout, with `index` as long as `a`
/// along every axis but `axis`: the `(outer, a's size along axis, inner)` view of `a` and the
/// length of `index` along `axis`.
fn gather_layout<T: Float>(
    a: &SharedArray<T>,
    index: &ndarray::ArrayD<usize>,
    axis: usize,
) -> Option<(usize, usize, usize, usize)> {
    let (shape, index_shape) = (a.shape(), index.shape());
    let fits = shape.len() == index_shape.len()
        && (0..shape.len()).all(|d| d == axis || shape[d] == index_shape[d]);
    if !fits || !a.is_standard_layout() || !index.is_standard_layout() {
        return None;
    }
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    Some((outer, shape[axis], inner, index_shape[axis]))
}

/// `out[o, j, t] = a[o, index[o, j, t], t]` (the `Gather` op) when [`gather_layout`] applies.
pub(crate) fn gather<T: Float>(
    a: &SharedArray<T>,
    index: &ndarray::ArrayD<usize>,
    axis: usize,
) -> Option<SharedArray<T>> {
    let (outer, size, inner, picks) = gather_layout(a, index, axis)?;
    let (x, positions) = (a.as_slice()?, index.as_slice()?);
    let mut out = Vec::with_capacity(positions.len());
    for o in 0..outer {
        for j in 0..picks {
            let row = (o * picks + j) * inner;
            for t in 0..inner {
                out.push(x[(o * size + positions[row + t]) * inner + t]);
            }
        }
    }
    Some(from_vec(index.shape(), out))
}

/// `out[o, index[o, j, t], t] += a[o, j, t]` into zeros of `shape` (the `ScatterAdd` op),
/// adding in `index`'s order as the general path does, when `shape` differs from `index`'s
/// shape at most along `axis`.
pub(crate) fn scatter_add<T: Float>(
    a: &SharedArray<T>,
    index: &ndarray::ArrayD<usize>,
    axis: usize,
    shape: &[usize],
) -> Option<SharedArray<T>> {
    let fits =
        shape.len() == a.ndim() && (0..shape.len()).all(|d| d == axis || shape[d] == a.shape()[d]);
    if a.shape() != index.shape() || !fits {
        return None;
    }
    let size = shape[axis];
    let (outer, picks, inner) = (
        shape[..axis].iter().product::<usize>(),
        a.shape()[axis],
        shape[axis + 1..].iter().product::<usize>(),
    );
    let (x, positions) = (a.as_slice()?, index.as_slice()?);
    let mut out = vec![T::zero(); outer * size * inner];
    for o in 0..outer {
        for j in 0..picks {
            let row = (o * picks + j) * inner;
            for t in 0..inner {
                out[(o * size + positions[row + t]) * inner + t] += x[row + t];
            }
        }
    }
    Some(from_vec(shape, out))
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
    // Blocks of columns whose running totals stay in registers down all the rows (a total
    // stored and reloaded every row waits on the store each time), then the columns left.
    let mut out = x[..size].to_vec();
    let blocks = size / COLUMNS * COLUMNS;
    for (j, totals) in (0..blocks)
        .step_by(COLUMNS)
        .zip(out.chunks_exact_mut(COLUMNS))
    {
        let mut block: [T; COLUMNS] = std::array::from_fn(|c| totals[c]);
        for row in x[size..].chunks_exact(size) {
            for (total, &value) in block.iter_mut().zip(&row[j..j + COLUMNS]) {
                *total += value;
            }
        }
        totals.copy_from_slice(&block);
    }
    for row in x[size..].chunks_exact(size) {
        for (total, &value) in out[blocks..].iter_mut().zip(&row[blocks..]) {
            *total += value;
        }
    }
    Some(from_vec(shape, out))
}

/// Columns summed side by side in [`sum_leading_axes`].
const COLUMNS: usize = 16;

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
    use std::sync::Arc;

    use ndarray::{ArrayD, Axis};

    use super::*;
    use crate::op::Op;

    fn counting(shape: &[usize]) -> SharedArray<f64> {
        let n: usize = shape.iter().product();
        from_vec(shape, (0..n).map(|i| i as f64 * 0.5 - 3.0).collect())
    }

    /// The same values in column-major order: the fast paths decline it, so an op given it
    /// takes the general path.
    fn column_major<T: Float>(a: &SharedArray<T>) -> SharedArray<T> {
        let mut reversed = a
            .to_owned()
            .reversed_axes()
            .as_standard_layout()
            .into_owned();
        reversed = reversed.reversed_axes();
        assert!(a.ndim() < 2 || !reversed.is_standard_layout());
        reversed.into_shared()
    }

    /// NumPy broadcasting by ndarray's `Zip`, the general path's method.
    fn zip_broadcast(
        a: &SharedArray<f64>,
        b: &SharedArray<f64>,
        f: impl Fn(f64, f64) -> f64,
    ) -> SharedArray<f64> {
        let shape = IxDyn(&crate::shape::broadcast_shapes(
            a.shape(),
            b.shape(),
            "test",
        ));
        ndarray::Zip::from(a.broadcast(shape.clone()).unwrap())
            .and(b.broadcast(shape).unwrap())
            .map_collect(|&x, &y| f(x, y))
            .into_shared()
    }

    #[test]
    fn repeats_are_recognised() {
        let r = |outer, block, inner| {
            Some(Repeat {
                outer,
                block,
                inner,
            })
        };
        assert_eq!(repeat(&[4], &[3, 4]), r(3, 4, 1));
        assert_eq!(repeat(&[1, 4], &[3, 4]), r(3, 4, 1));
        assert_eq!(repeat(&[3, 1], &[3, 4]), r(1, 3, 4));
        assert_eq!(repeat(&[5, 1], &[2, 5, 4]), r(2, 5, 4));
        assert_eq!(repeat(&[], &[2, 5]), r(10, 1, 1));
        assert_eq!(repeat(&[1, 1], &[2, 5]), r(10, 1, 1));
        assert_eq!(repeat(&[2, 5], &[2, 5]), r(1, 10, 1));
        assert_eq!(
            repeat(&[3, 1, 4], &[3, 5, 4]),
            None,
            "a repeat in the middle"
        );
        assert_eq!(
            repeat(&[1, 1, 4], &[3, 4]),
            None,
            "more axes than the target"
        );
        assert_eq!(repeat(&[2, 4], &[3, 4]), None, "not a broadcast");
        assert!(repeats_along_leading_axes(&[5, 4], &[2, 5, 4]));
        assert!(!repeats_along_leading_axes(&[3, 1], &[3, 4]));
    }

    #[test]
    fn binary_agrees_with_broadcasting_zip() {
        for (sa, sb) in [
            (vec![3, 4], vec![3, 4]),
            (vec![3, 4], vec![4]),
            (vec![4], vec![2, 3, 4]),
            (vec![2, 3, 4], vec![1, 3, 4]),
            (vec![2, 3], vec![]),
            (vec![3, 4], vec![3, 1]),
            (vec![2, 3, 1], vec![2, 3, 4]),
            (vec![2, 3, 4], vec![3, 1]),
            (vec![1, 3, 1], vec![2, 3, 4]),
            (vec![0, 3], vec![0, 1]),
        ] {
            let (a, b) = (
                counting(&sa),
                counting(&sb).mapv(|v| v + 0.25).into_shared(),
            );
            let fast = binary(&a, &b, |x, y| x * y - x).unwrap();
            assert_eq!(
                fast,
                zip_broadcast(&a, &b, |x, y| x * y - x),
                "shapes {sa:?} and {sb:?}"
            );
        }
    }

    #[test]
    fn broadcast_agrees_with_ndarray() {
        for (from, to) in [
            (vec![4], vec![3, 4]),
            (vec![3, 1], vec![3, 4]),
            (vec![], vec![2, 3]),
            (vec![1, 3, 1], vec![2, 3, 4]),
        ] {
            let a = counting(&from);
            let expected = a.broadcast(IxDyn(&to)).unwrap().to_owned().into_shared();
            assert_eq!(broadcast(&a, &to).unwrap(), expected, "{from:?} to {to:?}");
        }
        assert!(broadcast(&counting(&[3, 1, 4]), &[3, 5, 4]).is_none());
    }

    #[test]
    fn last_axis_sums_and_folds_agree_with_ndarray_bit_for_bit() {
        // Lanes of 2, 9 and 17 elements: shorter than ndarray's eightfold unrolling, and past it.
        for shape in [vec![5, 2], vec![3, 4, 9], vec![2, 17]] {
            let n: usize = shape.iter().product();
            let a = from_vec(
                &shape,
                (0..n).map(|i| (i as f64 * 0.37).sin() * 1e3).collect(),
            );
            let last = Axis(shape.len() - 1);
            let sums = sum_last_axis(&a).unwrap();
            assert_eq!(&sums[..], a.sum_axis(last).as_slice().unwrap());
            let max = |m: f64, x: f64| if x > m { x } else { m };
            let folds = fold_last_axis(&a, f64::NEG_INFINITY, max).unwrap();
            let expected = a.fold_axis(last, f64::NEG_INFINITY, |&m, &x| max(m, x));
            assert_eq!(&folds[..], expected.as_slice().unwrap());
        }
        assert!(sum_last_axis(&counting(&[])).is_none());
        assert!(sum_last_axis(&counting(&[3, 0])).is_none());
    }

    #[test]
    fn gather_and_scatter_agree_with_the_general_path() {
        let a = counting(&[4, 3, 2]);
        for (axis, index_shape) in [(0, [2, 3, 2]), (1, [4, 5, 2]), (2, [4, 3, 3])] {
            let n: usize = index_shape.iter().product();
            let size = a.shape()[axis];
            let index = ArrayD::from_shape_vec(
                IxDyn(&index_shape),
                (0..n).map(|i| (i * 7 + 3) % size).collect(),
            )
            .unwrap();
            let fast = gather(&a, &index, axis).unwrap();
            let op = Op::Gather {
                axis,
                index: Arc::new(index.clone()),
            };
            assert_eq!(
                fast,
                op.forward(&[&column_major(&a)]),
                "gather along {axis}"
            );

            let g = fast.mapv(|v| v * 1.5 + 0.125).into_shared();
            let scattered = scatter_add(&g, &index, axis, a.shape()).unwrap();
            let op = Op::ScatterAdd {
                axis,
                index: Arc::new(index.clone()),
                shape: a.shape().to_vec(),
            };
            assert_eq!(
                scattered,
                op.forward(&[&column_major(&g)]),
                "scatter along {axis}"
            );
        }
        let short = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![0, 1]).unwrap();
        assert!(
            gather(&counting(&[3, 2]), &short, 1).is_none(),
            "an index shorter than the input along another axis is left to the general path"
        );
        let g = counting(&[2, 1]);
        assert!(
            scatter_add(&g, &short, 1, &[3, 2]).is_none(),
            "so is a scatter into an output larger than the index along another axis"
        );
    }

    #[test]
    fn binary_declines_what_it_does_not_handle() {
        let a = counting(&[3, 4]);
        assert!(binary(&counting(&[3, 5, 4]), &counting(&[3, 1, 4]), |x, y| x + y).is_none());
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

        // Two blocks of columns summed in registers and eight columns left, with values whose
        // sums round differently in another order: bit for bit ndarray's sum, row after row.
        let a: SharedArray<f32> = ArrayD::from_shape_fn(vec![37, 40], |i| {
            let k = (i[0] * 40 + i[1]) as f32;
            (k * 0.618_034).sin() * 10f32.powi((i[0] % 7) as i32 - 3)
        })
        .into_shared();
        let expected: ArrayD<f32> = a.sum_axis(Axis(0));
        let sums = sum_leading_axes(&a, &[40]).unwrap();
        assert!(
            sums.iter()
                .zip(&expected)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
    }
}
