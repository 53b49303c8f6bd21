//! Fixed data the generator draws from: names, places, departments, and Microsoft's well-known ids.

pub const FIRST_NAMES: &[&str] = &[
    "Adele", "Alex", "Allan", "Amara", "Ana", "Andre", "Anika", "Ben", "Bianca", "Carlos", "Chen", "Chloe",
    "Christie", "Daniel", "Diego", "Elena", "Emily", "Enrico", "Fatima", "Felix", "Grady", "Hana", "Henrietta",
    "Hiro", "Ines", "Irvin", "Isaiah", "Jana", "Johanna", "Joni", "Jonas", "Kai", "Karim", "Laura", "Lee",
    "Lena", "Lidia", "Lucas", "Lynne", "Maria", "Mateo", "Megan", "Miriam", "Nestor", "Nina", "Noah", "Olga",
    "Omar", "Patti", "Pradeep", "Priya", "Rafael", "Raul", "Sakura", "Samuel", "Sara", "Sofia", "Tomas",
    "Valentina", "Wei", "Yusuf", "Zoe",
];

pub const LAST_NAMES: &[&str] = &[
    "Adams", "Ahmed", "Alvarez", "Bauer", "Becker", "Brown", "Chen", "Costa", "Dubois", "Fischer", "Garcia",
    "Gonzalez", "Gupta", "Hansen", "Hoffmann", "Ito", "Jansen", "Johnson", "Kim", "Kowalski", "Kumar",
    "Larsen", "Laurent", "Lee", "Lopez", "Martin", "Meyer", "Miller", "Moreau", "Muller", "Nakamura",
    "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Perez", "Petrov", "Rossi", "Santos", "Sato", "Schmidt",
    "Schneider", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Thompson", "Vargas", "Wagner",
    "Wang", "Weber", "Williams", "Wilson", "Wright", "Yamamoto", "Young", "Zhang",
];

/// A department, its relative size, its job titles and its cost-center prefix.
pub struct Department {
    pub name: &'static str,
    pub weight: u32,
    pub titles: &'static [&'static str],
    pub division: &'static str,
}

pub const DEPARTMENTS: &[Department] = &[
    Department { name: "Sales", weight: 18, titles: &["Account Executive", "Sales Representative", "Sales Manager", "Inside Sales Specialist"], division: "Commercial" },
    Department { name: "Marketing", weight: 8, titles: &["Marketing Specialist", "Product Marketing Manager", "Content Strategist", "Marketing Director"], division: "Commercial" },
    Department { name: "Engineering", weight: 22, titles: &["Software Engineer", "Senior Software Engineer", "Engineering Manager", "Principal Engineer", "QA Engineer"], division: "Product & Technology" },
    Department { name: "Product", weight: 5, titles: &["Product Manager", "Senior Product Manager", "UX Designer"], division: "Product & Technology" },
    Department { name: "Finance", weight: 6, titles: &["Accountant", "Financial Analyst", "Controller", "Finance Manager"], division: "Corporate" },
    Department { name: "Human Resources", weight: 4, titles: &["HR Generalist", "Recruiter", "HR Business Partner", "HR Manager"], division: "Corporate" },
    Department { name: "IT", weight: 6, titles: &["Systems Administrator", "IT Support Specialist", "Security Engineer", "IT Manager"], division: "Corporate" },
    Department { name: "Legal", weight: 2, titles: &["Legal Counsel", "Paralegal", "Compliance Officer"], division: "Corporate" },
    Department { name: "Operations", weight: 10, titles: &["Operations Analyst", "Logistics Coordinator", "Operations Manager", "Buyer"], division: "Operations" },
    Department { name: "Customer Support", weight: 12, titles: &["Support Engineer", "Customer Success Manager", "Support Team Lead"], division: "Operations" },
    Department { name: "Research", weight: 5, titles: &["Research Scientist", "Data Scientist", "Research Lead"], division: "Product & Technology" },
    Department { name: "Executive", weight: 1, titles: &["Chief Financial Officer", "Chief Technology Officer", "Chief Operating Officer", "Executive Assistant"], division: "Corporate" },
];

/// An office location.
pub struct Site {
    pub city: &'static str,
    pub state: Option<&'static str>,
    pub country: &'static str,
    /// ISO 3166 two-letter code: the usage location.
    pub code: &'static str,
    pub postal_code: &'static str,
    pub street: &'static str,
    pub phone_prefix: &'static str,
    pub language: &'static str,
    pub weight: u32,
    pub lat: f64,
    pub lon: f64,
}

pub const SITES: &[Site] = &[
    Site { city: "Seattle", state: Some("WA"), country: "United States", code: "US", postal_code: "98101", street: "1 Pine Street", phone_prefix: "+1 206 555 0", language: "en-US", weight: 24, lat: 47.6062, lon: -122.3321 },
    Site { city: "New York", state: Some("NY"), country: "United States", code: "US", postal_code: "10001", street: "350 5th Avenue", phone_prefix: "+1 212 555 0", language: "en-US", weight: 14, lat: 40.7128, lon: -74.006 },
    Site { city: "Toronto", state: Some("ON"), country: "Canada", code: "CA", postal_code: "M5H 2N2", street: "100 King Street West", phone_prefix: "+1 416 555 0", language: "en-US", weight: 6, lat: 43.6532, lon: -79.3832 },
    Site { city: "London", state: None, country: "United Kingdom", code: "GB", postal_code: "EC2A 4NE", street: "1 Finsbury Avenue", phone_prefix: "+44 20 7946 0", language: "en-GB", weight: 12, lat: 51.5074, lon: -0.1278 },
    Site { city: "Munich", state: Some("Bavaria"), country: "Germany", code: "DE", postal_code: "80331", street: "Marienplatz 1", phone_prefix: "+49 89 1234 0", language: "de-DE", weight: 10, lat: 48.1351, lon: 11.582 },
    Site { city: "Paris", state: None, country: "France", code: "FR", postal_code: "75008", street: "12 Rue de la Paix", phone_prefix: "+33 1 70 36 0", language: "fr-FR", weight: 7, lat: 48.8566, lon: 2.3522 },
    Site { city: "Amsterdam", state: None, country: "Netherlands", code: "NL", postal_code: "1012 JS", street: "Dam 1", phone_prefix: "+31 20 555 0", language: "nl-NL", weight: 5, lat: 52.3676, lon: 4.9041 },
    Site { city: "Tokyo", state: None, country: "Japan", code: "JP", postal_code: "100-0005", street: "1-1 Marunouchi", phone_prefix: "+81 3 5555 0", language: "ja-JP", weight: 7, lat: 35.6762, lon: 139.6503 },
    Site { city: "Bengaluru", state: Some("Karnataka"), country: "India", code: "IN", postal_code: "560001", street: "1 MG Road", phone_prefix: "+91 80 5555 0", language: "en-US", weight: 9, lat: 12.9716, lon: 77.5946 },
    Site { city: "Sydney", state: Some("NSW"), country: "Australia", code: "AU", postal_code: "2000", street: "1 George Street", phone_prefix: "+61 2 5550 0", language: "en-AU", weight: 6, lat: -33.8688, lon: 151.2093 },
];

/// Partner organizations (guests and contacts come from them).
pub const PARTNERS: &[&str] = &["fabrikam.com", "northwindtraders.com", "adatum.com", "tailspintoys.com", "wingtiptoys.com", "litwareinc.com"];

/// Microsoft's tenant: the owner of first-party applications.
pub const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
pub const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
pub const SHAREPOINT_APP_ID: &str = "00000003-0000-0ff1-ce00-000000000000";
pub const INTUNE_APP_ID: &str = "0000000a-0000-0000-c000-000000000000";
pub const AZURE_MANAGEMENT_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";

/// A first-party application present in every tenant: app id, display name, service principal names.
pub const FIRST_PARTY: &[(&str, &str, &[&str])] = &[
    (GRAPH_APP_ID, "Microsoft Graph", &["https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com", "00000003-0000-0000-c000-000000000000"]),
    (EXCHANGE_APP_ID, "Office 365 Exchange Online", &["https://outlook.office365.com/", "https://outlook.office.com/", "00000002-0000-0ff1-ce00-000000000000"]),
    (SHAREPOINT_APP_ID, "Office 365 SharePoint Online", &["https://microsoft.sharepoint-df.com", "00000003-0000-0ff1-ce00-000000000000"]),
    (INTUNE_APP_ID, "Microsoft Intune", &["https://intune.microsoft.com", "0000000a-0000-0000-c000-000000000000"]),
    ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", &["https://teams.microsoft.com", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"]),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", &["d3590ed6-52b3-4102-aeff-aad2292ab01c"]),
    ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", &["https://portal.azure.com/", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"]),
    (AZURE_MANAGEMENT_APP_ID, "Windows Azure Service Management API", &["https://management.core.windows.net/", "https://management.azure.com/", "797f4846-ba00-4fd7-ba43-dac1f8f63013"]),
    ("c5393580-f805-4401-95e8-94b7a6ef2fc2", "Office 365 Management APIs", &["https://manage.office.com", "c5393580-f805-4401-95e8-94b7a6ef2fc2"]),
];

/// Microsoft Graph application permissions (app roles): id, value, display name.
pub const GRAPH_APP_ROLES: &[(&str, &str, &str)] = &[
    ("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
    ("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles"),
    ("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
    ("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Read and write all groups"),
    ("98830695-27a2-44f7-8c18-0c3ebc9698f6", "GroupMember.Read.All", "Read all group memberships"),
    ("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
    ("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
    ("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
    ("246dd0d5-5bd0-4def-940b-0421030a5b68", "Policy.Read.All", "Read your organization's policies"),
    ("b0afded3-3588-46d8-8b3d-9842eff778da", "AuditLog.Read.All", "Read all audit log data"),
    ("483bed4a-2ad3-4361-a73b-c83ccdbdc53c", "RoleManagement.Read.Directory", "Read all directory RBAC settings"),
    ("dc377aa6-52d8-4e23-b271-2a7ae04cedf3", "DeviceManagementConfiguration.Read.All", "Read Microsoft Intune device configuration and policies"),
    ("7438b122-aefc-4978-80ed-43db9fcc7715", "Device.Read.All", "Read all devices"),
    ("810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Mail.Read", "Read mail in all mailboxes"),
    ("b633e1c5-b582-4048-a93e-9f11b44c7e96", "Mail.Send", "Send mail as any user"),
    ("332a536c-c7ef-4017-ab91-336970924f0d", "Sites.Read.All", "Read items in all site collections"),
];

/// Microsoft Graph delegated permissions (OAuth2 scopes): id, value, admin consent display name.
pub const GRAPH_SCOPES: &[(&str, &str, &str)] = &[
    ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read", "Sign in and read user profile"),
    ("37f7f235-527c-4136-accd-4a02d197296e", "openid", "Sign users in"),
    ("14dad69e-099b-42c9-810b-d002981feec1", "profile", "View users' basic profile"),
    ("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email", "View users' email address"),
    ("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access", "Maintain access to data you have given it access to"),
    ("570282fd-fa5c-430d-a7fd-fc8dc98a9dca", "Mail.Read", "Read user mail"),
    ("df85f4d6-205c-4ac5-a5ea-6bf408dba283", "Files.Read.All", "Read all files that user can access"),
    ("465a38f9-76ea-45b9-9f34-9e8b0d4b0b42", "Calendars.Read", "Read user calendars"),
    ("06da0dbc-49e2-44d2-8312-53f166ab848a", "Directory.Read.All", "Read directory data"),
    ("5f8c59db-677d-491f-a6b8-5f174b11ec1d", "Group.Read.All", "Read all groups"),
];

/// A built-in directory role: template id, display name, description, a few of its resource actions.
pub const BUILT_IN_ROLES: &[(&str, &str, &str, &[&str])] = &[
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator", "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.", &["microsoft.directory/applications/allProperties/allTasks", "microsoft.directory/users/allProperties/allTasks", "microsoft.directory/groups/allProperties/allTasks", "microsoft.directory/roleAssignments/allProperties/allTasks"]),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator", "Can manage all aspects of users and groups, including resetting passwords for limited admins.", &["microsoft.directory/users/create", "microsoft.directory/users/delete", "microsoft.directory/users/basic/update", "microsoft.directory/groups/create", "microsoft.directory/groups/members/update"]),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator", "Can reset passwords for non-administrators and Helpdesk Administrators.", &["microsoft.directory/users/password/update", "microsoft.directory/users/invalidateAllRefreshTokens", "microsoft.directory/bitlockerKeys/key/read"]),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator", "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.", &["microsoft.directory/conditionalAccessPolicies/standard/read", "microsoft.directory/identityProtection/allProperties/allTasks", "microsoft.directory/auditLogs/allProperties/read"]),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader", "Can read security information and reports in Microsoft Entra ID and Office 365.", &["microsoft.directory/auditLogs/allProperties/read", "microsoft.directory/signInReports/allProperties/read"]),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader", "Can read everything that a Global Administrator can, but not update anything.", &["microsoft.directory/users/allProperties/read", "microsoft.directory/groups/allProperties/read", "microsoft.directory/applications/allProperties/read"]),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps.", &["microsoft.directory/applications/create", "microsoft.directory/applications/credentials/update", "microsoft.directory/servicePrincipals/appRoleAssignedTo/update"]),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator", "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.", &["microsoft.directory/applications/create", "microsoft.directory/servicePrincipals/credentials/update"]),
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator", "Can manage all aspects of the Exchange product.", &["microsoft.directory/groups/unified/create", "microsoft.office365.exchange/allEntities/basic/allTasks"]),
    ("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator", "Can manage all aspects of the Intune product.", &["microsoft.directory/devices/basic/update", "microsoft.directory/bitlockerKeys/key/read", "microsoft.intune/allEntities/allTasks"]),
    ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator", "Can manage Conditional Access capabilities.", &["microsoft.directory/conditionalAccessPolicies/create", "microsoft.directory/conditionalAccessPolicies/basic/update", "microsoft.directory/namedLocations/create"]),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator", "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.", &["microsoft.directory/roleAssignments/allProperties/allTasks", "microsoft.directory/roleDefinitions/allProperties/allTasks"]),
    ("fdd7a751-b60b-444a-984c-02652fe8fa1c", "Groups Administrator", "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.", &["microsoft.directory/groups/create", "microsoft.directory/groups/delete", "microsoft.directory/groups/members/update"]),
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator", "Can access to view, set and reset authentication method information for any non-admin user.", &["microsoft.directory/users/authenticationMethods/create", "microsoft.directory/users/password/update"]),
];

pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
pub const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
/// The Guest User role: the default `guestUserRoleId` of the authorization policy.
pub const GUEST_USER_ROLE: &str = "10dae51f-b6af-4016-8d66-8c2a99b929b3";

/// A licence: SKU id, part number, and its service plans (id, name, service as assigned plans name it).
pub struct Sku {
    pub sku_id: &'static str,
    pub part_number: &'static str,
    pub plans: &'static [(&'static str, &'static str, &'static str)],
}

pub const SKUS: &[Sku] = &[
    Sku {
        sku_id: "c7df2760-2c81-4ef7-b578-5b5392b571df",
        part_number: "ENTERPRISEPREMIUM",
        plans: &[
            ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange"),
            ("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE", "SharePoint"),
            ("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD", "MicrosoftCommunicationsOnline"),
            ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI"),
            ("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION", "MicrosoftOffice"),
        ],
    },
    Sku {
        sku_id: "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
        part_number: "EMS",
        plans: &[
            ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM", "AADPremiumService"),
            ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM", "MultiFactorService"),
            ("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A", "SCO"),
        ],
    },
    Sku {
        sku_id: "061f9ace-7d42-4136-88ac-31dc755f143f",
        part_number: "INTUNE_A",
        plans: &[("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A", "SCO")],
    },
];
