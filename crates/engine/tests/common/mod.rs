//! Test support: builds layers and whole `docker save` / OCI archives in memory, runs the
//! engine on them, parses what it wrote, and applies layers with a small reference
//! implementation of Docker's rules (independent of the engine's code) so that the
//! filesystem an image shows can be compared before and after squashing.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use squash_engine::{Archive, Error, SliceSource, SquashOptions, SquashReport};

pub use squash_engine::SquashFrom;

pub const MTIME: u64 = 1_600_000_000;

// ---------------------------------------------------------------------------------------
// Layer entries

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    Hardlink(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// How names that do not fit the 100-byte header field are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As Go's archive/tar (Docker): USTAR with prefix/name when it fits, PAX otherwise.
    Go,
    /// GNU headers with `././@LongLink` members (L for names, K for link targets).
    Gnu,
    /// USTAR headers with PAX `path` / `linkpath` records for anything over 100 bytes.
    Pax,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: EKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    pub style: Style,
}

fn entry(path: impl AsRef<[u8]>, kind: EKind, mode: u32) -> Entry {
    Entry {
        path: path.as_ref().to_vec(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        xattrs: Vec::new(),
        style: Style::Go,
    }
}

pub fn file(path: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::File(data.as_ref().to_vec()), 0o644)
}
pub fn dir(path: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Dir, 0o755)
}
pub fn symlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Symlink(target.as_ref().to_vec()), 0o777)
}
/// A hardlink: give it the target's metadata, as tar writers do (same inode).
pub fn hardlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Hardlink(target.as_ref().to_vec()), 0o644)
}
pub fn chardev(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
    entry(path, EKind::Char(major, minor), 0o666)
}
pub fn blockdev(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
    entry(path, EKind::Block(major, minor), 0o660)
}
pub fn fifo(path: impl AsRef<[u8]>) -> Entry {
    entry(path, EKind::Fifo, 0o644)
}
/// `<dir>/.wh.<name>`: deletes `path`.
pub fn whiteout(path: impl AsRef<[u8]>) -> Entry {
    let p = path.as_ref();
    let (d, n) = match p.iter().rposition(|&b| b == b'/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => (&b""[..], p),
    };
    let mut name = d.to_vec();
    name.extend_from_slice(b".wh.");
    name.extend_from_slice(n);
    let mut e = file(name, b"");
    e.mode = 0;
    e
}
/// `<dir>/.wh..wh..opq`.
pub fn opaque(d: impl AsRef<[u8]>) -> Entry {
    let mut name = d.as_ref().to_vec();
    if !name.is_empty() {
        name.push(b'/');
    }
    name.extend_from_slice(b".wh..wh..opq");
    let mut e = file(name, b"");
    e.mode = 0;
    e
}

impl Entry {
    pub fn mode(mut self, m: u32) -> Self {
        self.mode = m;
        self
    }
    pub fn owner(mut self, uid: u64, gid: u64) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }
    pub fn mtime(mut self, t: u64) -> Self {
        self.mtime = t;
        self
    }
    pub fn xattr(mut self, k: &str, v: impl AsRef<[u8]>) -> Self {
        self.xattrs.push((k.as_bytes().to_vec(), v.as_ref().to_vec()));
        self
    }
    pub fn style(mut self, s: Style) -> Self {
        self.style = s;
        self
    }
}

fn pax_record(k: &[u8], v: &[u8]) -> Vec<u8> {
    let body = k.len() + v.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} ").into_bytes();
    r.extend_from_slice(k);
    r.push(b'=');
    r.extend_from_slice(v);
    r.push(b'\n');
    r
}

fn pad_to_block(out: &mut Vec<u8>) {
    while out.len() % 512 != 0 {
        out.push(0);
    }
}

fn ext_member(out: &mut Vec<u8>, typeflag: u8, data: &[u8], gnu: bool) {
    let mut h = if gnu { tar::Header::new_gnu() } else { tar::Header::new_ustar() };
    let name: &[u8] = if gnu { b"././@LongLink" } else { b"././@PaxHeader" };
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(data.len() as u64);
    h.set_entry_type(tar::EntryType::new(typeflag));
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    pad_to_block(out);
}

/// Appends one entry (with its PAX / GNU extension members) to a tar stream.
pub fn write_entry(out: &mut Vec<u8>, e: &Entry) {
    let mut name = e.path.clone();
    if e.kind == EKind::Dir && !name.ends_with(b"/") {
        name.push(b'/');
    }
    let link = match &e.kind {
        EKind::Symlink(t) | EKind::Hardlink(t) => Some(t.clone()),
        _ => None,
    };
    let gnu = e.style == Style::Gnu;
    let mut h = if gnu { tar::Header::new_gnu() } else { tar::Header::new_ustar() };
    let mut pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (k, v) in &e.xattrs {
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(k);
        pax.push((key, v.clone()));
    }
    // The name.
    let mut main_name = name.clone();
    let mut prefix: Vec<u8> = Vec::new();
    if name.len() > 100 {
        match e.style {
            Style::Gnu => {
                let mut d = name.clone();
                d.push(0);
                ext_member(out, b'L', &d, true);
                main_name.truncate(100);
            }
            Style::Pax => {
                pax.push((b"path".to_vec(), name.clone()));
                main_name.truncate(100);
            }
            Style::Go => {
                // USTAR split: prefix (<=155) '/' name (<=100), splitting at a slash.
                let split = (0..name.len())
                    .rev()
                    .find(|&i| name[i] == b'/' && i <= 155 && name.len() - i - 1 <= 100 && name.len() - i - 1 > 0);
                match split {
                    Some(i) => {
                        prefix = name[..i].to_vec();
                        main_name = name[i + 1..].to_vec();
                    }
                    None => {
                        pax.push((b"path".to_vec(), name.clone()));
                        main_name.truncate(100);
                    }
                }
            }
        }
    }
    let mut main_link = link.clone().unwrap_or_default();
    if main_link.len() > 100 {
        if gnu {
            let mut d = main_link.clone();
            d.push(0);
            ext_member(out, b'K', &d, true);
        } else {
            pax.push((b"linkpath".to_vec(), main_link.clone()));
        }
        main_link.truncate(100);
    }
    if !pax.is_empty() {
        let mut data = Vec::new();
        for (k, v) in &pax {
            data.extend_from_slice(&pax_record(k, v));
        }
        ext_member(out, b'x', &data, false);
    }
    h.as_old_mut().name[..main_name.len()].copy_from_slice(&main_name);
    if !prefix.is_empty() {
        h.as_ustar_mut().unwrap().prefix[..prefix.len()].copy_from_slice(&prefix);
    }
    h.as_old_mut().linkname[..main_link.len()].copy_from_slice(&main_link);
    h.set_mode(e.mode);
    h.set_uid(e.uid);
    h.set_gid(e.gid);
    h.set_mtime(e.mtime);
    let (ty, size) = match &e.kind {
        EKind::File(d) => (b'0', d.len() as u64),
        EKind::Dir => (b'5', 0),
        EKind::Symlink(_) => (b'2', 0),
        EKind::Hardlink(_) => (b'1', 0),
        EKind::Char(..) => (b'3', 0),
        EKind::Block(..) => (b'4', 0),
        EKind::Fifo => (b'6', 0),
    };
    h.set_entry_type(tar::EntryType::new(ty));
    h.set_size(size);
    if let EKind::Char(ma, mi) | EKind::Block(ma, mi) = e.kind {
        h.set_device_major(ma).unwrap();
        h.set_device_minor(mi).unwrap();
    }
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    if let EKind::File(d) = &e.kind {
        out.extend_from_slice(d);
        pad_to_block(out);
    }
}

/// An uncompressed layer tar.
pub fn layer(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        write_entry(&mut out, e);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A layer tar without the end-of-archive blocks (Go's reader accepts a clean end).
pub fn layer_without_end(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        write_entry(&mut out, e);
    }
    out
}

/// A PAX global header member (`g`), as `git archive` writes first.
pub fn global_pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut data = Vec::new();
    for (k, v) in records {
        data.extend_from_slice(&pax_record(k.as_bytes(), v.as_bytes()));
    }
    let mut out = Vec::new();
    ext_member(&mut out, b'g', &data, false);
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// Undoes gzip or zstd, by magic bytes.
pub fn decompress(data: &[u8]) -> Vec<u8> {
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
        out
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut out = Vec::new();
        ruzstd::decoding::StreamingDecoder::new(data).unwrap().read_to_end(&mut out).unwrap();
        out
    } else {
        data.to_vec()
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn digest(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

// ---------------------------------------------------------------------------------------
// Whole archives

#[derive(Debug, Clone)]
pub struct LayerSpec {
    /// The uncompressed layer tar.
    pub tar: Vec<u8>,
    /// The bytes stored in the archive (the tar, or it compressed).
    pub stored: Vec<u8>,
}

impl LayerSpec {
    pub fn plain(tar: Vec<u8>) -> Self {
        LayerSpec { stored: tar.clone(), tar }
    }
    pub fn diff_id(&self) -> String {
        digest(&self.tar)
    }
}

#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub layers: Vec<LayerSpec>,
    /// The config's history; None: one `RUN step i` entry per layer.
    pub history: Option<Vec<Value>>,
    /// The config without rootfs and history.
    pub config: Map<String, Value>,
    pub tags: Vec<String>,
    /// Replaces the config's diff_ids (to test mismatches).
    pub diff_ids_override: Option<Vec<String>>,
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

impl ImageSpec {
    pub fn new(layers: Vec<LayerSpec>) -> Self {
        ImageSpec {
            layers,
            history: None,
            config: base_config(),
            tags: vec!["test/img:1".into()],
            diff_ids_override: None,
        }
    }
    pub fn from_entries(layers: &[Vec<Entry>]) -> Self {
        ImageSpec::new(layers.iter().map(|l| LayerSpec::plain(layer(l))).collect())
    }

    pub fn history_values(&self) -> Vec<Value> {
        self.history.clone().unwrap_or_else(|| {
            (0..self.layers.len())
                .map(|i| json!({"created": format!("2024-05-01T10:00:{i:02}Z"), "created_by": format!("/bin/sh -c step {i}")}))
                .collect()
        })
    }

    pub fn config_bytes(&self) -> Vec<u8> {
        let mut c = self.config.clone();
        let ids: Vec<String> = match &self.diff_ids_override {
            Some(d) => d.clone(),
            None => self.layers.iter().map(|l| l.diff_id()).collect(),
        };
        c.insert("rootfs".into(), json!({"type": "layers", "diff_ids": ids}));
        c.insert("history".into(), Value::Array(self.history_values()));
        serde_json::to_vec(&Value::Object(c)).unwrap()
    }

    /// A `docker save` archive (manifest.json, `<id>.json`, `<id>/layer.tar`).
    pub fn docker_save(&self) -> Vec<u8> {
        let config = self.config_bytes();
        let config_name = format!("{}.json", sha256_hex(&config));
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut names = Vec::new();
        for l in &self.layers {
            let name = format!("{}/layer.tar", sha256_hex(&l.stored));
            if !names.contains(&name) {
                members.push((name.clone(), l.stored.clone()));
            }
            names.push(name);
        }
        members.push((config_name.clone(), config));
        let manifest = json!([{"Config": config_name, "RepoTags": self.tags, "Layers": names}]);
        members.push(("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()));
        outer_tar(&members)
    }

    /// Several images in one `docker save` archive.
    pub fn docker_save_many(specs: &[&ImageSpec]) -> Vec<u8> {
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut manifest = Vec::new();
        for spec in specs {
            let config = spec.config_bytes();
            let config_name = format!("{}.json", sha256_hex(&config));
            let mut names = Vec::new();
            for l in &spec.layers {
                let name = format!("{}/layer.tar", sha256_hex(&l.stored));
                if !members.iter().any(|(n, _)| n == &name) {
                    members.push((name.clone(), l.stored.clone()));
                }
                names.push(name);
            }
            members.push((config_name.clone(), config));
            manifest.push(json!({"Config": config_name, "RepoTags": spec.tags, "Layers": names}));
        }
        members.push(("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()));
        outer_tar(&members)
    }

    /// An OCI image layout archive: index.json, oci-layout, blobs/sha256/*; no manifest.json.
    pub fn oci_layout(&self) -> Vec<u8> {
        let config = self.config_bytes();
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        members.push(("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()));
        let mut descs = Vec::new();
        let mut seen = BTreeSet::new();
        for l in &self.layers {
            let d = digest(&l.stored);
            let media = if l.stored.starts_with(&[0x1f, 0x8b]) {
                "application/vnd.oci.image.layer.v1.tar+gzip"
            } else if l.stored.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                "application/vnd.oci.image.layer.v1.tar+zstd"
            } else {
                "application/vnd.oci.image.layer.v1.tar"
            };
            descs.push(json!({"mediaType": media, "digest": d, "size": l.stored.len()}));
            if seen.insert(d.clone()) {
                members.push((format!("blobs/sha256/{}", &d[7..]), l.stored.clone()));
            }
        }
        let config_digest = digest(&config);
        members.push((format!("blobs/sha256/{}", &config_digest[7..]), config.clone()));
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": descs,
        });
        let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
        let manifest_digest = digest(&manifest_bytes);
        members.push((format!("blobs/sha256/{}", &manifest_digest[7..]), manifest_bytes.clone()));
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest_bytes.len(),
                "annotations": {"org.opencontainers.image.ref.name": self.tags.first().cloned().unwrap_or_default()},
            }],
        });
        members.push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
        outer_tar(&members)
    }
}

/// Docker 25+: OCI layout plus manifest.json naming blobs, with LayerSources.
pub fn docker25_save(spec: &ImageSpec) -> Vec<u8> {
    let config = spec.config_bytes();
    let config_name = format!("blobs/sha256/{}", sha256_hex(&config));
    let mut members: Vec<(String, Vec<u8>)> =
        vec![("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec())];
    let mut names = Vec::new();
    let mut sources = Map::new();
    for l in &spec.layers {
        let name = format!("blobs/sha256/{}", sha256_hex(&l.stored));
        if !members.iter().any(|(n, _)| n == &name) {
            members.push((name.clone(), l.stored.clone()));
        }
        sources.insert(l.diff_id(), json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": l.stored.len(), "digest": digest(&l.stored)}));
        names.push(name);
    }
    members.push((config_name.clone(), config));
    let manifest = json!([{"Config": config_name, "RepoTags": spec.tags, "Layers": names, "LayerSources": sources}]);
    members.push(("manifest.json".into(), serde_json::to_vec(&manifest).unwrap()));
    members.push(("index.json".into(), br#"{"schemaVersion":2,"manifests":[]}"#.to_vec()));
    outer_tar(&members)
}

/// Pre-25 `docker save` of an image whose layers repeat: each layer in its own `<id>/`
/// folder, repeats as symlinks `../<first id>/layer.tar`.
pub fn docker_save_with_symlinked_repeats(spec: &ImageSpec) -> Vec<u8> {
    let config = spec.config_bytes();
    let config_name = format!("{}.json", sha256_hex(&config));
    let mut b = tar::Builder::new(Vec::new());
    let mut first: BTreeMap<String, String> = BTreeMap::new();
    let mut names = Vec::new();
    for (i, l) in spec.layers.iter().enumerate() {
        let id = sha256_hex(format!("v1 id {i}").as_bytes());
        let name = format!("{id}/layer.tar");
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o755);
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        b.append_data(&mut h, format!("{id}/"), &[][..]).unwrap();
        match first.get(&l.diff_id()) {
            Some(f) => {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                b.append_link(&mut h, &name, format!("../{f}")).unwrap();
            }
            None => {
                let mut h = tar::Header::new_gnu();
                h.set_size(l.stored.len() as u64);
                h.set_mode(0o644);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, &name, &l.stored[..]).unwrap();
                first.insert(l.diff_id(), name.clone());
            }
        }
        names.push(name);
    }
    for (name, data) in [
        (config_name.clone(), config),
        (
            "manifest.json".to_string(),
            serde_json::to_vec(&json!([{"Config": config_name, "RepoTags": spec.tags, "Layers": names}])).unwrap(),
        ),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn outer_tar(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

// ---------------------------------------------------------------------------------------
// Running the engine and reading its output

pub fn squash_with(archive: &[u8], opts: &SquashOptions) -> Result<(Vec<u8>, SquashReport), Error> {
    let a = Archive::open(Box::new(SliceSource(archive)))?;
    let mut out = Vec::new();
    let report = a.squash(opts, &mut out, &mut |_| true)?;
    Ok((out, report))
}

pub fn squash(archive: &[u8], from: SquashFrom) -> Result<(Vec<u8>, SquashReport), Error> {
    squash_with(archive, &SquashOptions { from, ..Default::default() })
}

/// A written docker-save archive, read back.
#[derive(Debug)]
pub struct Output {
    pub members: BTreeMap<String, Vec<u8>>,
    /// Member names in writing order.
    pub order: Vec<String>,
    pub manifest: Value,
    pub config_name: String,
    pub config_bytes: Vec<u8>,
    pub config: Map<String, Value>,
    /// Layer members in manifest order, as stored.
    pub layers: Vec<Vec<u8>>,
}

pub fn read_output(bytes: &[u8]) -> Output {
    let mut members = BTreeMap::new();
    let mut order = Vec::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        order.push(name.clone());
        members.insert(name, data);
    }
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let m = &manifest.as_array().unwrap()[0];
    let config_name = m["Config"].as_str().unwrap().to_string();
    let config_bytes = members[&config_name].clone();
    let config = serde_json::from_slice::<Value>(&config_bytes).unwrap().as_object().unwrap().clone();
    let layers = m["Layers"].as_array().unwrap().iter().map(|l| members[l.as_str().unwrap()].clone()).collect();
    Output { members, order, manifest, config_name, config_bytes, config, layers }
}

/// One entry of a layer, parsed by the tar crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub path: Vec<u8>,
    pub typeflag: u8,
    pub link: Option<Vec<u8>>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub dev: (u32, u32),
    pub data: Vec<u8>,
    pub xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Parsed {
    /// The path without a trailing slash or leading `./`.
    pub fn clean(&self) -> Vec<u8> {
        clean_path(&self.path)
    }
}

pub fn parse_layer(stored: &[u8]) -> Vec<Parsed> {
    let raw = decompress(stored);
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(&raw[..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let typeflag = e.header().entry_type().as_byte();
        if typeflag == b'g' {
            continue;
        }
        let path = e.path_bytes().into_owned();
        let link = e.link_name_bytes().map(|l| l.into_owned());
        let mut xattrs = BTreeMap::new();
        if let Some(p) = e.pax_extensions().unwrap() {
            for r in p {
                let r = r.unwrap();
                if let Some(k) = r.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    xattrs.insert(k.to_vec(), r.value_bytes().to_vec());
                }
            }
        }
        let h = e.header();
        let mode = h.mode().unwrap() & 0o7777;
        let uid = h.uid().unwrap();
        let gid = h.gid().unwrap();
        let mtime = h.mtime().unwrap();
        let dev = if matches!(typeflag, b'3' | b'4') {
            (h.device_major().unwrap().unwrap_or(0), h.device_minor().unwrap().unwrap_or(0))
        } else {
            (0, 0)
        };
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push(Parsed { path, typeflag, link, mode, uid, gid, mtime, dev, data, xattrs });
    }
    out
}

// ---------------------------------------------------------------------------------------
// The reference filesystem

pub fn clean_path(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join(&b'/')
}

fn parent_of(p: &[u8]) -> Option<&[u8]> {
    if p.is_empty() {
        return None;
    }
    Some(match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[..i],
        None => b"",
    })
}

fn is_under(p: &[u8], d: &[u8]) -> bool {
    if d.is_empty() {
        return !p.is_empty();
    }
    p.len() > d.len() && p.starts_with(d) && p[d.len()] == b'/'
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// What a path shows: content and metadata. `ino` tells hardlinked paths apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    pub ino: u64,
}

#[derive(Debug, Clone)]
pub struct Fs {
    pub nodes: BTreeMap<Vec<u8>, Node>,
    next_ino: u64,
}

impl Default for Fs {
    fn default() -> Self {
        Fs::new()
    }
}

impl Fs {
    pub fn new() -> Fs {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            Vec::new(),
            Node { kind: NKind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 0, xattrs: BTreeMap::new(), ino: 0 },
        );
        Fs { nodes, next_ino: 1 }
    }

    fn ino(&mut self) -> u64 {
        self.next_ino += 1;
        self.next_ino
    }

    fn remove_tree(&mut self, p: &[u8]) {
        let doomed: Vec<Vec<u8>> = self.nodes.keys().filter(|k| k.as_slice() == p || is_under(k, p)).cloned().collect();
        for k in doomed {
            if !k.is_empty() {
                self.nodes.remove(&k);
            }
        }
    }

    fn is_dir(&self, p: &[u8]) -> bool {
        self.nodes.get(p).is_some_and(|n| n.kind == NKind::Dir)
    }

    /// Docker's MkdirAll for the parents of a path: missing ones (or non-directories in
    /// the way) become 0755 root directories.
    fn make_dirs(&mut self, d: &[u8], written: &mut BTreeSet<Vec<u8>>) {
        if d.is_empty() {
            return;
        }
        if let Some(p) = parent_of(d) {
            self.make_dirs(p, written);
        }
        if !self.is_dir(d) {
            self.remove_tree(d);
            let ino = self.ino();
            self.nodes.insert(
                d.to_vec(),
                Node { kind: NKind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 0, xattrs: BTreeMap::new(), ino },
            );
        }
        written.insert(d.to_vec());
    }

    /// Applies one layer (compressed or not) with Docker's rules, overlay semantics for
    /// opaque directories.
    pub fn apply(&mut self, stored: &[u8]) {
        let mut written: BTreeSet<Vec<u8>> = BTreeSet::new();
        for e in parse_layer(stored) {
            let p = e.clean();
            let (parent, base) = match p.iter().rposition(|&b| b == b'/') {
                Some(i) => (p[..i].to_vec(), p[i + 1..].to_vec()),
                None => (Vec::new(), p.clone()),
            };
            if let Some(rest) = base.strip_prefix(b".wh.") {
                if rest == b".wh..opq" {
                    self.make_dirs(&parent, &mut written);
                    let hidden: Vec<Vec<u8>> =
                        self.nodes.keys().filter(|k| is_under(k, &parent) && !written.contains(*k)).cloned().collect();
                    for k in hidden {
                        self.nodes.remove(&k);
                    }
                } else if !rest.starts_with(b".wh.") {
                    let mut target = parent.clone();
                    if !target.is_empty() {
                        target.push(b'/');
                    }
                    target.extend_from_slice(rest);
                    if !target.is_empty() && self.nodes.contains_key(&target) {
                        self.remove_tree(&target);
                        // The deleting layer holds the whiteout's directories (overlay2
                        // makes them in the layer's own directory): an opaque marker
                        // on an ancestor in this layer does not hide them.
                        let mut a = parent_of(&target);
                        while let Some(d) = a {
                            written.insert(d.to_vec());
                            a = parent_of(d);
                        }
                    }
                }
                continue;
            }
            if p.is_empty() {
                if e.typeflag == b'5' {
                    let root = self.nodes.get_mut(&Vec::new()).unwrap();
                    root.mode = e.mode;
                    root.uid = e.uid;
                    root.gid = e.gid;
                    root.mtime = e.mtime;
                    root.xattrs = e.xattrs.clone();
                }
                continue;
            }
            let node = match e.typeflag {
                b'1' => {
                    let t = clean_path(e.link.as_deref().unwrap());
                    let n = self
                        .nodes
                        .get(&t)
                        .unwrap_or_else(|| panic!("hardlink {:?} to missing {:?}", show(&p), show(&t)));
                    assert!(n.kind != NKind::Dir, "hardlink to a directory");
                    n.clone()
                }
                ty => {
                    let kind = match ty {
                        b'0' | b'\0' | b'7' => NKind::File(e.data.clone()),
                        b'5' => NKind::Dir,
                        b'2' => NKind::Symlink(e.link.clone().unwrap_or_default()),
                        b'3' => NKind::Char(e.dev.0, e.dev.1),
                        b'4' => NKind::Block(e.dev.0, e.dev.1),
                        b'6' => NKind::Fifo,
                        other => panic!("unexpected typeflag {other}"),
                    };
                    let ino = self.ino();
                    Node { kind, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, xattrs: e.xattrs.clone(), ino }
                }
            };
            self.make_dirs(&parent, &mut written);
            if !(node.kind == NKind::Dir && self.is_dir(&p)) {
                self.remove_tree(&p);
            }
            self.nodes.insert(p.clone(), node);
            written.insert(p);
        }
    }

    pub fn from_layers<T: AsRef<[u8]>>(layers: &[T]) -> Fs {
        let mut fs = Fs::new();
        for l in layers {
            fs.apply(l.as_ref());
        }
        fs
    }

    /// Paths that share an inode, as sorted groups of two or more.
    pub fn link_groups(&self) -> BTreeSet<Vec<Vec<u8>>> {
        let mut by: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
        for (p, n) in &self.nodes {
            by.entry(n.ino).or_default().push(p.clone());
        }
        by.into_values().filter(|g| g.len() > 1).collect()
    }

    /// Everything but inode numbers.
    pub fn view(&self) -> BTreeMap<Vec<u8>, Node> {
        self.nodes.iter().map(|(p, n)| (p.clone(), Node { ino: 0, ..n.clone() })).collect()
    }

    pub fn get(&self, p: &str) -> Option<&Node> {
        self.nodes.get(p.as_bytes())
    }

    pub fn paths(&self) -> Vec<String> {
        self.nodes.keys().map(|k| show(k)).collect()
    }
}

pub fn show(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

pub fn assert_same_fs(want: &Fs, got: &Fs, what: &str) {
    assert_same_content(want, got, what);
    let shown =
        |f: &Fs| f.link_groups().iter().map(|g| g.iter().map(|p| show(p)).collect::<Vec<_>>()).collect::<Vec<_>>();
    assert_eq!(shown(want), shown(got), "{what}: hardlink groups differ");
}

/// Same paths, kinds, contents and metadata; hardlink groups not compared.
pub fn assert_same_content(want: &Fs, got: &Fs, what: &str) {
    let (a, b) = (want.view(), got.view());
    if a != b {
        let mut diff = String::new();
        for (p, n) in &a {
            match b.get(p) {
                None => diff += &format!("  missing {:?}: {:?}\n", show(p), n),
                Some(m) if m != n => diff += &format!("  differs {:?}:\n    want {:?}\n    got  {:?}\n", show(p), n, m),
                _ => {}
            }
        }
        for (p, m) in &b {
            if !a.contains_key(p) {
                diff += &format!("  extra {:?}: {:?}\n", show(p), m);
            }
        }
        panic!("{what}: the squashed image shows another filesystem:\n{diff}");
    }
}

// ---------------------------------------------------------------------------------------
// One squash, checked

pub struct Squashed {
    pub input: Vec<u8>,
    pub bytes: Vec<u8>,
    pub report: SquashReport,
    pub out: Output,
    /// Entries of the new (top) layer, when one was written.
    pub new_layer: Vec<Parsed>,
    pub before: Fs,
    pub after: Fs,
}

impl Squashed {
    pub fn new_paths(&self) -> Vec<String> {
        self.new_layer.iter().map(|e| show(&e.path)).collect()
    }
    pub fn new_entry(&self, p: &str) -> Option<&Parsed> {
        let want = clean_path(p.as_bytes());
        self.new_layer.iter().find(|e| e.clean() == want)
    }
    pub fn has(&self, p: &str) -> bool {
        self.new_entry(p).is_some()
    }
}

/// Squashes `archive` (whose layers, uncompressed, are `spec.layers`) and checks that the
/// output shows the same filesystem as the input, the config's diff_ids are the digests
/// of the written layers, and the new layer is well ordered.
pub fn run_archive(spec: &ImageSpec, archive: Vec<u8>, from: SquashFrom) -> Squashed {
    run_checked(spec, archive, from, true)
}

/// As `run_archive`; `groups`: also compare which paths are hardlinked together (not
/// when a squashed layer links to a file of a kept layer: the link then becomes a copy,
/// as overlay2 could not apply a link into a lower layer anyway).
pub fn run_checked(spec: &ImageSpec, archive: Vec<u8>, from: SquashFrom, groups: bool) -> Squashed {
    let (bytes, report) =
        squash(&archive, from.clone()).unwrap_or_else(|e| panic!("squash {from:?} failed: {e} ({:?})", e.code));
    // Trusting the diff_ids (headers-only reading of uncompressed layers) must not change
    // a byte of the result.
    let (trusted, _) =
        squash_with(&archive, &SquashOptions { from: from.clone(), verify: false, ..Default::default() })
            .unwrap_or_else(|e| panic!("squash {from:?} without verifying failed: {e} ({:?})", e.code));
    assert!(trusted == bytes, "squash {from:?}: not verifying changed the output");
    let out = read_output(&bytes);
    let before = Fs::from_layers(&spec.layers.iter().map(|l| l.tar.clone()).collect::<Vec<_>>());
    let after = Fs::from_layers(&out.layers);
    if groups {
        assert_same_fs(&before, &after, &format!("squash {from:?}"));
    } else {
        assert_same_content(&before, &after, &format!("squash {from:?}"));
    }

    // rootfs.diff_ids: the digests of what was written, uncompressed.
    let ids: Vec<String> =
        out.config["rootfs"]["diff_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let written: Vec<String> = out.layers.iter().map(|l| digest(&decompress(l))).collect();
    assert_eq!(ids, written, "rootfs.diff_ids are not the digests of the written layers");
    assert_eq!(report.image_id, digest(&out.config_bytes), "the image id is the config's digest");
    assert_eq!(out.config_name, format!("{}.json", sha256_hex(&out.config_bytes)));

    let keep = report.layers_after - usize::from(report.new_layer_diff_id.is_some());
    for i in 0..keep {
        assert_eq!(out.layers[i], spec.layers[i].stored, "kept layer {i} is not byte-identical");
    }
    let new_layer = match &report.new_layer_diff_id {
        Some(d) => {
            let top = out.layers.last().unwrap();
            assert_eq!(&digest(top), d, "the report's diff_id is the new layer's digest");
            assert_eq!(report.new_layer_size, top.len() as u64);
            let parsed = parse_layer(top);
            let base = Fs::from_layers(&out.layers[..keep]);
            check_order(&parsed, &base);
            parsed
        }
        None => Vec::new(),
    };
    Squashed { input: archive, bytes, report, out, new_layer, before, after }
}

pub fn run(spec: &ImageSpec, from: SquashFrom) -> Squashed {
    let archive = spec.docker_save();
    run_archive(spec, archive, from)
}

pub fn run_layers(layers: &[Vec<Entry>], from: SquashFrom) -> Squashed {
    run(&ImageSpec::from_entries(layers), from)
}

/// From root and from every layer but the top one: the same filesystem each time.
pub fn run_all_points(layers: &[Vec<Entry>]) -> Vec<Squashed> {
    let spec = ImageSpec::from_entries(layers);
    let mut out = vec![run(&spec, SquashFrom::Root)];
    for k in 0..layers.len().saturating_sub(1) {
        let id = spec.layers[k].diff_id();
        if spec.layers.iter().filter(|l| l.diff_id() == id).count() > 1 {
            continue; // identical layers: their diff_id cannot say which one
        }
        out.push(run(&spec, SquashFrom::Layer(id)));
    }
    out
}

/// Parents before children (each entry's directory exists in the base or was written
/// earlier in the layer), hardlink targets before links.
pub fn check_order(entries: &[Parsed], base: &Fs) {
    let mut seen_dirs: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut seen_files: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut opaque_dirs: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut deleted: BTreeSet<Vec<u8>> = BTreeSet::new();
    for e in entries {
        let p = e.clean();
        let mut parent = parent_of(&p);
        while let Some(d) = parent {
            if !d.is_empty() {
                let in_base = base.is_dir(d)
                    && !deleted.iter().any(|x| x.as_slice() == d || is_under(d, x))
                    && !seen_files.contains(d);
                assert!(
                    seen_dirs.contains(d) || in_base,
                    "`{}` comes before its parent directory `{}`",
                    show(&e.path),
                    show(d)
                );
            }
            parent = parent_of(d);
        }
        let base_name = p.rsplit(|&b| b == b'/').next().unwrap_or(b"");
        if base_name == b".wh..wh..opq" {
            opaque_dirs.insert(parent_of(&p).unwrap().to_vec());
        } else if let Some(rest) = base_name.strip_prefix(b".wh.") {
            let mut t = parent_of(&p).unwrap().to_vec();
            if !t.is_empty() {
                t.push(b'/');
            }
            t.extend_from_slice(rest);
            deleted.insert(t);
        } else if e.typeflag == b'5' {
            seen_dirs.insert(p.clone());
        } else {
            if e.typeflag == b'1' {
                let t = clean_path(e.link.as_deref().unwrap());
                assert!(seen_files.contains(&t), "hardlink `{}` comes before its target `{}`", show(&e.path), show(&t));
            }
            seen_files.insert(p.clone());
        }
    }
    let _ = opaque_dirs;
}
