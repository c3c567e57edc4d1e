//! Errors as values: one message for a person, one kind for a program.

use std::fmt;

/// What went wrong, for a caller that reacts differently (exit codes, advice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad reference, option or archive: the caller's input.
    Usage,
    /// The registry refused the credentials, or has none for this host (401, 403).
    Auth,
    /// The repository, tag, manifest or blob does not exist (404), or no platform matched.
    NotFound,
    /// The registry could not be reached, or kept failing (connection, 429, 5xx) after retries.
    Network,
    /// A host did not connect, answer or send within the deadlines (`-registry-timeout`).
    Timeout,
    /// The registry answered something the Distribution API does not allow, or a digest did not match.
    Protocol,
    /// Reading or writing a local file.
    Io,
}

/// An error: `message` names the reference (and the scope, for auth) and says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What happened, for a person; never holds a credential or token.
    pub message: String,
    /// Which kind of failure.
    pub kind: ErrorKind,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { message: message.into(), kind }
    }
    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }
    pub(crate) fn auth(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Auth, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }
    pub(crate) fn network(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Network, message)
    }
    pub(crate) fn timeout(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Timeout, message)
    }
    pub(crate) fn protocol(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }
    pub(crate) fn io(what: &str, e: &std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("{what}: {e}"))
    }
    /// The same error with `context: ` before its message.
    pub(crate) fn context(mut self, context: &str) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;

/// One entry of a registry's error body (`{"errors":[{"code","message"}]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryError {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// The codes and messages of an error body; empty when it is not one. Messages are cut
/// short: a body is the server's, and only a hint belongs in an error.
pub(crate) fn registry_errors(body: &[u8]) -> Vec<RegistryError> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return Vec::new() };
    let Some(list) = v.get("errors").and_then(|e| e.as_array()) else { return Vec::new() };
    list.iter()
        .filter_map(|e| {
            let code = e.get("code")?.as_str()?;
            let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
            Some(RegistryError { code: short(code, 64), message: short(message, 200) })
        })
        .collect()
}

/// `s` cut to at most `max` characters, printable ones only.
pub(crate) fn short(s: &str, max: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// `CODE: message; CODE: message` of an error body, or "" when it has none.
pub(crate) fn describe(errors: &[RegistryError]) -> String {
    errors
        .iter()
        .map(|e| if e.message.is_empty() { e.code.clone() } else { format!("{}: {}", e.code, e.message) })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        let e = registry_errors(body);
        assert_eq!(e, vec![RegistryError { code: "MANIFEST_UNKNOWN".into(), message: "manifest unknown".into() }]);
        assert_eq!(describe(&e), "MANIFEST_UNKNOWN: manifest unknown");
        assert!(registry_errors(b"<html>502</html>").is_empty());
        assert!(registry_errors(br#"{"errors":"no"}"#).is_empty());
        assert_eq!(short(&"x".repeat(300), 5), "xxxxx…");
        assert_eq!(short("a\nb", 5), "ab");
    }
}
