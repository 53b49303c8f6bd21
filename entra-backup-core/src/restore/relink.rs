//! Links, added and removed at the end of a restore, once every object exists: group members
//! twenty to a write, other references one each.

use std::collections::BTreeMap;

use super::execute::{LinkOp, Run};
use super::report::NotRestorable;
use super::write::already;
use super::{Bind, Operation};
use crate::catalog::RelationshipWrite;

impl Run<'_> {
    /// Add and remove the links the plan queued.
    pub(super) async fn relink(&mut self) -> crate::Result<()> {
        let ops = std::mem::take(&mut self.links);
        if self.options.dry_run {
            return Ok(());
        }
        // Group by category (each writes in its own throttling family).
        let mut by_cat: BTreeMap<u16, Vec<LinkOp>> = BTreeMap::new();
        for op in ops {
            if op.add && self.lost.contains(&op.target) {
                let r = &mut self.report.objects[op.report];
                r.not_restorable.push(NotRestorable {
                    attribute: Some(op.relationship.name.to_string()),
                    reason: format!("{} was deleted and could not be brought back", op.target),
                });
                continue;
            }
            by_cat.entry(op.category.order).or_default().push(op);
        }
        for (_, ops) in by_cat {
            let cat = ops[0].category;
            // (operation, the link ops it carries)
            let mut writes: Vec<(Operation, Vec<usize>)> = Vec::new();
            let mut binds: BTreeMap<(String, &str), Vec<usize>> = BTreeMap::new();
            for (k, op) in ops.iter().enumerate() {
                let id = self.map.get(&op.source).to_string();
                let target = self.map.get(&op.target).to_string();
                let relationship = op.relationship;
                match (op.add, &op.relationship.write) {
                    (true, RelationshipWrite::Ref { bind_on_create: true }) if op.relationship.name == "members" => {
                        binds.entry((id, op.relationship.name)).or_default().push(k);
                    }
                    (true, _) => writes.push((Operation::Link { id, relationship, target }, vec![k])),
                    (false, _) => writes.push((Operation::Unlink { id, relationship, target }, vec![k])),
                }
            }
            for ((id, _), ks) in binds {
                for chunk in ks.chunks(20) {
                    let relationship = ops[chunk[0]].relationship;
                    let targets = chunk.iter().map(|k| self.map.get(&ops[*k].target).to_string()).collect();
                    let bind = vec![Bind { relationship, targets }];
                    let patch = Operation::Patch { id: id.clone(), body: serde_json::Map::new(), bind };
                    writes.push((patch, chunk.to_vec()));
                }
            }
            let (list, carried): (Vec<Operation>, Vec<Vec<usize>>) = writes.into_iter().unzip();
            let removes: Vec<bool> = list.iter().map(Operation::removes).collect();
            let answers = self.restorer.apply(cat, list).await;
            let mut retry: Vec<usize> = Vec::new();
            for ((removes, ks), answer) in removes.into_iter().zip(&carried).zip(answers) {
                match answer {
                    Ok(_) => ks.iter().for_each(|k| self.linked(&ops[*k])),
                    // Already there (a link restored with its object, or an earlier run): nothing to do.
                    Err(e) if already(&e, removes) => {
                        if ks.len() > 1 {
                            retry.extend(ks);
                        }
                    }
                    Err(e) => {
                        for k in ks {
                            self.report.objects[ops[*k].report].fail(e.to_string());
                        }
                    }
                }
            }
            // A bind of twenty refused because one was already there: one reference at a time.
            if !retry.is_empty() {
                let list: Vec<Operation> = retry
                    .iter()
                    .map(|k| {
                        let op = &ops[*k];
                        Operation::Link {
                            id: self.map.get(&op.source).to_string(),
                            relationship: op.relationship,
                            target: self.map.get(&op.target).to_string(),
                        }
                    })
                    .collect();
                let answers = self.restorer.apply(cat, list).await;
                for (k, answer) in retry.into_iter().zip(answers) {
                    match answer {
                        Ok(_) => self.linked(&ops[k]),
                        Err(e) if already(&e, false) => {}
                        Err(e) => self.report.objects[ops[k].report].fail(e.to_string()),
                    }
                }
            }
        }
        Ok(())
    }

    fn linked(&mut self, op: &LinkOp) {
        let target = self.map.get(&op.target).to_string();
        let r = &mut self.report.objects[op.report];
        let s = format!("{}:{target}", op.relationship.name);
        if op.add { r.links_added.push(s) } else { r.links_removed.push(s) }
    }
}
