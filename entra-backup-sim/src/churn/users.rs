//! Users' churn: property changes, new managers, new users cloned from members, and removals (soft
//! and hard) of users nothing but groups and devices refers to.

use super::{Churn, string};
use crate::generate::{Gen, cloud_sid, ts};
use crate::{Ref, Removal, Rng, Tenant};
use jiff::SignedDuration;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};

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

impl Churn<'_> {
    pub(super) fn users(&mut self) {
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
                for (rel, targets) in o.links.iter() {
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
            self.t
                .get("users", donor)
                .and_then(|u| string(&u.json, prop).map(str::to_string))
                .unwrap_or_else(|| "Alex".to_string())
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
}
