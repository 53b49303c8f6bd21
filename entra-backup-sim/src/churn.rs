//! Deterministic churn of the simulated tenant: about a given share of the big directory categories
//! changes, as administrators and users change a tenant between two backups, so that incremental
//! backups (delta rounds) can be tested and benchmarked.
//!
//! Every change goes through [`Tenant`]'s public mutators (`insert`, `patch`, `remove`, `link`,
//! `unlink`), so each gets a change sequence number and delta queries report it as Graph would. The
//! same tenant and seed give the same changes: randomness comes only from the simulator's [`Rng`],
//! seeded by the seed and the tenant's latest change sequence number (so that churning twice with
//! the same seed changes different objects and never reuses an id).
//!
//! With `n` objects in a category and `k = max(1, round(n * fraction))`:
//!
//! - users: `k` users get 1 to 3 property changes (job title, department move, office, phones, an
//!   address move within their country, employee type); `round(k / 10)` of them (members) a new
//!   manager; `round(k / 20)` new users are created (cloned from a cloud-only member of the tenant,
//!   with a fresh id, name, unique `userPrincipalName` and timestamps of `now`, reporting to the
//!   template's manager) and `round(k / 20)` users are removed, alternately soft and hard. Only
//!   users that nothing but groups and devices refers to are removed (no managers, role holders,
//!   application owners, administrative-unit members...), after being unlinked from those groups and
//!   devices.
//! - groups: `k` groups get a description or display name change, a membership change (1 to 5 users
//!   added or removed), or both. Dynamic groups keep holding what their rules select: users whose
//!   properties changed or who were created are added to or removed from them, and new member users
//!   join "All Employees" (these groups count as updated too). Dynamic, synced and "All Employees"
//!   groups only get description changes from the random share.
//! - devices: `k` devices get a property change (`displayName`, `operatingSystemVersion` or
//!   `approximateLastSignInDateTime`); `max(1, round(k / 10))` of them a new registered owner.
//! - applications and servicePrincipals: `k` of each get a `notes` or `tags` change.
//! - directoryAudits and signIns: `k` new records each, cloned from existing ones with new ids and
//!   times in the minutes before `now`, strictly increasing and later than any existing record.
//!
//! Every other category is left alone (dynamic administrative units are not re-evaluated: no
//! property their rules read is changed on existing users).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};

use super::generate::{Gen, Rule, cloud_sid, hex_upper, ts};
use super::{Ref, Removal, Rng, Tenant};
use entra_backup::catalog;

/// The categories churn changes, in the order it changes them.
pub const CHURNED_CATEGORIES: &[&str] =
    &["users", "groups", "devices", "applications", "servicePrincipals", "directoryAudits", "signIns"];

/// What churn did to one category. Ids are sorted; an object counts once, as created, removed or
/// (otherwise) updated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryChurn {
    /// Existing objects whose properties or links changed.
    pub updated: usize,
    /// New objects.
    pub created: usize,
    /// Objects removed (soft or hard).
    pub removed: usize,
    /// Links added or removed on objects of this category (a replaced manager counts two).
    pub links_changed: usize,
    pub updated_ids: Vec<String>,
    pub created_ids: Vec<String>,
    pub removed_ids: Vec<String>,
}

/// What [`churn`] changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnReport {
    /// The share asked for (clamped to 0..=1).
    pub fraction: f64,
    pub seed: u64,
    /// The tenant's change sequence number before and after the churn: a delta round taken at
    /// `seq_before` sees exactly these changes.
    pub seq_before: u64,
    pub seq_after: u64,
    /// Per churned category (every one of [`CHURNED_CATEGORIES`] the catalog has, changed or not).
    pub categories: BTreeMap<&'static str, CategoryChurn>,
    /// Objects created, updated or removed over all categories.
    pub objects_touched: usize,
}

impl ChurnReport {
    /// The changes of one category (empty for a category churn leaves alone).
    pub fn category(&self, name: &str) -> CategoryChurn {
        self.categories.get(name).cloned().unwrap_or_default()
    }
}

/// Change about `fraction` of the big directory categories of `tenant`, deterministically from
/// `seed` (see the module documentation for the mix). `now` dates new objects and log records.
pub fn churn(tenant: &mut Tenant, now: Timestamp, fraction: f64, seed: u64) -> ChurnReport {
    let fraction = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 };
    let seq_before = tenant.seq();
    let root = Rng::new(seed).fork(&format!("churn-{seq_before}"));
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let mut c = Churn { t: tenant, now, fraction, root, track: BTreeMap::new() };
    c.users();
    c.devices();
    c.groups();
    c.properties("applications");
    c.properties("servicePrincipals");
    c.logs("directoryAudits");
    c.logs("signIns");

    let mut categories = BTreeMap::new();
    let mut objects_touched = 0;
    for name in CHURNED_CATEGORIES.iter().copied().filter(|n| catalog::get(n).is_some()) {
        let tr = c.track.remove(name).unwrap_or_default();
        let updated_ids: Vec<String> =
            tr.updated.iter().filter(|id| !tr.created.contains(*id) && !tr.removed.contains(*id)).cloned().collect();
        let report = CategoryChurn {
            updated: updated_ids.len(),
            created: tr.created.len(),
            removed: tr.removed.len(),
            links_changed: tr.links,
            updated_ids,
            created_ids: tr.created.into_iter().collect(),
            removed_ids: tr.removed.into_iter().collect(),
        };
        objects_touched += report.updated + report.created + report.removed;
        categories.insert(name, report);
    }
    ChurnReport { fraction, seed, seq_before, seq_after: c.t.seq(), categories, objects_touched }
}

#[derive(Debug, Default)]
struct Track {
    updated: BTreeSet<String>,
    created: BTreeSet<String>,
    removed: BTreeSet<String>,
    links: usize,
}

struct Churn<'t> {
    t: &'t mut Tenant,
    now: Timestamp,
    fraction: f64,
    root: Rng,
    track: BTreeMap<&'static str, Track>,
}

/// Operating system versions devices move between, by `operatingSystem`.
const OS_VERSIONS: &[(&str, &[&str])] = &[
    ("Windows", &["10.0.19045.4651", "10.0.22631.3880", "10.0.22631.4169", "10.0.26100.2033", "10.0.26100.2314"]),
    ("iOS", &["17.5.1", "17.6", "18.0.1", "18.1", "18.2"]),
    ("Android", &["13", "14", "15"]),
    ("MacMDM", &["14.5", "14.6.1", "15.0", "15.1"]),
];

/// Group descriptions an administrator writes.
const GROUP_DESCRIPTIONS: &[&str] = &[
    "Membership reviewed by the owner",
    "Access to shared resources",
    "Managed by the service desk",
    "Do not add external users",
    "Used for licence assignment",
    "Owners approve new members",
    "Scheduled for the annual access review",
    "Members of the project team",
];

/// What administrators write in an application's or service principal's notes.
const NOTES: &[&str] = &[
    "Reviewed by the application owner.",
    "Secret rotation scheduled.",
    "Permissions reviewed; no change needed.",
    "Owner changed after a reorganisation.",
    "Sign-in logs checked for unused access.",
];

/// Tags added to or removed from applications and service principals.
const TAGS: &[&str] = &["HideApp", "Tier:1", "Owner:IT", "Reviewed", "Deprecated"];

/// Templates, taken userPrincipalNames (lowercase) and the highest employee id, for new users.
struct NewUsers {
    templates: Vec<String>,
    taken: HashSet<String>,
    employee_id: u64,
}

/// The address properties of a site, moved together.
const ADDRESS: [&str; 4] = ["city", "state", "postalCode", "streetAddress"];

/// What members of the tenant hold, for changes that copy it: (department, job title) pairs and
/// (country, address) sites, each distinct and in order.
struct Donors {
    roles: Vec<(String, String)>,
    sites: Vec<(String, [Value; 4])>,
}

impl Donors {
    fn new(t: &Tenant) -> Donors {
        let mut roles = BTreeSet::new();
        let mut sites = BTreeSet::new();
        for u in t.objects("users").filter(|u| string(&u.json, "userType") == Some("Member")) {
            let j = &u.json;
            if let (Some(d), Some(title)) = (string(j, "department"), string(j, "jobTitle"))
                && title != "Chief Executive Officer"
                && title != "Emergency Access Account"
            {
                roles.insert((d.to_string(), title.to_string()));
            }
            if let Some(country) = string(j, "country")
                && string(j, "city").is_some()
            {
                let site = ADDRESS.map(|p| j.get(p).cloned().unwrap_or(Value::Null));
                sites.insert((country.to_string(), site.map(|v| v.to_string())));
            }
        }
        let sites = sites
            .into_iter()
            .map(|(c, site)| (c, site.map(|v| serde_json::from_str(&v).unwrap_or(Value::Null))))
            .collect();
        Donors { roles: roles.into_iter().collect(), sites }
    }
}

/// How long before `now` new log records start.
const LOG_WINDOW: SignedDuration = SignedDuration::from_secs(5 * 60);

fn string<'a>(json: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    json.get(key).and_then(Value::as_str)
}

impl Churn<'_> {
    fn k(&self, n: usize) -> usize {
        if n == 0 { 0 } else { ((n as f64 * self.fraction).round() as usize).clamp(1, n) }
    }

    fn track(&mut self, category: &'static str) -> &mut Track {
        self.track.entry(category).or_default()
    }

    fn ids(&self, category: &str) -> Vec<String> {
        self.t.objects(category).map(|o| o.id().to_string()).collect()
    }

    fn patch(&mut self, category: &'static str, id: &str, changes: Map<String, Value>) {
        if !changes.is_empty() && self.t.patch(category, id, &changes).is_ok() {
            self.track(category).updated.insert(id.to_string());
        }
    }

    fn link(&mut self, category: &'static str, id: &str, rel: &str, target: Ref) {
        if self.t.links(category, id, rel).contains(&target) {
            return;
        }
        let replaced = match catalog::get(category).and_then(|c| c.relationships.iter().find(|r| r.name == rel)) {
            Some(r) if r.kind == catalog::RelationshipKind::Link => self.t.links(category, id, rel).len(),
            _ => 0,
        };
        if self.t.link(category, id, rel, target).is_ok() {
            let tr = self.track(category);
            tr.links += 1 + replaced;
            tr.updated.insert(id.to_string());
        }
    }

    fn unlink(&mut self, category: &'static str, id: &str, rel: &str, target: &Ref) {
        if self.t.unlink(category, id, rel, target).unwrap_or(false) {
            let tr = self.track(category);
            tr.links += 1;
            tr.updated.insert(id.to_string());
        }
    }

    /// A fresh object id: no live or removed object has it.
    fn fresh_id(&self, rng: &mut Rng) -> String {
        loop {
            let id = rng.guid();
            let removed =
                catalog::all().iter().any(|c| self.t.store(c.name).is_some_and(|s| s.removed.contains_key(&id)));
            if self.t.find(&id).is_none() && !removed {
                return id;
            }
        }
    }

    // ----- users -----

    /// Users something other than a group or a device refers to (by a link or by id in its JSON):
    /// managers, role holders, owners of applications, members of administrative units, users named
    /// in policies. Removing them would change other categories.
    fn referenced_users(&self) -> HashSet<String> {
        let Some(users) = self.t.store("users") else { return HashSet::new() };
        let mut out = HashSet::new();
        fn walk(v: &Value, users: &super::CategoryStore, out: &mut HashSet<String>) {
            match v {
                Value::String(s) => {
                    let last = s.rsplit('/').next().unwrap_or(s);
                    for candidate in [s.as_str(), last] {
                        if candidate.len() == 36 && users.objects.contains_key(candidate) {
                            out.insert(candidate.to_string());
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, users, out)),
                Value::Object(m) => m.values().for_each(|x| walk(x, users, out)),
                _ => {}
            }
        }
        for cat in catalog::all().iter().filter(|c| c.time_property.is_none()) {
            let links = !matches!(cat.name, "groups" | "devices");
            let json = !matches!(cat.name, "users" | "groups" | "devices");
            if !links && !json {
                continue;
            }
            for o in self.t.objects(cat.name) {
                if links {
                    for targets in o.links.values() {
                        out.extend(targets.iter().filter(|r| r.category == "users").map(|r| r.id.clone()));
                    }
                }
                if json {
                    o.json.values().for_each(|v| walk(v, users, &mut out));
                    for children in o.children.values() {
                        for child in children {
                            child.values().for_each(|v| walk(v, users, &mut out));
                        }
                    }
                }
            }
        }
        out
    }

    fn users(&mut self) {
        let n = self.t.count("users");
        let k = self.k(n);
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork("users");
        let ids = self.ids("users");
        // The top of the hierarchy (the CEO) and the emergency-access account stay as they are.
        let protected: HashSet<String> = self
            .t
            .objects("users")
            .filter(|u| {
                (string(&u.json, "userType") == Some("Member") && u.links("manager").is_empty())
                    || string(&u.json, "userPrincipalName").is_some_and(|p| p.starts_with("breakglass@"))
            })
            .map(|u| u.id().to_string())
            .collect();

        // Removals first, so nothing below links to a removed user.
        let referenced = self.referenced_users();
        let removable: Vec<String> =
            ids.iter().filter(|id| !referenced.contains(*id) && !protected.contains(*id)).cloned().collect();
        let removals = Gen::sample(&mut rng, &removable, (k as f64 / 20.0).round() as usize);
        self.remove_users(&removals);

        // Property changes.
        let gone: HashSet<&String> = removals.iter().collect();
        let pool: Vec<String> =
            ids.iter().filter(|id| !gone.contains(id) && !protected.contains(*id)).cloned().collect();
        let chosen = Gen::sample(&mut rng, &pool, k);
        // Managers to move to: members other than the emergency-access account.
        let members: Vec<String> = self
            .t
            .objects("users")
            .filter(|u| string(&u.json, "userType") == Some("Member"))
            .filter(|u| !string(&u.json, "userPrincipalName").is_some_and(|p| p.starts_with("breakglass@")))
            .map(|u| u.id().to_string())
            .collect();
        let donors = Donors::new(self.t);
        for id in &chosen {
            let changes = self.user_changes(&mut rng, id, &donors);
            self.patch("users", id, changes);
        }

        // New managers for about a tenth of them.
        let managers = (k as f64 / 10.0).round() as usize;
        let movers: Vec<String> = chosen
            .iter()
            .filter(|id| self.t.get("users", id).is_some_and(|u| string(&u.json, "userType") == Some("Member")))
            .take(managers)
            .cloned()
            .collect();
        for id in &movers {
            if let Some(m) = self.new_manager(&mut rng, id, &members) {
                self.link("users", id, "manager", Ref { category: "users", id: m });
            }
        }

        // New users.
        let creations = (k as f64 / 20.0).round() as usize;
        if creations > 0 {
            let mut ctx = self.new_users();
            for _ in 0..creations {
                self.new_user(&mut rng, &mut ctx);
            }
        }

        // Dynamic groups follow the changed and new users; new members join All Employees.
        let mut touched: Vec<String> = chosen;
        let created: Vec<String> = self.track("users").created.iter().cloned().collect();
        touched.extend(created.iter().cloned());
        self.reevaluate_groups(&touched, &created);
    }

    /// Unlink the users from the groups and devices that name them, then remove them (alternately
    /// soft and hard).
    fn remove_users(&mut self, removals: &[String]) {
        if removals.is_empty() {
            return;
        }
        let gone: HashSet<&str> = removals.iter().map(String::as_str).collect();
        let mut referrers: Vec<(&'static str, String, &'static str, Ref)> = Vec::new();
        for category in ["groups", "devices"] {
            for o in self.t.objects(category) {
                for (rel, targets) in &o.links {
                    for r in targets.iter().filter(|r| r.category == "users" && gone.contains(r.id.as_str())) {
                        referrers.push((category, o.id().to_string(), rel, r.clone()));
                    }
                }
            }
        }
        for (category, id, rel, target) in referrers {
            self.unlink(category, &id, rel, &target);
        }
        for (i, id) in removals.iter().enumerate() {
            // Every other removal is a soft delete into the recycle bin (restorable for 30 days).
            let removed = if i % 2 == 0 {
                self.t.soft_delete("users", id, self.now).is_ok()
            } else {
                self.t.remove("users", id, Removal::Deleted).is_ok()
            };
            if removed {
                self.track("users").removed.insert(id.clone());
            }
        }
    }

    /// One to three property changes of a user, each to a new value.
    fn user_changes(&self, rng: &mut Rng, id: &str, donors: &Donors) -> Map<String, Value> {
        let mut out = Map::new();
        let Some(user) = self.t.get("users", id) else { return out };
        let u = &user.json;
        let mut kinds: Vec<u8> = (0..7).collect();
        for i in (1..kinds.len()).rev() {
            kinds.swap(i, rng.below(i + 1));
        }
        let wanted = 1 + rng.below(3);
        // One of the items that differ from the user's, drawn at random.
        fn draw<'a, T>(rng: &mut Rng, items: impl Iterator<Item = &'a T>) -> Option<&'a T> {
            let pool: Vec<&T> = items.collect();
            (!pool.is_empty()).then(|| pool[rng.below(pool.len())])
        }
        let phone_prefix = u
            .get("businessPhones")
            .and_then(Value::as_array)
            .and_then(|p| p.first())
            .and_then(Value::as_str)
            .filter(|p| p.len() > 3)
            .map(|p| p[..p.len() - 3].to_string());
        let mut done = 0;
        for kind in kinds {
            if done == wanted {
                break;
            }
            let before = out.len();
            match kind {
                // A new job title held by someone in the same department.
                0 => {
                    let (Some(dept), title) = (string(u, "department"), string(u, "jobTitle")) else { continue };
                    let titles = donors.roles.iter().filter(|(d, t)| d == dept && Some(t.as_str()) != title);
                    if let Some((_, t)) = draw(rng, titles) {
                        out.insert("jobTitle".into(), Value::String(t.clone()));
                    }
                }
                // A move to another department, with a title from there.
                1 => {
                    let dept = string(u, "department");
                    if let Some((d, t)) = draw(rng, donors.roles.iter().filter(|(d, _)| Some(d.as_str()) != dept)) {
                        out.insert("department".into(), Value::String(d.clone()));
                        if Some(t.as_str()) != string(u, "jobTitle") {
                            out.insert("jobTitle".into(), Value::String(t.clone()));
                        }
                    }
                }
                // Another office in the same building.
                2 => {
                    let Some(prefix) = string(u, "officeLocation").and_then(|o| o.split_once('/')).map(|(p, _)| p)
                    else {
                        continue;
                    };
                    let office = format!("{prefix}/{}", 100 + rng.below(900));
                    if Some(office.as_str()) != string(u, "officeLocation") {
                        out.insert("officeLocation".into(), Value::String(office));
                    }
                }
                // A new mobile phone number.
                3 => {
                    let Some(prefix) = &phone_prefix else { continue };
                    let mobile = format!("{prefix}{:03}", rng.below(1000));
                    if Some(mobile.as_str()) != string(u, "mobilePhone") {
                        out.insert("mobilePhone".into(), Value::String(mobile));
                    }
                }
                // A new desk phone.
                4 => {
                    let Some(prefix) = &phone_prefix else { continue };
                    let phone = Value::Array(vec![Value::String(format!("{prefix}{:03}", rng.below(1000)))]);
                    if Some(&phone) != u.get("businessPhones") {
                        out.insert("businessPhones".into(), phone);
                    }
                }
                // A move to another site in the same country.
                5 => {
                    let (Some(country), city) = (string(u, "country"), u.get("city")) else { continue };
                    let sites = donors.sites.iter().filter(|(c, site)| c == country && Some(&site[0]) != city);
                    if let Some((_, site)) = draw(rng, sites) {
                        for (p, v) in ADDRESS.iter().zip(site) {
                            if Some(v) != u.get(*p) {
                                out.insert((*p).into(), v.clone());
                            }
                        }
                    }
                }
                // A contractor hired as an employee, or the other way round.
                _ => {
                    let next = match string(u, "employeeType") {
                        Some("Employee") => "Contractor",
                        Some("Contractor") => "Employee",
                        _ => continue,
                    };
                    out.insert("employeeType".into(), Value::String(next.into()));
                }
            }
            if out.len() > before {
                done += 1;
            }
        }
        if out.is_empty() {
            // Nothing above applied (a guest without a department): give them one.
            let dept = string(u, "department");
            if let Some((d, _)) = draw(rng, donors.roles.iter().filter(|(d, _)| Some(d.as_str()) != dept)) {
                out.insert("department".into(), Value::String(d.clone()));
            }
        }
        if out.is_empty() {
            // Nor that: they move to a remote office.
            let office = format!("Remote/{}", 100 + rng.below(900));
            if Some(office.as_str()) != string(u, "officeLocation") {
                out.insert("officeLocation".into(), Value::String(office));
            }
        }
        out
    }

    /// A member to report to, other than the current manager, that does not report (even
    /// indirectly) to the user.
    fn new_manager(&self, rng: &mut Rng, id: &str, members: &[String]) -> Option<String> {
        if members.is_empty() {
            return None;
        }
        let current = self.t.links("users", id, "manager").first().map(|r| r.id.clone());
        for _ in 0..20 {
            let m = &members[rng.below(members.len())];
            if m == id || Some(m) == current.as_ref() || self.t.get("users", m).is_none() {
                continue;
            }
            // Walk up from the candidate: reaching the user would make a cycle.
            let mut up = Some(m.clone());
            let mut cycle = false;
            for _ in 0..1000 {
                let Some(u) = up else { break };
                if u == id {
                    cycle = true;
                    break;
                }
                up = self.t.links("users", &u, "manager").first().map(|r| r.id.clone());
            }
            if !cycle {
                return Some(m.clone());
            }
        }
        None
    }

    /// A new cloud-only member user, modelled on an existing one (same department and manager).
    /// What making new users needs to know of the existing ones, gathered once.
    fn new_users(&self) -> NewUsers {
        let mut templates = Vec::new();
        let mut taken = HashSet::new();
        let mut employee_id = 100_000;
        for u in self.t.objects("users") {
            let j = &u.json;
            if let Some(upn) = string(j, "userPrincipalName") {
                taken.insert(upn.to_lowercase());
            }
            if let Some(n) = string(j, "employeeId").and_then(|e| e.parse::<u64>().ok()) {
                employee_id = employee_id.max(n);
            }
            if string(j, "userType") == Some("Member")
                && j.get("onPremisesSyncEnabled").is_none_or(Value::is_null)
                && string(j, "employeeId").is_some()
                && string(j, "givenName").is_some()
                && string(j, "surname").is_some()
                && string(j, "userPrincipalName").is_some_and(|p| p.contains('@'))
                && !u.links("manager").is_empty()
            {
                templates.push(u.id().to_string());
            }
        }
        NewUsers { templates, taken, employee_id }
    }

    /// A new cloud-only member user, modelled on an existing one (same department and manager).
    fn new_user(&mut self, rng: &mut Rng, ctx: &mut NewUsers) {
        let templates = &ctx.templates;
        if templates.is_empty() {
            return;
        }
        let tpl = &templates[rng.below(templates.len())];
        let Some(tpl) = self.t.get("users", tpl) else { return };
        let manager = tpl.links("manager").first().cloned();
        let mut json = tpl.json.clone();
        // A first name from one colleague, a last name from another.
        let mut name_of = |prop: &str| {
            let donor = &templates[rng.below(templates.len())];
            self.t.get("users", donor).and_then(|u| string(&u.json, prop)).unwrap_or("Alex").to_string()
        };
        let given = name_of("givenName");
        let surname = name_of("surname");
        let domain = string(&json, "userPrincipalName").and_then(|p| p.split_once('@')).map(|(_, d)| d.to_string());
        let domain = domain.unwrap_or_else(|| self.t.domain.clone());

        // A userPrincipalName and alias no user has.
        let base: String = format!("{}.{}", given.to_lowercase(), surname.to_lowercase())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        let mut alias = base.clone();
        let mut count = 1;
        while ctx.taken.contains(&format!("{alias}@{domain}").to_lowercase()) {
            count += 1;
            alias = format!("{base}{count}");
        }
        let upn = format!("{alias}@{domain}");
        ctx.taken.insert(upn.to_lowercase());
        let id = self.fresh_id(rng);
        ctx.employee_id += 1;
        let employee_id = ctx.employee_id;
        let created = ts(self.now - SignedDuration::from_secs(rng.below(300) as i64));
        let today = format!("{}T00:00:00Z", &ts(self.now)[..10]);

        let set = |json: &mut Map<String, Value>, k: &str, v: Value| {
            json.insert(k.to_string(), v);
        };
        let s = |v: &str| Value::String(v.to_string());
        set(&mut json, "id", s(&id));
        set(&mut json, "displayName", s(&format!("{given} {surname}")));
        set(&mut json, "givenName", s(&given));
        set(&mut json, "surname", s(&surname));
        set(&mut json, "userPrincipalName", s(&upn));
        set(&mut json, "mailNickname", s(&alias));
        if json.get("mail").is_some_and(Value::is_string) {
            set(&mut json, "mail", s(&upn));
        }
        if let Some(Value::Array(proxies)) = json.get_mut("proxyAddresses") {
            for p in proxies.iter_mut() {
                if let Some((prefix, addr)) = p.as_str().and_then(|x| x.split_once(':'))
                    && let Some((_, dom)) = addr.split_once('@')
                {
                    *p = Value::String(format!("{prefix}:{alias}@{dom}"));
                }
            }
        }
        if json.get("imAddresses").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            set(&mut json, "imAddresses", Value::Array(vec![s(&upn)]));
        }
        if let Some(Value::Array(identities)) = json.get_mut("identities") {
            for i in identities.iter_mut().filter(|i| i["signInType"] == "userPrincipalName") {
                i["issuerAssignedId"] = s(&upn);
            }
        }
        set(&mut json, "securityIdentifier", s(&cloud_sid(&id)));
        set(&mut json, "accountEnabled", Value::Bool(true));
        for p in ["createdDateTime", "lastPasswordChangeDateTime", "signInSessionsValidFromDateTime"] {
            set(&mut json, p, s(&created));
        }
        set(&mut json, "employeeId", s(&format!("{employee_id:06}")));
        set(&mut json, "employeeHireDate", s(&today));
        for (list, key) in [("licenseAssignmentStates", "lastUpdatedDateTime"), ("assignedPlans", "assignedDateTime")] {
            if let Some(Value::Array(items)) = json.get_mut(list) {
                for item in items.iter_mut().filter(|i| i.get(key).is_some()) {
                    item[key] = s(&created);
                }
            }
        }
        let phone_prefix = json
            .get("businessPhones")
            .and_then(Value::as_array)
            .and_then(|p| p.first())
            .and_then(Value::as_str)
            .filter(|p| p.len() > 3)
            .map(|p| p[..p.len() - 3].to_string());
        if let Some(prefix) = phone_prefix {
            set(&mut json, "businessPhones", Value::Array(vec![s(&format!("{prefix}{:03}", rng.below(1000)))]));
            let mobile = if rng.chance(0.6) { s(&format!("{prefix}{:03}", rng.below(1000))) } else { Value::Null };
            set(&mut json, "mobilePhone", mobile);
        }
        if let Some((prefix, _)) = string(&json, "officeLocation").and_then(|o| o.split_once('/')) {
            let office = format!("{prefix}/{}", 100 + rng.below(900));
            set(&mut json, "officeLocation", s(&office));
        }

        if self.t.insert("users", Value::Object(json)).is_ok() {
            self.track("users").created.insert(id.clone());
            if let Some(m) = manager.filter(|m| self.t.get(m.category, &m.id).is_some()) {
                self.link("users", &id, "manager", m);
            }
        }
    }

    /// Keep dynamic groups holding what their rules select for the touched users, and put new
    /// member users in All Employees.
    fn reevaluate_groups(&mut self, touched: &[String], created: &[String]) {
        let mut changes: Vec<(String, Ref, bool)> = Vec::new();
        for g in self.t.objects("groups") {
            let members: HashSet<&str> =
                g.links("members").iter().filter(|r| r.category == "users").map(|r| r.id.as_str()).collect();
            let dynamic = g
                .json
                .get("groupTypes")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x == "DynamicMembership"));
            if let (true, Some(rule)) = (dynamic, string(&g.json, "membershipRule")) {
                let rule = Rule::parse(rule);
                for id in touched {
                    let Some(u) = self.t.get("users", id) else { continue };
                    let selects = rule.matches_with(|p| u.json.get(p));
                    if selects != members.contains(id.as_str()) {
                        changes.push((g.id().to_string(), Ref { category: "users", id: id.clone() }, selects));
                    }
                }
            } else if string(&g.json, "displayName") == Some("All Employees") {
                for id in created {
                    let member = self.t.get("users", id).is_some_and(|u| string(&u.json, "userType") == Some("Member"));
                    if member && !members.contains(id.as_str()) {
                        changes.push((g.id().to_string(), Ref { category: "users", id: id.clone() }, true));
                    }
                }
            }
        }
        for (group, user, add) in changes {
            if add {
                self.link("groups", &group, "members", user);
            } else {
                self.unlink("groups", &group, "members", &user);
            }
        }
    }

    // ----- groups -----

    fn groups(&mut self) {
        let k = self.k(self.t.count("groups"));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork("groups");
        let ids = self.ids("groups");
        let chosen = Gen::sample(&mut rng, &ids, k);
        let users: Vec<(String, bool, bool)> = self
            .t
            .objects("users")
            .map(|u| {
                let member = string(&u.json, "userType") == Some("Member");
                let synced = u.json.get("onPremisesSyncEnabled") == Some(&Value::Bool(true));
                (u.id().to_string(), member, synced)
            })
            .collect();
        let all: Vec<String> = users.iter().map(|u| u.0.clone()).collect();
        let members: Vec<String> = users.iter().filter(|u| u.1).map(|u| u.0.clone()).collect();
        let cloud: Vec<String> = users.iter().filter(|u| u.1 && !u.2).map(|u| u.0.clone()).collect();
        for id in &chosen {
            let Some(g) = self.t.get("groups", id) else { continue };
            let name = string(&g.json, "displayName").unwrap_or_default().to_string();
            let special = string(&g.json, "membershipRule").is_some()
                || g.json.get("onPremisesSyncEnabled") == Some(&Value::Bool(true))
                || name == "All Employees";
            let current = g.json.get("description").cloned().unwrap_or(Value::Null);
            // 0: properties, 1: members, 2: both.
            let action = if special { 0 } else { super::generate::weighted(&mut rng, &[2, 2, 1]) };
            if action != 1 {
                let mut changes = Map::new();
                if !special && rng.chance(0.3) {
                    let base = match name.rsplit_once(' ') {
                        Some((b, n)) if n.bytes().all(|c| c.is_ascii_digit()) => b.to_string(),
                        _ => name.clone(),
                    };
                    let renamed = loop {
                        let candidate = format!("{base} {}", 2 + rng.below(98));
                        if candidate != name {
                            break candidate;
                        }
                    };
                    changes.insert("displayName".into(), Value::String(renamed));
                } else {
                    let description = (0..8)
                        .map(|_| Value::String(format!("{name}: {}", rng.pick(GROUP_DESCRIPTIONS))))
                        .find(|d| *d != current)
                        .unwrap_or_else(|| Value::String(format!("{name}: reviewed {}", ts(self.now))));
                    changes.insert("description".into(), description);
                }
                self.patch("groups", id, changes);
            }
            if action != 0 {
                self.change_members(&mut rng, id, &all, &members, &cloud);
            }
        }
    }

    /// Add or remove one to five user members of a static group.
    fn change_members(&mut self, rng: &mut Rng, id: &str, all: &[String], members: &[String], cloud: &[String]) {
        let Some(g) = self.t.get("groups", id) else { return };
        let current: Vec<Ref> = g.links("members").iter().filter(|r| r.category == "users").cloned().collect();
        let present: HashSet<&str> = current.iter().map(|r| r.id.as_str()).collect();
        let unified =
            g.json.get("groupTypes").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x == "Unified"));
        let pool = if g.json.get("isAssignableToRole") == Some(&Value::Bool(true)) {
            cloud
        } else if unified || g.json.get("securityEnabled") == Some(&Value::Bool(false)) {
            members
        } else {
            all
        };
        let count = 1 + rng.below(5);
        let remove = !current.is_empty() && rng.chance(0.5);
        if remove {
            for r in Gen::sample(rng, &current, count) {
                self.unlink("groups", id, "members", &r);
            }
        } else {
            let candidates: Vec<String> = Gen::sample(rng, pool, count * 3)
                .into_iter()
                .filter(|u| !present.contains(u.as_str()))
                .take(count)
                .collect();
            for u in candidates {
                self.link("groups", id, "members", Ref { category: "users", id: u });
            }
        }
    }

    // ----- devices -----

    fn devices(&mut self) {
        let k = self.k(self.t.count("devices"));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork("devices");
        let ids = self.ids("devices");
        let chosen = Gen::sample(&mut rng, &ids, k);
        for id in &chosen {
            let Some(d) = self.t.get("devices", id) else { continue };
            let mut changes = Map::new();
            let name = string(&d.json, "displayName").unwrap_or_default();
            let os = string(&d.json, "operatingSystem").unwrap_or_default();
            let version = string(&d.json, "operatingSystemVersion");
            let versions: Vec<&str> = OS_VERSIONS
                .iter()
                .find(|(o, _)| *o == os)
                .map(|(_, v)| v.iter().copied().filter(|x| Some(*x) != version).collect())
                .unwrap_or_default();
            let mut kinds = vec![2];
            if name.starts_with("DESKTOP-") {
                kinds.push(0);
            }
            if !versions.is_empty() {
                kinds.push(1);
            }
            match kinds[rng.below(kinds.len())] {
                0 => {
                    let renamed = format!("DESKTOP-{}", hex_upper(&mut rng, 7));
                    changes.insert("displayName".into(), Value::String(renamed));
                }
                1 => {
                    changes.insert(
                        "operatingSystemVersion".into(),
                        Value::String(versions[rng.below(versions.len())].into()),
                    );
                }
                _ => {
                    let seen = self.now - SignedDuration::from_secs(1 + rng.below(600) as i64);
                    let seen = Value::String(ts(seen));
                    if d.json.get("approximateLastSignInDateTime") != Some(&seen) {
                        changes.insert("approximateLastSignInDateTime".into(), seen);
                    }
                }
            }
            self.patch("devices", id, changes);
        }
        // New registered owners for some of them.
        let members: Vec<String> = self
            .t
            .objects("users")
            .filter(|u| string(&u.json, "userType") == Some("Member"))
            .map(|u| u.id().to_string())
            .collect();
        if members.is_empty() {
            return;
        }
        let owners = ((k as f64 / 10.0).round() as usize).max(1);
        for id in chosen.iter().take(owners) {
            let old: Vec<Ref> = self.t.links("devices", id, "registeredOwners").to_vec();
            let new = &members[rng.below(members.len())];
            if old.iter().any(|r| &r.id == new) {
                continue;
            }
            for r in &old {
                self.unlink("devices", id, "registeredOwners", r);
            }
            self.link("devices", id, "registeredOwners", Ref { category: "users", id: new.clone() });
        }
    }

    // ----- applications and service principals -----

    fn properties(&mut self, category: &'static str) {
        let k = self.k(self.t.count(category));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork(category);
        let ids = self.ids(category);
        for id in Gen::sample(&mut rng, &ids, k) {
            let Some(o) = self.t.get(category, &id) else { continue };
            let mut changes = Map::new();
            if rng.chance(0.7) {
                let note = format!("{} Change CHG{:07}.", rng.pick(NOTES), rng.below(10_000_000));
                if string(&o.json, "notes") != Some(note.as_str()) {
                    changes.insert("notes".into(), Value::String(note));
                }
            } else {
                let tag = *rng.pick(TAGS);
                let mut tags: Vec<Value> = o.json.get("tags").and_then(Value::as_array).cloned().unwrap_or_default();
                match tags.iter().position(|t| t == tag) {
                    Some(i) => {
                        tags.remove(i);
                    }
                    None => tags.push(Value::String(tag.into())),
                }
                changes.insert("tags".into(), Value::Array(tags));
            }
            self.patch(category, &id, changes);
        }
    }

    // ----- logs -----

    /// Append records to a log, cloned from its existing records with new ids and times in the
    /// minutes before `now`, later than any record it holds.
    fn logs(&mut self, category: &'static str) {
        let Some(prop) = catalog::get(category).and_then(|c| c.time_property) else { return };
        let k = self.k(self.t.count(category));
        if k == 0 {
            return;
        }
        let mut rng = self.root.fork(category);
        let latest = self.t.objects(category).filter_map(|o| string(&o.json, prop)?.parse::<Timestamp>().ok()).max();
        let mut start = self.now - LOG_WINDOW;
        if let Some(latest) = latest
            && latest >= start
        {
            start = latest;
        }
        let span_ms = start.duration_until(self.now).as_millis().max(0) as i64;
        let step_ms = (span_ms / (k as i64 + 1)).max(1);
        // Templates: records the generator made (audits by id shape), else any.
        let all = self.ids(category);
        let generated: Vec<String> = all.iter().filter(|id| id.starts_with("Directory_")).cloned().collect();
        let templates = if category == "directoryAudits" && !generated.is_empty() { generated } else { all };
        let users: Vec<(String, Value, Value)> = self
            .t
            .objects("users")
            .map(|u| {
                let get = |p| u.json.get(p).cloned().unwrap_or(Value::Null);
                (u.id().to_string(), get("displayName"), get("userPrincipalName"))
            })
            .collect();
        for i in 0..k {
            let tpl = &templates[rng.below(templates.len())];
            let Some(tpl) = self.t.get(category, tpl) else { continue };
            let mut json = tpl.json.clone();
            let when = start + SignedDuration::from_millis(step_ms * (i as i64 + 1));
            let id = if category == "directoryAudits" {
                format!("Directory_{}_{}_{}", rng.guid(), hex_upper(&mut rng, 5), 10_000_000 + rng.below(90_000_000))
            } else {
                rng.guid()
            };
            if self.t.get(category, &id).is_some() {
                continue;
            }
            json.insert("id".into(), Value::String(id.clone()));
            json.insert(prop.into(), Value::String(ts(when)));
            if json.contains_key("correlationId") {
                json.insert("correlationId".into(), Value::String(rng.guid()));
            }
            if category == "signIns" && !users.is_empty() {
                let (uid, name, upn) = &users[rng.below(users.len())];
                json.insert("userId".into(), Value::String(uid.clone()));
                json.insert("userDisplayName".into(), name.clone());
                json.insert("userPrincipalName".into(), upn.clone());
            }
            if self.t.insert(category, Value::Object(json)).is_ok() {
                self.track(category).created.insert(id);
            }
        }
    }
}
