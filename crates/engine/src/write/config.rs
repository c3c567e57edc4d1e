//! The squashed image's JSON: its config (every field kept, rootfs and history rewritten),
//! `manifest.json`, and `repositories` for loaders that still read it.

use serde_json::{json, Map, Value};

use super::Job;
use crate::error::{Error, Result};
use crate::image::history::squashed_history;

fn to_bytes(v: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::corrupt(format!("internal: {e}")))
}

/// The config, with the kept layers' diff_ids and the new layer's, if any.
pub(super) fn config(job: &Job<'_, '_>, new_diff_id: Option<&str>) -> Result<Vec<u8>> {
    let mut config: Map<String, Value> = job.image.config.clone();
    let mut diff_ids: Vec<Value> = job.diff_ids[..job.keep].iter().map(|d| Value::String(d.clone())).collect();
    if let Some(d) = new_diff_id {
        diff_ids.push(Value::String(d.to_string()));
    }
    let rootfs = config.entry("rootfs").or_insert_with(|| json!({"type": "layers"}));
    if let Some(r) = rootfs.as_object_mut() {
        r.insert("type".into(), Value::String("layers".into()));
        r.insert("diff_ids".into(), Value::Array(diff_ids));
    }
    let history = squashed_history(job.steps, job.keep, &job.from_label, job.layers.len() - job.keep);
    config.insert("history".into(), Value::Array(history));
    to_bytes(&Value::Object(config))
}

/// `manifest.json`: one image, its config and layer members by name.
pub(super) fn manifest(config_name: &str, tags: &[String], layer_names: &[String]) -> Result<Vec<u8>> {
    to_bytes(&json!([{
        "Config": config_name,
        "RepoTags": if tags.is_empty() { Value::Null } else { json!(tags) },
        "Layers": layer_names,
    }]))
}

/// `repositories`: repo -> tag -> the top layer's folder.
pub(super) fn repositories(tags: &[String], layer_names: &[String]) -> Result<Vec<u8>> {
    let top = layer_names.last().map(|n| n.trim_end_matches("/layer.tar").to_string()).unwrap_or_default();
    let mut repos: Map<String, Value> = Map::new();
    for t in tags {
        if let Some((repo, tag)) = t.rsplit_once(':') {
            let e = repos.entry(repo.to_string()).or_insert_with(|| json!({}));
            if let Some(m) = e.as_object_mut() {
                m.insert(tag.to_string(), Value::String(top.clone()));
            }
        }
    }
    to_bytes(&Value::Object(repos))
}
