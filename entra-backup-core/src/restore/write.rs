//! The executor's writes of one category, in the order a plan is carried out: objects back from
//! the recycle bin, missing ones created (or requested) twenty at a time with the id map kept
//! current, then the attributes and contained children of live objects. Links wait for the end
//! (`relink.rs`).

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::execute::{LinkOp, Run, Work};
use super::plan::{self, Action, Rel, ScheduleAction, Step};
use super::report::{NewPassword, NotRestorable};
use super::{Bind, Operation, schedule};
use crate::catalog::{Category, RelationshipKind, RelationshipWrite};
use crate::error::Error;
use crate::repo::idmap::{Pending, natural_key};

impl Run<'_> {
    /// Bring `from_bin` (snapshot id, report entry) back from the recycle bin. Returns the ids
    /// that came back; the others are failed and lost.
    pub(super) async fn undelete(&mut self, cat: &'static Category, from_bin: &[(String, usize)]) -> HashSet<String> {
        let mut back: HashSet<String> = HashSet::new();
        if from_bin.is_empty() {
            return back;
        }
        let ops = from_bin.iter().map(|(id, _)| Operation::Undelete { id: id.clone() }).collect();
        let answers = self.restorer.apply(cat, ops).await;
        for ((id, i), answer) in from_bin.iter().zip(answers) {
            match answer {
                Ok(_) => {
                    self.present.insert(id);
                    back.insert(id.clone());
                }
                Err(e) => {
                    self.report.objects[*i].fail(explain(&e));
                    self.lost.insert(id.clone());
                }
            }
        }
        back
    }

    /// Which `links` (ids mapped) of a created `object` its create request binds: at most 20, to
    /// objects that exist, owners first (members can be added twenty to a request later, owners
    /// only one at a time). Returns them and the links left for afterwards; the links of a
    /// dynamic group's members are neither.
    pub(super) fn binds(
        &self,
        cat: &'static Category,
        object: &Map<String, Value>,
        mut links: Vec<(Rel, String)>,
    ) -> (Vec<Bind>, Vec<(Rel, String)>) {
        let mut bind: Vec<Bind> = Vec::new();
        let mut rest = Vec::new();
        let mut bound = 0;
        links.sort_by_key(|(rel, _)| rel.name == "members");
        for (rel, target) in links {
            if plan::dynamic(cat, rel, object) {
                continue;
            }
            let bindable = matches!(rel.write, RelationshipWrite::Ref { bind_on_create: true });
            if bindable && bound < 20 && self.present.contains(target.as_str()) {
                match bind.iter_mut().find(|b| b.relationship.name == rel.name) {
                    Some(b) => b.targets.push(target),
                    None => bind.push(Bind { relationship: rel, targets: vec![target] }),
                }
                bound += 1;
            } else {
                rest.push((rel, target));
            }
        }
        (bind, rest)
    }

    /// Recreate (or request again) up to twenty objects in one go, keeping the id map current.
    pub(super) async fn create(&mut self, cat: &'static Category, chunk: &[(Step, usize)]) -> crate::Result<()> {
        let mut ops = Vec::new();
        let mut rests = Vec::new();
        let mut passwords = Vec::new();
        let mut bodies: Vec<Map<String, Value>> = Vec::new();
        let now = jiff::Timestamp::now();
        for (step, _) in chunk {
            let old = &step.id;
            // Ids recreated since the plan was made (in this category) are mapped now.
            let mut mapped = step.object.clone().unwrap_or_default();
            self.map.apply_map(&mut mapped);
            match &step.action {
                Action::RequestSchedule { schedule: s, .. } => {
                    let mut s = s.clone();
                    self.map.apply_map(&mut s);
                    let body = schedule::request(&s, ScheduleAction::Assign, self.snapshot.id(), now);
                    ops.push(Operation::RequestSchedule { body });
                    bodies.push(Map::new());
                    rests.push(Vec::new());
                    passwords.push(None);
                }
                Action::Create { body, links } => {
                    let mut body = body.clone();
                    self.map.apply_map(&mut body);
                    let links = links.iter().map(|l| (l.relationship, self.map.get(&l.target).to_string())).collect();
                    let (bind, rest) = self.binds(cat, &mapped, links);
                    if cat.restore.new_password {
                        let password = strong_password();
                        body.insert(
                            "passwordProfile".into(),
                            json!({"forceChangePasswordNextSignIn": true, "password": password.clone()}),
                        );
                        passwords.push(Some(password));
                    } else {
                        passwords.push(None);
                    }
                    bodies.push(body.clone());
                    ops.push(Operation::Create { body, bind });
                    rests.push(rest);
                }
                _ => continue,
            }
            self.map.pending.insert(old.clone(), Pending { category: cat.name.to_string(), key: natural_key(&mapped) });
        }
        // Recorded before sending: a create whose answer is lost is found again by its key.
        self.save_map().await?;
        let answers = self.restorer.apply(cat, ops).await;
        let mut follow = Vec::new();
        for (k, ((((step, i), answer), rest), password)) in
            chunk.iter().zip(answers).zip(rests).zip(passwords).enumerate()
        {
            let old = &step.id;
            let empty = Map::new();
            let object = step.object.as_ref().unwrap_or(&empty);
            let requested = matches!(step.action, Action::RequestSchedule { .. });
            match answer {
                Ok(created) => {
                    let new = created
                        .get("targetScheduleId")
                        .filter(|_| requested)
                        .or_else(|| created.get("id"))
                        .or_else(|| created.get("tenantId"))
                        .and_then(Value::as_str)
                        .unwrap_or(old)
                        .to_string();
                    self.map.insert(old, &new);
                    // A second id the service gave it (an application's appId) is remapped too.
                    if let Some(field) = cat.restore.also_remapped
                        && let (Some(a), Some(b)) =
                            (object.get(field).and_then(Value::as_str), created.get(field).and_then(Value::as_str))
                    {
                        self.map.insert(a, b);
                    }
                    self.present.insert(&new);
                    let r = &mut self.report.objects[*i];
                    r.new_id = Some(new.clone());
                    r.not_restorable.extend(plan::recreate_losses(cat, object));
                    if requested {
                        r.attributes.push("scheduleInfo".into());
                        r.not_restorable.push(NotRestorable {
                            attribute: Some("scheduleInfo".into()),
                            reason: schedule::STARTS_AGAIN.into(),
                        });
                        continue;
                    }
                    if let Some(password) = password {
                        self.report.passwords.push(NewPassword {
                            id: new.clone(),
                            user_principal_name: object
                                .get("userPrincipalName")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string(),
                            password,
                        });
                    }
                    for (rel, target) in rest {
                        self.links.push(LinkOp {
                            category: cat,
                            relationship: rel,
                            source: old.clone(),
                            target,
                            add: true,
                            report: *i,
                        });
                    }
                    // Values that held the object's own new ids (an application's identifierUris
                    // hold its appId) are known only now: patch them.
                    let Action::Create { body: planned, .. } = &step.action else { continue };
                    let mut again = planned.clone();
                    self.map.apply_map(&mut again);
                    let sent = &bodies[k];
                    let fix: Map<String, Value> =
                        again.into_iter().filter(|(key, v)| sent.get(key).is_some_and(|s| s != v)).collect();
                    let live = Some(new.clone());
                    if !fix.is_empty() {
                        let step =
                            Step { live: live.clone(), ..Step::new(old, object, Action::Patch { attributes: fix }) };
                        follow.push(Work { report: *i, steps: vec![step] });
                    }
                    // Contained children come back after their parent exists.
                    let mut mapped = object.clone();
                    self.map.apply_map(&mut mapped);
                    for rel in cat.relationships.iter().filter(|r| r.kind == RelationshipKind::Contained) {
                        if let Some(children) =
                            mapped.get(rel.name).filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                        {
                            let action =
                                Action::Children { relationship: rel, want: children.clone(), have: json!([]) };
                            let step = Step { live: live.clone(), ..Step::new(old, object, action) };
                            follow.push(Work { report: *i, steps: vec![step] });
                        }
                    }
                }
                Err(e) => {
                    // Graph answered no: nothing was created. Without an answer it may have been,
                    // so the pending entry stays for the next run to find.
                    if e.status().is_some() {
                        self.map.pending.remove(old);
                    }
                    self.lost.insert(old.clone());
                    self.report.objects[*i].fail(explain(&e));
                }
            }
        }
        self.save_map().await?;
        self.patch(cat, follow).await;
        Ok(())
    }

    /// Patch live objects and write their contained children; links wait for the end.
    pub(super) async fn patch(&mut self, cat: &'static Category, work: Vec<Work>) {
        let mut ops = Vec::new();
        let mut owners = Vec::new();
        let now = jiff::Timestamp::now();
        for w in work {
            for step in w.steps {
                let Some(live) = step.live.clone() else { continue };
                let add = matches!(step.action, Action::Link { .. });
                match step.action {
                    Action::Patch { attributes: mut patch } => {
                        // Ids recreated since this object was compared (in its own category) are
                        // mapped now.
                        self.map.apply_map(&mut patch);
                        let names = patch.keys().filter(|k| !k.starts_with('@')).cloned().collect::<Vec<_>>();
                        ops.push(Operation::Patch { id: live, body: patch, bind: Vec::new() });
                        owners.push((w.report, names));
                    }
                    Action::RequestSchedule { request: ScheduleAction::Update, schedule: mut patch } => {
                        self.map.apply_map(&mut patch);
                        let body = schedule::request(&patch, ScheduleAction::Update, self.snapshot.id(), now);
                        ops.push(Operation::RequestSchedule { body });
                        owners.push((w.report, vec!["scheduleInfo".to_string()]));
                    }
                    Action::Children { relationship, mut want, have } => {
                        self.map.apply(&mut want);
                        for op in contained_ops(relationship, &live, &want, &have, self.options.overwrite_relationships)
                        {
                            ops.push(op);
                            owners.push((w.report, vec![relationship.name.to_string()]));
                        }
                    }
                    Action::Link { relationship, target } | Action::Unlink { relationship, target } => {
                        self.links.push(LinkOp {
                            category: cat,
                            relationship,
                            source: step.id.clone(),
                            target,
                            add,
                            report: w.report,
                        });
                    }
                    _ => {}
                }
            }
        }
        if ops.is_empty() {
            return;
        }
        let removes: Vec<bool> = ops.iter().map(Operation::removes).collect();
        let answers = self.restorer.apply(cat, ops).await;
        for (((i, attributes), answer), removes) in owners.into_iter().zip(answers).zip(removes) {
            let r = &mut self.report.objects[i];
            match answer {
                // A child already gone counts as removed.
                Err(e) if removes && already(&e, true) => {}
                Ok(_) => {
                    for a in attributes {
                        if !r.attributes.contains(&a) {
                            r.attributes.push(a);
                        }
                    }
                }
                Err(e) => r.fail(e.to_string()),
            }
        }
    }
}

/// Graph's error, with what the operator can do when Graph v1.0 offers no way around it.
fn explain(e: &Error) -> String {
    let mut why = e.to_string();
    if e.status() == Some(400) && e.message().contains("same value for property userPrincipalName") {
        // A user is restored (or recreated) only under its own name.
        why.push_str(
            " (another user now has its userPrincipalName: rename or delete that user, then run the restore again)",
        );
    }
    why
}

/// Whether Graph refused a write because it was already done: a link already there, or (for a
/// removal) a link or child already gone.
pub(super) fn already(e: &Error, removes: bool) -> bool {
    let m = e.message();
    (!removes && e.status() == Some(400) && m.contains("already exist")) || (removes && e.status() == Some(404))
}

/// The operations that put contained children back: an action that replaces the set (Intune
/// `assign`), or the missing children created one by one, and with `exact` those the snapshot
/// lacks deleted.
fn contained_ops(rel: Rel, parent: &str, want: &Value, have: &Value, exact: bool) -> Vec<Operation> {
    let clean = |v: &Value| {
        let mut v = v.clone();
        if let Value::Object(m) = &mut v {
            m.retain(|k, _| k != "id" && (!k.starts_with('@') || k == "@odata.type"));
        }
        v
    };
    let parent = parent.to_string();
    match &rel.write {
        RelationshipWrite::Action { .. } => {
            let children: Vec<Value> = want.as_array().into_iter().flatten().map(clean).collect();
            vec![Operation::ReplaceChildren { parent, relationship: rel, children }]
        }
        RelationshipWrite::Children => {
            let want: Vec<Value> = want.as_array().into_iter().flatten().map(clean).collect();
            let have_clean: Vec<Value> = have.as_array().into_iter().flatten().map(clean).collect();
            let mut ops: Vec<Operation> = want
                .iter()
                .filter(|c| !have_clean.contains(c))
                .map(|c| Operation::AddChild { parent: parent.clone(), relationship: rel, child: c.clone() })
                .collect();
            // Children the snapshot lacks go, by their id. Allowed values of a custom security
            // attribute cannot be deleted (only deactivated), so they stay.
            if exact && rel.name != "allowedValues" {
                for (child, c) in have.as_array().into_iter().flatten().zip(&have_clean) {
                    if let Some(id) = child.get("id").and_then(Value::as_str)
                        && !want.contains(c)
                    {
                        ops.push(Operation::RemoveChild {
                            parent: parent.clone(),
                            relationship: rel,
                            child: id.to_string(),
                        });
                    }
                }
            }
            ops
        }
        _ => Vec::new(),
    }
}

/// A strong random password (20 characters from upper, lower, digits and symbols, each class
/// present) for a recreated user, who must change it at next sign-in.
fn strong_password() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    const CLASSES: [&[u8]; 4] =
        [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"!#$%&*+-=?@^_~"];
    let rng = SystemRandom::new();
    let all: Vec<u8> = CLASSES.concat();
    // Bytes past the largest multiple of the alphabet's size are dropped, so every character is
    // equally likely.
    let limit = (256 / all.len() * all.len()) as u8;
    loop {
        let mut bytes = [0u8; 64];
        if rng.fill(&mut bytes).is_err() {
            continue;
        }
        let p: String =
            bytes.iter().filter(|b| **b < limit).take(20).map(|b| all[*b as usize % all.len()] as char).collect();
        if p.len() < 20 {
            continue;
        }
        if CLASSES.iter().all(|c| p.bytes().any(|b| c.contains(&b))) {
            return p;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_mixed() {
        let a = strong_password();
        assert_eq!(a.len(), 20);
        assert_ne!(a, strong_password());
        assert!(a.chars().any(|c| c.is_ascii_digit()) && a.chars().any(|c| c.is_ascii_uppercase()));
    }
}
