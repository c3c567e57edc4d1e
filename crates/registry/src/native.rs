//! The native [`Host`]: ureq (HTTP/1.1, rustls, the platform's certificate verifier) and
//! std, driven by `pollster`'s block_on (the requests are blocking: the futures are ready
//! when first polled). The crate's sync `pull` and `push` are this host's.

use std::fs::File;
use std::io::Read;
use std::time::{Duration, Instant};

use ureq::tls::{RootCerts, TlsConfig};

use crate::files::ReadAt;
use crate::host::{Body, HelperOutput, Host, HttpRequest, HttpResponse, ResponseBody, Transport, TransportKind};
use crate::{MediaTypes, Options, Pulled, Pushed, Reference, Result};

/// ureq agents (a verified one; an unverified one for loopback and `-insecure-registry`
/// hosts) and a clock.
pub struct NativeHost {
    verified: ureq::Agent,
    unverified: ureq::Agent,
    start: Instant,
}

impl Default for NativeHost {
    fn default() -> Self {
        NativeHost {
            verified: agent(TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build()),
            unverified: agent(TlsConfig::builder().disable_verification(true).build()),
            start: Instant::now(),
        }
    }
}

fn agent(tls: TlsConfig) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Redirects are the crate's to follow, hop by hop (redirect.rs): ureq's own rule
        // keeps the login for the same host name whatever the port or scheme.
        .max_redirects(0)
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .user_agent(concat!("docker-squash/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .new_agent()
}

/// `req` with its deadlines as ureq's timeouts: connect, the answer's headers, and each
/// read and write of the connection (the rate of a body is the crate's: deadline.rs).
fn with_deadlines<S: ureq::AsSendBody>(
    agent: &ureq::Agent,
    req: ureq::http::Request<S>,
    d: &crate::Deadlines,
) -> ureq::http::Request<S> {
    agent
        .configure_request(req)
        .timeout_connect(Some(d.connect))
        .timeout_recv_response(Some(d.response))
        .timeout_per_read(Some(d.idle))
        .timeout_per_write(Some(d.idle))
        .build()
}

/// Reads `len` bytes of an archive from `offset`, as they are sent.
struct Slice<'a> {
    source: &'a dyn ReadAt,
    pos: u64,
    end: u64,
}

impl Read for Slice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf.len().min(usize::try_from(self.end - self.pos).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self.source.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the archive ended inside a blob"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A ureq body, read as it arrives.
pub struct NativeBody(ureq::BodyReader<'static>);

impl ResponseBody for NativeBody {
    async fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, Transport> {
        self.0.read(buf).map_err(|e| {
            let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                || e.get_ref()
                    .and_then(|i| i.downcast_ref::<ureq::Error>())
                    .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
            let kind = if timed_out { TransportKind::Timeout } else { TransportKind::Network };
            Transport { kind, detail: describe_io(&e) }
        })
    }
}

/// ureq's words for a failed read, with what a timeout means in this crate's terms.
fn describe_io(e: &std::io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        Some(ureq::Error::Timeout(t)) => timeout_words(*t),
        _ => e.to_string(),
    }
}

/// What a ureq timeout was, in words.
fn timeout_words(t: ureq::Timeout) -> String {
    match t {
        ureq::Timeout::Connect | ureq::Timeout::Resolve => "did not accept the connection in time".into(),
        ureq::Timeout::RecvResponse => "sent no answer in time".into(),
        ureq::Timeout::PerRead | ureq::Timeout::RecvBody => "sent nothing for too long".into(),
        ureq::Timeout::PerWrite | ureq::Timeout::SendBody | ureq::Timeout::SendRequest => {
            "took nothing of what was sent for too long".into()
        }
        other => format!("timed out ({other})"),
    }
}

impl Host for NativeHost {
    type Body = NativeBody;

    async fn send(&self, req: &HttpRequest<'_>) -> std::result::Result<HttpResponse<NativeBody>, Transport> {
        let mut builder = ureq::http::Request::builder().method(req.method).uri(req.url);
        for (k, v) in req.headers {
            builder = builder.header(*k, v);
        }
        let agent = if req.unverified_tls { &self.unverified } else { &self.verified };
        let d = &req.deadlines;
        let result = match req.body {
            Body::Empty => builder.body(()).map(|r| agent.run(with_deadlines(agent, r, d))),
            Body::Bytes(b) => builder.body(b).map(|r| agent.run(with_deadlines(agent, r, d))),
            Body::Slice { source, offset, len } => {
                let mut slice = Slice { source, pos: offset, end: offset.saturating_add(len) };
                builder.body(ureq::SendBody::from_reader(&mut slice)).map(|r| agent.run(with_deadlines(agent, r, d)))
            }
        };
        let result = result.map_err(|e| Transport { kind: TransportKind::Request, detail: e.to_string() })?;
        let resp = result.map_err(|e| match e {
            ureq::Error::Timeout(t) => Transport { kind: TransportKind::Timeout, detail: timeout_words(t) },
            e => Transport { kind: transport_kind(&e), detail: e.to_string() },
        })?;
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
            .collect();
        let status = resp.status().as_u16();
        Ok(HttpResponse { status, headers, body: NativeBody(resp.into_body().into_reader()) })
    }

    async fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn env(&self, name: &str) -> Option<String> {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    }

    fn read_file(&self, path: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn run_helper(&self, program: &str, input: &str) -> std::result::Result<HelperOutput, String> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new(program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        stdin.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
        drop(stdin);
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok(HelperOutput { success: out.status.success(), stdout: out.stdout, stderr: out.stderr })
    }
}

/// TLS trust and malformed requests are not retried; every other failure is the network's.
fn transport_kind(e: &ureq::Error) -> TransportKind {
    // ureq hands rustls' errors over inside an io::Error.
    let tls = match e {
        ureq::Error::Rustls(_) | ureq::Error::Tls(_) => true,
        ureq::Error::Io(io) => io.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()),
        _ => false,
    };
    match e {
        _ if tls => TransportKind::Tls,
        ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::TooManyRedirects
        | ureq::Error::RequireHttpsOnly(_) => TransportKind::Request,
        _ => TransportKind::Network,
    }
}

/// [`pull_on`](crate::pull_on) natively, into a file (from its current position).
pub fn pull(r: &Reference, opts: &Options, out: &mut File, log: &mut dyn FnMut(&str)) -> Result<Pulled> {
    pollster::block_on(crate::pull_on(&NativeHost::default(), r, opts, out, log))
}

/// [`push_on`](crate::push_on) natively, from an archive file.
pub fn push(
    archive: &File,
    r: &Reference,
    mount_from: Option<&Reference>,
    media: MediaTypes,
    opts: &Options,
    log: &mut dyn FnMut(&str),
) -> Result<Pushed> {
    pollster::block_on(crate::push_on(&NativeHost::default(), archive, r, mount_from, media, opts, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_slices() {
        let path = std::env::temp_dir().join(format!("squash-registry-slice-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let f = File::open(&path).unwrap();
        let mut s = String::new();
        Slice { source: &f, pos: 2, end: 6 }.read_to_string(&mut s).unwrap();
        assert_eq!(s, "2345");
        let mut v = Vec::new();
        let e = Slice { source: &f, pos: 8, end: 20 }.read_to_end(&mut v).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        let _ = std::fs::remove_file(path);
    }
}
