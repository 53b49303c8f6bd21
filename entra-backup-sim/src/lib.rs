//! A simulated Entra ID tenant behind a Microsoft Graph-compatible HTTP server (feature `sim`).
//!
//! It stands in for Graph in tests, benchmarks and demos: a deterministic tenant made from a seed and
//! a size, served with Graph's paging, `$select`, `$filter`, delta, `$batch`, error format,
//! client-credentials tokens and throttling by Microsoft's published limits.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use entra_backup_sim::{SimConfig, SimServer};
//!
//! let sim = SimServer::start(SimConfig { users: 50, groups: 10, ..SimConfig::default() }).await?;
//! assert_eq!(sim.tenant().count("users"), 50);
//! let token_url = format!("{}/{}/oauth2/v2.0/token", sim.url(), sim.tenant_id());
//! // A client gets a token there with any client id and secret, then calls {url}/v1.0/users.
//! # let _ = token_url;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

mod auth;
mod batch;
pub mod churn;
mod errors;
mod faults;
mod generate;
mod handler;
mod packed;
mod protocol;
mod query;
mod recycle;
mod rng;
mod server;
mod tenant;
mod throttle;
mod token;
mod write;

pub use churn::{ChurnReport, churn};
pub use faults::Hold;
pub use generate::generate;
pub use rng::Rng;
pub use server::SimServer;
pub use tenant::{
    CategoryStore, Children, DeletedItem, Entry, LinkChange, Links, Ref, Removal, StoredObject, Tenant, TenantError,
};
pub use throttle::AppUsage;

/// How the simulated tenant is made and how it behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the generated tenant: the same seed and sizes give the same tenant.
    pub seed: u64,
    /// Users in the tenant. Other categories scale from it.
    pub users: usize,
    /// Groups in the tenant.
    pub groups: usize,
    /// Total group memberships to aim for; by default about ten per user.
    pub memberships: Option<usize>,
    /// Added to every response.
    pub latency: Duration,
    /// Enforce Microsoft's published throttling limits (429 with Graph's headers).
    pub throttle: bool,
    /// Share of requests that fail with an injected fault (5xx, connection reset, truncated body,
    /// expired page token), from 0.0 to 1.0.
    pub fault_rate: f64,
    /// The tenant id (a GUID); by default derived from the seed.
    pub tenant_id: Option<String>,
    /// When set, only this client id and secret (and those of `extra_credentials`) get tokens;
    /// otherwise any do. Each client id is an app of its own for throttling (its own per-app
    /// quotas, the tenant-wide ones shared).
    pub credentials: Option<(String, String)>,
    /// More app registrations (client id, secret) of the tenant that get tokens when
    /// `credentials` is set (a restore spreading its writes over several apps).
    pub extra_credentials: Vec<(String, String)>,
    /// Every published throttling rate multiplied by this (each window divided by it, each quota
    /// the same), so that a benchmark runs the real thing faster; 1 outside benchmarks. The
    /// client must pace at the same scale (`Pacer::scaled`).
    pub time_scale: f64,
    /// When set, the application permissions tokens carry; otherwise every permission the catalog
    /// names. Requests needing a permission not granted get 403, as Graph answers them.
    pub granted_permissions: Option<Vec<String>>,
    /// How long an issued access token lives.
    pub token_lifetime: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            users: 200,
            groups: 40,
            memberships: None,
            latency: Duration::ZERO,
            throttle: true,
            fault_rate: 0.0,
            tenant_id: None,
            credentials: None,
            extra_credentials: Vec::new(),
            time_scale: 1.0,
            granted_permissions: None,
            token_lifetime: Duration::from_secs(3599),
        }
    }
}

/// The simulator's clock: real time plus an offset that tests move forward (to expire delta
/// tokens after 7 days, or empty the recycle bin after 30). It never goes back (should the wall
/// clock step back), so records it dates enter a log in time order.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
    /// The latest time read, in nanoseconds since 1970.
    last_nanos: AtomicI64,
}

impl Clock {
    /// The simulator's time: the wall clock moved forward by [`advance`](Self::advance), never earlier
    /// than a time it gave before.
    pub fn now(&self) -> jiff::Timestamp {
        let offset = jiff::SignedDuration::from_secs(self.offset_secs.load(Ordering::Relaxed));
        let t = jiff::Timestamp::now().checked_add(offset).unwrap_or_else(|_| jiff::Timestamp::now());
        let nanos = i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX);
        let last = self.last_nanos.fetch_max(nanos, Ordering::Relaxed);
        if last > nanos { jiff::Timestamp::from_nanosecond(i128::from(last)).unwrap_or(t) } else { t }
    }

    /// Move the clock forward.
    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs() as i64, Ordering::Relaxed);
    }
}

/// The state behind a running simulator, shared by its request handlers and its owner.
#[derive(Debug)]
pub struct SimState {
    /// How the simulator was started.
    pub config: SimConfig,
    /// The simulator's clock, which tests move forward.
    pub clock: Clock,
    tenant: RwLock<Tenant>,
    pub(crate) throttle: throttle::Throttle,
    pub(crate) tokens: token::TokenIssuer,
    pub(crate) faults: faults::Faults,
    pub(crate) holds: faults::Holds,
    /// Bumped to expire every delta and page token issued before (a test's "7 days later").
    pub(crate) token_generation: AtomicI64,
    requests: std::sync::atomic::AtomicU64,
}

impl SimState {
    /// Generate the tenant `config` describes and the state that serves it.
    pub fn new(config: SimConfig) -> Arc<Self> {
        let clock = Clock::default();
        let tenant = generate(&config, clock.now());
        let users = tenant.count("users");
        Arc::new(SimState {
            throttle: throttle::Throttle::scaled(users, config.throttle, config.time_scale)
                .with_tenant_id(&tenant.tenant_id),
            tokens: token::TokenIssuer::new(&config, &tenant.tenant_id),
            faults: faults::Faults::new(config.seed, config.fault_rate),
            holds: faults::Holds::default(),
            tenant: RwLock::new(tenant),
            clock,
            config,
            token_generation: AtomicI64::new(0),
            requests: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Read the ground truth.
    pub fn tenant(&self) -> RwLockReadGuard<'_, Tenant> {
        self.tenant.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Change the ground truth (what an administrator does in the portal).
    pub fn tenant_mut(&self) -> RwLockWriteGuard<'_, Tenant> {
        self.tenant.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The tenant's id (a GUID).
    pub fn tenant_id(&self) -> String {
        self.tenant().tenant_id.clone()
    }

    pub(crate) fn tokens_tenant(&self) -> String {
        self.tenant_id()
    }

    /// A fresh `request-id`.
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.config.seed.wrapping_mul(31).wrapping_add(n)).guid()
    }

    /// What each app (by client id, the token's `appid`) has sent the tenant so far: requests,
    /// writes admitted, 429s (also served at `GET /_sim/apps`).
    pub fn app_usage(&self) -> std::collections::BTreeMap<String, AppUsage> {
        self.throttle.usage()
    }

    /// Expire every access token issued so far (clients must fetch a new one on 401).
    pub fn expire_access_tokens(&self) {
        self.tokens.expire_all();
    }

    /// Expire every delta link and page token issued so far, as Graph does after 7 days.
    pub fn expire_tokens(&self) {
        self.token_generation.fetch_add(1, Ordering::Relaxed);
    }
}

/// Parse `HOST:PORT` for `sim serve --addr`, with one clear message on bad input.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    s.to_socket_addrs()
        .map_err(|e| format!("bad address '{s}': {e} (expected HOST:PORT, such as 127.0.0.1:8080)"))?
        .next()
        .ok_or_else(|| format!("bad address '{s}': it resolves to nothing"))
}
