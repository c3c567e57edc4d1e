//! How layers are named: the id each is shown and chosen by, and Docker's ChainIDs.

use crate::digest::{hex_of, sha256_digest};
use crate::read::layer::LayerIndex;
use crate::read::manifests::ImageDesc;

/// The id each layer is shown and chosen by: its diff_id's hex, or for pre-1.10 archives
/// before reading, its legacy id. A diff_id that repeats (identical layers) would name
/// several layers, so those layers are shown by their ChainID, which is unique.
pub fn layer_ids(image: &ImageDesc, read: Option<&[LayerIndex]>) -> Vec<String> {
    let diffs: Vec<Option<String>> = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| read.and_then(|r| r.get(i)).map(|r| r.diff_id.clone()).or_else(|| l.diff_id.clone()))
        .collect();
    let chains = if diffs.iter().all(Option::is_some) {
        chain_ids(&diffs.iter().flatten().cloned().collect::<Vec<_>>())
    } else {
        Vec::new()
    };
    diffs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let repeated = d.is_some() && diffs.iter().filter(|x| *x == d).count() > 1;
            match (d, &image.layers[i].legacy_id) {
                (Some(_), _) if repeated && i < chains.len() => hex_of(&chains[i]).to_string(),
                (Some(d), _) => hex_of(d).to_string(),
                (None, Some(id)) => id.clone(),
                (None, None) => String::new(),
            }
        })
        .collect()
}

/// Docker's ChainIDs: a layer's identity with everything below it.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in diff_ids {
        let id = match out.last() {
            None => d.clone(),
            Some(prev) => sha256_digest(format!("{prev} {d}").as_bytes()),
        };
        out.push(id);
    }
    out
}
