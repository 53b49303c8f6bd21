//! Diagnostics on stderr through `tracing`: warnings always (a token retry, a fallback to a full
//! read), more with `-v`; `RUST_LOG` (tracing's filter syntax) decides instead when it is set.
//! The library never logs a secret: tokens, client secrets, passphrases and keys are `Secret`s whose
//! `Debug` and `Display` are redacted, and request logs carry paths, not headers or bodies.

use tracing_subscriber::EnvFilter;

/// Install the subscriber; call once, before anything logs.
pub(crate) fn init(verbose: u8) {
    // Our crate at the chosen level; the HTTP and storage crates stay at warnings until -vvv.
    let default = match verbose {
        0 => "warn".to_string(),
        1 => "warn,entra_backup=info".to_string(),
        2 => "warn,entra_backup=debug".to_string(),
        _ => "debug,entra_backup=trace".to_string(),
    };
    let spec = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty());
    let (filter, bad) = match spec.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (EnvFilter::new(&default), Some(e)),
        None => (EnvFilter::new(&default), None),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose >= 2)
        .try_init();
    if let Some(e) = bad {
        tracing::warn!("RUST_LOG is not a valid filter ({e}); using the default");
    }
}
