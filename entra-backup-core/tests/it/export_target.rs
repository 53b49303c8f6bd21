//! Where an export lands: never through a symbolic link, never mixed with an older export, never
//! half-written over a good one; and the same keys in the same order in every run.

use entra_backup::catalog::{self, RelationshipKind};
use entra_backup::pipeline::{self, Progress};
use entra_backup::source::SourceOptions;
use entra_backup_sim::{SimConfig, SimServer};

use common::sim_tenant::source;
use entra_backup_test_support as common;

/// Links are a Unix matter.
#[cfg(unix)]
mod target {
    use std::collections::BTreeMap;
    use std::path::Path;

    use entra_backup::ErrorKind;
    use entra_backup::catalog;
    use entra_backup::pipeline::{self, ExportOptions, Progress};
    use entra_backup::source::SourceOptions;
    use entra_backup_sim::{SimConfig, SimServer};

    use super::source;

    /// Every file under `dir` (relative path -> bytes); links are listed as `-> target`.
    fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.file_type().is_symlink() {
                    out.insert(rel, format!("-> {}", std::fs::read_link(&p).unwrap().display()).into_bytes());
                } else if meta.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    async fn export(sim: &SimServer, out: &Path, replace: bool, secret: &str) -> entra_backup::Result<()> {
        let src = source(sim, secret, SourceOptions::default());
        let cats = catalog::resolve(&["users", "organization"]).unwrap();
        let options = ExportOptions { replace, whole: false };
        let summary = pipeline::export_with(&src, out, &Progress::new(&cats), options).await?;
        assert!(summary.ok(), "{summary:#?}");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_export_never_follows_a_link_nor_mixes_with_old_files() {
        let sim = SimServer::start(SimConfig {
            users: 30,
            groups: 3,
            throttle: false,
            credentials: Some(("export-test".into(), "right".into())),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let base = tempfile::tempdir().unwrap();
        let out = base.path().join("out");
        export(&sim, &out, false, "right").await.unwrap();
        let users = sim.tenant().count("users");
        assert_eq!(std::fs::read_dir(out.join("users")).unwrap().count(), users);

        // A stale file, and a link planted where the next export writes the organization.
        let org = std::fs::read_dir(out.join("organization")).unwrap().next().unwrap().unwrap().path();
        let victim = base.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        std::fs::remove_file(&org).unwrap();
        std::os::unix::fs::symlink(&victim, &org).unwrap();
        std::fs::write(out.join("users/stale.json"), "{}").unwrap();
        let planted = tree(&out);

        // Without --force a folder that holds files is refused, and nothing changes.
        let err = export(&sim, &out, false, "right").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(tree(&out), planted);

        // A failed export (wrong credentials) leaves the folder as it was, and nothing beside it.
        let err = export(&sim, &out, true, "wrong").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
        assert_eq!(tree(&out), planted);
        let beside: Vec<String> =
            std::fs::read_dir(base.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        assert_eq!(beside.len(), 2, "no staging folder left: {beside:?}");

        // With --force the folder is replaced whole: no stale file, no link, the link's target intact.
        export(&sim, &out, true, "right").await.unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(std::fs::read_dir(out.join("users")).unwrap().count(), users, "one file per user");
        assert!(!out.join("users/stale.json").exists());
        assert!(!std::fs::symlink_metadata(&org).unwrap().file_type().is_symlink());
        assert!(std::fs::read_to_string(&org).unwrap().contains("\"id\""));
        let beside = std::fs::read_dir(base.path()).unwrap().count();
        assert_eq!(beside, 2, "the old export was removed");

        // The folder itself a link: refused, even with --force.
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        let err = export(&sim, &link, true, "right").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_export_that_must_be_whole_is_not_put_in_place_when_a_category_failed() {
        let granted = vec!["User.Read.All".to_string()];
        let config = SimConfig {
            users: 20,
            groups: 2,
            throttle: false,
            granted_permissions: Some(granted),
            ..SimConfig::default()
        };
        let sim = SimServer::start(config).await.unwrap();
        let base = tempfile::tempdir().unwrap();
        let out = base.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("kept.json"), "{}").unwrap();
        let before = tree(&out);
        let src = source(&sim, "any", SourceOptions::default());
        let cats = catalog::resolve(&["users", "conditionalAccessPolicies"]).unwrap();
        let options = ExportOptions { replace: true, whole: true };
        let summary = pipeline::export_with(&src, &out, &Progress::new(&cats), options).await.unwrap();
        assert_eq!(summary.failed_categories, 1, "{summary:#?}");
        assert_eq!(tree(&out), before, "a partial export never replaces a folder");
        assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 1, "no staging folder left");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_objects_keys_come_in_the_same_order_in_every_run() {
    // Faults make some `$batch` reads finish late: the order they finish in must not show.
    let sim = SimServer::start(SimConfig {
        seed: 11,
        users: 200,
        groups: 40,
        throttle: false,
        fault_rate: 0.1,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let cats = catalog::resolve(&["applications", "servicePrincipals", "groups"]).unwrap();
    let base = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for run in ["a", "b"] {
        let out = base.path().join(run);
        let src = source(&sim, "any", SourceOptions::default());
        let summary = pipeline::export(&src, &out, &Progress::new(&cats)).await.unwrap();
        assert!(summary.ok(), "{summary:#?}");
        runs.push(out);
    }
    let mut checked = 0;
    for cat in &cats {
        let rels: Vec<&str> =
            cat.relationships.iter().filter(|r| r.kind != RelationshipKind::Link).map(|r| r.name).collect();
        for e in std::fs::read_dir(runs[0].join(cat.name)).unwrap() {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
            let keys: Vec<&str> = object.keys().map(String::as_str).filter(|k| rels.contains(k)).collect();
            assert_eq!(keys, rels, "{}: relationships in the catalog's order", path.display());
            let other = std::fs::read_to_string(runs[1].join(cat.name).join(path.file_name().unwrap())).unwrap();
            assert_eq!(text, other, "{}: the same bytes in both runs", path.display());
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}
