//! Groups of every kind (security, Microsoft 365, dynamic, role-assignable, mail-enabled, synced) and
//! administrative units.

use super::data::{DEPARTMENTS, SITES};
use super::{Gen, GroupInfo, GroupKind, J, NULL, Rel, ts, weighted};
use crate::{Ref, Rng};
use serde_json::Value;
use std::collections::HashMap;

impl Gen<'_> {
    /// The kinds of the `n` groups, in order.
    fn group_plan(&self, rng: &mut Rng, n: usize) -> Vec<GroupKind> {
        use GroupKind::*;
        let mut kinds = Vec::with_capacity(n);
        if n == 0 {
            return kinds;
        }
        kinds.push(AllEmployees);
        let dynamic = (n / 10).clamp(usize::from(n > 1), 24);
        for i in 0..dynamic {
            kinds.push(if i % 3 == 2 { DynamicUnified } else { DynamicSecurity });
        }
        let role_assignable = (n / 30).clamp(usize::from(n > 3), 5);
        kinds.extend(std::iter::repeat_n(RoleAssignable, role_assignable));
        let weights = [42u32, 33, 4, 8, 13];
        let choices = [Security, Unified, MailEnabledSecurity, Distribution, Synced];
        while kinds.len() < n {
            kinds.push(choices[weighted(rng, &weights)]);
        }
        kinds.truncate(n);
        kinds
    }

    pub(super) fn groups(&mut self) {
        use GroupKind::*;
        let n = self.cfg.groups;
        let mut rng = self.rng("groups");
        let kinds = self.group_plan(&mut rng, n);
        let members = self.member_users();
        let synced_users: Vec<usize> = members.iter().copied().filter(|&u| self.users[u].synced).collect();
        let cloud_members: Vec<usize> =
            members.iter().copied().filter(|&u| !self.users[u].synced && u != self.break_glass).collect();
        let all_users: Vec<usize> = (0..self.users.len()).collect();
        let budget = self.cfg.memberships.unwrap_or(self.cfg.users * 10);

        // Ids and names first: nested groups and rules refer to each other.
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut rules: Vec<Option<String>> = Vec::with_capacity(n);
        let dept_names: Vec<&str> = DEPARTMENTS.iter().map(|d| d.name).collect();
        let countries: Vec<&str> = {
            let mut c: Vec<&str> = SITES.iter().map(|s| s.country).collect();
            c.dedup();
            c
        };
        let mut dyn_ix = 0usize;
        for kind in &kinds {
            let id = rng.guid();
            let (name, rule) = match kind {
                AllEmployees => ("All Employees".to_string(), None),
                DynamicSecurity | DynamicUnified => {
                    let k = dyn_ix;
                    dyn_ix += 1;
                    let (label, rule) = match k % 4 {
                        0 | 1 => {
                            let d = dept_names[(k / 2 * 2 + k % 2) % dept_names.len()];
                            (d.to_string(), format!("(user.department -eq \"{d}\")"))
                        }
                        2 => {
                            let c = countries[(k / 4) % countries.len()];
                            (
                                format!("{c} Staff"),
                                format!("(user.country -eq \"{c}\") -and (user.userType -eq \"Member\")"),
                            )
                        }
                        _ => {
                            let d = dept_names[(k / 4 + 5) % dept_names.len()];
                            (
                                format!("{d} (enabled)"),
                                format!("(user.department -eq \"{d}\") -and (user.accountEnabled -eq true)"),
                            )
                        }
                    };
                    let prefix = if *kind == DynamicUnified { "Team" } else { "DYN" };
                    (format!("{prefix} - {label}"), Some(rule))
                }
                RoleAssignable => (
                    format!(
                        "Tier 0 - {}",
                        rng.pick(&[
                            "Identity Admins",
                            "Helpdesk Operators",
                            "Security Operators",
                            "Application Admins",
                            "Intune Admins"
                        ])
                    ),
                    None,
                ),
                Security => (
                    format!(
                        "SG-{}-{}",
                        rng.pick(&dept_names).replace(' ', ""),
                        rng.pick(&["Access", "Readers", "Editors", "VPN", "Printers", "FileShare", "Project"])
                    ),
                    None,
                ),
                Unified => (
                    format!(
                        "{} {}",
                        rng.pick(&["Project", "Team", "Community", "Program"]),
                        rng.pick(&[
                            "Phoenix", "Atlas", "Nova", "Orion", "Falcon", "Aurora", "Zephyr", "Titan", "Helios",
                            "Mercury"
                        ])
                    ),
                    None,
                ),
                MailEnabledSecurity => (format!("MESG-{}", rng.pick(&dept_names).replace(' ', "")), None),
                Distribution => (
                    format!(
                        "DL-{}-{}",
                        rng.pick(&dept_names).replace(' ', ""),
                        rng.pick(&["All", "Announcements", "Leads", "Updates"])
                    ),
                    None,
                ),
                Synced => (
                    format!(
                        "{}-{}",
                        rng.pick(&["GG", "DL", "SEC"]),
                        rng.pick(&["Finance", "Sales", "IT", "Ops", "HR", "Eng"])
                    ),
                    None,
                ),
            };
            let count = names.entry(name.clone()).or_insert(0);
            *count += 1;
            let name = if *count == 1 { name } else { format!("{name} {count}") };
            self.groups.push(GroupInfo { id, display_name: name, kind: *kind });
            rules.push(rule);
        }

        // Members: every member user in All Employees; rule matches in dynamic groups; a Zipf
        // share of the remaining budget in the static groups.
        let mut member_lists: Vec<Vec<Ref>> = vec![Vec::new(); n];
        let mut used = 0usize;
        let parsed: Vec<Option<super::Rule>> = rules.iter().map(|r| r.as_deref().map(super::Rule::parse)).collect();
        let dynamic_rules: Vec<&super::Rule> = parsed.iter().flatten().collect();
        let mut selected = super::Rule::select_users(&dynamic_rules, self).into_iter();
        for (g, kind) in kinds.iter().enumerate() {
            match kind {
                AllEmployees => {
                    member_lists[g] = members.iter().map(|&u| self.user_ref(u)).collect();
                }
                DynamicSecurity | DynamicUnified if parsed[g].is_some() => {
                    let users = selected.next().unwrap_or_default();
                    member_lists[g] = users.into_iter().map(|i| self.user_ref(i)).collect();
                }
                _ => {}
            }
            used += member_lists[g].len();
        }

        let static_groups: Vec<usize> =
            (0..n).filter(|&g| !matches!(kinds[g], AllEmployees | DynamicSecurity | DynamicUnified)).collect();
        let mut remaining = budget.saturating_sub(used);
        // Nested groups: a security group or distribution list may contain later groups of a
        // kind that may be nested (no cycles: only later ones).
        let mut nested_pairs = Vec::new();
        for &g in &static_groups {
            let nestable: &[GroupKind] = match kinds[g] {
                Security => &[Security, DynamicSecurity, MailEnabledSecurity],
                Distribution => &[Distribution, MailEnabledSecurity],
                _ => continue,
            };
            if remaining == 0 || !rng.chance(0.15) {
                continue;
            }
            let k = 1 + rng.below(3);
            for _ in 0..k {
                if g + 1 >= n {
                    break;
                }
                let child = g + 1 + rng.below(n - g - 1);
                if nestable.contains(&kinds[child]) && !nested_pairs.contains(&(g, child)) {
                    nested_pairs.push((g, child));
                }
            }
        }
        for &(g, child) in &nested_pairs {
            member_lists[g].push(self.group_ref(child));
        }
        remaining = remaining.saturating_sub(nested_pairs.len());

        // Zipf-like sizes over a random order of the static groups.
        let mut order = static_groups.clone();
        for i in (1..order.len()).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        // A shifted Zipf law, 1 / (rank + 3): a few large groups, many small ones. Only basic
        // arithmetic (correctly rounded everywhere, unlike `powf`), so every machine agrees.
        let weights: Vec<f64> = (0..order.len()).map(|r| 1.0 / (r + 3) as f64).collect();
        let total_w: f64 = weights.iter().sum();
        let sps: Vec<Ref> =
            self.apps.iter().map(|a| Ref { category: "servicePrincipals", id: a.sp_id.clone() }).collect();
        for (r, &g) in order.iter().enumerate() {
            let want = ((remaining as f64) * weights[r] / total_w).round() as usize;
            let want = want.max(1);
            let pool: &[usize] = match kinds[g] {
                Synced if !synced_users.is_empty() => &synced_users,
                Distribution | Unified => &members,
                RoleAssignable => &cloud_members,
                _ => &all_users,
            };
            let want = if kinds[g] == RoleAssignable { want.min(8) } else { want };
            let picked = Self::sample(&mut rng, pool, want);
            member_lists[g].extend(picked.into_iter().map(|u| self.user_ref(u)));
            // Some security groups hold devices and service principals; distribution lists contacts.
            match kinds[g] {
                Security if rng.chance(0.08) && !self.devices.is_empty() => {
                    let k = 1 + rng.below(self.devices.len().min(20));
                    for d in Self::sample(&mut rng, &self.devices, k) {
                        member_lists[g].push(Ref { category: "devices", id: d.id });
                    }
                }
                Security if rng.chance(0.05) && !sps.is_empty() => {
                    member_lists[g].push(sps[rng.below(sps.len())].clone());
                }
                Distribution if rng.chance(0.4) && !self.contacts.is_empty() => {
                    let k = 1 + rng.below(self.contacts.len().min(5));
                    for c in Self::sample(&mut rng, &self.contacts, k) {
                        member_lists[g].push(Ref { category: "orgContacts", id: c });
                    }
                }
                _ => {}
            }
        }

        // The objects.
        let owner_pool: Vec<usize> = cloud_members.clone();
        for (g, kind) in kinds.iter().enumerate() {
            let info = self.groups[g].clone();
            let created = self.past(&mut rng, 5, 2000);
            let renewed = self.after(&mut rng, created, 300);
            let nickname: String = info.display_name.chars().filter(char::is_ascii_alphanumeric).collect::<String>();
            let nickname = format!("{}{}", nickname, if g > 0 { format!("{g}") } else { String::new() });
            let unified = matches!(kind, Unified | DynamicUnified);
            let mail_enabled = matches!(kind, Unified | DynamicUnified | MailEnabledSecurity | Distribution);
            let security_enabled = !matches!(kind, Unified | DynamicUnified | Distribution);
            let dynamic = matches!(kind, DynamicSecurity | DynamicUnified);
            let synced = *kind == Synced;
            let mut group_types: Vec<&str> = Vec::new();
            if unified {
                group_types.push("Unified");
            }
            if dynamic {
                group_types.push("DynamicMembership");
            }
            let mail = mail_enabled.then(|| format!("{nickname}@{}", self.domain));
            let mut proxies = Vec::new();
            if let Some(m) = &mail {
                proxies.push(format!("SMTP:{m}"));
                proxies.push(format!("smtp:{nickname}@{}", self.initial_domain));
                if unified {
                    proxies.push(format!("SPO:SPO_{}@SPO_{}", rng.guid(), self.tenant_id));
                }
            }
            let team = unified && rng.chance(0.5);
            let description = match kind {
                AllEmployees => Some("Every employee of the company".to_string()),
                RoleAssignable => Some("Role-assignable group for privileged access".to_string()),
                _ if rng.chance(0.3) => None,
                _ => Some(format!("{} group", info.display_name)),
            };
            let json = obj! {
                "id": &info.id,
                "deletedDateTime": NULL,
                "classification": if unified && rng.chance(0.3) { J::j(rng.pick(&["General", "Confidential"])) } else { Value::Null },
                "createdDateTime": ts(created),
                "description": description,
                "displayName": &info.display_name,
                "expirationDateTime": NULL,
                "groupTypes": group_types,
                "isAssignableToRole": if *kind == RoleAssignable { J::j(true) } else { Value::Null },
                "mail": mail,
                "mailEnabled": mail_enabled,
                "mailNickname": &nickname,
                "membershipRule": &rules[g],
                "membershipRuleProcessingState": if dynamic { J::j("On") } else { Value::Null },
                "onPremisesDomainName": if synced { J::j(&self.ad_domain) } else { Value::Null },
                "onPremisesLastSyncDateTime": if synced { J::j(ts(self.past(&mut rng, 0, 1))) } else { Value::Null },
                "onPremisesNetBiosName": if synced { J::j(self.ad_domain.split('.').nth(1).unwrap_or("CORP").to_uppercase()) } else { Value::Null },
                "onPremisesSamAccountName": if synced { J::j(&nickname) } else { Value::Null },
                "onPremisesSecurityIdentifier": if synced { J::j(format!("{}-{}", self.ad_sid, 300_000 + g)) } else { Value::Null },
                "onPremisesSyncEnabled": if synced { J::j(true) } else { Value::Null },
                "preferredDataLocation": NULL,
                "preferredLanguage": NULL,
                "proxyAddresses": proxies,
                "renewedDateTime": ts(renewed),
                "resourceBehaviorOptions": if unified { arr!["WelcomeEmailDisabled"] } else { arr![] },
                "resourceProvisioningOptions": if team { arr!["Team"] } else { arr![] },
                "securityEnabled": security_enabled,
                "securityIdentifier": super::cloud_sid(&info.id),
                "theme": NULL,
                "visibility": if unified { J::j(if rng.chance(0.6) { "Private" } else { "Public" }) } else if *kind == RoleAssignable { J::j("Private") } else { Value::Null },
                "onPremisesProvisioningErrors": arr![],
                "serviceProvisioningErrors": arr![],
            };
            let owners: Vec<Ref> = if synced || owner_pool.is_empty() || (*kind != AllEmployees && rng.chance(0.1)) {
                vec![]
            } else {
                let k = 1 + rng.below(3);
                Self::sample(&mut rng, &owner_pool, k).into_iter().map(|u| self.user_ref(u)).collect()
            };
            let m = std::mem::take(&mut member_lists[g]);
            self.put("groups", json, vec![("members", Rel::Links(m)), ("owners", Rel::Links(owners))]);
        }
    }

    pub(super) fn administrative_units(&mut self) {
        let mut rng = self.rng("administrativeUnits");
        let n = (self.cfg.users / 1000).clamp(3, 12);
        let scoped_roles: Vec<(&'static str, String)> = [super::data::USER_ADMIN, super::data::HELPDESK_ADMIN]
            .into_iter()
            .filter_map(|t| self.directory_roles.iter().find(|(_, x)| *x == t).map(|(id, _)| (t, id.clone())))
            .collect();
        let created = self.past(&mut rng, 100, 900);
        let mut by_country: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, u) in self.users.iter().enumerate() {
            if let Some(c) = u.country {
                match by_country.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, v)) => v.push(i),
                    None => by_country.push((c, vec![i])),
                }
            }
        }
        let mut planned = Vec::new();
        for a in 0..n {
            let id = rng.guid();
            let (name, rule, members): (String, Option<String>, Vec<Ref>) = if a < by_country.len() && a % 3 != 2 {
                let (country, users) = &by_country[a];
                let dynamic = a % 3 == 1;
                let rule = dynamic.then(|| format!("(user.country -eq \"{country}\")"));
                // Members of a dynamic unit are filled in below, from its rule.
                let members = match &rule {
                    Some(_) => Vec::new(),
                    None => users.iter().map(|&i| Ref { category: "users", id: self.users[i].id.clone() }).collect(),
                };
                (format!("AU - {country}"), rule, members)
            } else {
                let k = 5 + rng.below(30);
                let mut m: Vec<Ref> = Self::sample(&mut rng, &self.users, k)
                    .into_iter()
                    .map(|u| Ref { category: "users", id: u.id })
                    .collect();
                let groups = self.groups_of(&[GroupKind::Security, GroupKind::Unified]);
                for g in Self::sample(&mut rng, &groups, 3) {
                    m.push(Ref { category: "groups", id: self.groups[g].id.clone() });
                }
                (
                    format!("AU - {}", rng.pick(&["Contractors", "Executives", "Pilot", "Restricted", "Field Staff"])),
                    None,
                    m,
                )
            };
            planned.push((id, name, rule, members));
        }
        let parsed: Vec<Option<super::Rule>> = planned.iter().map(|p| p.2.as_deref().map(super::Rule::parse)).collect();
        let rules: Vec<&super::Rule> = parsed.iter().flatten().collect();
        let mut selected = super::Rule::select_users(&rules, self).into_iter();
        for (p, rule) in planned.iter_mut().zip(&parsed) {
            if rule.is_some() {
                let users = selected.next().unwrap_or_default();
                p.3 = users.into_iter().map(|i| Ref { category: "users", id: self.users[i].id.clone() }).collect();
            }
        }
        for (a, (id, name, rule, members)) in planned.into_iter().enumerate() {
            let restricted = name.ends_with("Restricted");
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "description": format!("Users and groups administered for {}", name.trim_start_matches("AU - ")),
                "displayName": name,
                "isMemberManagementRestricted": restricted,
                "membershipRule": &rule,
                "membershipRuleProcessingState": if rule.is_some() { J::j("On") } else { Value::Null },
                "membershipType": if rule.is_some() { J::j("Dynamic") } else { J::j("Assigned") },
                "visibility": if a % 4 == 3 { J::j("HiddenMembership") } else { Value::Null },
            };
            let mut scoped = Vec::new();
            let mut scoped_refs = Vec::new();
            let helpers: Vec<usize> = self.admins.clone();
            for (k, (template, role)) in scoped_roles.iter().enumerate() {
                if helpers.is_empty() || (k == 1 && rng.chance(0.5)) {
                    continue;
                }
                let u = helpers[rng.below(helpers.len())];
                let user = self.users[u].clone();
                let membership_id = super::b64url(
                    &[super::guid_bytes(role), super::guid_bytes(&id), super::guid_bytes(&user.id)].concat(),
                );
                scoped.push(obj! {
                    "id": &membership_id,
                    "administrativeUnitId": &id,
                    "roleId": role,
                    "roleMemberInfo": obj!{ "id": &user.id, "displayName": &user.display_name },
                });
                scoped_refs.push(Ref { category: "users", id: user.id.clone() });
                // The same grant as a unified role assignment scoped to the unit.
                self.role_assignment(
                    &membership_id,
                    template,
                    &user.id,
                    &format!("/administrativeUnits/{id}"),
                    created,
                    None,
                );
            }
            self.put(
                "administrativeUnits",
                json,
                vec![
                    ("members", Rel::Links(members)),
                    ("scopedRoleMembers", Rel::Children(scoped)),
                    ("scopedRoleMembers", Rel::Links(scoped_refs)),
                ],
            );
            self.admin_units.push(id);
        }
    }
}
