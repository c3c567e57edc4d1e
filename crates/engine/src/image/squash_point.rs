//! The squash point: which layers are kept and where the squash starts, by default as the
//! original docker-squash chose it, or as `-from` names it.

use crate::digest::hex_of;
use crate::error::{Error, ErrorCode, Result};
use crate::read::layer::LayerIndex;
use crate::read::manifests::ImageDesc;
use crate::report::SquashPointChoice;

use super::history::Step;
use super::layer_ids::layer_ids;

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

/// Finds the layer `-from` names.
pub fn resolve_layer(image: &ImageDesc, read: Option<&[LayerIndex]>, id: &str) -> Result<usize> {
    let shown = layer_ids(image, read);
    let candidates: Vec<Vec<String>> = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut c = vec![shown[i].clone()];
            c.extend(l.diff_id.clone());
            c.extend(l.digest.clone());
            c.extend(l.legacy_id.clone());
            c.retain(|s| !s.is_empty());
            c
        })
        .collect();
    resolve_from(id, &candidates, &shown)
}
