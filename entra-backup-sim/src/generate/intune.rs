//! BitLocker recovery keys and Intune: device configurations, compliance policies and settings
//! catalog (configuration) policies, with their assignments.

use serde_json::{Map, Value};

use super::{Gen, GroupKind, Rel, ts};
use super::{J, NULL};
use crate::Rng;

impl Gen<'_> {
    pub(super) fn bitlocker_keys(&mut self) {
        let mut rng = self.rng("bitlockerRecoveryKeys");
        let windows: Vec<(String, String)> =
            self.devices.iter().filter(|d| d.os == "Windows").map(|d| (d.id.clone(), d.device_id.clone())).collect();
        for (object_id, device_id) in windows {
            let registered = self
                .tenant
                .get("devices", &object_id)
                .and_then(|d| d.json.get("registrationDateTime")?.as_str()?.parse::<jiff::Timestamp>().ok())
                .unwrap_or(self.anchor);
            let volumes: &[&str] = if rng.chance(0.15) {
                &["operatingSystemVolume", "fixedDataVolume"]
            } else {
                &["operatingSystemVolume"]
            };
            for volume in volumes {
                let created = self.after(&mut rng, registered, 30);
                let json = obj! {
                    "id": rng.guid(),
                    "createdDateTime": ts(created),
                    "deviceId": &device_id,
                    "key": recovery_key(&mut rng),
                    "volumeType": volume,
                };
                self.put("bitlockerRecoveryKeys", json, vec![]);
            }
        }
    }

    /// Targets for Intune assignments: (`@odata.type`, group id).
    fn intune_targets(&self, rng: &mut Rng) -> Vec<(&'static str, Option<String>)> {
        let groups = self.groups_of(&[
            GroupKind::Security,
            GroupKind::DynamicSecurity,
            GroupKind::AllEmployees,
            GroupKind::Synced,
        ]);
        let mut out = Vec::new();
        match rng.below(6) {
            0 => out.push(("#microsoft.graph.allLicensedUsersAssignmentTarget", None)),
            1 => out.push(("#microsoft.graph.allDevicesAssignmentTarget", None)),
            _ => {
                let k = 1 + rng.below(3);
                for g in Self::sample(rng, &groups, k) {
                    out.push(("#microsoft.graph.groupAssignmentTarget", Some(self.groups[g].id.clone())));
                }
            }
        }
        if rng.chance(0.25) && !groups.is_empty() {
            let g = groups[rng.below(groups.len())];
            let id = self.groups[g].id.clone();
            if !out.iter().any(|(_, x)| x.as_deref() == Some(id.as_str())) {
                out.push(("#microsoft.graph.exclusionGroupAssignmentTarget", Some(id)));
            }
        }
        out
    }

    pub(super) fn intune(&mut self) {
        let mut rng = self.rng("intune");
        let configurations: Vec<(&str, &str, Value)> = vec![
            (
                "#microsoft.graph.windows10GeneralConfiguration",
                "Windows - Device restrictions",
                obj! {
                    "passwordRequired": true,
                    "passwordBlockSimple": true,
                    "passwordMinimumLength": 12,
                    "passwordRequiredType": "alphanumeric",
                    "passwordMinutesOfInactivityBeforeScreenTimeout": 15,
                    "passwordExpirationDays": NULL,
                    "passwordPreviousPasswordBlockCount": 5,
                    "passwordSignInFailureCountBeforeFactoryReset": NULL,
                    "passwordRequireWhenResumeFromIdleState": true,
                    "cameraBlocked": false,
                    "bluetoothBlocked": false,
                    "usbBlocked": false,
                    "storageBlockRemovableStorage": true,
                    "cortanaBlocked": true,
                    "microsoftAccountBlocked": true,
                    "microsoftAccountBlockSettingsSync": true,
                    "defenderRequireRealTimeMonitoring": true,
                    "defenderRequireBehaviorMonitoring": true,
                    "defenderRequireCloudProtection": true,
                    "defenderScanType": "quick",
                    "defenderScheduledQuickScanTime": "12:00:00.0000000",
                    "defenderSignatureUpdateIntervalInHours": 4,
                    "defenderFileExtensionsToExclude": arr![],
                    "defenderFilesAndFoldersToExclude": arr![],
                    "defenderProcessesToExclude": arr![],
                    "diagnosticsDataSubmissionMode": "basic",
                    "edgeBlockPopups": true,
                    "edgeHomepageUrls": arr![format!("https://intranet.{}", self.domain)],
                    "smartScreenEnableAppInstallControl": true,
                    "windowsStoreBlocked": false,
                    "lockScreenTimeoutInSeconds": NULL,
                    "wiFiBlocked": false,
                    "bluetoothAllowedServices": arr![],
                },
            ),
            (
                "#microsoft.graph.windows10EndpointProtectionConfiguration",
                "Windows - Endpoint protection",
                obj! {
                    "bitLockerEncryptDevice": true,
                    "bitLockerDisableWarningForOtherDiskEncryption": true,
                    "bitLockerEnableStorageCardEncryptionOnMobile": false,
                    "firewallBlockStatefulFTP": true,
                    "firewallIPSecExemptionsAllowDHCP": true,
                    "firewallIPSecExemptionsAllowICMP": false,
                    "firewallIPSecExemptionsAllowNeighborDiscovery": true,
                    "firewallIPSecExemptionsAllowRouterDiscovery": false,
                    "firewallMergeKeyingModuleSettings": false,
                    "smartScreenEnableInShell": true,
                    "smartScreenBlockOverrideForFiles": true,
                    "applicationGuardEnabled": false,
                    "defenderAdditionalGuardedFolders": arr![],
                    "defenderAttackSurfaceReductionExcludedPaths": arr![],
                    "defenderGuardedFoldersAllowedAppPaths": arr![],
                    "defenderExploitProtectionXml": NULL,
                    "defenderExploitProtectionXmlFileName": NULL,
                    "defenderSecurityCenterBlockExploitProtectionOverride": true,
                },
            ),
            (
                "#microsoft.graph.iosGeneralDeviceConfiguration",
                "iOS - Device restrictions",
                obj! {
                    "passcodeRequired": true,
                    "passcodeBlockSimple": true,
                    "passcodeMinimumLength": 6,
                    "passcodeRequiredType": "numeric",
                    "passcodeMinutesOfInactivityBeforeLock": 5,
                    "passcodeSignInFailureCountBeforeWipe": 10,
                    "cameraBlocked": false,
                    "iCloudBlockBackup": true,
                    "iCloudBlockDocumentSync": true,
                    "airDropBlocked": false,
                    "appStoreBlocked": false,
                    "documentsBlockManagedDocumentsInUnmanagedApps": true,
                    "documentsBlockUnmanagedDocumentsInManagedApps": false,
                    "safariBlockAutofill": true,
                    "emailInDomainSuffixes": arr![self.domain.clone()],
                    "compliantAppsList": arr![],
                    "compliantAppListType": "none",
                },
            ),
            (
                "#microsoft.graph.androidGeneralDeviceConfiguration",
                "Android - Device restrictions",
                obj! {
                    "passwordRequired": true,
                    "passwordMinimumLength": 6,
                    "passwordRequiredType": "numericComplex",
                    "passwordMinutesOfInactivityBeforeScreenTimeout": 5,
                    "passwordSignInFailureCountBeforeFactoryReset": 10,
                    "storageRequireDeviceEncryption": true,
                    "securityRequireVerifyApps": true,
                    "cameraBlocked": false,
                    "screenCaptureBlocked": false,
                    "googleAccountBlockAutoSync": false,
                    "appsInstallAllowList": arr![],
                    "appsLaunchBlockList": arr![],
                    "appsHideList": arr![],
                    "kioskModeApps": arr![],
                    "compliantAppsList": arr![],
                    "compliantAppListType": "none",
                    "webBrowserCookieSettings": "browserDefault",
                },
            ),
            (
                "#microsoft.graph.macOSGeneralDeviceConfiguration",
                "macOS - Password",
                obj! {
                    "passwordRequired": true,
                    "passwordBlockSimple": true,
                    "passwordMinimumLength": 10,
                    "passwordRequiredType": "alphanumeric",
                    "passwordMinutesOfInactivityBeforeLock": 15,
                    "passwordMinutesOfInactivityBeforeScreenTimeout": 10,
                    "passwordExpirationDays": NULL,
                    "passwordPreviousPasswordBlockCount": 5,
                    "passwordMinimumCharacterSetCount": NULL,
                    "emailInDomainSuffixes": arr![],
                    "compliantAppsList": arr![],
                    "compliantAppListType": "none",
                },
            ),
        ];
        for (ty, name, settings) in configurations {
            let id = rng.guid();
            let json = self.intune_object(&mut rng, &id, ty, name, settings);
            let assignments = self.intune_assignments(&mut rng, &id);
            self.put("deviceConfigurations", json, vec![("assignments", Rel::Children(assignments))]);
        }

        let compliance: Vec<(&str, &str, Value)> = vec![
            (
                "#microsoft.graph.windows10CompliancePolicy",
                "Windows - Compliance baseline",
                obj! {
                    "passwordRequired": true,
                    "passwordBlockSimple": true,
                    "passwordRequiredToUnlockFromIdle": true,
                    "passwordMinutesOfInactivityBeforeLock": 15,
                    "passwordExpirationDays": NULL,
                    "passwordMinimumLength": 12,
                    "passwordMinimumCharacterSetCount": NULL,
                    "passwordRequiredType": "alphanumeric",
                    "passwordPreviousPasswordBlockCount": NULL,
                    "requireHealthyDeviceReport": false,
                    "osMinimumVersion": "10.0.19045",
                    "osMaximumVersion": NULL,
                    "mobileOsMinimumVersion": NULL,
                    "mobileOsMaximumVersion": NULL,
                    "earlyLaunchAntiMalwareDriverEnabled": false,
                    "bitLockerEnabled": true,
                    "secureBootEnabled": true,
                    "codeIntegrityEnabled": true,
                    "storageRequireEncryption": true,
                },
            ),
            (
                "#microsoft.graph.iosCompliancePolicy",
                "iOS - Compliance baseline",
                obj! {
                    "passcodeBlockSimple": true,
                    "passcodeExpirationDays": NULL,
                    "passcodeMinimumLength": 6,
                    "passcodeMinutesOfInactivityBeforeLock": 5,
                    "passcodePreviousPasscodeBlockCount": NULL,
                    "passcodeMinimumCharacterSetCount": NULL,
                    "passcodeRequiredType": "numeric",
                    "passcodeRequired": true,
                    "osMinimumVersion": "17.0",
                    "osMaximumVersion": NULL,
                    "securityBlockJailbrokenDevices": true,
                    "deviceThreatProtectionEnabled": false,
                    "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
                    "managedEmailProfileRequired": false,
                },
            ),
            (
                "#microsoft.graph.androidCompliancePolicy",
                "Android - Compliance baseline",
                obj! {
                    "passwordRequired": true,
                    "passwordMinimumLength": 6,
                    "passwordRequiredType": "numericComplex",
                    "passwordMinutesOfInactivityBeforeLock": 5,
                    "passwordExpirationDays": NULL,
                    "passwordPreviousPasswordBlockCount": NULL,
                    "securityPreventInstallAppsFromUnknownSources": true,
                    "securityDisableUsbDebugging": true,
                    "securityRequireVerifyApps": true,
                    "deviceThreatProtectionEnabled": false,
                    "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
                    "securityBlockJailbrokenDevices": true,
                    "osMinimumVersion": "13",
                    "osMaximumVersion": NULL,
                    "minAndroidSecurityPatchLevel": "2024-06-01",
                    "storageRequireEncryption": true,
                    "securityRequireSafetyNetAttestationBasicIntegrity": true,
                    "securityRequireSafetyNetAttestationCertifiedDevice": false,
                    "securityRequireGooglePlayServices": true,
                    "securityRequireUpToDateSecurityProviders": false,
                    "securityRequireCompanyPortalAppIntegrity": true,
                },
            ),
            (
                "#microsoft.graph.macOSCompliancePolicy",
                "macOS - Compliance baseline",
                obj! {
                    "passwordRequired": true,
                    "passwordBlockSimple": true,
                    "passwordExpirationDays": NULL,
                    "passwordMinimumLength": 10,
                    "passwordMinutesOfInactivityBeforeLock": 15,
                    "passwordPreviousPasswordBlockCount": NULL,
                    "passwordMinimumCharacterSetCount": NULL,
                    "passwordRequiredType": "alphanumeric",
                    "osMinimumVersion": "14.0",
                    "osMaximumVersion": NULL,
                    "systemIntegrityProtectionEnabled": true,
                    "deviceThreatProtectionEnabled": false,
                    "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
                    "storageRequireEncryption": true,
                    "firewallEnabled": true,
                    "firewallBlockAllIncoming": false,
                    "firewallEnableStealthMode": true,
                },
            ),
        ];
        for (ty, name, settings) in compliance {
            let id = rng.guid();
            let json = self.intune_object(&mut rng, &id, ty, name, settings);
            let assignments = self.intune_assignments(&mut rng, &id);
            let grace = if rng.chance(0.5) { 0 } else { 24 * (1 + rng.below(3) as i64) };
            let scheduled = vec![obj! {
                "id": rng.guid(),
                "ruleName": NULL,
                "scheduledActionConfigurations": arr![obj!{
                    "id": rng.guid(),
                    "gracePeriodHours": grace,
                    "actionType": "block",
                    "notificationTemplateId": "00000000-0000-0000-0000-000000000000",
                    "notificationMessageCCList": arr![],
                }],
            }];
            self.put(
                "deviceCompliancePolicies",
                json,
                vec![
                    ("assignments", Rel::Children(assignments)),
                    ("scheduledActionsForRule", Rel::Children(scheduled)),
                ],
            );
        }
    }

    /// A device configuration or compliance policy: the base properties, then the derived type's.
    fn intune_object(&self, rng: &mut Rng, id: &str, ty: &str, name: &str, settings: Value) -> Value {
        let created = self.past(rng, 30, 900);
        let modified = self.after(rng, created, 200);
        let mut m = Map::new();
        m.insert("@odata.type".into(), J::j(ty));
        m.insert("id".into(), J::j(id));
        m.insert("createdDateTime".into(), J::j(ts(created)));
        m.insert("description".into(), J::j(format!("{name} ({})", self.company)));
        m.insert("displayName".into(), J::j(name));
        m.insert("lastModifiedDateTime".into(), J::j(ts(modified)));
        m.insert("version".into(), J::j(1 + rng.below(6)));
        if let Value::Object(s) = settings {
            m.extend(s);
        }
        Value::Object(m)
    }

    fn intune_assignments(&self, rng: &mut Rng, policy: &str) -> Vec<Value> {
        self.intune_targets(rng)
            .into_iter()
            .map(|(ty, group)| {
                let id = match &group {
                    Some(g) => format!("{policy}_{g}"),
                    None => format!(
                        "{policy}_{}",
                        ty.trim_start_matches("#microsoft.graph.").trim_end_matches("AssignmentTarget")
                    ),
                };
                let mut target = Map::new();
                target.insert("@odata.type".into(), J::j(ty));
                if let Some(g) = group {
                    target.insert("groupId".into(), J::j(&g));
                }
                obj! { "id": id, "target": target }
            })
            .collect()
    }

    /// Settings catalog policies (beta): some with more settings than Graph's page of 25.
    pub(super) fn configuration_policies(&mut self) {
        let mut rng = self.rng("configurationPolicies");
        let policies: [(&str, &str, &str, usize); 5] = [
            ("Windows - Security baseline (settings catalog)", "windows10", "mdm", 42),
            ("Windows - Microsoft Edge", "windows10", "mdm", 31),
            ("Windows - OneDrive Known Folder Move", "windows10", "mdm", 6),
            ("macOS - FileVault", "macOS", "mdm,appleRemoteManagement", 9),
            ("Windows - Defender Antivirus", "windows10", "mdm,microsoftSense", 18),
        ];
        for (name, platforms, technologies, settings) in policies {
            let id = rng.guid();
            let created = self.past(&mut rng, 30, 700);
            let modified = self.after(&mut rng, created, 200);
            let children: Vec<Value> = (0..settings).map(|i| setting(&mut rng, platforms, i)).collect();
            let assignments = self.settings_catalog_assignments(&mut rng, &id);
            let json = obj! {
                "id": id,
                "name": name,
                "description": "",
                "platforms": platforms,
                "technologies": technologies,
                "createdDateTime": ts(created),
                "lastModifiedDateTime": ts(modified),
                "settingCount": settings,
                "creationSource": NULL,
                "roleScopeTagIds": arr!["0"],
                "isAssigned": !assignments.is_empty(),
                "templateReference": obj!{ "templateId": "", "templateFamily": "none", "templateDisplayName": NULL, "templateDisplayVersion": NULL },
                "priorityMetaData": NULL,
            };
            self.put(
                "configurationPolicies",
                json,
                vec![("settings", Rel::Children(children)), ("assignments", Rel::Children(assignments))],
            );
        }
    }
}

impl Gen<'_> {
    /// Settings catalog compliance policies (beta), with their scheduled actions.
    pub(super) fn compliance_policies(&mut self) {
        let mut rng = self.rng("compliancePolicies");
        for (name, platforms, technologies, settings) in [
            ("Linux - Compliance", "linux", "linuxMdm", 4),
            ("Windows - Custom compliance (settings catalog)", "windows10", "mdm", 27),
        ] {
            let id = rng.guid();
            let created = self.past(&mut rng, 30, 500);
            let modified = self.after(&mut rng, created, 100);
            let children: Vec<Value> = (0..settings).map(|i| setting(&mut rng, platforms, i)).collect();
            let assignments = self.settings_catalog_assignments(&mut rng, &id);
            let scheduled = vec![obj! {
                "id": rng.guid(),
                "ruleName": NULL,
                "scheduledActionConfigurations": arr![obj!{
                    "id": rng.guid(),
                    "gracePeriodHours": 0,
                    "actionType": "block",
                    "notificationTemplateId": "",
                    "notificationMessageCCList": arr![],
                }],
            }];
            let json = obj! {
                "id": id,
                "name": name,
                "description": "",
                "platforms": platforms,
                "technologies": technologies,
                "createdDateTime": ts(created),
                "lastModifiedDateTime": ts(modified),
                "settingCount": settings,
                "creationSource": NULL,
                "roleScopeTagIds": arr!["0"],
                "isAssigned": !assignments.is_empty(),
            };
            self.put(
                "compliancePolicies",
                json,
                vec![
                    ("settings", Rel::Children(children)),
                    ("scheduledActionsForRule", Rel::Children(scheduled)),
                    ("assignments", Rel::Children(assignments)),
                ],
            );
        }
    }

    /// Administrative templates (beta): group policy configurations with definition values.
    pub(super) fn group_policy_configurations(&mut self) {
        let mut rng = self.rng("groupPolicyConfigurations");
        for (name, values) in
            [("Windows - Office administrative templates", 12), ("Windows - Edge administrative templates", 30)]
        {
            let id = rng.guid();
            let created = self.past(&mut rng, 30, 600);
            let modified = self.after(&mut rng, created, 100);
            let definition_values: Vec<Value> = (0..values)
                .map(|_| {
                    obj! {
                        "id": rng.guid(),
                        "createdDateTime": ts(created),
                        "lastModifiedDateTime": ts(modified),
                        "enabled": rng.chance(0.8),
                        "configurationType": "policy",
                    }
                })
                .collect();
            let assignments: Vec<Value> = self
                .intune_targets(&mut rng)
                .into_iter()
                .map(|(ty, group)| {
                    let mut target = Map::new();
                    target.insert("@odata.type".into(), J::j(ty));
                    if let Some(g) = &group {
                        target.insert("groupId".into(), J::j(g));
                    }
                    obj!{ "id": format!("{id}_{}", group.unwrap_or_else(|| "all".into())), "lastModifiedDateTime": ts(modified), "target": target }
                })
                .collect();
            let json = obj! {
                "id": id,
                "displayName": name,
                "description": "",
                "createdDateTime": ts(created),
                "lastModifiedDateTime": ts(modified),
                "roleScopeTagIds": arr!["0"],
                "policyConfigurationIngestionType": "builtIn",
            };
            self.put(
                "groupPolicyConfigurations",
                json,
                vec![
                    ("definitionValues", Rel::Children(definition_values)),
                    ("assignments", Rel::Children(assignments)),
                ],
            );
        }
    }

    /// Assignments of a settings catalog policy.
    fn settings_catalog_assignments(&self, rng: &mut Rng, policy: &str) -> Vec<Value> {
        self.intune_targets(rng)
            .into_iter()
            .map(|(ty, group)| {
                let mut target = Map::new();
                target.insert("@odata.type".into(), J::j(ty));
                target.insert("deviceAndAppManagementAssignmentFilterId".into(), Value::Null);
                target.insert("deviceAndAppManagementAssignmentFilterType".into(), J::j("none"));
                if let Some(g) = &group {
                    target.insert("groupId".into(), J::j(g));
                }
                obj!{
                    "id": format!("{policy}_{}", group.clone().unwrap_or_else(|| ty.trim_start_matches("#microsoft.graph.").to_string())),
                    "source": "direct",
                    "sourceId": policy,
                    "target": target,
                }
            })
            .collect()
    }
}

/// A settings catalog setting: a choice or a simple (integer or string) setting instance.
fn setting(rng: &mut Rng, platform: &str, i: usize) -> Value {
    let prefix = if platform == "macOS" { "com.apple.mcx.filevault2" } else { "device_vendor_msft_policy_config" };
    let areas =
        ["defender", "browser", "devicelock", "update", "localpoliciessecurityoptions", "firewall", "privacy", "power"];
    let area = areas[i % areas.len()];
    let definition = format!("{prefix}_{area}_setting{i}");
    let instance = match i % 3 {
        0 | 1 => obj! {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
            "settingDefinitionId": &definition,
            "settingInstanceTemplateReference": NULL,
            "choiceSettingValue": obj!{
                "settingValueTemplateReference": NULL,
                "value": format!("{definition}_{}", rng.below(2)),
                "children": arr![],
            },
        },
        _ => obj! {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance",
            "settingDefinitionId": definition,
            "settingInstanceTemplateReference": NULL,
            "simpleSettingValue": obj!{
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue",
                "settingValueTemplateReference": NULL,
                "value": 1 + rng.below(60),
            },
        },
    };
    obj! { "id": i.to_string(), "settingInstance": instance }
}

/// A BitLocker recovery password: eight blocks of six digits, each block a multiple of 11.
fn recovery_key(rng: &mut Rng) -> String {
    (0..8).map(|_| format!("{:06}", rng.below(65_536) * 11)).collect::<Vec<_>>().join("-")
}
