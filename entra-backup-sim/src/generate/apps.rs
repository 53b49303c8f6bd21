//! Applications and service principals (what they are granted is in `grants`).

use serde_json::Value;

use super::data::{FIRST_PARTY, GRAPH_APP_ID, GRAPH_APP_ROLES, GRAPH_SCOPES, MICROSOFT_TENANT};
use super::{AppInfo, Gen, Rel, b64, hex_upper, random_bytes, ts};
use super::{J, NULL};
use crate::{Ref, Rng};

/// What an application registration is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AppKind {
    /// A web app signing users in.
    Web,
    /// A background service calling Graph with application permissions.
    Daemon,
    /// A single-page app.
    Spa,
    /// An API other apps call.
    Api,
    /// A CI/CD pipeline with a federated credential.
    Pipeline,
}

/// The Azure CLI: the app that created registrations made from pipelines.
const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

const APP_NAMES: &[&str] = &[
    "HR Portal",
    "Expense Tracker",
    "Backup Service",
    "Deployment Pipeline",
    "Customer Portal",
    "Inventory API",
    "Reporting Service",
    "Intranet",
    "Travel Booking",
    "Helpdesk Bot",
    "Payroll Connector",
    "Data Sync",
    "Partner Portal",
    "Mobile Companion",
    "Analytics Dashboard",
    "Identity Governance Scripts",
    "Sales Insights",
    "Document Workflow",
    "Onboarding Automation",
    "Security Scanner",
];

/// Gallery and multi-tenant apps: app id owner's tenant comes from the rng, name, SSO mode.
const GALLERY: &[(&str, &str)] = &[
    ("Salesforce", "saml"),
    ("ServiceNow", "saml"),
    ("Zoom", "saml"),
    ("Slack", "oidc"),
    ("Workday", "saml"),
    ("DocuSign", "saml"),
];

impl Gen<'_> {
    pub(super) fn applications(&mut self) {
        let mut rng = self.rng("applications");
        let mut sp_rng = self.rng("servicePrincipals");
        let owners_pool = self.admins_or_members();

        // First-party service principals (no application object in the tenant).
        let graph_roles: Vec<Value> = GRAPH_APP_ROLES
            .iter()
            .map(|(id, value, name)| {
                obj! {
                    "allowedMemberTypes": arr!["Application"],
                    "description": format!("Allows the app to {} without a signed-in user.", name.to_lowercase()),
                    "displayName": name,
                    "id": id,
                    "isEnabled": true,
                    "origin": "Application",
                    "value": value,
                }
            })
            .collect();
        let graph_scopes: Vec<Value> = GRAPH_SCOPES
            .iter()
            .map(|(id, value, name)| {
                obj!{
                    "adminConsentDescription": format!("Allows the app to {} on behalf of the signed-in user.", name.to_lowercase()),
                    "adminConsentDisplayName": name,
                    "id": id,
                    "isEnabled": true,
                    "origin": "Application",
                    "type": if value.contains("All") { "Admin" } else { "User" },
                    "userConsentDescription": format!("Allows the app to {} on your behalf.", name.to_lowercase()),
                    "userConsentDisplayName": name,
                    "value": value,
                }
            })
            .collect();
        for (app_id, name, spns) in FIRST_PARTY {
            let id = sp_rng.guid();
            let is_graph = *app_id == GRAPH_APP_ID;
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "accountEnabled": true,
                "addIns": arr![],
                "alternativeNames": arr![],
                "appDescription": NULL,
                "appDisplayName": name,
                "appId": app_id,
                "applicationTemplateId": NULL,
                "appOwnerOrganizationId": MICROSOFT_TENANT,
                "appRoleAssignmentRequired": false,
                "appRoles": if is_graph { J::j(&graph_roles) } else { arr![] },
                "description": NULL,
                "disabledByMicrosoftStatus": NULL,
                "displayName": name,
                "homepage": NULL,
                "info": info(None),
                "keyCredentials": arr![],
                "loginUrl": NULL,
                "logoutUrl": NULL,
                "notes": NULL,
                "notificationEmailAddresses": arr![],
                "oauth2PermissionScopes": if is_graph { J::j(&graph_scopes) } else { arr![] },
                "passwordCredentials": arr![],
                "preferredSingleSignOnMode": NULL,
                "preferredTokenSigningKeyThumbprint": NULL,
                "replyUrls": arr![],
                "resourceSpecificApplicationPermissions": arr![],
                "samlSingleSignOnSettings": NULL,
                "servicePrincipalNames": spns,
                "servicePrincipalType": "Application",
                "signInAudience": "AzureADMultipleOrgs",
                "tags": arr![],
                "tokenEncryptionKeyId": NULL,
                "verifiedPublisher": obj!{ "displayName": NULL, "verifiedPublisherId": NULL, "addedDateTime": NULL },
            };
            // Microsoft Graph's low-risk delegated permissions, as an admin classified them.
            let classifications: Vec<Value> = if is_graph {
                GRAPH_SCOPES
                    .iter()
                    .filter(|(_, v, _)| matches!(*v, "User.Read" | "openid" | "profile" | "email" | "offline_access"))
                    .map(|(pid, v, _)| obj!{ "id": sp_rng.guid(), "classification": "low", "permissionId": pid, "permissionName": v })
                    .collect()
            } else {
                vec![]
            };
            self.put(
                "servicePrincipals",
                json,
                vec![("delegatedPermissionClassifications", Rel::Children(classifications))],
            );
            if is_graph {
                self.graph_sp = id.clone();
            }
            self.foreign_sps.push((id, app_id.to_string(), name.to_string()));
        }

        // Gallery apps (multi-tenant, published by other organizations).
        for (name, sso) in GALLERY.iter().take(2 + self.cfg.users / 500) {
            let id = sp_rng.guid();
            let app_id = sp_rng.guid();
            let role_id = sp_rng.guid();
            let created = self.past(&mut sp_rng, 30, 1500);
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "accountEnabled": true,
                "addIns": arr![],
                "alternativeNames": arr![],
                "appDescription": NULL,
                "appDisplayName": name,
                "appId": &app_id,
                "applicationTemplateId": sp_rng.guid(),
                "appOwnerOrganizationId": sp_rng.guid(),
                "appRoleAssignmentRequired": true,
                "appRoles": arr![
                    obj!{
                        "allowedMemberTypes": arr!["User"],
                        "description": "User",
                        "displayName": "User",
                        "id": role_id,
                        "isEnabled": true,
                        "origin": "Application",
                        "value": NULL,
                    },
                    obj!{
                        "allowedMemberTypes": arr!["User"],
                        "description": "msiam_access",
                        "displayName": "msiam_access",
                        "id": sp_rng.guid(),
                        "isEnabled": true,
                        "origin": "Application",
                        "value": NULL,
                    },
                ],
                "description": NULL,
                "disabledByMicrosoftStatus": NULL,
                "displayName": name,
                "homepage": format!("https://www.{}.com/?metadata={}|ISV9.1|primary|z", name.to_lowercase(), name.to_lowercase()),
                "info": info(Some(&format!("https://www.{}.com", name.to_lowercase()))),
                "keyCredentials": if *sso == "saml" { key_credentials(self, &mut sp_rng, created, name, "Verify") } else { arr![] },
                "loginUrl": format!("https://login.{}.com", name.to_lowercase()),
                "logoutUrl": NULL,
                "notes": NULL,
                "notificationEmailAddresses": arr![format!("it@{}", self.domain)],
                "oauth2PermissionScopes": arr![],
                "passwordCredentials": arr![],
                "preferredSingleSignOnMode": sso,
                "preferredTokenSigningKeyThumbprint": if *sso == "saml" { J::j(hex_upper(&mut sp_rng, 40)) } else { Value::Null },
                "replyUrls": arr![format!("https://login.{}.com/saml/acs", name.to_lowercase())],
                "resourceSpecificApplicationPermissions": arr![],
                "samlSingleSignOnSettings": if *sso == "saml" { obj!{ "relayState": NULL } } else { Value::Null },
                "servicePrincipalNames": arr![&app_id, format!("https://{}.com", name.to_lowercase())],
                "servicePrincipalType": "Application",
                "signInAudience": "AzureADMultipleOrgs",
                "tags": arr!["WindowsAzureActiveDirectoryIntegratedApp", "WindowsAzureActiveDirectoryGalleryApplicationPrimaryV1"],
                "tokenEncryptionKeyId": NULL,
                "verifiedPublisher": obj!{ "displayName": NULL, "verifiedPublisherId": NULL, "addedDateTime": NULL },
            };
            self.put("servicePrincipals", json, vec![]);
            self.foreign_sps.push((id, app_id, name.to_string()));
        }

        // A managed identity.
        {
            let id = sp_rng.guid();
            let app_id = sp_rng.guid();
            let sub = sp_rng.guid();
            let name = "func-contoso-sync";
            let resource =
                format!("/subscriptions/{sub}/resourcegroups/rg-identity/providers/Microsoft.Web/sites/{name}");
            let json = obj! {
                "id": &id,
                "deletedDateTime": NULL,
                "accountEnabled": true,
                "addIns": arr![],
                "alternativeNames": arr!["isExplicit=False", resource],
                "appDescription": NULL,
                "appDisplayName": NULL,
                "appId": &app_id,
                "applicationTemplateId": NULL,
                "appOwnerOrganizationId": NULL,
                "appRoleAssignmentRequired": false,
                "appRoles": arr![],
                "description": NULL,
                "disabledByMicrosoftStatus": NULL,
                "displayName": name,
                "homepage": NULL,
                "info": info(None),
                "keyCredentials": arr![obj!{
                    "customKeyIdentifier": hex_upper(&mut sp_rng, 40),
                    "displayName": format!("CN={app_id}, DC={}", self.tenant_id),
                    "endDateTime": ts(self.anchor + jiff::SignedDuration::from_hours(24 * 90)),
                    "key": NULL,
                    "keyId": sp_rng.guid(),
                    "startDateTime": ts(self.past(&mut sp_rng, 0, 90)),
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
                }],
                "loginUrl": NULL,
                "logoutUrl": NULL,
                "notes": NULL,
                "notificationEmailAddresses": arr![],
                "oauth2PermissionScopes": arr![],
                "passwordCredentials": arr![],
                "preferredSingleSignOnMode": NULL,
                "preferredTokenSigningKeyThumbprint": NULL,
                "replyUrls": arr![],
                "resourceSpecificApplicationPermissions": arr![],
                "samlSingleSignOnSettings": NULL,
                "servicePrincipalNames": arr![&app_id, format!("https://identity.azure.net/{}", b64(&random_bytes::<24>(&mut sp_rng)))],
                "servicePrincipalType": "ManagedIdentity",
                "signInAudience": NULL,
                "tags": arr![],
                "tokenEncryptionKeyId": NULL,
                "verifiedPublisher": obj!{ "displayName": NULL, "verifiedPublisherId": NULL, "addedDateTime": NULL },
            };
            self.put("servicePrincipals", json, vec![]);
            self.foreign_sps.push((id, app_id, name.to_string()));
        }

        // The tenant's own app registrations, each with its service principal.
        let n = (self.cfg.users / 50).max(5);
        for i in 0..n {
            let object_id = rng.guid();
            let app_id = rng.guid();
            let sp_id = rng.guid();
            let base = APP_NAMES[i % APP_NAMES.len()];
            let name =
                if i < APP_NAMES.len() { base.to_string() } else { format!("{base} {}", i / APP_NAMES.len() + 1) };
            let kind = match i % 6 {
                0 | 3 => AppKind::Web,
                1 => AppKind::Daemon,
                2 => AppKind::Spa,
                4 => AppKind::Api,
                _ => AppKind::Pipeline,
            };
            let created = self.past(&mut rng, 20, 1500);
            let slug: String =
                name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
            let host = format!("https://{slug}.{}", self.domain);

            // Graph permissions it asks for.
            let mut scopes: Vec<&'static str> = vec!["User.Read"];
            let mut app_roles: Vec<&'static str> = Vec::new();
            match kind {
                AppKind::Web | AppKind::Spa => {
                    scopes.extend(["openid", "profile", "email", "offline_access"]);
                    if rng.chance(0.4) {
                        scopes.push(*rng.pick(&["Mail.Read", "Calendars.Read", "Files.Read.All"]));
                    }
                }
                AppKind::Daemon | AppKind::Pipeline => {
                    let k = 1 + rng.below(3);
                    for (id, _, _) in Self::sample(&mut rng, GRAPH_APP_ROLES, k) {
                        app_roles.push(id);
                    }
                }
                AppKind::Api => scopes.push("Directory.Read.All"),
            }
            let resource_access: Vec<Value> = scopes
                .iter()
                .filter_map(|s| GRAPH_SCOPES.iter().find(|(_, v, _)| v == s))
                .map(|(id, _, _)| obj! { "id": id, "type": "Scope" })
                .chain(app_roles.iter().map(|id| obj! { "id": id, "type": "Role" }))
                .collect();

            // Its own API and roles.
            let own_scope = obj! {
                "adminConsentDescription": format!("Allow the application to access {name} on behalf of the signed-in user."),
                "adminConsentDisplayName": format!("Access {name}"),
                "id": rng.guid(),
                "isEnabled": true,
                "type": "User",
                "userConsentDescription": format!("Allow the application to access {name} on your behalf."),
                "userConsentDisplayName": format!("Access {name}"),
                "value": "user_impersonation",
            };
            let exposes_api = matches!(kind, AppKind::Api | AppKind::Web);
            let own_roles: Vec<Value> = if matches!(kind, AppKind::Api | AppKind::Web) {
                vec![
                    obj! {
                        "allowedMemberTypes": arr!["User"],
                        "description": format!("Readers of {name}"),
                        "displayName": "Reader",
                        "id": rng.guid(),
                        "isEnabled": true,
                        "origin": "Application",
                        "value": "Reader",
                    },
                    obj! {
                        "allowedMemberTypes": arr!["User", "Application"],
                        "description": format!("Administrators of {name}"),
                        "displayName": "Administrator",
                        "id": rng.guid(),
                        "isEnabled": true,
                        "origin": "Application",
                        "value": "Admin",
                    },
                ]
            } else {
                vec![]
            };
            let redirects: Vec<String> = match kind {
                AppKind::Web => vec![format!("{host}/signin-oidc"), "https://localhost:5001/signin-oidc".to_string()],
                _ => vec![],
            };
            let spa_redirects: Vec<String> = if kind == AppKind::Spa {
                vec![format!("{host}/"), "http://localhost:3000/".to_string()]
            } else {
                vec![]
            };
            let password_credentials = if matches!(kind, AppKind::Daemon | AppKind::Web) || rng.chance(0.2) {
                let k = 1 + rng.below(2);
                (0..k)
                    .map(|j| {
                        let start = self.past(&mut rng, 0, 700);
                        let end = start + jiff::SignedDuration::from_hours(24 * if j == 0 { 730 } else { 180 });
                        obj!{
                            "customKeyIdentifier": NULL,
                            "displayName": if j == 0 { "Production secret" } else { "Rotation" },
                            "endDateTime": ts(end),
                            "hint": format!("{}{}", (b'a' + rng.below(26) as u8) as char, hex_upper(&mut rng, 2).to_lowercase()),
                            "keyId": rng.guid(),
                            "secretText": NULL,
                            "startDateTime": ts(start),
                        }
                    })
                    .collect::<Vec<_>>()
            } else {
                vec![]
            };
            let key_creds = if matches!(kind, AppKind::Daemon | AppKind::Api) && rng.chance(0.6) {
                key_credentials(self, &mut rng, created, &name, "Verify")
            } else {
                arr![]
            };
            let multi = kind == AppKind::Api && rng.chance(0.5);
            let audience = if multi { "AzureADMultipleOrgs" } else { "AzureADMyOrg" };
            let identifier_uris = if exposes_api { arr![format!("api://{app_id}")] } else { arr![] };
            let app_json = obj! {
                "id": &object_id,
                "deletedDateTime": NULL,
                "appId": &app_id,
                "applicationTemplateId": NULL,
                "disabledByMicrosoftStatus": NULL,
                "createdDateTime": ts(created),
                "displayName": &name,
                "description": if rng.chance(0.5) { J::j(format!("{name} ({})", self.company)) } else { Value::Null },
                "groupMembershipClaims": if kind == AppKind::Web && rng.chance(0.5) { J::j("SecurityGroup") } else { Value::Null },
                "identifierUris": identifier_uris,
                "isDeviceOnlyAuthSupported": NULL,
                "isFallbackPublicClient": NULL,
                "nativeAuthenticationApisEnabled": NULL,
                "notes": NULL,
                "publisherDomain": &self.domain,
                "serviceManagementReference": NULL,
                "signInAudience": audience,
                "tags": arr![],
                "tokenEncryptionKeyId": NULL,
                "uniqueName": NULL,
                "samlMetadataUrl": NULL,
                "defaultRedirectUri": NULL,
                "certification": NULL,
                "optionalClaims": if kind == AppKind::Web && rng.chance(0.4) {
                    obj!{
                        "accessToken": arr![],
                        "idToken": arr![obj!{ "additionalProperties": arr![], "essential": false, "name": "upn", "source": NULL }],
                        "saml2Token": arr![],
                    }
                } else { Value::Null },
                "requestSignatureVerification": NULL,
                "authenticationBehaviors": NULL,
                "createdByAppId": if kind == AppKind::Pipeline { J::j(AZURE_CLI_APP_ID) } else { Value::Null },
                "isDisabled": NULL,
                "managerApplications": arr![],
                "oauth2RequirePostResponse": false,
                "servicePrincipalLockConfiguration": if created > self.anchor - jiff::SignedDuration::from_hours(24 * 500) {
                    obj!{
                        "isEnabled": true,
                        "allProperties": true,
                        "credentialsWithUsageVerify": true,
                        "credentialsWithUsageSign": true,
                        "tokenEncryptionKeyId": true,
                    }
                } else { Value::Null },

                "addIns": arr![],
                "api": obj!{
                    "acceptMappedClaims": NULL,
                    "knownClientApplications": arr![],
                    "requestedAccessTokenVersion": if exposes_api { J::j(2) } else { Value::Null },
                    "oauth2PermissionScopes": if exposes_api { arr![&own_scope] } else { arr![] },
                    "preAuthorizedApplications": arr![],
                },
                "appRoles": own_roles,
                "info": info(if kind == AppKind::Web { Some(host.as_str()) } else { None }),
                "keyCredentials": key_creds,
                "parentalControlSettings": obj!{ "countriesBlockedForMinors": arr![], "legalAgeGroupRule": "Allow" },
                "passwordCredentials": password_credentials,
                "publicClient": obj!{ "redirectUris": arr![] },
                "requiredResourceAccess": arr![obj!{ "resourceAppId": GRAPH_APP_ID, "resourceAccess": resource_access }],
                "verifiedPublisher": obj!{ "displayName": NULL, "verifiedPublisherId": NULL, "addedDateTime": NULL },
                "web": obj!{
                    "homePageUrl": if kind == AppKind::Web { J::j(&host) } else { Value::Null },
                    "logoutUrl": NULL,
                    "redirectUris": &redirects,
                    "implicitGrantSettings": obj!{ "enableAccessTokenIssuance": false, "enableIdTokenIssuance": kind == AppKind::Web && rng.chance(0.3) },
                    "redirectUriSettings": redirects.iter().map(|u| obj!{ "uri": u, "index": NULL }).collect::<Vec<_>>(),
                },
                "spa": obj!{ "redirectUris": spa_redirects },
            };

            let owners: Vec<Ref> = if owners_pool.is_empty() {
                vec![]
            } else {
                let k = 1 + rng.below(2);
                Self::sample(&mut rng, &owners_pool, k).into_iter().map(|u| self.user_ref(u)).collect()
            };
            let mut extension_properties = Vec::new();
            if i % 4 == 0 {
                let compact = app_id.replace('-', "");
                for (prop, ty, targets) in [
                    ("costCenter", "String", vec!["User"]),
                    ("projectCode", "String", vec!["User", "Group"]),
                    ("badgeNumber", "Integer", vec!["User"]),
                ]
                .into_iter()
                .take(1 + rng.below(3))
                {
                    extension_properties.push(obj! {
                        "id": rng.guid(),
                        "deletedDateTime": NULL,
                        "appDisplayName": &name,
                        "dataType": ty,
                        "isMultiValued": false,
                        "isSyncedFromOnPremises": false,
                        "name": format!("extension_{compact}_{prop}"),
                        "targetObjects": targets,
                    });
                }
            }
            let mut federated = Vec::new();
            if kind == AppKind::Pipeline || (kind == AppKind::Daemon && (i == 1 || rng.chance(0.3))) {
                federated.push(obj! {
                    "id": rng.guid(),
                    "audiences": arr!["api://AzureADTokenExchange"],
                    "description": "GitHub Actions deployments from main",
                    "issuer": "https://token.actions.githubusercontent.com",
                    "name": "github-main",
                    "subject": format!("repo:contoso/{slug}:ref:refs/heads/main"),
                });
                if rng.chance(0.5) {
                    federated.push(obj! {
                        "id": rng.guid(),
                        "audiences": arr!["api://AzureADTokenExchange"],
                        "description": "Pull request validation",
                        "issuer": "https://token.actions.githubusercontent.com",
                        "name": "github-pr",
                        "subject": format!("repo:contoso/{slug}:pull_request"),
                    });
                }
            }
            self.put(
                "applications",
                app_json.clone(),
                vec![
                    ("owners", Rel::Links(owners.clone())),
                    ("extensionProperties", Rel::Children(extension_properties)),
                    ("federatedIdentityCredentials", Rel::Children(federated)),
                ],
            );

            let sp_json = obj! {
                "id": &sp_id,
                "deletedDateTime": NULL,
                "accountEnabled": true,
                "addIns": arr![],
                "alternativeNames": arr![],
                "appDescription": NULL,
                "appDisplayName": &name,
                "appId": &app_id,
                "applicationTemplateId": NULL,
                "appOwnerOrganizationId": &self.tenant_id,
                "appRoleAssignmentRequired": kind == AppKind::Web && rng.chance(0.5),
                "appRoles": &app_json["appRoles"],
                "description": NULL,
                "disabledByMicrosoftStatus": NULL,
                "displayName": &name,
                "homepage": &app_json["web"]["homePageUrl"],
                "info": &app_json["info"],
                "keyCredentials": arr![],
                "loginUrl": NULL,
                "logoutUrl": NULL,
                "notes": NULL,
                "notificationEmailAddresses": arr![],
                "oauth2PermissionScopes": &app_json["api"]["oauth2PermissionScopes"],
                "passwordCredentials": arr![],
                "preferredSingleSignOnMode": NULL,
                "preferredTokenSigningKeyThumbprint": NULL,
                "replyUrls": &app_json["web"]["redirectUris"],
                "resourceSpecificApplicationPermissions": arr![],
                "samlSingleSignOnSettings": NULL,
                "servicePrincipalNames": if exposes_api { arr![format!("api://{app_id}"), &app_id] } else { arr![&app_id] },
                "servicePrincipalType": "Application",
                "signInAudience": audience,
                "tags": arr!["HideApp", "WindowsAzureActiveDirectoryIntegratedApp"],
                "tokenEncryptionKeyId": NULL,
                "verifiedPublisher": obj!{ "displayName": NULL, "verifiedPublisherId": NULL, "addedDateTime": NULL },
            };
            self.put("servicePrincipals", sp_json, vec![("owners", Rel::Links(owners))]);
            self.apps.push(AppInfo { object_id, app_id, display_name: name, sp_id, app_roles, scopes });
        }
    }

    /// Users who own applications: admins when there are some, else members.
    fn admins_or_members(&self) -> Vec<usize> {
        let m = self.member_users();
        m.into_iter().filter(|&u| u != self.break_glass).take(200).collect()
    }
}

/// `info` of an application or service principal.
fn info(home: Option<&str>) -> Value {
    obj! {
        "logoUrl": NULL,
        "marketingUrl": NULL,
        "privacyStatementUrl": home.map(|h| format!("{h}/privacy")),
        "supportUrl": NULL,
        "termsOfServiceUrl": home.map(|h| format!("{h}/terms")),
    }
}

/// A certificate credential (Graph returns `key` as null in lists).
fn key_credentials(g: &Gen<'_>, rng: &mut Rng, created: jiff::Timestamp, name: &str, usage: &str) -> Value {
    let start = g.after(rng, created, 200);
    let end = start + jiff::SignedDuration::from_hours(24 * 365 * 2);
    arr![obj! {
        "customKeyIdentifier": b64(&random_bytes::<20>(rng)),
        "displayName": format!("CN={name}"),
        "endDateTime": ts(end),
        "key": NULL,
        "keyId": rng.guid(),
        "startDateTime": ts(start),
        "type": "AsymmetricX509Cert",
        "usage": usage,
    }]
}
