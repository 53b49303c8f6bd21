//! What a generated tenant holds, per category: objects, their JSON as text, links, contained
//! children, and how small the JSON gets compressed one object at a time (zstd level 3) and a
//! whole category at once (a bound for a shared dictionary). The figures behind the memory section
//! of docs/simulator.md:
//!
//! `cargo run --release -p entra-backup-sim --example sim_sizes -- 10000`
use entra_backup_sim::{SimConfig, generate};

fn main() {
    let users: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let cfg = SimConfig { seed: 42, users, groups: users / 5, memberships: Some(users * 10), ..SimConfig::default() };
    let t0 = std::time::Instant::now();
    let t = generate(&cfg, jiff::Timestamp::now());
    println!("{users} users generated in {:.1} s, {} objects", t0.elapsed().as_secs_f64(), t.total_objects());
    let mut rows = Vec::new();
    let (mut all_text, mut all_one, mut all_whole, mut all_links) = (0, 0, 0, 0);
    for c in entra_backup::catalog::all() {
        let (mut n, mut text, mut one, mut keys, mut links, mut kids) = (0, 0, 0, 0, 0, 0);
        let mut whole = Vec::new();
        for o in t.objects(c.name) {
            let mut bytes = serde_json::to_vec(&o.json).unwrap_or_default();
            for child in o.children.values().flatten() {
                bytes.extend(serde_json::to_vec(child).unwrap_or_default());
            }
            n += 1;
            text += bytes.len();
            one += zstd::bulk::compress(&bytes, 3).map_or(0, |z| z.len());
            keys += o.json.len();
            links += o.links.values().map(Vec::len).sum::<usize>();
            kids += o.children.values().map(Vec::len).sum::<usize>();
            whole.extend_from_slice(&bytes);
        }
        if n == 0 {
            continue;
        }
        let whole = zstd::bulk::compress(&whole, 3).map_or(0, |z| z.len());
        (all_text, all_one, all_whole, all_links) =
            (all_text + text, all_one + one, all_whole + whole, all_links + links);
        rows.push((
            text,
            format!(
                "{:<36} {n:>8} {:>7} {:>9} {:>9} {:>7} {keys:>9} {links:>9} {kids:>6}",
                c.name,
                text / n,
                one / n,
                whole / n,
                text / users
            ),
        ));
    }
    rows.sort();
    println!(
        "{:<36} {:>8} {:>7} {:>9} {:>9} {:>7} {:>9} {:>9} {:>6}",
        "CATEGORY", "OBJECTS", "B/OBJ", "ZSTD/OBJ", "WHOLE/OBJ", "B/USER", "KEYS", "LINKS", "KIDS"
    );
    for (_, r) in rows.iter().rev() {
        println!("{r}");
    }
    println!(
        "per user: JSON text {} B, zstd per object {} B, zstd per category {} B, links {}",
        all_text / users,
        all_one / users,
        all_whole / users,
        all_links / users
    );
}
