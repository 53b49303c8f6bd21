//! Throttling by Microsoft's published limits ("Microsoft Graph service-specific throttling limits").
//!
//! Each family is a token bucket whose capacity is the published quota and which refills at the
//! quota's rate. A request that finds too few tokens gets 429; its cost is still counted (Graph keeps
//! counting usage while a client is throttled), so a client that retries at once stays throttled.

use std::sync::Mutex;
use std::time::Instant;

use entra_backup::catalog::ThrottleFamily;
pub(crate) use entra_backup::graph::pacing::{identity_cost, identity_quota};

/// A token bucket.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_sec: f64,
    level: f64,
    at: Instant,
}

impl Bucket {
    fn new(capacity: f64, window_secs: f64) -> Self {
        Bucket { capacity, per_sec: capacity / window_secs, level: capacity, at: Instant::now() }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + dt * self.per_sec).min(self.capacity);
        self.at = now;
    }

    /// Seconds until `cost` tokens are there.
    fn wait_for(&self, cost: f64) -> f64 {
        ((cost - self.level) / self.per_sec).max(0.0)
    }
}

/// What a throttled request is told.
#[derive(Debug, Clone)]
pub(crate) struct Throttled {
    /// Seconds to wait, when the family sends Retry-After (Conditional Access does not).
    pub retry_after: Option<u64>,
    /// `x-ms-throttle-scope`.
    pub scope: String,
    /// `x-ms-throttle-information`.
    pub information: &'static str,
}

/// Headers an admitted request carries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Admitted {
    /// `x-ms-resource-unit` (identity family).
    pub resource_units: Option<u32>,
    /// `x-ms-throttle-limit-percentage` once usage passes 80%.
    pub limit_percentage: Option<f64>,
}

#[derive(Debug)]
struct Buckets {
    identity_read: Bucket,
    identity_write_app: Bucket,
    identity_write_tenant: Bucket,
    conditional_access: Bucket,
    reports: Bucket,
    intune: Bucket,
    intune_write: Bucket,
}

/// The simulator's throttling state for one app in one tenant.
#[derive(Debug)]
pub(crate) struct Throttle {
    enabled: bool,
    buckets: Mutex<Buckets>,
    app_id: String,
    tenant_id: String,
}

impl Throttle {
    pub(crate) fn new(users: usize, enabled: bool) -> Self {
        let ru = f64::from(identity_quota(users));
        Throttle {
            enabled,
            buckets: Mutex::new(Buckets {
                identity_read: Bucket::new(ru, 10.0),
                identity_write_app: Bucket::new(3_000.0, 150.0),
                identity_write_tenant: Bucket::new(18_000.0, 300.0),
                conditional_access: Bucket::new(1.0, 1.0),
                reports: Bucket::new(5.0, 10.0),
                intune: Bucket::new(1_000.0, 20.0),
                intune_write: Bucket::new(100.0, 20.0),
            }),
            app_id: String::new(),
            tenant_id: String::new(),
        }
    }

    pub(crate) fn with_ids(mut self, app_id: &str, tenant_id: &str) -> Self {
        self.app_id = app_id.to_string();
        self.tenant_id = tenant_id.to_string();
        self
    }

    /// Admit a request of `cost` resource units (identity family; 1 request elsewhere), or refuse it.
    pub(crate) fn admit(&self, family: ThrottleFamily, cost: u32, write: bool) -> Result<Admitted, Throttled> {
        let mut admitted = Admitted::default();
        if family == ThrottleFamily::Identity {
            admitted.resource_units = Some(cost);
        }
        if !self.enabled {
            return Ok(admitted);
        }
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let scope = |kind: &str, rw: &str| format!("{kind}/{rw}/{}/{}", self.app_id, self.tenant_id);
        let rw = if write { "Write" } else { "Read" };
        match family {
            ThrottleFamily::Identity => {
                let cost = f64::from(cost);
                let Buckets { identity_read, identity_write_app, identity_write_tenant, .. } = &mut *b;
                identity_read.refill(now);
                let mut wait = identity_read.wait_for(cost);
                let mut info = "ResourceUnitLimitExceeded";
                let mut kind = "Tenant_Application";
                if write {
                    identity_write_app.refill(now);
                    identity_write_tenant.refill(now);
                    let w = identity_write_app.wait_for(1.0);
                    if w > wait {
                        wait = w;
                        info = "WriteLimitExceeded";
                    }
                    let w = identity_write_tenant.wait_for(1.0);
                    if w > wait {
                        wait = w;
                        info = "WriteLimitExceeded";
                        kind = "Tenant";
                    }
                }
                // Usage is counted whether or not the request is served (floored so that a client
                // can always recover within one window).
                identity_read.level = (identity_read.level - cost).max(-identity_read.capacity / 2.0);
                if write {
                    identity_write_app.level -= 1.0;
                    identity_write_tenant.level -= 1.0;
                }
                if wait > 0.0 {
                    return Err(Throttled {
                        retry_after: Some(wait.ceil().max(1.0) as u64),
                        scope: scope(kind, if write { "Write" } else { "Read" }),
                        information: info,
                    });
                }
                let used = 1.0 - identity_read.level / identity_read.capacity;
                if used >= 0.8 {
                    admitted.limit_percentage = Some((used * 10.0).round() / 10.0);
                }
                Ok(admitted)
            }
            ThrottleFamily::ConditionalAccess => {
                let bucket = &mut b.conditional_access;
                bucket.refill(now);
                if bucket.level < 1.0 {
                    // The Conditional Access family sends no Retry-After.
                    return Err(Throttled { retry_after: None, scope: scope("Tenant", rw), information: "" });
                }
                bucket.level -= 1.0;
                Ok(admitted)
            }
            ThrottleFamily::Reports => take(&mut b.reports, now, scope("Tenant_Application", rw)).map(|_| admitted),
            ThrottleFamily::Intune => {
                let Buckets { intune, intune_write, .. } = &mut *b;
                if write {
                    intune_write.refill(now);
                    if intune_write.level < 1.0 {
                        let wait = intune_write.wait_for(1.0);
                        return Err(Throttled {
                            retry_after: Some(wait.ceil().max(1.0) as u64),
                            scope: scope("Tenant_Application", rw),
                            information: "WriteLimitExceeded",
                        });
                    }
                }
                take(intune, now, scope("Tenant_Application", rw))?;
                if write {
                    intune_write.level -= 1.0;
                }
                Ok(admitted)
            }
            ThrottleFamily::Global => Ok(admitted),
        }
    }
}

fn take(bucket: &mut Bucket, now: Instant, scope: String) -> Result<(), Throttled> {
    bucket.refill(now);
    if bucket.level < 1.0 {
        let wait = bucket.wait_for(1.0);
        return Err(Throttled {
            retry_after: Some(wait.ceil().max(1.0) as u64),
            scope,
            information: "RequestLimitExceeded",
        });
    }
    bucket.level -= 1.0;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_access_allows_one_request_per_second_without_retry_after() {
        let t = Throttle::new(1000, true);
        assert!(t.admit(ThrottleFamily::ConditionalAccess, 1, false).is_ok());
        let e = t.admit(ThrottleFamily::ConditionalAccess, 1, false).unwrap_err();
        assert_eq!(e.retry_after, None);
    }

    #[test]
    fn identity_quota_depends_on_tenant_size_and_throttles_past_it() {
        let t = Throttle::new(10, true);
        let mut ok = 0;
        while t.admit(ThrottleFamily::Identity, 2, false).is_ok() {
            ok += 1;
            assert!(ok < 10_000);
        }
        assert!((1_749..=1_751).contains(&ok), "{ok}");
        let e = t.admit(ThrottleFamily::Identity, 2, false).unwrap_err();
        assert!(e.retry_after.unwrap() >= 1);
        assert_eq!(e.information, "ResourceUnitLimitExceeded");
    }

    #[test]
    fn reports_allow_five_per_ten_seconds() {
        let t = Throttle::new(1000, true);
        for _ in 0..5 {
            t.admit(ThrottleFamily::Reports, 1, false).unwrap();
        }
        assert!(t.admit(ThrottleFamily::Reports, 1, false).unwrap_err().retry_after.unwrap() >= 1);
    }
}
