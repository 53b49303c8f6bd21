//! The command-line tool's tests: every command run as a user runs it, bad input, exit codes and transport policy.
//!
//! One test binary per crate (linking is the slow part of a build on two cores): each former test file
//! is a module here.

mod bad_input;
mod cli;
mod repo_cli;
mod repo_cli_refusals;
mod repo_keys;
mod repo_repair;
mod repo_safety;
mod repo_safety_prune;
mod transport;
