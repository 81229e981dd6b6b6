//! # wengert-rl — reinforcement learning
//!
//! Gymnasium-exact environments, rollout and replay storage, tabular dynamic programming, and
//! the policy-gradient and value-based agents, each module opening with its math.
//!
//! **Status:** not yet built (issues 5, 6, 7). This crate holds no code yet; nothing here pretends to work.
