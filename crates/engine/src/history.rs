//! The image's history and how it maps to layers; the default squash point; the
//! history of the squashed image.

use serde_json::{Map, Value};

use crate::digest::hex_of;
use crate::error::{Error, ErrorCode, Result};
use crate::report::SquashPointChoice;

/// One history step and the layer it made, if any.
#[derive(Debug, Clone)]
pub struct Step {
    pub entry: Map<String, Value>,
    pub layer: Option<usize>,
}

impl Step {
    pub fn created_by(&self) -> &str {
        self.entry.get("created_by").and_then(Value::as_str).unwrap_or("")
    }
}

/// The config's history, aligned with the layers. When it does not match the layers
/// (some tools write none), one plain step per layer stands in for it.
pub fn steps(config: &Map<String, Value>, layer_count: usize) -> Vec<Step> {
    let history: Vec<Map<String, Value>> = config
        .get("history")
        .and_then(Value::as_array)
        .map(|h| h.iter().filter_map(|e| e.as_object().cloned()).collect())
        .unwrap_or_default();
    let non_empty = history.iter().filter(|e| !is_empty_layer(e)).count();
    if non_empty != layer_count {
        return (0..layer_count).map(|i| Step { entry: Map::new(), layer: Some(i) }).collect();
    }
    let mut next = 0;
    history
        .into_iter()
        .map(|entry| {
            let layer = if is_empty_layer(&entry) {
                None
            } else {
                next += 1;
                Some(next - 1)
            };
            Step { entry, layer }
        })
        .collect()
}

fn is_empty_layer(e: &Map<String, Value>) -> bool {
    e.get("empty_layer").and_then(Value::as_bool).unwrap_or(false)
}

/// As the original docker-squash: keep the base image up to its first `ADD file:` layer,
/// or up to a later `#(squash)` layer (an earlier squash); else squash from root.
pub fn default_from(steps: &[Step], layer_ids: &[String]) -> SquashPointChoice {
    let add = steps.iter().enumerate().find(|(_, s)| s.layer.is_some() && s.created_by().contains("ADD file:"));
    let squash =
        steps.iter().enumerate().rev().find(|(_, s)| s.layer.is_some() && s.created_by().starts_with("#(squash)"));
    let pick = match (add, squash) {
        (Some(a), Some(s)) if s.0 > a.0 => Some((s, "the last earlier squash (`#(squash)`)")),
        (Some(a), _) => Some((a, "the base image's first layer created by `ADD file:`")),
        (None, Some(s)) => Some((s, "the last earlier squash (`#(squash)`)")),
        (None, None) => None,
    };
    match pick {
        Some(((i, step), why)) => {
            let layer = step.layer.unwrap_or(0);
            SquashPointChoice {
                from: layer_ids.get(layer).cloned().unwrap_or_default(),
                layer_index: Some(layer),
                reason: format!("keeping layer {layer} (history step {i}): {why}"),
            }
        }
        None => SquashPointChoice {
            from: "root".into(),
            layer_index: None,
            reason: "no `ADD file:` or `#(squash)` layer in the history: squashing from root".into(),
        },
    }
}

/// Finds the layer a `-from` id names: a unique prefix of a layer's diff_id, blob digest
/// or legacy id, with or without `sha256:`.
pub fn resolve_from(id: &str, candidates: &[Vec<String>], shown: &[String]) -> Result<usize> {
    let want = hex_of(id.trim()).to_ascii_lowercase();
    if want.is_empty() {
        return Err(Error::new(
            ErrorCode::FromChoice,
            "`-from` needs a layer id (as `docker-squash inspect` prints it) or `root`",
        ));
    }
    let list = || shown.iter().enumerate().map(|(i, s)| format!("  {i}: {s}")).collect::<Vec<_>>().join("\n");
    // The ids `inspect` prints are unique: a match among them wins; then any other id.
    let by_shown: Vec<usize> = shown
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty() && hex_of(s).starts_with(&want))
        .map(|(i, _)| i)
        .collect();
    let matches: Vec<usize> = if by_shown.len() == 1 {
        by_shown
    } else {
        candidates
            .iter()
            .enumerate()
            .filter(|(_, ids)| ids.iter().any(|c| hex_of(c).starts_with(&want)))
            .map(|(i, _)| i)
            .collect()
    };
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::new(
            ErrorCode::FromChoice,
            format!("no layer of this image has the id `{id}`; its layers are:\n{}", list()),
        )),
        many => Err(Error::new(
            ErrorCode::FromChoice,
            format!(
                "`{id}` matches {} layers ({}); give more of the id. The layers are:\n{}",
                many.len(),
                many.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                list()
            ),
        )),
    }
}

/// The squashed image's history: kept steps, one `#(squash)` step, then the metadata-only
/// steps from above the squash point (so `docker history` still shows ENV, CMD...).
pub fn squashed_history(steps: &[Step], keep_layers: usize, from_label: &str, squashed_layers: usize) -> Vec<Value> {
    let split = steps.iter().position(|s| s.layer.is_some_and(|l| l >= keep_layers)).unwrap_or(steps.len());
    let mut out: Vec<Value> = steps[..split].iter().map(|s| Value::Object(s.entry.clone())).collect();
    let above = &steps[split..];
    if squashed_layers > 0 {
        let created = above.iter().rev().filter(|s| s.layer.is_some()).find_map(|s| s.entry.get("created").cloned());
        let mut e = Map::new();
        if let Some(c) = created {
            e.insert("created".into(), c);
        }
        e.insert("created_by".into(), Value::String(format!("#(squash) from {from_label}")));
        e.insert(
            "comment".into(),
            Value::String(format!("{squashed_layers} layers squashed into one by docker-squash")),
        );
        out.push(Value::Object(e));
    }
    for s in above.iter().filter(|s| s.layer.is_none()) {
        out.push(Value::Object(s.entry.clone()));
    }
    out
}
