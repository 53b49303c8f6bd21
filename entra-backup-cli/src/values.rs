//! Parsers of command-line values that clap's types do not bound: a number that fits its type can
//! still ask the simulator for 283 GB, or a duration can overflow every timestamp it is added to.
//! Each refuses with a message that names the limit (clap adds the flag's name).

/// Largest simulated tenant: 1,000,000 users or groups (ten times the largest benchmark).
pub(crate) const MAX_TENANT_OBJECTS: usize = 1_000_000;
/// Largest number of simulated group memberships: ten per user of the largest tenant.
pub(crate) const MAX_MEMBERSHIPS: usize = 10 * MAX_TENANT_OBJECTS;
/// Longest simulated latency: a minute, beyond which every client has given up.
pub(crate) const MAX_LATENCY_MS: u64 = 60_000;
/// Longest tag of a snapshot, in characters.
pub(crate) const MAX_TAG_CHARS: usize = 256;

fn whole_number(s: &str, max: u64) -> Result<u64, String> {
    let n: u64 = s.trim().parse().map_err(|_| format!("`{s}` is not a whole number from 0 to {max}"))?;
    if n <= max { Ok(n) } else { Err(format!("{n} is more than {max}")) }
}

/// Users or groups of a simulated tenant.
pub(crate) fn tenant_objects(s: &str) -> Result<usize, String> {
    whole_number(s, MAX_TENANT_OBJECTS as u64).map(|n| n as usize)
}

/// Group memberships of a simulated tenant.
pub(crate) fn memberships(s: &str) -> Result<usize, String> {
    whole_number(s, MAX_MEMBERSHIPS as u64).map(|n| n as usize)
}

/// The simulator's added latency, in milliseconds.
pub(crate) fn latency_ms(s: &str) -> Result<u64, String> {
    whole_number(s, MAX_LATENCY_MS)
}

/// A snapshot tag: not empty, no control characters (it is printed in tables, one per line).
pub(crate) fn tag(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("a tag cannot be empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("a tag cannot hold control characters (newlines, tabs, escapes)".into());
    }
    if s.chars().count() > MAX_TAG_CHARS {
        return Err(format!("a tag is at most {MAX_TAG_CHARS} characters"));
    }
    Ok(s.to_string())
}

/// A `--memory-budget` size: bytes, or a number with K, M or G.
pub(crate) fn memory_budget(s: &str) -> Result<entra_backup::repo::spill::MemoryBudget, String> {
    entra_backup::repo::spill::MemoryBudget::parse(s).map_err(|e| e.message().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded() {
        assert_eq!(tenant_objects("200"), Ok(200));
        assert_eq!(tenant_objects("0"), Ok(0));
        assert_eq!(tenant_objects("1000000"), Ok(1_000_000));
        assert!(tenant_objects("1000001").unwrap_err().contains("more than 1000000"));
        assert!(tenant_objects("18446744073709551615").is_err());
        assert!(tenant_objects("99999999999999999999999").unwrap_err().contains("whole number"));
        assert!(tenant_objects("-1").is_err());
        assert!(memberships("10000001").is_err());
        assert_eq!(latency_ms("60000"), Ok(60_000));
        assert!(latency_ms("60001").is_err());
    }

    #[test]
    fn tags_are_one_printable_line() {
        assert_eq!(tag("nightly").as_deref(), Ok("nightly"));
        assert_eq!(tag("before upgrade, v2").as_deref(), Ok("before upgrade, v2"));
        assert!(tag("").is_err());
        assert!(tag("  ").is_err());
        assert!(tag("a\nb").is_err());
        assert!(tag("\u{1b}[31mred").is_err());
        assert!(tag(&"x".repeat(257)).is_err());
    }
}
