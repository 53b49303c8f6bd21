//! Directory objects: the organization, domains, licences, contacts and devices (users, groups and
//! administrative units have modules of their own).

use serde_json::Value;

use super::data::{FIRST_NAMES, LAST_NAMES, PARTNERS, SITES, SKUS};
use super::{DeviceInfo, Gen, Rel, b64, hex_upper, random_bytes, ts};
use super::{J, NULL};

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

    /// The tenant-wide Microsoft 365 group settings an administrator created from the
    /// `Group.Unified` template (a tenant without them has none: Graph then applies the template's
    /// defaults). Graph returns every value of the template, as strings.
    pub(super) fn group_settings(&mut self) {
        let mut rng = self.rng("groupSettings");
        let values = [
            ("CustomBlockedWordsList", ""),
            ("EnableMSStandardBlockedWords", "true"),
            ("ClassificationDescriptions", ""),
            ("DefaultClassification", ""),
            ("PrefixSuffixNamingRequirement", "GRP-[GroupName]"),
            ("AllowGuestsToBeGroupOwner", "false"),
            ("AllowGuestsToAccessGroups", "true"),
            ("GuestUsageGuidelinesUrl", ""),
            ("GroupCreationAllowedGroupId", ""),
            ("AllowToAddGuests", "true"),
            ("UsageGuidelinesUrl", ""),
            ("ClassificationList", ""),
            ("EnableGroupCreation", "true"),
            ("NewUnifiedGroupWritebackDefault", "true"),
            ("EnableMIPLabels", "false"),
        ];
        let json = obj! {
            "id": rng.guid(),
            "displayName": "Group.Unified",
            "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
            "values": Value::Array(values.iter().map(|(n, v)| obj!{ "name": *n, "value": *v }).collect()),
        };
        self.put("groupSettings", json, vec![]);
    }

    /// Exchange's routing domain: `contoso7.mail.onmicrosoft.com`.
    fn mail_domain(&self) -> String {
        self.initial_domain.replace(".onmicrosoft.com", ".mail.onmicrosoft.com")
    }

    /// `assignedPlans` for holders of the given SKUs (indices into `SKUS`).
    pub(super) fn assigned_plans_for(&self, skus: &[usize], when: jiff::Timestamp) -> Value {
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

    pub(super) fn subscribed_skus(&mut self) {
        let mut rng = self.rng("skus");
        let mut consumed = [0i64; 3];
        for (sku, n) in &self.licences {
            if let Some(ix) = SKUS.iter().position(|s| s.sku_id == sku) {
                consumed[ix] += n;
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
}
