//! Throttling by Microsoft's published limits ("Microsoft Graph service-specific throttling limits").
//!
//! Each family is a token bucket whose capacity is the published quota and which refills at the
//! quota's rate. A request that finds too few tokens gets 429; its cost is still counted (Graph keeps
//! counting usage while a client is throttled), so a client that retries at once stays throttled.
//!
//! The identity family's buckets are per app and tenant, as Graph's are: each client id (the
//! token's `appid`) has its own resource-unit bucket and its own write bucket (3,000 writes per
//! 150 s), and every app's writes also draw on one tenant-wide write bucket (18,000 per 5 min):
//! "Identity and access service limits" in Microsoft Graph's throttling limits
//! (<https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits>).
//! The other families are counted for the tenant as a whole.
//!
//! The app a request comes from is set around its handling with [`as_app`]; the simulator counts
//! each app's requests, writes and 429s ([`AppUsage`], served at `/_sim/apps`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
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

    /// `scale` times as fast (the window divided by `scale`, the capacity the same).
    fn scaled(mut self, scale: f64) -> Self {
        self.per_sec *= scale;
        self
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

/// What one app (client id) sent the simulated tenant: every Graph request that reached the
/// throttling check (inside a `$batch`, each request counts; the envelope does not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppUsage {
    /// Requests.
    pub requests: u64,
    /// Writes admitted (served, not throttled).
    pub writes: u64,
    /// Requests refused with 429.
    pub throttled: u64,
    /// Resource units of the identity family's admitted requests: with the other families'
    /// requests, what a benchmark divides by the published rates for its throttling floor.
    pub identity_units: u64,
    /// Admitted requests of the reports family (audit and sign-in logs).
    pub reports: u64,
    /// Admitted requests of the Conditional Access family.
    pub conditional_access: u64,
    /// Admitted requests of the Intune family.
    pub intune: u64,
}

/// An app's own buckets in the tenant (the identity family's).
#[derive(Debug)]
struct AppBuckets {
    identity_read: Bucket,
    identity_write_app: Bucket,
    usage: AppUsage,
}

#[derive(Debug)]
struct Buckets {
    apps: HashMap<String, AppBuckets>,
    identity_write_tenant: Bucket,
    conditional_access: Bucket,
    reports: Bucket,
    intune: Bucket,
    intune_write: Bucket,
}

thread_local! {
    /// The client id whose request this thread is handling (see [`as_app`]).
    static CURRENT_APP: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Handle a request of the app `app_id` (the token's `appid`): the throttling checks `f` meets
/// count against that app's buckets.
pub(crate) fn as_app<T>(app_id: &str, f: impl FnOnce() -> T) -> T {
    let before = CURRENT_APP.with(|c| std::mem::replace(&mut *c.borrow_mut(), app_id.to_string()));
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(s) = self.0.take() {
                CURRENT_APP.with(|c| *c.borrow_mut() = s);
            }
        }
    }
    let _restore = Restore(Some(before));
    f()
}

/// The simulator's throttling state for the apps of one tenant.
#[derive(Debug)]
pub(crate) struct Throttle {
    enabled: bool,
    buckets: Mutex<Buckets>,
    tenant_id: String,
    /// Resource units per 10 s of an app.
    identity_quota: f64,
    /// Every rate multiplied by this (1 unless `sim serve --time-scale`).
    scale: f64,
}

impl Throttle {
    #[cfg(test)]
    pub(crate) fn new(users: usize, enabled: bool) -> Self {
        Self::scaled(users, enabled, 1.0)
    }

    /// Throttling at `scale` times every published rate (each window divided by `scale`, each
    /// quota the same), for benchmarks that run the real thing faster (`sim serve --time-scale`).
    pub(crate) fn scaled(users: usize, enabled: bool, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        Throttle {
            enabled,
            buckets: Mutex::new(Buckets {
                apps: HashMap::new(),
                identity_write_tenant: Bucket::new(18_000.0, 300.0).scaled(scale),
                conditional_access: Bucket::new(1.0, 1.0).scaled(scale),
                reports: Bucket::new(5.0, 10.0).scaled(scale),
                intune: Bucket::new(1_000.0, 20.0).scaled(scale),
                intune_write: Bucket::new(100.0, 20.0).scaled(scale),
            }),
            tenant_id: String::new(),
            identity_quota: f64::from(identity_quota(users)),
            scale,
        }
    }

    pub(crate) fn with_tenant_id(mut self, tenant_id: &str) -> Self {
        self.tenant_id = tenant_id.to_string();
        self
    }

    /// What each app has sent so far, by client id.
    pub(crate) fn usage(&self) -> BTreeMap<String, AppUsage> {
        let b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        b.apps.iter().map(|(id, a)| (id.clone(), a.usage)).collect()
    }

    /// Admit a request of `cost` resource units (identity family; 1 request elsewhere) from the
    /// current app (see [`as_app`]), or refuse it.
    pub(crate) fn admit(&self, family: ThrottleFamily, cost: u32, write: bool) -> Result<Admitted, Throttled> {
        let app_id = CURRENT_APP.with(|c| c.borrow().clone());
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (quota, scale) = (self.identity_quota, self.scale);
        b.apps.entry(app_id.clone()).or_insert_with(|| AppBuckets {
            identity_read: Bucket::new(quota, 10.0).scaled(scale),
            identity_write_app: Bucket::new(3_000.0, 150.0).scaled(scale),
            usage: AppUsage::default(),
        });
        let result = self.admit_locked(&mut b, &app_id, family, cost, write);
        if let Some(app) = b.apps.get_mut(&app_id) {
            app.usage.requests += 1;
            let u = &mut app.usage;
            match &result {
                Ok(_) => {
                    u.writes += u64::from(write);
                    match family {
                        ThrottleFamily::Identity => u.identity_units += u64::from(cost),
                        ThrottleFamily::Reports => u.reports += 1,
                        ThrottleFamily::ConditionalAccess => u.conditional_access += 1,
                        ThrottleFamily::Intune => u.intune += 1,
                        ThrottleFamily::Global => {}
                    }
                }
                Err(_) => u.throttled += 1,
            }
        }
        result
    }

    fn admit_locked(
        &self,
        b: &mut Buckets,
        app_id: &str,
        family: ThrottleFamily,
        cost: u32,
        write: bool,
    ) -> Result<Admitted, Throttled> {
        let mut admitted = Admitted::default();
        if family == ThrottleFamily::Identity {
            admitted.resource_units = Some(cost);
        }
        if !self.enabled {
            return Ok(admitted);
        }
        let now = Instant::now();
        let scope = |kind: &str, rw: &str| format!("{kind}/{rw}/{app_id}/{}", self.tenant_id);
        let rw = if write { "Write" } else { "Read" };
        match family {
            ThrottleFamily::Identity => {
                let cost = f64::from(cost);
                let Buckets { apps, identity_write_tenant, .. } = b;
                let Some(AppBuckets { identity_read, identity_write_app, .. }) = apps.get_mut(app_id) else {
                    return Ok(admitted);
                };
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
                let Buckets { intune, intune_write, .. } = b;
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
    fn each_app_has_its_own_write_quota_and_all_share_the_tenants() {
        let t = Throttle::new(1000, true).with_tenant_id("tid");
        let writes = |app: &str| {
            as_app(app, || {
                let mut ok = 0;
                while t.admit(ThrottleFamily::Identity, 1, true).is_ok() {
                    ok += 1;
                    assert!(ok < 100_000);
                }
                ok
            })
        };
        assert_eq!(writes("app-1"), 3_000);
        let e = as_app("app-1", || t.admit(ThrottleFamily::Identity, 1, true).unwrap_err());
        assert_eq!(e.information, "WriteLimitExceeded");
        assert!(e.scope.starts_with("Tenant_Application/Write/app-1/tid"), "{}", e.scope);
        // Five more apps reach the tenant's 18,000 (each refused write also counts against it, as
        // Graph keeps counting usage while a client is throttled); a seventh finds it empty.
        for app in ["app-2", "app-3", "app-4", "app-5", "app-6"] {
            let n = writes(app);
            assert!((2_990..=3_000).contains(&n), "{app}: {n}");
        }
        assert!(writes("app-7") <= 1);
        let e = as_app("app-7", || t.admit(ThrottleFamily::Identity, 1, true).unwrap_err());
        assert!(e.scope.starts_with("Tenant/Write/app-7/"), "{}", e.scope);
        let usage = t.usage();
        assert_eq!(usage["app-1"].writes, 3_000);
        assert_eq!(usage["app-1"].throttled, 2);
        assert!(usage.values().map(|u| u.writes).sum::<u64>() <= 18_000);
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
