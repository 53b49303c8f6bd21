//! Conformance suites for implementations of [`Source`](crate::source::Source) and
//! [`Sink`](crate::sink::Sink), in the manner of `object_store`'s `integration` module: a vendor's
//! own source or sink proves it keeps the traits' contracts with one call, and every
//! implementation in this crate runs the same suites in its tests.
//!
//! Enabled by the `testing` feature (for dev-dependencies: `entra-backup-core = { version = "…",
//! features = ["testing"] }`). The suites panic with a message naming the broken rule, like
//! `assert!`, so they read as tests.
//!
//! - [`source::conformance`] reads categories of any source and checks what it sends.
//! - [`sink::conformance`] drives any sink the way a backup does, with a small fixture tenant
//!   ([`FixtureSource`]), wrapped in a [`CheckedSink`] that checks the order of calls, and
//!   compares what the sink then holds (read back by a closure you give) with the fixture.

pub mod sink;
pub mod source;

mod checked;
mod fixture;

pub use checked::CheckedSink;
pub use fixture::{FixtureSource, fixture_objects};
