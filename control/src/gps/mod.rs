//! From trajectory optimisation to a policy: guided policy search with the augmented
//! Lagrangian, PLATO, and DAgger against behaviour cloning — one family, sharing the MLP policy
//! and its supervised fit ([`policy`]) and the labelled episodes ([`imitation`]).
//!
//! ## Background
//!
//! Trajectory optimisation (iLQR, collocation) finds good controls for one start state; a policy
//! `u = π_θ(x)` must act well from many, with no planner at test time. The notes write the
//! problem as
//!
//! ```text
//! min_{τ, θ} c(τ)   subject to   u_t = π_θ(x_t) for every t (and every start state)
//! ```
//!
//! - **Guided policy search** ([`guided_policy_search`](mod@guided_policy_search); Levine &
//!   Koltun 2013, Mordatch & Todorov 2014, Levine et al. 2016) solves it by the augmented Lagrangian: alternate a
//!   trajectory step (iLQR on `c(τ) + λᵀ(u − π_θ(x)) + ρ/2 ‖u − π_θ(x)‖²`), a policy step
//!   (supervised regression of `π_θ` onto the trajectories, with the same terms) and the
//!   multiplier step `λ ← λ + ρ (u − π_θ(x))`, until trajectory and policy agree.
//! - **DAgger** ([`dagger`](mod@dagger); Ross, Gordon & Bagnell 2011) needs only an expert that
//!   labels states: the learner's own states, labelled by the expert, are aggregated into the data set,
//!   so it learns to recover from its own mistakes; behaviour cloning trains on the expert's
//!   states alone, and its errors compound (`O(T²ε)` against DAgger's `O(Tε)`).
//! - **PLATO** ([`plato`](mod@plato); Kahn, Zhang, Levine & Abbeel 2017): an MPC teacher whose cost pulls
//!   it towards the learner drives, so the states resemble the learner's own; the learner is
//!   trained on the unconstrained MPC's actions at those states, and runs alone at test time.

pub mod dagger;
pub mod guided_policy_search;
pub mod imitation;
pub mod penalty;
pub mod plato;
pub mod policy;
pub mod policy_step;
pub mod trajectory_step;

pub use dagger::{DaggerConfig, behaviour_cloning, dagger};
pub use guided_policy_search::{
    GpsConfig, GpsIteration, GpsResult, PenaltyRule, guided_policy_search, multiplier_update,
    policy_constraint_terms,
};
pub use imitation::{
    Dataset, Expert, ImitationResult, ImitationRound, Memoryless, Rounds, Symmetry, Teacher,
    evaluate, imitation_rounds,
};
pub use plato::{
    PlatoConfig, PlatoTeacher, linearise_learner, linearised_pull_problem, plato, pulled_problem,
};
pub use policy::{FitConfig, fit_policy, imitation_loss};
