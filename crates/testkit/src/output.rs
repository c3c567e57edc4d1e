//! Reading tar streams back with the tar crate: the archive the engine wrote (manifest,
//! config, layers) and the entries of a layer.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Map, Value};

use crate::compress::{decompress, GZIP_MAGIC, ZSTD_MAGIC};
use crate::digest::{digest, sha256_hex};
use crate::path::clean_path;

/// The members of a tar stream, in order: name and content.
pub fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(bytes);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
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
    let all = members(bytes);
    let order = all.iter().map(|(n, _)| n.clone()).collect();
    let members: BTreeMap<String, Vec<u8>> = all.into_iter().collect();
    let manifest: Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let m = &manifest.as_array().unwrap()[0];
    let config_name = m["Config"].as_str().unwrap().to_string();
    let config_bytes = members[&config_name].clone();
    let config = serde_json::from_slice::<Value>(&config_bytes).unwrap().as_object().unwrap().clone();
    let layers = m["Layers"].as_array().unwrap().iter().map(|l| members[l.as_str().unwrap()].clone()).collect();
    Output { members, order, manifest, config_name, config_bytes, config, layers }
}

/// Checks an OCI image layout as the OCI spec and containerd's importer read it: exactly
/// `oci-layout`, `index.json`, `manifest.json` and `blobs/sha256/…` (every blob named by
/// its digest); the index names the manifest once per tag (`io.containerd.image.name` the
/// full reference, `org.opencontainers.image.ref.name` the tag); the manifest's config and
/// layers have the digests, sizes and media types of their blobs, which `manifest.json`
/// names in the same order. Returns the manifest.
pub fn check_oci_layout(out: &Output, tags: &[String]) -> Value {
    for name in out.members.keys() {
        let ok = ["oci-layout", "index.json", "manifest.json", "blobs/", "blobs/sha256/"].contains(&name.as_str())
            || name.strip_prefix("blobs/sha256/").is_some_and(|h| h.len() == 64);
        assert!(ok, "unexpected member {name} in an OCI layout");
    }
    for (name, data) in &out.members {
        if let Some(h) = name.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) {
            assert_eq!(sha256_hex(data), h, "blob {name} is not named by its digest");
        }
    }
    let layout: Value = serde_json::from_slice(&out.members["oci-layout"]).unwrap();
    assert_eq!(layout["imageLayoutVersion"], "1.0.0");
    let index: Value = serde_json::from_slice(&out.members["index.json"]).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), tags.len().max(1), "one index entry per tag");
    let blob = |d: &Value| {
        out.members[&format!("blobs/sha256/{}", d["digest"].as_str().unwrap().strip_prefix("sha256:").unwrap())].clone()
    };
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["mediaType"], "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(e["digest"], entries[0]["digest"], "every tag names the same manifest");
        if let Some(tag) = tags.get(i) {
            let full = match tag.split('/').count() {
                1 => format!("docker.io/library/{tag}"),
                _ if tag.split('/').next().is_some_and(|d| d.contains(['.', ':']) || d == "localhost") => tag.clone(),
                _ => format!("docker.io/{tag}"),
            };
            assert_eq!(e["annotations"]["io.containerd.image.name"], full.as_str());
            assert_eq!(e["annotations"]["org.opencontainers.image.ref.name"], tag.rsplit(':').next().unwrap());
        }
    }
    let manifest_bytes = blob(&entries[0]);
    assert_eq!(entries[0]["size"], manifest_bytes.len() as u64);
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    assert_eq!(blob(&manifest["config"]), out.config_bytes, "the manifest's config is manifest.json's");
    assert_eq!(manifest["config"]["size"], out.config_bytes.len() as u64);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), out.layers.len());
    for (l, stored) in layers.iter().zip(&out.layers) {
        assert_eq!(&blob(l), stored, "the manifest's layers are manifest.json's, in order");
        assert_eq!(l["size"], stored.len() as u64);
        assert_eq!(l["digest"], digest(stored));
        let kind = if stored.starts_with(&GZIP_MAGIC) {
            "+gzip"
        } else if stored.starts_with(&ZSTD_MAGIC) {
            "+zstd"
        } else {
            ""
        };
        assert_eq!(l["mediaType"], format!("application/vnd.oci.image.layer.v1.tar{kind}"));
    }
    manifest
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

/// A numeric header field as the engine reads it: octal after leading spaces and NULs, up to
/// the next space or NUL (tar-rs stops at the first NUL, so `\0000644\0`, 0644 to Go and
/// the engine, is no number to it), an empty field 0, or base-256 when the first byte's
/// high bit is set. None when it is no number: no header the engine takes.
fn numeric(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return Some(field[1..].iter().fold(u64::from(field[0] & 0x7f), |n, &b| (n << 8) | u64::from(b)));
    }
    // Leading spaces and NULs skipped; the number ends at the next one (as the engine reads).
    let start = field.iter().position(|&b| b != b' ' && b != 0).unwrap_or(field.len());
    let end = field[start..].iter().position(|&b| b == b' ' || b == 0).map_or(field.len(), |i| start + i);
    let digits = std::str::from_utf8(&field[start..end]).ok()?;
    if digits.is_empty() {
        Some(0)
    } else {
        u64::from_str_radix(digits, 8).ok()
    }
}

/// A numeric field of a header the engine took, so a number.
fn number(field: &[u8]) -> u64 {
    numeric(field).unwrap_or_else(|| panic!("not an octal number: {:?}", String::from_utf8_lossy(field)))
}

/// Go's reader (Docker's) takes a header whose checksum is the sum of its bytes read as
/// signed (old tars); tar-rs takes only the unsigned sum. Such headers get the unsigned
/// one, so that the reference reads what Docker reads.
fn unsign_checksums(raw: &mut [u8]) {
    let mut at = 0;
    while at + 512 <= raw.len() {
        let h = &raw[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            return;
        }
        let blank = |i: usize| if (148..156).contains(&i) { b' ' } else { h[i] };
        let unsigned: u64 = (0..512).map(|i| u64::from(blank(i))).sum();
        let signed: i64 = (0..512).map(|i| i64::from(blank(i) as i8)).sum();
        // A block that is no header Go takes (its checksum or size no number): tar-rs says so.
        let (Some(stored), Some(size)) = (numeric(&h[148..156]), numeric(&h[124..136])) else { return };
        if stored != unsigned && i64::try_from(stored).ok() == Some(signed) {
            crate::set_checksum(&mut raw[at..at + 512]);
        } else if stored != unsigned {
            return; // not a header Go takes either: tar-rs says so
        }
        at += 512 + usize::try_from(size.div_ceil(512) * 512).unwrap_or(usize::MAX - at);
    }
}

/// The `LEN key=value\n` records of a PAX header's data.
fn pax_records(mut data: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(sp) = data.iter().position(|&b| b == b' ') {
        let Some(len) = std::str::from_utf8(&data[..sp]).ok().and_then(|n| n.parse::<usize>().ok()) else { break };
        if len <= sp + 1 || len > data.len() {
            break;
        }
        let record = &data[sp + 1..len - 1];
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            out.push((record[..eq].to_vec(), record[eq + 1..].to_vec()));
        }
        data = &data[len..];
    }
    out
}

/// The entries of a layer (compressed or not), PAX global headers skipped.
pub fn parse_layer(stored: &[u8]) -> Vec<Parsed> {
    let mut raw = decompress(stored);
    unsign_checksums(&mut raw);
    let mut out = Vec::new();
    let mut ar = tar::Archive::new(&raw[..]);
    // tar-rs hands over a PAX header whose block lacks the ustar magic as an entry of its
    // own; Go's reader (Docker's) applies it to the next entry, as for any PAX header.
    let mut stray_pax: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let typeflag = e.header().entry_type().as_byte();
        if typeflag == b'g' {
            continue;
        }
        if typeflag == b'x' {
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            stray_pax = pax_records(&data);
            continue;
        }
        let stray = std::mem::take(&mut stray_pax);
        let from_stray = |key: &[u8]| stray.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let path = from_stray(b"path").unwrap_or_else(|| e.path_bytes().into_owned());
        let link = from_stray(b"linkpath").or_else(|| e.link_name_bytes().map(|l| l.into_owned()));
        let mut xattrs = BTreeMap::new();
        for (k, v) in &stray {
            if let Some(k) = k.strip_prefix(b"SCHILY.xattr.") {
                xattrs.insert(k.to_vec(), v.clone());
            }
        }
        if let Some(p) = e.pax_extensions().unwrap() {
            for r in p {
                let r = r.unwrap();
                if let Some(k) = r.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                    xattrs.insert(k.to_vec(), r.value_bytes().to_vec());
                }
            }
        }
        let h = e.header();
        let raw = h.as_bytes();
        let mode = number(&raw[100..108]) as u32 & 0o7777;
        let (uid, gid, mtime) = (number(&raw[108..116]), number(&raw[116..124]), number(&raw[136..148]));
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
