//! `entra-backup demo`: the main job on an embedded default, told as a story (back up, damage,
//! compare, restore, compare again), over the same library calls as the other commands.

use std::io::IsTerminal;

use entra_backup::api::{self, Connection};
use entra_backup_sim::{SimConfig, SimServer};

use crate::TenantArgs;
use crate::exit::CliError;

/// The main job on an embedded default: start a simulated tenant, back it up into a local
/// encrypted repository, change 1% of it, back it up again incrementally, damage it, show the
/// difference, restore the whole tenant, and show what is back and what Graph would not restore.
pub(crate) async fn demo(args: TenantArgs, keep: Option<std::path::PathBuf>) -> Result<(), CliError> {
    use entra_backup::Secret;
    use entra_backup::repo::{Access, Repository, backend, crypto::KdfParams};

    let config = SimConfig {
        seed: args.seed,
        users: args.users,
        groups: args.groups,
        memberships: args.memberships,
        ..SimConfig::default()
    };
    let server = SimServer::start(config)
        .await
        .map_err(|e| CliError::new(crate::exit::Code::Graph, format!("cannot start the simulated tenant: {e}")))?;
    out!(
        "Simulated tenant {} at {} (seed {}, {} users, {} groups, Graph's throttling limits on)",
        server.tenant_id(),
        server.url(),
        args.seed,
        args.users,
        args.groups
    );
    let temp = tempfile::tempdir()
        .map_err(|e| CliError::new(crate::exit::Code::Repository, format!("cannot make a temporary folder: {e}")))?;
    let kept = keep.is_some();
    let dir = keep.unwrap_or_else(|| temp.path().join("repository"));
    let location = dir.display().to_string();
    let pass = |p: &str| Access::Passphrase(Secret::new(p));
    let store = backend::open(&location).map_err(CliError::from)?;
    let repo =
        Repository::init(store, &pass("demo passphrase"), Some(&pass("demo secrets passphrase")), KdfParams::default())
            .await
            .map_err(CliError::from)?;
    out!(
        "Encrypted repository at {location} (passphrase `demo passphrase`, secrets passphrase `demo secrets passphrase`)\n"
    );

    let connection = Connection::client_secret(server.tenant_id(), "demo-app", "demo-secret")
        .with_graph_url(server.url())
        .with_authority(server.url());
    // The demo's secrets key is trusted in its own temporary folder, not pinned in the user's home.
    let request = api::BackupRequest::default()
        .secrets(true)
        .secrets_recipient(entra_backup::repo::crypto::trust::SecretsRecipient::TrustDir(temp.path().join("trust")));
    for round in 1..=2 {
        if round == 2 {
            let churn = server.churn(0.01, 1);
            out!(
                "\nChanged {} objects of the tenant (1%): users, groups, devices, apps, new log records",
                churn.objects_touched
            );
        }
        let progress = request.progress();
        let display = std::io::stderr().is_terminal().then(|| crate::progress::start(progress.clone()));
        let result = api::backup(&connection, &repo, &request, &progress).await;
        if let Some(d) = display {
            d.stop().await;
        }
        let report = result.map_err(CliError::from)?;
        let s = &report.snapshot;
        let reads = |mode| s.categories.values().filter(|c| c.read == mode).count();
        out!(
            "Backup {round}: snapshot {} — {} objects in {} categories ({} read by delta, {} in full, {} logs since the last); \
             {} Graph requests; {} new blobs, {} KB written in {} storage writes; {:.1} s",
            &report.snapshot_id[..12],
            s.categories.values().map(|c| c.objects).sum::<u64>(),
            s.categories.len(),
            reads(entra_backup::repo::snapshot::ReadMode::Delta),
            reads(entra_backup::repo::snapshot::ReadMode::Full),
            reads(entra_backup::repo::snapshot::ReadMode::Since),
            s.summary.requests,
            s.summary.blobs_added,
            s.summary.bytes_added / 1024,
            s.summary.storage_writes,
            s.summary.duration_ms as f64 / 1000.0
        );
    }
    out!("\n{:<12}  {:<20}  {:>8}  {:<11}", "SNAPSHOT", "TIME", "OBJECTS", "KIND");
    let snapshots = repo.snapshots().await.map_err(CliError::from)?;
    for (id, s) in &snapshots {
        out!(
            "{:<12}  {:<20}  {:>8}  {:<11}",
            &id[..12],
            s.time.strftime("%Y-%m-%d %H:%M:%S"),
            s.categories.values().map(|c| c.objects).sum::<u64>(),
            if s.parent.is_some() { "incremental" } else { "full" }
        );
    }
    let latest = snapshots
        .last()
        .map(|(id, _)| id.clone())
        .ok_or_else(|| CliError::new(crate::exit::Code::Repository, "no snapshot"))?;

    // The disaster, the difference, the restore.
    out!("\n{}", demo_damage(&server));
    let snapshot = repo.open_snapshot(&latest, false).await.map_err(CliError::from)?;
    let before = demo_diff(&snapshot, &connection).await?;
    out!("\n`diff {} --live`: {}", &latest[..12], before);
    let whole = api::RestoreRequest::default();
    let report = api::restore(&connection, repo.clone(), &latest, &whole).await.map_err(CliError::from)?;
    let s = &report.summary;
    out!(
        "\n`restore {}` (the whole tenant, in dependency order): {} restored from the recycle bin, {} recreated with \
         new ids remapped everywhere, {} patched, {} relinked, {} failed; {} writes in {} requests, {:.1} s",
        &latest[..12],
        s.restored,
        s.recreated,
        s.patched,
        s.relinked,
        s.failed,
        s.writes,
        s.requests,
        s.duration_ms as f64 / 1000.0
    );
    for o in report.objects.iter().filter(|o| o.new_id.is_some()) {
        out!(
            "  recreated {:<24} {} -> {}  {}",
            o.category,
            o.id,
            o.new_id.as_deref().unwrap_or_default(),
            o.display_name.as_deref().unwrap_or_default()
        );
    }
    for c in &report.failed_categories {
        out!("  failed {:<27} the whole category: {}", c.category, c.error);
    }
    for o in report.objects.iter().filter(|o| !o.errors.is_empty()) {
        out!(
            "  failed {:<27} {}  {}: {}",
            o.category,
            o.id,
            o.display_name.as_deref().unwrap_or_default(),
            o.errors.join("; ")
        );
    }
    for p in &report.passwords {
        out!(
            "  new password for {} (shown once, to be changed at next sign-in): {}",
            p.user_principal_name,
            p.password
        );
    }
    let mut reasons: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    for o in &report.objects {
        for n in &o.not_restorable {
            let what = match &n.attribute {
                Some(a) => format!("{} {a}", o.display_name.as_deref().unwrap_or(&o.id)),
                None => o.display_name.clone().unwrap_or_else(|| o.id.clone()),
            };
            reasons.entry(n.reason.as_str()).or_default().push(what);
        }
    }
    for c in &report.categories {
        reasons.entry(c.reason.as_str()).or_default().push(format!("{} ({} objects)", c.category, c.objects));
    }
    out!("\nWhat Graph will not let anyone restore, and why:");
    for (reason, what) in &reasons {
        let more = if what.len() > 3 { format!(" and {} more", what.len() - 3) } else { String::new() };
        out!("  - {reason}: {}{more}", what[..what.len().min(3)].join(", "));
    }
    let after = demo_diff(&snapshot, &connection).await?;
    out!("\n`diff {} --live` after the restore: {}", &latest[..12], after);
    out!(
        "(recreated objects compare under their new ids; what still differs is what the list above says Graph sets or refuses)"
    );
    let again = api::restore(&connection, repo.clone(), &latest, &whole).await.map_err(CliError::from)?;
    out!("A second restore plans nothing and writes nothing: {} writes.", again.summary.writes);
    let report =
        api::check(&repo, &api::CheckRequest::default().read_data_percent(100.0)).await.map_err(CliError::from)?;
    out!(
        "\ncheck: {} snapshots, {} packs, {} blobs verified, {} errors",
        report.snapshots,
        report.packs,
        report.blobs_read,
        report.errors.len()
    );
    if kept {
        out!(
            "\nThe repository stays at {location}: `ENTRA_BACKUP_PASSWORD='demo passphrase' entra-backup snapshots --repo {location}`."
        );
    } else {
        out!("\nThe repository was temporary and is removed now; `demo --repo DIR` keeps it.");
    }
    out!("Back up a real tenant with `entra-backup init` and `entra-backup backup` (see README).");
    server.shutdown().await;
    Ok(())
}

/// Damage the demo's tenant as real tenants get damaged; returns one line saying what was done.
fn demo_damage(server: &SimServer) -> String {
    let now = server.state().clock.now();
    let mut t = server.tenant_mut();
    let cloud = |o: &entra_backup_sim::StoredObject| o.json["onPremisesSyncEnabled"] != true;
    let types = |o: &entra_backup_sim::StoredObject| -> Vec<String> {
        o.json["groupTypes"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
    };
    let users: Vec<String> = t.objects("users").filter(cloud).map(|o| o.id().to_string()).collect();
    let m365: Vec<String> = t
        .objects("groups")
        .filter(cloud)
        .filter(|g| types(g).contains(&"Unified".to_string()))
        .map(|o| o.id().to_string())
        .collect();
    let policies: Vec<serde_json::Value> =
        t.objects("conditionalAccessPolicies").map(|p| serde_json::Value::Object(p.json.clone())).collect();
    let security: Option<String> = t
        .objects("groups")
        .filter(cloud)
        .filter(|g| types(g).is_empty() && g.json["mailEnabled"] == false)
        .map(|o| o.id().to_string())
        .find(|g| policies.iter().any(|p| p["conditions"]["users"].to_string().contains(g.as_str())))
        .or_else(|| {
            t.objects("groups")
                .filter(cloud)
                .filter(|g| types(g).is_empty() && g.json["mailEnabled"] == false)
                .map(|o| o.id().to_string())
                .next()
        });
    let app = t.objects("applications").next().map(|a| (a.id().to_string(), a.json["appId"].clone()));
    let mut done = Vec::new();
    let soft: Vec<&String> = users.iter().step_by(10).collect();
    for u in &soft {
        let _ = t.soft_delete("users", u, now);
    }
    for g in m365.iter().take(2) {
        let _ = t.soft_delete("groups", g, now);
    }
    done.push(format!("soft-deleted {} users and {} Microsoft 365 groups", soft.len(), m365.len().min(2)));
    if let Some(g) = &security {
        let _ = t.remove("groups", g, entra_backup_sim::Removal::Deleted);
        done.push("deleted for good a security group that Conditional Access uses".into());
    }
    if let Some((id, app_id)) = app {
        let sps: Vec<String> =
            t.objects("servicePrincipals").filter(|s| s.json["appId"] == app_id).map(|s| s.id().to_string()).collect();
        let _ = t.remove("applications", &id, entra_backup_sim::Removal::Deleted);
        for sp in sps {
            let _ = t.remove("servicePrincipals", &sp, entra_backup_sim::Removal::Deleted);
        }
        done.push("an application with its service principal".into());
    }
    let changes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({"department": "Wrecked", "jobTitle": "Intern"})).unwrap_or_default();
    for u in users.iter().skip(1).step_by(10).take(5) {
        let _ = t.patch("users", u, &changes);
    }
    done.push("changed the department and job title of 5 users".into());
    let off: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({"state": "disabled"})).unwrap_or_default();
    let enabled: Vec<String> = policies
        .iter()
        .filter(|p| p["state"] == "enabled")
        .filter_map(|p| p["id"].as_str().map(String::from))
        .take(2)
        .collect();
    for p in &enabled {
        let _ = t.patch("conditionalAccessPolicies", p, &off);
    }
    done.push(format!("disabled {} Conditional Access policies", enabled.len()));
    let eligible: Vec<String> = t
        .objects("roleEligibilitySchedules")
        .filter(|s| s.json["memberType"] == "Direct")
        .filter(|s| s.json["principalId"].as_str().is_some_and(|p| !soft.iter().any(|u| u.as_str() == p)))
        .map(|s| s.id().to_string())
        .take(2)
        .collect();
    for s in &eligible {
        let _ = t.remove("roleEligibilitySchedules", s, entra_backup_sim::Removal::Deleted);
    }
    done.push(format!("removed {} PIM eligible role assignments", eligible.len()));
    format!("Damage: {}.", done.join("; "))
}

/// `diff --live` in one line: counts, and which categories differ.
async fn demo_diff(snapshot: &entra_backup::Snapshot, live: &Connection) -> Result<String, CliError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let collect = async move {
        let mut by: std::collections::BTreeMap<&'static str, usize> = Default::default();
        let mut attributes = std::collections::BTreeSet::new();
        while let Some(d) = rx.recv().await {
            let d: entra_backup::diff::ObjectDiff = d;
            *by.entry(d.category).or_default() += 1;
            attributes.extend(d.attributes.into_iter().map(|a| a.attribute));
        }
        (by, attributes)
    };
    let run = async move {
        let r = api::diff(snapshot, api::DiffWith::Live(live), &api::DiffRequest::default(), &tx).await;
        drop(tx);
        r
    };
    let (summary, (by, attributes)) = tokio::join!(run, collect);
    let s = summary.map_err(CliError::from)?;
    let cats: Vec<String> = by.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let attributes: Vec<String> = attributes.into_iter().collect();
    let attributes =
        if attributes.len() <= 8 { format!("; attributes: {}", attributes.join(", ")) } else { String::new() };
    Ok(format!(
        "{} added, {} removed, {} changed, {} unchanged{}{attributes}",
        s.added,
        s.removed,
        s.changed,
        s.unchanged,
        if cats.is_empty() { String::new() } else { format!(" ({})", cats.join(", ")) }
    ))
}
