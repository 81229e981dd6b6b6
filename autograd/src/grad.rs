//! Reverse mode: walking the tape backwards from outputs to inputs.
//!
//! Given outputs $y_j$ with cotangents $\bar y_j$ (seeds), reverse mode computes, for every node
//! $v$ between them and the requested inputs, the adjoint
//!
//! $$ \bar v = \sum_{w \text{ uses } v} \Big(\frac{\partial w}{\partial v}\Big)^{\top} \bar w , $$
//!
//! visiting nodes in reverse tape order, so each adjoint is complete before it is propagated.
//! Only nodes that both depend on a requested input and lead to an output are visited.
//!
//! The recorded forward pass is not consumed: any number of backward passes may run over it.
//! With `create_graph` ([`grad_graph`], [`vjp_graph`]) the backward pass is itself recorded,
//! so its results are variables that can be differentiated again.

use std::collections::HashMap;
use std::ops::Index;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

use crate::backprop::vjp as rule;
use crate::op::Op;
use crate::tape::{Input, NodeRef};
use crate::tensor::{Eager, Tensor};
use crate::{Float, SharedArray, Tape, Var};

/// What a backward pass computes on: arrays (a plain pass) or variables (a recorded pass).
pub(crate) trait Adjoint<T: Float>: Tensor<T> {
    fn from_input(tape: &Tape<T>, input: &Input<T>) -> Self;

    /// Adds `other` into `self`.
    fn accumulate(self, other: Self) -> Self {
        self.add(&other)
    }

    /// As a variable (a constant, in a plain pass), for a VJP written with `Var` ops.
    fn to_var(&self) -> Var<T>;

    /// Back from a variable.
    fn from_var(var: Var<T>) -> Self;

    /// A gradient computed on arrays from `parents`; in a recorded pass, a node that stops any
    /// attempt to differentiate it again, naming the function `name`.
    fn once_differentiable(name: &'static str, value: SharedArray<T>, parents: &[&Self]) -> Self;
}

impl<T: Float> Adjoint<T> for Eager<T> {
    fn from_input(_: &Tape<T>, input: &Input<T>) -> Self {
        Eager(input.value.clone())
    }

    fn to_var(&self) -> Var<T> {
        Var::constant(self.0.clone())
    }

    fn from_var(var: Var<T>) -> Self {
        Eager(var.value)
    }

    fn once_differentiable(_: &'static str, value: SharedArray<T>, _: &[&Self]) -> Self {
        Eager(value)
    }

    fn accumulate(mut self, other: Self) -> Self {
        if crate::backend::add_assign(&mut self.0, &other.0) {
            self
        } else if self.shape() == other.shape() {
            self.0.zip_mut_with(&other.0, |s, &o| *s += o);
            self
        } else {
            self.add(&other)
        }
    }
}

impl<T: Float> Adjoint<T> for Var<T> {
    fn from_input(tape: &Tape<T>, input: &Input<T>) -> Self {
        Var {
            value: input.value.clone(),
            node: input.node.map(|index| NodeRef {
                tape: tape.clone(),
                index,
            }),
        }
    }

    fn to_var(&self) -> Var<T> {
        self.clone()
    }

    fn from_var(var: Var<T>) -> Self {
        var
    }

    fn once_differentiable(name: &'static str, value: SharedArray<T>, parents: &[&Self]) -> Self {
        Var::apply(crate::op::Op::OnceDifferentiable { name, value }, parents)
    }
}

/// The reverse sweep. `seeds` pairs output nodes with their cotangents; `targets` are the nodes
/// whose adjoints are wanted (`None`: every leaf reached). Returns the adjoints of the targets
/// that the outputs depend on.
pub(crate) fn reverse_sweep<T: Float, X: Adjoint<T>>(
    tape: &Tape<T>,
    seeds: Vec<(usize, X)>,
    targets: Option<&[usize]>,
) -> HashMap<usize, X> {
    let mut results = HashMap::new();
    let Some(last) = seeds.iter().map(|(i, _)| *i).max() else {
        return results;
    };
    let first = targets.map_or(0, |t| t.iter().copied().min().unwrap_or(last + 1));
    if first > last {
        return results;
    }
    let position = |node: usize| node - first;

    // Forward sweep: which nodes depend on a target (everything, when all leaves are wanted).
    let depends = {
        let state = tape.lock();
        let mut depends = vec![targets.is_none(); last - first + 1];
        if let Some(targets) = targets {
            for &t in targets {
                depends[position(t)] = true;
            }
            for node in first..=last {
                let reaches = state.nodes[node]
                    .inputs
                    .iter()
                    .any(|i| i.node.is_some_and(|k| k >= first && depends[position(k)]));
                depends[position(node)] |= reaches;
            }
        }
        depends
    };
    let mut is_target = vec![false; last - first + 1];
    for &t in targets.unwrap_or(&[]) {
        is_target[position(t)] = true;
    }
    let detect_anomaly = tape.is_detecting_anomaly();

    let mut adjoints: Vec<Option<X>> = (first..=last).map(|_| None).collect();
    for (node, seed) in seeds {
        if node >= first {
            let slot = &mut adjoints[position(node)];
            *slot = Some(match slot.take() {
                Some(previous) => previous.accumulate(seed),
                None => seed,
            });
        }
    }

    // ANCHOR: reverse_sweep
    for node in (first..=last).rev() {
        let Some(adjoint) = adjoints[position(node)].take() else {
            continue;
        };
        if !depends[position(node)] {
            continue;
        }
        let recorded = Arc::clone(&tape.lock().nodes[node]);
        let (op, inputs) = (&recorded.op, &recorded.inputs);
        if is_target[position(node)] || (targets.is_none() && matches!(op, Op::Leaf)) {
            results.insert(node, adjoint.clone());
        }
        if let Op::Output(..) = op {
            // Output j of a call with several outputs: its cotangent waits in its slot for the
            // call (node − j, its input), which is visited later (with zeros for y₀'s cotangent
            // if none arrives).
            let call = &inputs[0];
            let zeros = || X::constant(ArrayD::zeros(call.value.raw_dim()).into_shared());
            adjoints[position(call.node.expect("a call's node"))].get_or_insert_with(zeros);
            adjoints[position(node)] = Some(adjoint);
            continue;
        }
        let wanted = |input: &Input<T>| {
            input
                .node
                .is_some_and(|k| k >= first && depends[position(k)])
        };
        let needs: Vec<bool> = inputs.iter().map(wanted).collect();
        if !needs.contains(&true) {
            continue;
        }
        let x: Vec<X> = inputs.iter().map(|i| X::from_input(tape, i)).collect();
        let y = X::from_input(
            tape,
            &Input {
                value: recorded.value.clone(),
                node: Some(node),
            },
        );
        let gradients = match op {
            // A call with several outputs: the outputs y_j are nodes node + j, whose cotangents
            // wait in their slots (zeros for an output that none reached).
            Op::Custom(call) if call.outputs().len() > 1 => {
                let later = |j: usize| {
                    let value = call.outputs()[j].clone();
                    let cotangent = (node + j <= last)
                        .then(|| adjoints[position(node + j)].take())
                        .flatten()
                        .unwrap_or_else(|| {
                            X::constant(ArrayD::zeros(value.raw_dim()).into_shared())
                        });
                    let output = X::from_input(
                        tape,
                        &Input {
                            value,
                            node: Some(node + j),
                        },
                    );
                    (output, cotangent)
                };
                let (outputs, cotangents): (Vec<X>, Vec<X>) = std::iter::once((y, adjoint))
                    .chain((1..call.outputs().len()).map(later))
                    .unzip();
                call.vjp(&x, &outputs, &cotangents, &needs)
            }
            _ => rule(op, &x, &y, &adjoint, &needs),
        };
        for (input, gradient) in inputs.iter().zip(gradients) {
            let (Some(k), Some(gradient)) = (input.node, gradient) else {
                continue;
            };
            if !wanted(input) {
                continue;
            }
            assert_eq!(
                gradient.shape(),
                input.value.shape(),
                "internal: the backward rule of {} returned a gradient of the wrong shape",
                op.name()
            );
            if detect_anomaly {
                tape.check_gradient(node, gradient.data());
            }
            let slot = &mut adjoints[position(k)];
            *slot = Some(match slot.take() {
                Some(previous) => previous.accumulate(gradient),
                None => gradient,
            });
        }
    }
    // ANCHOR_END: reverse_sweep
    results
}

/// Gradients of one backward pass, keyed by variable.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let tape = Tape::<f64>::new();
/// let w = tape.var(array![2.0, -1.0]);
/// let unused = tape.var(1.0);
/// let loss = w.powi(2).sum_all();
/// let grads = loss.backward();
/// assert_eq!(grads[&w], array![4.0, -2.0].into_dyn().into_shared());
/// assert!(grads.get(&unused).is_none());
/// ```
#[derive(Clone, Debug)]
pub struct Gradients<T> {
    by_node: HashMap<usize, SharedArray<T>>,
}

impl<T: Float> Gradients<T> {
    /// The gradient with respect to `var`, if the output depends on it.
    pub fn get(&self, var: &Var<T>) -> Option<&SharedArray<T>> {
        var.index().and_then(|i| self.by_node.get(&i))
    }

    /// The number of variables with a gradient.
    pub fn len(&self) -> usize {
        self.by_node.len()
    }

    /// Whether no variable received a gradient.
    pub fn is_empty(&self) -> bool {
        self.by_node.is_empty()
    }
}

impl<T: Float> Index<&Var<T>> for Gradients<T> {
    type Output = SharedArray<T>;

    fn index(&self, var: &Var<T>) -> &SharedArray<T> {
        self.get(var).expect(
            "no gradient for this variable: the output does not depend on it (or it is a constant)",
        )
    }
}

impl<T: Float> Var<T> {
    /// The gradients of this scalar with respect to every tracked leaf it depends on.
    ///
    /// # Panics
    /// If the value is not a single element (use [`vjp`] to seed a non-scalar output).
    pub fn backward(&self) -> Gradients<T> {
        if self.size() != 1 {
            panic!(
                "backward: the output must be a single element, found shape {:?}; use vjp with a cotangent",
                self.shape()
            );
        }
        let Some(node) = &self.node else {
            return Gradients {
                by_node: HashMap::new(),
            };
        };
        let seed = Eager(ArrayD::from_elem(self.shape(), T::one()).into_shared());
        let by_node = reverse_sweep(&node.tape, vec![(node.index, seed)], None)
            .into_iter()
            .map(|(node, gradient)| (node, gradient.0))
            .collect();
        Gradients { by_node }
    }
}

fn ones_like<T: Float>(output: &Var<T>, op: &str) -> SharedArray<T> {
    if output.size() != 1 {
        panic!(
            "{op}: output of shape {:?} is not a single element; use vjp with a cotangent",
            output.shape()
        );
    }
    ArrayD::from_elem(output.shape(), T::one()).into_shared()
}

/// Finds the tape shared by the outputs and inputs, checking that every input is tracked.
fn common_tape<T: Float>(outputs: &[&Var<T>], inputs: &[&Var<T>], op: &str) -> Option<Tape<T>> {
    for (i, input) in inputs.iter().enumerate() {
        if !input.is_tracked() {
            panic!(
                "{op}: input {i} is a constant; create it with Tape::var to differentiate with respect to it"
            );
        }
    }
    let tape = outputs.iter().chain(inputs).find_map(|v| v.tape())?.clone();
    for v in outputs.iter().chain(inputs) {
        if v.tape().is_some_and(|t| !t.same(&tape)) {
            panic!("{op}: outputs and inputs are recorded on different tapes");
        }
    }
    Some(tape)
}

fn sweep<T: Float, X: Adjoint<T>>(
    outputs: &[&Var<T>],
    cotangents: Vec<X>,
    inputs: &[&Var<T>],
    op: &str,
) -> Vec<X> {
    if outputs.len() != cotangents.len() {
        panic!(
            "{op}: {} outputs but {} cotangents",
            outputs.len(),
            cotangents.len()
        );
    }
    for (output, cotangent) in outputs.iter().zip(&cotangents) {
        if output.shape() != cotangent.shape() {
            panic!(
                "{op}: cotangent of shape {:?} does not match output of shape {:?}",
                cotangent.shape(),
                output.shape()
            );
        }
    }
    let zeros = |v: &Var<T>| X::constant(ArrayD::zeros(IxDyn(v.shape())).into_shared());
    let Some(tape) = common_tape(outputs, inputs, op) else {
        return inputs.iter().map(|v| zeros(v)).collect();
    };
    let seeds = outputs
        .iter()
        .zip(cotangents)
        .filter_map(|(o, c)| o.index().map(|i| (i, c)))
        .collect();
    let targets: Vec<usize> = inputs.iter().map(|v| v.index().unwrap()).collect();
    let mut found = reverse_sweep(&tape, seeds, Some(&targets));
    inputs
        .iter()
        .map(|v| {
            found
                .remove(&v.index().unwrap())
                .unwrap_or_else(|| zeros(v))
        })
        .collect()
}

fn unwrap<T>(gradients: Vec<Eager<T>>) -> Vec<SharedArray<T>> {
    gradients.into_iter().map(|g| g.0).collect()
}

/// `∂(Σ_j y_j)/∂x_i` for single-element outputs `y_j`, one array per input (zeros where an
/// output does not depend on an input). Runs over the recorded forward pass; call it as often
/// as needed.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let tape = Tape::<f64>::new();
/// let x = tape.var(array![1.0, 2.0]);
/// let y = x.exp().sum_all();
/// let [dx] = grad(&[&y], &[&x]).try_into().unwrap();
/// assert_eq!(dx, x.value().mapv(f64::exp));
/// ```
pub fn grad<T: Float>(outputs: &[&Var<T>], inputs: &[&Var<T>]) -> Vec<SharedArray<T>> {
    let seeds = outputs
        .iter()
        .map(|o| Eager(ones_like(o, "grad")))
        .collect();
    unwrap(sweep(outputs, seeds, inputs, "grad"))
}

/// The vector-Jacobian product `Σ_j J_jᵀ ȳ_j` of outputs `y_j` with cotangents `ȳ_j`.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// let tape = Tape::<f64>::new();
/// let x = tape.var(array![1.0, 2.0]);
/// let y = &x * 3.0;
/// let [dx] = vjp(&[&y], &[array![1.0, -1.0].into_dyn().into_shared()], &[&x]).try_into().unwrap();
/// assert_eq!(dx, array![3.0, -3.0].into_dyn().into_shared());
/// ```
pub fn vjp<T: Float>(
    outputs: &[&Var<T>],
    cotangents: &[SharedArray<T>],
    inputs: &[&Var<T>],
) -> Vec<SharedArray<T>> {
    let cotangents = cotangents.iter().map(|c| Eager(c.clone())).collect();
    unwrap(sweep(outputs, cotangents, inputs, "vjp"))
}

/// Like [`grad`], but the backward pass is recorded (PyTorch's `create_graph=True`): the
/// gradients are variables on the same tape, to be differentiated again.
///
/// ```
/// use wengert_autograd::prelude::*;
/// let tape = Tape::<f64>::new();
/// let x = tape.var(2.0);
/// let y = x.powi(3);                              // y = x³
/// let [dy] = grad_graph(&[&y], &[&x]).try_into().unwrap(); // 3x²
/// let [d2y] = grad(&[&dy], &[&x]).try_into().unwrap();     // 6x
/// assert_eq!(dy.item(), 12.0);
/// assert_eq!(d2y.sum(), 12.0);
/// ```
pub fn grad_graph<T: Float>(outputs: &[&Var<T>], inputs: &[&Var<T>]) -> Vec<Var<T>> {
    let seeds = outputs
        .iter()
        .map(|o| Var::constant(ones_like(o, "grad_graph")))
        .collect();
    sweep(outputs, seeds, inputs, "grad_graph")
}

/// Like [`vjp`], but recorded; the cotangents may themselves be tracked variables (which is
/// how [`crate::jvp`] obtains a Jacobian-vector product from two vector-Jacobian products).
pub fn vjp_graph<T: Float>(
    outputs: &[&Var<T>],
    cotangents: &[&Var<T>],
    inputs: &[&Var<T>],
) -> Vec<Var<T>> {
    let cotangents = cotangents.iter().map(|&c| c.clone()).collect();
    sweep(outputs, cotangents, inputs, "vjp_graph")
}
