//! Reliability: the crash matrix, the corruption matrix and fuzzing of every repository decoder,
//! in one test binary.
//!
//! The default budget is short (the README's test command runs it); `ENTRA_BACKUP_RELIABILITY=full`
//! runs every kill point and many more fuzz inputs (`scripts/reliability` does that). Each test
//! prints its figures (`reliability: ...` lines; run with `--nocapture` to see them).

mod alloc;
mod corruption;
mod crash;
mod fuzz;
mod trees;
mod world;

/// How much of each matrix to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// A sample: the README's test command.
    Short,
    /// Everything: `ENTRA_BACKUP_RELIABILITY=full`.
    Full,
}

pub(crate) fn budget() -> Budget {
    match std::env::var("ENTRA_BACKUP_RELIABILITY").as_deref() {
        Ok("full") => Budget::Full,
        Ok("" | "short") | Err(_) => Budget::Short,
        Ok(other) => panic!("ENTRA_BACKUP_RELIABILITY is `full` or `short`, not `{other}`"),
    }
}

/// Print one figure for the report (visible with `--nocapture`).
pub(crate) fn figure(line: &str) {
    eprintln!("reliability: {line}");
}
