//! The tape (Wengert list): the recorded ops, in the order they ran.
//!
//! A [`Var`] is a value plus, if it is tracked, its position on a tape. Ops on tracked
//! variables append a node — the op, its inputs' values and positions, its output value — so
//! that a backward pass can walk the list in reverse. Ops on constants record nothing.
//! The tape is shared behind a mutex, so variables can be sent to other threads.

use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::custom::Call;
use crate::op::Op;
use crate::tensor::Tensor;
use crate::{Float, IntoArray, SharedArray};

/// A recorded input of a node: its value, and its position if it is tracked.
#[derive(Clone, Debug)]
pub(crate) struct Input<T> {
    pub value: SharedArray<T>,
    pub node: Option<usize>,
}

/// One entry of the Wengert list.
#[derive(Clone, Debug)]
pub(crate) struct Node<T> {
    pub op: Op<T>,
    pub inputs: Vec<Input<T>>,
    pub value: SharedArray<T>,
}

/// The first op that produced a NaN or an infinity, found by anomaly mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// The op's name, e.g. `"log"`; backward-pass products say `"backward of log"`.
    pub op: String,
    /// The shapes of the op's inputs.
    pub input_shapes: Vec<Vec<usize>>,
    /// The node's position on the tape.
    pub node: usize,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (node {}, input shapes {:?}) produced a non-finite value",
            self.op, self.node, self.input_shapes
        )
    }
}

impl std::error::Error for Anomaly {}

pub(crate) struct TapeState<T> {
    /// Shared, so a backward pass can hold a node without copying it or the lock.
    pub nodes: Vec<Arc<Node<T>>>,
    detect_anomaly: bool,
    first_anomaly: Option<Anomaly>,
}

/// A Wengert list: records ops on the variables created from it.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.var(array![1.0, 2.0, 3.0]);
/// let y = (&x * &x).sum_all(); // y = Σ x²
/// let grads = y.backward();
/// assert_eq!(grads[&x], array![2.0, 4.0, 6.0].into_dyn().into_shared());
/// ```
pub struct Tape<T> {
    state: Arc<Mutex<TapeState<T>>>,
}

impl<T> Clone for Tape<T> {
    fn clone(&self) -> Self {
        Tape {
            state: Arc::clone(&self.state),
        }
    }
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Tape<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tape({:p})", Arc::as_ptr(&self.state))
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape {
            state: Arc::new(Mutex::new(TapeState {
                nodes: Vec::new(),
                detect_anomaly: false,
                first_anomaly: None,
            })),
        }
    }

    /// A tracked variable holding `value`: gradients can be taken with respect to it.
    pub fn var(&self, value: impl IntoArray<T>) -> Var<T> {
        let value = value.into_array();
        let node = self.push(Node {
            op: Op::Leaf,
            inputs: Vec::new(),
            value: value.clone(),
        });
        Var {
            value,
            node: Some(NodeRef {
                tape: self.clone(),
                index: node,
            }),
        }
    }

    /// The number of recorded nodes.
    ///
    /// ```
    /// use wengert_autograd::prelude::*;
    /// let tape = Tape::<f32>::new();
    /// let x = tape.var(2.0f32);
    /// let _ = x.exp();
    /// assert_eq!(tape.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().nodes.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Anomaly mode: from now on, check every recorded value (forward and recorded backward)
    /// and every gradient for NaN and infinity, and remember the first op that produced one.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_autograd::prelude::*;
    /// let tape = Tape::<f64>::new();
    /// tape.detect_anomaly(true);
    /// let x = tape.var(array![1.0, -1.0]);
    /// let y = x.log().sum_all();
    /// let found = tape.first_anomaly().unwrap();
    /// assert_eq!(found.op, "log");
    /// assert_eq!(found.input_shapes, vec![vec![2]]);
    /// ```
    pub fn detect_anomaly(&self, on: bool) {
        self.lock().detect_anomaly = on;
    }

    /// Whether anomaly mode is on.
    pub fn is_detecting_anomaly(&self) -> bool {
        self.lock().detect_anomaly
    }

    /// The first op that produced a non-finite value since anomaly mode was switched on.
    pub fn first_anomaly(&self) -> Option<Anomaly> {
        self.lock().first_anomaly.clone()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, TapeState<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn same(&self, other: &Tape<T>) -> bool {
        Arc::ptr_eq(&self.state, &other.state)
    }

    pub(crate) fn push(&self, node: Node<T>) -> usize {
        self.lock().push(node)
    }

    /// Notes a non-finite gradient produced by the backward rule of `node` (anomaly mode).
    pub(crate) fn check_gradient(&self, node: usize, gradient: &SharedArray<T>) {
        let mut state = self.lock();
        if state.detect_anomaly && state.first_anomaly.is_none() && !all_finite(gradient) {
            let recorded = &state.nodes[node];
            state.first_anomaly = Some(Anomaly {
                op: format!("backward of {}", recorded.op.name()),
                input_shapes: recorded
                    .inputs
                    .iter()
                    .map(|i| i.value.shape().to_vec())
                    .collect(),
                node,
            });
        }
    }
}

impl<T: Float> TapeState<T> {
    /// Appends `node` (noting a non-finite value in anomaly mode); returns its position.
    fn push(&mut self, node: Node<T>) -> usize {
        if self.detect_anomaly && self.first_anomaly.is_none() && !all_finite(&node.value) {
            self.first_anomaly = Some(Anomaly {
                op: node.op.name().to_string(),
                input_shapes: node
                    .inputs
                    .iter()
                    .map(|i| i.value.shape().to_vec())
                    .collect(),
                node: self.nodes.len(),
            });
        }
        self.nodes.push(Arc::new(node));
        self.nodes.len() - 1
    }
}

fn all_finite<T: Float>(a: &SharedArray<T>) -> bool {
    a.iter().all(|x| x.is_finite())
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Runs `f` with recording switched off on this thread: every op returns a constant.
/// The previous mode is restored afterwards, even if `f` panics.
///
/// ```
/// use wengert_autograd::prelude::*;
/// let tape = Tape::<f64>::new();
/// let x = tape.var(3.0);
/// let y = no_grad(|| x.exp());
/// assert!(!y.is_tracked());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GRAD_ENABLED.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GRAD_ENABLED.with(|g| g.replace(false)));
    f()
}

/// Whether ops on tracked variables are recorded on this thread (false inside [`no_grad`]).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

#[derive(Clone)]
pub(crate) struct NodeRef<T> {
    pub tape: Tape<T>,
    pub index: usize,
}

/// A value, tracked on a [`Tape`] or constant. Cheap to clone (the array is shared).
///
/// Arithmetic operators work between variables and with scalars:
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let tape = Tape::<f64>::new();
/// let a = tape.var(array![1.0, 2.0]);
/// let b = tape.var(array![3.0, 4.0]);
/// let y = (&a * &b + 2.0 * &a - &b / 2.0).sum_all();
/// assert_eq!(y.item(), (3.0 + 2.0 - 1.5) + (8.0 + 4.0 - 2.0));
/// ```
#[derive(Clone)]
pub struct Var<T> {
    pub(crate) value: SharedArray<T>,
    pub(crate) node: Option<NodeRef<T>>,
}

impl<T: Float> fmt::Debug for Var<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(node) => write!(f, "Var(node {}, {:?})", node.index, self.value),
            None => write!(f, "Var(constant, {:?})", self.value),
        }
    }
}

impl<T: Float> Var<T> {
    /// A constant: a value that no gradient flows into, on no tape.
    pub fn constant(value: impl IntoArray<T>) -> Self {
        Var {
            value: value.into_array(),
            node: None,
        }
    }

    /// The value.
    pub fn value(&self) -> &SharedArray<T> {
        &self.value
    }

    /// Whether the variable is recorded on a tape (so gradients can flow through it).
    pub fn is_tracked(&self) -> bool {
        self.node.is_some()
    }

    /// The tape this variable is recorded on, if any.
    pub fn tape(&self) -> Option<&Tape<T>> {
        self.node.as_ref().map(|n| &n.tape)
    }

    /// The same value as a constant: the stop-gradient.
    ///
    /// ```
    /// use wengert_autograd::prelude::*;
    /// let tape = Tape::<f64>::new();
    /// let x = tape.var(2.0);
    /// let y = (&x * &x.detach()).sum_all(); // d/dx (x · stop(x)) = stop(x)
    /// assert_eq!(y.backward()[&x].sum(), 2.0);
    /// ```
    pub fn detach(&self) -> Var<T> {
        Var {
            value: self.value.clone(),
            node: None,
        }
    }

    pub(crate) fn index(&self) -> Option<usize> {
        self.node.as_ref().map(|n| n.index)
    }

    /// Records a call of a user-defined function with outputs `y₀, …, y_{m−1}`: node `k` is
    /// [`Op::Custom`] on `inputs`, holding `y₀`, and node `k + j` is [`Op::Output`]`(j)` of
    /// node `k`, holding `y_j`. The nodes are pushed under one lock, so that they are adjacent
    /// (the backward sweep finds a call's outputs right after it). Constants when no input is
    /// tracked or recording is off.
    pub(crate) fn apply_call(call: Arc<Call<T>>, inputs: &[&Self]) -> Vec<Self> {
        let values = call.outputs().to_vec();
        let op = Op::Custom(Arc::clone(&call));
        let Some((tape, recorded_inputs)) = recording(&op, inputs) else {
            return values.into_iter().map(Var::constant).collect();
        };
        let first = {
            let mut state = tape.lock();
            let first = state.push(Node {
                op,
                inputs: recorded_inputs,
                value: values[0].clone(),
            });
            for (j, value) in values.iter().enumerate().skip(1) {
                state.push(Node {
                    op: Op::Output(Arc::clone(&call), j),
                    inputs: vec![Input {
                        value: values[0].clone(),
                        node: Some(first),
                    }],
                    value: value.clone(),
                });
            }
            first
        };
        values
            .into_iter()
            .enumerate()
            .map(|(j, value)| Var {
                value,
                node: Some(NodeRef {
                    tape: tape.clone(),
                    index: first + j,
                }),
            })
            .collect()
    }
}

/// The tape that an op on `inputs` is recorded on, with the inputs as it records them; `None`
/// when no input is tracked or recording is off.
fn recording<T: Float>(op: &Op<T>, inputs: &[&Var<T>]) -> Option<(Tape<T>, Vec<Input<T>>)> {
    let tape = inputs.iter().find_map(|v| v.tape())?;
    if !is_grad_enabled() {
        return None;
    }
    let recorded_inputs = inputs
        .iter()
        .map(|v| {
            if let Some(other) = v.tape()
                && !other.same(tape)
            {
                panic!("{}: inputs are recorded on different tapes", op.name());
            }
            Input {
                value: v.value.clone(),
                node: v.index(),
            }
        })
        .collect();
    Some((tape.clone(), recorded_inputs))
}

impl<T: Float> Tensor<T> for Var<T> {
    fn data(&self) -> &SharedArray<T> {
        &self.value
    }

    fn constant(value: SharedArray<T>) -> Self {
        Var { value, node: None }
    }

    fn apply(op: Op<T>, inputs: &[&Self]) -> Self {
        let value = op.forward_on(inputs, |v| &v.value);
        let Some((tape, recorded_inputs)) = recording(&op, inputs) else {
            return Var { value, node: None };
        };
        let index = tape.push(Node {
            op,
            inputs: recorded_inputs,
            value: value.clone(),
        });
        Var {
            value,
            node: Some(NodeRef { tape, index }),
        }
    }
}
