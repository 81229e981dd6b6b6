//! Small dense linear algebra for the controllers: Cholesky, triangular solves, eigenvalues.
//!
//! Only what LQR needs, written out so that it can be read:
//!
//! - **Cholesky.** A symmetric positive-definite `A` factors as `A = L Lᵀ` with `L` lower
//!   triangular, column by column:
//!   `L_jj = √(A_jj − Σ_{k<j} L_jk²)`, `L_ij = (A_ij − Σ_{k<j} L_ik L_jk) / L_jj` for `i > j`.
//!   The quantity under the square root is the `j`-th pivot; `A` is positive definite exactly
//!   when every pivot is positive, so a non-positive (or NaN) pivot is reported as an error
//!   naming it rather than producing a factor full of NaNs.
//! - **Triangular solves.** `L y = b` by forward substitution
//!   `y_i = (b_i − Σ_{k<i} L_ik y_k) / L_ii`, and `Lᵀ x = y` by back substitution
//!   `x_i = (y_i − Σ_{k>i} L_ki x_k) / L_ii`; together they solve `A x = b`, column by column
//!   for a matrix right-hand side, and `A⁻¹ = solve(A, I)`.
//! - **Banded Cholesky.** When `A_ij = 0` for `|i − j| > b` (a band of half-width `b`), so is
//!   `L_ij` for `i − j > b`: the sums above run over `max(0, i − b) ≤ k < j` only, and the
//!   triangular solves over `b` neighbours. Factor and solve cost `O(N b²)` and `O(N b)`
//!   instead of `O(N³)` and `O(N²)`; only the band is stored ([`BandMatrix`]). Direct
//!   collocation's Newton systems are banded this way, with `b` = twice a knot's size.
//! - **Eigenvalues of a real matrix** (for the spectral radius `ρ(A) = max_i |λ_i|`): reduce
//!   `A` to upper Hessenberg form `H = Uᵀ A U` with Householder reflections (an orthogonal
//!   similarity, so the eigenvalues are unchanged), then run the Francis implicit double-shift
//!   QR algorithm on `H` (the EISPACK `hqr` routine). Each sweep chases a bulge built from the
//!   two eigenvalues of the trailing 2×2 block, so complex-conjugate pairs are found in real
//!   arithmetic; a subdiagonal entry that falls below round-off relative to its neighbours
//!   splits the problem, and 1×1 or 2×2 blocks that split off are read off as eigenvalues.
//!   Exceptional shifts at iterations 10 and 20 break cycles.
//!
//! All functions check shapes and return [`LinalgError`] instead of panicking.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use std::fmt;

/// What went wrong in a linear-algebra routine.
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::{spectral_radius, LinalgError};
///
/// let error = spectral_radius(array![[1.0, 2.0]].view()).unwrap_err();
/// assert_eq!(error, LinalgError::NotSquare { rows: 1, cols: 2 });
/// assert_eq!(error.to_string(), "expected a square matrix, got 1×2");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum LinalgError {
    /// The matrix must be square.
    NotSquare {
        /// Rows of the matrix given.
        rows: usize,
        /// Columns of the matrix given.
        cols: usize,
    },
    /// A right-hand side does not have as many rows as the matrix.
    DimensionMismatch {
        /// Rows the matrix has.
        expected: usize,
        /// Rows the right-hand side has.
        found: usize,
    },
    /// Cholesky met a pivot `A_jj − Σ_{k<j} L_jk²` that is not positive (or is NaN).
    NotPositiveDefinite {
        /// Zero-based index `j` of the failing pivot.
        pivot: usize,
        /// Its value.
        value: f64,
    },
    /// The matrix holds a NaN or an infinity.
    NonFinite,
    /// The QR algorithm did not split off an eigenvalue within its iteration budget.
    EigenvaluesNotConverged {
        /// Zero-based index of the eigenvalue being sought when it gave up.
        index: usize,
    },
}

impl fmt::Display for LinalgError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinalgError::NotSquare { rows, cols } => {
                write!(formatter, "expected a square matrix, got {rows}×{cols}")
            }
            LinalgError::DimensionMismatch { expected, found } => write!(
                formatter,
                "right-hand side has {found} rows, the matrix has {expected}"
            ),
            LinalgError::NotPositiveDefinite { pivot, value } => write!(
                formatter,
                "matrix is not positive definite: Cholesky pivot {pivot} is {value:e}"
            ),
            LinalgError::NonFinite => write!(formatter, "matrix holds a NaN or an infinity"),
            LinalgError::EigenvaluesNotConverged { index } => write!(
                formatter,
                "QR algorithm did not converge to eigenvalue {index} within 30 iterations"
            ),
        }
    }
}

impl std::error::Error for LinalgError {}

fn check_square(a: &ArrayView2<f64>) -> Result<usize, LinalgError> {
    let (rows, cols) = a.dim();
    if rows != cols {
        return Err(LinalgError::NotSquare { rows, cols });
    }
    Ok(rows)
}

/// The Cholesky factor `L` of a symmetric positive-definite matrix `A = L Lᵀ`.
///
/// Only the lower triangle of `A` is read.
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::Cholesky;
///
/// let a = array![[4.0, 2.0], [2.0, 3.0]];
/// let cholesky = Cholesky::factor(a.view()).unwrap();
/// assert_eq!(cholesky.L, array![[2.0, 0.0], [1.0, 2.0_f64.sqrt()]]);
/// ```
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    /// Lower-triangular factor; the strict upper triangle is zero.
    pub L: Array2<f64>,
}

impl Cholesky {
    /// Factors `A = L Lᵀ`, or says which pivot was not positive.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::linalg::{Cholesky, LinalgError};
    ///
    /// let indefinite = array![[1.0, 2.0], [2.0, 1.0]];
    /// assert_eq!(
    ///     Cholesky::factor(indefinite.view()),
    ///     Err(LinalgError::NotPositiveDefinite { pivot: 1, value: -3.0 })
    /// );
    /// ```
    #[allow(non_snake_case)]
    pub fn factor(A: ArrayView2<f64>) -> Result<Self, LinalgError> {
        let n = check_square(&A)?;
        let mut L = Array2::<f64>::zeros((n, n));
        for j in 0..n {
            let pivot = A[[j, j]] - (0..j).map(|k| L[[j, k]] * L[[j, k]]).sum::<f64>();
            // `!(pivot > 0)` also catches NaN.
            if !(pivot > 0.0 && pivot.is_finite()) {
                return Err(LinalgError::NotPositiveDefinite {
                    pivot: j,
                    value: pivot,
                });
            }
            let L_jj = pivot.sqrt();
            L[[j, j]] = L_jj;
            for i in (j + 1)..n {
                let dot = (0..j).map(|k| L[[i, k]] * L[[j, k]]).sum::<f64>();
                L[[i, j]] = (A[[i, j]] - dot) / L_jj;
            }
        }
        Ok(Cholesky { L })
    }

    /// Solves `A x = b` as `L y = b`, then `Lᵀ x = y`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::linalg::Cholesky;
    ///
    /// let a = array![[4.0, 2.0], [2.0, 3.0]];
    /// let x = Cholesky::factor(a.view()).unwrap().solve_vector(array![8.0, 7.0].view()).unwrap();
    /// assert!((&a.dot(&x) - &array![8.0, 7.0]).iter().all(|r| r.abs() < 1e-14));
    /// ```
    pub fn solve_vector(&self, b: ArrayView1<f64>) -> Result<Array1<f64>, LinalgError> {
        let column = b.insert_axis(ndarray::Axis(1));
        let x = self.solve_matrix(column)?;
        Ok(x.column(0).to_owned())
    }

    /// Solves `A X = B` for every column of `B`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::linalg::Cholesky;
    ///
    /// let a = array![[4.0, 2.0], [2.0, 3.0]];
    /// let b = array![[1.0, 0.0, 2.0], [0.0, 1.0, 5.0]];
    /// let x = Cholesky::factor(a.view()).unwrap().solve_matrix(b.view()).unwrap();
    /// assert!((&a.dot(&x) - &b).iter().all(|r| r.abs() < 1e-14));
    /// ```
    #[allow(non_snake_case)]
    pub fn solve_matrix(&self, B: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
        let Y = solve_lower_triangular(self.L.view(), B)?;
        solve_upper_triangular(self.L.t(), Y.view())
    }

    /// `A⁻¹ = solve(A, I)`. Prefer [`Cholesky::solve_matrix`] when a product `A⁻¹ B` is wanted.
    ///
    /// ```
    /// use ndarray::{array, Array2};
    /// use wengert_control::linalg::Cholesky;
    ///
    /// let a = array![[4.0, 2.0], [2.0, 3.0]];
    /// let inverse = Cholesky::factor(a.view()).unwrap().inverse();
    /// assert!((&a.dot(&inverse) - &Array2::<f64>::eye(2)).iter().all(|r| r.abs() < 1e-15));
    /// ```
    pub fn inverse(&self) -> Array2<f64> {
        let n = self.L.nrows();
        self.solve_matrix(Array2::eye(n).view())
            .expect("identity has as many rows as L")
    }
}

/// A symmetric matrix with `A_ij = 0` for `|i − j| > b`, storing its lower band only:
/// `band[[i, k]] = A_{i, i−k}` for `0 ≤ k ≤ b`.
///
/// ```
/// use wengert_control::linalg::BandMatrix;
///
/// let mut A = BandMatrix::zeros(4, 1);
/// A.add(2, 1, 3.0);
/// A.add(1, 2, 1.0); // the same entry: A is symmetric
/// assert_eq!((A.get(1, 2), A.get(2, 1), A.get(0, 3)), (4.0, 4.0, 0.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BandMatrix {
    /// `b`, the half-width.
    pub bandwidth: usize,
    /// `band[[i, k]] = A_{i, i−k}`, `N × (b + 1)`.
    pub band: Array2<f64>,
}

#[allow(non_snake_case)]
impl BandMatrix {
    /// The `N × N` zero matrix with half-width `b`.
    pub fn zeros(N: usize, b: usize) -> Self {
        BandMatrix {
            bandwidth: b,
            band: Array2::zeros((N, b + 1)),
        }
    }

    /// `N`.
    pub fn size(&self) -> usize {
        self.band.nrows()
    }

    /// `A_ij` (zero outside the band).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        let (i, j) = if i >= j { (i, j) } else { (j, i) };
        if i - j > self.bandwidth {
            0.0
        } else {
            self.band[[i, i - j]]
        }
    }

    /// `A_ij += value` (and so `A_ji`); panics outside the band.
    pub fn add(&mut self, i: usize, j: usize, value: f64) {
        let (i, j) = if i >= j { (i, j) } else { (j, i) };
        assert!(
            i - j <= self.bandwidth,
            "BandMatrix::add: entry ({i}, {j}) is outside the band of half-width {}",
            self.bandwidth
        );
        self.band[[i, i - j]] += value;
    }

    /// The full matrix (for tests and small problems).
    pub fn to_dense(&self) -> Array2<f64> {
        let N = self.size();
        Array2::from_shape_fn((N, N), |(i, j)| self.get(i, j))
    }
}

/// The Cholesky factor `L` of a banded symmetric positive-definite matrix, kept in band form.
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::{BandMatrix, BandedCholesky};
///
/// // The tridiagonal [2 −1; −1 2 −1; −1 2] (b = 1).
/// let mut A = BandMatrix::zeros(3, 1);
/// for i in 0..3 { A.add(i, i, 2.0); }
/// for i in 1..3 { A.add(i, i - 1, -1.0); }
/// let x = BandedCholesky::factor(&A).unwrap().solve(array![1.0, 0.0, 1.0].view()).unwrap();
/// assert!((&x - &array![1.0, 1.0, 1.0]).iter().all(|e| e.abs() < 1e-15));
/// ```
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq)]
pub struct BandedCholesky {
    /// `L`, lower triangular with the band of `A`.
    pub L: BandMatrix,
}

#[allow(non_snake_case)]
impl BandedCholesky {
    /// Factors `A = L Lᵀ` within the band, or says which pivot was not positive.
    ///
    /// ```
    /// use wengert_control::linalg::{BandMatrix, BandedCholesky, LinalgError};
    ///
    /// let mut A = BandMatrix::zeros(2, 1);
    /// A.add(0, 0, 1.0);
    /// A.add(1, 0, 2.0);
    /// A.add(1, 1, 1.0);
    /// assert_eq!(BandedCholesky::factor(&A).unwrap_err(),
    ///     LinalgError::NotPositiveDefinite { pivot: 1, value: -3.0 });
    /// ```
    pub fn factor(A: &BandMatrix) -> Result<Self, LinalgError> {
        let (N, b) = (A.size(), A.bandwidth);
        let mut L = BandMatrix::zeros(N, b);
        for i in 0..N {
            let first = i.saturating_sub(b);
            for j in first..=i {
                let mut sum = A.band[[i, i - j]];
                for k in first..j {
                    sum -= L.band[[i, i - k]] * L.band[[j, j - k]];
                }
                if i == j {
                    if sum.is_nan() || sum <= 0.0 {
                        return Err(LinalgError::NotPositiveDefinite {
                            pivot: i,
                            value: sum,
                        });
                    }
                    L.band[[i, 0]] = sum.sqrt();
                } else {
                    L.band[[i, i - j]] = sum / L.band[[j, 0]];
                }
            }
        }
        Ok(BandedCholesky { L })
    }

    /// Solves `A x = r` by `L y = r` and `Lᵀ x = y` over the band.
    pub fn solve(&self, r: ArrayView1<f64>) -> Result<Array1<f64>, LinalgError> {
        let L = &self.L;
        let (N, b) = (L.size(), L.bandwidth);
        if r.len() != N {
            return Err(LinalgError::DimensionMismatch {
                expected: N,
                found: r.len(),
            });
        }
        let mut y = r.to_owned();
        for i in 0..N {
            for k in i.saturating_sub(b)..i {
                y[i] -= L.band[[i, i - k]] * y[k];
            }
            y[i] /= L.band[[i, 0]];
        }
        let mut x = y;
        for i in (0..N).rev() {
            for k in i + 1..(i + b + 1).min(N) {
                x[i] -= L.band[[k, k - i]] * x[k];
            }
            x[i] /= L.band[[i, 0]];
        }
        Ok(x)
    }
}

/// Solves `L X = B` for lower-triangular `L` by forward substitution (the strict upper triangle
/// of `L` is not read).
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::solve_lower_triangular;
///
/// let l = array![[2.0, 0.0], [1.0, 4.0]];
/// let x = solve_lower_triangular(l.view(), array![[2.0], [9.0]].view()).unwrap();
/// assert_eq!(x, array![[1.0], [2.0]]);
/// ```
#[allow(non_snake_case)]
pub fn solve_lower_triangular(
    L: ArrayView2<f64>,
    B: ArrayView2<f64>,
) -> Result<Array2<f64>, LinalgError> {
    let n = check_square(&L)?;
    if B.nrows() != n {
        return Err(LinalgError::DimensionMismatch {
            expected: n,
            found: B.nrows(),
        });
    }
    let mut X = B.to_owned();
    for column in 0..X.ncols() {
        for i in 0..n {
            let dot = (0..i).map(|k| L[[i, k]] * X[[k, column]]).sum::<f64>();
            X[[i, column]] = (X[[i, column]] - dot) / L[[i, i]];
        }
    }
    Ok(X)
}

/// Solves `U X = B` for upper-triangular `U` by back substitution (the strict lower triangle
/// of `U` is not read).
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::solve_upper_triangular;
///
/// let u = array![[2.0, 1.0], [0.0, 4.0]];
/// let x = solve_upper_triangular(u.view(), array![[4.0], [8.0]].view()).unwrap();
/// assert_eq!(x, array![[1.0], [2.0]]);
/// ```
#[allow(non_snake_case)]
pub fn solve_upper_triangular(
    U: ArrayView2<f64>,
    B: ArrayView2<f64>,
) -> Result<Array2<f64>, LinalgError> {
    let n = check_square(&U)?;
    if B.nrows() != n {
        return Err(LinalgError::DimensionMismatch {
            expected: n,
            found: B.nrows(),
        });
    }
    let mut X = B.to_owned();
    for column in 0..X.ncols() {
        for i in (0..n).rev() {
            let dot = ((i + 1)..n)
                .map(|k| U[[i, k]] * X[[k, column]])
                .sum::<f64>();
            X[[i, column]] = (X[[i, column]] - dot) / U[[i, i]];
        }
    }
    Ok(X)
}

/// A complex eigenvalue `re + i·im` of a real matrix.
///
/// ```
/// use wengert_control::linalg::Eigenvalue;
///
/// assert_eq!(Eigenvalue { re: 3.0, im: -4.0 }.modulus(), 5.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eigenvalue {
    /// Real part.
    pub re: f64,
    /// Imaginary part; complex eigenvalues of a real matrix come in conjugate pairs `±im`.
    pub im: f64,
}

impl Eigenvalue {
    /// `|λ| = √(re² + im²)`, computed without overflow.
    ///
    /// ```
    /// use wengert_control::linalg::Eigenvalue;
    ///
    /// assert_eq!(Eigenvalue { re: -2.0, im: 0.0 }.modulus(), 2.0);
    /// ```
    pub fn modulus(&self) -> f64 {
        self.re.hypot(self.im)
    }
}

/// Reduces a square matrix to upper Hessenberg form `H = Uᵀ A U` (zero below the first
/// subdiagonal) by Householder reflections.
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::hessenberg;
///
/// let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]];
/// let h = hessenberg(a.view()).unwrap();
/// assert_eq!(h[[2, 0]], 0.0);
/// // A similarity transform keeps the trace.
/// assert!((h.diag().sum() - 16.0).abs() < 1e-12);
/// ```
#[allow(non_snake_case)]
pub fn hessenberg(A: ArrayView2<f64>) -> Result<Array2<f64>, LinalgError> {
    let n = check_square(&A)?;
    if A.iter().any(|a| !a.is_finite()) {
        return Err(LinalgError::NonFinite);
    }
    let mut H = A.to_owned();
    for k in 0..n.saturating_sub(2) {
        // Householder vector w with (I − 2 w wᵀ) x = α e₁ for x = H[k+1.., k].
        let x = H.slice(ndarray::s![k + 1.., k]).to_owned();
        let norm_x = x.dot(&x).sqrt();
        if norm_x == 0.0 {
            continue;
        }
        let alpha = if x[0] > 0.0 { -norm_x } else { norm_x };
        let mut w = x;
        w[0] -= alpha;
        let norm_w = w.dot(&w).sqrt();
        if norm_w == 0.0 {
            continue;
        }
        w /= norm_w;
        // H ← P H P with P = diag(I, I − 2 w wᵀ): rows k+1.. from the left, columns from the right.
        let mut rows = H.slice_mut(ndarray::s![k + 1.., ..]);
        let wT_rows = w.dot(&rows);
        for (i, w_i) in w.iter().enumerate() {
            for (j, &projection) in wT_rows.iter().enumerate() {
                rows[[i, j]] -= 2.0 * w_i * projection;
            }
        }
        let mut columns = H.slice_mut(ndarray::s![.., k + 1..]);
        let columns_w = columns.dot(&w);
        for (i, &projection) in columns_w.iter().enumerate() {
            for (j, w_j) in w.iter().enumerate() {
                columns[[i, j]] -= 2.0 * projection * w_j;
            }
        }
        H[[k + 1, k]] = alpha;
        for i in (k + 2)..n {
            H[[i, k]] = 0.0;
        }
    }
    Ok(H)
}

/// All eigenvalues of a real square matrix, by Hessenberg reduction and the Francis
/// double-shift QR algorithm. Complex-conjugate pairs appear next to each other, `+im` first.
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::eigenvalues;
///
/// // A rotation by 90° scaled by 2 has eigenvalues ±2i.
/// let a = array![[0.0, -2.0], [2.0, 0.0]];
/// let lambda = eigenvalues(a.view()).unwrap();
/// assert!(lambda.iter().all(|l| l.re.abs() < 1e-15 && (l.im.abs() - 2.0).abs() < 1e-15));
/// ```
pub fn eigenvalues(a: ArrayView2<f64>) -> Result<Vec<Eigenvalue>, LinalgError> {
    let hessenberg_form = hessenberg(a)?;
    hessenberg_qr(hessenberg_form)
}

/// Spectral radius `ρ(A) = max_i |λ_i(A)|` (zero for an empty matrix).
///
/// ```
/// use ndarray::array;
/// use wengert_control::linalg::spectral_radius;
///
/// let a = array![[0.5, 1.0], [0.0, -0.9]];
/// assert!((spectral_radius(a.view()).unwrap() - 0.9).abs() < 1e-15);
/// ```
pub fn spectral_radius(a: ArrayView2<f64>) -> Result<f64, LinalgError> {
    Ok(eigenvalues(a)?
        .iter()
        .map(Eigenvalue::modulus)
        .fold(0.0, f64::max))
}

/// EISPACK `hqr`: eigenvalues of an upper Hessenberg matrix `H`, which it overwrites.
///
/// Works with 1-based indices internally (`h(i, j)` is `H[[i-1, j-1]]`) so that it can be
/// checked line by line against the published routine.
#[allow(non_snake_case)]
fn hessenberg_qr(mut H: Array2<f64>) -> Result<Vec<Eigenvalue>, LinalgError> {
    let n = H.nrows();
    let mut wr = vec![0.0; n + 1];
    let mut wi = vec![0.0; n + 1];
    macro_rules! h {
        ($i:expr, $j:expr) => {
            H[[$i - 1, $j - 1]]
        };
    }
    let mut anorm = 0.0;
    for i in 1..=n {
        for j in i.saturating_sub(1).max(1)..=n {
            anorm += f64::abs(h!(i, j));
        }
    }
    let mut nn = n;
    // Accumulated exceptional shifts.
    let mut t = 0.0;
    while nn >= 1 {
        let mut its = 0;
        loop {
            // Look for a single small subdiagonal element to split at.
            let mut l = nn;
            while l >= 2 {
                let mut s = f64::abs(h!(l - 1, l - 1)) + f64::abs(h!(l, l));
                if s == 0.0 {
                    s = anorm;
                }
                if f64::abs(h!(l, l - 1)) + s == s {
                    h!(l, l - 1) = 0.0;
                    break;
                }
                l -= 1;
            }
            let mut x = h!(nn, nn);
            if l == nn {
                // One root found.
                wr[nn] = x + t;
                wi[nn] = 0.0;
                nn -= 1;
                break;
            }
            let mut y = h!(nn - 1, nn - 1);
            let mut w = h!(nn, nn - 1) * h!(nn - 1, nn);
            if l == nn - 1 {
                // Two roots found: the eigenvalues of the trailing 2×2 block.
                let p = 0.5 * (y - x);
                let q = p * p + w;
                let mut z = f64::abs(q).sqrt();
                x += t;
                if q >= 0.0 {
                    z = p + z.copysign(p);
                    wr[nn - 1] = x + z;
                    wr[nn] = if z != 0.0 { x - w / z } else { x + z };
                    wi[nn - 1] = 0.0;
                    wi[nn] = 0.0;
                } else {
                    wr[nn - 1] = x + p;
                    wr[nn] = x + p;
                    wi[nn - 1] = z;
                    wi[nn] = -z;
                }
                nn -= 2;
                break;
            }
            if its == 30 {
                return Err(LinalgError::EigenvaluesNotConverged { index: nn - 1 });
            }
            if its == 10 || its == 20 {
                // Exceptional shift.
                t += x;
                for i in 1..=nn {
                    h!(i, i) -= x;
                }
                let s = f64::abs(h!(nn, nn - 1)) + f64::abs(h!(nn - 1, nn - 2));
                x = 0.75 * s;
                y = x;
                w = -0.4375 * s * s;
            }
            its += 1;
            // Form the shift and look for two consecutive small subdiagonal elements.
            let mut m = nn - 2;
            let (mut p, mut q, mut r);
            loop {
                let z = h!(m, m);
                r = x - z;
                let s = y - z;
                p = (r * s - w) / h!(m + 1, m) + h!(m, m + 1);
                q = h!(m + 1, m + 1) - z - r - s;
                r = h!(m + 2, m + 1);
                let s = f64::abs(p) + f64::abs(q) + f64::abs(r);
                p /= s;
                q /= s;
                r /= s;
                if m == l {
                    break;
                }
                let u = f64::abs(h!(m, m - 1)) * (f64::abs(q) + f64::abs(r));
                let v = f64::abs(p)
                    * (f64::abs(h!(m - 1, m - 1)) + f64::abs(z) + f64::abs(h!(m + 1, m + 1)));
                if u + v == v {
                    break;
                }
                m -= 1;
            }
            for i in (m + 2)..=nn {
                h!(i, i - 2) = 0.0;
                if i != m + 2 {
                    h!(i, i - 3) = 0.0;
                }
            }
            // Double QR step on rows l..nn and columns m..nn.
            for k in m..nn {
                if k != m {
                    p = h!(k, k - 1);
                    q = h!(k + 1, k - 1);
                    r = 0.0;
                    if k != nn - 1 {
                        r = h!(k + 2, k - 1);
                    }
                    x = f64::abs(p) + f64::abs(q) + f64::abs(r);
                    if x != 0.0 {
                        p /= x;
                        q /= x;
                        r /= x;
                    }
                }
                let s = (p * p + q * q + r * r).sqrt().copysign(p);
                if s != 0.0 {
                    if k == m {
                        if l != m {
                            h!(k, k - 1) = -h!(k, k - 1);
                        }
                    } else {
                        h!(k, k - 1) = -s * x;
                    }
                    p += s;
                    x = p / s;
                    y = q / s;
                    let z = r / s;
                    q /= p;
                    r /= p;
                    for j in k..=nn {
                        let mut p = h!(k, j) + q * h!(k + 1, j);
                        if k != nn - 1 {
                            p += r * h!(k + 2, j);
                            h!(k + 2, j) -= p * z;
                        }
                        h!(k + 1, j) -= p * y;
                        h!(k, j) -= p * x;
                    }
                    let mmin = if nn < k + 3 { nn } else { k + 3 };
                    for i in l..=mmin {
                        let mut p = x * h!(i, k) + y * h!(i, k + 1);
                        if k != nn - 1 {
                            p += z * h!(i, k + 2);
                            h!(i, k + 2) -= p * r;
                        }
                        h!(i, k + 1) -= p * q;
                        h!(i, k) -= p;
                    }
                }
            }
        }
    }
    Ok((1..=n)
        .map(|i| Eigenvalue {
            re: wr[i],
            im: wi[i],
        })
        .collect())
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;
    use ndarray::array;

    fn max_abs_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        (a - b).iter().fold(0.0, |m, d| m.max(d.abs()))
    }

    /// Deterministic pseudo-random numbers in [-1, 1) (a linear congruential generator), so the
    /// tests need no `rand`.
    fn pseudo_random_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        Array2::from_shape_fn((rows, cols), |_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
    }

    /// Matches each expected eigenvalue to the nearest unmatched one found.
    fn assert_eigenvalues(A: &Array2<f64>, expected: &[(f64, f64)], tolerance: f64) {
        let mut found = eigenvalues(A.view()).unwrap();
        assert_eq!(found.len(), expected.len(), "found {found:?}");
        for &(re, im) in expected {
            let distance = |l: &Eigenvalue| (l.re - re).hypot(l.im - im);
            let nearest = (0..found.len())
                .min_by(|&i, &j| distance(&found[i]).total_cmp(&distance(&found[j])))
                .unwrap();
            assert!(
                distance(&found[nearest]) <= tolerance,
                "expected {re} + {im}i, nearest found {:?} (matrix {A})",
                found[nearest]
            );
            found.swap_remove(nearest);
        }
    }

    /// Companion matrix of the monic polynomial with the given coefficients
    /// `z^n + a_{n-1} z^{n-1} + … + a_0` (`coefficients = [a_0, …, a_{n-1}]`).
    fn companion(coefficients: &[f64]) -> Array2<f64> {
        let n = coefficients.len();
        let mut A = Array2::zeros((n, n));
        for i in 1..n {
            A[[i, i - 1]] = 1.0;
        }
        for (i, a) in coefficients.iter().enumerate() {
            A[[i, n - 1]] = -a;
        }
        A
    }

    #[test]
    fn cholesky_reconstructs_a_random_spd_matrix() {
        let M = pseudo_random_matrix(6, 6, 1);
        let A = M.dot(&M.t()) + Array2::<f64>::eye(6);
        let cholesky = Cholesky::factor(A.view()).unwrap();
        assert!(max_abs_difference(&cholesky.L.dot(&cholesky.L.t()), &A) < 1e-13);
        for i in 0..6 {
            for j in (i + 1)..6 {
                assert_eq!(cholesky.L[[i, j]], 0.0);
            }
        }
        let inverse = cholesky.inverse();
        assert!(max_abs_difference(&A.dot(&inverse), &Array2::eye(6)) < 1e-12);
    }

    #[test]
    fn banded_cholesky_agrees_with_the_dense_one_on_a_random_band() {
        let (N, b) = (30, 5);
        let M = pseudo_random_matrix(N, N, 7);
        let mut A = BandMatrix::zeros(N, b);
        for i in 0..N {
            for j in i.saturating_sub(b)..=i {
                // A = Mᵀ M restricted to the band, plus a dominant diagonal: SPD.
                let entry = M.column(i).dot(&M.column(j)) * 0.1;
                A.add(
                    i,
                    j,
                    if i == j {
                        entry + 2.0 * b as f64
                    } else {
                        entry
                    },
                );
            }
        }
        let dense = Cholesky::factor(A.to_dense().view()).unwrap();
        let banded = BandedCholesky::factor(&A).unwrap();
        // The band of L holds its lower triangle (get mirrors it above the diagonal).
        let lower = Array2::from_shape_fn(
            (N, N),
            |(i, j)| {
                if i >= j { banded.L.get(i, j) } else { 0.0 }
            },
        );
        assert!(max_abs_difference(&dense.L, &lower) < 1e-12);
        let r = pseudo_random_matrix(N, 1, 3).column(0).to_owned();
        let x = banded.solve(r.view()).unwrap();
        let residual = A.to_dense().dot(&x) - &r;
        assert!(residual.iter().all(|e| e.abs() < 1e-12), "{residual}");
    }

    #[test]
    fn cholesky_names_the_failing_pivot() {
        let semidefinite = array![[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]];
        assert_eq!(
            Cholesky::factor(semidefinite.view()),
            Err(LinalgError::NotPositiveDefinite {
                pivot: 2,
                value: 0.0
            })
        );
        let with_nan = array![[f64::NAN]];
        assert!(matches!(
            Cholesky::factor(with_nan.view()),
            Err(LinalgError::NotPositiveDefinite { pivot: 0, .. })
        ));
    }

    #[test]
    fn shapes_are_checked() {
        let rectangular = Array2::<f64>::zeros((2, 3));
        assert_eq!(
            Cholesky::factor(rectangular.view()),
            Err(LinalgError::NotSquare { rows: 2, cols: 3 })
        );
        let cholesky = Cholesky::factor(Array2::<f64>::eye(2).view()).unwrap();
        assert_eq!(
            cholesky.solve_vector(Array1::zeros(3).view()),
            Err(LinalgError::DimensionMismatch {
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            eigenvalues(rectangular.view()),
            Err(LinalgError::NotSquare { rows: 2, cols: 3 })
        );
        assert_eq!(
            eigenvalues(array![[f64::INFINITY]].view()),
            Err(LinalgError::NonFinite)
        );
    }

    #[test]
    fn triangular_solves_invert_random_triangles() {
        let M = pseudo_random_matrix(5, 5, 2) + Array2::<f64>::eye(5) * 3.0;
        let lower = Array2::from_shape_fn((5, 5), |(i, j)| if i >= j { M[[i, j]] } else { 0.0 });
        let B = pseudo_random_matrix(5, 3, 3);
        let X = solve_lower_triangular(lower.view(), B.view()).unwrap();
        assert!(max_abs_difference(&lower.dot(&X), &B) < 1e-13);
        let upper = lower.t().to_owned();
        let X = solve_upper_triangular(upper.view(), B.view()).unwrap();
        assert!(max_abs_difference(&upper.dot(&X), &B) < 1e-13);
    }

    #[test]
    fn hessenberg_is_an_orthogonal_similarity() {
        let A = pseudo_random_matrix(7, 7, 4);
        let H = hessenberg(A.view()).unwrap();
        for i in 0..7_usize {
            for j in 0..i.saturating_sub(1) {
                assert_eq!(H[[i, j]], 0.0);
            }
        }
        // Similarity keeps the trace, and orthogonality keeps the Frobenius norm.
        assert!((H.diag().sum() - A.diag().sum()).abs() < 1e-13);
        let frobenius = |m: &Array2<f64>| m.iter().map(|a| a * a).sum::<f64>();
        assert!((frobenius(&H) - frobenius(&A)).abs() < 1e-12);
    }

    #[test]
    fn eigenvalues_of_small_and_degenerate_matrices() {
        assert_eq!(eigenvalues(Array2::<f64>::zeros((0, 0)).view()), Ok(vec![]));
        assert_eigenvalues(&array![[-3.5]], &[(-3.5, 0.0)], 0.0);
        assert_eigenvalues(&Array2::zeros((3, 3)), &[(0.0, 0.0); 3], 0.0);
        assert_eigenvalues(
            &array![[2.0, 1.0], [1.0, 2.0]],
            &[(1.0, 0.0), (3.0, 0.0)],
            1e-15,
        );
        // A Jordan block: a defective eigenvalue.
        assert_eigenvalues(
            &array![[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]],
            &[(2.0, 0.0); 3],
            1e-12,
        );
    }

    #[test]
    fn eigenvalues_of_a_rotation_are_a_conjugate_pair() {
        let (r, theta) = (0.9_f64, 0.7_f64);
        let A = array![
            [r * theta.cos(), -r * theta.sin()],
            [r * theta.sin(), r * theta.cos()]
        ];
        assert_eigenvalues(
            &A,
            &[
                (r * theta.cos(), r * theta.sin()),
                (r * theta.cos(), -r * theta.sin()),
            ],
            1e-15,
        );
        assert!((spectral_radius(A.view()).unwrap() - r).abs() < 1e-15);
    }

    #[test]
    fn eigenvalues_of_companion_matrices_are_the_polynomial_roots() {
        // (z − 1)(z − 2)(z − 3)(z² + 1) = z⁵ − 6z⁴ + 12z³ − 12z² + 11z − 6.
        assert_eigenvalues(
            &companion(&[-6.0, 11.0, -12.0, 12.0, -6.0]),
            &[(1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (0.0, 1.0), (0.0, -1.0)],
            1e-10,
        );
        // (z² − 2z + 5)(z² + 0.5z + 0.5)(z + 0.25): roots 1 ± 2i, −0.25 ± i√7/4, −0.25.
        // = z⁵ − 1.25z⁴ + 4.125z³ + 2.625z² + 2.875z + 0.625.
        let root7 = 7.0_f64.sqrt() / 4.0;
        assert_eigenvalues(
            &companion(&[0.625, 2.875, 2.625, 4.125, -1.25]),
            &[
                (1.0, 2.0),
                (1.0, -2.0),
                (-0.25, root7),
                (-0.25, -root7),
                (-0.25, 0.0),
            ],
            1e-10,
        );
        assert!(
            (spectral_radius(companion(&[0.625, 2.875, 2.625, 4.125, -1.25]).view()).unwrap()
                - 5.0_f64.sqrt())
            .abs()
                < 1e-10
        );
    }

    #[test]
    fn eigenvalues_survive_a_similarity_transform() {
        // A = S D S⁻¹ with D block diagonal: rotation blocks 0.8 e^{±0.3i}, 1.5 e^{±2i}, and −0.4.
        let block = |r: f64, theta: f64| {
            array![
                [r * theta.cos(), -r * theta.sin()],
                [r * theta.sin(), r * theta.cos()]
            ]
        };
        let mut D = Array2::<f64>::zeros((5, 5));
        D.slice_mut(ndarray::s![0..2, 0..2])
            .assign(&block(0.8, 0.3));
        D.slice_mut(ndarray::s![2..4, 2..4])
            .assign(&block(1.5, 2.0));
        D[[4, 4]] = -0.4;
        let M = pseudo_random_matrix(5, 5, 5);
        let S = M.dot(&M.t()) + Array2::<f64>::eye(5);
        let S_inverse = Cholesky::factor(S.view()).unwrap().inverse();
        let A = S.dot(&D).dot(&S_inverse);
        assert_eigenvalues(
            &A,
            &[
                (0.8 * 0.3_f64.cos(), 0.8 * 0.3_f64.sin()),
                (0.8 * 0.3_f64.cos(), -0.8 * 0.3_f64.sin()),
                (1.5 * 2.0_f64.cos(), 1.5 * 2.0_f64.sin()),
                (1.5 * 2.0_f64.cos(), -1.5 * 2.0_f64.sin()),
                (-0.4, 0.0),
            ],
            1e-11,
        );
        assert!((spectral_radius(A.view()).unwrap() - 1.5).abs() < 1e-11);
    }

    #[test]
    fn eigenvalues_of_random_matrices_keep_trace_and_determinant() {
        for seed in 0..20 {
            let n = 2 + (seed as usize % 9);
            let A = pseudo_random_matrix(n, n, 100 + seed);
            let lambda = eigenvalues(A.view()).unwrap();
            let trace: f64 = lambda.iter().map(|l| l.re).sum();
            let imaginary_sum: f64 = lambda.iter().map(|l| l.im).sum();
            assert!((trace - A.diag().sum()).abs() < 1e-11, "seed {seed}");
            assert!(imaginary_sum.abs() < 1e-11, "seed {seed}");
            // Product of eigenvalues = det(A), and det(A) = ± product of LU pivots.
            let (mut re, mut im) = (1.0, 0.0);
            for l in &lambda {
                (re, im) = (re * l.re - im * l.im, re * l.im + im * l.re);
            }
            let determinant = determinant_by_elimination(A.clone());
            assert!((re - determinant).abs() < 1e-10 * (1.0 + determinant.abs()));
            assert!(im.abs() < 1e-10 * (1.0 + determinant.abs()));
        }
    }

    fn determinant_by_elimination(mut A: Array2<f64>) -> f64 {
        let n = A.nrows();
        let mut determinant = 1.0;
        for k in 0..n {
            let pivot_row = (k..n)
                .max_by(|&i, &j| A[[i, k]].abs().total_cmp(&A[[j, k]].abs()))
                .unwrap();
            if pivot_row != k {
                for j in 0..n {
                    A.swap([k, j], [pivot_row, j]);
                }
                determinant = -determinant;
            }
            determinant *= A[[k, k]];
            for i in (k + 1)..n {
                let factor = A[[i, k]] / A[[k, k]];
                for j in k..n {
                    A[[i, j]] -= factor * A[[k, j]];
                }
            }
        }
        determinant
    }
}
