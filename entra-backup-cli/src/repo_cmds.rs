//! The repository commands: backup, snapshots, ls, show, export from a snapshot, check,
//! forget and prune. Each opens the repository from the flags and calls the library.

use std::path::PathBuf;

use entra_backup::api;
use entra_backup::catalog::{self, Category};
use entra_backup::repo::backend;
use entra_backup::repo::crypto::{PASSWORD_ENV, RawKey, SECRETS_PASSWORD_ENV, passphrase_from_env_or_file};
use entra_backup::repo::prune::KeepPolicy;
use entra_backup::repo::{Access, Repository};
use entra_backup::source::SnapshotSource;
use serde_json::Value;

use crate::ConnectionArgs;
use crate::exit::CliError;

/// Where the repository is and how to open it.
#[derive(clap::Args, Clone)]
pub(crate) struct RepoArgs {
    /// The repository: a local path, file:///path, s3://bucket/prefix, az://container/prefix,
    /// gs://bucket/prefix or memory://. Cloud options and credentials come from the environment.
    #[arg(long, env = "ENTRA_BACKUP_REPOSITORY")]
    pub repo: String,
    /// Read the passphrase from the first line of this file (instead of ENTRA_BACKUP_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Open with a raw key file (base64 of 32 bytes) instead of a passphrase.
    #[arg(long, conflicts_with = "password_file")]
    pub key_file: Option<PathBuf>,
    /// The repository is (or is to be) stored without encryption. Never the default.
    #[arg(long)]
    pub plaintext: bool,
}

/// How to open the secrets key (BitLocker keys).
#[derive(clap::Args, Clone)]
pub(crate) struct SecretsArgs {
    /// Read the secrets passphrase from this file (instead of ENTRA_BACKUP_SECRETS_PASSWORD).
    #[arg(long)]
    pub secrets_password_file: Option<PathBuf>,
    /// Open the secrets key with a raw key file.
    #[arg(long, conflicts_with = "secrets_password_file")]
    pub secrets_key_file: Option<PathBuf>,
}

fn e(err: entra_backup::Error) -> CliError {
    err.into()
}

impl RepoArgs {
    pub(crate) fn access(&self) -> Result<Access, CliError> {
        if let Some(path) = &self.key_file {
            return Ok(Access::Key(RawKey::read_file(path).map_err(e)?));
        }
        match passphrase_from_env_or_file(PASSWORD_ENV, self.password_file.as_deref()).map_err(e)? {
            Some(p) if self.plaintext => {
                drop(p);
                Err("--plaintext and a passphrase both given; choose one".into())
            }
            Some(p) => Ok(Access::Passphrase(p)),
            None if self.plaintext => Ok(Access::Plaintext),
            None => Err(CliError::usage(format!(
                "the repository passphrase is needed: set {PASSWORD_ENV}, or give --password-file or --key-file \
                 (or --plaintext for a repository without encryption)"
            ))),
        }
    }

    pub(crate) async fn open(&self) -> Result<Repository, CliError> {
        let store = backend::open_existing(&self.repo).map_err(e)?;
        Repository::open(store, &self.access()?).await.map_err(e)
    }
}

impl SecretsArgs {
    pub(crate) fn access(&self) -> Result<Option<Access>, CliError> {
        if let Some(path) = &self.secrets_key_file {
            return Ok(Some(Access::Key(RawKey::read_file(path).map_err(e)?)));
        }
        Ok(passphrase_from_env_or_file(SECRETS_PASSWORD_ENV, self.secrets_password_file.as_deref())
            .map_err(e)?
            .map(Access::Passphrase))
    }

    /// Unlock the secrets key if one is given; `Ok(false)` if none is.
    async fn unlock(&self, repo: &mut Repository) -> Result<bool, CliError> {
        match self.access()? {
            Some(access) => repo.unlock_secrets(&access).await.map(|()| true).map_err(e),
            None => Ok(repo.secrets_unlocked()),
        }
    }
}

fn resolve(categories: &[String]) -> Result<Vec<&'static Category>, CliError> {
    if categories.is_empty() {
        Ok(catalog::all().iter().collect())
    } else {
        Ok(catalog::resolve(categories).map_err(entra_backup::Error::from)?)
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn backup(
    repo: &RepoArgs,
    connection: &ConnectionArgs,
    categories: &[String],
    full: bool,
    tags: Vec<String>,
    (no_secrets, no_deltas): (bool, bool),
    json: bool,
    memory_budget: entra_backup::repo::spill::MemoryBudget,
) -> Result<(), CliError> {
    let cats = resolve(categories)?;
    let repository = repo.open().await?;
    let connection = connection.connection()?;
    let request = api::BackupRequest::default()
        .categories(cats)
        .full(full)
        .tags(tags)
        .secrets(!no_secrets)
        .deltas(!no_deltas)
        .memory_budget(memory_budget);
    let progress = request.progress();
    let display = (!json && std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .then(|| crate::progress::start(progress.clone()));
    let result = api::backup(&connection, &repository, &request, &progress).await;
    if let Some(d) = display {
        d.stop().await;
    }
    let report = result.map_err(e)?;
    for bad in &report.skipped_snapshots {
        eprintln!("{}", crate::unreadable::skipped_line(bad));
    }
    if json {
        crate::print_json(&report)?;
    } else {
        let s = &report.snapshot;
        out!(
            "{:<40} {:<8} {:>9} {:>7} {:>7} {:>7} {:>9}",
            "CATEGORY",
            "READ",
            "OBJECTS",
            "NEW",
            "CHANGED",
            "GONE",
            "REQUESTS"
        );
        for c in &report.summary.categories {
            let cs = s.categories.get(c.category);
            out!(
                "{:<40} {:<8} {:>9} {:>7} {:>7} {:>7} {:>9}",
                c.category,
                cs.map_or("failed".to_string(), |cs| format!("{:?}", cs.read).to_lowercase()),
                cs.map_or(0, |cs| cs.objects),
                cs.map_or(0, |cs| cs.added),
                cs.map_or(0, |cs| cs.changed),
                cs.map_or(0, |cs| cs.removed),
                c.requests - c.batches + c.batched
            );
        }
        out!(
            "\nsnapshot {} saved{}: {} objects; {} Graph requests; {} new blobs, {} bytes in {} storage writes; {:.1} s",
            &report.snapshot_id[..12],
            s.parent.as_deref().map(|p| format!(" (incremental from {})", &p[..12])).unwrap_or_default(),
            s.categories.values().map(|c| c.objects).sum::<u64>(),
            s.summary.requests,
            s.summary.blobs_added,
            s.summary.bytes_added,
            s.summary.storage_writes,
            s.summary.duration_ms as f64 / 1000.0
        );
    }
    for (name, why) in &report.snapshot.failed {
        eprintln!("failed: {name}: {why}");
    }
    if report.snapshot.failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::failures(format!(
            "{} categories could not be read; the snapshot keeps their previous data where it had any",
            report.snapshot.failed.len()
        )))
    }
}

pub(crate) async fn snapshots(repo: &RepoArgs, json: bool) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let listing = repository.snapshot_list().await.map_err(e)?;
    for bad in &listing.unreadable {
        eprintln!("{}", crate::unreadable::unreadable_line(bad));
    }
    let list = listing.snapshots;
    if json {
        let items: Vec<Value> = list
            .iter()
            .map(|(id, s)| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["id"] = Value::String(id.clone());
                v
            })
            .collect();
        crate::print_json(&items)?;
        return Ok(());
    }
    out!("{:<12}  {:<20}  {:<36}  {:>10}  {:>4}  {:<11}  TAGS", "ID", "TIME", "TENANT", "OBJECTS", "CATS", "KIND");
    for (id, s) in &list {
        out!(
            "{:<12}  {:<20}  {:<36}  {:>10}  {:>4}  {:<11}  {}",
            &id[..12],
            s.time.strftime("%Y-%m-%d %H:%M:%S"),
            s.tenant.domain.as_deref().unwrap_or(&s.tenant.id),
            s.categories.values().map(|c| c.objects).sum::<u64>(),
            s.categories.len(),
            if s.parent.is_some() { "incremental" } else { "full" },
            s.tags.join(",")
        );
    }
    out!("{} snapshots", list.len());
    Ok(())
}

pub(crate) async fn ls(repo: &RepoArgs, snapshot: &str, category: Option<&str>, json: bool) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let source = SnapshotSource::open(repository.clone(), snapshot, false).await.map_err(e)?;
    let snap = source.file();
    let Some(name) = category else {
        if json {
            crate::print_json(&snap.categories)?;
        } else {
            out!("snapshot {} of {} at {}", &source.id()[..12], snap.tenant.id, snap.time);
            out!("{:<40} {:>9} {:<8} READ AT", "CATEGORY", "OBJECTS", "READ");
            for (name, c) in &snap.categories {
                let read = format!("{:?}", c.read).to_lowercase();
                out!("{:<40} {:>9} {:<8} {}", name, c.objects, read, c.time);
            }
            for (name, why) in &snap.failed {
                out!("{name}: not read: {why}");
            }
        }
        return Ok(());
    };
    let cat =
        catalog::get(name).ok_or_else(|| catalog::resolve(&[name]).err().map(|e| e.to_string()).unwrap_or_default())?;
    if !snap.categories.contains_key(cat.name) {
        return Err(CliError::usage(format!("snapshot {} holds no {}", &source.id()[..12], cat.name)));
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let stats = entra_backup::source::CategoryStats::default();
    let reader = async move { entra_backup::source::Source::read(&source, cat, &tx, &stats).await };
    let printer = async {
        let mut rows = Vec::new();
        while let Some(o) = rx.recv().await {
            let o: entra_backup::source::Object = o;
            let name = ["displayName", "userPrincipalName", "name", "activityDisplayName"]
                .iter()
                .find_map(|k| o.json.get(*k).and_then(Value::as_str))
                .unwrap_or_default()
                .to_string();
            if json {
                rows.push(serde_json::json!({"id": o.id, "displayName": name}));
            } else {
                out!("{:<40} {}", o.id, name);
            }
        }
        rows
    };
    let (read, rows) = tokio::join!(reader, printer);
    read.map_err(e)?;
    if json {
        crate::print_json(&rows)?;
    }
    Ok(())
}

pub(crate) async fn show(
    repo: &RepoArgs,
    secrets: &SecretsArgs,
    snapshot: &str,
    category: &str,
    id: &str,
) -> Result<(), CliError> {
    let mut repository = repo.open().await?;
    let unlocked = secrets.unlock(&mut repository).await?;
    let cat = catalog::resolve(&[category]).map_err(|e| e.to_string())?[0];
    let source = SnapshotSource::open(repository, snapshot, unlocked).await.map_err(e)?;
    let object = source.object(cat, id).await.map_err(e)?.ok_or_else(|| {
        format!("snapshot {} holds no {} object {}", &source.id()[..12], cat.name, entra_backup::text::quote(id))
    })?;
    crate::print_json(&object)?;
    if !unlocked && !cat.secret_properties.is_empty() {
        eprintln!(
            "note: {} hidden; give the secrets key ({SECRETS_PASSWORD_ENV}, --secrets-password-file or --secrets-key-file) to show it",
            cat.secret_properties.join(", ")
        );
    }
    Ok(())
}

pub(crate) async fn export(
    repo: &RepoArgs,
    secrets: &SecretsArgs,
    snapshot: &str,
    out_dir: &std::path::Path,
    force: bool,
    json: bool,
) -> Result<(), CliError> {
    let mut repository = repo.open().await?;
    let unlocked = secrets.unlock(&mut repository).await?;
    let source = SnapshotSource::open(repository, snapshot, unlocked).await.map_err(e)?;
    let request = api::ExportRequest::default().replace(force);
    let summary = api::export_snapshot(&source, out_dir, &request).await.map_err(e)?;
    if !summary.ok() {
        let failed: Vec<String> = summary
            .categories
            .iter()
            .filter_map(|c| c.error.as_ref().map(|why| format!("{}: {why}", c.category)))
            .collect();
        return Err(CliError::new(
            crate::exit::Code::Repository,
            format!(
                "snapshot {} could not be exported whole ({}); {} was left as it was; run check",
                &source.id()[..12],
                failed.join("; "),
                out_dir.display()
            ),
        ));
    }
    if json {
        crate::print_json(&summary)?;
    } else {
        out!(
            "snapshot {} exported to {}: {} objects in {} categories{}",
            &source.id()[..12],
            out_dir.display(),
            summary.objects,
            summary.categories.len(),
            if unlocked { "" } else { " (secrets left out: no secrets key given)" }
        );
    }
    Ok(())
}

pub(crate) async fn check_cmd(repo: &RepoArgs, read_data: f64, json: bool) -> Result<(), CliError> {
    if !(0.0..=100.0).contains(&read_data) {
        return Err(CliError::usage(format!("--read-data takes a percentage from 0 to 100, not {read_data}")));
    }
    let repository = repo.open().await?;
    let report =
        api::check(&repository, &api::CheckRequest::default().read_data_percent(read_data)).await.map_err(e)?;
    if json {
        crate::print_json(&report)?;
    } else {
        for w in &report.warnings {
            out!("warning: {w}");
        }
        for err in &report.errors {
            out!("error: {err}");
        }
        out!(
            "{} snapshots, {} index files, {} packs, {} blobs; {} packs ({} blobs) read and verified",
            report.snapshots,
            report.indexes,
            report.packs,
            report.blobs,
            report.packs_read,
            report.blobs_read
        );
    }
    if report.ok() {
        Ok(())
    } else {
        Err(CliError::failures(format!("the repository is damaged: {} errors (listed above)", report.errors.len())))
    }
}

pub(crate) async fn forget(
    repo: &RepoArgs,
    policy: KeepPolicy,
    then_prune: bool,
    dry_run: bool,
    grace: jiff::SignedDuration,
    json: bool,
) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let request = api::ForgetRequest::default().policy(policy).dry_run(dry_run);
    let decisions = api::forget_with(&repository, &request).await.map_err(e)?;
    crate::unreadable::note_undecided(&repository, &decisions).await?;
    if json {
        crate::print_json(&decisions)?;
    } else {
        for d in &decisions {
            out!(
                "{} {}  {}  {}",
                if d.keep {
                    "keep  "
                } else if dry_run {
                    "would remove"
                } else {
                    "remove"
                },
                &d.id[..12],
                d.time.strftime("%Y-%m-%d %H:%M:%S"),
                d.reasons.join(",")
            );
        }
        out!(
            "{} kept, {} {}",
            decisions.iter().filter(|d| d.keep).count(),
            decisions.iter().filter(|d| !d.keep).count(),
            if dry_run { "would be removed" } else { "removed" }
        );
    }
    if then_prune {
        prune_cmd(repo, grace, dry_run, json).await?;
    }
    Ok(())
}

pub(crate) async fn prune_cmd(
    repo: &RepoArgs,
    grace: jiff::SignedDuration,
    dry_run: bool,
    json: bool,
) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let plan = api::prune(&repository, &api::PruneRequest::default().grace(grace).dry_run(dry_run)).await.map_err(e)?;
    if json {
        crate::print_json(&plan)?;
    } else {
        out!(
            "{}{} packs kept, {} repacked, {} newly marked unused, {} waiting out the grace period, {} deleted ({} bytes freed){}",
            if dry_run { "would be: " } else { "" },
            plan.keep.len(),
            plan.repack.len(),
            plan.mark.len(),
            plan.waiting.len(),
            plan.delete.len() + plan.delete_unindexed.len(),
            plan.bytes_freed,
            if plan.mark.is_empty() {
                String::new()
            } else {
                format!("; marked packs are deleted by a prune after {grace:#}")
            }
        );
    }
    Ok(())
}

/// Longest grace period: 100 years. Any longer overflows the timestamps it is added to.
const MAX_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_hours(100 * 365 * 24);

pub(crate) fn parse_grace(s: &str) -> Result<jiff::SignedDuration, String> {
    let d: jiff::SignedDuration = if s.trim() == "0" {
        jiff::SignedDuration::ZERO
    } else {
        s.parse().map_err(|_| format!("`{s}` is not a duration (like 24h, 30m or 0)"))?
    };
    if d.is_negative() {
        Err("a grace period cannot be negative".into())
    } else if d > MAX_GRACE {
        Err(format!("a grace period is at most {}h (100 years)", MAX_GRACE.as_hours()))
    } else {
        Ok(d)
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn diff(
    repo: &RepoArgs,
    snapshot: &str,
    other: Option<&str>,
    live: Option<&ConnectionArgs>,
    categories: &[String],
    id: Option<&str>,
    json: bool,
) -> Result<(), CliError> {
    use entra_backup::diff::DiffKind;
    let repository = repo.open().await?;
    let before = SnapshotSource::open(repository, snapshot, false).await.map_err(e)?;
    let cats = if categories.is_empty() { Vec::new() } else { resolve(categories)? };
    let request = api::DiffRequest::default().categories(cats).id(id.map(str::to_string));
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let printer = async move {
        let mut all = Vec::new();
        while let Some(d) = rx.recv().await {
            let d: entra_backup::diff::ObjectDiff = d;
            if json {
                all.push(d);
                continue;
            }
            let mark = match d.kind {
                DiffKind::Added => "+",
                DiffKind::Removed => "-",
                DiffKind::Changed => "~",
            };
            let mapped = d.new_id.as_ref().map(|n| format!(" (now {n})")).unwrap_or_default();
            out!("{mark} {:<28} {:<38} {}{mapped}", d.category, d.id, d.display_name.as_deref().unwrap_or_default());
            for a in &d.attributes {
                if a.added.is_empty() && a.removed.is_empty() {
                    let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), |v| v.to_string());
                    out!("    {}: {} -> {}", a.attribute, show(&a.before), show(&a.after));
                } else {
                    let refs: Vec<String> = a
                        .added
                        .iter()
                        .map(|i| format!("+{i}"))
                        .chain(a.removed.iter().map(|i| format!("-{i}")))
                        .collect();
                    out!("    {}: {}", a.attribute, refs.join(" "));
                }
            }
        }
        all
    };
    // Credentials are read before anything is compared.
    let connection = match (other, live) {
        (None, Some(connection)) => Some(connection.connection()?),
        _ => None,
    };
    let compare = async move {
        let with = match (other, &connection) {
            (Some(o), _) => api::DiffWith::Snapshot(o),
            (None, Some(connection)) => api::DiffWith::Live(connection),
            (None, None) => return Err(entra_backup::Error::invalid_input("give a second snapshot, or --live")),
        };
        let summary = api::diff(&before, with, &request, &tx).await;
        drop(tx);
        summary
    };
    let (summary, all) = tokio::join!(compare, printer);
    let summary = summary.map_err(e)?;
    let compared = summary.added + summary.removed + summary.changed + summary.unchanged;
    if let Some(id) = id
        && compared == 0
        && summary.failed_categories.is_empty()
    {
        return Err(CliError::usage(format!("neither side holds an object {id} (in the categories compared)")));
    }
    if json {
        let doc = serde_json::json!({"differences": all, "summary": summary});
        crate::print_json(&doc)?;
    } else {
        for f in &summary.failed_categories {
            out!("? {:<28} not compared: {}", f.category, f.error);
        }
        out!(
            "{} added, {} removed, {} changed, {} unchanged",
            summary.added,
            summary.removed,
            summary.changed,
            summary.unchanged
        );
    }
    if !summary.failed_categories.is_empty() {
        return Err(CliError::failures(format!(
            "{} categories could not be read from the tenant, so they were not compared (see above)",
            summary.failed_categories.len()
        )));
    }
    Ok(())
}

/// What `restore` was asked.
pub(crate) struct RestoreArgs<'a> {
    pub snapshot: &'a str,
    pub categories: &'a [String],
    pub ids: &'a [String],
    pub attributes: &'a [String],
    pub overwrite_relationships: bool,
    pub dry_run: bool,
    pub json: bool,
    /// `--extra-app` prefixes.
    pub extra_apps: &'a [String],
}

pub(crate) async fn restore(
    repo: &RepoArgs,
    connection: &ConnectionArgs,
    args: RestoreArgs<'_>,
) -> Result<(), CliError> {
    let repository = repo.open().await?;
    let categories = if args.categories.is_empty() { Vec::new() } else { resolve(args.categories)? };
    let connection = crate::extra_apps::with_extra_apps(connection.connection()?, args.extra_apps)?;
    let request = api::RestoreRequest::default()
        .categories(categories)
        .ids(args.ids.to_vec())
        .attributes(args.attributes.to_vec())
        .overwrite_relationships(args.overwrite_relationships);
    let tenant = connection.tenant_id().to_string();
    let report = if args.dry_run {
        api::plan(&connection, repository, args.snapshot, &request).await
    } else {
        api::restore(&connection, repository, args.snapshot, &request).await
    }
    .map_err(e)?;
    if args.json {
        crate::print_json(&report)?;
    } else {
        print_restore(&report, &tenant);
    }
    if report.failed() {
        let categories = match report.failed_categories.len() {
            0 => String::new(),
            n => format!(" and {n} categories"),
        };
        return Err(CliError::failures(format!(
            "{} objects{categories} failed to restore (see the report above)",
            report.summary.failed
        )));
    }
    Ok(())
}

/// The report for people: one line per object, then what could not be done and why.
pub(crate) fn print_restore(report: &entra_backup::restore::RestoreReport, tenant: &str) {
    use entra_backup::restore::Outcome;
    let short = |s: &str| s.chars().take(12).collect::<String>();
    if report.dry_run {
        out!("Plan to restore snapshot {} into tenant {tenant} (dry run: nothing is written)", short(&report.snapshot));
    } else {
        out!("Restore of snapshot {} into tenant {tenant}", short(&report.snapshot));
    }
    for o in &report.objects {
        let what = match (o.outcome, o.action) {
            (Outcome::Planned, Some(a)) => format!("{a:?}").to_lowercase(),
            (outcome, _) => format!("{outcome:?}").to_lowercase(),
        };
        let name = o.display_name.as_deref().unwrap_or_default();
        let id = match &o.new_id {
            Some(n) => format!("{} -> {n}", o.id),
            None => o.id.clone(),
        };
        out!("  {what:<15} {:<28} {id}  {name}", o.category);
        if !o.attributes.is_empty() {
            out!("      attributes: {}", o.attributes.join(", "));
        }
        let links: Vec<String> = o
            .links_added
            .iter()
            .map(|l| format!("+{l}"))
            .chain(o.links_removed.iter().map(|l| format!("-{l}")))
            .collect();
        if !links.is_empty() {
            let more = if links.len() > 6 { format!(" … ({} in all)", links.len()) } else { String::new() };
            out!("      links: {}{more}", links[..links.len().min(6)].join(" "));
        }
        for n in &o.not_restorable {
            out!(
                "      not restorable{}: {}",
                n.attribute.as_ref().map(|a| format!(" ({a})")).unwrap_or_default(),
                n.reason
            );
        }
        for err in &o.errors {
            out!("      failed: {err}");
        }
    }
    for c in &report.categories {
        out!("  not restorable  {:<28} {} objects: {}", c.category, c.objects, c.reason);
    }
    for c in &report.failed_categories {
        out!("  failed          {:<28} the whole category: {}", c.category, c.error);
    }
    let s = &report.summary;
    out!(
        "{} restored from the recycle bin, {} recreated, {} patched, {} relinked, {} unchanged, {} not restorable, {} failed{}; \
         {} writes in {} requests; {:.1} s",
        s.restored,
        s.recreated,
        s.patched,
        s.relinked,
        s.unchanged,
        s.not_restorable,
        s.failed,
        if report.dry_run { format!(", {} planned", s.planned) } else { String::new() },
        s.writes,
        s.requests,
        s.duration_ms as f64 / 1000.0
    );
    if !report.passwords.is_empty() {
        out!("\nPasswords of recreated users (shown only now; each must be changed at next sign-in):");
        for p in &report.passwords {
            out!("  {:<40} {}", p.user_principal_name, p.password);
        }
    }
}
