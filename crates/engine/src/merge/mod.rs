//! Merging: the layers applied one over the other as Docker applies them, into a tree that
//! remembers what the kept base held; then the plan of the squashed layer.
//!
//! - [`tree`]: applying one entry (overlay2 semantics);
//! - [`whiteout`]: the `.wh.` markers, and when the squashed layer writes one;
//! - [`plan`]: what the squashed layer holds, in writing order.

pub mod plan;
pub mod tree;
pub mod whiteout;

use crate::error::Result;
use crate::read::layer::LayerIndex;
use tree::{EntryRef, Superseded, Tree};

/// Applies every layer in order; the kept base ends after layer `keep - 1` (`keep == 0`:
/// nothing is kept). `sink` is told of every file that stops being visible.
pub fn apply_layers(layers: &[LayerIndex], keep: usize, sink: &mut dyn FnMut(Superseded)) -> Result<Tree> {
    let mut tree = Tree::new();
    if keep == 0 {
        tree.end_base(None);
    }
    for (li, layer) in layers.iter().enumerate() {
        for (ei, entry) in layer.entries.iter().enumerate() {
            tree.apply(EntryRef { layer: li as u32, idx: ei as u32 }, entry, sink)
                .map_err(|e| e.context(format!("layer {li}")))?;
        }
        if li + 1 == keep {
            tree.end_base(Some(li as u32));
        }
    }
    Ok(tree)
}
