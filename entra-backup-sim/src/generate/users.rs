//! Users: members (cloud-only and synced from on-premises AD) and guests, with their licences,
//! managers and sign-in activity.

use super::data::{DEPARTMENTS, FIRST_NAMES, LAST_NAMES, PARTNERS, SITES, SKUS};
use super::{Gen, J, NULL, Rel, UserInfo, b64, cloud_sid, random_bytes, ts, weighted};
use serde_json::Value;
use std::collections::HashMap;

/// Share of users that are guests, and of members synced from on-premises AD.
const GUEST_SHARE: f64 = 0.05;
const SYNCED_SHARE: f64 = 0.20;

impl Gen<'_> {
    pub(super) fn users(&mut self) {
        let n = self.cfg.users;
        let mut rng = self.rng("users");
        let mut upns: HashMap<String, u32> = HashMap::with_capacity(n);
        let site_weights: Vec<u32> = SITES.iter().map(|s| s.weight).collect();
        let dept_weights: Vec<u32> = DEPARTMENTS.iter().map(|d| d.weight).collect();
        let mut members_so_far = 0usize;
        // User indices of members, in order: the manager tree counts members.
        let mut member_ixs: Vec<usize> = Vec::with_capacity(n);
        let mut sync_anchor = self.rng("users-sync");
        let last_sync = self.past(&mut sync_anchor, 0, 1);
        self.users.reserve(n);
        let no_extension_attributes = empty_extension_attributes();
        // Licence assignments of each SKU combination: licences, their states, plans, provisioned plans.
        let licensing: Vec<(Vec<usize>, Value, Value, Value, Value)> = [vec![], vec![1], vec![2], vec![0, 1]]
            .into_iter()
            .map(|skus| {
                let licenses = Value::Array(skus.iter().map(|&s| obj!{ "disabledPlans": arr![], "skuId": SKUS[s].sku_id }).collect());
                let states = Value::Array(
                    skus.iter()
                        .map(|&s| {
                            obj!{
                                "assignedByGroup": NULL,
                                "disabledPlans": arr![],
                                "error": "None",
                                "lastUpdatedDateTime": NULL,
                                "skuId": SKUS[s].sku_id,
                                "state": "Active",
                            }
                        })
                        .collect(),
                );
                let plans = self.assigned_plans_for(&skus, self.anchor);
                let provisioned = if skus.contains(&0) {
                    Value::Array(
                        ["exchange", "SharePoint", "MicrosoftCommunicationsOnline"]
                            .iter()
                            .map(|s| obj!{ "capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": s })
                            .collect(),
                    )
                } else {
                    arr![]
                };
                (skus, licenses, states, plans, provisioned)
            })
            .collect();
        for i in 0..n {
            let id = rng.guid();
            let first = *rng.pick(FIRST_NAMES);
            let last = *rng.pick(LAST_NAMES);
            // The first users are the CEO, the break-glass account and members: never guests.
            let guest = i >= 3 && rng.chance(GUEST_SHARE);
            let site_ix = weighted(&mut rng, &site_weights);
            let site = &SITES[site_ix];
            let created = self.past(&mut rng, 10, 2400);
            let display = format!("{first} {last}");
            let base = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            let count = upns.entry(base.clone()).or_insert(0);
            *count += 1;
            let alias = if *count == 1 { base } else { format!("{base}{count}") };

            if guest {
                let partner = *rng.pick(PARTNERS);
                let external = format!("{alias}@{partner}");
                let upn = format!("{}#EXT#@{}", external.replace('@', "_"), self.initial_domain);
                let accepted = rng.chance(0.85);
                let state_change = self.after(&mut rng, created, 10);
                let json = obj! {
                    "id": &id,
                    "deletedDateTime": NULL,
                    "accountEnabled": true,
                    "ageGroup": NULL,
                    "assignedLicenses": arr![],
                    "assignedPlans": arr![],
                    "businessPhones": arr![],
                    "city": NULL,
                    "companyName": NULL,
                    "consentProvidedForMinor": NULL,
                    "country": NULL,
                    "createdDateTime": ts(created),
                    "creationType": "Invitation",
                    "department": NULL,
                    "displayName": &display,
                    "employeeHireDate": NULL,
                    "employeeId": NULL,
                    "employeeLeaveDateTime": NULL,
                    "employeeOrgData": NULL,
                    "employeeType": NULL,
                    "externalUserState": if accepted { "Accepted" } else { "PendingAcceptance" },
                    "externalUserStateChangeDateTime": ts(state_change),

                    "faxNumber": NULL,
                    "givenName": first,
                    "identities": arr![obj!{ "signInType": "federated", "issuer": "ExternalAzureAD", "issuerAssignedId": NULL }],
                    "imAddresses": arr![],
                    "isResourceAccount": NULL,
                    "jobTitle": NULL,
                    "lastPasswordChangeDateTime": NULL,
                    "legalAgeGroupClassification": NULL,
                    "licenseAssignmentStates": arr![],
                    "mail": &external,
                    "mailNickname": format!("{}#EXT#", external.replace('@', "_")),
                    "mobilePhone": NULL,
                    "officeLocation": NULL,
                    "onPremisesDistinguishedName": NULL,
                    "onPremisesDomainName": NULL,
                    "onPremisesExtensionAttributes": empty_extension_attributes(),

                    "onPremisesImmutableId": NULL,
                    "onPremisesLastSyncDateTime": NULL,
                    "onPremisesProvisioningErrors": arr![],
                    "onPremisesSamAccountName": NULL,
                    "onPremisesSecurityIdentifier": NULL,
                    "onPremisesSyncEnabled": NULL,
                    "onPremisesUserPrincipalName": NULL,
                    "otherMails": arr![&external],
                    "passwordPolicies": NULL,
                    "postalCode": NULL,
                    "preferredDataLocation": NULL,
                    "preferredLanguage": NULL,
                    "provisionedPlans": arr![],
                    "proxyAddresses": arr![format!("SMTP:{external}")],
                    "securityIdentifier": cloud_sid(&id),
                    "showInAddressList": NULL,
                    "signInSessionsValidFromDateTime": ts(state_change),
                    "state": NULL,
                    "streetAddress": NULL,
                    "surname": last,
                    "usageLocation": NULL,
                    "userPrincipalName": &upn,
                    "userType": "Guest",
                };
                self.put("users", json, vec![]);
                self.users.push(UserInfo {
                    id,
                    display_name: display,
                    upn,
                    country: None,
                    site: site_ix,
                    job_title: None,
                    guest: true,
                    enabled: true,
                    synced: false,
                });
                continue;
            }

            let member_ix = members_so_far;
            members_so_far += 1;
            let (department, title) = match member_ix {
                0 => (&DEPARTMENTS[11], "Chief Executive Officer".to_string()),
                1 => (&DEPARTMENTS[6], "Emergency Access Account".to_string()),
                _ => {
                    let d = &DEPARTMENTS[weighted(&mut rng, &dept_weights)];
                    (d, rng.pick(d.titles).to_string())
                }
            };
            let break_glass = member_ix == 1;
            let (display, alias) =
                if break_glass { ("Emergency Access".to_string(), "breakglass".to_string()) } else { (display, alias) };
            let synced = !break_glass && member_ix > 1 && rng.chance(SYNCED_SHARE);
            let enabled = break_glass || member_ix == 0 || !rng.chance(0.04);
            let upn = if break_glass {
                format!("{alias}@{}", self.initial_domain)
            } else {
                format!("{alias}@{}", self.domain)
            };
            let mail = if break_glass { None } else { Some(upn.clone()) };
            // Licences: E5 + EMS for most, EMS or Intune alone for some, none for a few.
            let skus: Vec<usize> = if break_glass {
                vec![]
            } else {
                match rng.below(20) {
                    0 => vec![],
                    1 | 2 => vec![1],
                    3 => vec![2],
                    _ => vec![0, 1],
                }
            };
            let hire = self.past(&mut rng, 30, 4000);
            let hire_date = format!("{}T00:00:00Z", &ts(hire)[..10]);
            let employee_id = format!("{:06}", 100_000 + member_ix);
            let cost_center = format!(
                "CC-{}-{:03}",
                department.name.chars().filter(char::is_ascii_alphabetic).take(3).collect::<String>().to_uppercase(),
                rng.below(40)
            );
            let phone = format!("{}{:03}", site.phone_prefix, rng.below(1000));
            let mobile = if rng.chance(0.6) {
                J::j(format!("{}{:03}", site.phone_prefix, rng.below(1000)))
            } else {
                Value::Null
            };
            let office = format!("{}/{}", &site.city[..3].to_uppercase(), 100 + rng.below(900));
            let pwd_change = self.after(&mut rng, created, 365);
            let mut ext = no_extension_attributes.clone();
            if synced {
                ext["extensionAttribute1"] = J::j(&cost_center);
                if rng.chance(0.3) {
                    ext["extensionAttribute2"] = J::j(site.code);
                }
            }
            // Licences from templates (cloning is cheaper than building), dated to the user.
            let created_s = ts(created);
            let tpl = licensing.iter().find(|l| l.0 == skus).expect("a licence template");
            let licenses = tpl.1.clone();
            let license_states = dated(&tpl.2, "lastUpdatedDateTime", &created_s);
            let plans = dated(&tpl.3, "assignedDateTime", &created_s);
            let provisioned = tpl.4.clone();
            let mut proxies = Vec::new();
            if let Some(m) = &mail {
                proxies.push(format!("SMTP:{m}"));
                proxies.push(format!("smtp:{alias}@{}", self.initial_domain));
                if skus.contains(&0) {
                    proxies.push(format!("SIP:{m}"));
                }
            }
            let sam: String = format!("{}{}", &alias[..1], alias.split('.').nth(1).unwrap_or(&alias))
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect();
            let on_prem = |v: Value| if synced { v } else { Value::Null };
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "accountEnabled": enabled,
                "ageGroup": NULL,
                "assignedLicenses": licenses,
                "assignedPlans": plans,
                "businessPhones": if break_glass { arr![] } else { arr![&phone] },
                "city": &site.city,
                "companyName": &self.company,
                "consentProvidedForMinor": NULL,
                "country": &site.country,
                "createdDateTime": ts(created),
                "creationType": NULL,
                "department": &department.name,
                "displayName": &display,
                "employeeHireDate": if break_glass { Value::Null } else { J::j(&hire_date) },
                "employeeId": if break_glass { Value::Null } else { J::j(&employee_id) },
                "employeeLeaveDateTime": NULL,
                "employeeOrgData": if break_glass { Value::Null } else { obj!{ "costCenter": cost_center, "division": &department.division } },
                "employeeType": if break_glass { Value::Null } else if rng.chance(0.1) { J::j("Contractor") } else { J::j("Employee") },
                "externalUserState": NULL,
                "externalUserStateChangeDateTime": NULL,

                "faxNumber": NULL,
                "givenName": if break_glass { Value::Null } else { J::j(first) },
                "identities": arr![obj!{ "signInType": "userPrincipalName", "issuer": &self.initial_domain, "issuerAssignedId": &upn }],
                "imAddresses": if skus.contains(&0) { arr![&upn] } else { arr![] },
                "isResourceAccount": NULL,
                "jobTitle": &title,
                "lastPasswordChangeDateTime": ts(pwd_change),
                "legalAgeGroupClassification": NULL,
                "licenseAssignmentStates": license_states,
                "mail": mail,
                "mailNickname": alias,
                "mobilePhone": if break_glass { Value::Null } else { mobile },
                "officeLocation": if break_glass { Value::Null } else { J::j(&office) },

                "onPremisesDistinguishedName": on_prem(J::j(format!(
                    "CN={display},OU={},OU=Users,DC={}",
                    department.name,
                    self.ad_domain.replace('.', ",DC=")
                ))),
                "onPremisesDomainName": on_prem(J::j(&self.ad_domain)),
                "onPremisesExtensionAttributes": ext,
                "onPremisesImmutableId": on_prem(J::j(b64(&random_bytes::<16>(&mut rng)))),
                "onPremisesLastSyncDateTime": on_prem(J::j(ts(last_sync))),
                "onPremisesProvisioningErrors": arr![],
                "onPremisesSamAccountName": on_prem(J::j(&sam)),
                "onPremisesSecurityIdentifier": on_prem(J::j(format!("{}-{}", self.ad_sid, 1100 + member_ix))),
                "onPremisesSyncEnabled": if synced { J::j(true) } else { Value::Null },
                "onPremisesUserPrincipalName": on_prem(J::j(&upn)),

                "otherMails": arr![],
                "passwordPolicies": if break_glass || synced { J::j("DisablePasswordExpiration") } else { Value::Null },
                "postalCode": &site.postal_code,
                "preferredDataLocation": NULL,
                "preferredLanguage": &site.language,
                "provisionedPlans": provisioned,
                "proxyAddresses": proxies,
                "securityIdentifier": cloud_sid(&id),
                "showInAddressList": NULL,
                "signInSessionsValidFromDateTime": ts(pwd_change),
                "state": &site.state,
                "streetAddress": &site.street,
                "surname": if break_glass { Value::Null } else { J::j(last) },
                "usageLocation": &site.code,
                "userPrincipalName": &upn,
                "userType": "Member",
            };
            member_ixs.push(self.users.len());
            self.users.push(UserInfo {
                id: id.clone(),
                display_name: display,
                upn,
                country: Some(site.country),
                site: site_ix,
                job_title: Some(title),
                guest: false,
                enabled,
                synced,
            });
            // A manager tree over members: each member reports to an earlier one (the CEO to
            // nobody, the break-glass account to nobody).
            let manager = if member_ix >= 2 {
                let m = (member_ix - 2) / 7;
                Some(if m == 1 { 0 } else { m })
            } else {
                None
            };
            let manager_ref = manager.map(|m| member_ixs[m]);
            let rels = match manager_ref {
                Some(ix) => vec![("manager", Rel::Links(vec![self.user_ref(ix)]))],
                None => vec![],
            };
            self.put("users", json, rels);
            if break_glass {
                self.break_glass = self.users.len() - 1;
            }
        }
    }
}

/// A copy of an array of objects with `key` set to `value` in each.
fn dated(template: &Value, key: &str, value: &str) -> Value {
    let mut v = template.clone();
    if let Value::Array(items) = &mut v {
        for item in items {
            if let Some(slot) = item.get_mut(key) {
                *slot = Value::String(value.to_string());
            }
        }
    }
    v
}

fn empty_extension_attributes() -> Value {
    let mut m = serde_json::Map::with_capacity(15);
    for i in 1..=15 {
        m.insert(format!("extensionAttribute{i}"), Value::Null);
    }
    Value::Object(m)
}
