//! A squashed index read back and checked as the OCI spec and containerd's importer read
//! it: every blob named by its digest and written once, index.json naming the new index
//! once per tag, each platform's manifest, config and layers as their descriptors say;
//! and each platform's filesystem the one its original showed (the reference's).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::compress::{decompress, GZIP_MAGIC, ZSTD_MAGIC};
use crate::digest::{digest, sha256_hex};
use crate::index::Platform;
use crate::output::members;
use crate::reference::{assert_same_fs, Fs};

/// One platform of the written index.
#[derive(Debug)]
pub struct PlatformOut {
    /// Its descriptor in the new index.
    pub descriptor: Value,
    /// "os/arch[/variant]" from the descriptor.
    pub platform: String,
    pub manifest: Value,
    pub config_bytes: Vec<u8>,
    pub config: Map<String, Value>,
    /// Its layers as stored, bottom first.
    pub layers: Vec<Vec<u8>>,
}

/// An index archive as written.
#[derive(Debug)]
pub struct IndexOut {
    pub members: BTreeMap<String, Vec<u8>>,
    /// Member names in writing order.
    pub order: Vec<String>,
    /// index.json.
    pub top: Value,
    /// The new image index.
    pub index: Value,
    pub index_digest: String,
    pub platforms: Vec<PlatformOut>,
}

/// Reads a squashed index back, checking its structure (see the module's doc); `tags`:
/// those index.json must name it by.
pub fn read_index_output(bytes: &[u8], tags: &[String]) -> IndexOut {
    let all = members(bytes);
    let order: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let mut seen = std::collections::BTreeSet::new();
    for n in &order {
        assert!(seen.insert(n.clone()), "member {n} is written twice");
    }
    let members: BTreeMap<String, Vec<u8>> = all.into_iter().collect();
    for (name, data) in &members {
        if let Some(h) = name.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) {
            assert_eq!(sha256_hex(data), h, "blob {name} is not named by its digest");
        }
    }
    let blob = |d: &Value| -> Vec<u8> {
        let hex = d["digest"].as_str().unwrap().strip_prefix("sha256:").unwrap();
        let data = members.get(&format!("blobs/sha256/{hex}")).unwrap_or_else(|| panic!("no blob for {d}")).clone();
        assert_eq!(d["size"], data.len() as u64, "the size of {}", d["digest"]);
        data
    };
    let top: Value = serde_json::from_slice(&members["index.json"]).unwrap();
    let entries = top["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), tags.len().max(1), "index.json names the index once per tag");
    for (e, tag) in entries.iter().zip(tags) {
        assert_eq!(e["mediaType"], "application/vnd.oci.image.index.v1+json");
        assert_eq!(e["digest"], entries[0]["digest"], "every tag names the same index");
        assert_eq!(e["annotations"]["org.opencontainers.image.ref.name"], tag.rsplit(':').next().unwrap());
    }
    let index_bytes = blob(&entries[0]);
    let index: Value = serde_json::from_slice(&index_bytes).unwrap();
    assert_eq!(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    let mut platforms = Vec::new();
    for d in index["manifests"].as_array().unwrap() {
        assert_eq!(d["mediaType"], "application/vnd.oci.image.manifest.v1+json");
        let manifest: Value = serde_json::from_slice(&blob(d)).unwrap();
        let config_bytes = blob(&manifest["config"]);
        let config = serde_json::from_slice::<Value>(&config_bytes).unwrap().as_object().unwrap().clone();
        let layers: Vec<Vec<u8>> = manifest["layers"].as_array().unwrap().iter().map(&blob).collect();
        for (l, stored) in manifest["layers"].as_array().unwrap().iter().zip(&layers) {
            let kind = match () {
                _ if stored.starts_with(&GZIP_MAGIC) => "+gzip",
                _ if stored.starts_with(&ZSTD_MAGIC) => "+zstd",
                _ => "",
            };
            assert_eq!(l["mediaType"], format!("application/vnd.oci.image.layer.v1.tar{kind}"));
        }
        let p = &d["platform"];
        let platform = match p["variant"].as_str() {
            Some(v) => format!("{}/{}/{v}", p["os"].as_str().unwrap(), p["architecture"].as_str().unwrap()),
            None => format!("{}/{}", p["os"].as_str().unwrap(), p["architecture"].as_str().unwrap()),
        };
        platforms.push(PlatformOut { descriptor: d.clone(), platform, manifest, config_bytes, config, layers });
    }
    IndexOut { index_digest: digest(&index_bytes), members, order, top, index, platforms }
}

/// Each written platform shows the filesystem its original (in `spec`, by platform)
/// showed; its rootfs.diff_ids are the digests of its written layers, and its layers
/// below `kept` (by platform) are the original's bytes.
pub fn check_platforms(spec: &[Platform], out: &IndexOut, kept: &[(&str, usize)]) {
    for p in &out.platforms {
        let original =
            spec.iter().find(|s| s.platform == p.platform).unwrap_or_else(|| panic!("{} is new", p.platform));
        let before = Fs::from_layers(&original.image.layers.iter().map(|l| l.tar.clone()).collect::<Vec<_>>());
        let after = Fs::from_layers(&p.layers.iter().map(|l| decompress(l)).collect::<Vec<_>>());
        assert_same_fs(&before, &after, &p.platform);
        let ids: Vec<String> = p.config["rootfs"]["diff_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let written: Vec<String> = p.layers.iter().map(|l| digest(&decompress(l))).collect();
        assert_eq!(ids, written, "{}: rootfs.diff_ids are the digests of the written layers", p.platform);
        assert_eq!(p.config["architecture"], original.image.config["architecture"], "{}", p.platform);
        let keep = kept.iter().find(|(name, _)| *name == p.platform).map_or(0, |k| k.1);
        for i in 0..keep {
            assert_eq!(
                p.layers[i], original.image.layers[i].stored,
                "{}: kept layer {i} is not byte-identical",
                p.platform
            );
        }
    }
}
