//! An OCI image manifest in Docker schema 2 media types, for registries and clients that
//! want Docker's. The blobs are the same bytes: only the manifest's labels change.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::manifest::DOCKER_MANIFEST;

const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The Docker type of an OCI layer type; None for one Docker has none for (zstd).
fn docker_layer(oci: &str) -> Option<&'static str> {
    match oci {
        "application/vnd.oci.image.layer.v1.tar+gzip" | "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
            Some("application/vnd.docker.image.rootfs.diff.tar.gzip")
        }
        "application/vnd.oci.image.layer.v1.tar" | "application/vnd.docker.image.rootfs.diff.tar" => {
            Some("application/vnd.docker.image.rootfs.diff.tar")
        }
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
            Some("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
        }
        _ => None,
    }
}

/// What the rewrite made.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rewritten {
    /// The manifest in Docker types.
    Docker(Vec<u8>),
    /// Kept as it was: a layer has no Docker type (the media type named).
    Kept(String),
}

/// `manifest` (OCI or already Docker) with Docker schema 2 media types. Fields schema 2 does
/// not have (`annotations`, `subject`, `artifactType`) are dropped; key order is kept.
pub(crate) fn to_docker(manifest: &[u8]) -> Result<Rewritten> {
    let mut doc: Value =
        serde_json::from_slice(manifest).map_err(|_| Error::usage("the archive's manifest is not JSON"))?;
    let obj = doc.as_object_mut().ok_or_else(|| Error::usage("the archive's manifest is not a JSON object"))?;
    if let Some(layers) = obj.get("layers").and_then(Value::as_array) {
        for l in layers {
            let t = l.get("mediaType").and_then(Value::as_str).unwrap_or("");
            if docker_layer(t).is_none() {
                return Ok(Rewritten::Kept(t.to_string()));
            }
        }
    }
    obj.insert("mediaType".into(), Value::String(DOCKER_MANIFEST.into()));
    for key in ["annotations", "subject", "artifactType"] {
        obj.remove(key);
    }
    if let Some(config) = obj.get_mut("config").and_then(Value::as_object_mut) {
        config.insert("mediaType".into(), Value::String(DOCKER_CONFIG.into()));
    }
    if let Some(layers) = obj.get_mut("layers").and_then(Value::as_array_mut) {
        for l in layers.iter_mut().filter_map(Value::as_object_mut) {
            let t = l.get("mediaType").and_then(Value::as_str).and_then(docker_layer);
            if let Some(t) = t {
                l.insert("mediaType".into(), Value::String(t.into()));
            }
        }
    }
    serde_json::to_vec(&doc).map(Rewritten::Docker).map_err(|e| Error::usage(format!("the manifest: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn oci(layers: &[&str]) -> Vec<u8> {
        let layers: Vec<Value> =
            layers.iter().map(|t| serde_json::json!({"mediaType": t, "digest": D, "size": 3})).collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D, "size": 2},
            "layers": layers,
            "annotations": {"org.opencontainers.image.created": "2024"},
        }))
        .unwrap()
    }

    #[test]
    fn oci_to_docker() {
        let m = oci(&["application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar"]);
        let Rewritten::Docker(out) = to_docker(&m).unwrap() else { panic!("kept") };
        let expect = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{D}","size":2}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{D}","size":3}},{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"{D}","size":3}}]}}"#
        );
        assert_eq!(String::from_utf8(out.clone()).unwrap(), expect);
        // Docker in, the same Docker out.
        assert_eq!(to_docker(&out).unwrap(), Rewritten::Docker(out));
    }

    #[test]
    fn zstd_is_kept() {
        let m = oci(&["application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+zstd"]);
        assert_eq!(to_docker(&m).unwrap(), Rewritten::Kept("application/vnd.oci.image.layer.v1.tar+zstd".into()));
    }

    #[test]
    fn not_a_manifest() {
        assert_eq!(to_docker(b"[1]").unwrap_err().kind, crate::ErrorKind::Usage);
        assert_eq!(to_docker(b"{").unwrap_err().kind, crate::ErrorKind::Usage);
    }
}
