//! A tiny tenant held in memory, served by [`FixtureSource`]: what the sink suite backs up.

use std::collections::HashSet;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::catalog::{self, Category};
use crate::error::{Error, ErrorKind, Result};
use crate::source::{CategoryStats, Object, Source};

/// The fixture tenant: a few users, groups that link to them (members, owners) and the
/// organization singleton, with the shapes Graph gives them (references as `{"@odata.type", "id"}`).
pub fn fixture_objects() -> Vec<Object> {
    let users = catalog::get("users").expect("the catalog has users");
    let groups = catalog::get("groups").expect("the catalog has groups");
    let mut out = Vec::new();
    let user_id = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    for i in 0..5 {
        let json = json!({
            "id": user_id(i),
            "displayName": format!("Fixture User {i}"),
            "userPrincipalName": format!("fixture{i}@contoso.example"),
            "accountEnabled": i % 2 == 0,
            "businessPhones": [format!("+1 555 01{i:02}")],
            "jobTitle": if i == 0 { Value::Null } else { json!("Engineer") },
        });
        out.push(Object::new(users, json.as_object().cloned().unwrap_or_default()));
    }
    for g in 0..3 {
        let members: Vec<Value> = (0..5)
            .filter(|i| i % 3 != g)
            .map(|i| json!({"@odata.type": "#microsoft.graph.user", "id": user_id(i)}))
            .collect();
        let json = json!({
            "id": format!("10000000-0000-4000-8000-{g:012}"),
            "displayName": format!("Fixture Group {g}"),
            "mailEnabled": false,
            "mailNickname": format!("fixture-group-{g}"),
            "securityEnabled": true,
            "groupTypes": [],
            "members": members,
            "owners": [{"@odata.type": "#microsoft.graph.user", "id": user_id(0)}],
        });
        out.push(Object::new(groups, json.as_object().cloned().unwrap_or_default()));
    }
    out
}

/// A [`Source`] that serves a fixed list of objects, and fails the categories it is told to
/// (with a Graph error, as a refused permission would), so a sink can be shown a failed category.
#[derive(Debug, Clone)]
pub struct FixtureSource {
    objects: Vec<Object>,
    failing: HashSet<&'static str>,
    tenant_id: String,
}

impl FixtureSource {
    /// Serve `objects` as tenant `tenant_id`.
    pub fn new(tenant_id: impl Into<String>, objects: Vec<Object>) -> Self {
        FixtureSource { objects, failing: HashSet::new(), tenant_id: tenant_id.into() }
    }

    /// Make every read of `category` fail after sending nothing.
    pub fn failing(mut self, category: &'static Category) -> Self {
        self.failing.insert(category.name);
        self
    }

    /// The categories the objects belong to, in the catalog's order.
    pub fn categories(&self) -> Vec<&'static Category> {
        catalog::all().iter().filter(|c| self.objects.iter().any(|o| o.category.name == c.name)).collect()
    }
}

#[async_trait::async_trait]
impl Source for FixtureSource {
    async fn read(&self, category: &'static Category, out: &mpsc::Sender<Object>, stats: &CategoryStats) -> Result<()> {
        if self.failing.contains(category.name) {
            return Err(Error::new(ErrorKind::Permission, format!("the fixture refuses to list {}", category.name)));
        }
        for o in self.objects.iter().filter(|o| o.category.name == category.name) {
            stats.objects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if out.send(o.clone()).await.is_err() {
                return Err(Error::new(ErrorKind::Cancelled, "the sink stopped taking objects"));
            }
        }
        Ok(())
    }

    fn tenant_id(&self) -> Option<String> {
        Some(self.tenant_id.clone())
    }
}
