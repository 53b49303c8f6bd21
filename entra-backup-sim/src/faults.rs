//! Injected faults: the failures a client of Graph must survive.

use std::sync::Mutex;

use super::Rng;

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// 500 generalException.
    InternalError,
    /// 503 serviceNotAvailable with Retry-After.
    Unavailable,
    /// 504 gateway timeout.
    GatewayTimeout,
    /// The connection is dropped before any response.
    Reset,
    /// The headers announce the whole body; the connection drops halfway through it.
    Truncated,
    /// The page token in the request has expired (only for requests that carry one).
    ExpiredPageToken,
}

#[derive(Debug)]
pub(crate) struct Faults {
    rate: f64,
    rng: Mutex<Rng>,
}

impl Faults {
    pub(crate) fn new(seed: u64, rate: f64) -> Self {
        Faults { rate: rate.clamp(0.0, 1.0), rng: Mutex::new(Rng::new(seed).fork("faults")) }
    }

    /// Draw whether this request fails, and how.
    pub(crate) fn draw(&self, has_page_token: bool) -> Option<Fault> {
        if self.rate <= 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        if !rng.chance(self.rate) {
            return None;
        }
        let kinds: &[Fault] = if has_page_token {
            &[
                Fault::InternalError,
                Fault::Unavailable,
                Fault::GatewayTimeout,
                Fault::Reset,
                Fault::Truncated,
                Fault::ExpiredPageToken,
            ]
        } else {
            &[Fault::InternalError, Fault::Unavailable, Fault::GatewayTimeout, Fault::Reset, Fault::Truncated]
        };
        Some(*rng.pick(kinds))
    }
}
