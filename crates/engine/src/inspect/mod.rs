//! The facts `inspect` shows: history with layer ids and sizes, the default squash point,
//! what squashing from each point would reclaim, and the wasted space ([`waste`]: by
//! folder; [`efficiency`]: dive's score).

mod efficiency;
mod waste;

use serde_json::Value;

use crate::error::Result;
use crate::image::history::steps;
use crate::image::layer_ids::layer_ids;
use crate::image::squash_point::default_from;
use crate::merge::apply_layers;
use crate::merge::tree::{EntryRef, Superseded};
use crate::path;
use crate::read::compression::Compression;
use crate::read::entry::Op;
use crate::read::layer::LayerIndex;
use crate::read::manifests::ImageDesc;
use crate::report::{HistoryRow, ImageInfo, LayerInfo, SquashPointEstimate, WastedFile};
use efficiency::Efficiency;
use waste::Removed;

const LARGEST_WASTED: usize = 20;

/// Image facts without reading layers (or with, when `read` is given).
pub fn summary(index: usize, d: &ImageDesc, read: Option<&[LayerIndex]>) -> ImageInfo {
    let ids = layer_ids(d, read);
    let steps = steps(&d.config, d.layers.len());
    let layer_info = |l: usize| {
        let desc = &d.layers[l];
        let r = read.and_then(|r| r.get(l));
        let diff_id = r.map(|r| r.diff_id.clone()).or_else(|| desc.diff_id.clone()).unwrap_or_default();
        let compression = r.map(|r| r.compression.name()).unwrap_or("unknown").to_string();
        let digest = desc
            .digest
            .clone()
            .or_else(|| (r.is_some_and(|r| r.compression == Compression::None)).then(|| diff_id.clone()));
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
        default_from: default_from(&steps, &ids),
        squash_points: Vec::new(),
        largest_wasted: Vec::new(),
        wasted_groups: Vec::new(),
        wasted_bytes: 0,
        efficiency: None,
    }
}

/// Full facts: what later layers delete or overwrite, and what each squash point gives.
pub fn full(index: usize, d: &ImageDesc, layers: &[LayerIndex]) -> Result<ImageInfo> {
    let mut info = summary(index, d, Some(layers));
    let n = layers.len();
    let mut gone: Vec<(EntryRef, u64, String, u32, bool, String)> = Vec::new();
    let mut sink = |s: Superseded| {
        let size =
            match layers.get(s.entry.layer as usize).and_then(|l| l.entries.get(s.entry.idx as usize)).map(|e| &e.op) {
                Some(Op::Put(p)) => p.size,
                _ => 0,
            };
        if size > 0 {
            gone.push((s.entry, size, path::show(s.path), s.by_layer, s.deleted, path::show(s.cause)));
        }
    };
    let tree = apply_layers(layers, 0, &mut sink)?;
    // Content that a surviving hardlink still shows is not wasted.
    let linked = tree.linked_contents();
    drop(tree);
    let mut wasted = vec![0u64; n];
    let mut removed = Vec::new();
    let mut score = Efficiency::new(layers);
    for (entry, size, p, by, deleted, cause) in gone {
        if linked.contains(&entry) {
            continue;
        }
        if deleted || p != cause {
            score.removed(&layers[entry.layer as usize].entries[entry.idx as usize].path);
        }
        wasted[entry.layer as usize] += size;
        let how = if deleted { "deleted" } else { "overwritten" }.to_string();
        let file = WastedFile { path: p, size, layer_index: entry.layer as usize, removed_by: by as usize, how };
        removed.push(Removed { file, cause });
    }
    let mut largest: Vec<WastedFile> = removed.iter().map(|r| r.file.clone()).collect();
    largest.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    largest.truncate(LARGEST_WASTED);
    info.wasted_groups = waste::groups(removed);
    info.efficiency = Some(score.score());
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
