//! The simulated tenant's tests: reads, writes, churn, and every response checked against Microsoft's CSDL.
//!
//! One test binary per crate (linking is the slow part of a build on two cores): each former test file
//! is a module here.

mod sim_churn;
mod sim_csdl;
mod sim_digest;
mod sim_graph;
mod sim_served_csdl;
mod sim_write;
