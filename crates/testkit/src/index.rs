//! Multi-platform archives: an OCI image index naming one image per platform, as buildx,
//! skopeo (`copy --all`) and Docker 29 / containerd (`save`, `export`) write them, with
//! BuildKit's attestation manifests and platforms whose blobs were never pulled.

use serde_json::{json, Map, Value};

use crate::archive::{add_blob, member, Image};
use crate::digest::digest;
use crate::entry::{tar, Entry};

/// One platform of an index: its image and its descriptor's extra annotations.
#[derive(Debug, Clone)]
pub struct Platform {
    pub image: Image,
    /// "os/arch[/variant]", as the descriptor and the config say it.
    pub platform: String,
    pub annotations: Option<Value>,
}

impl Platform {
    /// `image` as the platform `platform` (its config's os, architecture and variant set).
    pub fn new(platform: &str, mut image: Image) -> Platform {
        let parts: Vec<&str> = platform.split('/').collect();
        image.config.insert("os".into(), json!(parts[0]));
        image.config.insert("architecture".into(), json!(parts[1]));
        match parts.get(2) {
            Some(v) => image.config.insert("variant".into(), json!(v)),
            None => image.config.remove("variant"),
        };
        Platform { image, platform: platform.to_string(), annotations: None }
    }

    pub fn annotated(mut self, annotations: Value) -> Platform {
        self.annotations = Some(annotations);
        self
    }
}

/// The `platform` object of a descriptor for "os/arch[/variant]".
pub fn platform_json(platform: &str) -> Value {
    let parts: Vec<&str> = platform.split('/').collect();
    let mut p = Map::new();
    p.insert("architecture".into(), json!(parts[1]));
    p.insert("os".into(), json!(parts[0]));
    if let Some(v) = parts.get(2) {
        p.insert("variant".into(), json!(v));
    }
    Value::Object(p)
}

/// An index archive being described.
#[derive(Debug, Clone)]
pub struct IndexArchive {
    pub platforms: Vec<Platform>,
    /// One BuildKit attestation manifest per platform, after the platforms (as buildx
    /// writes them), its blobs present.
    pub attestations: bool,
    /// Platforms the index names whose manifests are not in the archive.
    pub absent: Vec<String>,
    /// The image index as its own blob, which index.json names under the tag (buildx,
    /// skopeo, containerd); else index.json is the image index itself.
    pub nested: bool,
    /// Also a manifest.json naming the first platform's image (Docker 25+ and containerd).
    pub docker_manifest: bool,
    /// The image index's own annotations.
    pub annotations: Option<Value>,
    pub tag: String,
}

impl IndexArchive {
    pub fn new(platforms: Vec<Platform>) -> IndexArchive {
        IndexArchive {
            platforms,
            attestations: false,
            absent: Vec::new(),
            nested: true,
            docker_manifest: false,
            annotations: Some(json!({"org.opencontainers.image.created": "2024-05-01T10:00:00Z"})),
            tag: "test/multi:1".into(),
        }
    }

    /// The archive's bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut members = vec![member("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)];
        let mut entries = Vec::new();
        for p in &self.platforms {
            let mut d = p.image.oci_blobs(&mut members);
            d["platform"] = platform_json(&p.platform);
            if let Some(a) = &p.annotations {
                d["annotations"] = a.clone();
            }
            entries.push(d);
        }
        if self.attestations {
            let described: Vec<String> = entries.iter().map(|e| e["digest"].as_str().unwrap().to_string()).collect();
            for d in described {
                entries.push(attestation(&mut members, &d));
            }
        }
        for (i, p) in self.absent.iter().enumerate() {
            let missing = digest(format!("a manifest never pulled {i}").as_bytes());
            entries.push(json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": missing, "size": 1000 + i, "platform": platform_json(p),
            }));
        }
        let (full, short) = refs(&self.tag);
        let mut index =
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries});
        if let Some(a) = &self.annotations {
            index["annotations"] = a.clone();
        }
        let top = if self.nested {
            let bytes = serde_json::to_vec(&index).unwrap();
            add_blob(&mut members, &bytes);
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest(&bytes), "size": bytes.len(),
                "annotations": {"io.containerd.image.name": full, "org.opencontainers.image.ref.name": short},
            }]})
        } else {
            for e in index["manifests"].as_array_mut().unwrap() {
                let ann = e.as_object_mut().unwrap().entry("annotations").or_insert(json!({}));
                ann["org.opencontainers.image.ref.name"] = json!(self.tag);
            }
            index
        };
        members.push(member("index.json", &serde_json::to_vec(&top).unwrap()));
        if self.docker_manifest {
            let image = &self.platforms[0].image;
            let config = format!("blobs/sha256/{}", &digest(&image.config_bytes())[7..]);
            let layers: Vec<String> =
                image.layers.iter().map(|l| format!("blobs/sha256/{}", &digest(&l.stored)[7..])).collect();
            let m = json!([{"Config": config, "RepoTags": [self.tag], "Layers": layers}]);
            members.push(member("manifest.json", &serde_json::to_vec(&m).unwrap()));
        }
        tar(&members)
    }
}

/// `docker.io/library/app:1` and `1` for `app:1`.
fn refs(tag: &str) -> (String, String) {
    let short = tag.rsplit(':').next().unwrap_or(tag).to_string();
    let full = match tag.split('/').count() {
        1 => format!("docker.io/library/{tag}"),
        _ => format!("docker.io/{tag}"),
    };
    (full, short)
}

/// A BuildKit attestation manifest for the manifest `described`: an in-toto statement as
/// its one layer, `unknown/unknown` as its platform.
fn attestation(members: &mut Vec<Entry>, described: &str) -> Value {
    let statement =
        serde_json::to_vec(&json!({"_type": "https://in-toto.io/Statement/v0.1", "subject": described})).unwrap();
    let config = serde_json::to_vec(&json!({"architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [digest(&statement)]}}))
    .unwrap();
    add_blob(members, &statement);
    add_blob(members, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": digest(&statement), "size": statement.len(),
                    "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}],
    }))
    .unwrap();
    add_blob(members, &manifest);
    json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(&manifest), "size": manifest.len(),
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.digest": described, "vnd.docker.reference.type": "attestation-manifest"},
    })
}
