//! The deterministic tenant generator: a seed and a size make a realistic Entra ID tenant, the same
//! on every machine.
//!
//! Every object is the full Graph JSON (what Graph returns with every property selected), true to
//! Microsoft's v1.0 CSDL for v1.0 categories. Links and contained children follow the catalog's
//! relationships; a category or relationship the catalog does not (yet) have is skipped.
//!
//! Object timestamps come from a fixed anchor (2026-01-01T00:00:00Z) minus random offsets, so the
//! tenant does not depend on when it was made; only log records (directory audits and sign-ins) are
//! placed relative to `now`, over the 30 days before it, so that time-window reads find them.
//!
//! Randomness comes only from [`Rng`], one fork per purpose, so that adding objects to one category
//! does not change another.
//!
//! Each kind of object has a module that adds its methods to the generator `Gen` (`directory`,
//! `users`, `groups`, `apps`, `grants`, `roles`, `conditional_access`, `policies`, `intune`, `logs`);
//! `data` holds the fixed names and tables they draw from, and `Gen::run` the order they run in.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use super::{Ref, Rng, SimConfig, Tenant, TenantError};
use entra_backup::catalog::{self, RelationshipKind};

/// A JSON object with its properties in order, built without serde's serializer (fast in debug
/// builds) and with exact capacity (no slack in the tenant's memory): `obj!{ "id": id, "x": NULL }`.
macro_rules! obj {
    ($($k:literal : $v:expr),* $(,)?) => {{
        let mut m = ::serde_json::Map::with_capacity([$($k),*].len());
        $( m.insert(::std::string::String::from($k), $crate::generate::J::j($v)); )*
        ::serde_json::Value::Object(m)
    }};
}

/// A JSON array: `arr![a, b]`.
macro_rules! arr {
    ($($v:expr),* $(,)?) => {
        ::serde_json::Value::Array(::std::vec![$($crate::generate::J::j($v)),*])
    };
}

mod apps;
mod conditional_access;
mod data;
mod directory;
mod grants;
mod groups;
mod intune;
mod logs;
mod policies;
mod roles;
mod users;

/// Generate the tenant that `config` describes. Log records are placed in the 30 days before `now`.
pub fn generate(config: &SimConfig, now: Timestamp) -> Tenant {
    let mut g = Gen::new(config, now);
    g.run();
    g.tenant
}

/// The fixed point in time object timestamps are counted back from.
const ANCHOR_SECONDS: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

/// A relationship's content, given as both kinds where the catalog may model it either way.
pub(crate) enum Rel {
    /// Links to other objects (used when the catalog's relationship is `Links` or `Link`).
    Links(Vec<Ref>),
    /// Contained child objects, each with an `id` (used when the relationship is `Contained`).
    Children(Vec<Value>),
}

/// A user as the rest of the generator needs to know it.
#[derive(Debug, Clone)]
pub(crate) struct UserInfo {
    pub id: String,
    pub display_name: String,
    pub upn: String,
    pub country: Option<&'static str>,
    pub site: usize,
    pub job_title: Option<String>,
    pub guest: bool,
    pub enabled: bool,
    pub synced: bool,
}

/// The kinds of groups a tenant holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupKind {
    /// The static security group holding every member user.
    AllEmployees,
    Security,
    Unified,
    DynamicSecurity,
    DynamicUnified,
    MailEnabledSecurity,
    Distribution,
    RoleAssignable,
    Synced,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupInfo {
    pub id: String,
    pub display_name: String,
    pub kind: GroupKind,
}

#[derive(Debug, Clone)]
pub(crate) struct DeviceInfo {
    pub id: String,
    pub device_id: String,
    pub display_name: String,
    pub os: &'static str,
    pub owner: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct AppInfo {
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
    /// The service principal's object id.
    pub sp_id: String,
    /// Microsoft Graph application permissions it was granted (app role ids).
    pub app_roles: Vec<&'static str>,
    /// Delegated scopes (values).
    pub scopes: Vec<&'static str>,
}

/// The generator's working state.
pub(crate) struct Gen<'a> {
    pub cfg: &'a SimConfig,
    pub now: Timestamp,
    pub anchor: Timestamp,
    pub root: Rng,
    pub tenant: Tenant,
    pub tenant_id: String,
    /// The initial domain: `contoso{seed}.onmicrosoft.com`.
    pub initial_domain: String,
    /// The verified custom domain users sign in with.
    pub domain: String,
    /// The company name.
    pub company: String,
    /// The on-premises AD domain synced users come from.
    pub ad_domain: String,
    pub ad_sid: String,
    pub users: Vec<UserInfo>,
    pub groups: Vec<GroupInfo>,
    pub contacts: Vec<String>,
    pub devices: Vec<DeviceInfo>,
    pub apps: Vec<AppInfo>,
    /// First-party and third-party service principals with no application in the tenant:
    /// (object id, app id, display name).
    pub foreign_sps: Vec<(String, String, String)>,
    pub graph_sp: String,
    pub admin_units: Vec<String>,
    /// Activated directory roles: (object id, template id).
    pub directory_roles: Vec<(String, &'static str)>,
    /// Custom role definitions (ids).
    pub custom_roles: Vec<String>,
    pub named_locations: Vec<String>,
    pub ca_policies: Vec<(String, String)>,
    /// How each Conditional Access policy shows in a successful sign-in
    /// (`appliedConditionalAccessPolicies` entries).
    pub ca_applied: Vec<Value>,
    /// Authentication strength policies (their JSON, as Conditional Access embeds them).
    pub auth_strengths: Vec<Value>,
    /// The emergency-access ("break glass") account.
    pub break_glass: usize,
    /// Users holding admin roles.
    pub admins: Vec<usize>,
    /// The [`USER_PROPS`] of each user, by id, kept while generating: dynamic rules and licence
    /// counts read them, and the tenant would otherwise decode every user again for each.
    pub user_props: HashMap<String, Vec<Value>>,
    /// Licences assigned to users, by SKU id.
    pub licences: HashMap<String, i64>,
}

/// The user properties dynamic membership rules read.
pub(crate) const USER_PROPS: [&str; 4] = ["accountEnabled", "country", "department", "userType"];

impl<'a> Gen<'a> {
    fn new(cfg: &'a SimConfig, now: Timestamp) -> Self {
        let root = Rng::new(cfg.seed);
        let tenant_id = cfg.tenant_id.clone().unwrap_or_else(|| root.fork("tenant").guid());
        let short = format!("contoso{}", cfg.seed);
        let initial_domain = format!("{short}.onmicrosoft.com");
        let tenant = Tenant::new(tenant_id.clone(), initial_domain.clone());
        let mut sid = root.fork("ad-sid");
        let ad_sid = format!(
            "S-1-5-21-{}-{}-{}",
            1_000_000_000 + sid.below(1_000_000_000),
            1_000_000_000 + sid.below(1_000_000_000),
            1_000_000_000 + sid.below(1_000_000_000)
        );
        Gen {
            cfg,
            now: Timestamp::from_second(now.as_second()).unwrap_or(now),
            anchor: Timestamp::from_second(ANCHOR_SECONDS).expect("anchor"),
            root,
            tenant,
            tenant_id,
            initial_domain,
            domain: format!("{short}.com"),
            company: format!("Contoso {}", cfg.seed),
            ad_domain: format!("corp.{short}.com"),
            ad_sid,
            users: Vec::new(),
            groups: Vec::new(),
            contacts: Vec::new(),
            devices: Vec::new(),
            apps: Vec::new(),
            foreign_sps: Vec::new(),
            graph_sp: String::new(),
            admin_units: Vec::new(),
            directory_roles: Vec::new(),
            custom_roles: Vec::new(),
            named_locations: Vec::new(),
            ca_policies: Vec::new(),
            ca_applied: Vec::new(),
            auth_strengths: Vec::new(),
            break_glass: 0,
            admins: Vec::new(),
            user_props: HashMap::new(),
            licences: HashMap::new(),
        }
    }

    fn run(&mut self) {
        self.organization_and_domains();
        self.users();
        self.subscribed_skus();
        self.contacts();
        self.devices();
        self.applications();
        self.groups();
        self.app_role_assignments();
        self.oauth2_grants();
        self.attribute_sets();
        self.roles();
        self.administrative_units();
        self.named_locations();
        self.auth_contexts();
        self.authentication_strengths();
        self.conditional_access();
        self.authentication_methods();
        self.tenant_policies();
        self.group_settings();
        self.sts_policies();
        self.bitlocker_keys();
        self.intune();
        self.configuration_policies();
        self.compliance_policies();
        self.group_policy_configurations();
        // Rules are evaluated by now: the memory goes to the logs.
        self.user_props = HashMap::new();
        self.logs();
    }

    // ----- randomness -----

    pub(crate) fn rng(&self, purpose: &str) -> Rng {
        self.root.fork(purpose)
    }

    // ----- time -----

    /// A moment between `min_days` and `max_days` before the anchor, to the second.
    pub(crate) fn past(&self, rng: &mut Rng, min_days: u32, max_days: u32) -> Timestamp {
        let lo = i64::from(min_days) * 86_400;
        let hi = (i64::from(max_days) * 86_400).max(lo + 1);
        let back = lo + rng.below((hi - lo) as usize) as i64;
        self.anchor - SignedDuration::from_secs(back)
    }

    /// A moment after `t` by up to `max_days`, never past the anchor.
    pub(crate) fn after(&self, rng: &mut Rng, t: Timestamp, max_days: u32) -> Timestamp {
        let span = i64::from(max_days) * 86_400;
        let later = t + SignedDuration::from_secs(rng.below(span.max(1) as usize) as i64);
        later.min(self.anchor)
    }

    // ----- writing to the tenant -----

    /// Insert an object with its relationships. A category the catalog lacks is skipped (false); a
    /// relationship it lacks, or of another kind than given, is skipped.
    ///
    /// Links and children are set on the stored object directly rather than through
    /// [`Tenant::link`]: they are part of the object from its creation (no change-log entries, as
    /// for any object that existed before a delta round began), and `link` checks for duplicates
    /// by a linear scan, which would make a 50,000-member group quadratic.
    pub(crate) fn put(&mut self, category: &'static str, json: Value, rels: Vec<(&'static str, Rel)>) -> bool {
        let Some(cat) = catalog::get(category) else { return false };
        if category == "users"
            && let Some(id) = json.get("id").and_then(Value::as_str)
        {
            let props = USER_PROPS.iter().map(|p| json.get(*p).cloned().unwrap_or(Value::Null)).collect();
            self.user_props.insert(id.to_string(), props);
            for l in json.get("assignedLicenses").and_then(Value::as_array).into_iter().flatten() {
                *self.licences.entry(l["skuId"].as_str().unwrap_or_default().to_string()).or_default() += 1;
            }
        }
        let mut links = crate::Links::new();
        let mut kids = crate::Children::new();
        for (name, rel) in rels {
            let Some(def) = cat.relationships.iter().find(|r| r.name == name) else { continue };
            match (def.kind, rel) {
                (RelationshipKind::Links | RelationshipKind::Link, Rel::Links(mut refs)) if !refs.is_empty() => {
                    if def.kind == RelationshipKind::Link {
                        refs.truncate(1);
                    }
                    links.insert(def.name, refs);
                }
                (RelationshipKind::Contained, Rel::Children(children)) if !children.is_empty() => {
                    let children = children
                        .into_iter()
                        .map(|c| match c {
                            Value::Object(m) if m.get("id").is_some_and(Value::is_string) => m,
                            other => panic!("generator bug: a child of {category}/{name} without an id: {other}"),
                        })
                        .collect();
                    kids.insert(def.name, children);
                }
                _ => {}
            }
        }
        match self.tenant.put(category, json, Some(links), Some(kids)) {
            Ok(_) => true,
            Err(TenantError::UnknownCategory(_)) => false,
            Err(e) => panic!("generator bug: {e}"),
        }
    }

    /// Whether the catalog has this category.
    pub(crate) fn has(&self, category: &str) -> bool {
        catalog::get(category).is_some()
    }

    /// The kind of a relationship, when the catalog has it.
    pub(crate) fn rel_kind(&self, category: &str, rel: &str) -> Option<RelationshipKind> {
        catalog::get(category)?.relationships.iter().find(|r| r.name == rel).map(|r| r.kind)
    }

    /// Add a contained child to an object inserted earlier (skipped when the catalog lacks the
    /// relationship or models it as links).
    pub(crate) fn add_child(&mut self, category: &str, id: &str, rel: &str, child: Value) {
        if self.rel_kind(category, rel) != Some(RelationshipKind::Contained) {
            return;
        }
        match self.tenant.add_child(category, id, rel, child) {
            Ok(()) | Err(TenantError::UnknownCategory(_) | TenantError::UnknownRelationship { .. }) => {}
            Err(TenantError::NotFound { .. }) => {}
            Err(e) => panic!("generator bug: {e}"),
        }
    }

    /// Add a link to an object inserted earlier (skipped when the catalog lacks the relationship
    /// or models it as contained children).
    pub(crate) fn add_link(&mut self, category: &str, id: &str, rel: &str, target: Ref) {
        if !matches!(self.rel_kind(category, rel), Some(RelationshipKind::Links | RelationshipKind::Link)) {
            return;
        }
        match self.tenant.link(category, id, rel, target) {
            Ok(()) | Err(TenantError::UnknownCategory(_) | TenantError::UnknownRelationship { .. }) => {}
            Err(TenantError::NotFound { .. }) => {}
            Err(e) => panic!("generator bug: {e}"),
        }
    }

    // ----- shared helpers -----

    pub(crate) fn user_ref(&self, i: usize) -> Ref {
        Ref { category: "users", id: self.users[i].id.clone() }
    }

    pub(crate) fn group_ref(&self, i: usize) -> Ref {
        Ref { category: "groups", id: self.groups[i].id.clone() }
    }

    /// Indices of member (non-guest) users.
    pub(crate) fn member_users(&self) -> Vec<usize> {
        (0..self.users.len()).filter(|&i| !self.users[i].guest).collect()
    }

    /// Groups of the given kinds.
    pub(crate) fn groups_of(&self, kinds: &[GroupKind]) -> Vec<usize> {
        (0..self.groups.len()).filter(|&i| kinds.contains(&self.groups[i].kind)).collect()
    }

    /// Up to `k` distinct items of `pool`, in a random order, without touching the rest.
    pub(crate) fn sample<T: Clone>(rng: &mut Rng, pool: &[T], k: usize) -> Vec<T> {
        let k = k.min(pool.len());
        if k == 0 {
            return Vec::new();
        }
        if k * 4 <= pool.len() {
            let mut seen = HashSet::with_capacity(k * 2);
            let mut out = Vec::with_capacity(k);
            while out.len() < k {
                let i = rng.below(pool.len());
                if seen.insert(i) {
                    out.push(pool[i].clone());
                }
            }
            out
        } else {
            let mut idx: Vec<usize> = (0..pool.len()).collect();
            for i in 0..k {
                let j = i + rng.below(pool.len() - i);
                idx.swap(i, j);
            }
            idx[..k].iter().map(|&i| pool[i].clone()).collect()
        }
    }
}

// ----- free helpers -----

/// JSON null, for `obj!`.
pub(crate) const NULL: Value = Value::Null;

/// Conversion into a JSON value, for `obj!` and `arr!`.
pub(crate) trait J {
    fn j(self) -> Value;
}

impl J for Value {
    fn j(self) -> Value {
        self
    }
}
impl J for Map<String, Value> {
    fn j(self) -> Value {
        Value::Object(self)
    }
}
impl J for String {
    fn j(self) -> Value {
        Value::String(self)
    }
}
impl J for &str {
    fn j(self) -> Value {
        Value::String(self.to_string())
    }
}
impl J for bool {
    fn j(self) -> Value {
        Value::Bool(self)
    }
}
macro_rules! j_number {
    ($($t:ty),*) => {$(
        impl J for $t {
            fn j(self) -> Value {
                Value::from(self)
            }
        }
    )*};
}
j_number!(i32, i64, u32, u64, usize, f64);
impl<T: J> J for Option<T> {
    fn j(self) -> Value {
        self.map_or(Value::Null, J::j)
    }
}
impl<T: J> J for Vec<T> {
    fn j(self) -> Value {
        Value::Array(self.into_iter().map(J::j).collect())
    }
}
impl<T: J + Clone> J for &[T] {
    fn j(self) -> Value {
        Value::Array(self.iter().cloned().map(J::j).collect())
    }
}
/// A reference converts a copy (as `json!` does).
impl<T: J + Clone> J for &T {
    fn j(self) -> Value {
        self.clone().j()
    }
}
impl<T: J + Clone, const N: usize> J for [T; N] {
    fn j(self) -> Value {
        Value::Array(self.into_iter().map(J::j).collect())
    }
}

/// Graph's timestamp format: `2024-05-01T10:11:12Z`.
pub(crate) fn ts(t: Timestamp) -> String {
    t.to_string()
}

/// The 16 bytes of a GUID in .NET's order (the first three groups little-endian).
pub(crate) fn guid_bytes(guid: &str) -> [u8; 16] {
    let hex: Vec<u8> = guid
        .bytes()
        .filter(|b| *b != b'-')
        .collect::<Vec<u8>>()
        .chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap_or("00"), 16).unwrap_or(0))
        .collect();
    let mut b = [0u8; 16];
    b.copy_from_slice(&hex[..16]);
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

/// The security identifier Entra ID gives a cloud object: `S-1-12-1-` and the GUID as four
/// 32-bit numbers.
pub(crate) fn cloud_sid(guid: &str) -> String {
    let b = guid_bytes(guid);
    let n = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    format!("S-1-12-1-{}-{}-{}-{}", n(0), n(4), n(8), n(12))
}

/// Base64 (standard, padded) of some bytes.
pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64url without padding of some bytes (ids of grants and app role assignments).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Random bytes.
pub(crate) fn random_bytes<const N: usize>(rng: &mut Rng) -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        let v = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    out
}

/// An uppercase hexadecimal string of `n` random digits.
pub(crate) fn hex_upper(rng: &mut Rng, n: usize) -> String {
    const D: &[u8] = b"0123456789ABCDEF";
    (0..n).map(|_| D[rng.below(16)] as char).collect()
}

/// A weighted pick: an index into `weights`.
pub(crate) fn weighted(rng: &mut Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.below(total.max(1) as usize) as u32;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A parsed dynamic membership rule of the simple kind this generator writes:
/// `(user.prop -eq "value")` clauses joined by `-and`, with `-eq`, `-ne`, `-startsWith` and
/// `-contains`, on string or boolean properties. Unknown syntax never matches.
pub(crate) struct Rule {
    clauses: Vec<(String, String, Value)>,
    valid: bool,
}

impl Rule {
    pub(crate) fn parse(rule: &str) -> Rule {
        let mut clauses = Vec::new();
        let mut valid = true;
        for clause in rule.split(" -and ") {
            let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
            let mut parts = clause.splitn(3, ' ');
            let (Some(lhs), Some(op), Some(rhs)) = (parts.next(), parts.next(), parts.next()) else {
                valid = false;
                continue;
            };
            let Some(prop) = lhs.strip_prefix("user.").or_else(|| lhs.strip_prefix("device.")) else {
                valid = false;
                continue;
            };
            let rhs = rhs.trim();
            let expected = match rhs {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                s => Value::String(s.trim_matches('"').to_string()),
            };
            clauses.push((prop.to_string(), op.to_ascii_lowercase(), expected));
        }
        Rule { clauses, valid }
    }

    /// The properties the rule reads.
    pub(crate) fn properties(&self) -> impl Iterator<Item = &str> {
        self.clauses.iter().map(|(p, _, _)| p.as_str())
    }

    /// Evaluate on properties from `get`.
    pub(crate) fn matches_with<'v>(&self, get: impl Fn(&str) -> Option<&'v Value>) -> bool {
        self.valid
            && self.clauses.iter().all(|(prop, op, expected)| {
                let actual = get(prop.as_str()).unwrap_or(&Value::Null);
                let eq = match (expected, actual) {
                    (Value::String(e), Value::String(a)) => e.eq_ignore_ascii_case(a),
                    (e, a) => e == a,
                };
                let text = |f: fn(&str, &str) -> bool| match (expected, actual) {
                    (Value::String(e), Value::String(a)) => f(&a.to_ascii_lowercase(), &e.to_ascii_lowercase()),
                    _ => false,
                };
                match op.as_str() {
                    "-eq" => eq,
                    "-ne" => !eq,
                    "-startswith" => text(|a, e| a.starts_with(e)),
                    "-contains" => text(|a, e| a.contains(e)),
                    _ => false,
                }
            })
    }

    /// The users (indices into `g.users`) the rule selects, reading the generated user objects.
    pub(crate) fn select_users(rules: &[&Rule], g: &Gen<'_>) -> Vec<Vec<usize>> {
        let mut props: Vec<&str> = rules.iter().flat_map(|r| r.properties()).collect();
        props.sort_unstable();
        props.dedup();
        // The few properties rules read, per user, looked up once (kept aside while generating
        // when they are among USER_PROPS, decoded from the tenant otherwise).
        let kept: Option<Vec<usize>> = props.iter().map(|p| USER_PROPS.iter().position(|k| k == p)).collect();
        let values: Vec<Vec<Value>> = g
            .users
            .iter()
            .map(|u| match (&kept, g.user_props.get(&u.id)) {
                (Some(ix), Some(v)) => ix.iter().map(|&i| v[i].clone()).collect(),
                _ => {
                    let json = g.tenant.get("users", &u.id).map(|o| o.json);
                    props
                        .iter()
                        .map(|p| json.as_ref().and_then(|j| j.get(*p)).cloned().unwrap_or(Value::Null))
                        .collect()
                }
            })
            .collect();
        rules
            .iter()
            .map(|r| {
                (0..g.users.len())
                    .filter(|&i| r.matches_with(|p| props.iter().position(|x| *x == p).map(|k| &values[i][k])))
                    .collect()
            })
            .collect()
    }
}
