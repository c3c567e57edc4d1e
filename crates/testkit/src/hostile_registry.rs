//! A registry that behaves as real ones do around the edges, and as hostile hosts might:
//! blob GETs redirected to storage on another port or address (as S3- and CDN-backed
//! registries answer), a storage host that answers 401 with a token realm of its own, an
//! upload Location on another host, a redirect to plain HTTP, a trickled blob, an answer
//! that never comes. Four listeners: the registry (127.0.0.1), storage on another port of
//! the same address, another loopback address (127.0.0.2), and a would-be token realm
//! (127.0.0.3) that should never hear from a client. Every listener keeps what it got
//! (scripted.rs), so a test asserts on the headers each host received.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::scripted::{reply, Handler, Pace, Reply, Request, Server};
use crate::{digest, dir, file, tar};

/// The login the registry takes (Basic, or Basic to its token realm).
pub const USER: &str = "alice";
/// Its password: it must reach the registry (or its realm) and nothing else.
pub const PASSWORD: &str = "pa55-Never-Elsewhere";
/// The bearer token of [`Scenario::BearerRedirect`]'s realm.
pub const TOKEN: &str = "tok-Registry-0nly";
/// The repository pulled (`REGISTRY/r/app:t`) and the one pushed to (`REGISTRY/r/pushed:t`).
pub const REPO: &str = "r/app";

/// The listeners, by index into [`Server::addrs`].
pub const REGISTRY: usize = 0;
pub const STORAGE: usize = 1;
pub const OTHER_ADDRESS: usize = 2;
pub const ROGUE_REALM: usize = 3;

/// What the registry does wrong, or what a host it sends the client to does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The layer's GET → 307 to storage on another port of 127.0.0.1, which serves it.
    RedirectToOtherPort,
    /// The layer's GET → 307 to 127.0.0.2, which serves it.
    RedirectToOtherAddress,
    /// The layer's GET → 307 to storage, which answers 401 with a realm on 127.0.0.3.
    StorageChallenge,
    /// A bearer registry whose own challenge names a realm on 127.0.0.2; the layer's GET →
    /// 307 to storage, which serves it.
    BearerRedirect,
    /// A push whose upload Location is on 127.0.0.2, which answers 401 with a realm on 127.0.0.3.
    UploadElsewhere,
    /// The layer's GET → 307 to `http://0.0.0.0:PORT` (plain HTTP to a host that is not loopback).
    RedirectToPlainHttp,
    /// The layer comes one byte every 500 ms.
    Trickle,
    /// The layer's GET is read and never answered.
    Silent,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::RedirectToOtherPort,
        Scenario::RedirectToOtherAddress,
        Scenario::StorageChallenge,
        Scenario::BearerRedirect,
        Scenario::UploadElsewhere,
        Scenario::RedirectToPlainHttp,
        Scenario::Trickle,
        Scenario::Silent,
    ];

    /// The name the `scripted-registry` binary takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::RedirectToOtherPort => "redirect-to-other-port",
            Scenario::RedirectToOtherAddress => "redirect-to-other-address",
            Scenario::StorageChallenge => "storage-challenge",
            Scenario::BearerRedirect => "bearer-redirect",
            Scenario::UploadElsewhere => "upload-elsewhere",
            Scenario::RedirectToPlainHttp => "redirect-to-plain-http",
            Scenario::Trickle => "trickle",
            Scenario::Silent => "silent",
        }
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The image the registry holds: one small layer, its config and manifest.
struct Blobs {
    manifest: Vec<u8>,
    config: Vec<u8>,
    layer: Vec<u8>,
}

fn blobs() -> Blobs {
    let layer = tar(&[dir("etc/"), file("etc/hello", b"hello from the hostile registry\n")]);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [digest(&layer)]},
        "history": [{"created_by": "ADD hello /etc/hello"}],
    }))
    .unwrap_or_default();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(&layer), "size": layer.len()}],
    }))
    .unwrap_or_default();
    Blobs { manifest, config, layer }
}

/// The registry of one scenario, running.
pub struct Hostile {
    pub server: Server,
    pub scenario: Scenario,
}

impl Hostile {
    pub fn start(scenario: Scenario) -> std::io::Result<Hostile> {
        let binds = ["127.0.0.1:0", "127.0.0.1:0", "127.0.0.2:0", "127.0.0.3:0"];
        let b = Arc::new(blobs());
        let handler: Handler = Arc::new(move |req: &Request, addrs: &[String]| answer(scenario, &b, req, addrs));
        Ok(Hostile { server: Server::start(&binds, handler)?, scenario })
    }

    /// `host:port` of the registry.
    pub fn registry(&self) -> &str {
        &self.server.addrs[REGISTRY]
    }

    /// The image to pull.
    pub fn reference(&self) -> String {
        format!("{}/{REPO}:t", self.registry())
    }

    /// Where a push goes.
    pub fn push_reference(&self) -> String {
        format!("{}/r/pushed:t", self.registry())
    }

    /// A docker config.json holding the login for the registry.
    pub fn config_json(&self) -> String {
        json!({"auths": {self.registry(): {"auth": b64(&format!("{USER}:{PASSWORD}"))}}}).to_string()
    }

    /// What the storage, the other address and the rogue realm received.
    pub fn elsewhere(&self) -> Vec<Request> {
        self.server.seen().into_iter().filter(|r| r.at != self.server.addrs[REGISTRY]).collect()
    }
}

/// The Basic header value of the login.
pub fn basic() -> String {
    format!("Basic {}", b64(&format!("{USER}:{PASSWORD}")))
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn port(addr: &str) -> &str {
    addr.rsplit_once(':').map_or("", |(_, p)| p)
}

fn answer(s: Scenario, b: &Blobs, req: &Request, addrs: &[String]) -> Reply {
    let i = addrs.iter().position(|a| *a == req.at).unwrap_or(REGISTRY);
    let layer_hex = digest(&b.layer)[7..].to_string();
    match i {
        ROGUE_REALM => reply(200, json!({"token": "stolen"}).to_string()),
        STORAGE | OTHER_ADDRESS => storage(s, b, req, addrs, i),
        _ => registry(s, b, req, addrs, &layer_hex),
    }
}

/// Storage, and the other address: serves the layer (or, by the scenario, refuses it), a
/// token for the bearer registry, and the upload elsewhere.
fn storage(s: Scenario, b: &Blobs, req: &Request, addrs: &[String], i: usize) -> Reply {
    let rogue = format!(r#"Bearer realm="http://{}/token",service="storage""#, addrs[ROGUE_REALM]);
    match (s, req.method.as_str(), req.path()) {
        (Scenario::StorageChallenge, _, _) | (Scenario::UploadElsewhere, _, _) => {
            reply(401, "").header("WWW-Authenticate", &rogue)
        }
        (Scenario::BearerRedirect, "GET", "/token") if i == OTHER_ADDRESS => {
            if req.header("authorization") == Some(basic().as_str()) {
                reply(200, json!({"token": TOKEN}).to_string())
            } else {
                reply(401, "{}")
            }
        }
        (_, "GET", p) if p.starts_with("/storage/") => reply(200, b.layer.clone()),
        _ => reply(404, ""),
    }
}

fn registry(s: Scenario, b: &Blobs, req: &Request, addrs: &[String], layer_hex: &str) -> Reply {
    let authorized = match s {
        Scenario::BearerRedirect => req.header("authorization") == Some(format!("Bearer {TOKEN}").as_str()),
        _ => req.header("authorization") == Some(basic().as_str()),
    };
    if !authorized {
        let challenge = match s {
            Scenario::BearerRedirect => {
                format!(r#"Bearer realm="http://{}/token",service="hostile""#, addrs[OTHER_ADDRESS])
            }
            _ => r#"Basic realm="hostile""#.to_string(),
        };
        return reply(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#).header("WWW-Authenticate", &challenge);
    }
    let storage_url = |at: &str| format!("http://{at}/storage/{layer_hex}?X-Signature=abc");
    let path = req.path();
    match (req.method.as_str(), path) {
        ("GET", "/v2/") => reply(200, "{}"),
        ("GET", p) if p == format!("/v2/{REPO}/manifests/t") => {
            reply(200, b.manifest.clone()).header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        }
        ("GET", p) if p == format!("/v2/{REPO}/blobs/{}", digest(&b.config)) => reply(200, b.config.clone()),
        ("GET", p) if p == format!("/v2/{REPO}/blobs/sha256:{layer_hex}") => match s {
            Scenario::RedirectToOtherAddress => reply(307, "").header("Location", &storage_url(&addrs[OTHER_ADDRESS])),
            Scenario::RedirectToPlainHttp => {
                let to = format!("http://0.0.0.0:{}/storage/{layer_hex}", port(&addrs[STORAGE]));
                reply(307, "").header("Location", &to)
            }
            Scenario::Trickle => reply(200, b.layer.clone()).paced(Pace::Trickle(Duration::from_millis(500))),
            Scenario::Silent => reply(200, "").paced(Pace::Silent),
            _ => reply(307, "").header("Location", &storage_url(&addrs[STORAGE])),
        },
        ("HEAD", _) => reply(404, ""),
        ("POST", p) if p.ends_with("/blobs/uploads/") => {
            let location = match s {
                Scenario::UploadElsewhere => format!("http://{}/upload/session-1?_state=opaque", addrs[OTHER_ADDRESS]),
                _ => format!("{p}session-1?_state=opaque"),
            };
            reply(202, "").header("Location", &location)
        }
        ("PUT", p) if p.contains("/blobs/uploads/") => reply(201, ""),
        ("PUT", p) if p.contains("/manifests/") => reply(201, "").header("Docker-Content-Digest", &digest(&req.body)),
        _ => reply(404, r#"{"errors":[{"code":"NOT_FOUND"}]}"#),
    }
}
