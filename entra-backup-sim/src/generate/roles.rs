//! Directory roles, role definitions, role assignments, PIM schedules, and custom security
//! attributes.

use serde_json::Value;

use super::data::{BUILT_IN_ROLES, GLOBAL_ADMIN, HELPDESK_ADMIN, USER_ADMIN};
use super::{Gen, GroupKind, Rel, b64url, guid_bytes, ts};
use super::{J, NULL};
use crate::Ref;

/// Custom roles: name, description, allowed resource actions.
const CUSTOM_ROLES: &[(&str, &str, &[&str])] = &[
    (
        "Helpdesk Tier 1",
        "Resets passwords and updates basic profile properties of users.",
        &[
            "microsoft.directory/users/password/update",
            "microsoft.directory/users/basic/update",
            "microsoft.directory/users/invalidateAllRefreshTokens",
        ],
    ),
    (
        "Application Registration Manager",
        "Creates and manages application registrations.",
        &[
            "microsoft.directory/applications/create",
            "microsoft.directory/applications/basic/update",
            "microsoft.directory/applications/credentials/update",
            "microsoft.directory/applications/owners/update",
        ],
    ),
    (
        "Device Reader Plus",
        "Reads devices and their BitLocker recovery keys.",
        &["microsoft.directory/devices/standard/read", "microsoft.directory/bitlockerKeys/key/read"],
    ),
];

/// One principal holding a role at a scope.
struct Holder {
    role: String,
    principal: Ref,
    scope: String,
}

/// A custom security attribute: name, type, whether it holds several values, predefined values.
type Attribute = (&'static str, &'static str, bool, &'static [&'static str]);

impl Gen<'_> {
    pub(super) fn attribute_sets(&mut self) {
        let mut rng = self.rng("customSecurityAttributes");
        let sets: &[(&str, &str, &[Attribute])] = &[
            (
                "Engineering",
                "Attributes for engineering projects",
                &[("Project", "String", true, &["Phoenix", "Atlas", "Nova"]), ("CostCenter", "Integer", false, &[])],
            ),
            (
                "HumanResources",
                "Attributes managed by HR",
                &[
                    ("EmploymentStatus", "String", false, &["Active", "OnLeave", "Terminated"]),
                    ("IsContractor", "Boolean", false, &[]),
                ],
            ),
            ("Marketing", "Attributes for marketing apps", &[("Region", "String", true, &[])]),
        ];
        for (set, description, attrs) in sets {
            let json = obj! { "id": set, "description": description, "maxAttributesPerSet": 25 };
            self.put("attributeSets", json, vec![]);
            for (name, ty, collection, values) in *attrs {
                let predefined = !values.is_empty();
                let json = obj! {
                    "id": format!("{set}_{name}"),
                    "attributeSet": set,
                    "description": format!("{name} of the object"),
                    "isCollection": collection,
                    "isSearchable": true,
                    "name": name,
                    "status": if rng.chance(0.9) { "Available" } else { "Deprecated" },
                    "type": ty,
                    "usePreDefinedValuesOnly": predefined,
                };
                let allowed: Vec<Value> = values.iter().map(|v| obj! { "id": v, "isActive": true }).collect();
                self.put("customSecurityAttributeDefinitions", json, vec![("allowedValues", Rel::Children(allowed))]);
            }
        }
    }

    pub(super) fn roles(&mut self) {
        let mut rng = self.rng("roles");
        let members = self.member_users();
        let cloud: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&u| !self.users[u].synced && u != self.break_glass && self.users[u].enabled)
            .collect();
        let n_admins = (self.cfg.users / 30).clamp(4, 60).min(cloud.len());
        self.admins = Self::sample(&mut rng, &cloud, n_admins);
        self.admins.sort_unstable();
        let admins = self.admins.clone();
        let role_groups = self.groups_of(&[GroupKind::RoleAssignable]);
        let anchor_created = self.past(&mut rng, 400, 1500);

        // Who holds which built-in role at the directory root.
        let mut holders: Vec<Holder> = Vec::new();
        let user = |g: &Gen<'_>, u: usize| g.user_ref(u);
        let pick_admin =
            |rng: &mut crate::Rng| admins[rng.below(admins.len().max(1)).min(admins.len().saturating_sub(1))];
        if !admins.is_empty() {
            holders.push(Holder {
                role: GLOBAL_ADMIN.into(),
                principal: user(self, self.break_glass),
                scope: "/".into(),
            });
            for &u in admins.iter().take(2) {
                holders.push(Holder { role: GLOBAL_ADMIN.into(), principal: user(self, u), scope: "/".into() });
            }
            for (ix, (template, _, _, _)) in BUILT_IN_ROLES.iter().enumerate().skip(1) {
                // Most built-in roles are held by someone; some only through PIM eligibility.
                if ix % 5 == 4 {
                    continue;
                }
                let k = 1 + rng.below(3);
                for _ in 0..k {
                    let u = pick_admin(&mut rng);
                    let r = user(self, u);
                    if !holders.iter().any(|h| h.role == *template && h.principal == r) {
                        holders.push(Holder { role: template.to_string(), principal: r, scope: "/".into() });
                    }
                }
            }
            for (k, &g) in role_groups.iter().enumerate() {
                let template = [
                    USER_ADMIN,
                    HELPDESK_ADMIN,
                    "194ae4cb-b126-40b2-bd5b-6091b380977d",
                    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
                    "3a2c62db-5318-420d-8d74-23affee5d9d5",
                ][k % 5];
                holders.push(Holder { role: template.into(), principal: self.group_ref(g), scope: "/".into() });
            }
            // An automation app holds User Administrator.
            if let Some(app) =
                self.apps.iter().find(|a| a.display_name.starts_with("Identity Governance")).or(self.apps.first())
            {
                holders.push(Holder {
                    role: USER_ADMIN.into(),
                    principal: Ref { category: "servicePrincipals", id: app.sp_id.clone() },
                    scope: "/".into(),
                });
            }
        }

        // Role definitions: built-in and custom.
        for (template, name, description, actions) in BUILT_IN_ROLES {
            let json = obj! {
                "id": template,
                "description": description,
                "displayName": name,
                "isBuiltIn": true,
                "isEnabled": true,
                "resourceScopes": arr!["/"],
                "templateId": template,
                "version": "1",
                "rolePermissions": arr![obj!{ "allowedResourceActions": actions, "condition": NULL, "excludedResourceActions": arr![] }],
            };
            self.put("roleDefinitions", json, vec![]);
        }
        for (name, description, actions) in CUSTOM_ROLES {
            let id = rng.guid();
            let json = obj! {
                "id": &id,
                "description": description,
                "displayName": name,
                "isBuiltIn": false,
                "isEnabled": true,
                "resourceScopes": arr!["/"],
                "templateId": &id,
                "version": NULL,
                "rolePermissions": arr![obj!{ "allowedResourceActions": actions, "condition": NULL, "excludedResourceActions": arr![] }],
            };
            self.put("roleDefinitions", json, vec![]);
            self.custom_roles.push(id.clone());
            if !admins.is_empty() {
                let k = 1 + rng.below(3);
                for u in Self::sample(&mut rng, &members, k) {
                    holders.push(Holder { role: id.clone(), principal: user(self, u), scope: "/".into() });
                }
            }
        }

        // Activated directory roles: built-in roles held at the root, with their members.
        for (template, name, description, _) in BUILT_IN_ROLES {
            let holders_of: Vec<Ref> =
                holders.iter().filter(|h| h.role == *template && h.scope == "/").map(|h| h.principal.clone()).collect();
            if holders_of.is_empty() && *template != GLOBAL_ADMIN {
                // Roles activated for scoped (administrative unit) assignments stay activated too.
                if *template != USER_ADMIN && *template != HELPDESK_ADMIN {
                    continue;
                }
            }
            let id = rng.guid();
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "description": description,
                "displayName": name,
                "roleTemplateId": template,
            };
            self.put("directoryRoles", json, vec![("members", Rel::Links(holders_of))]);
            self.directory_roles.push((id, template));
        }

        // Role assignments and their schedules (every active assignment has one).
        for h in &holders {
            let id = format!("{}{}-1", b64url(&guid_bytes(&h.role)), b64url(&guid_bytes(&h.principal.id)));
            self.role_assignment(&id, &h.role, &h.principal.id, &h.scope, anchor_created, None);
        }

        // PIM eligibility: admins may activate more roles.
        let eligible_roles: Vec<&str> = BUILT_IN_ROLES.iter().map(|r| r.0).collect();
        let k = (admins.len() * 2).max(3);
        // Entra ID keeps one eligibility per principal, role and scope (a second request is refused
        // with RoleAssignmentExists).
        let mut held = std::collections::HashSet::new();
        for i in 0..k {
            if admins.is_empty() {
                break;
            }
            let principal = if i % 7 == 6 && !role_groups.is_empty() {
                self.group_ref(role_groups[rng.below(role_groups.len())])
            } else {
                user(self, admins[rng.below(admins.len())])
            };
            let role = eligible_roles[rng.below(eligible_roles.len())];
            let created = self.past(&mut rng, 0, 600);
            let permanent = rng.chance(0.6);
            // Three years: Graph lists no expired schedules, and the anchor is fixed while the clock runs.
            let end = created + jiff::SignedDuration::from_hours(24 * 365 * 3);
            let json = obj! {
                "id": rng.guid(),
                "appScopeId": NULL,
                "createdDateTime": ts(created),
                "createdUsing": rng.guid(),
                "directoryScopeId": "/",
                "memberType": "Direct",
                "modifiedDateTime": NULL,
                "principalId": &principal.id,
                "roleDefinitionId": role,
                "scheduleInfo": obj!{
                    "startDateTime": ts(created),
                    "recurrence": NULL,
                    "expiration": obj!{
                        "duration": NULL,
                        "endDateTime": if permanent { Value::Null } else { J::j(ts(end)) },
                        "type": if permanent { "noExpiration" } else { "afterDateTime" },
                    },
                },
                "status": "Provisioned",
            };
            if held.insert((principal.id.clone(), role)) {
                self.put("roleEligibilitySchedules", json, vec![]);
            }
        }

        // PIM time-bound active assignments: an assignment while it lasts, and a schedule that
        // ends (a random stream of their own, so the rest of the tenant is as before).
        // NOTE: their holders are not added to the activated directoryRoles' members.
        let mut rng = self.rng("pim-active");
        let mut taken: std::collections::HashSet<(String, String)> =
            holders.iter().map(|h| (h.principal.id.clone(), h.role.clone())).collect();
        for _ in 0..admins.len().div_ceil(2) {
            let principal = user(self, admins[rng.below(admins.len())]);
            let role = eligible_roles[rng.below(eligible_roles.len())];
            let id = rng.guid();
            let created = self.past(&mut rng, 0, 300);
            if taken.insert((principal.id.clone(), role.to_string())) {
                let end = created + jiff::SignedDuration::from_hours(24 * 365 * 3);
                self.role_assignment(&id, role, &principal.id, "/", created, Some(end));
            }
        }
    }

    /// An active role assignment and the schedule PIM keeps for it (same id), permanent or until
    /// `end`.
    pub(super) fn role_assignment(
        &mut self,
        id: &str,
        role: &str,
        principal: &str,
        scope: &str,
        created: jiff::Timestamp,
        end: Option<jiff::Timestamp>,
    ) {
        let json = obj! {
            "id": id,
            "appScopeId": NULL,
            "condition": NULL,
            "directoryScopeId": scope,
            "principalId": principal,
            "roleDefinitionId": role,
        };
        self.put("roleAssignments", json, vec![]);
        let schedule = obj! {
            "id": id,
            "appScopeId": NULL,
            "assignmentType": "Assigned",
            "createdDateTime": ts(created),
            "createdUsing": id,
            "directoryScopeId": scope,
            "memberType": "Direct",
            "modifiedDateTime": NULL,
            "principalId": principal,
            "roleDefinitionId": role,
            "scheduleInfo": obj!{
                "startDateTime": ts(created),
                "recurrence": NULL,
                "expiration": match end {
                    Some(end) => obj!{ "duration": NULL, "endDateTime": ts(end), "type": "afterDateTime" },
                    None => obj!{ "duration": NULL, "endDateTime": NULL, "type": "noExpiration" },
                },
            },
            "status": "Provisioned",
        };
        self.put("roleAssignmentSchedules", schedule, vec![]);
    }
}
