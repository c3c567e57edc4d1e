//! Tests of what a real registry will not do on cue: 503s, a connection dropped inside a
//! blob or an upload, a 202 instead of a mount, a server that echoes the login back. A
//! the scripted HTTP/1.1 server of squash_testkit (the one the hostile-host tests use too)
//! answers on loopback; the crate's own client talks to it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use squash_testkit::scripted::{reply, Pace, Reply, Request, Server};

use crate::{pull, push, ErrorKind, MediaTypes, Options, Reference};

/// The shared scripted server (squash_testkit::scripted) on one loopback port; `handler`
/// gets each request and the server's own address.
fn scripted(handler: impl Fn(&Request, &str) -> Reply + Send + Sync + 'static) -> (Server, String) {
    let server =
        Server::start(&["127.0.0.1:0"], Arc::new(move |req: &Request, addrs: &[String]| handler(req, &addrs[0])))
            .expect("a loopback port to listen on");
    let addr = server.addrs[0].clone();
    (server, addr)
}

const PASSWORD: &str = "fake-pa55word";
const TOKEN: &str = "tok-S3CRET-0042";

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// A temporary directory (tempfile's), removed when dropped; the crate's unit tests share it.
pub(crate) struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        self.0.path()
    }
}

pub(crate) fn temp(name: &str) -> Scratch {
    Scratch(tempfile::Builder::new().prefix(&format!("squash-registry-{name}-")).tempdir().expect("a temporary folder"))
}

/// Options logging in to `addr` as user/PASSWORD (and their directory, kept while used).
fn options(addr: &str, name: &str) -> (Options, Scratch) {
    let dir = temp(name);
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("user:{PASSWORD}"));
    std::fs::write(dir.join("config.json"), json!({"auths": {addr: {"auth": auth}}}).to_string()).unwrap();
    (Options { docker_config: Some(dir.to_path_buf()), verbose: true, ..Options::default() }, dir)
}

fn assert_clean(text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{PASSWORD}"));
    for s in [PASSWORD, TOKEN, b64.as_str()] {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
}

#[test]
fn pull_retries_503_and_restarts_a_dropped_blob() {
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
    let layer: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": crate::manifest::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(&layer), "size": layer.len()}],
    }))
    .unwrap();
    let (m2, c2, l2) = (manifest.clone(), config.clone(), layer.clone());
    let calls = Arc::new(Mutex::new(std::collections::HashMap::<String, usize>::new()));
    let (server, server_addr) = scripted(move |req, addr| {
        let n = {
            let mut c = calls.lock().unwrap();
            let n = c.entry(req.target.split('?').next().unwrap_or("").to_string()).or_default();
            *n += 1;
            *n
        };
        let bearer = format!("Bearer {TOKEN}");
        let challenge = format!(r#"Bearer realm="http://{addr}/token",service="fake",scope="repository:r/app:pull""#);
        let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("user:{PASSWORD}")));
        match req.target.as_str() {
            t if t.starts_with("/token?") => {
                assert!(t.contains("scope=repository%3Ar%2Fapp%3Apull") && t.contains("service=fake"), "{t}");
                if req.header("authorization") == Some(basic.as_str()) {
                    reply(200, json!({"token": TOKEN}).to_string())
                } else {
                    reply(401, "{}")
                }
            }
            _ if req.header("authorization") != Some(bearer.as_str()) => {
                reply(401, "{}").header("WWW-Authenticate", &challenge)
            }
            "/v2/" => reply(200, "{}"),
            "/v2/r/app/manifests/t" if n == 1 => reply(503, "busy"),
            "/v2/r/app/manifests/t" => reply(200, m2.clone()).header("Content-Type", crate::manifest::OCI_MANIFEST),
            t if t == format!("/v2/r/app/blobs/{}", digest(&c2)) => reply(200, c2.clone()),
            t if t == format!("/v2/r/app/blobs/{}", digest(&l2)) => {
                let mut r = reply(200, l2.clone());
                if n == 1 {
                    r = r.paced(Pace::Cut(20_000)); // the connection drops inside the layer
                }
                r
            }
            _ => reply(404, r#"{"errors":[{"code":"NOT_FOUND"}]}"#),
        }
    });
    let r = Reference::parse(&format!("{}/r/app:t", server_addr)).unwrap();
    let scratch = temp("pull");
    let path = scratch.join("out.tar");
    let mut out = std::fs::File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    out.write_all(b"KEEP").unwrap(); // the tar starts at the file's position
    let mut log = Vec::new();
    let (o, _config) = options(&server_addr, "pull-config");
    let pulled = pull(&r, &o, &mut out, &mut |l| log.push(l.to_string())).unwrap();
    let text = log.join("\n");
    assert_eq!(
        (pulled.digest.clone(), pulled.layers, pulled.bytes),
        (digest(&manifest), 1, (config.len() + layer.len()) as u64)
    );
    assert!(text.contains("503") && text.contains("retrying"), "{text}");
    assert!(text.contains("ended after") || text.contains("downloading"), "{text}");
    assert_clean(&text);
    let all = std::fs::read(&path).unwrap();
    assert_eq!(&all[..4], b"KEEP");
    let mut blobs = std::collections::BTreeMap::new();
    for e in tar::Archive::new(&all[4..]).entries().unwrap() {
        let mut e = e.unwrap();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        blobs.insert(e.path().unwrap().display().to_string(), b);
    }
    assert_eq!(blobs[&format!("blobs/sha256/{}", &digest(&layer)[7..])], layer, "the layer once, whole");
    assert_eq!(blobs.len(), 7, "{:?}", blobs.keys()); // oci-layout, index.json, 2 dirs, manifest, config, layer
    let layer_gets = server.seen().iter().filter(|q| q.target.ends_with(&digest(&layer))).count();
    assert_eq!(layer_gets, 2);
}

#[test]
fn push_falls_back_from_mount_and_restarts_a_failed_upload() {
    let img = squash_testkit::Image::new(squash_testkit::sample_layers());
    let scratch = temp("push");
    let archive_path = scratch.join("image.tar");
    std::fs::write(&archive_path, img.oci_layout()).unwrap();
    let archive = std::fs::File::open(&archive_path).unwrap();
    let puts = Arc::new(Mutex::new(0usize));
    let (server, server_addr) = scripted(move |req, addr| {
        let path = req.target.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET", "/v2/") => reply(200, ""),
            ("HEAD", _) => reply(404, ""),
            ("POST", "/v2/dst/app/blobs/uploads/") if req.target.contains("mount=") => {
                assert!(req.target.contains("from=src%2Fapp") || req.target.contains("from=src/app"), "{}", req.target);
                reply(202, "").header("Location", "/v2/dst/app/blobs/uploads/sess-1")
            }
            ("POST", "/v2/dst/app/blobs/uploads/") => {
                reply(202, "").header("Location", &format!("http://{addr}/v2/dst/app/blobs/uploads/sess-2?_state=xyz"))
            }
            ("PUT", p) if p.starts_with("/v2/dst/app/blobs/uploads/") => {
                let want = req.target.split("digest=").nth(1).unwrap_or("").replace("%3A", ":");
                assert_eq!(digest(&req.body), want, "the PUT carries the blob's bytes");
                let mut n = puts.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    // The first upload fails: 500 while the registry "stores" it.
                    return reply(500, r#"{"errors":[{"code":"UNKNOWN","message":"disk hiccup"}]}"#);
                }
                reply(201, "")
            }
            ("PUT", "/v2/dst/app/manifests/v1") => reply(201, "").header("Docker-Content-Digest", &digest(&req.body)),
            _ => reply(404, ""),
        }
    });
    let dst = Reference::parse(&format!("{}/dst/app:v1", server_addr)).unwrap();
    let src = Reference::parse(&format!("{}/src/app:v1", server_addr)).unwrap();
    let mut log = Vec::new();
    let (o, _config) = options(&server_addr, "push-config");
    let p = push(&archive, &dst, Some(&src), MediaTypes::Oci, &o, &mut |l| log.push(l.to_string())).unwrap();
    let text = log.join("\n");
    assert_eq!(p.uploaded.len(), 4, "3 layers and the config: {p:?}");
    assert!(p.mounted.is_empty() && p.existing.is_empty());
    assert!(text.contains("did not mount") && text.contains("retrying"), "{text}");
    assert!(!text.contains("_state=xyz"), "upload state is not logged: {text}");
    let seen = server.seen();
    // The retried upload began again with a new session (POST without mount).
    assert!(seen.iter().any(|q| q.method == "POST" && !q.target.contains("mount=")), "{seen:?}");
    let manifest_put = seen.iter().find(|q| q.method == "PUT" && q.target == "/v2/dst/app/manifests/v1").unwrap();
    assert_eq!(digest(&manifest_put.body), p.digest);
    // A zstd layer has no Docker type: the Docker push keeps OCI and says so.
    let mut log = Vec::new();
    let p2 = push(&archive, &dst, None, MediaTypes::Docker, &o, &mut |l| log.push(l.to_string())).unwrap();
    assert_eq!(p2.digest, p.digest);
    assert!(log.join("\n").contains("stays OCI"), "{log:?}");
}

#[test]
fn secrets_stay_out_of_errors_and_logs() {
    // A server that quotes the Authorization header it got in every error message.
    let (server, server_addr) = scripted(|req, addr| {
        let echo = req.header("authorization").unwrap_or_default().to_string();
        let body = json!({"errors": [{"code": "DENIED", "message": format!("you sent {echo}")}]}).to_string();
        match req.target.as_str() {
            t if t.starts_with("/token") => reply(200, json!({"access_token": TOKEN}).to_string()),
            "/v2/" => reply(401, "").header("WWW-Authenticate", &format!(r#"Bearer realm="http://{addr}/token""#)),
            "/v2/r/denied/manifests/latest" => reply(403, body),
            "/v2/r/broken/manifests/latest" => reply(500, body),
            _ => reply(404, body),
        }
    });
    let (o, _config) = options(&server_addr, "secrets-config");
    for (repo, kind) in [("denied", ErrorKind::Auth), ("broken", ErrorKind::Network), ("gone", ErrorKind::NotFound)] {
        let r = Reference::parse(&format!("{}/r/{repo}", server_addr)).unwrap();
        let scratch = temp(&format!("secrets-{repo}"));
        let path = scratch.join("out.tar");
        let mut out = std::fs::File::create(&path).unwrap();
        let mut log = Vec::new();
        let e = pull(&r, &o, &mut out, &mut |l| log.push(l.to_string())).unwrap_err();
        assert_eq!(e.kind, kind, "{e}");
        assert!(e.message.contains(&server_addr), "{e}");
        assert_clean(&format!("{e}\n{}", log.join("\n")));
        if kind == ErrorKind::Network {
            assert!(e.message.starts_with("after 4 tries"), "{e}");
        }
    }
    // The token did go out (so the test is not vacuous).
    assert!(server.seen().iter().any(|q| q.header("authorization") == Some(format!("Bearer {TOKEN}").as_str())));
}

#[test]
fn tls_is_verified_unless_the_host_is_allowed() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIP tls_is_verified_unless_the_host_is_allowed: openssl is not installed");
        return;
    }
    let dir = temp("tls");
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem"])
        .args(["-days", "1", "-subj", "/CN=self-signed.test"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(made.status.success());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    // A real TLS server with a certificate no system trusts; `-www` answers any GET with 200.
    let mut server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem", "-accept", &addr])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        TcpStream::connect(&addr).is_ok()
    });
    let result = std::panic::catch_unwind(|| {
        assert!(up, "openssl s_server did not start");
        let r = Reference::parse(&format!("{addr}/a/b")).unwrap();
        let mut log = |_: &str| {};
        // Loopback: unverified TLS is allowed, as Docker allows it, and HTTPS is kept.
        let host = crate::NativeHost::default();
        let opts = Options::default();
        let connect = crate::client::Client::connect(&host, &r, &opts, vec![], &mut log);
        let mut c = pollster::block_on(connect).unwrap();
        assert_eq!(c.base, format!("https://{addr}"));
        // Verified (what every other host gets): the self-signed certificate is refused.
        c.verify_all_tls();
        let req = crate::client::Request::new("GET", format!("https://{addr}/v2/"));
        let Err(e) = pollster::block_on(c.raw(&req)) else { panic!("a self-signed certificate was trusted") };
        assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
        assert!(e.message.contains("TLS with") && e.message.contains("-insecure-registry"), "{e}");
    });
    let _ = server.kill();
    let _ = server.wait();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
