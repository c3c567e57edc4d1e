//! The image's history and how it maps to layers, and the history of the squashed image.

use serde_json::{Map, Value};

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
