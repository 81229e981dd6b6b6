//! Sum and min trees: `O(log n)` point updates, totals and prefix-sum search.
//!
//! Both are complete binary trees stored in an array (node `k` has children `2k` and `2k+1`,
//! the root is node 1) whose `2^⌈log₂ n⌉` leaves, left to right, are the `n` values followed
//! by padding. An update rewrites one leaf and recomputes the `⌈log₂ n⌉` nodes above it from
//! their children (recomputed, not incremented, so rounding errors never accumulate).

use crate::snapshot::{Resumable, StateError, TrainingState};

/// A sum tree over `n` non-negative priorities `p_0 … p_{n−1}`: every internal node holds the
/// sum of the leaves below it, so the root holds the total `Σ_i p_i`.
///
/// [`find`](SumTree::find)`(u)` descends from the root to the leaf `i` whose cumulative
/// interval `[Σ_{k<i} p_k, Σ_{k≤i} p_k)` contains `u`: at each node, go left if `u` is below
/// the left child's sum, otherwise subtract that sum and go right. For `u` uniform on
/// `[0, total)` this returns `i` with probability `p_i / Σ_k p_k`.
///
/// ```
/// use wengert_rl::buffers::SumTree;
/// let mut tree = SumTree::new(4);
/// for (i, p) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
///     tree.update(i, p);
/// }
/// assert_eq!(tree.total(), 10.0);
/// assert_eq!(tree.find(0.5), 0); // [0, 1)
/// assert_eq!(tree.find(2.9), 1); // [1, 3)
/// assert_eq!(tree.find(3.0), 2); // [3, 6)
/// assert_eq!(tree.find(9.99), 3); // [6, 10)
/// ```
#[derive(Clone, Debug)]
pub struct SumTree {
    capacity: usize,
    /// The number of leaves, `2^⌈log₂ capacity⌉`.
    leaves: usize,
    /// `nodes[1]` is the root, leaf `i` is `nodes[leaves + i]`; `nodes[0]` is unused.
    nodes: Vec<f64>,
}

impl SumTree {
    /// A tree of `capacity` zero priorities.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// assert_eq!(SumTree::new(5).total(), 0.0);
    /// ```
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a sum tree needs at least one leaf");
        let leaves = capacity.next_power_of_two();
        SumTree {
            capacity,
            leaves,
            nodes: vec![0.0; 2 * leaves],
        }
    }

    /// The number of priorities `n`.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// assert_eq!(SumTree::new(5).capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sets `p_i = priority` and updates the sums above it, in `O(log n)`.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// let mut tree = SumTree::new(3);
    /// tree.update(2, 1.5);
    /// tree.update(2, 0.5);
    /// assert_eq!((tree.priority(2), tree.total()), (0.5, 0.5));
    /// ```
    pub fn update(&mut self, i: usize, priority: f64) {
        assert!(i < self.capacity, "leaf {i} out of 0..{}", self.capacity);
        assert!(
            priority >= 0.0 && priority.is_finite(),
            "priority {priority} must be finite and non-negative"
        );
        let mut node = self.leaves + i;
        self.nodes[node] = priority;
        while node > 1 {
            node /= 2;
            self.nodes[node] = self.nodes[2 * node] + self.nodes[2 * node + 1];
        }
    }

    /// `p_i`.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// let mut tree = SumTree::new(3);
    /// tree.update(1, 2.0);
    /// assert_eq!(tree.priority(1), 2.0);
    /// ```
    pub fn priority(&self, i: usize) -> f64 {
        assert!(i < self.capacity, "leaf {i} out of 0..{}", self.capacity);
        self.nodes[self.leaves + i]
    }

    /// `Σ_i p_i`, in `O(1)`.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// let mut tree = SumTree::new(3);
    /// tree.update(0, 1.0);
    /// tree.update(2, 2.0);
    /// assert_eq!(tree.total(), 3.0);
    /// ```
    pub fn total(&self) -> f64 {
        self.nodes[1]
    }

    /// The leaf `i` with `Σ_{k<i} p_k ≤ prefix_sum < Σ_{k≤i} p_k`, in `O(log n)`.
    ///
    /// Leaves of zero priority are never returned while the total is positive: a `prefix_sum`
    /// at or beyond the total (which rounding can produce) lands on the last positive leaf.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// let mut tree = SumTree::new(8);
    /// tree.update(3, 1.0);
    /// tree.update(5, 1.0);
    /// assert_eq!(tree.find(0.0), 3);
    /// assert_eq!(tree.find(1.0), 5);
    /// assert_eq!(tree.find(2.0), 5); // beyond the total
    /// ```
    // ANCHOR: sum_tree_find
    pub fn find(&self, prefix_sum: f64) -> usize {
        assert!(self.total() > 0.0, "cannot search a tree of zero total");
        let mut remaining = prefix_sum.max(0.0);
        let mut node = 1;
        while node < self.leaves {
            let left = 2 * node;
            if remaining < self.nodes[left] || self.nodes[left + 1] <= 0.0 {
                node = left;
            } else {
                remaining -= self.nodes[left];
                node = left + 1;
            }
        }
        node - self.leaves
    }
    // ANCHOR_END: sum_tree_find

    /// The sum held by internal node `k` (`1 ≤ k < 2^⌈log₂ n⌉`, root 1, children `2k`, `2k+1`),
    /// for checking the tree's invariant `node(k) = node(2k) + node(2k+1)`.
    ///
    /// ```
    /// # use wengert_rl::buffers::SumTree;
    /// let mut tree = SumTree::new(4);
    /// tree.update(0, 1.0);
    /// tree.update(3, 2.0);
    /// assert_eq!((tree.node(1), tree.node(2), tree.node(3)), (3.0, 1.0, 2.0));
    /// ```
    pub fn node(&self, k: usize) -> f64 {
        assert!(
            (1..2 * self.leaves).contains(&k),
            "node {k} out of 1..{}",
            2 * self.leaves
        );
        self.nodes[k]
    }
}

/// A min tree over `n` values: every internal node holds the minimum of the leaves below it,
/// so the root holds `min_i p_i`. Unset leaves are `+∞`, so they never count.
///
/// ```
/// use wengert_rl::buffers::MinTree;
/// let mut tree = MinTree::new(4);
/// assert_eq!(tree.min(), f64::INFINITY);
/// tree.update(1, 3.0);
/// tree.update(2, 0.5);
/// assert_eq!(tree.min(), 0.5);
/// tree.update(2, 4.0);
/// assert_eq!(tree.min(), 3.0);
/// ```
#[derive(Clone, Debug)]
pub struct MinTree {
    capacity: usize,
    leaves: usize,
    nodes: Vec<f64>,
}

impl MinTree {
    /// A tree of `capacity` unset (`+∞`) values.
    ///
    /// ```
    /// # use wengert_rl::buffers::MinTree;
    /// assert_eq!(MinTree::new(3).min(), f64::INFINITY);
    /// ```
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a min tree needs at least one leaf");
        let leaves = capacity.next_power_of_two();
        MinTree {
            capacity,
            leaves,
            nodes: vec![f64::INFINITY; 2 * leaves],
        }
    }

    /// Sets leaf `i` to `value` and updates the minima above it, in `O(log n)`.
    ///
    /// ```
    /// # use wengert_rl::buffers::MinTree;
    /// let mut tree = MinTree::new(3);
    /// tree.update(0, 2.0);
    /// assert_eq!(tree.min(), 2.0);
    /// ```
    pub fn update(&mut self, i: usize, value: f64) {
        assert!(i < self.capacity, "leaf {i} out of 0..{}", self.capacity);
        let mut node = self.leaves + i;
        self.nodes[node] = value;
        while node > 1 {
            node /= 2;
            self.nodes[node] = self.nodes[2 * node].min(self.nodes[2 * node + 1]);
        }
    }

    /// `min_i p_i`, in `O(1)`.
    ///
    /// ```
    /// # use wengert_rl::buffers::MinTree;
    /// let mut tree = MinTree::new(3);
    /// tree.update(0, 2.0);
    /// tree.update(1, 1.0);
    /// assert_eq!(tree.min(), 1.0);
    /// ```
    pub fn min(&self) -> f64 {
        self.nodes[1]
    }
}

/// Every node of the tree (`name`), so sampling continues exactly.
impl Resumable for SumTree {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(name, self.nodes.clone());
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.nodes = state.f64s(name, Some(self.nodes.len()))?;
        Ok(())
    }
}

/// Every node of the tree (`name`).
impl Resumable for MinTree {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_f64(name, self.nodes.clone());
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.nodes = state.f64s(name, Some(self.nodes.len()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn internal_nodes_stay_sums_and_minima_of_their_children() {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
        let capacity = 37;
        let mut sums = SumTree::new(capacity);
        let mut minima = MinTree::new(capacity);
        for _ in 0..5000 {
            let i = rng.random_range(0..capacity);
            let p = rng.random::<f64>() * 10.0;
            sums.update(i, p);
            minima.update(i, p);
        }
        for k in 1..sums.leaves {
            assert_eq!(sums.nodes[k], sums.nodes[2 * k] + sums.nodes[2 * k + 1]);
            assert_eq!(
                minima.nodes[k],
                minima.nodes[2 * k].min(minima.nodes[2 * k + 1])
            );
        }
        assert!(
            sums.nodes[sums.leaves + capacity..]
                .iter()
                .all(|&p| p == 0.0)
        );
    }
}
