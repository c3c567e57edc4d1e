//! One registry session: the scheme (HTTPS, or HTTP where allowed), the login, the
//! requests. Every request goes through [`Client::send_once`], which answers a 401 once
//! (auth.rs), turns 401/403 into Auth errors and 429/5xx and dropped connections into
//! Network errors (the ones [`Retry`] retries); every other status is the caller's to read.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::time::Duration;

use ureq::http::Response;
use ureq::tls::{RootCerts, TlsConfig};

use crate::challenge::{self, Challenge};
use crate::credentials::{self, Credential};
use crate::error::{registry_errors, Error, Result};
use crate::reference::{allows_insecure, Reference};
use crate::retry::Retry;
use crate::Options;

/// What a request sends.
#[derive(Clone, Copy)]
pub(crate) enum Body<'a> {
    /// Nothing.
    Empty,
    /// Bytes in memory (a manifest).
    Bytes(&'a [u8]),
    /// `len` bytes of `file` from `offset` (a blob in the archive), read as they are sent.
    File { file: &'a File, offset: u64, len: u64 },
}

/// A request: method, absolute URL, headers, body.
pub(crate) struct Request<'a> {
    pub(crate) method: &'static str,
    pub(crate) url: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Body<'a>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(method: &'static str, url: String) -> Request<'a> {
        Request { method, url, headers: Vec::new(), body: Body::Empty }
    }
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Request<'a> {
        self.headers.push((name, value.into()));
        self
    }
    pub(crate) fn body(mut self, body: Body<'a>) -> Request<'a> {
        self.body = body;
        self
    }
}

/// A session with one registry, for one set of scopes.
pub(crate) struct Client<'l> {
    /// The registry as the reference names it, for messages.
    pub(crate) host: String,
    /// `https://host[:port]` or `http://…`, once the ping has chosen.
    pub(crate) base: String,
    verified: ureq::Agent,
    unverified: Option<ureq::Agent>,
    insecure: Vec<String>,
    pub(crate) credential: Option<Credential>,
    /// Where the credential came from, for messages.
    pub(crate) config_file: String,
    /// The scopes a token is asked for (the challenge's are added as they come).
    pub(crate) scopes: Vec<String>,
    pub(crate) challenge: Option<Challenge>,
    pub(crate) authorization: Option<String>,
    secrets: Vec<String>,
    log: &'l mut dyn FnMut(&str),
    verbose: bool,
    pub(crate) retry: Retry,
}

/// The longest error body or token answer read; more is not an answer the API gives.
pub(crate) const SMALL_BODY: u64 = 1 << 20;

fn agent(tls: TlsConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(10)
        // Blob GETs are redirected to storage (S3, a CDN) that signs its own URLs: the
        // registry's login goes along only to the same host.
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
        .user_agent(concat!("docker-squash/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(120)))
        .timeout_per_write(Some(Duration::from_secs(120)))
        .tls_config(tls)
        .build()
        .new_agent()
}

/// Reads `len` bytes of a file from `offset` without moving its cursor (FileExt).
struct FileSlice<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for FileSlice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(usize::try_from(self.end - self.pos).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the archive ended inside a blob"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<'l> Client<'l> {
    /// A session with `r`'s registry for `scopes`: the login found, the registry pinged
    /// (which picks the scheme and learns the challenge), a token fetched if it wants one.
    pub(crate) fn connect(
        r: &Reference,
        opts: &Options,
        scopes: Vec<String>,
        log: &'l mut dyn FnMut(&str),
    ) -> Result<Client<'l>> {
        let dir = credentials::config_dir(opts.docker_config.as_deref());
        let credential = credentials::find(r, dir.as_deref())?;
        let config_file = dir.map(|d| d.join("config.json").display().to_string()).unwrap_or_default();
        let secrets = credential.as_ref().map(Credential::secrets).unwrap_or_default();
        let verified = agent(TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build());
        let mut c = Client {
            host: r.registry().to_string(),
            base: format!("https://{}", r.api_host()),
            verified,
            unverified: None,
            insecure: opts.insecure.clone(),
            credential,
            config_file,
            scopes,
            challenge: None,
            authorization: None,
            secrets,
            log,
            verbose: opts.verbose,
            retry: Retry::default(),
        };
        if c.may_be_insecure(r.api_host()) {
            c.unverified = Some(agent(TlsConfig::builder().disable_verification(true).build()));
        }
        let retry = c.retry;
        retry.run(&mut c, |c, n| c.note(n), |c| c.ping(r.api_host()))?;
        Ok(c)
    }

    /// May `host_port` be reached over plain HTTP or unverified TLS? Loopback, as Docker
    /// does by itself, and what `-insecure-registry` names (host:port, or host for any port).
    pub(crate) fn may_be_insecure(&self, host_port: &str) -> bool {
        allows_insecure(&self.insecure, host_port)
    }

    /// GET /v2/: HTTPS first; for an insecure registry, plain HTTP when TLS fails, as Docker.
    fn ping(&mut self, api_host: &str) -> Result<()> {
        let https = format!("https://{api_host}/v2/");
        let resp = match self.raw(&Request::new("GET", https)) {
            Err(_) if self.may_be_insecure(api_host) => {
                self.trace(&format!("HTTPS to {api_host} failed; trying plain HTTP (allowed for it)"));
                self.base = format!("http://{api_host}");
                self.raw(&Request::new("GET", format!("http://{api_host}/v2/")))?
            }
            other => other?,
        };
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            401 => {
                self.challenge = www_authenticate(&resp);
                self.prepare_auth()
            }
            429 | 500..=599 => Err(Error::network(format!("{} answered {} to GET /v2/", self.host, resp.status()))),
            s => Err(Error::protocol(format!(
                "{} answered {s} to GET /v2/: is it a registry (Distribution API v2)?",
                self.host
            ))),
        }
    }

    /// `path` (from `/v2/…`) on this registry, or an absolute URL (a Location) as it is.
    pub(crate) fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Is `url` on this registry (same scheme, host and port)?
    fn is_registry_url(&self, url: &str) -> bool {
        url.strip_prefix(self.base.as_str()).is_some_and(|rest| rest.starts_with('/') || rest.is_empty())
    }

    /// One request as it is: transport errors become Network errors, any status is Ok.
    pub(crate) fn raw(&mut self, req: &Request) -> Result<Response<ureq::Body>> {
        let shown = strip_query(&req.url);
        let parsed = url::Url::parse(&req.url).map_err(|_| Error::protocol(format!("not a URL: {shown}")))?;
        let host_port = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => return Err(Error::protocol(format!("no host in {shown}"))),
        };
        if parsed.scheme() == "http" && !self.may_be_insecure(&host_port) {
            return Err(Error::usage(format!(
                "refusing plain HTTP to {host_port} ({shown}); allow it with -insecure-registry {host_port}"
            )));
        }
        let mut builder = ureq::http::Request::builder().method(req.method).uri(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(*k, v);
        }
        let agent = match &self.unverified {
            Some(a) if self.may_be_insecure(&host_port) => a.clone(),
            _ => self.verified.clone(),
        };
        let started = std::time::Instant::now();
        let result = match req.body {
            Body::Empty => builder.body(()).map(|r| agent.run(r)),
            Body::Bytes(b) => builder.header("Content-Length", b.len().to_string()).body(b).map(|r| agent.run(r)),
            Body::File { file, offset, len } => {
                let mut slice = FileSlice { file, pos: offset, end: offset.saturating_add(len) };
                builder
                    .header("Content-Length", len.to_string())
                    .body(ureq::SendBody::from_reader(&mut slice))
                    .map(|r| agent.run(r))
            }
        };
        let result = result.map_err(|e| Error::protocol(format!("{} {shown}: {e}", req.method)))?;
        match result {
            Ok(resp) => {
                self.trace(&format!(
                    "{} {shown}: {} ({} ms)",
                    req.method,
                    resp.status(),
                    started.elapsed().as_millis()
                ));
                Ok(resp)
            }
            Err(e) => {
                self.trace(&format!("{} {shown}: {e}", req.method));
                Err(transport_error(&e, req.method, &shown, &host_port))
            }
        }
    }

    /// A request with the session's login; a 401 is answered once with a fresh login (a new
    /// token, a wider scope, Basic). 401/403 end as Auth errors, 429/5xx as Network ones.
    pub(crate) fn send_once(&mut self, req: &Request) -> Result<Response<ureq::Body>> {
        let mut reauthorized = false;
        loop {
            let mut with_auth = Request::new(req.method, req.url.clone()).body(req.body);
            with_auth.headers = req.headers.clone();
            // The login goes to the registry only, never to a URL elsewhere (a Location).
            if let (Some(a), true) = (&self.authorization, self.is_registry_url(&req.url)) {
                with_auth.headers.push(("Authorization", a.clone()));
            }
            let mut resp = self.raw(&with_auth)?;
            let status = resp.status().as_u16();
            match status {
                401 if !reauthorized => {
                    reauthorized = true;
                    let ch = www_authenticate(&resp).or_else(|| self.challenge.clone());
                    let body = read_small(&mut resp);
                    if self.reauthorize(ch.as_ref())? {
                        continue;
                    }
                    return Err(self.denied(401, &body, ch.as_ref()));
                }
                401 | 403 => {
                    let ch = www_authenticate(&resp);
                    let body = read_small(&mut resp);
                    return Err(self.denied(status, &body, ch.as_ref()));
                }
                429 | 500 | 502 | 503 | 504 => {
                    let body = read_small(&mut resp);
                    return Err(self.status_error(&resp, &body, req));
                }
                _ => return Ok(resp),
            }
        }
    }

    /// [`send_once`](Self::send_once), retried on Network errors (for requests that can
    /// simply be sent again: no upload session in between).
    pub(crate) fn send(&mut self, req: &Request) -> Result<Response<ureq::Body>> {
        let retry = self.retry;
        retry.run(self, |c, n| c.note(n), |c| c.send_once(req))
    }

    /// The error for an answer the caller did not expect, with the registry's codes.
    pub(crate) fn status_error(&self, resp: &Response<ureq::Body>, body: &[u8], req: &Request) -> Error {
        let status = resp.status().as_u16();
        let errors = crate::error::describe(&registry_errors(body));
        let detail = if errors.is_empty() { String::new() } else { format!(" ({errors})") };
        let msg =
            format!("{} answered {} to {} {}{detail}", self.host, resp.status(), req.method, strip_query(&req.url));
        let msg = self.redact(&msg);
        match status {
            429 | 500..=599 => Error::network(msg),
            404 => Error::not_found(msg),
            _ => Error::protocol(msg),
        }
    }

    /// Says `msg` to the caller's log, secrets masked.
    pub(crate) fn note(&mut self, msg: &str) {
        let msg = self.redact(msg);
        (self.log)(&msg);
    }

    /// Says `msg` when verbose.
    pub(crate) fn trace(&mut self, msg: &str) {
        if self.verbose {
            self.note(msg);
        }
    }

    /// Remembers a secret (a token) to mask wherever text leaves the crate.
    pub(crate) fn add_secret(&mut self, s: &str) {
        if !s.is_empty() && !self.secrets.iter().any(|x| x == s) {
            self.secrets.push(s.to_string());
        }
    }

    /// `s` with every secret this session knows replaced.
    pub(crate) fn redact(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in self.secrets.iter().filter(|x| x.len() >= 3) {
            out = out.replace(secret.as_str(), "<redacted>");
        }
        out
    }

    /// The same error with secrets masked (registry messages can quote a request).
    pub(crate) fn scrub(&self, mut e: Error) -> Error {
        e.message = self.redact(&e.message);
        e
    }
}

#[cfg(test)]
impl Client<'_> {
    /// Drops the unverified TLS agent: every HTTPS request is verified, loopback too.
    pub(crate) fn verify_all_tls(&mut self) {
        self.unverified = None;
    }
}

/// The challenge of a 401.
pub(crate) fn www_authenticate(resp: &Response<ureq::Body>) -> Option<Challenge> {
    challenge::parse(resp.headers().get_all("www-authenticate").iter().filter_map(|v| v.to_str().ok()))
}

/// A small body (an error, a token, a manifest is read with its own limit); empty on failure.
pub(crate) fn read_small(resp: &mut Response<ureq::Body>) -> Vec<u8> {
    resp.body_mut().with_config().limit(SMALL_BODY).read_to_vec().unwrap_or_default()
}

/// At most `limit` bytes of a body: larger is a Protocol error, a dropped connection a Network one.
pub(crate) fn read_limited(resp: &mut Response<ureq::Body>, limit: u64, what: &str) -> Result<Vec<u8>> {
    match resp.body_mut().with_config().limit(limit).read_to_vec() {
        Ok(v) => Ok(v),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(Error::protocol(format!("{what} is larger than {limit} bytes"))),
        Err(e) => Err(Error::network(format!("reading {what}: {e}"))),
    }
}

/// A URL for messages and logs: upload locations and signed storage URLs carry state and
/// signatures in their query.
pub(crate) fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

/// A transport failure: Network (retried), but for TLS trust and malformed requests, which a
/// retry would not change.
fn transport_error(e: &ureq::Error, method: &str, shown: &str, host_port: &str) -> Error {
    // ureq hands rustls' errors over inside an io::Error.
    let tls = match e {
        ureq::Error::Rustls(_) | ureq::Error::Tls(_) => true,
        ureq::Error::Io(io) => io.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
        _ => false,
    };
    if tls {
        return Error::protocol(format!(
            "{method} {shown}: TLS with {host_port} failed ({e}); for a registry with a certificate the system does \
             not trust, add it to the system's roots or use -insecure-registry {host_port}"
        ));
    }
    match e {
        ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::TooManyRedirects
        | ureq::Error::RequireHttpsOnly(_) => Error::protocol(format!("{method} {shown}: {e}")),
        _ => Error::network(format!("{method} {shown}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_not_shown() {
        assert_eq!(
            strip_query("https://r/v2/a/blobs/uploads/x?_state=abc&digest=sha256:1"),
            "https://r/v2/a/blobs/uploads/x"
        );
        assert_eq!(strip_query("https://s3/x#frag"), "https://s3/x");
    }

    #[test]
    fn file_slices() {
        let path = std::env::temp_dir().join(format!("squash-registry-slice-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let f = File::open(&path).unwrap();
        let mut s = String::new();
        FileSlice { file: &f, pos: 2, end: 6 }.read_to_string(&mut s).unwrap();
        assert_eq!(s, "2345");
        let mut v = Vec::new();
        let e = FileSlice { file: &f, pos: 8, end: 20 }.read_to_end(&mut v).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        let _ = std::fs::remove_file(path);
    }
}
