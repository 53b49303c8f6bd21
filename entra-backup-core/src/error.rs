//! The one public error type: a kind to match on, a message for people, and Graph's error code
//! where Graph gave one. Messages never carry secrets (client secrets, tokens, keys).

use std::fmt;

/// What went wrong, to match on (and to map onto Python exceptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The identity platform refused the credentials, or Graph refused the token.
    Authentication,
    /// Graph answered 403: the app lacks a permission.
    Permission,
    /// Throttled (429) past the retry budget.
    ThrottlingExhausted,
    /// The object or path does not exist.
    NotFound,
    /// Graph could not be reached, or the connection failed past the retry budget.
    Network,
    /// Graph answered with an error not covered above (4xx or 5xx past the retry budget).
    Graph,
    /// Bad input from the caller: an unknown category, a bad URL, a bad option.
    InvalidInput,
    /// Reading or writing local files or object storage failed.
    Io,
    /// A response could not be understood (not JSON, or not Graph's shape).
    Protocol,
    /// The operation was cancelled.
    Cancelled,
    /// Another process holds what this one needs (a prune lease), or changed it first.
    Conflict,
}

/// The crate's error.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    graph_code: Option<String>,
    status: Option<u16>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// The crate's result, with [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a message for people (no Graph code, no status).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), graph_code: None, status: None, source: None }
    }

    /// An error from a Graph or identity platform response.
    pub fn graph(kind: ErrorKind, status: u16, code: Option<String>, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), graph_code: code, status: Some(status), source: None }
    }

    /// Attach the underlying error, returned by [`std::error::Error::source`].
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What went wrong, to match on.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without Graph's code (which [`Display`](fmt::Display) appends).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Graph's (or the identity platform's) error code: `Authorization_RequestDenied`, `AADSTS7000215`.
    pub fn graph_code(&self) -> Option<&str> {
        self.graph_code.as_deref()
    }

    /// The HTTP status, when the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Prefix the message with context (`reading groups: ...`).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// An [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// An [`ErrorKind::Io`] error: `message` (what was being done) followed by the I/O error,
    /// kept as the source.
    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{}: {source}", message.into())).with_source(source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.graph_code
            && !self.message.contains(code.as_str())
        {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<crate::catalog::UnknownCategory> for Error {
    fn from(e: crate::catalog::UnknownCategory) -> Self {
        Error::invalid_input(e.to_string())
    }
}

impl Error {
    /// Whether this error stops one category only (Graph's answer about it: a refused permission,
    /// a missing path, a Graph error, throttling past the budget), so a run over many categories
    /// goes on with the others; anything else (the repository, the credentials, cancellation)
    /// stops the whole run.
    pub fn stops_one_category(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Permission | ErrorKind::NotFound | ErrorKind::Graph | ErrorKind::ThrottlingExhausted
        )
    }
}

/// A category a run could not get through (Graph refused to list it, or to list its recycle
/// bin): the other categories went on.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryFailure {
    /// The category's name in the catalog.
    pub category: &'static str,
    /// Graph's error.
    pub error: String,
}
