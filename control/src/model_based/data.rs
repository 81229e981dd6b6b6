//! The data set of transitions `(s, a, s')` and the normalisation statistics of the model's
//! inputs and outputs.

#![allow(non_snake_case)]

use ndarray::{Array1, Array2, Axis};

/// The smallest standard deviation a normaliser divides by (a constant input or state
/// component would otherwise divide by zero).
pub const MIN_STD: f64 = 1e-6;

/// A data set of transitions `(s, a, s')`, stored row by row.
///
/// ```
/// use ndarray::array;
/// use wengert_control::model_based::Transitions;
///
/// let mut data = Transitions::new(2, 1);
/// data.push(&array![1.0, 2.0], &array![0.5], &array![1.5, 2.5]);
/// let (s, a, s_next) = data.columns(&[0]);
/// assert_eq!((s.dim(), a.dim(), s_next.dim()), ((2, 1), (1, 1), (2, 1)));
/// assert_eq!(data.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct Transitions {
    /// State dimension `n`.
    pub n: usize,
    /// Action dimension `m`.
    pub m: usize,
    s: Vec<f64>,
    a: Vec<f64>,
    s_next: Vec<f64>,
}

impl Transitions {
    /// An empty data set for states of dimension `n` and actions of dimension `m`.
    ///
    /// ```
    /// use wengert_control::model_based::Transitions;
    /// assert!(Transitions::new(3, 1).is_empty());
    /// ```
    pub fn new(n: usize, m: usize) -> Self {
        Transitions {
            n,
            m,
            s: Vec::new(),
            a: Vec::new(),
            s_next: Vec::new(),
        }
    }

    /// Appends one transition.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::Transitions;
    /// let mut data = Transitions::new(1, 1);
    /// data.push(&array![0.0], &array![1.0], &array![1.0]);
    /// assert_eq!(data.len(), 1);
    /// ```
    pub fn push(&mut self, s: &Array1<f64>, a: &Array1<f64>, s_next: &Array1<f64>) {
        assert!(
            s.len() == self.n && a.len() == self.m && s_next.len() == self.n,
            "Transitions::push: lengths {}, {}, {} for n = {}, m = {}",
            s.len(),
            a.len(),
            s_next.len(),
            self.n,
            self.m
        );
        self.s.extend(s.iter());
        self.a.extend(a.iter());
        self.s_next.extend(s_next.iter());
    }

    /// Number of transitions.
    ///
    /// ```
    /// use wengert_control::model_based::Transitions;
    /// assert_eq!(Transitions::new(2, 1).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.s.len() / self.n
    }

    /// Whether there are no transitions.
    ///
    /// ```
    /// use wengert_control::model_based::Transitions;
    /// assert!(Transitions::new(2, 1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The chosen transitions as columns: `s` (`n × B`), `a` (`m × B`), `s'` (`n × B`).
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::Transitions;
    /// let mut data = Transitions::new(1, 1);
    /// data.push(&array![0.0], &array![1.0], &array![1.0]);
    /// data.push(&array![5.0], &array![2.0], &array![7.0]);
    /// let (s, a, s_next) = data.columns(&[1, 0]);
    /// assert_eq!(s, array![[5.0, 0.0]]);
    /// assert_eq!(a, array![[2.0, 1.0]]);
    /// assert_eq!(s_next, array![[7.0, 1.0]]);
    /// ```
    pub fn columns(&self, indices: &[usize]) -> (Array2<f64>, Array2<f64>, Array2<f64>) {
        let gather = |rows: &[f64], width: usize| {
            Array2::from_shape_fn((width, indices.len()), |(i, b)| {
                rows[indices[b] * width + i]
            })
        };
        (
            gather(&self.s, self.n),
            gather(&self.a, self.m),
            gather(&self.s_next, self.n),
        )
    }
}

/// The statistics the model normalises with: `μ_z, σ_z` of the inputs `z = [s; a]` and
/// `μ_Δ, σ_Δ` of the state changes `Δ = s' − s`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::model_based::{Normalisation, Transitions};
///
/// let mut data = Transitions::new(1, 1);
/// data.push(&array![0.0], &array![-1.0], &array![1.0]);
/// data.push(&array![2.0], &array![1.0], &array![5.0]);
/// let normalisation = Normalisation::from_data(&data);
/// assert_eq!(normalisation.input_mean, array![1.0, 0.0]);
/// assert_eq!(normalisation.input_std, array![1.0, 1.0]);
/// assert_eq!(normalisation.delta_mean, array![2.0]); // Δ = 1 and 3
/// assert_eq!(normalisation.delta_std, array![1.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Normalisation {
    /// `μ_z` (length `n + m`).
    pub input_mean: Array1<f64>,
    /// `σ_z` (length `n + m`).
    pub input_std: Array1<f64>,
    /// `μ_Δ` (length `n`).
    pub delta_mean: Array1<f64>,
    /// `σ_Δ` (length `n`).
    pub delta_std: Array1<f64>,
}

impl Normalisation {
    /// No normalisation: zero means, unit standard deviations.
    ///
    /// ```
    /// use wengert_control::model_based::Normalisation;
    /// let normalisation = Normalisation::identity(2, 1);
    /// assert_eq!(normalisation.input_std.len(), 3);
    /// assert!(normalisation.delta_mean.iter().all(|&mu| mu == 0.0));
    /// ```
    pub fn identity(n: usize, m: usize) -> Self {
        Normalisation {
            input_mean: Array1::zeros(n + m),
            input_std: Array1::ones(n + m),
            delta_mean: Array1::zeros(n),
            delta_std: Array1::ones(n),
        }
    }

    /// Means and (population) standard deviations over a data set, each standard deviation at
    /// least [`MIN_STD`].
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::model_based::{MIN_STD, Normalisation, Transitions};
    /// let mut data = Transitions::new(1, 1);
    /// data.push(&array![3.0], &array![0.0], &array![3.0]);
    /// assert_eq!(Normalisation::from_data(&data).delta_std, array![MIN_STD]);
    /// ```
    pub fn from_data(data: &Transitions) -> Self {
        assert!(!data.is_empty(), "Normalisation::from_data: no transitions");
        let all: Vec<usize> = (0..data.len()).collect();
        let (s, a, s_next) = data.columns(&all);
        let z = ndarray::concatenate(Axis(0), &[s.view(), a.view()]).expect("same columns");
        let delta = &s_next - &s;
        let statistics = |x: &Array2<f64>| {
            let mean = x.mean_axis(Axis(1)).expect("not empty");
            let std = x.std_axis(Axis(1), 0.0).mapv(|sigma| sigma.max(MIN_STD));
            (mean, std)
        };
        let (input_mean, input_std) = statistics(&z);
        let (delta_mean, delta_std) = statistics(&delta);
        Normalisation {
            input_mean,
            input_std,
            delta_mean,
            delta_std,
        }
    }
}
