//! Shape arithmetic: NumPy broadcasting and axis bookkeeping. Every failure panics at once
//! with a message naming the op and the shapes involved.

/// The NumPy broadcast of two shapes: align trailing axes; each pair of sizes must be equal
/// or contain a 1, and the result takes the larger.
///
/// ```
/// use wengert_autograd::shape::broadcast_shapes;
/// assert_eq!(broadcast_shapes(&[3, 1, 4], &[5, 4], "add"), vec![3, 5, 4]);
/// ```
///
/// # Panics
/// When the shapes are incompatible, naming `op` and both shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize], op: &str) -> Vec<usize> {
    let ndim = a.len().max(b.len());
    let size = |shape: &[usize], axis: usize| {
        let offset = ndim - shape.len();
        if axis < offset {
            1
        } else {
            shape[axis - offset]
        }
    };
    (0..ndim)
        .map(|axis| match (size(a, axis), size(b, axis)) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => panic!("{op}: shapes {a:?} and {b:?} cannot be broadcast together"),
        })
        .collect()
}

/// Whether `from` broadcasts to exactly `to`.
pub fn broadcasts_to(from: &[usize], to: &[usize]) -> bool {
    from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1)
}

/// Resolves a possibly negative axis (`-1` is the last) against `ndim` axes.
///
/// ```
/// use wengert_autograd::shape::normalize_axis;
/// assert_eq!(normalize_axis(-1, 3, "softmax"), 2);
/// ```
///
/// # Panics
/// When the axis is out of range, naming `op`.
pub fn normalize_axis(axis: isize, ndim: usize, op: &str) -> usize {
    let resolved = if axis < 0 { axis + ndim as isize } else { axis };
    if resolved < 0 || resolved >= ndim as isize {
        panic!("{op}: axis {axis} is out of range for an array with {ndim} axes");
    }
    resolved as usize
}

/// Resolves a list of axes into sorted, distinct, non-negative axes.
///
/// # Panics
/// When an axis is out of range or repeated, naming `op`.
pub fn normalize_axes(axes: &[isize], ndim: usize, op: &str) -> Vec<usize> {
    let mut resolved: Vec<usize> = axes.iter().map(|&a| normalize_axis(a, ndim, op)).collect();
    resolved.sort_unstable();
    let count = resolved.len();
    resolved.dedup();
    if resolved.len() != count {
        panic!("{op}: axes {axes:?} name the same axis twice");
    }
    resolved
}

/// The shape after reducing `axes`: removed, or kept with size 1.
pub fn reduced_shape(shape: &[usize], axes: &[usize], keep_dims: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(axis, &size)| match (axes.contains(&axis), keep_dims) {
            (false, _) => Some(size),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// The number of elements of a shape.
pub fn size_of(shape: &[usize]) -> usize {
    shape.iter().product()
}
