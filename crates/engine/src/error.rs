//! Errors are values with a stable code (for programs) and a message a user can act on.

use std::fmt;

/// Stable machine-readable error kinds; the wasm bindings expose them as `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The input is not an image archive at all (empty, not a tar, no manifest).
    NotAnImage,
    /// The input is damaged: truncated, corrupt compression, bad tar headers, bad JSON.
    Corrupt,
    /// A layer's content does not match the digest its config promises.
    DigestMismatch,
    /// The archive holds several images and the choice is ambiguous, or none matches.
    ImageChoice,
    /// `-from` names no layer or several.
    FromChoice,
    /// The tag given with `-t` is not a valid image reference.
    BadTag,
    /// A limit that protects memory or time was hit (decompression bomb, absurd sizes).
    TooLarge,
    /// A layer holds something Docker would refuse to apply.
    Unsupported,
    /// Reading the input or writing the output failed.
    Io,
    /// The caller asked to stop.
    Cancelled,
    /// An option's value cannot be used (a compression level out of range, say).
    BadOption,
}

impl ErrorCode {
    /// The code as JavaScript sees it, e.g. `DIGEST_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotAnImage => "NOT_AN_IMAGE",
            ErrorCode::Corrupt => "CORRUPT",
            ErrorCode::DigestMismatch => "DIGEST_MISMATCH",
            ErrorCode::ImageChoice => "IMAGE_CHOICE",
            ErrorCode::FromChoice => "FROM_CHOICE",
            ErrorCode::BadTag => "BAD_TAG",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::Io => "IO",
            ErrorCode::Cancelled => "CANCELLED",
            ErrorCode::BadOption => "BAD_OPTION",
        }
    }
}

/// An error of the engine: a code, and a message a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What kind of error, for programs.
    pub code: ErrorCode,
    /// What happened and what to do, for people.
    pub message: String,
}

impl Error {
    /// An error of this kind with this message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }
    /// A [`ErrorCode::Corrupt`] error: the input is damaged.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Corrupt, message)
    }
    /// An io error; one that carries an engine error (a reader below refusing, e.g. a
    /// decompression bomb's TooLarge) comes back out as that error, code and all.
    pub fn io(context: &str, err: std::io::Error) -> Self {
        if let Some(inner) = err.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
            return inner.clone();
        }
        Error::new(ErrorCode::Io, format!("{context}: {err}"))
    }
    /// Prefixes the message with where the problem was found.
    pub fn context(mut self, place: impl fmt::Display) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;
