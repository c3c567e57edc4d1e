//! Which layout wrote an archive, found by its members: manifest.json (`docker save`
//! 1.10–24, and beside an OCI layout Docker 25+ and containerd, in [`super::manifests`]),
//! index.json alone (podman, skopeo, buildx: [`super::index`]) or `<id>/json` chains
//! (pre-1.10); and the images it holds.

use super::index::{beside_manifest, oci_index, Found};
use super::manifests::{docker_manifest, legacy};
use super::members::Members;
use crate::error::{Error, ErrorCode, Result};

/// The images of the archive `members` holds, by what wrote it.
pub fn find_images(members: &Members) -> Result<Found> {
    if members.has("manifest.json") {
        let images = docker_manifest(members)?;
        if !images.is_empty() {
            return Ok(beside_manifest(members, images));
        }
        if !members.has("index.json") {
            return Err(Error::new(ErrorCode::NotAnImage, "manifest.json lists no image"));
        }
    }
    if members.has("index.json") {
        return oci_index(members);
    }
    if members.has("repositories") || members.names().any(|n| n.ends_with("/json")) {
        return Ok(Found { images: legacy(members)?, groups: Vec::new() });
    }
    Err(Error::new(
        ErrorCode::NotAnImage,
        "this tar archive is not an image: it has no manifest.json, index.json or repositories file (make it with `docker save IMAGE -o file.tar`)",
    ))
}
