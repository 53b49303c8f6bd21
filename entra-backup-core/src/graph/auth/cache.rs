//! The token cache every credential shares: one refresh at a time, its outcome handed to the tasks
//! that waited for it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{AccessToken, REFRESH_MARGIN};
use crate::{Error, ErrorKind, Result};

/// After a failed refresh, a cached token with at least this left is still handed out, so a
/// short identity platform outage does not stop a backup whose token is still good.
const STILL_USABLE: Duration = Duration::from_secs(30);

/// The cached token, and the lock that lets one task at a time refresh it.
#[derive(Default)]
pub(super) struct TokenCache {
    current: std::sync::Mutex<Option<AccessToken>>,
    refresh: tokio::sync::Mutex<Option<ErrorCopy>>,
    /// Refresh attempts finished so far: a task that waited on the lock while an attempt ran takes
    /// that attempt's outcome instead of asking again.
    attempts: AtomicU64,
}

/// An error of the last refresh, to hand to the tasks that waited for it.
struct ErrorCopy {
    kind: ErrorKind,
    status: Option<u16>,
    code: Option<String>,
    message: String,
}

impl ErrorCopy {
    fn of(e: &Error) -> Self {
        ErrorCopy {
            kind: e.kind(),
            status: e.status(),
            code: e.graph_code().map(String::from),
            message: e.message().into(),
        }
    }

    fn to_error(&self) -> Error {
        match self.status {
            Some(status) => Error::graph(self.kind, status, self.code.clone(), self.message.clone()),
            None => Error::new(self.kind, self.message.clone()),
        }
    }
}

impl TokenCache {
    fn cached(&self, margin: Duration) -> Option<AccessToken> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current.as_ref().filter(|t| t.valid_for(margin)).cloned()
    }

    pub(super) fn clear(&self) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(super) async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<AccessToken>>,
    {
        if let Some(token) = self.cached(REFRESH_MARGIN) {
            return Ok(token);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let mut last_error = self.refresh.lock().await;
        if let Some(token) = self.cached(REFRESH_MARGIN) {
            return Ok(token);
        }
        if self.attempts.load(Ordering::Acquire) != seen {
            // Another task refreshed while this one waited: share its outcome, even a token with
            // less than the margin left (a short-lived one) or its error, rather than ask again.
            match &*last_error {
                None => {
                    if let Some(token) = self.cached(Duration::ZERO) {
                        return Ok(token);
                    }
                }
                Some(e) => return self.still_usable_or(e.to_error()),
            }
        }
        let outcome = fetch().await;
        match &outcome {
            Ok(token) => {
                *last_error = None;
                *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.clone());
            }
            Err(e) => *last_error = Some(ErrorCopy::of(e)),
        }
        // Counted once finished, under the lock: tasks that arrived while it ran see the change.
        self.attempts.fetch_add(1, Ordering::AcqRel);
        outcome.or_else(|e| self.still_usable_or(e))
    }

    fn still_usable_or(&self, e: Error) -> Result<AccessToken> {
        match self.cached(STILL_USABLE) {
            Some(token) => {
                tracing::warn!(
                    expires_in_secs = token.expires_in().as_secs(),
                    "token refresh failed; using the cached token: {e}"
                );
                Ok(token)
            }
            None => Err(e),
        }
    }
}
