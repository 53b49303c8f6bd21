//! A simulated tenant as tests read it: a Graph source connected to it, and the check that a
//! folder in the export layout holds exactly its ground truth.

use std::collections::BTreeSet;

use entra_backup::Secret;
use entra_backup::catalog::{self, RelationshipKind};
use entra_backup::graph::auth::{ClientAuth, Credentials};
use entra_backup::source::{Endpoints, GraphSource, SourceOptions};
use entra_backup_sim::SimServer;
use serde_json::{Map, Value};

pub fn creds(sim: &SimServer, secret: &str) -> Credentials {
    Credentials {
        tenant_id: sim.tenant_id(),
        client_id: "export-test".into(),
        auth: ClientAuth::Secret(Secret::new(secret)),
        authority_host: None,
    }
}

pub fn source(sim: &SimServer, secret: &str, options: SourceOptions) -> GraphSource {
    let endpoints = Endpoints { graph_url: Some(sim.url().into()), authority_url: Some(sim.url().into()) };
    GraphSource::connect(&creds(sim, secret), &endpoints, options).unwrap()
}

/// Compare the export folder with the simulator's ground truth; returns the number of objects checked.
pub fn assert_equal_to_ground_truth(sim: &SimServer, dir: &std::path::Path, secrets: bool) -> usize {
    let sink = entra_backup::sink::JsonDirSink::new(dir);
    let t = sim.tenant();
    let mut checked = 0;
    for cat in catalog::all() {
        let files = std::fs::read_dir(dir.join(cat.name)).map(|d| d.count()).unwrap_or(0);
        // Reading BitLocker keys writes audit records while the export runs: those may be missing.
        let written_during = |o: &entra_backup_sim::StoredObject| o.json["activityDisplayName"] == "Read BitLocker key";
        let during = t.objects(cat.name).filter(|o| cat.name == "directoryAudits" && written_during(o)).count();
        assert!(files <= t.count(cat.name) && files + during >= t.count(cat.name), "{}: one file per object", cat.name);
        for obj in t.objects(cat.name) {
            let key =
                obj.json.get("id").or_else(|| obj.json.get("tenantId")).and_then(Value::as_str).unwrap().to_string();
            let path = sink.path_of(cat.name, &key);
            if cat.name == "directoryAudits" && written_during(&obj) && !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut exported: Map<String, Value> = serde_json::from_str(&text).unwrap();
            // Relationships: links as references, contained children whole.
            for rel in cat.relationships {
                let got = exported.remove(rel.name).unwrap_or_else(|| panic!("{}/{key}: no {}", cat.name, rel.name));
                let got = got.as_array().unwrap();
                match rel.kind {
                    RelationshipKind::Contained => {
                        let want: Vec<Value> =
                            obj.children.get(rel.name).into_iter().flatten().cloned().map(Value::Object).collect();
                        assert_eq!(got, &want, "{}/{key}/{}", cat.name, rel.name);
                    }
                    _ => {
                        let got: BTreeSet<(String, String)> = got
                            .iter()
                            .map(|r| {
                                (r["@odata.type"].as_str().unwrap().to_string(), r["id"].as_str().unwrap().to_string())
                            })
                            .collect();
                        let want: BTreeSet<(String, String)> = obj
                            .links(rel.name)
                            .iter()
                            .map(|r| (format!("#{}", catalog::get(r.category).unwrap().entity_type), r.id.clone()))
                            .collect();
                        assert_eq!(got, want, "{}/{key}/{}", cat.name, rel.name);
                    }
                }
            }
            // Properties: exactly the ground truth's (secrets only when asked for).
            let mut want = obj.json.clone();
            if !secrets {
                for p in cat.single_get_select {
                    want.remove(*p);
                }
            }
            if entra_backup::model::properties(cat.entity_type).is_some_and(|p| !p.contains(&"id")) {
                want.remove("id");
            }
            let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
            assert_eq!(keys(&exported), keys(&want), "{}/{key}: property names", cat.name);
            assert_eq!(Value::Object(exported), Value::Object(want), "{}/{key}", cat.name);
            checked += 1;
        }
    }
    checked
}

/// A simulated tenant served on a runtime of its own, so that the test thread can run the binary
/// against it; shut down on drop.
pub struct ServedTenant {
    rt: tokio::runtime::Runtime,
    sim: Option<SimServer>,
}

impl ServedTenant {
    pub fn start(config: entra_backup_sim::SimConfig) -> ServedTenant {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let sim = rt.block_on(SimServer::start(config)).unwrap();
        ServedTenant { rt, sim: Some(sim) }
    }

    pub fn sim(&self) -> &SimServer {
        self.sim.as_ref().unwrap()
    }
}

impl Drop for ServedTenant {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}
