//! Small image archives made from scratch, for the fuzz targets' seeds and wrappers and for
//! the engine's hostile-input tests (`crates/engine/tests/hostile.rs` includes this file
//! with `#[path]`, so it uses only the engine's dev-dependencies).
//!
//! Tar headers are written by hand so that tests can break any field on purpose.

#![allow(dead_code)]

use std::io::Write;

use sha2::{Digest, Sha256};

pub const BLOCK: usize = 512;

/// One member of a tar stream.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: Vec<u8>,
    pub typeflag: u8,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
    pub mode: u32,
    /// PAX records written before the entry, raw ("<len> key=value\n" ...).
    pub pax: Option<Vec<u8>>,
}

pub fn file(name: &str, data: &[u8]) -> Entry {
    Entry {
        name: name.as_bytes().to_vec(),
        typeflag: b'0',
        data: data.to_vec(),
        link: Vec::new(),
        mode: 0o644,
        pax: None,
    }
}

pub fn dir(name: &str) -> Entry {
    Entry { name: name.as_bytes().to_vec(), typeflag: b'5', data: Vec::new(), link: Vec::new(), mode: 0o755, pax: None }
}

pub fn symlink(name: &str, target: &str) -> Entry {
    Entry {
        name: name.as_bytes().to_vec(),
        typeflag: b'2',
        data: Vec::new(),
        link: target.as_bytes().to_vec(),
        mode: 0o777,
        pax: None,
    }
}

pub fn hardlink(name: &str, target: &str) -> Entry {
    Entry {
        name: name.as_bytes().to_vec(),
        typeflag: b'1',
        data: Vec::new(),
        link: target.as_bytes().to_vec(),
        mode: 0o644,
        pax: None,
    }
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    let b = s.as_bytes();
    field[..width].copy_from_slice(&b[b.len() - width..]);
    field[width] = 0;
}

/// Writes a correct checksum into a 512-byte header.
pub fn set_checksum(h: &mut [u8]) {
    h[148..156].fill(b' ');
    let sum: u32 = h[..512].iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
}

/// A ustar header; names longer than 100 bytes are cut (use PAX records for those).
pub fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8], mode: u32) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    octal(&mut h[100..108], mode as u64);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    set_checksum(&mut h);
    h
}

fn pad(out: &mut Vec<u8>) {
    let r = out.len() % BLOCK;
    if r != 0 {
        out.resize(out.len() + BLOCK - r, 0);
    }
}

/// A PAX record with its self-counting length.
pub fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

/// Appends one entry (its PAX member first, if any).
pub fn put_entry(out: &mut Vec<u8>, e: &Entry) {
    let mut pax = e.pax.clone();
    if e.name.len() > 100 {
        pax.get_or_insert_with(Vec::new).extend(pax_record("path", &e.name));
    }
    if let Some(p) = &pax {
        out.extend_from_slice(&header(b"././@PaxHeader", b'x', p.len() as u64, b"", 0o644));
        out.extend_from_slice(p);
        pad(out);
    }
    out.extend_from_slice(&header(&e.name, e.typeflag, e.data.len() as u64, &e.link, e.mode));
    out.extend_from_slice(&e.data);
    pad(out);
}

/// A whole tar stream, with the two zero blocks that end it.
pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        put_entry(&mut out, e);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    out
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

/// One layer: what is stored in the archive, and the diff_id of its uncompressed tar.
#[derive(Clone, Debug)]
pub struct Layer {
    pub stored: Vec<u8>,
    pub diff_id: String,
    pub created_by: String,
}

impl Layer {
    pub fn plain(entries: &[Entry]) -> Layer {
        let t = tar(entries);
        Layer { diff_id: sha256(&t), stored: t, created_by: "RUN test".into() }
    }
    pub fn gzip(entries: &[Entry]) -> Layer {
        let t = tar(entries);
        Layer { diff_id: sha256(&t), stored: gzip(&t), created_by: "RUN test".into() }
    }
    pub fn zstd(entries: &[Entry]) -> Layer {
        let t = tar(entries);
        Layer { diff_id: sha256(&t), stored: zstd(&t), created_by: "RUN test".into() }
    }
    /// Any stored bytes with a diff_id given by the caller.
    pub fn raw(stored: Vec<u8>, diff_id: &str) -> Layer {
        Layer { stored, diff_id: diff_id.to_string(), created_by: "RUN test".into() }
    }
    pub fn by(mut self, created_by: &str) -> Layer {
        self.created_by = created_by.to_string();
        self
    }
}

/// The image config `docker save` would write for these layers.
pub fn config(layers: &[Layer]) -> Vec<u8> {
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    let history: Vec<serde_json::Value> =
        layers.iter().map(|l| serde_json::json!({"created_by": l.created_by})).collect();
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))
    .unwrap()
}

/// The members of a `docker save` (1.10-24) archive: config, layers, manifest.json.
pub fn docker_members(layers: &[Layer], tag: &str) -> Vec<Entry> {
    let cfg = config(layers);
    let cfg_name = format!("{}.json", &sha256(&cfg)[7..]);
    let mut members = vec![file(&cfg_name, &cfg)];
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let dir_name = format!("{:064x}", i + 1);
        members.push(dir(&format!("{dir_name}/")));
        members.push(file(&format!("{dir_name}/layer.tar"), &l.stored));
        names.push(format!("{dir_name}/layer.tar"));
    }
    let manifest = serde_json::json!([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]);
    members.push(file("manifest.json", &serde_json::to_vec(&manifest).unwrap()));
    members
}

/// A `docker save` (1.10-24) archive.
pub fn docker_archive(layers: &[Layer]) -> Vec<u8> {
    tar(&docker_members(layers, "test/app:1"))
}

/// An OCI archive (index.json + blobs) as buildx or skopeo write it.
pub fn oci_archive(layers: &[Layer]) -> Vec<u8> {
    let cfg = config(layers);
    let cfg_digest = sha256(&cfg);
    let mut members =
        vec![file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#), dir("blobs/"), dir("blobs/sha256/")];
    let mut descs = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for l in layers {
        let d = sha256(&l.stored);
        if seen.insert(d.clone()) {
            members.push(file(&format!("blobs/sha256/{}", &d[7..]), &l.stored));
        }
        descs.push(serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": l.stored.len()}));
    }
    members.push(file(&format!("blobs/sha256/{}", &cfg_digest[7..]), &cfg));
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": cfg.len()},
        "layers": descs,
    }))
    .unwrap();
    let man_digest = sha256(&manifest);
    members.push(file(&format!("blobs/sha256/{}", &man_digest[7..]), &manifest));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": man_digest,
            "size": manifest.len(),
            "annotations": {"io.containerd.image.name": "test/app:1"},
        }],
    });
    members.push(file("index.json", &serde_json::to_vec(&index).unwrap()));
    tar(&members)
}

/// A base layer and a layer above that deletes, overwrites and links: every squash rule
/// gets some bytes to chew on.
pub fn sample_layers() -> Vec<Layer> {
    vec![
        Layer::plain(&[
            dir("etc/"),
            file("etc/os-release", b"ID=test\n"),
            file("bin/sh", b"#!sh\n"),
            file("a/old", b"old"),
        ])
        .by("/bin/sh -c #(nop) ADD file:0123 in / "),
        Layer::gzip(&[
            file("a/.wh.old", b""),
            file("a/new", b"new content"),
            hardlink("a/link", "a/new"),
            symlink("a/sym", "../etc/os-release"),
        ]),
        Layer::zstd(&[
            dir("a/"),
            file("a/.wh..wh..opq", b""),
            file("a/last", b"last"),
            file("etc/os-release", b"ID=changed\n"),
        ]),
    ]
}

/// Where `needle` starts in `hay` (for tests that break a given member).
pub fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).expect("needle in archive")
}
