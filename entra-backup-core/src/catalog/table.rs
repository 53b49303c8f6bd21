//! The catalog table: every category, in restore order.
//!
//! Sources: the Microsoft Graph v1.0 API reference (each resource's list, delta and create pages, for
//! paths, page sizes, permissions and create rules) and "Microsoft Graph service-specific throttling
//! limits" (families and costs). Keep entries in restore order: `order` must not decrease.
//! Facts the reference did not settle are marked `guess` here and listed in docs/catalog.md.

use super::*;

const DIRECTORY_OBJECT: &str = "microsoft.graph.directoryObject";

/// `$top` from 1 to 999, 100 by default: users, groups and most directory collections.
const DIRECTORY_PAGE: PageSize = PageSize { default: 100, max: 999, top_supported: true };

/// One object at a fixed path (a singleton, or a single link).
const SINGLE: PageSize = PageSize { default: 1, max: 1, top_supported: false };

/// A list whose page documents no `$top` (or no page size): read by following nextLink. The page
/// size of 100 is a guess.
const NO_TOP: PageSize = PageSize { default: 100, max: 100, top_supported: false };

/// Intune lists accept `$top` but document no default or maximum: the directory sizes are a guess.
const INTUNE_PAGE: PageSize = DIRECTORY_PAGE;

/// Settings-catalog `settings`: 25 per page by default (IntuneCD #125, IBR #88); the maximum is
/// not documented, 100 is a guess.
const SETTINGS_PAGE: PageSize = PageSize { default: 25, max: 100, top_supported: true };

/// This tenant's own objects in cross-tenant access settings (default and partners): outbound users
/// and groups, inbound applications (appIds). Inbound users and outbound applications belong to the
/// other tenant and are left alone.
const CROSS_TENANT_TARGETS: &[ReferenceField] = &[
    ReferenceField {
        path: "b2bCollaborationOutbound.usersAndGroups.targets[].target",
        targets: &["users", "groups"],
        keywords: &["AllUsers"],
    },
    ReferenceField {
        path: "b2bDirectConnectOutbound.usersAndGroups.targets[].target",
        targets: &["users", "groups"],
        keywords: &["AllUsers"],
    },
    ReferenceField {
        path: "b2bCollaborationInbound.applications.targets[].target",
        targets: &["applications", "servicePrincipals"],
        keywords: &["AllApplications", "Office365"],
    },
    ReferenceField {
        path: "b2bDirectConnectInbound.applications.targets[].target",
        targets: &["applications", "servicePrincipals"],
        keywords: &["AllApplications", "Office365"],
    },
];

/// Intune policy assignments: the target group of each (include and exclude targets alike).
const INTUNE_ASSIGNMENT_TARGETS: &[ReferenceField] =
    &[ReferenceField { path: "assignments[].target.groupId", targets: &["groups"], keywords: &[] }];

/// Intune secrets that Graph does not return in clear.
const INTUNE_SECRET_LIMIT: Limit = Limit {
    when: Condition::SecretProperties,
    reason: "secrets in profiles (encrypted OMA-URI values, Wi-Fi and VPN pre-shared keys, certificates) come \
             back empty or as secret references: re-enter them after a restore",
};

/// Every category, in restore order (dependencies first).
pub static CATEGORIES: &[Category] = &[
    Category {
        name: "attributeSets",
        area: Area::Policies,
        description: "Custom security attribute sets (containers of attribute definitions)",
        path: "/directory/attributeSets",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.attributeSet",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::CallerKeyed,
        delta: None,
        // `$top` is supported; no default or maximum is documented (guess).
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["CustomSecAttributeDefinition.Read.All"],
            write: &["CustomSecAttributeDefinition.ReadWrite.All"],
            notes: Some(
                "Delegated callers also need Attribute Definition Reader (read) or Attribute Definition \
                 Administrator (write); Global Administrator has neither by default.",
            ),
        },
        restore: Restore {
            // The id is the set's name, chosen by the caller: a recreated set keeps its id.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 5,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: Some("Microsoft Entra ID P1"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "customSecurityAttributeDefinitions",
        area: Area::Policies,
        description: "Custom security attribute definitions, with their predefined values",
        path: "/directory/customSecurityAttributeDefinitions",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.customSecurityAttributeDefinition",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::NaturalKey(&["attributeSet", "name"]),
        delta: None,
        // `$top` is supported; no default or maximum is documented (guess).
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            // Not returned by default: needs $expand=allowedValues or its own list.
            name: "allowedValues",
            path: "/directory/customSecurityAttributeDefinitions/{id}/allowedValues",
            target_type: "microsoft.graph.allowedValue",
            target_categories: &[],
            kind: RelationshipKind::Contained,
            page: NO_TOP,
            cost: 1,
            write: RelationshipWrite::Children,
            read_permissions: &[],
        }],
        references: &[ReferenceField { path: "attributeSet", targets: &["attributeSets"], keywords: &[] }],
        permissions: Permissions {
            read: &["CustomSecAttributeDefinition.Read.All"],
            write: &["CustomSecAttributeDefinition.ReadWrite.All"],
            notes: Some(
                "Delegated callers also need Attribute Definition Reader or Administrator. Reading the \
                 attribute values on users and service principals needs CustomSecAttributeAssignment.Read.All \
                 and $select=customSecurityAttributes.",
            ),
        },
        restore: Restore {
            // Definitions cannot be deleted, only deprecated (status), so a missing one is recreated
            // only in another tenant. The id is attributeSet_name, so it is stable.
            // NOTE: attributeSet, name, type, isCollection and isSearchable are accepted on create but
            // refused on update; `read_only` cannot say "create only", so they are not listed.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 8,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: Some("Microsoft Entra ID P1"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "namedLocations",
        area: Area::Policies,
        description: "Conditional Access named locations (IP ranges and countries)",
        path: "/identity/conditionalAccess/namedLocations",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.namedLocation",
        derived_types: &["microsoft.graph.ipNamedLocation", "microsoft.graph.countryNamedLocation"],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // `$top` and `$skip` are supported; no default or maximum is documented (guess).
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            // The create page lists "Policy.Read.All and Policy.ReadWrite.ConditionalAccess".
            write: &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"],
            notes: None,
        },
        restore: Restore {
            // Beta only: deleted named locations sit 30 days in /identity/conditionalAccess/deletedItems;
            // the v1.0 directory recycle bin does not hold them, so RecycleBin is not offered.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "modifiedDateTime"],
        },
        order: 10,
        throttle: ThrottleFamily::ConditionalAccess,
        cost: 1,
        requires: Some("Microsoft Entra ID P1"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "authenticationContextClassReferences",
        area: Area::Policies,
        description: "Conditional Access authentication contexts (c1 to c99)",
        path: "/identity/conditionalAccess/authenticationContextClassReferences",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.authenticationContextClassReference",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::CallerKeyed,
        delta: None,
        // Only $filter is documented: no $top (guess: one page holds all 99).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.ConditionalAccess"],
            write: &["Policy.ReadWrite.ConditionalAccess"],
            notes: None,
        },
        restore: Restore {
            // The id (c1..c99) is chosen by the caller, so a recreated context keeps its id and
            // Conditional Access references need no remapping.
            strategies: &[Strategy::Patch, Strategy::Recreate],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 12,
        // Not among the resources of the Conditional Access throttling family.
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: Some("Microsoft Entra ID P1"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "authenticationStrengthPolicies",
        area: Area::Policies,
        description: "Authentication strengths used by Conditional Access (built-in and custom)",
        path: "/policies/authenticationStrengthPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.authenticationStrengthPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // Only $filter is documented (guess: a tenant holds few).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            // guess: the list permission table was not readable; Policy.Read.All reads /policies.
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ConditionalAccess"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            // NOTE: built-in strengths carry policyType "builtIn", not isBuiltIn, so
            // Condition::BuiltIn never matches them; their ids (00000000-...-0002/3/4) never change.
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "modifiedDateTime", "policyType", "requirementsSatisfied"],
        },
        order: 14,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: Some("Microsoft Entra ID P1"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "orgContacts",
        area: Area::Identities,
        description: "Organizational (mail) contacts",
        path: "/contacts",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.orgContact",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/contacts/delta", tracked_relationships: &[] }),
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions { read: &["OrgContact.Read.All"], write: &[], notes: None },
        restore: Restore {
            strategies: &[],
            limits: &[Limit {
                when: Condition::Always,
                reason: "organizational contacts are read-only in Graph: they come from Exchange Online or \
                         on-premises Active Directory; restore them there",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 15,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "domains",
        area: Area::Organization,
        description: "Domains added to the tenant",
        path: "/domains",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.domain",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::CallerKeyed,
        delta: None,
        // The list documents no $top or page size (guess: one page).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions { read: &["Domain.Read.All"], write: &["Domain.ReadWrite.All"], notes: None },
        restore: Restore {
            // POST /domains takes only the id (the domain name); the rest is patched afterwards.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[Limit {
                when: Condition::HardDeleted,
                reason: "a re-added domain is unverified: publish its DNS verification record and verify it \
                         (POST /domains/{id}/verify) before users can use it; federation settings must be \
                         set up again",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[
                "availabilityStatus",
                "isAdminManaged",
                "isInitial",
                "isRoot",
                "isVerified",
                "manufacturer",
                "model",
                "state",
            ],
        },
        order: 16,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "groupSettings",
        area: Area::Organization,
        description: "Tenant-wide Microsoft 365 group settings (naming policy, guest access, who may create groups)",
        path: "/groupSettings",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.groupSetting",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // The list documents no $top or page size (guess: one page; a tenant has a handful).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions { read: &["Directory.Read.All"], write: &["Directory.ReadWrite.All"], notes: None },
        restore: Restore {
            // POST /groupSettings takes the templateId and the values; a live setting is patched.
            // A deleted setting is gone for good (no recycle bin): it comes back under a new id,
            // which nothing references.
            strategies: &[Strategy::Patch, Strategy::Recreate],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            // The display name comes from the template.
            read_only: &["displayName"],
        },
        order: 16,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "organization",
        area: Area::Organization,
        description: "The tenant's organization object (a collection of exactly one)",
        path: "/organization",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.organization",
        derived_types: &[],
        // GET /organization returns a collection holding one object; PATCH needs its id.
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            // The get page lists Organization.Read.All; the stored list page still says Directory.Read.All.
            read: &["Organization.Read.All"],
            write: &["Organization.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            // Only the notification mails and phones and privacyProfile can be updated.
            read_only: &[
                "assignedPlans",
                "businessPhones",
                "city",
                "country",
                "countryLetterCode",
                "createdDateTime",
                "defaultUsageLocation",
                "deletedDateTime",
                "displayName",
                "mobileDeviceManagementAuthority",
                "onPremisesLastSyncDateTime",
                "onPremisesSyncEnabled",
                "partnerTenantType",
                "postalCode",
                "preferredLanguage",
                "provisionedPlans",
                "state",
                "street",
                "tenantType",
                "verifiedDomains",
            ],
        },
        order: 17,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: Some(TenantFact::Identity),
    },
    Category {
        name: "subscribedSkus",
        area: Area::Organization,
        description: "Licences (SKUs) the tenant has bought, with consumed and prepaid units",
        path: "/subscribedSkus",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.subscribedSku",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // Only $select is supported (guess: one page).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions { read: &["Organization.Read.All"], write: &[], notes: None },
        restore: Restore {
            strategies: &[],
            limits: &[Limit {
                when: Condition::Always,
                reason: "licences are bought from Microsoft, not written through Graph; the snapshot records \
                         which SKUs users' assignedLicenses refer to",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 18,
        throttle: ThrottleFamily::Identity,
        // GET subscribedSkus costs 3 RU (throttling limits page).
        cost: 3,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "users",
        area: Area::Identities,
        description: "User accounts, with their manager",
        path: "/users",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.user",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/users/delta", tracked_relationships: &["manager"] }),
        page: DIRECTORY_PAGE,
        // GET /users returns only businessPhones, displayName, givenName, id, jobTitle, mail,
        // mobilePhone, officeLocation, preferredLanguage, surname and userPrincipalName by default.
        // Every property of the model but these: the profile properties Graph returns only when
        // one user is read (aboutMe, birthday, hireDate, interests, mySite, pastProjects,
        // preferredName, responsibilities, schools, skills), those needing another permission or a
        // licence (customSecurityAttributes, mailboxSettings, signInActivity), passwordProfile (never
        // returned), print (a navigation in practice), and those backups never read
        // (authorizationInfo, deviceEnrollmentLimit, identityParentId, isManagementRestricted,
        // serviceProvisioningErrors).
        select: Select::Model {
            except: &[
                "aboutMe",
                "authorizationInfo",
                "birthday",
                "customSecurityAttributes",
                "deviceEnrollmentLimit",
                "hireDate",
                "identityParentId",
                "interests",
                "isManagementRestricted",
                "mailboxSettings",
                "mySite",
                "passwordProfile",
                "pastProjects",
                "preferredName",
                "print",
                "responsibilities",
                "schools",
                "serviceProvisioningErrors",
                "signInActivity",
                "skills",
            ],
            extra: &[],
        },
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            name: "manager",
            path: "/users/{id}/manager",
            target_type: DIRECTORY_OBJECT,
            target_categories: &["users", "orgContacts"],
            kind: RelationshipKind::Link,
            page: PageSize { default: 1, max: 1, top_supported: false },
            cost: 1,
            write: RelationshipWrite::PutRef,
            read_permissions: &[],
        }],
        references: &[],
        permissions: Permissions {
            read: &["User.Read.All"],
            write: &["User.ReadWrite.All"],
            notes: Some(
                "Restoring a user who held an admin role from the recycle bin needs a higher-privileged \
                 role (Privileged Authentication Administrator) than User.ReadWrite.All alone.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::RecycleBin, Strategy::Recreate, Strategy::Patch],
            limits: &[
                Limit {
                    when: Condition::SyncedFromOnPremises,
                    reason: "synced from on-premises Active Directory: Graph refuses writes to it \
                             (AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService); \
                             restore it in the on-premises directory",
                },
                Limit {
                    when: Condition::SecretProperties,
                    reason: "Graph never returns passwords: a recreated user gets a new random password \
                             and must change it at next sign-in",
                },
            ],
            create_path: None,
            new_password: true,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[
                "assignedPlans",
                "createdDateTime",
                "creationType",
                "deletedDateTime",
                "externalUserStateChangeDateTime",
                "lastPasswordChangeDateTime",
                "licenseAssignmentStates",
                "onPremisesDistinguishedName",
                "onPremisesDomainName",
                "onPremisesLastSyncDateTime",
                "onPremisesProvisioningErrors",
                "onPremisesSamAccountName",
                "onPremisesSecurityIdentifier",
                "onPremisesSyncEnabled",
                "onPremisesUserPrincipalName",
                "provisionedPlans",
                "proxyAddresses",
                "securityIdentifier",
                "signInSessionsValidFromDateTime",
                "assignedLicenses",
                "isResourceAccount",
                "legalAgeGroupClassification",
                "externalUserState",
                "mail",
                "imAddresses",
            ],
        },
        order: 20,
        throttle: ThrottleFamily::Identity,
        cost: 2,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: Some(TenantFact::Size),
    },
    Category {
        name: "devices",
        area: Area::Identities,
        description: "Devices registered or joined to Entra ID, with their registered owners",
        path: "/devices",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.device",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/devices/delta", tracked_relationships: &[] }),
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            name: "registeredOwners",
            path: "/devices/{id}/registeredOwners",
            target_type: DIRECTORY_OBJECT,
            target_categories: &["users"],
            kind: RelationshipKind::Links,
            page: DIRECTORY_PAGE,
            cost: 1,
            write: RelationshipWrite::NotWritable {
                reason: "POST /devices/{id}/registeredOwners/$ref supports only delegated \
                         Directory.AccessAsUser.All, not application permissions; the owner is set when the \
                         device registers",
            },
            read_permissions: &[],
        }],
        references: &[],
        permissions: Permissions {
            read: &["Device.Read.All"],
            write: &["Device.ReadWrite.All"],
            notes: Some(
                "Only accountEnabled, displayName, operatingSystem(Version), extensionAttributes and (for \
                 MDM apps) isCompliant/isManaged can be patched; an app cannot patch extensionAttributes on \
                 Linux devices (known issue).",
            ),
        },
        restore: Restore {
            // POST /devices supports no application permission: devices register themselves.
            strategies: &[Strategy::Patch],
            limits: &[
                Limit {
                    when: Condition::HardDeleted,
                    reason: "a deleted device cannot be recreated through Graph: it must register or join \
                             again (Entra join, Intune or Autopilot enrolment); its BitLocker keys go with it",
                },
                Limit {
                    when: Condition::SyncedFromOnPremises,
                    reason: "hybrid-joined devices are synced from on-premises Active Directory: change them \
                             there",
                },
            ],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[
                "alternativeSecurityIds",
                "approximateLastSignInDateTime",
                "complianceExpirationDateTime",
                "deviceId",
                "deviceMetadata",
                "deviceVersion",
                "deletedDateTime",
                "manufacturer",
                "mdmAppId",
                "model",
                "onPremisesLastSyncDateTime",
                "onPremisesSecurityIdentifier",
                "onPremisesSyncEnabled",
                "physicalIds",
                "registrationDateTime",
                "trustType",
                "enrollmentType",
                "managementType",
                "isRooted",
                "deviceOwnership",
                "enrollmentProfileName",
                "isManagementRestricted",
            ],
        },
        order: 25,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "groups",
        area: Area::Identities,
        description: "Security, Microsoft 365, dynamic and mail-enabled groups, with members and owners",
        path: "/groups",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.group",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/groups/delta", tracked_relationships: &["members", "owners"] }),
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                name: "members",
                path: "/groups/{id}/members",
                target_type: DIRECTORY_OBJECT,
                target_categories: &["users", "groups", "orgContacts", "devices", "servicePrincipals"],
                kind: RelationshipKind::Links,
                page: DIRECTORY_PAGE,
                cost: 3,
                write: RelationshipWrite::Ref { bind_on_create: true },
                read_permissions: &[],
            },
            Relationship {
                name: "owners",
                path: "/groups/{id}/owners",
                target_type: DIRECTORY_OBJECT,
                target_categories: &["users", "servicePrincipals"],
                kind: RelationshipKind::Links,
                page: DIRECTORY_PAGE,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: true },
                read_permissions: &[],
            },
        ],
        references: &[],
        permissions: Permissions {
            read: &["Group.Read.All"],
            write: &["Group.ReadWrite.All"],
            notes: Some(
                "Role-assignable groups (isAssignableToRole) also need RoleManagement.ReadWrite.Directory \
                 to create.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::RecycleBin, Strategy::Recreate, Strategy::Patch, Strategy::Relink],
            limits: &[
                Limit {
                    when: Condition::MailEnabledNonUnifiedGroup,
                    reason: "mail-enabled security groups and distribution lists cannot be created or \
                             changed through Graph (Exchange Online manages them)",
                },
                Limit {
                    when: Condition::SyncedFromOnPremises,
                    reason: "synced from on-premises Active Directory: Graph refuses writes to it; restore \
                             it in the on-premises directory",
                },
                Limit {
                    when: Condition::HardDeleted,
                    reason: "a deleted security group is deleted permanently (the recycle bin keeps only \
                             Microsoft 365 groups): it is recreated with a new id",
                },
            ],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: Some("members"),
            read_only: &[
                "createdDateTime",
                "deletedDateTime",
                "expirationDateTime",
                "mail",
                "onPremisesDomainName",
                "onPremisesLastSyncDateTime",
                "onPremisesNetBiosName",
                "onPremisesProvisioningErrors",
                "onPremisesSamAccountName",
                "onPremisesSecurityIdentifier",
                "onPremisesSyncEnabled",
                "proxyAddresses",
                "renewedDateTime",
                "securityIdentifier",
                "assignedLicenses",
                "hasMembersWithLicenseErrors",
                "licenseProcessingState",
                "onPremisesLastSyncDateTime",
                "isArchived",
                "serviceProvisioningErrors",
            ],
        },
        order: 30,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "administrativeUnits",
        area: Area::Organization,
        description: "Administrative units, with their members and scoped role members",
        path: "/directory/administrativeUnits",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.administrativeUnit",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        // The delta page addresses /administrativeUnits/delta and returns members@delta.
        delta: Some(Delta { path: "/administrativeUnits/delta", tracked_relationships: &["members"] }),
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                // NOTE: members of an AU with membershipType "Dynamic" are computed from membershipRule
                // and cannot be relinked; no Condition expresses "dynamic", so the planner must check.
                name: "members",
                path: "/directory/administrativeUnits/{id}/members",
                target_type: DIRECTORY_OBJECT,
                target_categories: &["users", "groups", "devices"],
                kind: RelationshipKind::Links,
                page: DIRECTORY_PAGE,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &[],
            },
            Relationship {
                // Role assignments scoped to the AU: {roleId, roleMemberInfo{id}}, created with POST.
                name: "scopedRoleMembers",
                path: "/directory/administrativeUnits/{id}/scopedRoleMembers",
                target_type: "microsoft.graph.scopedRoleMembership",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: DIRECTORY_PAGE,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &["RoleManagement.Read.Directory"],
            },
        ],
        // roleId names a directoryRole; directory roles are never deleted, so their ids need no remap.
        references: &[ReferenceField {
            path: "scopedRoleMembers[].roleMemberInfo.id",
            targets: &["users", "groups"],
            keywords: &[],
        }],
        permissions: Permissions {
            read: &["AdministrativeUnit.Read.All"],
            write: &["AdministrativeUnit.ReadWrite.All", "RoleManagement.ReadWrite.Directory"],
            notes: Some(
                "Adding a role-assignable group or a restricted-management AU member may need Privileged \
                 Role Administrator.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::RecycleBin, Strategy::Recreate, Strategy::Patch, Strategy::Relink],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: Some("members"),
            read_only: &["deletedDateTime", "membershipRuleProcessingState"],
        },
        order: 40,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "claimsMappingPolicies",
        area: Area::Policies,
        description: "Claims-mapping policies (assigned to service principals)",
        path: "/policies/claimsMappingPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.claimsMappingPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            // Policies are directory objects but not of a type the v1.0 recycle bin holds.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "deletedDateTime"],
        },
        order: 42,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "tokenLifetimePolicies",
        area: Area::Policies,
        description: "Token lifetime policies (assigned to applications and service principals)",
        path: "/policies/tokenLifetimePolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.tokenLifetimePolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            // Policies are directory objects but not of a type the v1.0 recycle bin holds.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "deletedDateTime"],
        },
        order: 43,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "tokenIssuancePolicies",
        area: Area::Policies,
        description: "Token issuance policies (assigned to applications)",
        path: "/policies/tokenIssuancePolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.tokenIssuancePolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            // Policies are directory objects but not of a type the v1.0 recycle bin holds.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "deletedDateTime"],
        },
        order: 44,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "homeRealmDiscoveryPolicies",
        area: Area::Policies,
        description: "Home realm discovery policies (assigned to service principals)",
        path: "/policies/homeRealmDiscoveryPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.homeRealmDiscoveryPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            // Policies are directory objects but not of a type the v1.0 recycle bin holds.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "deletedDateTime"],
        },
        order: 45,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "appManagementPolicies",
        area: Area::Policies,
        description: "App management policies (credential restrictions) for chosen apps and service principals",
        path: "/policies/appManagementPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.appManagementPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // `$top` is supported; page size not documented.
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        // appliesTo is written from the application or service principal side
        // (POST /applications/{id}/appManagementPolicies/$ref): see those categories.
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 46,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        // guess: assigning custom policies is said to need Workload ID Premium; reading needs nothing.
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "activityBasedTimeoutPolicies",
        area: Area::Policies,
        description: "Idle session timeout policies for web apps",
        path: "/policies/activityBasedTimeoutPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.activityBasedTimeoutPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // $top is supported; page size not documented
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            // Policies are directory objects but not of a type the v1.0 recycle bin holds.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "deletedDateTime"],
        },
        order: 47,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "applications",
        area: Area::Applications,
        description: "App registrations, with owners, extension properties, federated credentials and policies",
        path: "/applications",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.application",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/applications/delta", tracked_relationships: &[] }),
        // "The default and maximum page sizes are 100 and 999 application objects respectively."
        page: DIRECTORY_PAGE,
        // The list leaves out keyCredentials[].key (the public certificate) unless keyCredentials is
        // selected, so every property is selected. $select with keyCredentials is limited to 150
        // requests per minute per tenant.
        // Every property of the model but the logo (a stream, read through its own endpoint).
        select: Select::Model { except: &["logo"], extra: &[] },
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                name: "owners",
                path: "/applications/{id}/owners",
                target_type: DIRECTORY_OBJECT,
                target_categories: &["users", "servicePrincipals"],
                kind: RelationshipKind::Links,
                page: DIRECTORY_PAGE,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &[],
            },
            Relationship {
                name: "extensionProperties",
                path: "/applications/{id}/extensionProperties",
                target_type: "microsoft.graph.extensionProperty",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
            Relationship {
                // At most 20 per application; $filter and $select only.
                name: "federatedIdentityCredentials",
                path: "/applications/{id}/federatedIdentityCredentials",
                target_type: "microsoft.graph.federatedIdentityCredential",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
            Relationship {
                // One token lifetime policy per application.
                name: "tokenLifetimePolicies",
                path: "/applications/{id}/tokenLifetimePolicies",
                target_type: "microsoft.graph.tokenLifetimePolicy",
                target_categories: &["tokenLifetimePolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                // NOTE: the docs list "Policy.Read.All and Application.ReadWrite.OwnedBy" (or .All) even
                // to read; Application.Read.All (the category's own) is assumed to do (unconfirmed).
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                name: "tokenIssuancePolicies",
                path: "/applications/{id}/tokenIssuancePolicies",
                target_type: "microsoft.graph.tokenIssuancePolicy",
                target_categories: &["tokenIssuancePolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                // One app management policy per application.
                name: "appManagementPolicies",
                path: "/applications/{id}/appManagementPolicies",
                target_type: "microsoft.graph.appManagementPolicy",
                target_categories: &["appManagementPolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &["Policy.Read.All"],
            },
        ],
        references: &[],
        permissions: Permissions {
            read: &["Application.Read.All"],
            // Creating needs only AppRegistration.Create, but restoring from the recycle bin, patching
            // and relinking owners need Application.ReadWrite.All; linking policies needs
            // Policy.ReadWrite.ApplicationConfiguration (appManagementPolicies) or Policy.Read.All.
            write: &["Application.ReadWrite.All", "Policy.ReadWrite.ApplicationConfiguration"],
            notes: Some(
                "Writes to apps whose signInAudience includes personal Microsoft accounts are limited to 60 \
                 per minute.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::RecycleBin, Strategy::Recreate, Strategy::Patch, Strategy::Relink],
            limits: &[
                Limit {
                    when: Condition::SecretProperties,
                    reason: "client secrets (passwordCredentials) cannot be read back: a restored app needs new \
                             secrets (addPassword) and its clients must be updated; certificates' public keys \
                             (keyCredentials) are restored",
                },
                Limit {
                    when: Condition::HardDeleted,
                    reason: "a hard-deleted app registration is recreated with a new id and a new appId \
                             (client id): clients, Conditional Access policies and admin consent must follow; \
                             its service principal is a separate object, and restoring an application from \
                             the recycle bin does not restore its service principal",
                },
            ],
            create_path: None,
            new_password: false,
            also_remapped: Some("appId"),
            dynamic_members: None,
            read_only: &[
                "appId",
                "applicationTemplateId",
                "certification",
                "createdByAppId",
                "createdDateTime",
                "deletedDateTime",
                "disabledByMicrosoftStatus",
                "passwordCredentials",
                "publisherDomain",
                "verifiedPublisher",
            ],
        },
        order: 50,
        throttle: ThrottleFamily::Identity,
        // GET /applications costs 2 RU (throttling limits page).
        cost: 2,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "servicePrincipals",
        area: Area::Applications,
        description: "Service principals (enterprise apps), with owners, app role assignments and policies",
        path: "/servicePrincipals",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.servicePrincipal",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/servicePrincipals/delta", tracked_relationships: &[] }),
        page: DIRECTORY_PAGE,
        // guess: the stored list page says every property is returned; customSecurityAttributes
        // would need $select and CustomSecAttributeAssignment.Read.All (not backed up here).
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                name: "owners",
                path: "/servicePrincipals/{id}/owners",
                target_type: DIRECTORY_OBJECT,
                target_categories: &["users", "servicePrincipals"],
                kind: RelationshipKind::Links,
                page: DIRECTORY_PAGE,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &[],
            },
            Relationship {
                // Assignments of this (resource) SP's app roles to users, groups and client SPs.
                name: "appRoleAssignedTo",
                path: "/servicePrincipals/{id}/appRoleAssignedTo",
                target_type: "microsoft.graph.appRoleAssignment",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: DIRECTORY_PAGE,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
            Relationship {
                // App roles (application permissions) granted to this SP. NOTE: the same assignment
                // also appears in the resource SP's appRoleAssignedTo: restore each one once.
                name: "appRoleAssignments",
                path: "/servicePrincipals/{id}/appRoleAssignments",
                target_type: "microsoft.graph.appRoleAssignment",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: DIRECTORY_PAGE,
                // GET servicePrincipals/{id}/appRoleAssignments costs 2 RU.
                cost: 2,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
            Relationship {
                name: "claimsMappingPolicies",
                path: "/servicePrincipals/{id}/claimsMappingPolicies",
                target_type: "microsoft.graph.claimsMappingPolicy",
                target_categories: &["claimsMappingPolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                // NOTE: the docs list "Policy.Read.All and Application.ReadWrite.OwnedBy" (or .All) even
                // to read; Application.Read.All (the category's own) is assumed to do (unconfirmed).
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                name: "homeRealmDiscoveryPolicies",
                path: "/servicePrincipals/{id}/homeRealmDiscoveryPolicies",
                target_type: "microsoft.graph.homeRealmDiscoveryPolicy",
                target_categories: &["homeRealmDiscoveryPolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                // One token lifetime policy per service principal.
                name: "tokenLifetimePolicies",
                path: "/servicePrincipals/{id}/tokenLifetimePolicies",
                target_type: "microsoft.graph.tokenLifetimePolicy",
                target_categories: &["tokenLifetimePolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                name: "tokenIssuancePolicies",
                path: "/servicePrincipals/{id}/tokenIssuancePolicies",
                target_type: "microsoft.graph.tokenIssuancePolicy",
                target_categories: &["tokenIssuancePolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                // guess: no "assign" page exists for service principals (only for applications).
                write: RelationshipWrite::NotWritable {
                    reason: "token issuance policies are assigned on the application \
                             (POST /applications/{id}/tokenIssuancePolicies/$ref); the service principal only \
                             lists them",
                },
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                name: "appManagementPolicies",
                path: "/servicePrincipals/{id}/appManagementPolicies",
                target_type: "microsoft.graph.appManagementPolicy",
                target_categories: &["appManagementPolicies"],
                kind: RelationshipKind::Links,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Ref { bind_on_create: false },
                read_permissions: &["Policy.Read.All"],
            },
            Relationship {
                name: "delegatedPermissionClassifications",
                path: "/servicePrincipals/{id}/delegatedPermissionClassifications",
                target_type: "microsoft.graph.delegatedPermissionClassification",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
        ],
        references: &[
            // A recreated application gets a new appId; its service principal is recreated from it.
            ReferenceField { path: "appId", targets: &["applications"], keywords: &[] },
            ReferenceField {
                path: "appRoleAssignedTo[].principalId",
                targets: &["users", "groups", "servicePrincipals"],
                keywords: &[],
            },
            ReferenceField { path: "appRoleAssignedTo[].resourceId", targets: &["servicePrincipals"], keywords: &[] },
            ReferenceField { path: "appRoleAssignments[].principalId", targets: &["servicePrincipals"], keywords: &[] },
            ReferenceField { path: "appRoleAssignments[].resourceId", targets: &["servicePrincipals"], keywords: &[] },
        ],
        permissions: Permissions {
            read: &["Application.Read.All"],
            // POST /servicePrincipals needs Application.ReadWrite.OwnedBy at least; app role assignments
            // need AppRoleAssignment.ReadWrite.All (with Application.Read.All); classifications need
            // Policy.ReadWrite.PermissionGrant; policy links Policy.ReadWrite.ApplicationConfiguration.
            write: &[
                "Application.ReadWrite.All",
                "AppRoleAssignment.ReadWrite.All",
                "Policy.ReadWrite.PermissionGrant",
                "Policy.ReadWrite.ApplicationConfiguration",
            ],
            notes: Some(
                "Granting app roles of Microsoft Graph and other privileged APIs re-grants admin consent: \
                 review before applying.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::RecycleBin, Strategy::Recreate, Strategy::Patch, Strategy::Relink],
            limits: &[
                Limit {
                    when: Condition::SecretProperties,
                    reason: "passwordCredentials and private keys (SAML signing certificates) cannot be read \
                             back: new ones must be added after a restore",
                },
                // NOTE: no Condition matches Microsoft first-party service principals
                // (appOwnerOrganizationId f8cdef31-a31e-4b4a-93e4-5f571e91255a): the reason below covers them.
                Limit {
                    when: Condition::HardDeleted,
                    reason: "a hard-deleted service principal is recreated from its appId with a new id: app role \
                             assignments, grants and Conditional Access references are remapped; for Microsoft \
                             first-party and other multi-tenant apps only the appId can be re-added, the \
                             publisher's settings come back on their own",
                },
            ],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[
                "appDisplayName",
                "appOwnerOrganizationId",
                "applicationTemplateId",
                "createdByAppId",
                "deletedDateTime",
                "disabledByMicrosoftStatus",
                "passwordCredentials",
                "servicePrincipalType",
                "signInAudience",
                "verifiedPublisher",
            ],
        },
        order: 55,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "directoryRoles",
        area: Area::Roles,
        description: "Activated built-in directory roles, with their members",
        path: "/directoryRoles",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.directoryRole",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        // The delta page shows members@delta.
        delta: Some(Delta { path: "/directoryRoles/delta", tracked_relationships: &["members"] }),
        // "This method does not support the OData query parameters": no $top (page size guess).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            name: "members",
            path: "/directoryRoles/{id}/members",
            target_type: DIRECTORY_OBJECT,
            target_categories: &["users", "groups", "servicePrincipals"],
            kind: RelationshipKind::Links,
            page: DIRECTORY_PAGE,
            cost: 1,
            write: RelationshipWrite::Ref { bind_on_create: false },
            read_permissions: &[],
        }],
        references: &[],
        permissions: Permissions {
            read: &["RoleManagement.Read.Directory"],
            write: &["RoleManagement.ReadWrite.Directory"],
            notes: Some(
                "The same memberships appear as tenant-wide roleAssignments; restore them through one of \
                 the two.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::Relink],
            limits: &[Limit {
                when: Condition::Always,
                reason: "directory roles are Microsoft's built-in roles: they are activated from a role template \
                         (POST /directoryRoles with roleTemplateId), never created or changed; only their \
                         members are restored",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["description", "displayName", "roleTemplateId", "deletedDateTime"],
        },
        order: 60,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "roleDefinitions",
        area: Area::Roles,
        description: "Entra ID role definitions, built-in and custom",
        path: "/roleManagement/directory/roleDefinitions",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.unifiedRoleDefinition",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // Only $filter and $expand are documented: no $top (page size guess).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["RoleManagement.Read.Directory"],
            write: &["RoleManagement.ReadWrite.Directory"],
            notes: Some("Creating custom roles needs a Microsoft Entra ID P1 or P2 licence."),
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[Limit {
                when: Condition::BuiltIn,
                reason: "built-in role definitions belong to Microsoft: they cannot be created, changed or \
                         deleted",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "isBuiltIn", "templateId", "version", "inheritsPermissionsFrom"],
        },
        order: 62,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "roleAssignments",
        area: Area::Roles,
        description: "Active Entra ID role assignments (tenant, administrative unit or application scope)",
        path: "/roleManagement/directory/roleAssignments",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.unifiedRoleAssignment",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // Only $filter, $expand and $select are documented: no $top (page size guess).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[
            ReferenceField { path: "principalId", targets: &["users", "groups", "servicePrincipals"], keywords: &[] },
            ReferenceField { path: "roleDefinitionId", targets: &["roleDefinitions"], keywords: &[] },
            // NOTE: not a bare id but a path: "/" (tenant), "/administrativeUnits/{id}" or "/{appObjectId}";
            // the remapper must replace the id inside it.
            ReferenceField {
                path: "directoryScopeId",
                targets: &["administrativeUnits", "applications"],
                keywords: &["/"],
            },
        ],
        permissions: Permissions {
            read: &["RoleManagement.Read.Directory"],
            write: &["RoleManagement.ReadWrite.Directory"],
            notes: Some(
                "Delegated callers need Privileged Role Administrator. Assignments made through PIM also \
                 appear in roleAssignmentSchedules; restore each once.",
            ),
        },
        restore: Restore {
            // Assignments have no update: a changed one is deleted and created again.
            strategies: &[Strategy::Recreate],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "principalOrganizationId", "resourceScope"],
        },
        order: 64,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::ScheduledBy("roleAssignmentSchedules"),
        tenant: None,
    },
    Category {
        name: "roleEligibilitySchedules",
        area: Area::Roles,
        description: "PIM eligible role assignments and their schedules",
        path: "/roleManagement/directory/roleEligibilitySchedules",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.unifiedRoleEligibilitySchedule",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // Only $select, $filter and $expand are documented: no $top (page size guess).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[
            ReferenceField { path: "principalId", targets: &["users", "groups", "servicePrincipals"], keywords: &[] },
            ReferenceField { path: "roleDefinitionId", targets: &["roleDefinitions"], keywords: &[] },
            ReferenceField {
                path: "directoryScopeId",
                targets: &["administrativeUnits", "applications"],
                keywords: &["/"],
            },
        ],
        permissions: Permissions {
            read: &["RoleEligibilitySchedule.Read.Directory"],
            write: &["RoleEligibilitySchedule.ReadWrite.Directory"],
            notes: Some("Delegated callers need Privileged Role Administrator."),
        },
        restore: Restore {
            // A schedule is written as a request {action: "adminAssign", principalId, roleDefinitionId,
            // directoryScopeId, scheduleInfo, justification}.
            // NOTE: schedules with memberType "Inherited" (through a group) and ones already expired
            // must not be re-requested; no Condition expresses either.
            strategies: &[Strategy::Request],
            limits: &[],
            create_path: Some("/roleManagement/directory/roleEligibilityScheduleRequests"),
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "createdUsing", "modifiedDateTime", "status", "memberType"],
        },
        order: 66,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: Some("Microsoft Entra ID P2"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::Schedules { activations: false },
        tenant: None,
    },
    Category {
        name: "roleAssignmentSchedules",
        area: Area::Roles,
        description: "PIM active role assignments and their schedules",
        path: "/roleManagement/directory/roleAssignmentSchedules",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.unifiedRoleAssignmentSchedule",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // Only $select, $filter and $expand are documented: no $top (page size guess).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[
            ReferenceField { path: "principalId", targets: &["users", "groups", "servicePrincipals"], keywords: &[] },
            ReferenceField { path: "roleDefinitionId", targets: &["roleDefinitions"], keywords: &[] },
            ReferenceField {
                path: "directoryScopeId",
                targets: &["administrativeUnits", "applications"],
                keywords: &["/"],
            },
        ],
        permissions: Permissions {
            // The permission table names RoleManagement.Read.All as least privileged (it covers every
            // RBAC provider); RoleManagement.Read.Directory is also accepted and already needed above.
            read: &["RoleManagement.Read.Directory"],
            write: &["RoleAssignmentSchedule.ReadWrite.Directory"],
            notes: Some("Delegated callers need Privileged Role Administrator."),
        },
        restore: Restore {
            // NOTE: schedules with assignmentType "Activated" come from activating an eligibility and
            // must not be re-requested; permanent ones duplicate roleAssignments. No Condition expresses
            // either, so the planner must check assignmentType.
            strategies: &[Strategy::Request],
            limits: &[],
            create_path: Some("/roleManagement/directory/roleAssignmentScheduleRequests"),
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[
                "id",
                "createdDateTime",
                "createdUsing",
                "modifiedDateTime",
                "status",
                "memberType",
                "assignmentType",
            ],
        },
        order: 67,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: Some("Microsoft Entra ID P2"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::Schedules { activations: true },
        tenant: None,
    },
    Category {
        name: "oauth2PermissionGrants",
        area: Area::Applications,
        description: "Delegated permission grants (admin and user consent)",
        path: "/oauth2PermissionGrants",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.oAuth2PermissionGrant",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: Some(Delta { path: "/oauth2PermissionGrants/delta", tracked_relationships: &[] }),
        // guess: the list supports the OData parameters; page sizes are not documented.
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[
            ReferenceField { path: "clientId", targets: &["servicePrincipals"], keywords: &[] },
            ReferenceField { path: "resourceId", targets: &["servicePrincipals"], keywords: &[] },
            // null when consentType is AllPrincipals.
            ReferenceField { path: "principalId", targets: &["users"], keywords: &[] },
        ],
        permissions: Permissions {
            read: &["Directory.Read.All"],
            // The stored create page lists only Directory.ReadWrite.All for applications; the list page
            // names DelegatedPermissionGrant.ReadWrite.All as an application permission (guess).
            write: &["DelegatedPermissionGrant.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 75,
        throttle: ThrottleFamily::Identity,
        // GET oauth2PermissionGrants costs 2 RU (throttling limits page).
        cost: 2,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "permissionGrantPolicies",
        area: Area::Policies,
        description: "Permission grant policies: which permissions users or admins may consent to",
        path: "/policies/permissionGrantPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.permissionGrantPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::CallerKeyed,
        delta: None,
        // guess: the list supports OData parameters; page sizes are not documented.
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        // The list returns includes and excludes inline too; they are written one condition set at a
        // time (POST .../includes, .../excludes).
        relationships: &[
            Relationship {
                name: "includes",
                path: "/policies/permissionGrantPolicies/{id}/includes",
                target_type: "microsoft.graph.permissionGrantConditionSet",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
            Relationship {
                name: "excludes",
                path: "/policies/permissionGrantPolicies/{id}/excludes",
                target_type: "microsoft.graph.permissionGrantConditionSet",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
        ],
        // clientApplicationIds hold appIds, but usually of other tenants' apps or "all": not remapped.
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.PermissionGrant"],
            write: &["Policy.ReadWrite.PermissionGrant"],
            notes: None,
        },
        restore: Restore {
            // NOTE: Microsoft's built-in policies (ids starting "microsoft-") cannot be changed, but they
            // carry no isBuiltIn flag, so Condition::BuiltIn never matches them.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["deletedDateTime"],
        },
        order: 78,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "adminConsentRequestPolicy",
        area: Area::Policies,
        description: "Admin consent workflow settings",
        path: "/policies/adminConsentRequestPolicy",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.adminConsentRequestPolicy",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        // NOTE: reviewers[].query holds a query path such as "/users/{id}" or "/groups/{id}/transitiveMembers",
        // not a bare id: the remapper must replace the id inside it.
        references: &[ReferenceField { path: "reviewers[].query", targets: &["users", "groups"], keywords: &[] }],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ConsentRequest"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["version"],
        },
        order: 79,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "authorizationPolicy",
        area: Area::Policies,
        description: "Tenant authorization settings: default user permissions, guest access, invitations",
        path: "/policies/authorizationPolicy",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.authorizationPolicy",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        // guestUserRoleId is one of three fixed role template ids; defaultUserRolePermissions
        // .permissionGrantPoliciesAssigned names policies by prefixed id: neither is remapped.
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.Authorization"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 80,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "defaultAppManagementPolicy",
        area: Area::Policies,
        description: "Tenant-wide default app management policy (credential restrictions)",
        path: "/policies/defaultAppManagementPolicy",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.tenantAppManagementPolicy",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.ApplicationConfiguration"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 81,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "identitySecurityDefaultsEnforcementPolicy",
        area: Area::Policies,
        description: "Security defaults on or off",
        path: "/policies/identitySecurityDefaultsEnforcementPolicy",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.SecurityDefaults"],
            notes: None,
        },
        restore: Restore {
            // Only isEnabled can be updated.
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "displayName", "description"],
        },
        order: 82,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "featureRolloutPolicies",
        area: Area::Policies,
        description: "Staged rollout of cloud authentication features to groups",
        path: "/policies/featureRolloutPolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.featureRolloutPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // `$top` and `$skip` are supported; page size not documented.
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            name: "appliesTo",
            path: "/policies/featureRolloutPolicies/{id}/appliesTo",
            target_type: DIRECTORY_OBJECT,
            target_categories: &["groups"],
            kind: RelationshipKind::Links,
            page: DIRECTORY_PAGE,
            cost: 1,
            write: RelationshipWrite::Ref { bind_on_create: false },
            read_permissions: &[],
        }],
        references: &[],
        // NOTE: the permission tables list application permissions as "Not supported": only a
        // delegated (signed-in admin) token can read or write these. `Permissions` holds application
        // permissions only, so the delegated ones are recorded here and the note says so.
        permissions: Permissions {
            read: &["Policy.Read.HybridAuthentication"],
            write: &["Policy.ReadWrite.HybridAuthentication"],
            notes: Some(
                "Delegated access only: Graph does not support application permissions here, so an \
                 app-only backup cannot read this category.",
            ),
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch, Strategy::Relink],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 83,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "crossTenantAccessPolicy",
        area: Area::Policies,
        description: "Cross-tenant access policy: allowed clouds (default and partner settings apart)",
        path: "/policies/crossTenantAccessPolicy",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.crossTenantAccessPolicy",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.CrossTenantAccess"],
            notes: Some("The whole policy is limited to 25 KB; a larger PATCH is refused with 400."),
        },
        restore: Restore {
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 84,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "crossTenantAccessPolicyDefault",
        area: Area::Policies,
        description: "Default cross-tenant access settings (B2B collaboration, direct connect, inbound trust)",
        path: "/policies/crossTenantAccessPolicy/default",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.crossTenantAccessPolicyConfigurationDefault",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        // Only this tenant's own objects are remapped: outbound users and groups, inbound applications.
        references: CROSS_TENANT_TARGETS,
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.CrossTenantAccess"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["isServiceDefault"],
        },
        order: 85,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "crossTenantAccessPolicyPartners",
        area: Area::Policies,
        description: "Partner-specific cross-tenant access settings, one per partner tenant",
        path: "/policies/crossTenantAccessPolicy/partners",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::NaturalKey(&["tenantId"]),
        delta: None,
        // Only $select and $expand are documented: no $top (page size guess).
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            // User synchronization settings for the partner (cross-tenant sync).
            // NOTE: Graph writes this with PUT {path} (create or replace); RelationshipWrite has no
            // PUT-with-body variant, so Children is the nearest fit.
            name: "identitySynchronization",
            path: "/policies/crossTenantAccessPolicy/partners/{id}/identitySynchronization",
            target_type: "microsoft.graph.crossTenantIdentitySyncPolicyPartner",
            target_categories: &[],
            kind: RelationshipKind::Contained,
            page: SINGLE,
            cost: 1,
            write: RelationshipWrite::Children,
            read_permissions: &[],
        }],
        references: CROSS_TENANT_TARGETS,
        permissions: Permissions {
            read: &["Policy.Read.All"],
            write: &["Policy.ReadWrite.CrossTenantAccess"],
            notes: None,
        },
        restore: Restore {
            // The key is the partner's tenantId, so a recreated partner keeps its id.
            // Beta only: deleted partners are soft-deleted in policyDeletableItem, not the v1.0 recycle bin.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["isInMultiTenantOrganization"],
        },
        order: 86,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "authenticationMethodsPolicy",
        area: Area::Policies,
        description: "Authentication methods policy: registration campaign and migration state",
        path: "/policies/authenticationMethodsPolicy",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.authenticationMethodsPolicy",
        derived_types: &[],
        shape: Shape::Singleton,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        page: SINGLE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        // Its authenticationMethodConfigurations are their own category.
        relationships: &[],
        references: &[
            ReferenceField {
                path: "registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets[].id",
                targets: &["users", "groups"],
                keywords: &["all_users"],
            },
            ReferenceField {
                path: "registrationEnforcement.authenticationMethodsRegistrationCampaign.excludeTargets[].id",
                targets: &["users", "groups"],
                keywords: &[],
            },
        ],
        permissions: Permissions {
            read: &["Policy.Read.AuthenticationMethod"],
            write: &["Policy.ReadWrite.AuthenticationMethod"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::SingletonPatch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "displayName", "description", "lastModifiedDateTime", "policyVersion"],
        },
        order: 87,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "authenticationMethodConfigurations",
        area: Area::Policies,
        description: "Per-method settings of the authentication methods policy, with their target groups",
        // No list page: the collection is the policy's navigation property (its GET also returns it
        // inline); each method has a get and update page at {path}/{id} (fido2, sms, email, ...).
        path: "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.authenticationMethodConfiguration",
        derived_types: &[
            "microsoft.graph.emailAuthenticationMethodConfiguration",
            "microsoft.graph.externalAuthenticationMethodConfiguration",
            "microsoft.graph.fido2AuthenticationMethodConfiguration",
            "microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
            "microsoft.graph.qrCodePinAuthenticationMethodConfiguration",
            "microsoft.graph.smsAuthenticationMethodConfiguration",
            "microsoft.graph.softwareOathAuthenticationMethodConfiguration",
            "microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
            "microsoft.graph.verifiableCredentialsAuthenticationMethodConfiguration",
            "microsoft.graph.voiceAuthenticationMethodConfiguration",
            "microsoft.graph.x509CertificateAuthenticationMethodConfiguration",
        ],
        shape: Shape::Collection,
        id: IdPolicy::CallerKeyed,
        delta: None,
        page: NO_TOP,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        // includeTargets is a contained navigation property returned inline and written with the parent.
        relationships: &[],
        references: &[
            ReferenceField { path: "includeTargets[].id", targets: &["groups"], keywords: &["all_users"] },
            ReferenceField { path: "excludeTargets[].id", targets: &["groups"], keywords: &[] },
        ],
        permissions: Permissions {
            read: &["Policy.Read.AuthenticationMethod"],
            write: &["Policy.ReadWrite.AuthenticationMethod"],
            notes: None,
        },
        restore: Restore {
            // The built-in methods have fixed ids and are only patched; only external (custom) methods
            // are created and deleted.
            strategies: &[Strategy::Patch, Strategy::Recreate],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id"],
        },
        order: 88,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "conditionalAccessPolicies",
        area: Area::Policies,
        description: "Conditional Access policies",
        path: "/identity/conditionalAccess/policies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.conditionalAccessPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // `$top` and `$skip` are supported; no default or maximum is documented (guess).
        page: DIRECTORY_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[
            ReferenceField {
                path: "conditions.users.includeUsers",
                targets: &["users"],
                keywords: &["All", "None", "GuestsOrExternalUsers"],
            },
            ReferenceField {
                path: "conditions.users.excludeUsers",
                targets: &["users"],
                keywords: &["All", "None", "GuestsOrExternalUsers"],
            },
            ReferenceField { path: "conditions.users.includeGroups", targets: &["groups"], keywords: &[] },
            ReferenceField { path: "conditions.users.excludeGroups", targets: &["groups"], keywords: &[] },
            // Role template ids (a custom role's id is its template id).
            ReferenceField { path: "conditions.users.includeRoles", targets: &["roleDefinitions"], keywords: &[] },
            ReferenceField { path: "conditions.users.excludeRoles", targets: &["roleDefinitions"], keywords: &[] },
            // appIds, not object ids: a recreated application's new appId replaces the old one.
            ReferenceField {
                path: "conditions.applications.includeApplications",
                targets: &["applications", "servicePrincipals"],
                keywords: &["All", "None", "Office365", "MicrosoftAdminPortals"],
            },
            ReferenceField {
                path: "conditions.applications.excludeApplications",
                targets: &["applications", "servicePrincipals"],
                keywords: &["All", "None", "Office365", "MicrosoftAdminPortals"],
            },
            ReferenceField {
                path: "conditions.applications.includeAuthenticationContextClassReferences",
                targets: &["authenticationContextClassReferences"],
                keywords: &[],
            },
            // Workload identity policies.
            ReferenceField {
                path: "conditions.clientApplications.includeServicePrincipals",
                targets: &["servicePrincipals"],
                keywords: &["ServicePrincipalsInMyTenant"],
            },
            ReferenceField {
                path: "conditions.clientApplications.excludeServicePrincipals",
                targets: &["servicePrincipals"],
                keywords: &[],
            },
            // 00000000-0000-0000-0000-000000000000 is the legacy "MFA trusted IPs" location.
            ReferenceField {
                path: "conditions.locations.includeLocations",
                targets: &["namedLocations"],
                keywords: &["All", "AllTrusted", "00000000-0000-0000-0000-000000000000"],
            },
            ReferenceField {
                path: "conditions.locations.excludeLocations",
                targets: &["namedLocations"],
                keywords: &["All", "AllTrusted", "00000000-0000-0000-0000-000000000000"],
            },
            ReferenceField {
                path: "grantControls.authenticationStrength.id",
                targets: &["authenticationStrengthPolicies"],
                keywords: &[],
            },
            // grantControls.termsOfUse names terms-of-use agreements, which the catalog does not hold.
        ],
        permissions: Permissions {
            read: &["Policy.Read.All"],
            // The create page lists "Policy.Read.All, Policy.ReadWrite.ConditionalAccess and
            // Application.Read.All" together.
            write: &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Application.Read.All"],
            notes: Some(
                "Conditional Access is paced at 1 request per second per tenant for all apps, with no \
                 Retry-After.",
            ),
        },
        restore: Restore {
            // Beta only: deleted policies sit 30 days in /identity/conditionalAccess/deletedItems/policies
            // (policyDeletableItem); the v1.0 recycle bin does not hold them. Recreated policies should be
            // written in state "disabled" or report-only first (not encoded here).
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "modifiedDateTime", "templateId"],
        },
        order: 90,
        throttle: ThrottleFamily::ConditionalAccess,
        cost: 1,
        requires: Some("Microsoft Entra ID P1"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "deviceConfigurations",
        area: Area::Intune,
        description: "Intune device configuration profiles (templates), with their assignments",
        path: "/deviceManagement/deviceConfigurations",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.deviceConfiguration",
        // The ten most common of its many derived types.
        derived_types: &[
            "microsoft.graph.windows10GeneralConfiguration",
            "microsoft.graph.windows10EndpointProtectionConfiguration",
            "microsoft.graph.windows10CustomConfiguration",
            "microsoft.graph.windowsUpdateForBusinessConfiguration",
            "microsoft.graph.iosGeneralDeviceConfiguration",
            "microsoft.graph.iosCustomConfiguration",
            "microsoft.graph.androidGeneralDeviceConfiguration",
            "microsoft.graph.androidWorkProfileGeneralDeviceConfiguration",
            "microsoft.graph.macOSGeneralDeviceConfiguration",
            "microsoft.graph.macOSCustomConfiguration",
        ],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: INTUNE_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[Relationship {
            name: "assignments",
            path: "/deviceManagement/deviceConfigurations/{id}/assignments",
            target_type: "microsoft.graph.deviceConfigurationAssignment",
            target_categories: &[],
            kind: RelationshipKind::Contained,
            // page size not documented
            page: INTUNE_PAGE,
            cost: 1,
            write: RelationshipWrite::Action {
                path: "/deviceManagement/deviceConfigurations/{id}/assign",
                body_property: "assignments",
            },
            read_permissions: &[],
        }],
        references: INTUNE_ASSIGNMENT_TARGETS,
        permissions: Permissions {
            read: &["DeviceManagementConfiguration.Read.All"],
            write: &["DeviceManagementConfiguration.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            // The create body must carry the derived @odata.type.
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[INTUNE_SECRET_LIMIT],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "lastModifiedDateTime", "version"],
        },
        order: 100,
        throttle: ThrottleFamily::Intune,
        cost: 1,
        requires: Some("Microsoft Intune licence"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "deviceCompliancePolicies",
        area: Area::Intune,
        description: "Intune device compliance policies, with their actions and assignments",
        path: "/deviceManagement/deviceCompliancePolicies",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.deviceCompliancePolicy",
        derived_types: &[
            "microsoft.graph.androidCompliancePolicy",
            "microsoft.graph.androidWorkProfileCompliancePolicy",
            "microsoft.graph.iosCompliancePolicy",
            "microsoft.graph.macOSCompliancePolicy",
            "microsoft.graph.windows10CompliancePolicy",
            "microsoft.graph.windows10MobileCompliancePolicy",
            "microsoft.graph.windows81CompliancePolicy",
            "microsoft.graph.windowsPhone81CompliancePolicy",
        ],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: INTUNE_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                name: "assignments",
                path: "/deviceManagement/deviceCompliancePolicies/{id}/assignments",
                target_type: "microsoft.graph.deviceCompliancePolicyAssignment",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                // page size not documented
                page: INTUNE_PAGE,
                cost: 1,
                write: RelationshipWrite::Action {
                    path: "/deviceManagement/deviceCompliancePolicies/{id}/assign",
                    body_property: "assignments",
                },
                read_permissions: &[],
            },
            Relationship {
                // Actions for noncompliance; a create must carry them (at least the block action).
                name: "scheduledActionsForRule",
                path: "/deviceManagement/deviceCompliancePolicies/{id}/scheduledActionsForRule",
                target_type: "microsoft.graph.deviceComplianceScheduledActionForRule",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::WithParent,
                read_permissions: &[],
            },
        ],
        references: INTUNE_ASSIGNMENT_TARGETS,
        permissions: Permissions {
            read: &["DeviceManagementConfiguration.Read.All"],
            write: &["DeviceManagementConfiguration.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[INTUNE_SECRET_LIMIT],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "lastModifiedDateTime", "version"],
        },
        order: 102,
        throttle: ThrottleFamily::Intune,
        cost: 1,
        requires: Some("Microsoft Intune licence"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    // Beta: deviceManagementConfigurationPolicy and its settings and assignments are not in the v1.0
    // schema (no v1.0 page for configurationPolicies), so these type names are beta-only.
    Category {
        name: "configurationPolicies",
        area: Area::Intune,
        description: "Intune settings catalog and endpoint security policies, with settings and assignments",
        path: "/deviceManagement/configurationPolicies",
        api_version: ApiVersion::Beta,
        entity_type: "microsoft.graph.deviceManagementConfigurationPolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: INTUNE_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                // Created inline in the policy's POST body; a changed policy is written whole with PUT.
                name: "settings",
                path: "/deviceManagement/configurationPolicies/{id}/settings",
                target_type: "microsoft.graph.deviceManagementConfigurationSetting",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: SETTINGS_PAGE,
                cost: 1,
                write: RelationshipWrite::WithParent,
                read_permissions: &[],
            },
            Relationship {
                name: "assignments",
                path: "/deviceManagement/configurationPolicies/{id}/assignments",
                target_type: "microsoft.graph.deviceManagementConfigurationPolicyAssignment",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                // Assignments above 25 need paging (IBR v5.1.0); maximum not documented.
                page: SETTINGS_PAGE,
                cost: 1,
                write: RelationshipWrite::Action {
                    path: "/deviceManagement/configurationPolicies/{id}/assign",
                    body_property: "assignments",
                },
                read_permissions: &[],
            },
        ],
        references: INTUNE_ASSIGNMENT_TARGETS,
        permissions: Permissions {
            read: &["DeviceManagementConfiguration.Read.All"],
            write: &["DeviceManagementConfiguration.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[INTUNE_SECRET_LIMIT],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[
                "id",
                "createdDateTime",
                "lastModifiedDateTime",
                "settingCount",
                "isAssigned",
                "creationSource",
            ],
        },
        order: 104,
        throttle: ThrottleFamily::Intune,
        cost: 1,
        requires: Some("Microsoft Intune licence"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    // Beta: deviceManagementCompliancePolicy (settings-catalog compliance) is not in the v1.0 schema.
    Category {
        name: "compliancePolicies",
        area: Area::Intune,
        description: "Intune settings-catalog compliance policies (Linux and newer platforms)",
        path: "/deviceManagement/compliancePolicies",
        api_version: ApiVersion::Beta,
        entity_type: "microsoft.graph.deviceManagementCompliancePolicy",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: INTUNE_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                name: "settings",
                path: "/deviceManagement/compliancePolicies/{id}/settings",
                target_type: "microsoft.graph.deviceManagementConfigurationSetting",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: SETTINGS_PAGE,
                cost: 1,
                write: RelationshipWrite::WithParent,
                read_permissions: &[],
            },
            Relationship {
                name: "scheduledActionsForRule",
                path: "/deviceManagement/compliancePolicies/{id}/scheduledActionsForRule",
                target_type: "microsoft.graph.deviceManagementComplianceScheduledActionForRule",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: NO_TOP,
                cost: 1,
                write: RelationshipWrite::WithParent,
                read_permissions: &[],
            },
            Relationship {
                name: "assignments",
                path: "/deviceManagement/compliancePolicies/{id}/assignments",
                target_type: "microsoft.graph.deviceManagementConfigurationPolicyAssignment",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: SETTINGS_PAGE,
                cost: 1,
                write: RelationshipWrite::Action {
                    path: "/deviceManagement/compliancePolicies/{id}/assign",
                    body_property: "assignments",
                },
                read_permissions: &[],
            },
        ],
        references: INTUNE_ASSIGNMENT_TARGETS,
        permissions: Permissions {
            read: &["DeviceManagementConfiguration.Read.All"],
            write: &["DeviceManagementConfiguration.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[INTUNE_SECRET_LIMIT],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "lastModifiedDateTime", "settingCount", "creationSource"],
        },
        order: 106,
        throttle: ThrottleFamily::Intune,
        cost: 1,
        requires: Some("Microsoft Intune licence"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    // Beta: groupPolicyConfiguration (administrative templates) is not in the v1.0 schema.
    Category {
        name: "groupPolicyConfigurations",
        area: Area::Intune,
        description: "Intune administrative templates (ADMX-backed), with their definition values",
        path: "/deviceManagement/groupPolicyConfigurations",
        api_version: ApiVersion::Beta,
        entity_type: "microsoft.graph.groupPolicyConfiguration",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // page size not documented
        page: INTUNE_PAGE,
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[
            Relationship {
                // Each value binds a definition (definition@odata.bind) and holds presentationValues,
                // read with $expand=presentationValues,definition.
                name: "definitionValues",
                path: "/deviceManagement/groupPolicyConfigurations/{id}/definitionValues",
                target_type: "microsoft.graph.groupPolicyDefinitionValue",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: INTUNE_PAGE,
                cost: 1,
                write: RelationshipWrite::Children,
                read_permissions: &[],
            },
            Relationship {
                name: "assignments",
                path: "/deviceManagement/groupPolicyConfigurations/{id}/assignments",
                target_type: "microsoft.graph.groupPolicyConfigurationAssignment",
                target_categories: &[],
                kind: RelationshipKind::Contained,
                page: INTUNE_PAGE,
                cost: 1,
                write: RelationshipWrite::Action {
                    path: "/deviceManagement/groupPolicyConfigurations/{id}/assign",
                    body_property: "assignments",
                },
                read_permissions: &[],
            },
        ],
        references: INTUNE_ASSIGNMENT_TARGETS,
        permissions: Permissions {
            read: &["DeviceManagementConfiguration.Read.All"],
            write: &["DeviceManagementConfiguration.ReadWrite.All"],
            notes: None,
        },
        restore: Restore {
            strategies: &[Strategy::Recreate, Strategy::Patch],
            limits: &[],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &["id", "createdDateTime", "lastModifiedDateTime"],
        },
        order: 108,
        throttle: ThrottleFamily::Intune,
        cost: 1,
        requires: Some("Microsoft Intune licence"),
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "bitlockerRecoveryKeys",
        area: Area::Devices,
        description: "BitLocker recovery keys escrowed to Entra ID (secret, read one by one)",
        path: "/informationProtection/bitlocker/recoveryKeys",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.bitlockerRecoveryKey",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // "This method does not support $top"; it pages with nextLink (page size guess).
        page: NO_TOP,
        select: Select::Default,
        // The list never returns key; GET {path}/{id}?$select=key does, one key per request.
        single_get_select: &["key"],
        secret_properties: &["key"],
        relationships: &[],
        // deviceId is the device's deviceId property, not its object id; keys are never restored.
        references: &[],
        permissions: Permissions {
            // BitlockerKey.ReadBasic.All reads the metadata only; the key needs BitlockerKey.Read.All.
            read: &["BitlockerKey.Read.All"],
            write: &[],
            notes: Some(
                "Every read of a key writes a Microsoft Entra audit event (KeyManagement). Requests need a \
                 User-Agent header. The stored v1.0 list page still says application permissions are not \
                 supported; the get page lists them.",
            ),
        },
        restore: Restore {
            strategies: &[],
            limits: &[Limit {
                when: Condition::Always,
                reason: "Graph offers no way to write BitLocker keys: a device escrows its own key; the backup \
                         keeps keys for recovery by hand",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 110,
        throttle: ThrottleFamily::Identity,
        cost: 1,
        requires: None,
        time_property: None,
        log_latency_minutes: None,
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "directoryAudits",
        area: Area::Logs,
        description: "Entra ID audit log",
        path: "/auditLogs/directoryAudits",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.directoryAudit",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // `$top` is supported; neither default nor maximum is documented (guess).
        page: PageSize { default: 100, max: 999, top_supported: true },
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions { read: &["AuditLog.Read.All", "Directory.Read.All"], write: &[], notes: None },
        restore: Restore {
            strategies: &[],
            limits: &[Limit {
                when: Condition::Always,
                reason: "log records are written by Entra ID and cannot be written back",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 200,
        throttle: ThrottleFamily::Reports,
        cost: 1,
        requires: None,
        time_property: Some("activityDateTime"),
        log_latency_minutes: Some(15),
        pim: Pim::None,
        tenant: None,
    },
    Category {
        name: "signIns",
        area: Area::Logs,
        description: "Entra ID sign-in log (interactive and federated sign-ins)",
        path: "/auditLogs/signIns",
        api_version: ApiVersion::V1,
        entity_type: "microsoft.graph.signIn",
        derived_types: &[],
        shape: Shape::Collection,
        id: IdPolicy::ServiceAssigned,
        delta: None,
        // "The maximum and default page size is 1,000 objects", newest first.
        page: PageSize { default: 1000, max: 1000, top_supported: true },
        select: Select::Default,
        single_get_select: &[],
        secret_properties: &[],
        relationships: &[],
        references: &[],
        permissions: Permissions {
            read: &["AuditLog.Read.All"],
            write: &[],
            notes: Some("An older known issue required Directory.Read.All as well; grant it if Graph answers 403."),
        },
        restore: Restore {
            strategies: &[],
            limits: &[Limit {
                when: Condition::Always,
                reason: "log records are written by Entra ID and cannot be written back",
            }],
            create_path: None,
            new_password: false,
            also_remapped: None,
            dynamic_members: None,
            read_only: &[],
        },
        order: 201,
        throttle: ThrottleFamily::Reports,
        cost: 1,
        // Sign-in reports through Graph need a premium licence (license check known issue).
        requires: Some("Microsoft Entra ID P1"),
        time_property: Some("createdDateTime"),
        log_latency_minutes: Some(120),
        pim: Pim::None,
        tenant: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn names() -> HashSet<&'static str> {
        CATEGORIES.iter().map(|c| c.name).collect()
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for c in CATEGORIES {
            assert!(seen.insert(c.name), "duplicate category name {}", c.name);
        }
    }

    #[test]
    fn order_never_decreases() {
        for pair in CATEGORIES.windows(2) {
            assert!(
                pair[0].order <= pair[1].order,
                "{} (order {}) comes before {} (order {})",
                pair[0].name,
                pair[0].order,
                pair[1].name,
                pair[1].order
            );
        }
    }

    #[test]
    fn relationship_and_reference_targets_are_categories() {
        let names = names();
        for c in CATEGORIES {
            for r in c.relationships {
                for t in r.target_categories {
                    assert!(names.contains(t), "{}.{} targets unknown category {t}", c.name, r.name);
                }
            }
            for f in c.references {
                assert!(!f.targets.is_empty(), "{}: reference {} has no target", c.name, f.path);
                for t in f.targets {
                    assert!(names.contains(t), "{}: reference {} targets unknown category {t}", c.name, f.path);
                }
            }
        }
    }

    #[test]
    fn v1_types_exist_in_the_csdl() {
        let csdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/v1.0-Prod.csdl"))
            .expect("read the v1.0 CSDL");
        let exists = |qualified: &str| {
            let name = qualified.strip_prefix("microsoft.graph.").unwrap_or_else(|| panic!("unqualified {qualified}"));
            csdl.contains(&format!("<EntityType Name=\"{name}\""))
        };
        for c in CATEGORIES.iter().filter(|c| c.api_version == ApiVersion::V1) {
            assert!(exists(c.entity_type), "{}: entity type {} not in the v1.0 CSDL", c.name, c.entity_type);
            for t in c.derived_types {
                assert!(exists(t), "{}: derived type {t} not in the v1.0 CSDL", c.name);
            }
            for r in c.relationships {
                assert!(exists(r.target_type), "{}.{}: type {} not in the v1.0 CSDL", c.name, r.name, r.target_type);
            }
        }
    }

    #[test]
    fn page_sizes_are_consistent() {
        for c in CATEGORIES {
            let pages = std::iter::once((c.name, c.page)).chain(c.relationships.iter().map(|r| (r.name, r.page)));
            for (what, p) in pages {
                assert!(p.default >= 1 && p.default <= p.max, "{}: {what} page {p:?}", c.name);
                if !p.top_supported {
                    assert_eq!(p.default, p.max, "{}: {what} has no $top, so default must equal max", c.name);
                }
            }
        }
    }

    #[test]
    fn collections_have_read_permissions() {
        for c in CATEGORIES {
            if c.shape == Shape::Collection {
                assert!(!c.permissions.read.is_empty(), "{} has no read permission", c.name);
            }
            if c.shape == Shape::Singleton {
                assert!(!c.permissions.read.is_empty(), "{} has no read permission", c.name);
                assert!(c.delta.is_none(), "{}: a singleton has no delta", c.name);
            }
        }
    }

    #[test]
    fn restore_is_consistent() {
        // The v1.0 recycle bin holds only these types (restore deleted item).
        let recycle = [
            "microsoft.graph.user",
            "microsoft.graph.group",
            "microsoft.graph.application",
            "microsoft.graph.servicePrincipal",
            "microsoft.graph.administrativeUnit",
        ];
        for c in CATEGORIES {
            let s = c.restore.strategies;
            if s.contains(&Strategy::RecycleBin) {
                assert!(recycle.contains(&c.entity_type), "{}: not a recycle-bin type", c.name);
            }
            if s.contains(&Strategy::SingletonPatch) {
                assert_eq!(c.shape, Shape::Singleton, "{}: SingletonPatch on a collection", c.name);
            }
            if s.contains(&Strategy::Request) {
                assert!(c.restore.create_path.is_some(), "{}: Request needs a create_path", c.name);
            }
            if s.is_empty() {
                assert!(c.permissions.write.is_empty(), "{}: write permissions but no way back", c.name);
                assert!(
                    c.restore.limits.iter().any(|l| l.when == Condition::Always),
                    "{}: not restorable but no Always limit says why",
                    c.name
                );
            } else {
                assert!(!c.permissions.write.is_empty(), "{}: restorable without write permissions", c.name);
            }
            if c.time_property.is_some() {
                assert!(s.is_empty(), "{}: logs are never restored", c.name);
            }
            for l in c.restore.limits {
                assert!(!l.reason.trim().is_empty(), "{}: a limit without a reason", c.name);
            }
        }
    }

    #[test]
    fn bitlocker_keys_are_secret_and_read_one_by_one() {
        let keys = CATEGORIES.iter().find(|c| c.name == "bitlockerRecoveryKeys").expect("bitlockerRecoveryKeys");
        assert_eq!(keys.single_get_select, &["key"]);
        assert_eq!(keys.secret_properties, &["key"]);
        for c in CATEGORIES {
            for p in c.single_get_select {
                assert!(!c.selected().contains(p), "{}: {p} cannot be both listed and read one by one", c.name);
            }
        }
    }

    #[test]
    fn paths_are_relative_to_the_version_root() {
        for c in CATEGORIES {
            assert!(c.path.starts_with('/') && !c.path.ends_with('/'), "{}: path {}", c.name, c.path);
            for r in c.relationships {
                let prefix = format!("{}/{{id}}/", c.path);
                assert!(r.path.starts_with(&prefix), "{}.{}: path {} is not under {prefix}", c.name, r.name, r.path);
            }
        }
    }
}
