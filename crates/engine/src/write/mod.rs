//! Writing the squashed image as a `docker save` archive: kept layers copied byte for
//! byte, the squashed layer streamed from the plan, then the config, `manifest.json` and
//! `repositories`.
//!
//! - [`output`]: the counted, hashed, cancellable output stream and its tar members;
//! - [`squashed_layer`]: the new layer's bytes;
//! - [`config`]: the JSON documents.

mod config;
mod output;
mod squashed_layer;

use std::io::Write;

use sha2::{Digest, Sha256};

use crate::digest::{hex_of, sha256_digest, Sha256Factory};
use crate::error::{Error, Result};
use crate::image::history::Step;
use crate::image::layer_ids::chain_ids;
use crate::merge::apply_layers;
use crate::merge::plan::Plan;
use crate::options::ProgressFn;
use crate::read::layer::LayerIndex;
use crate::read::manifests::ImageDesc;
use crate::read::members::Members;
use crate::report::Progress;
use crate::source::RangeReader;
use crate::tar::walk::padded;
use output::Out;

const COPY_BUF: usize = 1 << 20;

/// What is being squashed.
pub struct Job<'a, 's> {
    /// The input archive.
    pub members: &'a Members<'a>,
    /// The image chosen in it.
    pub image: &'a ImageDesc,
    /// Its layers, read (and verified).
    pub layers: &'a [LayerIndex],
    /// Their diff_ids.
    pub diff_ids: &'a [String],
    /// Its history, aligned with the layers.
    pub steps: &'a [Step],
    /// Layers 0..keep are kept as they are.
    pub keep: usize,
    /// How the `#(squash)` history step names the squash point.
    pub from_label: String,
    /// The output's tags.
    pub tags: Vec<String>,
    /// The host's SHA-256, if it gave one.
    pub sha256: Option<&'a Sha256Factory<'s>>,
}

/// What was written.
pub struct Written {
    /// The new image id (the digest of its config).
    pub image_id: String,
    /// The new layer's diff_id and size, when one was written.
    pub new_layer: Option<(String, u64)>,
    /// Bytes written in all.
    pub output_bytes: u64,
}

/// Writes the squashed image to `out`.
pub fn write<'s>(job: &Job<'_, 's>, out: &mut dyn Write, progress: &mut ProgressFn) -> Result<Written> {
    let squashing = job.keep < job.layers.len();
    let tree = apply_layers(job.layers, job.keep, &mut |_| {})?;
    let plan = if squashing { tree.plan() } else { Plan::default() };
    drop(tree);
    let lay = squashed_layer::layout(job, &plan)?;

    // Member names: kept layers by chain id (as Docker names layer folders), the new one
    // by a digest of what it was made from (its own digest is known only once written).
    let chains = chain_ids(&job.diff_ids[..job.keep]);
    let new_name = {
        let mut h = Sha256::new();
        h.update(b"squash");
        for d in job.diff_ids {
            h.update(d.as_bytes());
        }
        h.update((job.keep as u64).to_le_bytes()); // u64: the same name in wasm32 and natively
        hex::encode(h.finalize())
    };
    let kept_names: Vec<String> = chains.iter().map(|c| format!("{}/layer.tar", hex_of(c))).collect();

    let kept_total: u64 = job.image.layers[..job.keep].iter().map(|l| 512 + padded(l.file.size).unwrap_or(0)).sum();
    let total = kept_total + if squashing { 512 + padded(lay.size).unwrap_or(0) } else { 0 } + 4096;
    let mut o = Out { w: out, written: 0, total, last: 0, hasher: None, progress };
    let mut buf = vec![0u8; COPY_BUF];

    for (i, l) in job.image.layers[..job.keep].iter().enumerate() {
        o.member(&kept_names[i], l.file.size)?;
        let mut r = RangeReader::new(&*job.members.src, l.file.offset, l.file.size);
        o.copy(&mut r, l.file.size, &mut buf)?;
        o.pad(l.file.size)?;
    }

    let mut new_layer = None;
    if squashing {
        o.member(&format!("{new_name}/layer.tar"), lay.size)?;
        let digest = squashed_layer::write(job, &plan, &lay, &mut o, &mut buf)?;
        o.pad(lay.size)?;
        new_layer = Some((digest, lay.size));
    }

    let config_bytes = config::config(job, new_layer.as_ref().map(|(d, _)| d.as_str()))?;
    let image_id = sha256_digest(&config_bytes);
    let config_name = format!("{}.json", hex_of(&image_id));
    let mut layer_names = kept_names;
    if squashing {
        layer_names.push(format!("{new_name}/layer.tar"));
    }
    let mut documents = vec![
        (config_name.clone(), config_bytes),
        ("manifest.json".to_string(), config::manifest(&config_name, &job.tags, &layer_names)?),
    ];
    if !job.tags.is_empty() {
        documents.push(("repositories".to_string(), config::repositories(&job.tags, &layer_names)?));
    }
    for (name, bytes) in &documents {
        o.member(name, bytes.len() as u64)?;
        o.put(bytes)?;
        o.pad(bytes.len() as u64)?;
    }
    o.zeros(1024)?;
    o.w.flush().map_err(|e| Error::io("writing the output", e))?;
    let p = Progress { phase: "write", bytes_done: o.written, bytes_total: o.written };
    (o.progress)(&p);
    Ok(Written { image_id, new_layer, output_bytes: o.written })
}
