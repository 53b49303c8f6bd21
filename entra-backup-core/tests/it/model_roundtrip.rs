//! The generated models are lossless views: Graph JSON read into a struct and written back is the same
//! JSON, and the generated code matches the schema and the catalog.

use entra_backup::model::{
    self, AppliedConditionalAccessPolicyResult, Entity, Field, Group, RiskLevel, SignIn, User, UserPurpose,
};
use serde_json::{Value, json};

/// A user as `GET /users/{id}?$select=...` returns it (Graph docs examples), with nulls, nested complex
/// values, an expanded navigation property, annotations, an enum value newer than the schema and a
/// property the schema does not have.
fn user() -> Value {
    parse(
        r##"{
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "@odata.type": "#microsoft.graph.user",
        "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
        "deletedDateTime": null,
        "accountEnabled": true,
        "ageGroup": null,
        "assignedLicenses": [
            {
                "disabledPlans": ["a82fbf69-b4d7-49f4-83a6-915b2cf354f4"],
                "skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df"
            },
            { "disabledPlans": [], "skuId": "b05e124f-c7cc-45a0-a6aa-8cf78c946968" }
        ],
        "assignedPlans": [{
            "assignedDateTime": "2022-11-14T22:42:38Z",
            "capabilityStatus": "Enabled",
            "service": "exchange",
            "servicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0"
        }],
        "businessPhones": ["+1 425 555 0109"],
        "city": "Redmond",
        "companyName": null,
        "country": "United States",
        "createdDateTime": "2022-11-14T22:40:23Z",
        "department": "Retail",
        "displayName": "Adele Vance",
        "employeeHireDate": null,
        "employeeId": null,
        "employeeOrgData": { "division": "Retail", "costCenter": null },
        "givenName": "Adele",
        "identities": [{
            "signInType": "userPrincipalName",
            "issuer": "contoso.onmicrosoft.com",
            "issuerAssignedId": "AdeleV@contoso.onmicrosoft.com"
        }],
        "imAddresses": ["adelev@contoso.onmicrosoft.com"],
        "jobTitle": "Retail Manager",
        "mail": "AdeleV@contoso.onmicrosoft.com",
        "mailNickname": "AdeleV",
        "mobilePhone": null,
        "officeLocation": "18/2111",
        "onPremisesExtensionAttributes": {
            "extensionAttribute1": "Contractor",
            "extensionAttribute2": null,
            "extensionAttribute3": null,
            "extensionAttribute4": null,
            "extensionAttribute5": null,
            "extensionAttribute6": null,
            "extensionAttribute7": null,
            "extensionAttribute8": null,
            "extensionAttribute9": null,
            "extensionAttribute10": null,
            "extensionAttribute11": null,
            "extensionAttribute12": null,
            "extensionAttribute13": null,
            "extensionAttribute14": null,
            "extensionAttribute15": "Building 18"
        },
        "onPremisesProvisioningErrors": [],
        "onPremisesSyncEnabled": null,
        "otherMails": [],
        "passwordPolicies": "DisablePasswordExpiration",
        "preferredLanguage": "en-US",
        "proxyAddresses": ["SMTP:AdeleV@contoso.onmicrosoft.com", "smtp:adele@contoso.com"],
        "surname": "Vance",
        "usageLocation": "US",
        "userPrincipalName": "AdeleV@contoso.onmicrosoft.com",
        "userType": "Member",
        "mailboxSettings": {
            "timeZone": "Pacific Standard Time",
            "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
            "userPurpose": "agentMailbox",
            "automaticRepliesSetting": {
                "status": "disabled",
                "externalAudience": "all",
                "internalReplyMessage": "",
                "externalReplyMessage": "",
                "scheduledStartDateTime": { "dateTime": "2024-03-01T08:00:00.0000000", "timeZone": "UTC" },
                "scheduledEndDateTime": { "dateTime": "2024-03-02T08:00:00.0000000", "timeZone": "UTC" }
            },
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": { "name": "Pacific Standard Time" }
            }
        },
        "manager": {
            "@odata.type": "#microsoft.graph.user",
            "id": "5bde3e51-d13b-4db1-9948-fe4b109d11a7",
            "displayName": "Patti Fernandez"
        },
        "manager@delta": [],
        "contosoFutureProperty": { "nested": [1, 2.5, null, "x"] }
    }"##,
    )
}

/// A Microsoft 365 group as `GET /groups/{id}` returns it (Graph docs example).
fn group() -> Value {
    parse(
        r##"{
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups/$entity",
        "id": "02bd9fd6-8f93-4758-87c3-1fb73740a315",
        "deletedDateTime": null,
        "assignedLabels": [{ "labelId": "4e5e2a30-ca43-4b0d-9b3c-6b9fd8b6b0a6", "displayName": "Confidential" }],
        "classification": null,
        "createdDateTime": "2017-07-31T18:56:16Z",
        "creationOptions": ["ExchangeProvisioningFlags:481"],
        "description": "Welcome to the HR Taskforce team.",
        "displayName": "HR Taskforce",
        "expirationDateTime": null,
        "groupTypes": ["Unified"],
        "isAssignableToRole": null,
        "licenseProcessingState": { "state": "ProcessingComplete" },
        "mail": "HRTaskforce@contoso.onmicrosoft.com",
        "mailEnabled": true,
        "mailNickname": "HRTaskforce",
        "membershipRule": null,
        "membershipRuleProcessingState": null,
        "onPremisesDomainName": null,
        "onPremisesLastSyncDateTime": null,
        "onPremisesNetBiosName": null,
        "onPremisesSamAccountName": null,
        "onPremisesSecurityIdentifier": null,
        "onPremisesSyncEnabled": null,
        "preferredDataLocation": null,
        "preferredLanguage": null,
        "proxyAddresses": [
            "SMTP:HRTaskforce@contoso.onmicrosoft.com",
            "SPO:SPO_896cf652-b200-4b74-8111-c013f64406cf@SPO_dcd219dd-bc68-4b9b-bf0b-4a33a796be35"
        ],
        "renewedDateTime": "2020-01-24T19:01:14Z",
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": ["Team"],
        "securityEnabled": false,
        "securityIdentifier": "S-1-12-1-45981654-1196986259-3072312199-363020343",
        "theme": null,
        "visibility": "Private",
        "onPremisesProvisioningErrors": [],
        "serviceProvisioningErrors": [],
        "members@delta": [{ "@odata.type": "#microsoft.graph.user", "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd" }]
    }"##,
    )
}

/// A sign-in as `GET /auditLogs/signIns` returns it (Graph docs example), with Edm.Double coordinates.
fn sign_in() -> Value {
    parse(
        r##"{
        "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100",
        "createdDateTime": "2020-03-13T19:15:41.6195833Z",
        "userDisplayName": "Test contoso",
        "userPrincipalName": "testaccount1@contoso.com",
        "userId": "26be570a-ae82-4189-b4e2-a37c6808512d",
        "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064",
        "appDisplayName": "Graph explorer",
        "ipAddress": "131.107.159.37",
        "clientAppUsed": "Browser",
        "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912",
        "conditionalAccessStatus": "notApplied",
        "isInteractive": true,
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes": [],
        "riskEventTypes_v2": [],
        "resourceDisplayName": "Microsoft Graph",
        "resourceId": "00000003-0000-0000-c000-000000000000",
        "status": { "errorCode": 0, "failureReason": null, "additionalDetails": null },
        "deviceDetail": {
            "deviceId": "",
            "displayName": null,
            "operatingSystem": "Windows 10",
            "browser": "Edge 80.0.361",
            "isCompliant": null,
            "isManaged": null,
            "trustType": null
        },
        "location": {
            "city": "Redmond",
            "state": "Washington",
            "countryOrRegion": "US",
            "geoCoordinates": { "altitude": null, "latitude": 47.0, "longitude": -122 }
        },
        "appliedConditionalAccessPolicies": [{
            "id": "de7e60eb-ed89-4d73-8205-2227def6b7c9",
            "displayName": "SharePoint limited access for guest workers",
            "enforcedGrantControls": [],
            "enforcedSessionControls": [],
            "result": "reportOnlyInterrupted"
        }]
    }"##,
    )
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("valid JSON")
}

fn assert_round_trip(entity_type: &str, input: &Value) -> Value {
    let output = model::round_trip(entity_type, input)
        .unwrap_or_else(|| panic!("no model for {entity_type}"))
        .unwrap_or_else(|e| panic!("{entity_type} does not fit its model: {e}"));
    assert_eq!(&output, input, "{entity_type} changed in a round trip");
    output
}

#[test]
fn user_round_trips() {
    let input = user();
    let output = assert_round_trip(User::ODATA_TYPE, &input);
    // The same members, key order aside.
    assert_eq!(output.as_object().unwrap().len(), input.as_object().unwrap().len());

    let user: User = serde_json::from_value(input.clone()).unwrap();
    assert_eq!(user.id, Field::Value("87d349ed-44d7-43e1-9a83-5f2406dee5bd".to_owned()));
    assert_eq!(user.account_enabled, Field::Value(true));
    // Null stays null, absent stays absent.
    assert_eq!(user.mobile_phone, Field::Null);
    assert_eq!(user.deleted_date_time, Field::Null);
    assert_eq!(user.about_me, Field::Absent);
    assert!(output.get("aboutMe").is_none());
    assert_eq!(output["mobilePhone"], Value::Null);

    let org = user.employee_org_data.value().unwrap();
    assert_eq!(org.division.value().unwrap(), "Retail");
    assert!(org.cost_center.is_null());
    let licenses = user.assigned_licenses.value().unwrap();
    assert_eq!(licenses.len(), 2);
    assert_eq!(licenses[1].disabled_plans, Field::Value(vec![]));
    let ext = user.on_premises_extension_attributes.value().unwrap();
    assert_eq!(ext.extension_attribute1.value().unwrap(), "Contractor");
    assert!(ext.extension_attribute2.is_null());

    // Not in the schema: annotations, navigation properties and new properties stay in `extra`.
    for key in ["@odata.context", "@odata.type", "manager", "manager@delta", "contosoFutureProperty"] {
        assert_eq!(user.extra.get(key), input.get(key), "{key}");
    }
    assert_eq!(user.extra.len(), 5);

    // An enum value the schema does not have survives.
    let mailbox = user.mailbox_settings.value().unwrap();
    assert_eq!(mailbox.user_purpose, Field::Value(UserPurpose::Other("agentMailbox".to_owned())));
    assert_eq!(output["mailboxSettings"]["userPurpose"], "agentMailbox");
    assert_eq!(mailbox.automatic_replies_setting.value().unwrap().status.value().unwrap().as_str(), "disabled");
}

#[test]
fn group_round_trips() {
    let input = group();
    assert_round_trip(Group::ODATA_TYPE, &input);
    let group: Group = serde_json::from_value(input).unwrap();
    assert_eq!(group.group_types, Field::Value(vec!["Unified".to_owned()]));
    assert_eq!(group.is_assignable_to_role, Field::Null);
    assert_eq!(group.assigned_labels.value().unwrap()[0].display_name.value().unwrap(), "Confidential");
    assert!(group.extra.contains_key("members@delta"));
}

#[test]
fn sign_in_round_trips_and_keeps_number_spelling() {
    let input = sign_in();
    let output = assert_round_trip(SignIn::ODATA_TYPE, &input);
    // Edm.Double: 47.0 stays 47.0 and -122 stays -122.
    let coordinates = serde_json::to_string(&output["location"]["geoCoordinates"]).unwrap();
    assert_eq!(coordinates, r#"{"altitude":null,"latitude":47.0,"longitude":-122}"#);

    let sign_in: SignIn = serde_json::from_value(input).unwrap();
    assert_eq!(sign_in.risk_level_aggregated, Field::Value(RiskLevel::None));
    let policy = &sign_in.applied_conditional_access_policies.value().unwrap()[0];
    assert_eq!(policy.result, Field::Value(AppliedConditionalAccessPolicyResult::ReportOnlyInterrupted));
    let location = sign_in.location.value().unwrap();
    let geo = location.geo_coordinates.value().unwrap();
    assert_eq!(geo.latitude.value().unwrap().to_string(), "47.0");
    assert_eq!(geo.longitude.value().unwrap().to_string(), "-122");
    assert!(geo.altitude.is_null());
}

#[test]
fn enums_read_and_write_strings() {
    assert_eq!(RiskLevel::from("high"), RiskLevel::High);
    assert_eq!(RiskLevel::from("somethingNew"), RiskLevel::Other("somethingNew".to_owned()));
    assert_eq!(String::from(RiskLevel::High), "high");
    assert_eq!(serde_json::to_value(RiskLevel::Other("x".to_owned())).unwrap(), json!("x"));
    assert_eq!(serde_json::from_value::<RiskLevel>(json!("medium")).unwrap(), RiskLevel::Medium);
    assert!(serde_json::from_value::<RiskLevel>(json!(3)).is_err());
}

#[test]
fn every_entity_type_round_trips_empty_and_unknown_objects() {
    let types = model::entity_types();
    assert!(types.windows(2).all(|w| w[0] < w[1]), "entity_types() is sorted and unique");
    for required in
        ["microsoft.graph.user", "microsoft.graph.group", "microsoft.graph.directoryObject", "microsoft.graph.entity"]
    {
        assert!(types.contains(&required), "{required}");
    }
    for ty in types {
        assert_round_trip(ty, &json!({}));
        assert_round_trip(ty, &json!({ "@odata.type": format!("#{ty}"), "id": "x", "notInTheSchema": [1.5, null] }));
    }
}

#[test]
fn unknown_types_and_misfits() {
    assert!(model::round_trip("microsoft.graph.noSuchType", &json!({})).is_none());
    // Present but of the wrong JSON type: an error, never a silent loss.
    let err = model::round_trip(User::ODATA_TYPE, &json!({ "accountEnabled": "yes" })).unwrap();
    assert!(err.is_err());
}

#[test]
fn field_helpers() {
    let f: Field<u8> = 3.into();
    assert_eq!(f.value(), Some(&3));
    assert_eq!(Field::<u8>::default(), Field::Absent);
    assert!(Field::<u8>::Absent.is_absent() && Field::<u8>::Null.is_null());
    assert_eq!(Field::<u8>::Null.value(), None);
    assert_eq!(serde_json::from_value::<Field<u8>>(Value::Null).unwrap(), Field::Null);
}

/// The committed generated.rs is what the generator writes from today's schema and catalog.
#[test]
fn generated_code_is_up_to_date() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = std::process::Command::new("python3")
        .args(["tools/gen_models.py", "--check"])
        .current_dir(root)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "tools/gen_models.py --check failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
