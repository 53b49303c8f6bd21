//! No category name is spelled as a string literal in the library's code paths, the command line or
//! the Python glue: what a category does is a field of the catalog, so a new category needs no
//! `if name == "…"` anywhere else (issue 13). Tests, the catalog itself, the generated model, the
//! scripted demo incident (it drives the simulator's tenant by name) and the simulator (a test
//! double imitating Graph per resource) are outside the rule.

use std::path::{Path, PathBuf};

use entra_backup::catalog;

/// Files the rule leaves out, relative to the workspace root, and why.
const EXEMPT: &[(&str, &str)] = &[
    ("entra-backup-core/src/catalog", "the catalog is the one home of category names"),
    ("entra-backup-core/src/model/generated.rs", "generated from the schema"),
    ("entra-backup-core/src/testing", "conformance suites build a fixture tenant"),
    ("entra-backup-cli/src/demo.rs", "the scripted incident changes the simulated tenant by category"),
    ("entra-backup-py/src/sim.rs", "SimServer's parameters are called users and groups"),
];

/// `(line, literal)` for every string literal of `source` that is a category name, outside
/// comments and outside `#[cfg(test)]` modules (which close a file in this code base).
fn literals_in(source: &str, names: &[&str]) -> Vec<(usize, String)> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = Vec::new();
    for (i, line) in code.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        // Every "…" of the line (escaped quotes do not occur in names).
        for (n, piece) in line.split('"').enumerate() {
            if n % 2 == 1 && names.contains(&piece) {
                found.push((i + 1, piece.to_string()));
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && path.file_name().is_some_and(|n| n != "tests.rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_category_name_is_a_string_literal_outside_the_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let names: Vec<&str> = catalog::all().iter().map(|c| c.name).collect();
    let mut files = Vec::new();
    for krate in ["entra-backup-core/src", "entra-backup-cli/src", "entra-backup-py/src"] {
        rust_files(&root.join(krate), &mut files);
    }
    assert!(files.len() > 50, "the scan found only {} files", files.len());
    let mut offences = Vec::new();
    for file in files {
        let rel = file.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if EXEMPT.iter().any(|(p, _)| rel.starts_with(p)) {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for (line, name) in literals_in(&source, &names) {
            offences.push(format!("{rel}:{line}: \"{name}\""));
        }
    }
    assert!(
        offences.is_empty(),
        "category names spelled outside the catalog (make it a catalog field):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scan_finds_a_literal_and_ignores_comments_and_tests() {
    let names = ["users", "groups"];
    let source = "fn f(c: &Category) -> bool {\n    // \"users\" in a comment\n    c.name == \"users\" && x != \"usersX\"\n}\n#[cfg(test)]\nmod tests { const G: &str = \"groups\"; }\n";
    assert_eq!(literals_in(source, &names), vec![(3, "users".to_string())]);
}
