//! Policies: authentication methods, the tenant's singleton policies, cross-tenant access, and the
//! `/policies` collections (Conditional Access and what it builds on have a module of their own).

use serde_json::Value;

use super::data::GUEST_USER_ROLE;
use super::{Gen, GroupKind, Rel, ts};
use super::{J, NULL};
use crate::Ref;

impl Gen<'_> {
    pub(super) fn authentication_methods(&mut self) {
        let mut rng = self.rng("authenticationMethods");
        let modified = self.past(&mut rng, 5, 200);
        let pilot = self.groups_of(&[GroupKind::Security]).first().map(|&g| self.groups[g].id.clone());
        let excluded = self.groups_of(&[GroupKind::Security]).get(1).map(|&g| self.groups[g].id.clone());
        let all = |extra: Value| {
            let mut t = obj! { "targetType": "group", "id": "all_users", "isRegistrationRequired": false };
            if let (Value::Object(t), Value::Object(e)) = (&mut t, extra) {
                t.extend(e);
            }
            arr![&t]
        };
        let group_target = |id: &Option<String>| match id {
            Some(id) => arr![obj! { "targetType": "group", "id": id, "isRegistrationRequired": false }],
            None => arr![obj! { "targetType": "group", "id": "all_users", "isRegistrationRequired": false }],
        };
        let exclude = |id: &Option<String>| match id {
            Some(id) => arr![obj! { "id": id, "targetType": "group" }],
            None => arr![],
        };
        let configs = vec![
            obj! {
                "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
                "id": "Fido2",
                "state": "enabled",
                "isSelfServiceRegistrationAllowed": true,
                "isAttestationEnforced": false,
                "excludeTargets": arr![],
                "keyRestrictions": obj!{ "isEnforced": false, "enforcementType": "block", "aaGuids": arr![] },
                "includeTargets": all(obj!{ "allowedPasskeyProfiles": arr![] }),
            },
            obj! {
                "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
                "id": "MicrosoftAuthenticator",
                "state": "enabled",
                "isSoftwareOathEnabled": false,
                "excludeTargets": exclude(&excluded),
                "featureSettings": obj!{
                    "displayAppInformationRequiredState": obj!{ "state": "enabled", "includeTarget": obj!{ "targetType": "group", "id": "all_users" }, "excludeTarget": obj!{ "targetType": "group", "id": "00000000-0000-0000-0000-000000000000" } },
                    "displayLocationInformationRequiredState": obj!{ "state": "enabled", "includeTarget": obj!{ "targetType": "group", "id": "all_users" }, "excludeTarget": obj!{ "targetType": "group", "id": "00000000-0000-0000-0000-000000000000" } },
                },
                "includeTargets": all(obj!{ "authenticationMode": "any" }),
            },
            obj! {
                "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
                "id": "Sms",
                "state": "disabled",
                "excludeTargets": arr![],
                "includeTargets": all(obj!{ "isUsableForSignIn": false }),
            },
            obj! {
                "@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
                "id": "TemporaryAccessPass",
                "state": "enabled",
                "defaultLifetimeInMinutes": 60,
                "defaultLength": 8,
                "minimumLifetimeInMinutes": 60,
                "maximumLifetimeInMinutes": 480,
                "isUsableOnce": false,
                "excludeTargets": arr![],
                "includeTargets": group_target(&pilot),
            },
            obj! {
                "@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration",
                "id": "Email",
                "state": "enabled",
                "allowExternalIdToUseEmailOtp": "default",
                "excludeTargets": arr![],
                "includeTargets": all(Value::Object(Default::default())),
            },
            obj! {
                "@odata.type": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration",
                "id": "SoftwareOath",
                "state": "disabled",
                "excludeTargets": arr![],
                "includeTargets": all(Value::Object(Default::default())),
            },
            obj! {
                "@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration",
                "id": "Voice",
                "state": "disabled",
                "isOfficePhoneAllowed": false,
                "excludeTargets": arr![],
                "includeTargets": all(Value::Object(Default::default())),
            },
            obj! {
                "@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration",
                "id": "X509Certificate",
                "state": "disabled",
                "certificateUserBindings": arr![
                    obj!{ "x509CertificateField": "PrincipalName", "userProperty": "onPremisesUserPrincipalName", "priority": 1 },
                    obj!{ "x509CertificateField": "RFC822Name", "userProperty": "userPrincipalName", "priority": 2 },
                ],
                "authenticationModeConfiguration": obj!{ "x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor", "rules": arr![] },
                "excludeTargets": arr![],
                "includeTargets": all(Value::Object(Default::default())),
            },
        ];
        let in_category = self.has("authenticationMethodConfigurations");
        let policy = obj! {
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
            "lastModifiedDateTime": ts(modified),
            "policyVersion": "1.5",
            "reconfirmationInDays": 0,
            "policyMigrationState": "migrationInProgress",
            "registrationEnforcement": obj!{
                "authenticationMethodsRegistrationCampaign": obj!{
                    "snoozeDurationInDays": 1,
                    "state": "default",
                    "excludeTargets": arr![],
                    "includeTargets": arr![obj!{ "id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator" }],
                },
            },
        };
        let children = if in_category { vec![] } else { configs.clone() };
        self.put(
            "authenticationMethodsPolicy",
            policy,
            vec![("authenticationMethodConfigurations", Rel::Children(children))],
        );
        if in_category {
            for c in configs {
                self.put("authenticationMethodConfigurations", c, vec![]);
            }
        }
    }

    pub(super) fn tenant_policies(&mut self) {
        let mut rng = self.rng("tenantPolicies");
        let authorization = obj! {
            "id": "authorizationPolicy",
            "deletedDateTime": NULL,
            "allowInvitesFrom": "adminsAndGuestInviters",
            "allowedToSignUpEmailBasedSubscriptions": false,
            "allowedToUseSSPR": true,
            "allowEmailVerifiedUsersToJoinOrganization": false,
            "allowUserConsentForRiskyApps": NULL,
            "blockMsolPowerShell": true,
            "description": "Used to manage authorization related settings across the company.",
            "displayName": "Authorization Policy",
            "guestUserRoleId": GUEST_USER_ROLE,
            "defaultUserRolePermissions": obj!{
                "allowedToCreateApps": false,
                "allowedToCreateSecurityGroups": false,
                "allowedToCreateTenants": false,
                "allowedToReadBitlockerKeysForOwnedDevice": true,
                "allowedToReadOtherUsers": true,
                "permissionGrantPoliciesAssigned": arr!["ManagePermissionGrantsForSelf.microsoft-user-default-low"],
            },
        };
        self.put("authorizationPolicy", authorization, vec![]);

        let security_defaults = obj! {
            "id": "00000000-0000-0000-0000-000000000005",
            "deletedDateTime": NULL,
            "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
            "displayName": "Security Defaults",
            "isEnabled": false,
        };
        self.put("identitySecurityDefaultsEnforcementPolicy", security_defaults, vec![]);

        let reviewers: Vec<Value> = self
            .admins
            .iter()
            .take(2)
            .map(|&u| obj!{ "query": format!("/users/{}", self.users[u].id), "queryType": "MicrosoftGraph", "queryRoot": NULL })
            .collect();
        let admin_consent = obj! {
            "id": "adminConsentRequestPolicy",
            "isEnabled": !reviewers.is_empty(),
            "notifyReviewers": true,
            "remindersEnabled": true,
            "requestDurationInDays": 30,
            "version": 2,
            "reviewers": reviewers,
        };
        self.put("adminConsentRequestPolicy", admin_consent, vec![]);

        let cutoff = ts(self.past(&mut rng, 300, 600));
        let default_app_management = obj! {
            "id": "00000000-0000-0000-0000-000000000000",
            "deletedDateTime": NULL,
            "description": "Default tenant policy that enforces app management restrictions on applications and service principals. To apply policy to targeted resources, create a new policy under appManagementPolicies collection.",
            "displayName": "Default app management tenant policy",
            "isEnabled": true,
            "applicationRestrictions": obj!{
                "passwordCredentials": arr![
                    obj!{ "restrictionType": "passwordAddition", "state": "disabled", "maxLifetime": NULL, "restrictForAppsCreatedAfterDateTime": &cutoff },
                    obj!{ "restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P365D", "restrictForAppsCreatedAfterDateTime": &cutoff },
                ],
                "keyCredentials": arr![
                    obj!{ "restrictionType": "asymmetricKeyLifetime", "state": "enabled", "maxLifetime": "P730D", "restrictForAppsCreatedAfterDateTime": &cutoff },
                ],
                "identifierUris": NULL,
            },
            "servicePrincipalRestrictions": obj!{
                "passwordCredentials": arr![
                    obj!{ "restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P365D", "restrictForAppsCreatedAfterDateTime": &cutoff },
                ],
                "keyCredentials": arr![],
            },
        };
        self.put("defaultAppManagementPolicy", default_app_management, vec![]);

        for (name, lifetime, enabled) in
            [("Short-lived secrets for finance apps", "P90D", true), ("No new secrets for automation", "P30D", false)]
        {
            let id = rng.guid();
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "description": format!("{name}: secrets live at most {lifetime}"),
                "displayName": name,
                "isEnabled": enabled,
                "restrictions": obj!{
                    "passwordCredentials": arr![
                        obj!{ "restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": lifetime, "restrictForAppsCreatedAfterDateTime": &cutoff },
                    ],
                    "keyCredentials": arr![],
                },
            };
            let apps = Self::sample(&mut rng, &self.apps, 2);
            let targets: Vec<Ref> =
                apps.iter().map(|a| Ref { category: "applications", id: a.object_id.clone() }).collect();
            if self.put("appManagementPolicies", json, vec![("appliesTo", Rel::Links(targets))]) {
                let policy = Ref { category: "appManagementPolicies", id: id.clone() };
                for (k, a) in apps.iter().enumerate() {
                    if k == 0 {
                        self.add_link("applications", &a.object_id, "appManagementPolicies", policy.clone());
                    } else {
                        self.add_link("servicePrincipals", &a.sp_id, "appManagementPolicies", policy.clone());
                    }
                }
            }
        }

        // Cross-tenant access: the tenant-wide policy and a few partners.
        let cross = obj! {
            "id": "crossTenantAccessPolicy",
            "deletedDateTime": NULL,
            "description": NULL,
            "displayName": "CrossTenantAccessPolicy",
            "allowedCloudEndpoints": arr![],
        };
        self.put("crossTenantAccessPolicy", cross, vec![]);
        let all_users =
            obj! { "accessType": "allowed", "targets": arr![obj!{ "target": "AllUsers", "targetType": "user" }] };
        let all_apps = obj! { "accessType": "allowed", "targets": arr![obj!{ "target": "AllApplications", "targetType": "application" }] };
        let blocked_users =
            obj! { "accessType": "blocked", "targets": arr![obj!{ "target": "AllUsers", "targetType": "user" }] };
        let blocked_apps = obj! { "accessType": "blocked", "targets": arr![obj!{ "target": "AllApplications", "targetType": "application" }] };
        let default = obj! {
            "id": "crossTenantAccessPolicyDefault",
            "isServiceDefault": false,
            "inboundTrust": obj!{ "isMfaAccepted": false, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false },
            "b2bCollaborationInbound": obj!{ "usersAndGroups": &all_users, "applications": &all_apps },
            "b2bCollaborationOutbound": obj!{ "usersAndGroups": &all_users, "applications": &all_apps },
            "b2bDirectConnectInbound": obj!{ "usersAndGroups": &blocked_users, "applications": &blocked_apps },
            "b2bDirectConnectOutbound": obj!{ "usersAndGroups": &blocked_users, "applications": &blocked_apps },
            "automaticUserConsentSettings": obj!{ "inboundAllowed": false, "outboundAllowed": false },
            "invitationRedemptionIdentityProviderConfiguration": obj!{
                "primaryIdentityProviderPrecedenceOrder": arr!["externalFederation", "azureActiveDirectory", "socialIdentityProviders"],
                "fallbackIdentityProvider": "defaultConfiguredIdp",
            },
            "tenantRestrictions": obj!{ "usersAndGroups": blocked_users, "applications": blocked_apps, "devices": NULL },
        };
        self.put("crossTenantAccessPolicyDefault", default, vec![]);
        for i in 0..3 {
            let partner_tenant = rng.guid();
            let group = self.groups_of(&[GroupKind::Security]).get(i).map(|&g| self.groups[g].id.clone());
            let outbound_users = match &group {
                Some(g) if i == 1 => {
                    obj! { "accessType": "allowed", "targets": arr![obj!{ "target": g, "targetType": "group" }] }
                }
                _ => all_users.clone(),
            };
            let json = obj! {
                "id": &partner_tenant,
                "tenantId": &partner_tenant,
                "isServiceProvider": i == 2,
                "isInMultiTenantOrganization": false,
                "inboundTrust": obj!{ "isMfaAccepted": true, "isCompliantDeviceAccepted": i == 0, "isHybridAzureADJoinedDeviceAccepted": i == 0 },
                "b2bCollaborationInbound": if i == 2 { Value::Null } else { obj!{ "usersAndGroups": &all_users, "applications": &all_apps } },
                "b2bCollaborationOutbound": if i == 2 { Value::Null } else { obj!{ "usersAndGroups": outbound_users, "applications": &all_apps } },
                "b2bDirectConnectInbound": if i == 0 { obj!{ "usersAndGroups": &all_users, "applications": &all_apps } } else { Value::Null },
                "b2bDirectConnectOutbound": if i == 0 { obj!{ "usersAndGroups": &all_users, "applications": &all_apps } } else { Value::Null },
                "automaticUserConsentSettings": obj!{ "inboundAllowed": i == 0, "outboundAllowed": i == 0 },
                "tenantRestrictions": NULL,
            };
            // The partner's cross-tenant sync settings (keyed, like the partner, by tenant id).
            let sync = if i == 0 {
                vec![obj! {
                    "id": &partner_tenant,
                    "tenantId": partner_tenant,
                    "displayName": format!("Partner {}", i + 1),
                    "userSyncInbound": obj!{ "isSyncAllowed": true },
                }]
            } else {
                vec![]
            };
            self.put("crossTenantAccessPolicyPartners", json, vec![("identitySynchronization", Rel::Children(sync))]);
        }

        // Permission grant policies: two of Microsoft's and a custom one.
        let policies = [
            (
                "microsoft-user-default-low",
                "All low risk permissions are consentable by member type users by default.",
                "Default policy for user consent (low risk)",
                Some("low"),
            ),
            (
                "microsoft-application-admin",
                "Includes all application permissions (app roles), for all APIs, for any client application.",
                "All application permissions, for any client app",
                None,
            ),
            (
                "contoso-verified-publishers",
                "Delegated permissions classified low, from verified publishers only.",
                "Verified publishers, low risk",
                Some("low"),
            ),
        ];
        for (id, description, name, classification) in policies {
            let include = obj! {
                "id": rng.guid(),
                "permissionClassification": classification.unwrap_or("all"),
                "permissionType": if classification.is_some() { "delegated" } else { "application" },
                "resourceApplication": "any",
                "permissions": arr!["all"],
                "clientApplicationIds": arr!["all"],
                "clientApplicationTenantIds": arr!["all"],
                "clientApplicationPublisherIds": arr!["all"],
                "clientApplicationsFromVerifiedPublisherOnly": id.starts_with("contoso"),
            };
            let exclude = obj! {
                "id": rng.guid(),
                "permissionClassification": "all",
                "permissionType": "delegated",
                "resourceApplication": super::data::GRAPH_APP_ID,
                "permissions": arr!["06da0dbc-49e2-44d2-8312-53f166ab848a"],
                "clientApplicationIds": arr!["all"],
                "clientApplicationTenantIds": arr!["all"],
                "clientApplicationPublisherIds": arr!["all"],
                "clientApplicationsFromVerifiedPublisherOnly": false,
            };
            let excludes = if id.starts_with("contoso") { vec![exclude] } else { vec![] };
            let mut json = obj! { "id": id, "deletedDateTime": NULL, "description": description, "displayName": name };
            let contained = self.rel_kind("permissionGrantPolicies", "includes").is_some();
            if !contained {
                json["includes"] = arr![include.clone()];
                json["excludes"] = J::j(excludes.clone());
            }
            self.put(
                "permissionGrantPolicies",
                json,
                vec![("includes", Rel::Children(vec![include])), ("excludes", Rel::Children(excludes))],
            );
        }

        // Staged rollout of cloud authentication.
        for (feature, name, enabled) in
            [("passwordHashSync", "Password hash sync pilot", true), ("seamlessSso", "Seamless SSO pilot", false)]
        {
            let id = rng.guid();
            let json = obj! {
                "id": id,
                "displayName": name,
                "description": format!("Staged rollout: {feature}"),
                "feature": feature,
                "isEnabled": enabled,
                "isAppliedToOrganization": false,
            };
            let mut groups = self.groups_of(&[GroupKind::Security, GroupKind::Synced]);
            if groups.is_empty() {
                groups = (0..self.groups.len()).collect();
            }
            let targets: Vec<Ref> = Self::sample(&mut rng, &groups, 2).into_iter().map(|g| self.group_ref(g)).collect();
            self.put("featureRolloutPolicies", json, vec![("appliesTo", Rel::Links(targets))]);
        }
    }

    pub(super) fn sts_policies(&mut self) {
        let mut rng = self.rng("stsPolicies");
        let policies: [(&'static str, &str, String, bool); 7] = [
            ("tokenLifetimePolicies", "Access tokens: 2 hours", r#"{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"02:00:00"}}"#.to_string(), false),
            ("tokenLifetimePolicies", "Access tokens: 8 hours for kiosk apps", r#"{"TokenLifetimePolicy":{"Version":1,"AccessTokenLifetime":"08:00:00"}}"#.to_string(), false),
            ("activityBasedTimeoutPolicies", "Idle session timeout", r#"{"ActivityBasedTimeoutPolicy":{"Version":1,"ApplicationPolicies":[{"ApplicationId":"default","WebSessionIdleTimeout":"08:00:00"}]}}"#.to_string(), true),
            (
                "claimsMappingPolicies",
                "Employee id claim",
                r#"{"ClaimsMappingPolicy":{"Version":1,"IncludeBasicClaimSet":"true","ClaimsSchema":[{"Source":"user","ID":"employeeid","SamlClaimType":"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/employeeid","JwtClaimType":"employeeid"}]}}"#.to_string(),
                false,
            ),
            ("homeRealmDiscoveryPolicies", "Accelerate to federated domain", format!(r#"{{"HomeRealmDiscoveryPolicy":{{"AccelerateToFederatedDomain":true,"PreferredDomain":"{}","AlternateIdLogin":{{"Enabled":true}}}}}}"#, self.domain), false),
            ("tokenIssuancePolicies", "SAML tokens signed with SHA-256", r#"{"TokenIssuancePolicy":{"Version":1,"SigningAlgorithm":"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256","TokenResponseSigningPolicy":"TokenOnly","SamlTokenVersion":"2.0"}}"#.to_string(), false),
            ("tokenIssuancePolicies", "SAML assertion and response signed", r#"{"TokenIssuancePolicy":{"Version":1,"SigningAlgorithm":"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256","TokenResponseSigningPolicy":"ResponseAndToken","SamlTokenVersion":"2.0"}}"#.to_string(), false),
        ];
        for (category, name, definition, org_default) in policies {
            let id = rng.guid();
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "definition": arr![&definition],
                "description": NULL,
                "displayName": name,
                "isOrganizationDefault": org_default,
            };
            let apps = if org_default { vec![] } else { Self::sample(&mut rng, &self.apps, 2) };
            let targets: Vec<Ref> =
                apps.iter().map(|a| Ref { category: "servicePrincipals", id: a.sp_id.clone() }).collect();
            if !self.put(category, json, vec![("appliesTo", Rel::Links(targets))]) {
                continue;
            }
            // Graph reads the assignment from the application's or service principal's side.
            let policy = Ref { category, id };
            for (k, a) in apps.iter().enumerate() {
                // Claims mapping and home realm discovery apply to service principals only; the
                // others to an application (the first app) or its service principal (the second).
                let on_sp = matches!(category, "claimsMappingPolicies" | "homeRealmDiscoveryPolicies") || k == 1;
                if on_sp {
                    self.add_link("servicePrincipals", &a.sp_id, category, policy.clone());
                } else {
                    self.add_link("applications", &a.object_id, category, policy.clone());
                }
            }
        }
    }
}
