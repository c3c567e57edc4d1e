//! What the integration tests share: the real registry (Debian's docker-registry, started
//! by the repository's tests/support/registry.sh and stopped by a guard), skopeo, images
//! built with squash-testkit, and readers of the tars a pull writes.

#![allow(dead_code)]

pub mod token;

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};
use squash_testkit::{file, gzip, tar, Image, Layer};

pub const USER: &str = "e2e";
pub const PASSWORD: &str = "e2e-secret";

/// The program on PATH, if any.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// True when docker-registry and skopeo are there; else says why the test is skipped.
pub fn tools(test: &str) -> bool {
    for tool in ["docker-registry", "skopeo", "htpasswd", "curl"] {
        if which(tool).is_none() {
            eprintln!(
                "SKIP {test}: {tool} is not installed (apt-get install docker-registry skopeo apache2-utils curl)"
            );
            return false;
        }
    }
    true
}

/// A temporary directory (tempfile's: a fresh, unpredictable name), removed when dropped, a
/// failing test's too, as it unwinds.
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh temporary directory for one test, named after it.
pub fn temp_dir(name: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new().prefix(&format!("squash-registry-it-{name}-")).tempdir().expect("a temporary folder"),
    )
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A registry with htpasswd login (e2e / e2e-secret) on 127.0.0.1, stopped on drop (by pid,
/// through the script), failure or not.
pub struct Registry {
    pub dir: Scratch,
    pub addr: String,
    pub log: PathBuf,
}

impl Registry {
    pub fn start(name: &str) -> Registry {
        let dir = temp_dir(&format!("registry-{name}"));
        let script = repo_root().join("tests/support/registry.sh");
        let out = Command::new("bash").arg(&script).arg("start").arg(&*dir).output().unwrap();
        assert!(out.status.success(), "registry.sh start: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let vars: BTreeMap<&str, &str> = text.split_whitespace().filter_map(|w| w.split_once('=')).collect();
        let addr = vars["REGISTRY_ADDRESS"].to_string();
        assert_eq!(vars["REGISTRY_USER"], USER);
        assert_eq!(vars["REGISTRY_PASSWORD"], PASSWORD);
        Registry { dir, addr, log: PathBuf::from(vars["REGISTRY_LOG"]) }
    }

    /// The access log's requests so far: (method, uri, status).
    pub fn requests(&self) -> Vec<(String, String, u64)> {
        access_log(&self.log)
    }

    /// Puts a docker-save archive into the registry with skopeo.
    pub fn skopeo_put(&self, archive: &Path, reference: &str) {
        skopeo_put(&self.addr, archive, reference);
    }

    /// The manifest as the registry holds it, by skopeo (not by the crate under test).
    pub fn skopeo_manifest(&self, reference: &str) -> Vec<u8> {
        skopeo(&[
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &format!("{USER}:{PASSWORD}"),
            &format!("docker://{}/{reference}", self.addr),
        ])
    }

    /// A DOCKER_CONFIG directory whose config.json logs in to this registry with `password`.
    pub fn docker_config(&self, name: &str, password: &str) -> Scratch {
        let dir = temp_dir(&format!("config-{name}"));
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
        let config = json!({"auths": {self.addr.clone(): {"auth": auth}}});
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        dir
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let script = repo_root().join("tests/support/registry.sh");
        let _ = Command::new("bash").arg(script).arg("stop").arg(&*self.dir).status();
    }
}

/// distribution's JSON access log lines: (method, uri, status).
pub fn access_log(path: &Path) -> Vec<(String, String, u64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            let m = v.get("http.request.method")?.as_str()?.to_string();
            let u = v.get("http.request.uri")?.as_str()?.to_string();
            let s = v.get("http.response.status")?.as_u64()?;
            Some((m, u, s))
        })
        .collect()
}

pub fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo").arg("--insecure-policy").args(args).output().unwrap();
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// An image of three layers (plain and gzip) whose files say `seed`, with `arch`.
pub fn image(seed: &str, arch: &str) -> Image {
    let layer = |i: usize| {
        tar(&[
            file(format!("{seed}/{i}.txt"), format!("layer {i} of {seed}\n").repeat(50 + i)),
            file(format!("etc/{seed}-{i}"), squash_testkit::noise(3000 + i * 700, i as u64 + seed.len() as u64)),
        ])
    };
    // The base layer made by ADD file: is where the default squash starts.
    let base = Layer::plain(layer(0)).by("/bin/sh -c #(nop) ADD file:0123abcd in / ");
    let mut img = Image::new(vec![base, Layer::gzip(layer(1)), Layer::gzip(layer(2))]);
    img.config.insert("architecture".into(), json!(arch));
    img.tags = vec![format!("test/{seed}:1")];
    img
}

/// Writes bytes to a file in `dir`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// An OCI archive (for `skopeo copy --all oci-archive:`) whose index.json names one image
/// index with one image per (arch, image): a multi-platform image.
pub fn multi_platform_archive(images: &[(&str, &Image)]) -> (Vec<u8>, BTreeMap<String, String>) {
    let mut members = vec![file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)];
    let blob = |members: &mut Vec<squash_testkit::Entry>, bytes: &[u8]| {
        let d = squash_testkit::digest(bytes);
        let name = format!("blobs/sha256/{}", &d[7..]);
        if !members.iter().any(|m| m.path == name.as_bytes()) {
            members.push(file(name, bytes));
        }
        d
    };
    let mut entries = Vec::new();
    let mut by_arch = BTreeMap::new();
    for (arch, img) in images {
        let layers: Vec<Value> = img
            .layers
            .iter()
            .map(|l| {
                let gz = gzip(&l.tar);
                let d = blob(&mut members, &gz);
                json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": gz.len()})
            })
            .collect();
        let config = img.config_bytes();
        let cd = blob(&mut members, &config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
            "layers": layers,
        }))
        .unwrap();
        let md = blob(&mut members, &manifest);
        by_arch.insert(arch.to_string(), md.clone());
        entries.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": md,
            "size": manifest.len(),
            "platform": {"os": "linux", "architecture": arch},
        }));
    }
    let nested = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}),
    )
    .unwrap();
    let nd = blob(&mut members, &nested);
    let index = json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": nd, "size": nested.len()}
    ]});
    members.push(file("index.json", index.to_string()));
    by_arch.insert("index".into(), nd);
    (tar(&members), by_arch)
}

/// A fresh read-write temp file for a pull to write into.
pub fn out_file(dir: &Path, name: &str) -> std::fs::File {
    std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(dir.join(name)).unwrap()
}

/// Every regular member of the tar in `f`, by name.
pub fn members(f: &mut std::fs::File) -> BTreeMap<String, Vec<u8>> {
    f.flush().unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).unwrap();
    members_of(&bytes)
}

pub fn members_of(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in tar::Archive::new(bytes).entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = e.path().unwrap().display().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    squash_testkit::digest(bytes)
}

/// Collects log lines; the tests look for secrets in them.
#[derive(Default)]
pub struct Log(pub Vec<String>);

impl Log {
    pub fn sink(&mut self) -> impl FnMut(&str) + '_ {
        |l: &str| self.0.push(l.to_string())
    }
    pub fn text(&self) -> String {
        self.0.join("\n")
    }
}

/// Fails if any form of the test login shows in `text`.
pub fn assert_no_secret(text: &str) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for s in [PASSWORD, b64.as_str(), "wrong-password"] {
        assert!(!text.contains(s), "a secret ({s}) leaked into: {text}");
    }
}

/// Puts a docker-save archive into the registry at `addr` with skopeo, logged in as the
/// tests' user (any registry of these tests: htpasswd or token).
pub fn skopeo_put(addr: &str, archive: &Path, reference: &str) {
    skopeo(&[
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--dest-creds",
        &format!("{USER}:{PASSWORD}"),
        &format!("docker-archive:{}", archive.display()),
        &format!("docker://{addr}/{reference}"),
    ]);
}
