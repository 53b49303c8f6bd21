//! The Rust side of benches/python_backup.py: read every object of a snapshot through the same core
//! call the Python iterators use (`api::read_objects`, batches of 256 parsed objects), and print one
//! JSON line: `{"objects": N, "seconds": S, "objects_per_second": R}`.
//!
//! `cargo bench -p entra-backup-py --bench python_iterate -- REPOSITORY [SNAPSHOT]`, with the
//! passphrase in ENTRA_BACKUP_PASSWORD (or a plaintext repository without it).

use std::time::Instant;

use entra_backup::repo::crypto::{PASSWORD_ENV, passphrase_from_env_or_file};
use entra_backup::repo::{Access, Repository, backend};
use entra_backup::source::SnapshotSource;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let Some(location) = args.first() else {
        eprintln!("usage: python_iterate REPOSITORY [SNAPSHOT]");
        std::process::exit(2);
    };
    let snapshot = args.get(1).map_or("latest", String::as_str);
    entra_backup::init_crypto();
    let access = match passphrase_from_env_or_file(PASSWORD_ENV, None).expect("the passphrase") {
        Some(p) => Access::Passphrase(p),
        None => Access::Plaintext,
    };
    let repo = Repository::open(backend::open_existing(location).expect("the repository"), &access)
        .await
        .expect("open the repository");
    let source = SnapshotSource::open(repo, snapshot, false).await.expect("the snapshot");
    let categories = source.categories();
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let read = async {
        let n = entra_backup::api::read_objects(&source, &categories, false, 256, &tx).await;
        drop(tx);
        n
    };
    let count = async {
        let mut n = 0u64;
        while let Some(batch) = rx.recv().await {
            n += batch.len() as u64;
            drop(batch);
        }
        n
    };
    let (sent, counted) = tokio::join!(read, count);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(sent.expect("read every object"), counted);
    println!(
        "{}",
        serde_json::json!({"objects": counted, "seconds": seconds, "objects_per_second": counted as f64 / seconds})
    );
}
