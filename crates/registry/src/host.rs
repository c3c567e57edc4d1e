//! What the crate needs from the machine it runs on, as one trait: an HTTP request, a
//! sleep, a clock, the environment, a file's bytes, a credential helper run. Natively it is
//! ureq and std (`native.rs`); in Node it is `fetch`, `fs` and `child_process` behind
//! wasm-bindgen (crates/wasm). The Distribution API logic above it is the same code in
//! both, so both send the same requests and say the same things.

use std::time::Duration;

use crate::deadline::Deadlines;
use crate::files::ReadAt;

/// What a request sends.
#[derive(Clone, Copy)]
pub enum Body<'a> {
    /// Nothing.
    Empty,
    /// Bytes in memory (a manifest, a token form).
    Bytes(&'a [u8]),
    /// `len` bytes of `source` from `offset` (a blob in the archive), read as they are sent.
    Slice {
        /// The archive.
        source: &'a dyn ReadAt,
        /// Where the blob starts.
        offset: u64,
        /// Its size.
        len: u64,
    },
}

/// One HTTP request as the host sends it.
pub struct HttpRequest<'a> {
    /// GET, HEAD, POST, PUT.
    pub method: &'a str,
    /// An absolute http(s) URL.
    pub url: &'a str,
    /// Headers, Content-Length included when there is a body.
    pub headers: &'a [(&'static str, String)],
    /// The body.
    pub body: Body<'a>,
    /// May TLS go unverified (a loopback or `-insecure-registry` host)?
    pub unverified_tls: bool,
    /// How long connecting, the first byte of the answer, and each read or write may take.
    pub deadlines: Deadlines,
}

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The TLS handshake failed (an untrusted certificate): a retry would not change it.
    Tls,
    /// The request itself is wrong (a bad URL, too many redirects): neither would it.
    Request,
    /// The connection failed or dropped: worth retrying.
    Network,
    /// A deadline passed (connect, first byte, a read or write waiting, too slow a body):
    /// worth one more try, not four.
    Timeout,
}

/// A request that got no answer: why, and the host's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    /// Which kind of failure.
    pub kind: TransportKind,
    /// The host's description (never a credential: requests carry them in headers only).
    pub detail: String,
}

/// An answer: the status, the headers (names in lower case), the body still to be read.
pub struct HttpResponse<B> {
    /// The HTTP status.
    pub status: u16,
    /// Header names (lower case) and values, in order; repeated names stay repeated.
    pub headers: Vec<(String, String)>,
    /// The body, read as it arrives.
    pub body: B,
}

impl<B> HttpResponse<B> {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// Every value of header `name` (lower case).
    pub fn header_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.headers.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A response body, read in pieces (a layer is never held whole).
// Single-threaded hosts (wasm's event loop, a block_on) never move these futures across
// threads, so no Send bound is promised.
#[allow(async_fn_in_trait)]
pub trait ResponseBody {
    /// Up to `buf.len()` bytes; 0 at the end. An error is the connection's (Network), or a
    /// deadline's (Timeout).
    async fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Transport>;
}

/// What a credential helper answered.
pub struct HelperOutput {
    /// Did it exit with status 0?
    pub success: bool,
    /// Its stdout (the JSON answer, or a "credentials not found" line).
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

/// The machine: see the module's comment.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// A response's body.
    type Body: ResponseBody;
    /// Sends one request within its deadlines. Redirects are NOT followed: a 3xx is an
    /// answer like any other, so that the crate decides per hop where a login may go and
    /// whether plain HTTP is allowed (client.rs).
    async fn send(&self, req: &HttpRequest<'_>) -> std::result::Result<HttpResponse<Self::Body>, Transport>;
    /// Waits `d` (between retries).
    async fn sleep(&self, d: Duration);
    /// Milliseconds from any fixed start (for the time a request took, in the log).
    fn millis(&self) -> u64;
    /// An environment variable (DOCKER_CONFIG, HOME), None when unset.
    fn env(&self, name: &str) -> Option<String>;
    /// A file's bytes: Ok(None) when it does not exist, Err(the reason) when it cannot be read.
    fn read_file(&self, path: &str) -> std::result::Result<Option<Vec<u8>>, String>;
    /// Runs `program get` with `input` on its stdin (a docker credential helper); Err when it
    /// cannot be started.
    async fn run_helper(&self, program: &str, input: &str) -> std::result::Result<HelperOutput, String>;
}
