//! Reading an image's layers, each verified against the diff_id its config promises.

use std::collections::HashMap;

use super::layer::{read_layer, LayerIndex};
use super::manifests::ImageDesc;
use super::members::Members;
use crate::digest::Sha256Factory;
use crate::error::{Error, ErrorCode, Result};
use crate::options::ProgressFn;
use crate::report::Progress;

/// Reads every layer of the image once (in archive order, so a compressed archive is
/// decoded front to back), verifying each against the config's diff_id unless `verify`
/// is off (see [`read_layer`]).
pub fn read_layers<'s>(
    members: &Members,
    image: &ImageDesc,
    sha256: Option<&Sha256Factory<'s>>,
    verify: bool,
    progress: &mut ProgressFn,
) -> Result<Vec<LayerIndex>> {
    let all: Vec<usize> = (0..image.layers.len()).collect();
    let read = read_some(members, image, sha256, verify, &all, progress)?;
    read.into_iter().map(|l| l.ok_or_else(|| Error::corrupt("internal: layer missing"))).collect()
}

/// Verifies the layers `which` (indices, from 0 at the bottom) against their diff_ids, as
/// [`read_layers`] does (the same reading, checks and messages) and reads no other: for
/// hosts that verify layers in parallel while the squash trusts the diff_ids.
pub fn verify_layers<'s>(
    members: &Members,
    image: &ImageDesc,
    sha256: Option<&Sha256Factory<'s>>,
    which: &[usize],
    progress: &mut ProgressFn,
) -> Result<()> {
    if let Some(&bad) = which.iter().find(|&&i| i >= image.layers.len()) {
        return Err(Error::new(
            ErrorCode::BadOption,
            format!(
                "there is no layer {bad}: the image has {} layers (0 to {})",
                image.layers.len(),
                image.layers.len().saturating_sub(1)
            ),
        ));
    }
    read_some(members, image, sha256, true, which, progress).map(|_| ())
}

/// Reads the layers `which`, each once, in archive order.
fn read_some<'s>(
    members: &Members,
    image: &ImageDesc,
    sha256: Option<&Sha256Factory<'s>>,
    verify: bool,
    which: &[usize],
    progress: &mut ProgressFn,
) -> Result<Vec<Option<LayerIndex>>> {
    let mut order: Vec<usize> = which.to_vec();
    order.sort_by_key(|&i| (image.layers[i].file.offset, i));
    order.dedup();
    let total: u64 = order.iter().map(|&i| image.layers[i].file.size).sum();
    let mut done = 0u64;
    let mut by_offset: HashMap<u64, usize> = HashMap::new();
    let mut out: Vec<Option<LayerIndex>> = vec![None; image.layers.len()];
    for i in order {
        let desc = &image.layers[i];
        let index = match by_offset.get(&desc.file.offset) {
            Some(&j) => out[j].clone().ok_or_else(|| Error::corrupt("internal: layer order"))?,
            None => {
                let mut tick = |n: u64| -> Result<()> {
                    let p = Progress { phase: "read", bytes_done: done + n, bytes_total: total };
                    if progress(&p) {
                        Ok(())
                    } else {
                        Err(Error::new(ErrorCode::Cancelled, "cancelled"))
                    }
                };
                read_layer(&*members.src, desc, sha256, verify, &mut tick)
                    .map_err(|e| e.context(format!("layer {i} (`{}`)", desc.file.name)))?
            }
        };
        done += desc.file.size;
        if let Some(want) = &desc.diff_id {
            if *want != index.diff_id {
                return Err(Error::new(
                    ErrorCode::DigestMismatch,
                    format!(
                        "layer {i} (`{}`) has content {} but the image config promises {want}: the archive is damaged or was altered",
                        desc.file.name, index.diff_id
                    ),
                ));
            }
        }
        by_offset.insert(desc.file.offset, i);
        out[i] = Some(index);
    }
    Ok(out)
}
