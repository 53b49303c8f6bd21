//! PIM schedules (`roleEligibilitySchedules`, `roleAssignmentSchedules`): Graph has no create or
//! update on a schedule; an administrator writes a *schedule request* (`adminAssign`,
//! `adminUpdate`) and Entra ID makes or changes the schedule, under a new id. This module decides
//! which schedules a request may bring back and builds the requests.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::catalog::{Category, Pim as CatalogPim};

/// Why a restored schedule's start differs from the snapshot's.
pub(super) const STARTS_AGAIN: &str =
    "a schedule put back by request starts when it is put back; it ends when the snapshot's did";
/// Why a schedule whose principal is gone is not requested.
pub(super) const PRINCIPAL_LOST: &str = "its principal was deleted and could not be brought back";
/// Why an activation is not restored.
pub(super) const ACTIVATION: &str =
    "an activation of an eligible assignment: only its holder can activate it again (the eligibility is restored)";
/// Why a time-bound role assignment waits for its schedule.
pub(super) const THROUGH_SCHEDULE: &str = "a time-bound PIM assignment: it is restored through its schedule \
     (roleAssignmentSchedules) with its end, never as a permanent assignment";

/// Which schedule request brings a PIM schedule back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ScheduleAction {
    /// Make a missing schedule again.
    #[serde(rename = "adminAssign")]
    Assign,
    /// Put a live schedule's `scheduleInfo` back.
    #[serde(rename = "adminUpdate")]
    Update,
}

impl ScheduleAction {
    /// The request's `action`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleAction::Assign => "adminAssign",
            ScheduleAction::Update => "adminUpdate",
        }
    }
}

/// How an active assignment that is not permanent came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pim {
    /// Assigned by an administrator until a date.
    TimeBound,
    /// Activated by its holder from an eligibility.
    Activation,
    /// Assigned until a date now past.
    Expired,
}

/// What names a schedule in a request.
pub(super) const IDENTITY: [&str; 4] = ["principalId", "roleDefinitionId", "directoryScopeId", "appScopeId"];

/// Why a missing schedule must not be requested again, if it must not.
pub(super) fn refusal(cat: &Category, schedule: &Map<String, Value>, now: Timestamp) -> Option<String> {
    let text = |k: &str| schedule.get(k).and_then(Value::as_str).unwrap_or_default();
    if text("memberType").eq_ignore_ascii_case("inherited") {
        return Some(
            "inherited through a role-assignable group: it comes back with the group's own schedule and membership"
                .into(),
        );
    }
    if cat.pim == (CatalogPim::Schedules { activations: true })
        && text("assignmentType").eq_ignore_ascii_case("activated")
    {
        return Some(ACTIVATION.into());
    }
    match end(schedule) {
        Some(end) if end <= now => Some(format!("expired at {end}, after the snapshot was taken")),
        _ => None,
    }
}

/// An active schedule's kind, when it is not a permanent assignment (and has not expired).
pub(super) fn pim_kind(schedule: &Map<String, Value>, now: Timestamp) -> Option<Pim> {
    let activated =
        schedule.get("assignmentType").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("activated"));
    match end(schedule) {
        _ if activated => Some(Pim::Activation),
        Some(end) if end > now => Some(Pim::TimeBound),
        Some(_) => Some(Pim::Expired),
        None => None,
    }
}

/// The body of the request that makes `schedule` (ids already mapped) exist again:
/// `adminAssign`, or `adminUpdate` to put back its `scheduleInfo`.
pub(super) fn request(
    schedule: &Map<String, Value>,
    action: ScheduleAction,
    snapshot: &str,
    now: Timestamp,
) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("action".into(), json!(action.as_str()));
    for k in IDENTITY {
        if let Some(v) = schedule.get(k).filter(|v| !v.is_null()) {
            body.insert(k.into(), v.clone());
        }
    }
    body.insert("justification".into(), json!(format!("Restored by entra-backup from snapshot {snapshot}")));
    body.insert("scheduleInfo".into(), schedule_info(schedule, now));
    body
}

/// The snapshot's schedule as a request states it. A request cannot start in the past (a schedule
/// put back today starts today), so a past start becomes now, and an expiry after a duration
/// becomes the date it would have ended, so restoring never lengthens an assignment.
fn schedule_info(schedule: &Map<String, Value>, now: Timestamp) -> Value {
    let info = schedule.get("scheduleInfo").and_then(Value::as_object);
    let start = info.and_then(|i| i.get("startDateTime")).and_then(Value::as_str).and_then(|s| s.parse().ok());
    let start = start.filter(|s: &Timestamp| *s > now).unwrap_or(now);
    let expiration = match end(schedule) {
        Some(end) => json!({"type": "afterDateTime", "endDateTime": end.to_string()}),
        None => json!({"type": "noExpiration"}),
    };
    json!({"startDateTime": start.to_string(), "expiration": expiration})
}

/// When a schedule ends, if it does.
pub(super) fn end(schedule: &Map<String, Value>) -> Option<Timestamp> {
    let info = schedule.get("scheduleInfo")?.as_object()?;
    let exp = info.get("expiration")?.as_object()?;
    let text = |k: &str| exp.get(k).and_then(Value::as_str);
    match text("type").unwrap_or_default().to_ascii_lowercase().as_str() {
        "afterdatetime" => text("endDateTime")?.parse().ok(),
        "afterduration" => {
            let start: Timestamp = info.get("startDateTime")?.as_str()?.parse().ok()?;
            let duration: SignedDuration = text("duration")?.parse().ok()?;
            start.checked_add(duration).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn schedule(extra: Value) -> Map<String, Value> {
        let mut s = json!({
            "id": "s1", "principalId": "p", "roleDefinitionId": "r", "directoryScopeId": "/",
            "memberType": "Direct", "appScopeId": null,
            "scheduleInfo": {"startDateTime": "2025-01-01T00:00:00Z", "recurrence": null,
                "expiration": {"type": "afterDuration", "duration": "PT240H", "endDateTime": null}},
        });
        if let (Some(s), Some(e)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        s.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn what_may_be_requested_again() {
        let eligible = catalog::get("roleEligibilitySchedules").unwrap();
        let active = catalog::get("roleAssignmentSchedules").unwrap();
        let before: Timestamp = "2025-01-05T00:00:00Z".parse().unwrap();
        let after: Timestamp = "2025-02-01T00:00:00Z".parse().unwrap();
        assert_eq!(refusal(eligible, &schedule(json!({})), before), None);
        assert!(refusal(eligible, &schedule(json!({})), after).unwrap().contains("expired at 2025-01-11T00:00:00Z"));
        assert!(refusal(eligible, &schedule(json!({"memberType": "Inherited"})), before).unwrap().contains("group"));
        assert!(
            refusal(active, &schedule(json!({"assignmentType": "Activated"})), before).unwrap().contains("activation")
        );
        let forever = json!({"scheduleInfo": {"startDateTime": "2020-01-01T00:00:00Z",
            "expiration": {"type": "noExpiration"}}});
        assert_eq!(refusal(active, &schedule(forever), after), None);
    }

    #[test]
    fn active_assignments_that_are_not_permanent() {
        let now: Timestamp = "2025-01-05T00:00:00Z".parse().unwrap();
        assert_eq!(pim_kind(&schedule(json!({"assignmentType": "Assigned"})), now), Some(Pim::TimeBound));
        assert_eq!(pim_kind(&schedule(json!({"assignmentType": "Activated"})), now), Some(Pim::Activation));
        let later: Timestamp = "2025-03-01T00:00:00Z".parse().unwrap();
        assert_eq!(pim_kind(&schedule(json!({"assignmentType": "Assigned"})), later), Some(Pim::Expired));
        let forever = json!({"assignmentType": "Assigned", "scheduleInfo": {"expiration": {"type": "noExpiration"}}});
        assert_eq!(pim_kind(&schedule(forever), now), None);
    }

    #[test]
    fn a_request_starts_now_and_never_lengthens_the_schedule() {
        let eligible = catalog::get("roleEligibilitySchedules").unwrap();
        let now: Timestamp = "2025-01-05T00:00:00Z".parse().unwrap();
        let body = request(&schedule(json!({})), ScheduleAction::Assign, "snap1", now);
        assert_eq!(catalog::urls::create(eligible), "/roleManagement/directory/roleEligibilityScheduleRequests");
        assert_eq!(body["action"], "adminAssign");
        assert_eq!(body["principalId"], "p");
        assert!(body.get("appScopeId").is_none(), "nulls are not sent");
        assert_eq!(body["scheduleInfo"]["startDateTime"], "2025-01-05T00:00:00Z");
        assert_eq!(body["scheduleInfo"]["expiration"]["endDateTime"], "2025-01-11T00:00:00Z");
        assert!(body["justification"].as_str().unwrap().contains("snap1"));
        // A schedule is known across its ids by who holds which role where.
        assert_eq!(
            crate::repo::idmap::natural_key(&schedule(json!({}))),
            "principalId=p\u{1f}roleDefinitionId=r\u{1f}directoryScopeId=/"
        );
    }
}
