//! OCI indexes and Docker manifest lists (`index.json`, nested indexes): the images they
//! hold, and which of those are the platforms of one image ([`Group`]), with what each
//! index names but the archive cannot squash: attestation manifests, and platforms whose
//! blobs are not in the archive (a partly pulled index, as Docker 29 and containerd save it).

use serde_json::Value;

use super::manifests::{blob_name, parse_config, parse_json, platform_of, with_diff_ids, ImageDesc};
use super::members::Members;
use crate::error::{Error, ErrorCode, Result};

/// The images of an archive, and which of them are the platforms of one image.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Every image, in archive order.
    pub images: Vec<ImageDesc>,
    /// The indexes that list them (none for archives without `index.json`).
    pub groups: Vec<Group>,
}

/// The image manifests one index lists (under one tag): the platforms of one image.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// The tag the index is named by (its descriptor's annotations, or its parent's).
    pub tag: Option<String>,
    /// The index's own `annotations`, kept in the squashed index.
    pub annotations: Option<Value>,
    /// Its runnable images, in the index's order.
    pub entries: Vec<GroupEntry>,
    /// How many attestation manifests it lists (BuildKit's, describing the other entries).
    pub attestations: usize,
    /// The platforms (or digests, for entries without one) it names whose blobs are absent.
    pub absent: Vec<String>,
}

/// One image of a [`Group`].
#[derive(Debug, Clone)]
pub struct GroupEntry {
    /// Its position in [`Found::images`].
    pub image: usize,
    /// The descriptor's `platform`, as the index gives it.
    pub platform: Option<Value>,
    /// The descriptor's `annotations`.
    pub annotations: Option<Value>,
}

/// Nested indexes deeper than this are a loop.
const MAX_INDEX_DEPTH: usize = 8;

fn is_index(desc_media: Option<&str>, doc: &Value) -> bool {
    match desc_media {
        Some("application/vnd.oci.image.index.v1+json")
        | Some("application/vnd.docker.distribution.manifest.list.v2+json") => true,
        Some("application/vnd.oci.image.manifest.v1+json")
        | Some("application/vnd.docker.distribution.manifest.v2+json") => false,
        _ => doc.get("manifests").is_some(),
    }
}

fn annotations_tag(desc: &Value) -> Option<String> {
    let ann = desc.get("annotations")?;
    if let Some(n) = ann.get("io.containerd.image.name").and_then(Value::as_str) {
        return Some(n.to_string());
    }
    let r = ann.get("org.opencontainers.image.ref.name").and_then(Value::as_str)?;
    // A bare tag ("latest") names no repository: docker could not load it by that name.
    (r.contains(':') || r.contains('/')).then(|| r.to_string())
}

fn platform_string(p: &Value) -> Option<String> {
    let os = p.get("os")?.as_str()?;
    let arch = p.get("architecture")?.as_str()?;
    Some(match p.get("variant").and_then(Value::as_str) {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    })
}

/// An archive without manifest.json: everything comes from `index.json`.
pub(super) fn oci_index(members: &Members) -> Result<Found> {
    let index = parse_json(members, "index.json")?;
    let mut found = Found::default();
    let mut missing = Vec::new();
    walk_index(members, &index, None, 0, &mut found, &mut missing)?;
    if found.images.is_empty() {
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorCode::NotAnImage,
                format!("index.json lists images whose blobs are not in the archive: {}", missing.join(", ")),
            ));
        }
        return Err(Error::new(ErrorCode::NotAnImage, "index.json lists no image"));
    }
    Ok(found)
}

/// Docker 25+ and containerd: `manifest.json` names the images (one platform of an
/// index); `index.json` beside it may name more. When it holds the platforms of one image
/// (two or more of them present), the images are read from it, keeping manifest.json's
/// tags; otherwise manifest.json's images stay, and the index only says what it names but
/// the archive lacks. An index.json that cannot be read changes nothing (as before).
pub(super) fn beside_manifest(members: &Members, images: Vec<ImageDesc>) -> Found {
    let mut walked = Found::default();
    let read = members.has("index.json")
        && parse_json(members, "index.json")
            .and_then(|index| walk_index(members, &index, None, 0, &mut walked, &mut Vec::new()))
            .is_ok();
    if !read {
        return Found { images, groups: Vec::new() };
    }
    let repo_tags = |id: &Option<String>| {
        images.iter().find(|d| d.id == *id && !d.tags.is_empty()).map(|d| d.tags.clone()).unwrap_or_default()
    };
    if walked.groups.iter().any(|g| g.entries.len() >= 2) {
        let format = images.first().map_or(walked.images[0].format, |d| d.format);
        for d in &mut walked.images {
            d.format = format;
            let tags = repo_tags(&d.id);
            if !tags.is_empty() {
                d.tags = tags;
            }
        }
        return walked;
    }
    // Each group's one present image, if any, as manifest.json has it.
    let mut groups = walked.groups;
    for g in &mut groups {
        g.entries.retain_mut(|e| {
            let id = &walked.images[e.image].id;
            match images.iter().position(|d| d.id == *id) {
                Some(i) => {
                    e.image = i;
                    true
                }
                None => false,
            }
        });
    }
    Found { images, groups }
}

/// The group of `tag` in `groups` (made when new).
fn group_for<'g>(groups: &'g mut Vec<Group>, tag: &Option<String>, annotations: Option<&Value>) -> &'g mut Group {
    let at = match groups.iter().position(|g| g.tag == *tag) {
        Some(at) => at,
        None => {
            groups.push(Group { tag: tag.clone(), annotations: annotations.cloned(), ..Group::default() });
            groups.len() - 1
        }
    };
    &mut groups[at]
}

fn is_attestation(desc: &Value) -> bool {
    desc.get("annotations").and_then(|a| a.get("vnd.docker.reference.type")).is_some()
}

fn walk_index(
    members: &Members,
    index: &Value,
    tag: Option<String>,
    depth: usize,
    found: &mut Found,
    missing: &mut Vec<String>,
) -> Result<()> {
    if depth > MAX_INDEX_DEPTH {
        return Err(Error::corrupt("OCI indexes are nested too deep (a loop?)"));
    }
    let Some(list) = index.get("manifests").and_then(Value::as_array) else {
        return Ok(());
    };
    // This index's groups, one per tag; kept when they hold anything.
    let mut groups: Vec<Group> = Vec::new();
    let annotations = index.get("annotations");
    // A platform of a multi-platform index may lack its blobs; a lone image may not.
    let runnable = list.iter().filter(|d| !is_attestation(d)).count();
    for desc in list {
        let Some(digest) = desc.get("digest").and_then(Value::as_str) else {
            return Err(Error::corrupt("an OCI index entry has no digest"));
        };
        let tag = annotations_tag(desc).or_else(|| tag.clone());
        if is_attestation(desc) {
            group_for(&mut groups, &tag, annotations).attestations += 1; // buildx attestations are not images
            continue;
        }
        let name = blob_name(digest)?;
        let absent_name = || desc.get("platform").and_then(platform_string).unwrap_or_else(|| digest.to_string());
        if !members.has(&name) {
            missing.push(absent_name());
            group_for(&mut groups, &tag, annotations).absent.push(absent_name());
            continue;
        }
        let doc = parse_json(members, &name)?;
        let media =
            desc.get("mediaType").and_then(Value::as_str).or_else(|| doc.get("mediaType").and_then(Value::as_str));
        if is_index(media, &doc) {
            walk_index(members, &doc, tag, depth + 1, found, missing)?;
            continue;
        }
        let Some(config_digest) = doc.get("config").and_then(|c| c.get("digest")).and_then(Value::as_str) else {
            continue; // not an image manifest (artifact, unknown kind)
        };
        let config_name = blob_name(config_digest)?;
        let blobs_absent = || {
            let layers = doc.get("layers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
            !members.has(&config_name)
                || layers
                    .iter()
                    .filter_map(|l| l.get("digest").and_then(Value::as_str))
                    .any(|d| blob_name(d).is_ok_and(|n| !members.has(&n)))
        };
        if runnable >= 2 && blobs_absent() {
            missing.push(absent_name());
            group_for(&mut groups, &tag, annotations).absent.push(absent_name());
            continue;
        }
        let (config, id) = parse_config(members, &config_name)?;
        if config.get("rootfs").is_none() {
            continue; // an artifact's config, not an image's
        }
        let mut layers = Vec::new();
        for l in doc.get("layers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            let d = l
                .get("digest")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::corrupt("an OCI layer descriptor has no digest"))?;
            layers.push((members.lookup(&blob_name(d)?)?, Some(d.to_string())));
        }
        let layers = with_diff_ids(layers, &config, &format!("`{config_name}`"), None)?;
        let platform = desc.get("platform").and_then(platform_string).unwrap_or_else(|| platform_of(&config));
        let tags = tag.clone().into_iter().collect();
        group_for(&mut groups, &tag, annotations).entries.push(GroupEntry {
            image: found.images.len(),
            platform: desc.get("platform").cloned(),
            annotations: desc.get("annotations").cloned(),
        });
        found.images.push(ImageDesc {
            format: "oci-archive",
            id: Some(id),
            tags,
            platform,
            config,
            layers,
            legacy: false,
        });
    }
    found.groups.extend(groups.into_iter().filter(|g| !g.entries.is_empty() || !g.absent.is_empty()));
    Ok(())
}
