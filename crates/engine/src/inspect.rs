//! Reading an image's layers, and the facts `inspect` shows: history with layer ids and
//! sizes, the default squash point, and what squashing from each point would reclaim.

use std::collections::HashMap;

use serde_json::Value;

use crate::bundle::Bundle;
use crate::digest::Sha256Factory;
use crate::error::{Error, ErrorCode, Result};
use crate::history::{self, steps};
use crate::images::ImageDesc;
use crate::layer::{read_layer, LayerIndex, Op};
use crate::path;
use crate::report::*;
use crate::squash::build_tree;
use crate::tree::Superseded;
use crate::ProgressFn;

const LARGEST_WASTED: usize = 20;

/// Reads every layer of the image once (in archive order, so a compressed archive is
/// decoded front to back), verifying each against the config's diff_id unless `verify`
/// is off (see [`read_layer`]).
pub fn read_layers<'s>(
    bundle: &Bundle,
    image: &ImageDesc,
    sha256: Option<&Sha256Factory<'s>>,
    verify: bool,
    progress: &mut ProgressFn,
) -> Result<Vec<LayerIndex>> {
    let mut order: Vec<usize> = (0..image.layers.len()).collect();
    order.sort_by_key(|&i| image.layers[i].file.offset);
    let total: u64 = image.layers.iter().map(|l| l.file.size).sum();
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
                read_layer(&*bundle.src, desc, sha256, verify, &mut tick)
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
    out.into_iter().map(|l| l.ok_or_else(|| Error::corrupt("internal: layer missing"))).collect()
}

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
        crate::squash::chain_ids(&diffs.iter().flatten().cloned().collect::<Vec<_>>())
    } else {
        Vec::new()
    };
    diffs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let repeated = d.is_some() && diffs.iter().filter(|x| *x == d).count() > 1;
            match (d, &image.layers[i].legacy_id) {
                (Some(_), _) if repeated && i < chains.len() => crate::digest::hex_of(&chains[i]).to_string(),
                (Some(d), _) => crate::digest::hex_of(d).to_string(),
                (None, Some(id)) => id.clone(),
                (None, None) => String::new(),
            }
        })
        .collect()
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
    history::resolve_from(id, &candidates, &shown)
}

fn matches_tag(tag: &str, want: &str) -> bool {
    let strip = |t: &str| -> String {
        let t = t.strip_prefix("docker.io/").unwrap_or(t);
        let t = t.strip_prefix("library/").unwrap_or(t);
        let last_slash = t.rfind('/').map_or(0, |i| i + 1);
        if t[last_slash..].contains(':') {
            t.to_string()
        } else {
            format!("{t}:latest")
        }
    };
    strip(tag) == strip(want)
}

fn describe(i: usize, d: &ImageDesc) -> String {
    let tags = if d.tags.is_empty() { "<untagged>".to_string() } else { d.tags.join(", ") };
    let id = d.id.as_deref().map(|x| crate::digest::hex_of(x).chars().take(12).collect::<String>()).unwrap_or_default();
    format!("  {i}: {tags}  id {id}  {}", d.platform)
}

/// Picks one image by tag or id prefix and platform (default linux/amd64 when several).
pub fn select(images: &[ImageDesc], image: Option<&str>, platform: Option<&str>) -> Result<usize> {
    let list = || images.iter().enumerate().map(|(i, d)| describe(i, d)).collect::<Vec<_>>().join("\n");
    let mut cands: Vec<usize> = (0..images.len()).collect();
    if let Some(p) = platform {
        cands.retain(|&i| images[i].platform == p || images[i].platform.starts_with(&format!("{p}/")));
        if cands.is_empty() {
            return Err(Error::new(
                ErrorCode::ImageChoice,
                format!("no image in the archive is for platform `{p}`; it holds:\n{}", list()),
            ));
        }
    }
    if let Some(want) = image {
        let hex = crate::digest::hex_of(want).to_ascii_lowercase();
        cands.retain(|&i| {
            let d = &images[i];
            d.tags.iter().any(|t| matches_tag(t, want))
                || (!hex.is_empty()
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
                    && d.id.as_deref().is_some_and(|id| crate::digest::hex_of(id).starts_with(&hex)))
                || want.parse::<usize>().ok() == Some(i) && d.tags.is_empty()
        });
        if cands.is_empty() {
            return Err(Error::new(
                ErrorCode::ImageChoice,
                format!("no image in the archive matches `{want}`; it holds:\n{}", list()),
            ));
        }
    }
    if cands.len() > 1 && platform.is_none() {
        let amd64: Vec<usize> = cands.iter().copied().filter(|&i| images[i].platform == "linux/amd64").collect();
        let same_tags = cands.iter().all(|&i| images[i].tags == images[cands[0]].tags);
        if same_tags && amd64.len() == 1 {
            cands = amd64;
        }
    }
    match cands.as_slice() {
        [one] => Ok(*one),
        _ => Err(Error::new(
            ErrorCode::ImageChoice,
            format!(
                "the archive holds several images; choose one with -image TAG|ID (or -platform OS/ARCH):\n{}",
                list()
            ),
        )),
    }
}

/// Image facts without reading layers (or with, when `read` is given).
pub fn summary(index: usize, d: &ImageDesc, read: Option<&[LayerIndex]>) -> ImageInfo {
    let ids = layer_ids(d, read);
    let steps = steps(&d.config, d.layers.len());
    let layer_info = |l: usize| {
        let desc = &d.layers[l];
        let r = read.and_then(|r| r.get(l));
        let diff_id = r.map(|r| r.diff_id.clone()).or_else(|| desc.diff_id.clone()).unwrap_or_default();
        let compression = r.map(|r| r.compression.name()).unwrap_or("unknown").to_string();
        let digest = desc.digest.clone().or_else(|| {
            (r.is_some_and(|r| r.compression == crate::compression::Compression::None)).then(|| diff_id.clone())
        });
        LayerInfo {
            index: l,
            id: ids[l].clone(),
            diff_id,
            digest,
            legacy_id: desc.legacy_id.clone(),
            size: r.map_or(desc.file.size, |r| r.size),
            stored_size: desc.file.size,
            compression,
            entries: r.map_or(0, |r| r.entries.len() as u64),
            wasted_bytes: 0,
        }
    };
    let history = steps
        .iter()
        .enumerate()
        .map(|(i, s)| HistoryRow {
            index: i,
            layer: s.layer.map(layer_info),
            created: s.entry.get("created").and_then(Value::as_str).map(str::to_string),
            created_by: s.created_by().to_string(),
            comment: s.entry.get("comment").and_then(Value::as_str).map(str::to_string),
            empty_layer: s.layer.is_none(),
        })
        .collect::<Vec<_>>();
    let total_size = history.iter().filter_map(|h| h.layer.as_ref()).map(|l| l.size).sum();
    let id = d.id.clone().unwrap_or_else(|| d.layers.last().and_then(|l| l.legacy_id.clone()).unwrap_or_default());
    ImageInfo {
        index,
        id,
        tags: d.tags.clone(),
        platform: d.platform.clone(),
        history,
        total_size,
        default_from: history::default_from(&steps, &ids),
        squash_points: Vec::new(),
        largest_wasted: Vec::new(),
        wasted_bytes: 0,
    }
}

/// Full facts: what later layers delete or overwrite, and what each squash point gives.
pub fn full(index: usize, d: &ImageDesc, layers: &[LayerIndex]) -> Result<ImageInfo> {
    let mut info = summary(index, d, Some(layers));
    let n = layers.len();
    let mut gone: Vec<(crate::tree::ERef, u64, String, u32, bool)> = Vec::new();
    let mut sink = |s: Superseded| {
        let size =
            match layers.get(s.entry.layer as usize).and_then(|l| l.entries.get(s.entry.idx as usize)).map(|e| &e.op) {
                Some(Op::Put(p)) => p.size,
                _ => 0,
            };
        if size > 0 {
            gone.push((s.entry, size, path::show(s.path), s.by_layer, s.deleted));
        }
    };
    let tree = build_tree(layers, 0, &mut sink)?;
    // Content that a surviving hardlink still shows is not wasted.
    let linked = tree.linked_contents();
    drop(tree);
    let mut wasted = vec![0u64; n];
    let mut largest: Vec<WastedFile> = Vec::new();
    for (entry, size, p, by, deleted) in gone {
        if linked.contains(&entry) {
            continue;
        }
        wasted[entry.layer as usize] += size;
        largest.push(WastedFile {
            path: p,
            size,
            layer_index: entry.layer as usize,
            removed_by: by as usize,
            how: if deleted { "deleted" } else { "overwritten" }.to_string(),
        });
    }
    largest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    largest.truncate(LARGEST_WASTED);
    for h in info.history.iter_mut() {
        if let Some(l) = h.layer.as_mut() {
            l.wasted_bytes = wasted[l.index];
        }
    }
    info.wasted_bytes = wasted.iter().sum();
    info.largest_wasted = largest;
    let sizes: Vec<u64> = layers.iter().map(|l| l.size).collect();
    let ids = layer_ids(d, Some(layers));
    let mut points = Vec::new();
    for k in std::iter::once(None).chain((0..n.saturating_sub(1)).map(Some)) {
        let keep = k.map_or(0, |k| k + 1);
        let reclaimed: u64 = wasted[keep..].iter().sum();
        let size_after = sizes.iter().sum::<u64>().saturating_sub(reclaimed);
        points.push(SquashPointEstimate {
            from: k.map_or("root".to_string(), |k| ids[k].clone()),
            layer_index: k,
            layers_after: keep + 1,
            size_after,
            reclaimed_bytes: reclaimed,
        });
    }
    info.squash_points = points;
    Ok(info)
}
