//! Whole image archives from layers: `docker save` (Docker 1.10–24, with its layer folders
//! named in three ways), Docker 25+ (OCI layout plus manifest.json), and OCI image layouts.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::compress::{gzip, zstd, GZIP_MAGIC, ZSTD_MAGIC};
use crate::digest::{digest, sha256_hex};
use crate::entry::{dir, file, hardlink, symlink, tar, Entry};

/// One layer of an image.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The uncompressed layer tar (what the reference filesystem applies); empty for
    /// [`Layer::raw`] layers, whose content the tests do not know.
    pub tar: Vec<u8>,
    /// The bytes stored in the archive (the tar, or it compressed).
    pub stored: Vec<u8>,
    /// The diff_id the config promises: the tar's digest unless a test sets another.
    pub diff_id: String,
    /// The `created_by` of its history step, when the image gives no history.
    pub created_by: Option<String>,
}

impl Layer {
    /// A layer stored as `stored` (the tar compressed, framed, or as it is).
    pub fn new(tar: Vec<u8>, stored: Vec<u8>) -> Layer {
        Layer { diff_id: digest(&tar), tar, stored, created_by: None }
    }
    pub fn plain(tar: Vec<u8>) -> Layer {
        Layer::new(tar.clone(), tar)
    }
    pub fn gzip(tar: Vec<u8>) -> Layer {
        let stored = gzip(&tar);
        Layer::new(tar, stored)
    }
    pub fn zstd(tar: Vec<u8>) -> Layer {
        let stored = zstd(&tar);
        Layer::new(tar, stored)
    }
    /// Any stored bytes (damaged, hostile), with the diff_id the config is to promise.
    pub fn raw(stored: Vec<u8>, diff_id: &str) -> Layer {
        Layer { tar: Vec::new(), stored, diff_id: diff_id.to_string(), created_by: None }
    }
    pub fn by(mut self, created_by: &str) -> Layer {
        self.created_by = Some(created_by.to_string());
        self
    }
}

/// How a `docker save` archive (Docker 1.10–24) names its layer members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folders {
    /// `<sha256 of the stored bytes>/layer.tar`: a repeated layer is stored once and named
    /// twice in manifest.json.
    ByContent,
    /// One `<v1 id>/` folder per layer ([`v1_id`]): a repeated layer is stored twice.
    ByPosition,
    /// As `ByPosition`, with a repeat stored as a symlink `../<first v1 id>/layer.tar`.
    SymlinkedRepeats,
}

/// The legacy (v1) id of layer `i`: one per position, as Docker's ids of a chain are.
/// `n` bytes that compress about as a binary does: a quarter pseudo-random, the rest from
/// eight letters (xorshift from `seed`: the same bytes every run).
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 4 == 0 {
                (x >> 56) as u8
            } else {
                b'a' + (x % 8) as u8
            }
        })
        .collect()
}

pub fn v1_id(i: usize) -> String {
    sha256_hex(format!("v1 id {i}").as_bytes())
}

/// An image: its layers, config and tags.
#[derive(Debug, Clone)]
pub struct Image {
    pub layers: Vec<Layer>,
    /// The config's history; None: one step per layer (see [`Image::history_values`]).
    pub history: Option<Vec<Value>>,
    /// The config without rootfs and history.
    pub config: Map<String, Value>,
    pub tags: Vec<String>,
}

pub fn base_config() -> Map<String, Value> {
    let v = json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-05-01T10:00:00Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"], "WorkingDir": "/"},
        "docker_version": "24.0.7",
    });
    v.as_object().unwrap().clone()
}

/// An archive member: a regular file with mtime 0.
pub(crate) fn member(name: &str, data: &[u8]) -> Entry {
    file(name, data).mtime(0)
}

/// Adds `blobs/sha256/<digest>` holding `data` to `members`, unless it is there already.
pub(crate) fn add_blob(members: &mut Vec<Entry>, data: &[u8]) {
    let name = format!("blobs/sha256/{}", sha256_hex(data));
    if !members.iter().any(|m| m.path == name.as_bytes()) {
        members.push(member(&name, data));
    }
}

impl Image {
    pub fn new(layers: Vec<Layer>) -> Self {
        Image { layers, history: None, config: base_config(), tags: vec!["test/img:1".into()] }
    }
    pub fn from_entries(layers: &[Vec<Entry>]) -> Self {
        Image::new(layers.iter().map(|l| Layer::plain(tar(l))).collect())
    }

    /// The history, or one step per layer: `created_by` as the layer gives it, else
    /// `/bin/sh -c step <i>`.
    pub fn history_values(&self) -> Vec<Value> {
        self.history.clone().unwrap_or_else(|| {
            self.layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let by = l.created_by.clone().unwrap_or_else(|| format!("/bin/sh -c step {i}"));
                    json!({"created": format!("2024-05-01T10:00:{i:02}Z"), "created_by": by})
                })
                .collect()
        })
    }

    pub fn config_bytes(&self) -> Vec<u8> {
        let mut c = self.config.clone();
        let ids: Vec<&str> = self.layers.iter().map(|l| l.diff_id.as_str()).collect();
        c.insert("rootfs".into(), json!({"type": "layers", "diff_ids": ids}));
        c.insert("history".into(), Value::Array(self.history_values()));
        serde_json::to_vec(&Value::Object(c)).unwrap()
    }

    /// A `docker save` archive with layer folders named by content.
    pub fn docker_save(&self) -> Vec<u8> {
        self.docker_save_as(Folders::ByContent)
    }

    pub fn docker_save_as(&self, folders: Folders) -> Vec<u8> {
        tar(&self.docker_members(folders))
    }

    /// The members of a `docker save` archive, for tests that change some:
    /// the layers (`<folder>/layer.tar`), `<config digest>.json`, then manifest.json.
    pub fn docker_members(&self, folders: Folders) -> Vec<Entry> {
        docker_members(&[self], folders)
    }

    /// Several images in one `docker save` archive (a layer they share is stored once).
    pub fn docker_save_many(images: &[&Image]) -> Vec<u8> {
        tar(&docker_members(images, Folders::ByContent))
    }

    /// An OCI image layout archive: oci-layout, blobs/sha256/*, index.json; no manifest.json.
    pub fn oci_layout(&self) -> Vec<u8> {
        let mut members = vec![member("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)];
        let mut manifest = self.oci_blobs(&mut members);
        manifest["annotations"] =
            json!({"org.opencontainers.image.ref.name": self.tags.first().cloned().unwrap_or_default()});
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [manifest],
        });
        members.push(member("index.json", &serde_json::to_vec(&index).unwrap()));
        tar(&members)
    }

    /// Adds the image's blobs to `members` (its layers, each once: a blob already there is
    /// not added again; its config; its OCI manifest) and returns the manifest's descriptor.
    pub fn oci_blobs(&self, members: &mut Vec<Entry>) -> Value {
        let config = self.config_bytes();
        let mut descs = Vec::new();
        for l in &self.layers {
            let d = digest(&l.stored);
            let media = if l.stored.starts_with(&GZIP_MAGIC) {
                "application/vnd.oci.image.layer.v1.tar+gzip"
            } else if l.stored.starts_with(&ZSTD_MAGIC) {
                "application/vnd.oci.image.layer.v1.tar+zstd"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            descs.push(json!({"mediaType": media, "digest": d, "size": l.stored.len()}));
            add_blob(members, &l.stored);
        }
        let config_digest = digest(&config);
        add_blob(members, &config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": descs,
        });
        let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
        add_blob(members, &manifest_bytes);
        json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest(&manifest_bytes),
            "size": manifest_bytes.len(),
        })
    }

    /// Docker 25+: OCI layout plus a manifest.json naming blobs, with LayerSources.
    pub fn docker25_save(&self) -> Vec<u8> {
        let config = self.config_bytes();
        let config_name = format!("blobs/sha256/{}", sha256_hex(&config));
        let mut members = vec![member("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)];
        let mut names = Vec::new();
        let mut sources = Map::new();
        for l in &self.layers {
            let name = format!("blobs/sha256/{}", sha256_hex(&l.stored));
            if !members.iter().any(|m| m.path == name.as_bytes()) {
                members.push(member(&name, &l.stored));
            }
            let source = json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": l.stored.len(), "digest": digest(&l.stored)});
            sources.insert(l.diff_id.clone(), source);
            names.push(name);
        }
        members.push(member(&config_name, &config));
        let manifest =
            json!([{"Config": config_name, "RepoTags": self.tags, "Layers": names, "LayerSources": sources}]);
        members.push(member("manifest.json", &serde_json::to_vec(&manifest).unwrap()));
        members.push(member("index.json", br#"{"schemaVersion":2,"manifests":[]}"#));
        tar(&members)
    }
}

fn docker_members(images: &[&Image], folders: Folders) -> Vec<Entry> {
    let mut members: Vec<Entry> = Vec::new();
    let mut manifest = Vec::new();
    for image in images {
        let config = image.config_bytes();
        let config_name = format!("{}.json", sha256_hex(&config));
        let mut names = Vec::new();
        // diff_id → the member that holds it first (for symlinked repeats).
        let mut first: BTreeMap<&str, String> = BTreeMap::new();
        for (i, l) in image.layers.iter().enumerate() {
            let name = match folders {
                Folders::ByContent => format!("{}/layer.tar", sha256_hex(&l.stored)),
                Folders::ByPosition | Folders::SymlinkedRepeats => {
                    members.push(dir(v1_id(i)).mtime(0));
                    format!("{}/layer.tar", v1_id(i))
                }
            };
            match first.get(l.diff_id.as_str()) {
                Some(f) if folders == Folders::SymlinkedRepeats => {
                    members.push(symlink(&name, format!("../{f}")).mtime(0));
                }
                _ if folders == Folders::ByContent && members.iter().any(|m| m.path == name.as_bytes()) => {}
                _ => {
                    members.push(member(&name, &l.stored));
                    first.entry(&l.diff_id).or_insert(name.clone());
                }
            }
            names.push(name);
        }
        members.push(member(&config_name, &config));
        manifest.push(json!({"Config": config_name, "RepoTags": image.tags, "Layers": names}));
    }
    members.push(member("manifest.json", &serde_json::to_vec(&manifest).unwrap()));
    members
}

/// A base layer and two above it (gzip, zstd) that delete, overwrite, link and make a
/// directory opaque: every squash rule gets some bytes to chew on (fuzz seeds, hostile tests).
pub fn sample_layers() -> Vec<Layer> {
    vec![
        Layer::plain(tar(&[
            dir("etc/"),
            file("etc/os-release", b"ID=test\n"),
            file("bin/sh", b"#!sh\n"),
            file("a/old", b"old"),
        ]))
        .by("/bin/sh -c #(nop) ADD file:0123 in / "),
        Layer::gzip(tar(&[
            file("a/.wh.old", b""),
            file("a/new", b"new content"),
            hardlink("a/link", "a/new"),
            symlink("a/sym", "../etc/os-release"),
        ])),
        Layer::zstd(tar(&[
            dir("a/"),
            file("a/.wh..wh..opq", b""),
            file("a/last", b"last"),
            file("etc/os-release", b"ID=changed\n"),
        ])),
    ]
}
