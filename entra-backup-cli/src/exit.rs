//! The command's documented exit codes (docs/reliability.md has the same table), and the one error
//! type every command returns: a code and one line for people. `--json` commands also print the
//! error as a JSON object on stdout, with the same code.

use std::fmt;
use std::process::ExitCode;

use entra_backup::ErrorKind;

/// What an exit code means. The numbers are part of the interface: scripts match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 1: the command ran to the end, but some categories or objects failed (the report lists
    /// them), or `check` found damage.
    Failures,
    /// 2: the command line or an input value is wrong (unknown option, category, snapshot prefix
    /// that matches several, attribute; a bad URL or number). Nothing was changed.
    Usage,
    /// 3: the repository or its storage could not be read or written, is damaged (a damaged key
    /// file included, named), is missing, or holds no such snapshot; or a backup refused to seal
    /// secrets to a key it does not trust.
    Repository,
    /// 4: wrong passphrase or key for the repository or its secrets key.
    RepositoryKey,
    /// 5: Microsoft Graph or the identity platform refused or failed: credentials, permissions,
    /// throttling past the retry budget, network.
    Graph,
    /// 6: another process holds the repository (a prune or a backup's lease) or changed it first.
    Locked,
    /// 70: a bug. The message says so and carries no data; please report it.
    Internal,
    /// 130: interrupted (Ctrl-C); what was written so far is consistent.
    Interrupted,
}

impl Code {
    /// The process exit status.
    pub(crate) fn status(self) -> u8 {
        match self {
            Code::Failures => 1,
            Code::Usage => 2,
            Code::Repository => 3,
            Code::RepositoryKey => 4,
            Code::Graph => 5,
            Code::Locked => 6,
            Code::Internal => 70,
            Code::Interrupted => 130,
        }
    }

    /// A stable name for `--json`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Code::Failures => "failures",
            Code::Usage => "usage",
            Code::Repository => "repository",
            Code::RepositoryKey => "repositoryKey",
            Code::Graph => "graph",
            Code::Locked => "locked",
            Code::Internal => "internal",
            Code::Interrupted => "interrupted",
        }
    }
}

/// A command's failure: its exit code and one line of text.
#[derive(Debug)]
pub(crate) struct CliError {
    pub code: Code,
    message: String,
}

impl CliError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        CliError { code, message: one_line(&message.into()) }
    }

    /// Bad input; nothing was done.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(Code::Usage, message)
    }

    /// The command finished, but not everything succeeded.
    pub(crate) fn failures(message: impl Into<String>) -> Self {
        Self::new(Code::Failures, message)
    }

    /// The exit status for the process.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code.status())
    }

    /// The error as `--json` prints it.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": { "exitCode": self.code.status(), "kind": self.code.name(), "message": self.message }
        })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The library's error kinds onto exit codes. Graph's errors carry the HTTP status they came
/// with; the same kinds without one come from the repository (a wrong passphrase is
/// `Authentication` without a status, a damaged file `Protocol` without one).
impl From<entra_backup::Error> for CliError {
    fn from(e: entra_backup::Error) -> Self {
        let from_graph = e.status().is_some();
        let code = match e.kind() {
            ErrorKind::InvalidInput => Code::Usage,
            ErrorKind::Authentication if from_graph => Code::Graph,
            ErrorKind::Authentication => Code::RepositoryKey,
            ErrorKind::Permission | ErrorKind::ThrottlingExhausted | ErrorKind::Network | ErrorKind::Graph => {
                Code::Graph
            }
            ErrorKind::NotFound | ErrorKind::Protocol if from_graph => Code::Graph,
            ErrorKind::NotFound | ErrorKind::Protocol | ErrorKind::Io => Code::Repository,
            ErrorKind::Cancelled => Code::Interrupted,
            ErrorKind::Conflict => Code::Locked,
            _ => Code::Internal,
        };
        CliError::new(code, e.to_string())
    }
}

/// Plain strings are what the command line itself rejects (conflicting flags, bad values).
impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::usage(message)
    }
}

impl From<&str> for CliError {
    fn from(message: &str) -> Self {
        CliError::usage(message)
    }
}

/// Longest message, in characters: a value echoed from the command line (100,000 characters of
/// category name) must not become a screenful of error.
const MAX_MESSAGE_CHARS: usize = 1000;

/// One line, with control characters shown escaped: a value from the command line or a file
/// (an id with a newline in it) must not forge extra lines of output. Cut to
/// [`MAX_MESSAGE_CHARS`], keeping its start and its end.
pub(crate) fn one_line(s: &str) -> String {
    let s = s.trim_end_matches(['\n', '\r']);
    let line: String = if s.chars().any(char::is_control) {
        s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
    } else {
        s.to_string()
    };
    // Cut from the middle: a message's end often says what to do (a suggestion, a hint).
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_MESSAGE_CHARS {
        return line;
    }
    let (head, tail) = (MAX_MESSAGE_CHARS * 3 / 4, MAX_MESSAGE_CHARS / 4);
    let cut = chars.len() - head - tail;
    let (start, end): (String, String) = (chars[..head].iter().collect(), chars[chars.len() - tail..].iter().collect());
    format!("{start} … ({cut} characters cut) … {end}")
}

/// A panic is a bug, but it must still end in one line and a documented code, and never print
/// its payload (which could hold data) to the user.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error{at}; please report it (exit code 70)");
        std::process::exit(Code::Internal.status().into());
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_onto_documented_codes() {
        let wrong_key = entra_backup::Error::new(ErrorKind::Authentication, "wrong passphrase");
        assert_eq!(CliError::from(wrong_key).code.status(), 4);
        let graph_auth = entra_backup::Error::graph(ErrorKind::Authentication, 401, None, "refused");
        assert_eq!(CliError::from(graph_auth).code.status(), 5);
        let damaged = entra_backup::Error::new(ErrorKind::Protocol, "snapshot x: damaged");
        assert_eq!(CliError::from(damaged).code.status(), 3);
        assert_eq!(CliError::from(entra_backup::Error::invalid_input("bad")).code.status(), 2);
        assert_eq!(CliError::from(entra_backup::Error::new(ErrorKind::Conflict, "held")).code.status(), 6);
    }

    #[test]
    fn messages_are_one_line() {
        let e = CliError::usage("no object a\nb\r\u{1b}[31m");
        assert_eq!(e.to_string(), "no object a\\nb\\r\\u{1b}[31m");
        assert_eq!(e.to_json()["error"]["exitCode"], 2);
        let long =
            CliError::usage(format!("unknown category '{}' (did you mean users?)", "x".repeat(5000))).to_string();
        let cut = " … (4041 characters cut) … ";
        assert!(long.starts_with("unknown category 'xxx") && long.contains(cut), "{long}");
        assert!(long.ends_with("xxx' (did you mean users?)"), "the end survives: {long}");
        assert_eq!(long.chars().count(), MAX_MESSAGE_CHARS + cut.chars().count());
    }
}
