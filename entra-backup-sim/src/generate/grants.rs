//! What applications are granted: app role assignments (application permissions, and users and groups
//! assigned to apps) and delegated permission grants.

use super::{Gen, GroupKind, NULL, b64url, guid_bytes, random_bytes, ts};
use crate::Ref;
use serde_json::Value;

impl Gen<'_> {
    /// Application permissions granted to apps (on Microsoft Graph), and users and groups assigned
    /// to gallery apps and to apps with user roles.
    pub(super) fn app_role_assignments(&mut self) {
        let mut rng = self.rng("appRoleAssignments");
        let graph_sp = self.graph_sp.clone();
        let anchor = self.anchor;
        // Apps granted Graph application permissions.
        for a in 0..self.apps.len() {
            let app = self.apps[a].clone();
            for role in &app.app_roles {
                let created = self.past(&mut rng, 0, 700);
                let assignment = obj! {
                    "id": b64url(&[guid_bytes(&app.sp_id), random_bytes::<16>(&mut rng)].concat()),
                    "deletedDateTime": NULL,
                    "appRoleId": role,
                    "createdDateTime": ts(created.min(anchor)),
                    "principalDisplayName": &app.display_name,
                    "principalId": &app.sp_id,
                    "principalType": "ServicePrincipal",
                    "resourceDisplayName": "Microsoft Graph",
                    "resourceId": &graph_sp,
                };
                self.assign(assignment, ("servicePrincipals", &app.sp_id), ("servicePrincipals", &graph_sp));
            }
        }
        // Users and groups assigned to gallery apps and to apps with roles.
        let mut targets: Vec<(String, String, String)> = Vec::new(); // (sp id, display name, app role id)
        for o in self.tenant.objects("servicePrincipals") {
            let roles = o.json.get("appRoles").and_then(Value::as_array);
            let user_role = roles.and_then(|r| {
                r.iter().find(|x| x["allowedMemberTypes"].as_array().is_some_and(|t| t.iter().any(|v| v == "User")))
            });
            if let Some(role) = user_role {
                targets.push((
                    o.id().to_string(),
                    o.json["displayName"].as_str().unwrap_or_default().to_string(),
                    role["id"].as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        let members = self.member_users();
        let groups =
            self.groups_of(&[GroupKind::Security, GroupKind::Unified, GroupKind::DynamicSecurity, GroupKind::Synced]);
        for (sp, sp_name, role) in targets {
            let k = 2 + rng.below(10);
            for u in Self::sample(&mut rng, &members, k) {
                let user = self.users[u].clone();
                let a = obj! {
                    "id": b64url(&[guid_bytes(&user.id), random_bytes::<16>(&mut rng)].concat()),
                    "deletedDateTime": NULL,
                    "appRoleId": &role,
                    "createdDateTime": ts(self.past(&mut rng, 0, 700)),
                    "principalDisplayName": &user.display_name,
                    "principalId": &user.id,
                    "principalType": "User",
                    "resourceDisplayName": &sp_name,
                    "resourceId": &sp,
                };
                self.assign(a, ("users", &user.id), ("servicePrincipals", &sp));
            }
            let k = 1 + rng.below(2);
            for g in Self::sample(&mut rng, &groups, k) {
                let group = self.groups[g].clone();
                let a = obj! {
                    "id": b64url(&[guid_bytes(&group.id), random_bytes::<16>(&mut rng)].concat()),
                    "deletedDateTime": NULL,
                    "appRoleId": &role,
                    "createdDateTime": ts(self.past(&mut rng, 0, 700)),
                    "principalDisplayName": &group.display_name,
                    "principalId": &group.id,
                    "principalType": "Group",
                    "resourceDisplayName": &sp_name,
                    "resourceId": &sp,
                };
                self.assign(a, ("groups", &group.id), ("servicePrincipals", &sp));
            }
        }
    }

    /// Record an app role assignment on its principal (`appRoleAssignments`) and its resource
    /// (`appRoleAssignedTo`), as children or as links, whichever the catalog models.
    fn assign(&mut self, assignment: Value, principal: (&'static str, &str), resource: (&'static str, &str)) {
        self.add_child(principal.0, principal.1, "appRoleAssignments", assignment.clone());
        self.add_child(resource.0, resource.1, "appRoleAssignedTo", assignment);
        self.add_link(
            principal.0,
            principal.1,
            "appRoleAssignments",
            Ref { category: resource.0, id: resource.1.to_string() },
        );
        self.add_link(
            resource.0,
            resource.1,
            "appRoleAssignedTo",
            Ref { category: principal.0, id: principal.1.to_string() },
        );
    }

    pub(super) fn oauth2_grants(&mut self) {
        let mut rng = self.rng("oauth2PermissionGrants");
        let graph_sp = self.graph_sp.clone();
        let members = self.member_users();
        for a in 0..self.apps.len() {
            let app = self.apps[a].clone();
            let delegated: Vec<&str> = app.scopes.clone();
            if delegated.is_empty() || rng.chance(0.15) {
                continue;
            }
            if rng.chance(0.8) {
                // Admin consent for everyone.
                let json = obj! {
                    "id": b64url(&[guid_bytes(&app.sp_id), guid_bytes(&graph_sp)].concat()),
                    "clientId": &app.sp_id,
                    "consentType": "AllPrincipals",
                    "principalId": NULL,
                    "resourceId": &graph_sp,
                    "scope": delegated.join(" "),
                };
                self.put("oauth2PermissionGrants", json, vec![]);
            } else {
                // Users consented one by one.
                let k = 1 + rng.below(8);
                for u in Self::sample(&mut rng, &members, k) {
                    let user = &self.users[u];
                    let json = obj! {
                        "id": b64url(&[guid_bytes(&app.sp_id), guid_bytes(&graph_sp), guid_bytes(&user.id)].concat()),
                        "clientId": &app.sp_id,
                        "consentType": "Principal",
                        "principalId": &user.id,
                        "resourceId": &graph_sp,
                        "scope": delegated.iter().filter(|s| !s.contains("All")).copied().collect::<Vec<_>>().join(" "),
                    };
                    self.put("oauth2PermissionGrants", json, vec![]);
                }
            }
        }
        // Users who consented to a partner's multi-tenant app.
        if let Some((sp, _, _)) = self.foreign_sps.iter().find(|(_, _, n)| n == "Slack").cloned() {
            for u in Self::sample(&mut rng, &members, 3) {
                let user = &self.users[u];
                let json = obj! {
                    "id": b64url(&[guid_bytes(&sp), guid_bytes(&graph_sp), guid_bytes(&user.id)].concat()),
                    "clientId": &sp,
                    "consentType": "Principal",
                    "principalId": &user.id,
                    "resourceId": &graph_sp,
                    "scope": "openid profile email offline_access User.Read",
                };
                self.put("oauth2PermissionGrants", json, vec![]);
            }
        }
    }
}
