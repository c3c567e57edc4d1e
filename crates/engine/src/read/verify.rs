//! Reading an image's layers, each verified against the diff_id its config promises.

use std::collections::HashMap;

use super::compression::Compression;
use super::layer::{read_layer, LayerIndex};
use super::manifests::{ImageDesc, LayerDesc};
use super::members::Members;
use crate::digest::Sha256Factory;
use crate::error::{Error, ErrorCode, Result};
use crate::options::ProgressFn;
use crate::report::{LayerRange, Progress};

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
/// hosts that verify layers in parallel while the squash trusts the diff_ids. `hashed`
/// holds digests the host computed itself of plain [`layer_ranges`] (a browser's native
/// SHA-256 needs the bytes whole): those layers are compared, not read.
pub fn verify_layers<'s>(
    members: &Members,
    image: &ImageDesc,
    sha256: Option<&Sha256Factory<'s>>,
    which: &[usize],
    hashed: &[(usize, String)],
    progress: &mut ProgressFn,
) -> Result<()> {
    for &i in which.iter().chain(hashed.iter().map(|(i, _)| i)) {
        no_such_layer(image, i)?;
    }
    let ranges = if hashed.is_empty() { Vec::new() } else { layer_ranges(members, image)? };
    for (i, digest) in hashed {
        if !ranges.iter().any(|r| r.index == *i && r.plain) {
            return Err(Error::new(
                ErrorCode::BadOption,
                format!("layer {i} is not stored plain in the archive: its digest cannot be computed from its bytes"),
            ));
        }
        if !is_sha256(digest) {
            return Err(Error::new(
                ErrorCode::BadOption,
                format!("the digest given for layer {i} is not `sha256:` and 64 lowercase hex digits: {digest}"),
            ));
        }
    }
    // The host's digests are compared first, as a read layer's would be; the rest is read.
    for (i, digest) in hashed {
        check_diff_id(*i, &image.layers[*i], digest)?;
    }
    let rest: Vec<usize> = which.iter().copied().filter(|i| !hashed.iter().any(|(h, _)| h == i)).collect();
    read_some(members, image, sha256, true, &rest, progress).map(|_| ())
}

fn no_such_layer(image: &ImageDesc, i: usize) -> Result<()> {
    if i < image.layers.len() {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::BadOption,
        format!(
            "there is no layer {i}: the image has {} layers (0 to {})",
            image.layers.len(),
            image.layers.len().saturating_sub(1)
        ),
    ))
}

/// Lowercase hex, as diff_ids are written: compared as strings.
fn is_sha256(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// Where each layer's stored bytes lie in the input, a contiguous range unless the whole
/// input is compressed (then none is given: offsets are not the file's), and whether they
/// are its tar as is: a host may hash those by its own means for [`verify_layers`].
pub fn layer_ranges(members: &Members, image: &ImageDesc) -> Result<Vec<LayerRange>> {
    if members.compression != Compression::None {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (index, desc) in image.layers.iter().enumerate() {
        let c = Compression::sniff(&*members.src, desc.file.offset, desc.file.size)
            .map_err(|e| Error::io("reading a layer", e))?;
        out.push(LayerRange { index, offset: desc.file.offset, size: desc.file.size, plain: c == Compression::None });
    }
    Ok(out)
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
                    let p = Progress { phase: "read", bytes_done: done + n, bytes_total: total, platform: None };
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
        check_diff_id(i, desc, &index.diff_id)?;
        by_offset.insert(desc.file.offset, i);
        out[i] = Some(index);
    }
    Ok(out)
}

/// Layer `i`'s content hashes to `got`: it must be what the config promises.
fn check_diff_id(i: usize, desc: &LayerDesc, got: &str) -> Result<()> {
    match &desc.diff_id {
        Some(want) if want != got => Err(Error::new(
            ErrorCode::DigestMismatch,
            format!(
                "layer {i} (`{}`) has content {got} but the image config promises {want}: the archive is damaged or was altered",
                desc.file.name
            ),
        )),
        _ => Ok(()),
    }
}
