//! The OCI image layout's documents, as Docker 25+ writes them beside `manifest.json`:
//! the image manifest (a blob), `index.json` naming it once per tag, and `oci-layout`.

use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::image::tag::full_name;
use crate::read::compression::Compression;

pub(super) const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub(super) const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub(super) const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// The OCI layout's version file.
pub(super) const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion": "1.0.0"}"#;
/// containerd's name for an image: the full reference.
const IMAGE_NAME: &str = "io.containerd.image.name";
/// The OCI layout's name for a manifest: the tag.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A blob as a manifest or index names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Descriptor {
    pub(super) media_type: &'static str,
    pub(super) digest: String,
    pub(super) size: u64,
}

impl Descriptor {
    fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// A layer's media type, from how its bytes are compressed (never from a label).
pub(super) fn layer_media_type(c: Compression) -> &'static str {
    match c {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

fn to_bytes(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::corrupt(format!("internal: {e}")))
}

/// The image manifest.
pub(super) fn manifest(config: &Descriptor, layers: &[Descriptor]) -> Result<Vec<u8>> {
    to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config.to_json(),
        "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
    }))
}

/// The platform an image's config says, as an index's descriptor names it (None without
/// an os and an architecture).
pub(super) fn config_platform(config: &Map<String, Value>) -> Option<Value> {
    let mut platform = Map::new();
    for key in ["architecture", "os", "variant"] {
        if let Some(v) = config.get(key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            platform.insert(key.to_string(), v.clone());
        }
    }
    (platform.contains_key("architecture") && platform.contains_key("os")).then_some(Value::Object(platform))
}

/// `index.json`: the manifest once per tag (once, unnamed, without tags), with the
/// platform of the config so that importers filtering by platform find it.
pub(super) fn index(manifest: &Descriptor, tags: &[String], config: &Map<String, Value>) -> Result<Vec<u8>> {
    top_index(manifest, tags, config_platform(config).as_ref())
}

/// `index.json` naming `target` (an image manifest, or a squashed index) once per tag.
pub(super) fn top_index(target: &Descriptor, tags: &[String], platform: Option<&Value>) -> Result<Vec<u8>> {
    let entry = |tag: Option<&String>| {
        let mut d = target.to_json();
        if let Some(obj) = d.as_object_mut() {
            if let Some(p) = platform {
                obj.insert("platform".into(), p.clone());
            }
            if let Some(t) = tag {
                let short = match t.rfind(':') {
                    Some(i) if !t[i..].contains('/') => &t[i + 1..],
                    _ => "latest",
                };
                obj.insert("annotations".into(), json!({ IMAGE_NAME: full_name(t), REF_NAME: short }));
            }
        }
        d
    };
    let manifests: Vec<Value> =
        if tags.is_empty() { vec![entry(None)] } else { tags.iter().map(Some).map(entry).collect() };
    to_bytes(&json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests}))
}

/// One platform of a squashed index: its new manifest, with the input descriptor's
/// platform (or the config's) and annotations.
pub(super) fn platform_entry(manifest: &Descriptor, platform: Option<Value>, annotations: Option<&Value>) -> Value {
    let mut d = manifest.to_json();
    if let Some(obj) = d.as_object_mut() {
        if let Some(p) = platform {
            obj.insert("platform".into(), p);
        }
        if let Some(a) = annotations {
            obj.insert("annotations".into(), a.clone());
        }
    }
    d
}

/// A squashed index: its platforms, and the input index's own annotations.
pub(super) fn platform_index(entries: Vec<Value>, annotations: Option<&Value>) -> Result<Vec<u8>> {
    let mut index = json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries});
    if let (Some(a), Some(obj)) = (annotations, index.as_object_mut()) {
        obj.insert("annotations".into(), a.clone());
    }
    to_bytes(&index)
}
