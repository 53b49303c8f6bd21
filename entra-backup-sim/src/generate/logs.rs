//! Directory audit records and sign-ins, placed over the 30 days before `now`, newest first.

use jiff::SignedDuration;
use serde_json::Value;

use super::data::{EXCHANGE_APP_ID, GRAPH_APP_ID, SITES};
use super::{Gen, hex_upper, ts};
use super::{J, NULL};

/// Records of each log per user, and the most either log holds.
const PER_USER: usize = 2;
const MAX_RECORDS: usize = 10_000;
const WINDOW_SECONDS: i64 = 30 * 86_400;

impl Gen<'_> {
    /// The moment of the `k`-th of `n` records: evenly spread over the window, newest first, with
    /// jitter inside each record's slot.
    fn log_time(&self, rng: &mut crate::Rng, k: usize, n: usize) -> jiff::Timestamp {
        let slot = (WINDOW_SECONDS / n.max(1) as i64).max(1);
        let back = slot * k as i64 + rng.below(slot as usize) as i64;
        self.now - SignedDuration::from_secs(back.min(WINDOW_SECONDS - 1))
    }

    pub(super) fn logs(&mut self) {
        if self.users.is_empty() {
            return;
        }
        self.directory_audits();
        self.sign_ins();
    }

    fn directory_audits(&mut self) {
        let mut rng = self.rng("directoryAudits");
        let n = (self.users.len() * PER_USER).min(MAX_RECORDS);
        let initiators: Vec<usize> = if self.admins.is_empty() { vec![0] } else { self.admins.clone() };
        for k in 0..n {
            let when = self.log_time(&mut rng, k, n);
            let actor = &self.users[initiators[rng.below(initiators.len())]];
            let target_user = &self.users[rng.below(self.users.len())];
            let by_app = rng.chance(0.2) && !self.apps.is_empty();
            let kind = rng.below(8);
            let (category, activity, operation, target) = match kind {
                0 | 1 => (
                    "UserManagement",
                    "Update user",
                    "Update",
                    obj! {
                        "id": &target_user.id,
                        "displayName": NULL,
                        "type": "User",
                        "userPrincipalName": &target_user.upn,
                        "groupType": NULL,
                        "modifiedProperties": arr![
                            obj!{ "displayName": "JobTitle", "oldValue": "[\"Analyst\"]", "newValue": format!("[\"{}\"]", target_user.job_title.as_deref().unwrap_or("Analyst")) },
                            obj!{ "displayName": "Included Updated Properties", "oldValue": NULL, "newValue": "\"JobTitle\"" },
                        ],
                    },
                ),
                2 | 3 if !self.groups.is_empty() => {
                    let group = &self.groups[rng.below(self.groups.len())];
                    (
                        "GroupManagement",
                        "Add member to group",
                        "Assign",
                        obj! {
                            "id": &target_user.id,
                            "displayName": NULL,
                            "type": "User",
                            "userPrincipalName": &target_user.upn,
                            "groupType": NULL,
                            "modifiedProperties": arr![
                                obj!{ "displayName": "Group.ObjectID", "oldValue": NULL, "newValue": format!("\"{}\"", group.id) },
                                obj!{ "displayName": "Group.DisplayName", "oldValue": NULL, "newValue": format!("\"{}\"", group.display_name) },
                            ],
                        },
                    )
                }
                4 => (
                    "UserManagement",
                    "Reset user password",
                    "Update",
                    obj! { "id": &target_user.id, "displayName": NULL, "type": "User", "userPrincipalName": &target_user.upn, "groupType": NULL, "modifiedProperties": arr![] },
                ),
                5 if !self.apps.is_empty() => {
                    let app = &self.apps[rng.below(self.apps.len())];
                    (
                        "ApplicationManagement",
                        "Update application",
                        "Update",
                        obj! {
                            "id": &app.object_id,
                            "displayName": &app.display_name,
                            "type": "Application",
                            "userPrincipalName": NULL,
                            "groupType": NULL,
                            "modifiedProperties": arr![obj!{ "displayName": "AppAddress", "oldValue": "[]", "newValue": "[{\"AddressType\":0,\"Address\":\"https://localhost\"}]" }],
                        },
                    )
                }
                6 if !self.ca_policies.is_empty() => {
                    let (id, name) = &self.ca_policies[rng.below(self.ca_policies.len())];
                    (
                        "Policy",
                        "Update conditional access policy",
                        "Update",
                        obj! { "id": id, "displayName": name, "type": "Policy", "userPrincipalName": NULL, "groupType": NULL, "modifiedProperties": arr![] },
                    )
                }
                _ => (
                    "RoleManagement",
                    "Add eligible member to role in PIM completed (permanent)",
                    "Add",
                    obj! { "id": &target_user.id, "displayName": &target_user.display_name, "type": "User", "userPrincipalName": &target_user.upn, "groupType": NULL, "modifiedProperties": arr![] },
                ),
            };
            let initiated_by = if by_app {
                let app = &self.apps[rng.below(self.apps.len())];
                obj! {
                    "user": NULL,
                    "app": obj!{ "appId": &app.app_id, "displayName": &app.display_name, "servicePrincipalId": &app.sp_id, "servicePrincipalName": NULL },
                }
            } else {
                obj! {
                    "app": NULL,
                    "user": obj!{ "id": &actor.id, "displayName": NULL, "userPrincipalName": &actor.upn, "ipAddress": ip(&mut rng) },
                }
            };
            let failed = rng.chance(0.03);
            let json = obj! {
                "id": format!("Directory_{}_{}_{}", rng.guid(), hex_upper(&mut rng, 5), 10_000_000 + rng.below(90_000_000)),
                "category": category,
                "correlationId": rng.guid(),
                "result": if failed { "failure" } else { "success" },
                "resultReason": if failed { "Microsoft.Online.Workflows.ObjectAlreadyExistsException" } else { "" },
                "activityDisplayName": activity,
                "activityDateTime": ts(when),
                "loggedByService": if category == "RoleManagement" { "PIM" } else { "Core Directory" },
                "operationType": operation,
                "initiatedBy": initiated_by,
                "targetResources": arr![&target],
                "additionalDetails": arr![
                    obj!{ "key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0" },
                ],
            };
            self.put("directoryAudits", json, vec![]);
        }
    }

    fn sign_ins(&mut self) {
        let mut rng = self.rng("signIns");
        let n = (self.users.len() * PER_USER).min(MAX_RECORDS);
        let resources = [(GRAPH_APP_ID, "Microsoft Graph"), (EXCHANGE_APP_ID, "Office 365 Exchange Online")];
        let mut device_of: Vec<Option<usize>> = vec![None; self.users.len()];
        for (i, d) in self.devices.iter().enumerate() {
            if let Some(o) = d.owner {
                device_of[o].get_or_insert(i);
            }
        }
        for k in 0..n {
            let when = self.log_time(&mut rng, k, n);
            let u = rng.below(self.users.len());
            let user = &self.users[u];
            let (app_id, app_name) = match rng.below(4) {
                0 if !self.apps.is_empty() => {
                    let a = &self.apps[rng.below(self.apps.len())];
                    (a.app_id.clone(), a.display_name.clone())
                }
                1 => ("1fec8e78-bce4-4aaf-ab1b-5451cc387264".to_string(), "Microsoft Teams".to_string()),
                2 => ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c".to_string(), "Azure Portal".to_string()),
                _ => ("d3590ed6-52b3-4102-aeff-aad2292ab01c".to_string(), "Microsoft Office".to_string()),
            };
            let (resource_id, resource_name) = resources[rng.below(resources.len())];
            let failed = rng.chance(0.08);
            let (code, reason) = if failed {
                *rng.pick(&[
                    (50126, "Error validating credentials due to invalid username or password."),
                    (50074, "Strong Authentication is required."),
                    (53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."),
                ])
            } else {
                (0, "Other.")
            };
            let site = &SITES[user.site];
            let device = device_of[u].map(|d| &self.devices[d]);
            let os = device.map_or("Windows10", |d| match d.os {
                "Windows" => "Windows10",
                "MacMDM" => "MacOs",
                other => other,
            });
            // The first policies as they applied; a Conditional Access failure is the first
            // enabled block policy's doing.
            let mut applied: Vec<Value> = self.ca_applied.iter().take(6).cloned().collect();
            let ca_failure = failed && code == 53003;
            if ca_failure {
                if let Some(p) = applied.iter_mut().find(|p| p["result"] == "notApplied") {
                    p["result"] = Value::from("failure");
                }
            }
            let ca_status = if applied.iter().any(|p| p["result"] == "failure") {
                "failure"
            } else if applied.iter().any(|p| p["result"] == "success") {
                "success"
            } else {
                "notApplied"
            };
            let json = obj! {
                "id": rng.guid(),
                "createdDateTime": ts(when),
                "userDisplayName": &user.display_name,
                "userPrincipalName": &user.upn,
                "userId": &user.id,
                "appId": app_id,
                "appDisplayName": app_name,
                "ipAddress": ip(&mut rng),
                "clientAppUsed": if rng.chance(0.7) { "Browser" } else { "Mobile Apps and Desktop clients" },
                "correlationId": rng.guid(),
                "conditionalAccessStatus": ca_status,
                "isInteractive": true,
                "riskDetail": "none",
                "riskLevelAggregated": "none",
                "riskLevelDuringSignIn": "none",
                "riskState": "none",
                "riskEventTypes": arr![],
                "riskEventTypes_v2": arr![],
                "resourceDisplayName": resource_name,
                "resourceId": resource_id,
                "status": obj!{ "errorCode": code, "failureReason": reason, "additionalDetails": if failed { J::j("The user did not pass the MFA challenge") } else { Value::Null } },
                "deviceDetail": obj!{
                    "deviceId": device.map_or(String::new(), |d| d.device_id.clone()),
                    "displayName": device.map_or(String::new(), |d| d.display_name.clone()),
                    "operatingSystem": os,
                    "browser": *rng.pick(&["Edge 126.0.0", "Chrome 126.0.0", "Safari 17.5", "Rich Client 5.2.0"]),
                    "isCompliant": device.is_some(),
                    "isManaged": device.is_some(),
                    "trustType": device.map_or("", |d| if d.os == "Windows" { "Azure AD joined" } else { "Azure AD registered" }),
                },
                "location": obj!{
                    "city": &site.city,
                    "state": &site.state,
                    "countryOrRegion": &site.code,
                    "geoCoordinates": obj!{ "altitude": NULL, "latitude": &site.lat, "longitude": &site.lon },
                },
                "appliedConditionalAccessPolicies": applied,
            };
            self.put("signIns", json, vec![]);
        }
    }
}

/// A public-looking IPv4 address from the documentation ranges.
fn ip(rng: &mut crate::Rng) -> String {
    let nets = ["203.0.113", "198.51.100", "192.0.2"];
    format!("{}.{}", nets[rng.below(nets.len())], 1 + rng.below(254))
}
