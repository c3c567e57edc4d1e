//! One registry session: the scheme (HTTPS, or HTTP where allowed), the login, the
//! requests. Every request goes through [`Client::send_once`], which follows redirects hop
//! by hop ([`Client::exchange`]: the login only to the registry's own origin, plain HTTP
//! only where allowed), answers the registry's 401 once (auth.rs), turns 401/403 into Auth
//! errors and 429/5xx and dropped connections into Network errors (the ones [`Retry`]
//! retries); every other status is the caller's to read. Every request has deadlines, and
//! every body must keep moving (deadline.rs).

use crate::bodies::{read_small, strip_query};
use crate::challenge::{self, Challenge};
use crate::credentials::{self, Credential};
use crate::deadline::{Deadlines, Paced};
use crate::error::{registry_errors, Error, ErrorKind, Result};
use crate::host::{Body, Host, HttpRequest, HttpResponse, Transport, TransportKind};
use crate::redirect::{self, MAX_HOPS};
use crate::reference::{allows_insecure, Reference};
use crate::retry::{Retry, Waits};
use crate::Options;

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

/// An answer of the session's host, its body paced (deadline.rs).
pub(crate) type Response<'c, H> = HttpResponse<Paced<'c, <H as Host>::Body>>;

/// A session with one registry, for one set of scopes.
pub(crate) struct Client<'l, H: Host> {
    pub(crate) host_io: &'l H,
    /// The registry as the reference names it, for messages.
    pub(crate) host: String,
    /// `https://host[:port]` or `http://…`, once the ping has chosen.
    pub(crate) base: String,
    insecure: Vec<String>,
    /// May TLS go unverified for hosts that allow it? Only when the registry itself is such
    /// a host (loopback, `-insecure-registry`); off in a test.
    unverified_allowed: bool,
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
    pub(crate) deadlines: Deadlines,
    /// The URL that gave the last answer (after redirects), to name the host that answered.
    last_url: String,
}

impl<H: Host> Waits for Client<'_, H> {
    fn note(&mut self, msg: &str) {
        Client::note(self, msg);
    }
    async fn wait(&mut self, d: std::time::Duration) {
        self.host_io.sleep(d).await;
    }
    fn now_ms(&self) -> u64 {
        self.host_io.millis()
    }
}

impl<'l, H: Host> Client<'l, H> {
    /// A session with `r`'s registry for `scopes`: the login found, the registry pinged
    /// (which picks the scheme and learns the challenge), a token fetched if it wants one.
    pub(crate) async fn connect(
        host_io: &'l H,
        r: &Reference,
        opts: &Options,
        scopes: Vec<String>,
        log: &'l mut dyn FnMut(&str),
    ) -> Result<Client<'l, H>> {
        let dir = credentials::config_dir(host_io, opts.docker_config.as_deref());
        let credential = credentials::find(host_io, r, dir.as_deref()).await?;
        let config_file = dir.map(|d| d.join("config.json").display().to_string()).unwrap_or_default();
        let secrets = credential.as_ref().map(Credential::secrets).unwrap_or_default();
        let deadlines = opts.deadlines();
        let mut c = Client {
            host_io,
            host: r.registry().to_string(),
            base: format!("https://{}", r.api_host()),
            unverified_allowed: allows_insecure(&opts.insecure, r.api_host()),
            insecure: opts.insecure.clone(),
            credential,
            config_file,
            scopes,
            challenge: None,
            authorization: None,
            secrets,
            log,
            verbose: opts.verbose,
            retry: Retry::for_deadlines(&deadlines),
            deadlines,
            last_url: String::new(),
        };
        let retry = c.retry;
        retry.run(&mut c, async |c| c.ping(r.api_host()).await).await?;
        Ok(c)
    }

    /// May `host_port` be reached over plain HTTP or unverified TLS? Loopback, as Docker
    /// does by itself, and what `-insecure-registry` names (host:port, or host for any port).
    pub(crate) fn may_be_insecure(&self, host_port: &str) -> bool {
        allows_insecure(&self.insecure, host_port)
    }

    /// GET /v2/: HTTPS first; for an insecure registry, plain HTTP when TLS fails, as Docker.
    /// The challenge is learnt only from the registry's own answer.
    async fn ping(&mut self, api_host: &str) -> Result<()> {
        let https = format!("https://{api_host}/v2/");
        let (mut resp, at) = match self.exchange(&Request::new("GET", https), None).await {
            Err(e) if e.kind != ErrorKind::Timeout && self.may_be_insecure(api_host) => {
                self.trace(&format!("HTTPS to {api_host} failed; trying plain HTTP (allowed for it)"));
                self.base = format!("http://{api_host}");
                self.exchange(&Request::new("GET", format!("http://{api_host}/v2/")), None).await?
            }
            other => other?,
        };
        if matches!(resp.status, 401 | 403) && !self.is_registry_url(&at) {
            let _ = read_small(&mut resp).await;
            return Err(self.foreign_refusal(resp.status, &at, "GET", &format!("{}/v2/", self.base)));
        }
        match resp.status {
            200..=299 => Ok(()),
            401 => {
                self.challenge = www_authenticate(&resp);
                self.prepare_auth().await
            }
            429 | 500..=599 => Err(Error::network(format!(
                "{} answered {} to GET /v2/",
                self.answered_by(),
                crate::status::status_text(resp.status)
            ))),
            s => Err(Error::protocol(format!(
                "{} answered {s} to GET /v2/: is it a registry (Distribution API v2)?",
                self.answered_by()
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
    pub(crate) fn is_registry_url(&self, url: &str) -> bool {
        redirect::same_origin(url, &self.base)
    }

    /// The registry, or the host that really answered when a redirect led elsewhere.
    pub(crate) fn answered_by(&self) -> String {
        match crate::urls::Url::parse(&self.last_url) {
            Some(u) if !self.is_registry_url(&self.last_url) => {
                format!("{} (where {} sent it)", u.host_port(), self.host)
            }
            _ => self.host.clone(),
        }
    }

    /// One request, one hop, as it is: transport errors become Network (or Timeout)
    /// errors, any status is Ok. Plain HTTP is refused here, for every hop, unless allowed.
    pub(crate) async fn raw(&mut self, req: &Request<'_>) -> Result<Response<'l, H>> {
        let shown = strip_query(&req.url);
        let parsed = crate::urls::Url::parse(&req.url).ok_or_else(|| Error::protocol(format!("not a URL: {shown}")))?;
        let host_port = parsed.host_port().to_string();
        if host_port.is_empty() {
            return Err(Error::protocol(format!("no host in {shown}")));
        }
        if parsed.scheme != "https" && parsed.scheme != "http" {
            return Err(Error::protocol(format!("{shown} is not HTTP(S)")));
        }
        if parsed.scheme == "http" && !self.may_be_insecure(&host_port) {
            return Err(Error::usage(format!(
                "refusing plain HTTP to {host_port} ({shown}); allow it with -insecure-registry {host_port}"
            )));
        }
        let mut headers = req.headers.clone();
        match req.body {
            Body::Empty => {}
            Body::Bytes(b) => headers.push(("Content-Length", b.len().to_string())),
            Body::Slice { len, .. } => headers.push(("Content-Length", len.to_string())),
        }
        let unverified_tls = self.unverified_allowed && self.may_be_insecure(&host_port);
        let http = HttpRequest {
            method: req.method,
            url: &req.url,
            headers: &headers,
            body: req.body,
            unverified_tls,
            deadlines: self.deadlines,
        };
        let started = self.host_io.millis();
        self.last_url = req.url.clone();
        match self.host_io.send(&http).await {
            Ok(resp) => {
                let took = self.host_io.millis().saturating_sub(started);
                self.trace(&format!("{} {shown}: {} ({took} ms)", req.method, crate::status::status_text(resp.status)));
                let body = Paced::new(resp.body, self.host_io, &self.deadlines);
                Ok(HttpResponse { status: resp.status, headers: resp.headers, body })
            }
            Err(e) => {
                self.trace(&format!("{} {shown}: {}", req.method, e.detail));
                Err(self.transport_error(&e, &format!("{} {shown}", req.method), &host_port))
            }
        }
    }

    /// `req` and the redirects it is answered with, each hop a request of its own through
    /// [`raw`](Self::raw) (redirect.rs): `login` (an Authorization value, and the origin it
    /// is for) goes only to hops on that origin. The answer, and the URL that gave it.
    pub(crate) async fn exchange(
        &mut self,
        req: &Request<'_>,
        login: Option<(String, String)>,
    ) -> Result<(Response<'l, H>, String)> {
        let (mut method, mut url, mut body) = (req.method, req.url.clone(), req.body);
        let mut headers = req.headers.clone();
        for _ in 0..=MAX_HOPS {
            let mut hop = Request::new(method, url.clone()).body(body);
            hop.headers = headers.clone();
            if let Some((origin, value)) = &login {
                if redirect::origin(&url).as_deref() == Some(origin.as_str()) {
                    hop.headers.push(("Authorization", value.clone()));
                }
            }
            let resp = self.raw(&hop).await?;
            match redirect::next(method, &url, resp.status, resp.header("location")) {
                None => return Ok((resp, url)),
                Some(Err(why)) => {
                    return Err(Error::protocol(format!("{} {}: {why}", method, strip_query(&url))));
                }
                Some(Ok(next)) => {
                    self.trace(&format!("{} {} → {}", resp.status, strip_query(&url), strip_query(&next.url)));
                    if !next.keeps_body {
                        body = Body::Empty;
                        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
                    }
                    (method, url) = (next.method, next.url);
                }
            }
        }
        Err(Error::protocol(format!("{} {}: more than {MAX_HOPS} redirects", req.method, strip_query(&req.url))))
    }

    /// A request with the session's login; a 401 is answered once with a fresh login (a new
    /// token, a wider scope, Basic). 401/403 end as Auth errors, 429/5xx as Network ones.
    /// A 401 or 403 from another host (a redirect's target) is that host's, not a login
    /// failure: it is never answered with the registry's login, nor its challenge followed.
    pub(crate) async fn send_once(&mut self, req: &Request<'_>) -> Result<Response<'l, H>> {
        let mut reauthorized = false;
        loop {
            let login = match (&self.authorization, redirect::origin(&self.base)) {
                (Some(a), Some(origin)) => Some((origin, a.clone())),
                _ => None,
            };
            let (mut resp, at) = self.exchange(req, login).await?;
            let status = resp.status;
            if matches!(status, 401 | 403) && !self.is_registry_url(&at) {
                let _ = read_small(&mut resp).await;
                return Err(self.foreign_refusal(status, &at, req.method, &req.url));
            }
            match status {
                401 if !reauthorized => {
                    reauthorized = true;
                    let ch = www_authenticate(&resp).or_else(|| self.challenge.clone());
                    let body = read_small(&mut resp).await;
                    if self.reauthorize(ch.as_ref()).await? {
                        continue;
                    }
                    return Err(self.denied(401, &body, ch.as_ref()));
                }
                401 | 403 => {
                    let ch = www_authenticate(&resp);
                    let body = read_small(&mut resp).await;
                    return Err(self.denied(status, &body, ch.as_ref()));
                }
                429 | 500 | 502 | 503 | 504 => {
                    let body = read_small(&mut resp).await;
                    return Err(self.status_error(&resp, &body, req));
                }
                _ => return Ok(resp),
            }
        }
    }

    /// The error for a 401/403 from a host that is not the registry (storage it redirected
    /// to, an upload Location elsewhere): the registry's login was not sent there, and is
    /// not sent in answer to that host's challenge.
    pub(crate) fn foreign_refusal(&self, status: u16, at: &str, method: &str, asked: &str) -> Error {
        let other = crate::urls::Url::parse(at).map(|u| u.host_port().to_string()).unwrap_or_default();
        self.scrub(Error::protocol(format!(
            "{other} answered {} to {method} {}, where {} sent {}: the login for {} goes to {} only, so none \
             was sent to {other}, and {other}'s own challenge is not answered",
            crate::status::status_text(status),
            strip_query(at),
            self.host,
            strip_query(asked),
            self.host,
            self.host
        )))
    }

    /// [`send_once`](Self::send_once), retried on Network errors (for requests that can
    /// simply be sent again: no upload session in between).
    pub(crate) async fn send(&mut self, req: &Request<'_>) -> Result<Response<'l, H>> {
        let retry = self.retry;
        retry.run(self, async |c| c.send_once(req).await).await
    }

    /// The error for an answer the caller did not expect, with the registry's codes.
    pub(crate) fn status_error<B>(&self, resp: &HttpResponse<B>, body: &[u8], req: &Request) -> Error {
        let status = resp.status;
        let errors = crate::error::describe(&registry_errors(body));
        let detail = if errors.is_empty() { String::new() } else { format!(" ({errors})") };
        let msg = format!(
            "{} answered {} to {} {}{detail}",
            self.answered_by(),
            crate::status::status_text(status),
            req.method,
            strip_query(&req.url)
        );
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
impl<H: Host> Client<'_, H> {
    /// Verifies every HTTPS request, loopback too.
    pub(crate) fn verify_all_tls(&mut self) {
        self.unverified_allowed = false;
    }
}

/// The challenge of a 401.
pub(crate) fn www_authenticate<B>(resp: &HttpResponse<B>) -> Option<Challenge> {
    challenge::parse(resp.header_all("www-authenticate"))
}

impl<H: Host> Client<'_, H> {
    /// A transport failure: Network (retried), Timeout (retried once), but for TLS trust and
    /// malformed requests, which a retry would not change. `what`: `METHOD URL`.
    pub(crate) fn transport_error(&self, e: &Transport, what: &str, host_port: &str) -> Error {
        let detail = &e.detail;
        match e.kind {
            TransportKind::Tls => Error::protocol(format!(
                "{what}: TLS with {host_port} failed ({detail}); for a registry with a certificate the system \
                 does not trust, add it to the system's roots or use -insecure-registry {host_port}"
            )),
            TransportKind::Request => Error::protocol(format!("{what}: {detail}")),
            TransportKind::Network => Error::network(format!("{what}: {detail}")),
            TransportKind::Timeout => {
                Error::timeout(format!("{what}: {host_port} {detail}; {}", self.deadlines.advice()))
            }
        }
    }

    /// A body that failed while read: the connection's (Network) or a deadline's (Timeout).
    pub(crate) fn body_error(&self, e: &Transport, what: &str) -> Error {
        let host = crate::urls::Url::parse(&self.last_url).map(|u| u.host_port().to_string()).unwrap_or_default();
        match e.kind {
            TransportKind::Timeout => {
                Error::timeout(format!("{what}: {host} {}; {}", e.detail, self.deadlines.advice()))
            }
            _ => Error::network(format!("{what}: {}", e.detail)),
        }
    }
}
