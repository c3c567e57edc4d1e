//! The images manifest.json names (`docker save` 1.10–24, Docker 25+ and containerd, jib
//! with its lowercase keys) and those of pre-1.10 saves (`<id>/json` parent chains); the
//! descriptions of images and layers every layout is read into, and the helpers the walk
//! of OCI indexes (`index.rs`) shares.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::read::members::{FileRef, Members};

/// JSON metadata files larger than this are not metadata.
pub const MAX_JSON: u64 = 16 << 20;

#[derive(Debug, Clone)]
pub struct LayerDesc {
    pub file: FileRef,
    /// From the config's rootfs.diff_ids (absent in pre-1.10 archives).
    pub diff_id: Option<String>,
    /// `sha256:` of the stored blob, when the archive says it.
    pub digest: Option<String>,
    /// The `<id>` folder of `<id>/layer.tar`.
    pub legacy_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ImageDesc {
    pub format: &'static str,
    /// `sha256:` of the config as stored (None for pre-1.10, whose config is made here).
    pub id: Option<String>,
    pub tags: Vec<String>,
    pub config: Map<String, Value>,
    pub platform: String,
    pub layers: Vec<LayerDesc>,
    /// True for pre-1.10 archives: diff_ids and history are made from the layers.
    pub legacy: bool,
}

pub(super) fn parse_json(members: &Members, name: &str) -> Result<Value> {
    let bytes = members.read(name, MAX_JSON)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(format!("`{name}` is not valid JSON: {e}")))
}

/// A field by name, case-insensitively (jib writes `config`, `repoTags`, `layers`).
fn field<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn str_field<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    field(obj, key).and_then(Value::as_str)
}

pub(super) fn blob_name(digest: &str) -> Result<String> {
    let (alg, hex) = digest.split_once(':').ok_or_else(|| Error::corrupt(format!("`{digest}` is not a digest")))?;
    if alg.is_empty()
        || hex.is_empty()
        || !hex.bytes().all(|b| b.is_ascii_alphanumeric())
        || !alg.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::corrupt(format!("`{digest}` is not a digest")));
    }
    Ok(format!("blobs/{alg}/{hex}"))
}

fn digest_of_blob_path(path: &str) -> Option<String> {
    let p = path.trim_start_matches("./");
    let rest = p.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    Some(format!("{alg}:{hex}"))
}

fn legacy_id_of(path: &str) -> Option<String> {
    let p = path.trim_start_matches("./");
    let (dir, file) = p.split_once('/')?;
    (file == "layer.tar" && dir.len() == 64 && dir.bytes().all(|b| b.is_ascii_hexdigit())).then(|| dir.to_string())
}

pub(super) fn parse_config(members: &Members, name: &str) -> Result<(Map<String, Value>, String)> {
    let bytes = members.read(name, MAX_JSON)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::corrupt(format!("the image config `{name}` is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(Error::corrupt(format!("the image config `{name}` is not a JSON object")));
    };
    Ok((map, crate::digest::sha256_digest(&bytes)))
}

pub(super) fn platform_of(config: &Map<String, Value>) -> String {
    let os = config.get("os").and_then(Value::as_str).unwrap_or("linux");
    let arch = config.get("architecture").and_then(Value::as_str).unwrap_or("amd64");
    match config.get("variant").and_then(Value::as_str) {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    }
}

fn diff_ids(config: &Map<String, Value>, what: &str) -> Result<Vec<String>> {
    let ids = config
        .get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(Value::as_array)
        .ok_or_else(|| Error::corrupt(format!("the image config {what} has no rootfs.diff_ids")))?;
    ids.iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(|| Error::corrupt("a diff_id is not a string")))
        .collect()
}

pub(super) fn with_diff_ids(
    layers: Vec<(FileRef, Option<String>)>,
    config: &Map<String, Value>,
    what: &str,
    sources: Option<&Value>,
) -> Result<Vec<LayerDesc>> {
    let ids = diff_ids(config, what)?;
    if ids.len() != layers.len() {
        return Err(Error::corrupt(format!(
            "the manifest lists {} layers but the image config {what} has {} diff_ids",
            layers.len(),
            ids.len()
        )));
    }
    let mut out = Vec::new();
    for ((file, digest), diff_id) in layers.into_iter().zip(ids) {
        // Docker 25 saves list each layer's blob digest under LayerSources.
        let digest = digest.or_else(|| {
            sources
                .and_then(|s| s.get(&diff_id))
                .and_then(|d| d.get("digest"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        let legacy_id = legacy_id_of(&file.name);
        out.push(LayerDesc { file, diff_id: Some(diff_id), digest, legacy_id });
    }
    Ok(out)
}

/// The images manifest.json names (none when it names none).
pub(super) fn docker_manifest(members: &Members) -> Result<Vec<ImageDesc>> {
    let manifest = parse_json(members, "manifest.json")?;
    let entries = match &manifest {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        _ => return Err(Error::corrupt("manifest.json is not a JSON list of images")),
    };
    if entries.is_empty() {
        return Ok(Vec::new()); // the caller reads index.json, if there is one
    }
    let format = if members.has("oci-layout") { "docker-save (25+, OCI layout)" } else { "docker-save (1.10-24)" };
    let mut images = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let config_name = str_field(entry, "Config")
            .ok_or_else(|| Error::corrupt(format!("manifest.json entry {i} has no Config")))?;
        let (config, id) = parse_config(members, config_name)?;
        let tags = match field(entry, "RepoTags") {
            Some(Value::Array(t)) => t.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => Vec::new(),
        };
        let layer_names = match field(entry, "Layers") {
            Some(Value::Array(l)) => l,
            _ => return Err(Error::corrupt(format!("manifest.json entry {i} has no Layers list"))),
        };
        let mut layers = Vec::new();
        for l in layer_names {
            let name = l.as_str().ok_or_else(|| Error::corrupt("a layer path in manifest.json is not a string"))?;
            layers.push((members.lookup(name)?, digest_of_blob_path(name)));
        }
        let layers = with_diff_ids(layers, &config, &format!("`{config_name}`"), field(entry, "LayerSources"))?;
        images.push(ImageDesc {
            format,
            id: Some(id),
            tags,
            platform: platform_of(&config),
            config,
            layers,
            legacy: false,
        });
    }
    Ok(images)
}

/// Pre-1.10 `docker save`: `<id>/json` (a v1 image config with `parent`) and
/// `<id>/layer.tar` per layer, `repositories` for tags.
pub(super) fn legacy(members: &Members) -> Result<Vec<ImageDesc>> {
    let mut tags_by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if members.has("repositories") {
        let repos = parse_json(members, "repositories")?;
        if let Some(map) = repos.as_object() {
            for (repo, tags) in map {
                if let Some(tags) = tags.as_object() {
                    for (tag, id) in tags {
                        if let Some(id) = id.as_str() {
                            tags_by_id.entry(id.to_string()).or_default().push(format!("{repo}:{tag}"));
                        }
                    }
                }
            }
        }
    }
    let ids: Vec<String> = members
        .names()
        .filter_map(|n| n.strip_suffix("/json").map(str::to_string))
        .filter(|id| !id.contains('/'))
        .collect();
    let mut jsons = BTreeMap::new();
    for id in &ids {
        jsons.insert(id.clone(), parse_json(members, &format!("{id}/json"))?);
    }
    let parents: BTreeSet<String> =
        jsons.values().filter_map(|j| j.get("parent").and_then(Value::as_str).map(str::to_string)).collect();
    let tops: Vec<String> = if tags_by_id.is_empty() {
        ids.iter().filter(|id| !parents.contains(*id)).cloned().collect()
    } else {
        tags_by_id.keys().cloned().collect()
    };
    let mut images = Vec::new();
    for top in tops {
        let mut chain = Vec::new();
        let mut cur = Some(top.clone());
        while let Some(id) = cur {
            if chain.len() > 1000 || chain.contains(&id) {
                return Err(Error::corrupt("the parent chain of `<id>/json` files loops"));
            }
            let j = jsons.get(&id).ok_or_else(|| {
                Error::corrupt(format!("the archive lacks `{id}/json`, a parent in the image's chain"))
            })?;
            cur = j.get("parent").and_then(Value::as_str).filter(|p| !p.is_empty()).map(str::to_string);
            chain.push(id);
        }
        chain.reverse();
        let mut layers = Vec::new();
        let mut history = Vec::new();
        for id in &chain {
            let j = &jsons[id];
            layers.push(LayerDesc {
                file: members.lookup(&format!("{id}/layer.tar"))?,
                diff_id: None,
                digest: None,
                legacy_id: Some(id.clone()),
            });
            let mut h = Map::new();
            if let Some(c) = j.get("created") {
                h.insert("created".into(), c.clone());
            }
            if let Some(a) = j.get("author").filter(|a| a.as_str().is_some_and(|s| !s.is_empty())) {
                h.insert("author".into(), a.clone());
            }
            let cmd = j
                .get("container_config")
                .and_then(|c| c.get("Cmd"))
                .and_then(Value::as_array)
                .map(|c| c.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            h.insert("created_by".into(), Value::String(cmd));
            if let Some(c) = j.get("comment").filter(|a| a.as_str().is_some_and(|s| !s.is_empty())) {
                h.insert("comment".into(), c.clone());
            }
            history.push(Value::Object(h));
        }
        // The v1 config of the top layer becomes the image config, as `docker load` does.
        let mut config = jsons[&top].as_object().cloned().unwrap_or_default();
        for k in ["id", "parent", "Size", "parent_id", "layer_id", "throwaway"] {
            config.remove(k);
        }
        config.insert("history".into(), Value::Array(history));
        config.insert("rootfs".into(), serde_json::json!({"type": "layers", "diff_ids": []}));
        let tags = tags_by_id.get(&top).cloned().unwrap_or_default();
        // No config file to take a digest of: the id is that of the config made here.
        let id = serde_json::to_vec(&config).ok().map(|b| crate::digest::sha256_digest(&b));
        images.push(ImageDesc {
            format: "docker-save (pre-1.10)",
            id,
            tags,
            platform: platform_of(&config),
            config,
            layers,
            legacy: true,
        });
    }
    if images.is_empty() {
        return Err(Error::new(ErrorCode::NotAnImage, "no image found in this pre-1.10 archive"));
    }
    Ok(images)
}
