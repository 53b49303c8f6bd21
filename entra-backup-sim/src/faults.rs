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

/// Requests held back until a test lets them go (see [`crate::SimServer::hold`]): the way a test
/// makes "this happens while a backup is still running" certain rather than likely.
#[derive(Debug, Default)]
pub(crate) struct Holds {
    held: Mutex<Vec<(String, tokio::sync::watch::Receiver<bool>)>>,
}

impl Holds {
    pub(crate) fn add(&self, path_contains: &str) -> tokio::sync::watch::Sender<bool> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        self.held.lock().unwrap_or_else(|p| p.into_inner()).push((path_contains.to_string(), rx));
        tx
    }

    /// Wait while a hold matches `path` (case-insensitively).
    pub(crate) async fn wait(&self, path: &str) {
        let path = path.to_ascii_lowercase();
        let waiting: Vec<_> = {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            held.retain(|(_, rx)| !*rx.borrow());
            held.iter().filter(|(p, _)| path.contains(&p.to_ascii_lowercase())).map(|(_, rx)| rx.clone()).collect()
        };
        for mut rx in waiting {
            // A dropped sender lets the request go too.
            let _ = rx.wait_for(|go| *go).await;
        }
    }
}

/// Requests held by [`crate::SimServer::hold`]; they go on when this is released or dropped.
#[derive(Debug)]
pub struct Hold(tokio::sync::watch::Sender<bool>);

impl Hold {
    pub(crate) fn new(tx: tokio::sync::watch::Sender<bool>) -> Self {
        Hold(tx)
    }

    /// Let the held requests (and later ones) go on.
    pub fn release(self) {
        let _ = self.0.send(true);
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let _ = self.0.send(true);
    }
}
