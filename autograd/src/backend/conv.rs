//! The 2-D convolution as matrix products (im2col): each image's receptive fields are copied
//! into the columns of a matrix, so that the convolution of group `g` is one product
//!
//! ```text
//! Y_n,g = W_g · cols(X_n)_g        (C_out/G × K_g) · (K_g × L),   K_g = C_in/G · kh · kw,  L = H_out · W_out
//! ```
//!
//! and its two vector-Jacobian products are products too: `X̄_n = col2im(W_gᵀ Ȳ_n,g)` (col2im
//! adds each column back onto the pixels it was read from) and `W̄_g = Σ_n Ȳ_n,g cols(X_n)_gᵀ`.
//! Row `(c, i, j)` of `cols`, column `(p, q)`, holds `X[c, p·s_h − pad_h + i·d_h,
//! q·s_w − pad_w + j·d_w]`, or 0 where that falls in the padding. The products go through
//! [`Float::gemm`] (the engine's GEMM; `f32`'s register tiles where they apply).

use ndarray::{Array2, Array4, ArrayView2, ArrayView4, ArrayViewMut2, s};

use super::gemm::gemm;
use crate::Float;

/// The sizes of one convolution: input `(n, c_in, h, w)`, weight `(c_out, c_in / groups, kh,
/// kw)`, output `(n, c_out, out_h, out_w)`; each pair is `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub c_in: usize,
    pub c_out: usize,
    pub input: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
    pub output: [usize; 2],
}

impl Geometry {
    /// Rows of one group's column matrix: `C_in/G · kh · kw`.
    fn group_rows(&self) -> usize {
        self.c_in / self.groups * self.kernel[0] * self.kernel[1]
    }

    /// Columns of the column matrix: the output's pixels `L`.
    fn pixels(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// For kernel offset `i` along axis `a`: the output positions `p` whose input position
    /// `p·s − pad + i·d` lies inside the image, as a range `[first, end)`.
    fn valid(&self, a: usize, i: usize) -> (usize, usize) {
        let offset = (i * self.dilation[a]) as isize - self.padding[a] as isize;
        let stride = self.stride[a] as isize;
        // p·s + offset ≥ 0  ⇔  p ≥ ⌈−offset / s⌉;  p·s + offset < size  ⇔  p < ⌈(size − offset) / s⌉
        let first = if offset >= 0 {
            0
        } else {
            ((-offset + stride - 1) / stride) as usize
        };
        let end = (self.input[a] as isize - offset + stride - 1).max(0) / stride;
        let end = (end as usize).min(self.output[a]);
        (first.min(end), end)
    }

    /// The input position read by output position `p` at kernel offset `i` along axis `a`
    /// (only called for `p` in [`Geometry::valid`]'s range).
    fn source(&self, a: usize, p: usize, i: usize) -> usize {
        p * self.stride[a] + i * self.dilation[a] - self.padding[a]
    }
}

/// `cols ← im2col(x)` for one image `x` of shape `(c_in, h, w)`; `cols` is
/// `(c_in · kh · kw) × L`, row-major.
fn im2col<T: Float>(x: ArrayView4<T>, image: usize, geometry: &Geometry, cols: &mut [T]) {
    let [kh, kw] = geometry.kernel;
    let [out_h, out_w] = geometry.output;
    let x = x.slice(s![image, .., .., ..]);
    // Stride 1 and an output as wide as the input ("same" padding): the rows of a kernel
    // offset's picture are consecutive rows of the image, shifted, so one copy moves them all
    // and only the columns that fall in the padding are zeroed after it.
    let shifted_block = geometry.stride == [1, 1] && out_w == geometry.input[1];
    let mut row = 0;
    for c in 0..geometry.c_in {
        let plane = x.slice(s![c, .., ..]);
        if let (true, Some(plane)) = (shifted_block, plane.as_slice()) {
            for i in 0..kh {
                let (p_first, p_end) = geometry.valid(0, i);
                for j in 0..kw {
                    let (q_first, q_end) = geometry.valid(1, j);
                    let out = &mut cols[row * out_h * out_w..(row + 1) * out_h * out_w];
                    row += 1;
                    if p_first == p_end || q_first == q_end {
                        out.fill(T::zero());
                        continue;
                    }
                    let start =
                        geometry.source(0, p_first, i) * out_w + geometry.source(1, q_first, j);
                    let (first, end) = (p_first * out_w + q_first, (p_end - 1) * out_w + q_end);
                    out[first..end].copy_from_slice(&plane[start..start + end - first]);
                    out[..first].fill(T::zero());
                    out[end..].fill(T::zero());
                    for p in p_first..p_end {
                        out[p * out_w..p * out_w + q_first].fill(T::zero());
                        out[p * out_w + q_end..(p + 1) * out_w].fill(T::zero());
                    }
                }
            }
            continue;
        }
        for i in 0..kh {
            let (p_first, p_end) = geometry.valid(0, i);
            for j in 0..kw {
                let (q_first, q_end) = geometry.valid(1, j);
                let out = &mut cols[row * out_h * out_w..(row + 1) * out_h * out_w];
                out[..p_first * out_w].fill(T::zero());
                out[p_end * out_w..].fill(T::zero());
                for p in p_first..p_end {
                    let line = &mut out[p * out_w..(p + 1) * out_w];
                    line[..q_first].fill(T::zero());
                    line[q_end..].fill(T::zero());
                    let source = plane.row(geometry.source(0, p, i));
                    let q0 = geometry.source(1, q_first, j);
                    let step = geometry.stride[1];
                    match source.as_slice() {
                        Some(source) if step == 1 => {
                            line[q_first..q_end].copy_from_slice(&source[q0..q0 + q_end - q_first])
                        }
                        _ => {
                            for (k, q) in (q_first..q_end).enumerate() {
                                line[q] = source[q0 + k * step];
                            }
                        }
                    }
                }
                row += 1;
            }
        }
    }
}

/// `x̄ += col2im(cols)` for one image: each entry of `cols` is added onto the input pixel that
/// [`im2col`] read it from (entries in the padding are dropped). `gradient` is `(c_in, h, w)`,
/// row-major.
fn col2im<T: Float>(cols: &[T], geometry: &Geometry, gradient: &mut [T]) {
    let [kh, kw] = geometry.kernel;
    let [h, w] = geometry.input;
    let [out_h, out_w] = geometry.output;
    let mut row = 0;
    for c in 0..geometry.c_in {
        let plane = &mut gradient[c * h * w..(c + 1) * h * w];
        for i in 0..kh {
            let (p_first, p_end) = geometry.valid(0, i);
            for j in 0..kw {
                let (q_first, q_end) = geometry.valid(1, j);
                let from = &cols[row * out_h * out_w..(row + 1) * out_h * out_w];
                for p in p_first..p_end {
                    let line = &from[p * out_w..(p + 1) * out_w];
                    let target = geometry.source(0, p, i) * w;
                    let q0 = geometry.source(1, q_first, j);
                    let step = geometry.stride[1];
                    if step == 1 {
                        let into = &mut plane[target + q0..target + q0 + q_end - q_first];
                        for (sum, &v) in into.iter_mut().zip(&line[q_first..q_end]) {
                            *sum += v;
                        }
                    } else {
                        for (k, q) in (q_first..q_end).enumerate() {
                            plane[target + q0 + k * step] += line[q];
                        }
                    }
                }
                row += 1;
            }
        }
    }
}

/// `Y = conv(X, W)`: `x` is `(n, c_in, h, w)`, `weight` `(c_out, c_in/G, kh, kw)`; returns
/// `(n, c_out, out_h, out_w)`. Shapes are checked by the caller.
pub(crate) fn conv2d<T: Float>(
    x: ArrayView4<T>,
    weight: ArrayView4<T>,
    geometry: &Geometry,
) -> Array4<T> {
    let n = x.shape()[0];
    let (rows, pixels, groups) = (geometry.group_rows(), geometry.pixels(), geometry.groups);
    let out_per_group = geometry.c_out / groups;
    let weight = standard(weight);
    let weight = weight
        .view()
        .into_shape_with_order((geometry.c_out, rows))
        .expect("a standard-layout weight reshapes");
    let mut y = Array4::<T>::uninit((n, geometry.c_out, geometry.output[0], geometry.output[1]));
    let mut cols = vec![T::zero(); rows * groups * pixels];
    for image in 0..n {
        im2col(x, image, geometry, &mut cols);
        let cols = ArrayView2::from_shape((rows * groups, pixels), &cols).expect("sized above");
        let mut y_n = y.slice_mut(s![image, .., .., ..]);
        let mut y_n = y_n
            .view_mut()
            .into_shape_with_order((geometry.c_out, pixels))
            .expect("a fresh array is contiguous");
        for g in 0..groups {
            let out = g * out_per_group..(g + 1) * out_per_group;
            gemm(
                weight.slice(s![out.clone(), ..]),
                cols.slice(s![g * rows..(g + 1) * rows, ..]),
                y_n.slice_mut(s![out, ..]),
            );
        }
    }
    // SAFETY: every image's every group's product stored its block of Y, and the blocks tile Y.
    unsafe { y.assume_init() }
}

/// `X̄ = col2im(Wᵀ Ȳ)`, the gradient of `⟨Ȳ, conv(X, W)⟩` with respect to `X` (the transposed
/// convolution of `Ȳ`): `gradient` is `(n, c_out, out_h, out_w)`; returns `(n, c_in, h, w)`.
pub(crate) fn conv2d_input_grad<T: Float>(
    gradient: ArrayView4<T>,
    weight: ArrayView4<T>,
    geometry: &Geometry,
) -> Array4<T> {
    let n = gradient.shape()[0];
    let (rows, pixels, groups) = (geometry.group_rows(), geometry.pixels(), geometry.groups);
    let out_per_group = geometry.c_out / groups;
    let weight = standard(weight);
    let weight = weight
        .view()
        .into_shape_with_order((geometry.c_out, rows))
        .expect("a standard-layout weight reshapes");
    let gradient = standard(gradient);
    let [h, w] = geometry.input;
    let mut x_bar = Array4::<T>::zeros((n, geometry.c_in, h, w));
    let mut cols = Array2::<T>::uninit((rows * groups, pixels));
    for image in 0..n {
        let g_n = gradient
            .slice(s![image, .., .., ..])
            .into_shape_with_order((geometry.c_out, pixels))
            .expect("standard layout");
        for g in 0..groups {
            let out = g * out_per_group..(g + 1) * out_per_group;
            gemm(
                weight.slice(s![out.clone(), ..]).t(),
                g_n.slice(s![out, ..]),
                cols.slice_mut(s![g * rows..(g + 1) * rows, ..]),
            );
        }
        // SAFETY: the groups' products stored every row block of `cols`.
        let written: &[T] = unsafe {
            std::slice::from_raw_parts(cols.as_ptr().cast::<T>(), rows * groups * pixels)
        };
        let target = x_bar
            .slice_mut(s![image, .., .., ..])
            .into_slice()
            .expect("a fresh array is contiguous");
        col2im(written, geometry, target);
    }
    x_bar
}

/// `W̄_g = Σ_n Ȳ_n,g cols(X_n)_gᵀ`, the gradient of `⟨Ȳ, conv(X, W)⟩` with respect to `W`:
/// returns `(c_out, c_in/G, kh, kw)`.
pub(crate) fn conv2d_weight_grad<T: Float>(
    x: ArrayView4<T>,
    gradient: ArrayView4<T>,
    geometry: &Geometry,
) -> Array4<T> {
    let n = x.shape()[0];
    let (rows, pixels, groups) = (geometry.group_rows(), geometry.pixels(), geometry.groups);
    let out_per_group = geometry.c_out / groups;
    let gradient = standard(gradient);
    let [kh, kw] = geometry.kernel;
    let mut w_bar = Array4::<T>::zeros((geometry.c_out, geometry.c_in / groups, kh, kw));
    let mut cols = vec![T::zero(); rows * groups * pixels];
    for image in 0..n {
        im2col(x, image, geometry, &mut cols);
        let cols = ArrayView2::from_shape((rows * groups, pixels), &cols).expect("sized above");
        let g_n = gradient
            .slice(s![image, .., .., ..])
            .into_shape_with_order((geometry.c_out, pixels))
            .expect("standard layout");
        let mut w_bar_matrix = w_bar
            .view_mut()
            .into_shape_with_order((geometry.c_out, rows))
            .expect("a fresh array is contiguous");
        for g in 0..groups {
            let out = g * out_per_group..(g + 1) * out_per_group;
            accumulate_product(
                g_n.slice(s![out.clone(), ..]),
                cols.slice(s![g * rows..(g + 1) * rows, ..]).t(),
                w_bar_matrix.slice_mut(s![out, ..]),
            );
        }
    }
    w_bar
}

/// `C ← C + A B` on views of any strides.
fn accumulate_product<T: Float>(a: ArrayView2<T>, b: ArrayView2<T>, mut c: ArrayViewMut2<T>) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(k == k2 && c.dim() == (m, n), "accumulate_product: shapes");
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
    let (sc0, sc1) = (sc[0], sc[1]);
    // SAFETY: the views describe valid m×k, k×n and m×n matrices with these strides, and `c`
    // is a distinct mutable view (it aliases neither operand).
    unsafe {
        T::gemm(
            m,
            k,
            n,
            T::one(),
            a.as_ptr(),
            sa[0],
            sa[1],
            b.as_ptr(),
            sb[0],
            sb[1],
            T::one(),
            c.as_mut_ptr(),
            sc0,
            sc1,
        );
    }
}

/// `a` in standard (row-major, contiguous) layout: a view of it if it already is, else a copy.
fn standard<T: Float>(a: ArrayView4<'_, T>) -> ndarray::CowArray<'_, T, ndarray::Ix4> {
    if a.is_standard_layout() {
        a.into()
    } else {
        a.as_standard_layout().into_owned().into()
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array4;

    use super::*;

    /// The convolution by its definition, a sum over channels and kernel offsets.
    fn direct(x: &Array4<f64>, w: &Array4<f64>, geometry: &Geometry) -> Array4<f64> {
        let n = x.shape()[0];
        let per_group_in = geometry.c_in / geometry.groups;
        let per_group_out = geometry.c_out / geometry.groups;
        Array4::from_shape_fn(
            (n, geometry.c_out, geometry.output[0], geometry.output[1]),
            |(b, o, p, q)| {
                let g = o / per_group_out;
                let mut sum = 0.0;
                for c in 0..per_group_in {
                    for i in 0..geometry.kernel[0] {
                        for j in 0..geometry.kernel[1] {
                            let r = (p * geometry.stride[0] + i * geometry.dilation[0]) as isize
                                - geometry.padding[0] as isize;
                            let t = (q * geometry.stride[1] + j * geometry.dilation[1]) as isize
                                - geometry.padding[1] as isize;
                            if r >= 0
                                && t >= 0
                                && (r as usize) < geometry.input[0]
                                && (t as usize) < geometry.input[1]
                            {
                                sum += w[[o, c, i, j]]
                                    * x[[b, g * per_group_in + c, r as usize, t as usize]];
                            }
                        }
                    }
                }
                sum
            },
        )
    }

    #[allow(clippy::too_many_arguments)] // the convolution's own list of sizes, as PyTorch's
    fn geometry(
        c_in: usize,
        c_out: usize,
        input: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
    ) -> Geometry {
        let out = |a: usize| {
            (input[a] + 2 * padding[a] - dilation[a] * (kernel[a] - 1) - 1) / stride[a] + 1
        };
        Geometry {
            c_in,
            c_out,
            input,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            output: [out(0), out(1)],
        }
    }

    fn values(shape: (usize, usize, usize, usize), seed: usize) -> Array4<f64> {
        Array4::from_shape_fn(shape, |(a, b, c, d)| {
            (((a * 131 + b * 31 + c * 7 + d) * 3 + seed) as f64 * 0.618_034).sin()
        })
    }

    #[test]
    fn im2col_products_agree_with_the_definition() {
        let cases = [
            geometry(3, 4, [6, 5], [3, 3], [1, 1], [1, 1], [1, 1], 1),
            geometry(4, 6, [7, 9], [2, 3], [2, 3], [1, 2], [2, 1], 2),
            geometry(6, 3, [5, 5], [3, 1], [1, 2], [0, 0], [1, 3], 3),
            geometry(2, 2, [3, 3], [5, 5], [1, 1], [2, 2], [1, 1], 1),
            // "same" outputs, which im2col copies as shifted blocks
            geometry(2, 3, [5, 7], [3, 3], [1, 1], [2, 2], [2, 2], 1),
            geometry(4, 2, [4, 6], [1, 3], [1, 1], [0, 1], [1, 1], 2),
            geometry(1, 1, [3, 3], [3, 5], [1, 1], [1, 2], [1, 1], 1),
        ];
        for geometry in cases {
            let x = values((2, geometry.c_in, geometry.input[0], geometry.input[1]), 1);
            let w = values(
                (
                    geometry.c_out,
                    geometry.c_in / geometry.groups,
                    geometry.kernel[0],
                    geometry.kernel[1],
                ),
                2,
            );
            let y = conv2d(x.view(), w.view(), &geometry);
            let expected = direct(&x, &w, &geometry);
            assert_eq!(y.shape(), expected.shape(), "{geometry:?}");
            assert!(
                y.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-12),
                "forward {geometry:?}"
            );
            // ⟨Ȳ, conv(X, W)⟩ is linear in each: its gradients satisfy the adjoint identities
            // ⟨Ȳ, conv(X̃, W)⟩ = ⟨X̄(Ȳ, W), X̃⟩ and ⟨Ȳ, conv(X, W̃)⟩ = ⟨W̄(X, Ȳ), W̃⟩.
            let g = values(y.dim(), 3);
            let x_bar = conv2d_input_grad(g.view(), w.view(), &geometry);
            let w_bar = conv2d_weight_grad(x.view(), g.view(), &geometry);
            let (x_probe, w_probe) = (values(x.dim(), 4), values(w.dim(), 5));
            let inner = |a: &Array4<f64>, b: &Array4<f64>| (a * b).sum();
            let lhs = inner(&g, &direct(&x_probe, &w, &geometry));
            assert!(
                (lhs - inner(&x_bar, &x_probe)).abs() < 1e-10,
                "x̄ {geometry:?}"
            );
            let lhs = inner(&g, &direct(&x, &w_probe, &geometry));
            assert!(
                (lhs - inner(&w_bar, &w_probe)).abs() < 1e-10,
                "w̄ {geometry:?}"
            );
        }
    }
}
