//! Directory objects: the organization, domains, licences, users, contacts, devices, groups and
//! administrative units.

use std::collections::HashMap;

use serde_json::Value;

use super::data::{DEPARTMENTS, FIRST_NAMES, LAST_NAMES, PARTNERS, SITES, SKUS};
use super::{
    DeviceInfo, Gen, GroupInfo, GroupKind, Rel, UserInfo, b64, cloud_sid, hex_upper, random_bytes, ts, weighted,
};
use super::{J, NULL};
use crate::{Ref, Rng};

/// Share of users that are guests, and of members synced from on-premises AD.
const GUEST_SHARE: f64 = 0.05;
const SYNCED_SHARE: f64 = 0.20;

impl Gen<'_> {
    pub(super) fn organization_and_domains(&mut self) {
        let mut rng = self.rng("organization");
        let created = self.past(&mut rng, 1500, 2500);
        let site = &SITES[0];
        let plans = self.assigned_plans_for(&[0, 1], created);
        let org = obj! {
            "id": &self.tenant_id,
            "deletedDateTime": NULL,
            "businessPhones": arr!["+1 206 555 0100"],
            "city": &site.city,
            "country": &site.country,
            "countryLetterCode": &site.code,
            "createdDateTime": ts(created),
            "defaultUsageLocation": &site.code,
            "displayName": &self.company,
            "marketingNotificationEmails": arr![format!("it@{}", self.domain)],
            "onPremisesLastSyncDateTime": ts(self.past(&mut rng, 0, 1)),
            "onPremisesSyncEnabled": true,
            "partnerTenantType": NULL,
            "postalCode": &site.postal_code,
            "preferredLanguage": "en",
            "securityComplianceNotificationMails": arr![format!("security@{}", self.domain)],
            "securityComplianceNotificationPhones": arr![],
            "state": &site.state,
            "street": &site.street,
            "technicalNotificationMails": arr![format!("it@{}", self.domain)],
            "tenantType": "AAD",
            "mobileDeviceManagementAuthority": "intune",
            "assignedPlans": plans,
            "privacyProfile": obj!{ "contactEmail": format!("privacy@{}", self.domain), "statementUrl": format!("https://www.{}/privacy", self.domain) },
            "provisionedPlans": arr![
                obj!{ "capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": "exchange" },
                obj!{ "capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": "SharePoint" },
                obj!{ "capabilityStatus": "Enabled", "provisioningStatus": "Success", "service": "MicrosoftCommunicationsOnline" },
            ],
            "verifiedDomains": arr![
                obj!{ "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": &self.initial_domain, "type": "Managed" },
                obj!{ "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": &self.domain, "type": "Managed" },
                obj!{ "capabilities": "Email", "isDefault": false, "isInitial": false, "name": self.mail_domain(), "type": "Managed" },
            ],
        };
        self.put("organization", org, vec![]);

        let domains = [
            (self.initial_domain.clone(), false, true, true, vec!["Email", "OfficeCommunicationsOnline"]),
            (self.domain.clone(), true, false, true, vec!["Email", "OfficeCommunicationsOnline", "Intune"]),
            (self.mail_domain(), false, false, true, vec!["Email"]),
            (format!("{}.net", self.domain.trim_end_matches(".com")), false, false, false, vec![]),
        ];
        for (name, default, initial, verified, services) in domains {
            let json = obj! {
                "id": name,
                "authenticationType": "Managed",
                "availabilityStatus": NULL,
                "isAdminManaged": true,
                "isDefault": default,
                "isInitial": initial,
                "isRoot": true,
                "isVerified": verified,
                "passwordNotificationWindowInDays": if verified { J::j(14) } else { Value::Null },
                "passwordValidityPeriodInDays": if verified { J::j(2147483647) } else { Value::Null },
                "supportedServices": services,
                "state": NULL,
            };
            self.put("domains", json, vec![]);
        }
    }

    /// Exchange's routing domain: `contoso7.mail.onmicrosoft.com`.
    fn mail_domain(&self) -> String {
        self.initial_domain.replace(".onmicrosoft.com", ".mail.onmicrosoft.com")
    }

    /// `assignedPlans` for holders of the given SKUs (indices into `SKUS`).
    fn assigned_plans_for(&self, skus: &[usize], when: jiff::Timestamp) -> Value {
        let mut plans = Vec::new();
        let mut seen = Vec::new();
        for &s in skus {
            for (id, _, service) in SKUS[s].plans {
                if !seen.contains(id) {
                    seen.push(*id);
                    plans.push(obj! {
                        "assignedDateTime": ts(when),
                        "capabilityStatus": "Enabled",
                        "service": service,
                        "servicePlanId": id,
                    });
                }
            }
        }
        Value::Array(plans)
    }

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

    pub(super) fn subscribed_skus(&mut self) {
        let mut rng = self.rng("skus");
        let mut consumed = [0i64; 3];
        for u in self.tenant.objects("users") {
            if let Some(l) = u.json.get("assignedLicenses").and_then(Value::as_array) {
                for lic in l {
                    let sku = lic.get("skuId").and_then(Value::as_str).unwrap_or_default();
                    if let Some(ix) = SKUS.iter().position(|s| s.sku_id == sku) {
                        consumed[ix] += 1;
                    }
                }
            }
        }
        for (ix, sku) in SKUS.iter().enumerate() {
            let enabled = ((consumed[ix] as f64 * 1.1) as i64 / 25 + 1) * 25;
            let json = obj! {
                "id": format!("{}_{}", self.tenant_id, sku.sku_id),
                "accountId": &self.tenant_id,
                "accountName": &self.company,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": consumed[ix],
                "prepaidUnits": obj!{ "enabled": enabled, "lockedOut": 0, "suspended": 0, "warning": 0 },
                "servicePlans": sku.plans.iter().map(|(id, name, _)| obj!{
                    "appliesTo": "User",
                    "provisioningStatus": "Success",
                    "servicePlanId": id,
                    "servicePlanName": name,
                }).collect::<Vec<_>>(),
                "skuId": &sku.sku_id,
                "skuPartNumber": &sku.part_number,
                "subscriptionIds": arr![rng.guid()],
            };
            self.put("subscribedSkus", json, vec![]);
        }
    }

    pub(super) fn contacts(&mut self) {
        let n = (self.cfg.users / 20).max(3);
        let mut rng = self.rng("orgContacts");
        for i in 0..n {
            let id = rng.guid();
            let first = *rng.pick(FIRST_NAMES);
            let last = *rng.pick(LAST_NAMES);
            let partner = *rng.pick(PARTNERS);
            let mail = format!("{}.{}{}@{partner}", first.to_lowercase(), last.to_lowercase(), i);
            let site = rng.pick(SITES);
            let company = partner.split('.').next().unwrap_or(partner);
            let company = format!("{}{}", company[..1].to_uppercase(), &company[1..]);
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "companyName": &company,
                "department": NULL,
                "displayName": format!("{first} {last} ({company})"),
                "givenName": first,
                "jobTitle": if rng.chance(0.5) { J::j("Account Manager") } else { Value::Null },
                "mail": &mail,
                "mailNickname": format!("{}{}{}", first.to_lowercase(), last.to_lowercase(), i),
                "onPremisesLastSyncDateTime": NULL,
                "onPremisesSyncEnabled": NULL,
                "surname": last,
                "addresses": arr![obj!{
                    "city": &site.city,
                    "countryOrRegion": &site.country,
                    "officeLocation": NULL,
                    "postalCode": &site.postal_code,
                    "state": &site.state,
                    "street": &site.street,
                }],
                "phones": arr![
                    obj!{ "number": format!("{}{:03}", site.phone_prefix, rng.below(1000)), "type": "business" },
                    obj!{ "number": NULL, "type": "businessFax" },
                ],
                "proxyAddresses": arr![format!("SMTP:{mail}")],
                "onPremisesProvisioningErrors": arr![],
                "serviceProvisioningErrors": arr![],
            };
            self.put("orgContacts", json, vec![]);
            self.contacts.push(id);
        }
    }

    pub(super) fn devices(&mut self) {
        let mut rng = self.rng("devices");
        let members = self.member_users();
        let n = self.cfg.users / 2;
        for i in 0..n {
            let id = rng.guid();
            let device_id = rng.guid();
            let owner = if members.is_empty() { None } else { Some(members[rng.below(members.len())]) };
            let synced_owner = owner.is_some_and(|o| self.users[o].synced);
            let kind = rng.below(20);
            let (os, version, name, manufacturer, model, trust, ownership) = match kind {
                0..=11 => (
                    "Windows",
                    *rng.pick(&["10.0.19045.4651", "10.0.22631.3880", "10.0.22631.4169", "10.0.26100.2033"]),
                    format!("DESKTOP-{}", hex_upper(&mut rng, 7)),
                    *rng.pick(&["Dell Inc.", "LENOVO", "HP", "Microsoft Corporation"]),
                    *rng.pick(&["Latitude 7440", "ThinkPad T14 Gen 4", "EliteBook 840 G10", "Surface Laptop 5"]),
                    if synced_owner { "ServerAd" } else { "AzureAd" },
                    "Company",
                ),
                12..=14 => (
                    "iOS",
                    *rng.pick(&["17.5.1", "17.6", "18.0.1"]),
                    "iPhone".to_string(),
                    "Apple",
                    *rng.pick(&["iPhone 14", "iPhone 15 Pro"]),
                    "Workplace",
                    "Company",
                ),
                15..=17 => (
                    "Android",
                    *rng.pick(&["13", "14", "15"]),
                    format!("Android_{}", i),
                    *rng.pick(&["samsung", "Google"]),
                    *rng.pick(&["SM-S911B", "Pixel 8"]),
                    "Workplace",
                    "Personal",
                ),
                _ => (
                    "MacMDM",
                    *rng.pick(&["14.5", "14.6.1", "15.0"]),
                    format!(
                        "{}'s MacBook Pro",
                        owner.map_or("Shared", |o| self.users[o].display_name.split(' ').next().unwrap_or("Shared"))
                    ),
                    "Apple",
                    "MacBookPro18,3",
                    "Workplace",
                    "Company",
                ),
            };
            let registered = self.past(&mut rng, 5, 1200);
            let last_sign_in = self.past(&mut rng, 0, 30);
            let managed = os != "Android" || rng.chance(0.5);
            let compliant = managed && rng.chance(0.9);
            let hybrid = trust == "ServerAd";
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "accountEnabled": true,
                "approximateLastSignInDateTime": ts(last_sign_in),
                "complianceExpirationDateTime": NULL,
                "deviceCategory": NULL,
                "deviceId": &device_id,
                "deviceMetadata": NULL,
                "deviceOwnership": ownership,
                "deviceVersion": 2,
                "displayName": &name,
                "enrollmentProfileName": NULL,
                "enrollmentType": if managed { J::j(if os == "Windows" { "AzureDomainJoined" } else { "UserEnrollment" }) } else { Value::Null },
                "isCompliant": compliant,
                "isManaged": managed,
                "isRooted": false,
                "managementType": if managed { J::j("MDM") } else { Value::Null },
                "manufacturer": manufacturer,
                "mdmAppId": if managed { J::j(super::data::INTUNE_APP_ID) } else { Value::Null },
                "model": model,
                "onPremisesLastSyncDateTime": if hybrid { J::j(ts(self.past(&mut rng, 0, 1))) } else { Value::Null },
                "onPremisesSecurityIdentifier": if hybrid { J::j(format!("{}-{}", self.ad_sid, 500_000 + i)) } else { Value::Null },
                "onPremisesSyncEnabled": if hybrid { J::j(true) } else { Value::Null },
                "operatingSystem": os,
                "operatingSystemVersion": version,
                "physicalIds": arr![
                    format!("[USER-GID]:{}:{}", owner.map_or(String::new(), |o| self.users[o].id.clone()), rng.below(1_000_000_000)),
                    format!("[GID]:g:{}", 6_700_000_000_000_000u64 + rng.below(1_000_000_000_000) as u64),
                    format!("[HWID]:h:{}", 6_900_000_000_000_000u64 + rng.below(1_000_000_000_000) as u64),
                ],
                "profileType": "RegisteredDevice",
                "registrationDateTime": ts(registered),
                "systemLabels": arr![],
                "trustType": trust,
                "alternativeSecurityIds": arr![obj!{ "type": 2, "identityProvider": NULL, "key": b64(&random_bytes::<40>(&mut rng)) }],
            };
            let owners = owner.map(|o| vec![self.user_ref(o)]).unwrap_or_default();
            self.put(
                "devices",
                json,
                vec![("registeredOwners", Rel::Links(owners.clone())), ("registeredUsers", Rel::Links(owners))],
            );
            self.devices.push(DeviceInfo { id, device_id, display_name: name, os, owner });
        }
    }

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
