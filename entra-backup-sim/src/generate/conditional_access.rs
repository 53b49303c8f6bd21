//! Conditional Access: named locations, authentication contexts and strengths, the policies, and how
//! they show in sign-ins.

use super::data::{AZURE_MANAGEMENT_APP_ID, BUILT_IN_ROLES, GLOBAL_ADMIN, SITES};
use super::{Gen, GroupKind, J, NULL, ts};
use serde_json::Value;

impl Gen<'_> {
    pub(super) fn named_locations(&mut self) {
        let mut rng = self.rng("namedLocations");
        let mut hq_ranges = Vec::new();
        for i in 0..(2 + rng.below(3)) {
            hq_ranges.push(obj!{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": format!("203.0.{}.0/24", 113 + i) });
        }
        let site_count = SITES.len();
        let locations: Vec<(String, Value)> = vec![
            (
                "Headquarters".into(),
                obj! { "@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": true, "ipRanges": hq_ranges },
            ),
            (
                "Branch offices".into(),
                obj! {
                    "@odata.type": "#microsoft.graph.ipNamedLocation",
                    "isTrusted": true,
                    "ipRanges": (0..site_count.min(6)).map(|i| obj!{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": format!("198.51.100.{}/29", i * 8) }).collect::<Vec<_>>(),
                },
            ),
            (
                "VPN egress".into(),
                obj! {
                    "@odata.type": "#microsoft.graph.ipNamedLocation",
                    "isTrusted": true,
                    "ipRanges": arr![
                        obj!{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.16/28" },
                        obj!{ "@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8:1234::/48" },
                    ],
                },
            ),
            (
                "Blocked countries".into(),
                obj! {
                    "@odata.type": "#microsoft.graph.countryNamedLocation",
                    "countriesAndRegions": arr!["KP", "IR", "SY", "CU"],
                    "countryLookupMethod": "clientIpAddress",
                    "includeUnknownCountriesAndRegions": false,
                },
            ),
            (
                "Operating countries".into(),
                obj! {
                    "@odata.type": "#microsoft.graph.countryNamedLocation",
                    "countriesAndRegions": SITES.iter().map(|s| s.code).fold(Vec::new(), |mut v, c| { if !v.contains(&c) { v.push(c) } v }),
                    "countryLookupMethod": "clientIpAddress",
                    "includeUnknownCountriesAndRegions": false,
                },
            ),
            (
                "Partner network".into(),
                obj! { "@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": false, "ipRanges": arr![obj!{ "@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "100.64.10.0/24" }] },
            ),
        ];
        for (name, body) in locations {
            let id = rng.guid();
            let created = self.past(&mut rng, 30, 900);
            let modified = self.after(&mut rng, created, 200);
            let mut json = obj! { "id": &id, "displayName": name, "createdDateTime": ts(created), "modifiedDateTime": ts(modified) };
            // `@odata.type` first, as Graph writes it.
            let mut m = serde_json::Map::new();
            if let Value::Object(b) = body {
                m.insert("@odata.type".into(), b["@odata.type"].clone());
                for (k, v) in json.as_object_mut().into_iter().flat_map(std::mem::take) {
                    m.insert(k, v);
                }
                for (k, v) in b {
                    if k != "@odata.type" {
                        m.insert(k, v);
                    }
                }
            }
            json = Value::Object(m);
            self.put("namedLocations", json, vec![]);
            self.named_locations.push(id);
        }
    }

    pub(super) fn auth_contexts(&mut self) {
        for (id, name, description) in [
            ("c1", "Require trusted location", "Sensitive actions need a trusted network"),
            ("c2", "Require MFA", "Step-up authentication for confidential data"),
            ("c3", "Require compliant device", "Highly confidential SharePoint sites"),
        ] {
            let json = obj! { "id": id, "displayName": name, "description": description, "isAvailable": id != "c3" };
            self.put("authenticationContextClassReferences", json, vec![]);
        }
    }

    pub(super) fn authentication_strengths(&mut self) {
        let mut rng = self.rng("authenticationStrengthPolicies");
        let created = self.past(&mut rng, 700, 900);
        let mfa: &[&str] = &[
            "windowsHelloForBusiness",
            "fido2",
            "x509CertificateMultiFactor",
            "deviceBasedPush",
            "temporaryAccessPassOneTime",
            "temporaryAccessPassMultiUse",
            "password,microsoftAuthenticatorPush",
            "password,softwareOath",
            "password,hardwareOath",
            "password,sms",
            "password,voice",
            "federatedMultiFactor",
            "microsoftAuthenticatorPush,federatedSingleFactor",
            "softwareOath,federatedSingleFactor",
            "hardwareOath,federatedSingleFactor",
            "sms,federatedSingleFactor",
            "voice,federatedSingleFactor",
        ];
        let strengths: [(&str, &str, &str, &[&str], bool); 4] = [
            (
                "00000000-0000-0000-0000-000000000002",
                "Multifactor authentication",
                "Combinations of methods that satisfy strong authentication, such as a password + SMS",
                mfa,
                true,
            ),
            (
                "00000000-0000-0000-0000-000000000003",
                "Passwordless MFA",
                "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
                &["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"],
                true,
            ),
            (
                "00000000-0000-0000-0000-000000000004",
                "Phishing-resistant MFA",
                "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
                &["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
                true,
            ),
            (
                "",
                "Contoso admins: FIDO2 or certificate",
                "Security keys or certificates for privileged access",
                &["fido2", "x509CertificateMultiFactor"],
                false,
            ),
        ];
        for (id, name, description, combinations, built_in) in strengths {
            let id = if id.is_empty() { rng.guid() } else { id.to_string() };
            let modified = if built_in { created } else { self.after(&mut rng, created, 300) };
            let json = obj! {
                "id": id,
                "createdDateTime": ts(created),
                "modifiedDateTime": ts(modified),
                "displayName": name,
                "description": description,
                "policyType": if built_in { "builtIn" } else { "custom" },
                "requirementsSatisfied": "mfa",
                "allowedCombinations": combinations,
            };
            self.put("authenticationStrengthPolicies", json.clone(), vec![]);
            self.auth_strengths.push(json);
        }
    }

    pub(super) fn conditional_access(&mut self) {
        let mut rng = self.rng("conditionalAccessPolicies");
        // The emergency-access account is excluded from every policy that could lock it out.
        let bg: Vec<String> = self.users.get(self.break_glass).map(|u| u.id.clone()).into_iter().collect();
        let admin_roles: Vec<&str> = BUILT_IN_ROLES.iter().take(9).map(|r| r.0).collect();
        let sec_groups = self.groups_of(&[GroupKind::Security, GroupKind::Synced]);
        let group_id = |i: usize| -> String {
            if sec_groups.is_empty() { String::new() } else { self.groups[sec_groups[i % sec_groups.len()]].id.clone() }
        };
        let excluded_group = group_id(0);
        let pilot_group = group_id(1);
        let all_employees = self.groups_of(&[GroupKind::AllEmployees]).first().map(|&g| self.groups[g].id.clone());
        let some_users: Vec<String> = self.admins.iter().take(2).map(|&u| self.users[u].id.clone()).collect();
        let loc = |i: usize| self.named_locations.get(i).cloned().unwrap_or_else(|| "AllTrusted".to_string());
        let app = |i: usize| {
            self.apps.get(i % self.apps.len().max(1)).map(|a| a.app_id.clone()).unwrap_or_else(|| "All".into())
        };
        let nonempty = |v: Vec<String>| v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();

        struct Policy {
            name: &'static str,
            state: &'static str,
            users: Value,
            applications: Value,
            client_app_types: Vec<&'static str>,
            locations: Value,
            platforms: Value,
            devices: Value,
            sign_in_risk: Vec<&'static str>,
            user_risk: Vec<&'static str>,
            grant: Value,
            session: Value,
        }
        let users = |include_users: Vec<String>,
                     exclude_users: Vec<String>,
                     include_groups: Vec<String>,
                     exclude_groups: Vec<String>,
                     include_roles: Vec<String>| {
            obj! {
                "includeUsers": include_users,
                "excludeUsers": exclude_users,
                "includeGroups": include_groups,
                "excludeGroups": exclude_groups,
                "includeRoles": include_roles,
                "excludeRoles": arr![],
                "includeGuestsOrExternalUsers": NULL,
                "excludeGuestsOrExternalUsers": NULL,
            }
        };
        let apps = |include: Vec<String>, exclude: Vec<String>, contexts: Vec<&str>| {
            obj! {
                "includeApplications": include,
                "excludeApplications": exclude,
                "includeUserActions": arr![],
                "includeAuthenticationContextClassReferences": contexts,
                "applicationFilter": NULL,
            }
        };
        let grant = |operator: &str, controls: &[&str]| {
            obj! { "operator": operator, "builtInControls": controls, "customAuthenticationFactors": arr![], "termsOfUse": arr![] }
        };
        let s = |v: &str| v.to_string();
        let policies = vec![
            Policy {
                name: "CA001: Require multifactor authentication for admins",
                state: "enabled",
                users: users(vec![], bg.clone(), vec![], vec![], admin_roles.iter().map(|r| s(r)).collect()),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA002: Require multifactor authentication for all users",
                state: "enabledForReportingButNotEnforced",
                users: users(vec![s("All")], bg.clone(), vec![], nonempty(vec![excluded_group.clone()]), vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA003: Block legacy authentication",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["exchangeActiveSync", "other"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["block"]),
                session: Value::Null,
            },
            Policy {
                name: "CA004: Require compliant or hybrid joined device for Office 365",
                state: "enabled",
                users: users(
                    nonempty(vec![]),
                    bg.clone(),
                    nonempty(vec![all_employees.clone().unwrap_or_default()]),
                    vec![],
                    vec![],
                ),
                applications: apps(vec![s("Office365")], vec![], vec![]),
                client_app_types: vec!["browser", "mobileAppsAndDesktopClients"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["compliantDevice", "domainJoinedDevice"]),
                session: Value::Null,
            },
            Policy {
                name: "CA005: Block access from blocked countries",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: obj! { "includeLocations": arr![loc(3)], "excludeLocations": arr![] },
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["block"]),
                session: Value::Null,
            },
            Policy {
                name: "CA006: Require MFA outside trusted locations",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: obj! { "includeLocations": arr!["All"], "excludeLocations": arr!["AllTrusted", loc(0)] },
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA007: Require MFA for guests",
                state: "enabled",
                users: users(vec![s("GuestsOrExternalUsers")], vec![], vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA008: Sign-in frequency for unmanaged devices",
                state: "enabledForReportingButNotEnforced",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("Office365")], vec![], vec![]),
                client_app_types: vec!["browser"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: obj! { "deviceFilter": obj!{ "mode": "exclude", "rule": "device.isCompliant -eq True -or device.trustType -eq \"ServerAD\"" } },
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: Value::Null,
                session: obj! {
                    "disableResilienceDefaults": NULL,
                    "applicationEnforcedRestrictions": NULL,
                    "cloudAppSecurity": NULL,
                    "persistentBrowser": obj!{ "isEnabled": true, "mode": "never" },
                    "signInFrequency": obj!{ "isEnabled": true, "value": 4, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased" },
                },
            },
            Policy {
                name: "CA009: Require MFA for Azure management",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s(AZURE_MANAGEMENT_APP_ID)], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA010: Require MFA for line-of-business apps",
                state: "enabled",
                users: users(vec![], vec![], nonempty(vec![pilot_group.clone()]), vec![], vec![]),
                applications: apps(vec![app(0), app(3)], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA011: Require MFA for risky sign-ins",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec!["high", "medium"],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: obj! { "disableResilienceDefaults": NULL, "applicationEnforcedRestrictions": NULL, "cloudAppSecurity": NULL, "persistentBrowser": NULL, "signInFrequency": obj!{ "isEnabled": true, "value": NULL, "type": NULL, "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "everyTime" } },
            },
            Policy {
                name: "CA012: Require password change for high-risk users",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec!["high"],
                grant: grant("AND", &["mfa", "passwordChange"]),
                session: Value::Null,
            },
            Policy {
                name: "CA013: Require approved client apps on mobile",
                state: "disabled",
                users: users(vec![s("All")], some_users.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("Office365")], vec![], vec![]),
                client_app_types: vec!["mobileAppsAndDesktopClients", "browser"],
                locations: Value::Null,
                platforms: obj! { "includePlatforms": arr!["android", "iOS"], "excludePlatforms": arr![] },
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["approvedApplication", "compliantApplication"]),
                session: Value::Null,
            },
            Policy {
                name: "CA014: Step-up for sensitive data (authentication context)",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![], vec![], vec!["c2"]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA015: Block unsupported device platforms",
                state: "enabledForReportingButNotEnforced",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: apps(vec![s("All")], vec![], vec![]),
                client_app_types: vec!["all"],
                locations: Value::Null,
                platforms: obj! { "includePlatforms": arr!["all"], "excludePlatforms": arr!["android", "iOS", "windows", "macOS"] },
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["block"]),
                session: Value::Null,
            },
            Policy {
                name: "CA016: Require MFA to register security information",
                state: "enabled",
                users: users(vec![s("All")], bg.clone(), vec![], vec![], vec![]),
                applications: obj! { "includeApplications": arr![], "excludeApplications": arr![], "includeUserActions": arr!["urn:user:registersecurityinfo"], "includeAuthenticationContextClassReferences": arr![], "applicationFilter": NULL },
                client_app_types: vec!["all"],
                locations: obj! { "includeLocations": arr!["All"], "excludeLocations": arr!["AllTrusted"] },
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["mfa"]),
                session: Value::Null,
            },
            Policy {
                name: "CA017: Global Administrators only from trusted locations",
                state: "disabled",
                users: users(vec![], bg.clone(), vec![], vec![], vec![s(GLOBAL_ADMIN)]),
                applications: apps(vec![s("All")], vec![s(super::data::GRAPH_APP_ID)], vec![]),
                client_app_types: vec!["all"],
                locations: obj! { "includeLocations": arr!["All"], "excludeLocations": arr![loc(0), loc(2)] },
                platforms: Value::Null,
                devices: Value::Null,
                sign_in_risk: vec![],
                user_risk: vec![],
                grant: grant("OR", &["block"]),
                session: Value::Null,
            },
        ];
        let strengths: Vec<Value> = self.auth_strengths.clone();
        for (ix, p) in policies.into_iter().enumerate() {
            let id = rng.guid();
            let mut p = p;
            // Two policies require an authentication strength instead of plain MFA.
            if let (Some(strength), true) = (strengths.get(if ix == 0 { 2 } else { 3 }), ix == 0 || ix == 13) {
                if self.has("authenticationStrengthPolicies") {
                    p.grant = obj! {
                        "operator": "OR",
                        "builtInControls": arr![],
                        "customAuthenticationFactors": arr![],
                        "termsOfUse": arr![],
                        "authenticationStrength@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('{id}')/grantControls/authenticationStrength/$entity"),
                        "authenticationStrength": strength,
                    };
                }
            }
            let created = self.past(&mut rng, 20, 900);
            let modified = if rng.chance(0.7) { J::j(ts(self.after(&mut rng, created, 300))) } else { Value::Null };
            let json = obj! {
                "id": &id,
                "templateId": NULL,
                "displayName": &p.name,
                "description": NULL,
                "createdDateTime": ts(created),
                "modifiedDateTime": modified,
                "state": &p.state,
                "sessionControls": &p.session,
                "conditions": obj!{
                    "userRiskLevels": &p.user_risk,
                    "signInRiskLevels": &p.sign_in_risk,
                    "clientAppTypes": &p.client_app_types,
                    "servicePrincipalRiskLevels": arr![],
                    "insiderRiskLevels": NULL,
                    "platforms": &p.platforms,
                    "locations": &p.locations,
                    "devices": &p.devices,
                    "clientApplications": NULL,
                    "authenticationFlows": NULL,
                    "applications": &p.applications,
                    "users": &p.users,
                },
                "grantControls": &p.grant,
            };
            self.put("conditionalAccessPolicies", json, vec![]);
            self.ca_applied.push(applied(&id, p.name, p.state, &p.grant, &p.session));
            self.ca_policies.push((id, p.name.to_string()));
        }
    }
}

/// How a policy shows in a successful sign-in's `appliedConditionalAccessPolicies`.
fn applied(id: &str, name: &str, state: &str, grant: &Value, session: &Value) -> Value {
    let mut controls: Vec<&str> = grant
        .get("builtInControls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|c| match c {
            "mfa" => "Mfa",
            "block" => "Block",
            "compliantDevice" => "RequireCompliantDevice",
            "domainJoinedDevice" => "RequireDomainJoinedDevice",
            "approvedApplication" => "RequireApprovedApp",
            "compliantApplication" => "RequireCompliantApp",
            "passwordChange" => "RequirePasswordChange",
            other => other,
        })
        .collect();
    if grant.get("authenticationStrength").is_some_and(|a| !a.is_null()) {
        controls.push("RequireAuthenticationStrength");
    }
    let mut sessions = Vec::new();
    if session.get("signInFrequency").is_some_and(|v| !v.is_null()) {
        sessions.push("SignInFrequency");
    }
    if session.get("persistentBrowser").is_some_and(|v| !v.is_null()) {
        sessions.push("PersistentBrowserSessionMode");
    }
    // A block policy that let the sign-in through did not apply to it.
    let blocks = controls.contains(&"Block");
    let result = match (state, blocks) {
        ("enabled", false) => "success",
        ("enabled", true) => "notApplied",
        ("enabledForReportingButNotEnforced", false) => "reportOnlySuccess",
        ("enabledForReportingButNotEnforced", true) => "reportOnlyNotApplied",
        _ => "notEnabled",
    };
    obj! {
        "id": id,
        "displayName": name,
        "enforcedGrantControls": controls,
        "enforcedSessionControls": sessions,
        "result": result,
    }
}
