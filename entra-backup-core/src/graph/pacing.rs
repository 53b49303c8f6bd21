//! Pacing before Graph throttles: one token bucket per throttling family, sized from Microsoft's
//! published limits, so that requests wait here instead of drawing 429s. A 429 that still arrives
//! (another app shares the tenant's budget) empties the family's bucket and pauses it for the
//! Retry-After.
//!
//! Writes are counted twice, as Graph counts them: per app and tenant, and for the whole tenant
//! whichever app sends them. Several app registrations restoring into one tenant each have their
//! own [`Pacer`] (their own per-app buckets), made with [`Pacer::another_app`] so that they share
//! one tenant-wide write bucket.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::catalog::ThrottleFamily;

/// Resource units per 10 s for an app in a tenant of this many users (S under 50, M 50-500, L over 500).
pub fn identity_quota(users: usize) -> u32 {
    match users {
        0..50 => 3_500,
        50..=500 => 5_000,
        _ => 8_000,
    }
}

/// The identity family's cost of a request: the published base cost, `$select` -1, `$expand` +1,
/// `$top` under 20 -1, never under 1.
pub fn identity_cost(base: u8, select: bool, expand: bool, top: Option<u32>) -> u32 {
    let mut cost = i32::from(base.max(1));
    if select {
        cost -= 1;
    }
    if expand {
        cost += 1;
    }
    if top.is_some_and(|t| t < 20) {
        cost -= 1;
    }
    cost.max(1) as u32
}

/// The published limit of a family, as (units, per seconds).
pub fn published_limit(family: ThrottleFamily, identity_quota: u32) -> Option<(f64, f64)> {
    match family {
        ThrottleFamily::Identity => Some((f64::from(identity_quota), 10.0)),
        ThrottleFamily::ConditionalAccess => Some((1.0, 1.0)),
        ThrottleFamily::Reports => Some((5.0, 10.0)),
        ThrottleFamily::Intune => Some((1_000.0, 20.0)),
        ThrottleFamily::Global => None,
    }
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_sec: f64,
    level: f64,
    at: Instant,
    paused_until: Option<Instant>,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + dt * self.per_sec).min(self.capacity);
        self.at = now;
    }
}

/// Share of each published limit we use: a little below it, so that clock skew and rounding between
/// us and Graph never tip a request over.
const MARGIN: f64 = 0.95;

/// The published write quota of a family per app and tenant, as (writes, per seconds): identity
/// writes are limited to 3,000 per 150 s per app and tenant, Intune writes to 100 per 20 s.
/// Conditional Access writes share its 1 request per second.
///
/// Microsoft Graph service-specific throttling limits, "Identity and access service limits"
/// (<https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits>,
/// microsoftgraph/microsoft-graph-docs-contrib `concepts/throttling-limits.md`): "Any operation"
/// of "Write" type is limited to 3,000 requests per 2 min 30 s per app and tenant, and 18,000
/// requests per 5 min per tenant for all apps together (see [`published_tenant_write_limit`]).
pub fn published_write_limit(family: ThrottleFamily) -> Option<(f64, f64)> {
    match family {
        ThrottleFamily::Identity => Some((3_000.0, 150.0)),
        ThrottleFamily::Intune => Some((100.0, 20.0)),
        _ => None,
    }
}

/// The published write quota of a family for the whole tenant, all apps together, as (writes, per
/// seconds): identity writes are limited to 18,000 per 5 min per tenant (same source as
/// [`published_write_limit`]). One app never reaches it (its own 3,000 per 150 s is tighter); three
/// apps together do.
pub fn published_tenant_write_limit(family: ThrottleFamily) -> Option<(f64, f64)> {
    match family {
        ThrottleFamily::Identity => Some((18_000.0, 300.0)),
        _ => None,
    }
}

type Buckets = Mutex<HashMap<ThrottleFamily, Bucket>>;

/// Client-side pacing for every throttling family.
#[derive(Debug)]
pub struct Pacer {
    buckets: Buckets,
    /// Write quotas per app and tenant, counted apart from the units every request costs.
    writes: Buckets,
    /// Write quotas of the whole tenant, shared with the pacers of the tenant's other apps.
    tenant_writes: Arc<Buckets>,
    enabled: bool,
    /// Every rate multiplied by this (1 outside tests and benchmarks): see [`Pacer::scaled`].
    scale: f64,
    /// The tenant size the identity bucket was sized for.
    users: AtomicUsize,
}

/// Buckets of `limits`, full, at `scale` times their rate.
fn write_buckets(limits: impl Fn(ThrottleFamily) -> Option<(f64, f64)>, scale: f64) -> HashMap<ThrottleFamily, Bucket> {
    let now = Instant::now();
    [ThrottleFamily::Identity, ThrottleFamily::Intune]
        .into_iter()
        .filter_map(|f| limits(f).map(|l| (f, l)))
        .map(|(f, (n, secs))| {
            let capacity = n * MARGIN;
            let per_sec = n / secs * MARGIN * scale;
            (f, Bucket { capacity, per_sec, level: capacity, at: now, paused_until: None })
        })
        .collect()
}

impl Pacer {
    /// Pacing at the published limits, with the identity quota of a tenant of `users` users.
    pub fn new(users: usize) -> Self {
        Self::scaled(users, 1.0)
    }

    /// **For tests and benchmarks against a simulator started with the same time scale**
    /// (`entra-backup sim serve --time-scale K`): pacing at `time_scale` times every published
    /// rate (each window divided by `time_scale`, each bucket the same size), so that a run is the
    /// real one `time_scale` times faster. Against Microsoft Graph this draws 429s: use
    /// [`Pacer::new`]. A scale that is not a positive finite number counts as 1.
    pub fn scaled(users: usize, time_scale: f64) -> Self {
        let scale = if time_scale.is_finite() && time_scale > 0.0 { time_scale } else { 1.0 };
        let p = Pacer {
            buckets: Mutex::new(HashMap::new()),
            writes: Mutex::new(write_buckets(published_write_limit, scale)),
            tenant_writes: Arc::new(Mutex::new(write_buckets(published_tenant_write_limit, scale))),
            enabled: true,
            scale,
            users: AtomicUsize::new(users),
        };
        p.set_tenant_size(users);
        p
    }

    /// The pacer of another app registration writing into the same tenant: its own per-app
    /// buckets (full), the same tenant-wide write bucket as this one, the same time scale and
    /// tenant size. Writes through either count against the tenant's quota once.
    pub fn another_app(&self) -> Self {
        let users = self.users.load(Ordering::Relaxed);
        let p = Pacer {
            buckets: Mutex::new(HashMap::new()),
            writes: Mutex::new(if self.enabled {
                write_buckets(published_write_limit, self.scale)
            } else {
                HashMap::new()
            }),
            tenant_writes: self.tenant_writes.clone(),
            enabled: self.enabled,
            scale: self.scale,
            users: AtomicUsize::new(users),
        };
        if p.enabled {
            p.set_tenant_size(users);
        }
        p
    }

    /// The time scale of [`Pacer::scaled`] (1 for [`Pacer::new`]).
    pub fn time_scale(&self) -> f64 {
        self.scale
    }

    /// No pacing at all (a test against a server without limits).
    pub fn unlimited() -> Self {
        Pacer {
            buckets: Mutex::new(HashMap::new()),
            writes: Mutex::new(HashMap::new()),
            tenant_writes: Arc::default(),
            enabled: false,
            scale: 1.0,
            users: AtomicUsize::new(0),
        }
    }

    /// Resize the identity bucket once the tenant's size is known.
    pub fn set_tenant_size(&self, users: usize) {
        self.users.store(users, Ordering::Relaxed);
        let quota = identity_quota(users);
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        for family in [
            ThrottleFamily::Identity,
            ThrottleFamily::ConditionalAccess,
            ThrottleFamily::Reports,
            ThrottleFamily::Intune,
        ] {
            let Some((units, secs)) = published_limit(family, quota) else { continue };
            // Requests that cost one unit each (CA, reports) keep the whole small budget but space
            // themselves a little slower than the limit.
            let capacity = if units <= 5.0 { (units - 1.0).max(1.0) } else { units * MARGIN };
            let per_sec = units / secs * MARGIN * self.scale;
            let level = b.get(&family).map_or(capacity, |old| old.level.min(capacity));
            b.insert(family, Bucket { capacity, per_sec, level, at: now, paused_until: None });
        }
    }

    /// Wait until a request of `cost` units may go.
    pub async fn acquire(&self, family: ThrottleFamily, cost: u32) {
        Self::take(&self.buckets, self.enabled, family, cost).await
    }

    /// Wait until `n` writes may go within the family's write quotas, the app's and the tenant's
    /// (on top of [`Pacer::acquire`]).
    pub async fn acquire_writes(&self, family: ThrottleFamily, n: u32) {
        Self::take(&self.writes, self.enabled, family, n).await;
        Self::take(&self.tenant_writes, self.enabled, family, n).await;
    }

    async fn take(buckets: &Mutex<HashMap<ThrottleFamily, Bucket>>, enabled: bool, family: ThrottleFamily, cost: u32) {
        if !enabled {
            return;
        }
        loop {
            let wait = {
                let mut b = buckets.lock().unwrap_or_else(|p| p.into_inner());
                let Some(bucket) = b.get_mut(&family) else { return };
                let now = Instant::now();
                match bucket.paused_until {
                    Some(until) if until > now => until - now,
                    _ => {
                        bucket.paused_until = None;
                        bucket.refill(now);
                        let cost = f64::from(cost).min(bucket.capacity);
                        if bucket.level >= cost {
                            bucket.level -= cost;
                            return;
                        }
                        Duration::from_secs_f64((cost - bucket.level) / bucket.per_sec)
                    }
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Graph charged a different cost than estimated (`x-ms-resource-unit`): settle the difference.
    pub fn settle(&self, family: ThrottleFamily, estimated: u32, actual: u32) {
        if !self.enabled || estimated == actual {
            return;
        }
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = b.get_mut(&family) {
            bucket.level -= f64::from(actual) - f64::from(estimated);
        }
    }

    /// Graph throttled us anyway: empty the bucket and pause the family for `retry_after` (or one
    /// refill period of a request when Graph gives no Retry-After, as Conditional Access does).
    pub fn throttled(&self, family: ThrottleFamily, retry_after: Option<Duration>) {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = b.get_mut(&family) {
            let now = Instant::now();
            let pause = retry_after.unwrap_or_else(|| Duration::from_secs_f64(1.0 / bucket.per_sec));
            bucket.level = 0.0;
            bucket.at = now;
            let until = now + pause;
            bucket.paused_until = Some(bucket.paused_until.map_or(until, |u| u.max(until)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn conditional_access_requests_are_spaced_a_second_apart() {
        let p = Pacer::new(1000);
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            p.acquire(ThrottleFamily::ConditionalAccess, 1).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(3), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn identity_writes_burst_to_the_quota_then_pace_at_its_rate() {
        let p = Pacer::new(1000);
        let start = tokio::time::Instant::now();
        // 95% of 3,000 go at once; the next 190 take 10 s at 95% of 20 per second.
        for _ in 0..(2_850 + 190) / 10 {
            p.acquire_writes(ThrottleFamily::Identity, 10).await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(9_900) && took < Duration::from_millis(10_600), "{took:?}");
    }

    /// Identity writes admitted in the first `secs` seconds to each of `apps` apps of one tenant,
    /// each app asking for twenty at a time as fast as its pacer lets it.
    async fn writes_admitted(apps: usize, secs: u64, time_scale: f64) -> Vec<u64> {
        let first = Arc::new(Pacer::scaled(1000, time_scale));
        let pacers: Vec<Arc<Pacer>> =
            std::iter::once(first.clone()).chain((1..apps).map(|_| Arc::new(first.another_app()))).collect();
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        let tasks: Vec<_> = pacers
            .into_iter()
            .map(|p| {
                tokio::spawn(async move {
                    let mut n = 0u64;
                    loop {
                        p.acquire_writes(ThrottleFamily::Identity, 20).await;
                        if tokio::time::Instant::now() >= end {
                            return n;
                        }
                        n += 20;
                    }
                })
            })
            .collect();
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(t.await.unwrap());
        }
        counts
    }

    #[tokio::test(start_paused = true)]
    async fn several_apps_write_their_own_quota_each_up_to_the_tenant_quota() {
        // In 300 s one app is admitted its burst (95% of 3,000) and 300 s at 95% of 20 a second.
        let one: u64 = writes_admitted(1, 300, 1.0).await.iter().sum();
        assert!((8_540..=8_580).contains(&one), "{one}");
        // Three apps: each as much as one alone, three times that in all (under the tenant's
        // 95% of 18,000 plus 300 s at 95% of 60 a second = 34,200).
        let three = writes_admitted(3, 300, 1.0).await;
        for n in &three {
            assert!(n.abs_diff(one) <= 40, "{three:?} against {one}");
        }
        assert!(three.iter().sum::<u64>() <= 34_200, "{three:?}");
        // Ten apps: 85,500 by their own quotas, capped at the tenant's 34,200.
        let ten: u64 = writes_admitted(10, 300, 1.0).await.iter().sum();
        assert!((34_100..=34_260).contains(&ten), "{ten}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_time_scale_multiplies_every_rate_and_keeps_the_bursts() {
        // 30 s at ten times the rate admit what 300 s admit at the published one.
        let real: u64 = writes_admitted(10, 300, 1.0).await.iter().sum();
        let scaled: u64 = writes_admitted(10, 30, 10.0).await.iter().sum();
        assert!(real.abs_diff(scaled) <= 200, "{real} against {scaled}");
        assert_eq!(Pacer::scaled(0, 10.0).another_app().time_scale(), 10.0);
        assert_eq!(Pacer::scaled(0, f64::NAN).time_scale(), 1.0);
    }

    #[test]
    fn costs_follow_the_published_modifiers() {
        assert_eq!(identity_cost(2, false, false, Some(999)), 2);
        assert_eq!(identity_cost(2, true, false, Some(999)), 1);
        assert_eq!(identity_cost(3, true, true, Some(5)), 2);
        assert_eq!(identity_cost(1, true, false, Some(5)), 1);
        assert_eq!(identity_quota(10), 3_500);
        assert_eq!(identity_quota(300), 5_000);
        assert_eq!(identity_quota(10_000), 8_000);
    }
}
