//! The use cases, for embedders, language bindings and the command-line tool: each a function over
//! the modules, with a `#[non_exhaustive]` request (options with `Default` and builder methods),
//! so that a front end stays conversion, glue and presentation.
//!
//! - [`Connection`]: how to reach and sign in to a tenant's Graph (client secret, certificate or
//!   token), which opens a [`GraphSource`] and a [`GraphRestorer`](crate::GraphRestorer);
//! - [`backup`], [`export`] and [`export_snapshot`]: a tenant into a repository or a folder, a
//!   snapshot into a folder;
//! - [`diff`]: a snapshot against another or against the live tenant ([`DiffWith`]);
//! - [`plan`] and [`restore`]: a restore's plan (a dry run), and the restore itself;
//! - [`check`], [`forget_with`] and [`prune`]: the repository's upkeep;
//! - and the older entry points the Python module uses: [`connect_with_token`], [`forget`] and
//!   [`read_objects`] (a snapshot's objects streamed in batches over several categories).

mod backup;
mod compare;
mod connection;
mod maintenance;
mod restoring;

pub use backup::{BackupRequest, ExportRequest, backup, export, export_snapshot};
pub use compare::{DiffRequest, DiffWith, diff};
pub use connection::Connection;
pub use maintenance::{CheckRequest, ForgetRequest, PruneRequest, check, forget_with, prune};
pub use restoring::{RestoreRequest, plan, restore};

use std::sync::Arc;

use futures::TryStreamExt;
use tokio::sync::mpsc;

use crate::Secret;
use crate::catalog::Category;
use crate::error::{Error, ErrorKind, Result};
use crate::graph::GraphClient;
use crate::graph::auth::{DEFAULT_GRAPH_URL, StaticToken};
use crate::graph::pacing::Pacer;
use crate::repo::Repository;
use crate::repo::prune::{ForgetDecision, KeepPolicy};
use crate::source::{GraphSource, Object, SnapshotSource, SourceOptions};

/// A [`GraphSource`] that sends `token` as it is (`az account get-access-token --resource-type
/// ms-graph`, a managed identity outside this crate) to `graph_url` (default: the public cloud).
/// The token is never refreshed: when Graph refuses it, reads fail with
/// [`ErrorKind::Authentication`]. `tenant_id` names the tenant in snapshots.
pub fn connect_with_token(
    token: Secret,
    tenant_id: &str,
    graph_url: Option<&str>,
    options: SourceOptions,
) -> Result<GraphSource> {
    let tenant_id = tenant_id.trim();
    if tenant_id.is_empty() {
        return Err(Error::invalid_input("a tenant id is needed with a token (the tenant the token is for)"));
    }
    if token.expose().trim().is_empty() {
        return Err(Error::invalid_input("the token is empty"));
    }
    let graph_url = graph_url.unwrap_or(DEFAULT_GRAPH_URL);
    crate::net::check_url("the Graph URL", graph_url)?;
    let http = crate::net::http_client()?;
    let client = GraphClient::new(http, graph_url, Arc::new(StaticToken::new(token)), Pacer::new(0));
    Ok(GraphSource::new(Arc::new(client), options).with_tenant_id(tenant_id))
}

/// Remove the snapshots `policy` does not keep, holding the prune lease meanwhile so that it never
/// races a prune's view of the snapshots (as `entra-backup forget` does).
pub async fn forget(repo: &Repository, policy: &KeepPolicy, dry_run: bool) -> Result<Vec<ForgetDecision>> {
    if policy.is_empty() {
        return Err(Error::invalid_input(
            "forget needs a policy: keep at least one of last, hourly, daily, weekly, monthly or yearly",
        ));
    }
    forget_with(repo, &ForgetRequest::default().policy(policy.clone()).dry_run(dry_run)).await
}

/// Send every object of `categories` (those the snapshot holds, in the order given) to `out`,
/// `batch` at a time, with secrets merged in when `secrets` (which needs the repository's secrets
/// key). Returns the number of objects sent. A receiver that went away ends the read with
/// [`ErrorKind::Cancelled`].
pub async fn read_objects(
    source: &SnapshotSource,
    categories: &[&'static Category],
    secrets: bool,
    batch: usize,
    out: &mpsc::Sender<Vec<Object>>,
) -> Result<u64> {
    if secrets && !source.repository().secrets_unlocked() {
        return Err(Error::new(ErrorKind::Authentication, "reading secrets needs the repository's secrets key"));
    }
    let batch = batch.max(1);
    let mut sent = 0u64;
    for &category in categories {
        let mut objects = source.objects_of(category, None, secrets);
        let mut chunk = Vec::with_capacity(batch);
        while let Some((id, json)) = objects.try_next().await? {
            chunk.push(Object { category, id, json });
            if chunk.len() == batch {
                sent += chunk.len() as u64;
                out.send(std::mem::replace(&mut chunk, Vec::with_capacity(batch)))
                    .await
                    .map_err(|_| Error::new(ErrorKind::Cancelled, "the reader stopped taking objects"))?;
            }
        }
        if !chunk.is_empty() {
            sent += chunk.len() as u64;
            out.send(chunk).await.map_err(|_| Error::new(ErrorKind::Cancelled, "the reader stopped taking objects"))?;
        }
    }
    Ok(sent)
}
