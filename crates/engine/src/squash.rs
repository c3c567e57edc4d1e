//! One image's squash, as [`Archive::squash`](crate::Archive::squash) runs it for an image
//! alone or for each platform of an index: its layers read (and verified), its squash
//! point chosen by the one rule `-from` gives, the merge's plan; then, once `write/` has
//! written it, the report of what was done.

use crate::digest::Sha256Factory;
use crate::error::Result;
use crate::image::history::{steps, Step};
use crate::image::layer_ids::layer_ids;
use crate::image::squash_point::{default_from, resolve_layer};
use crate::merge::apply_layers;
use crate::merge::plan::Plan;
use crate::options::{ArchiveFormat, ProgressFn, SquashFrom, SquashOptions};
use crate::read::compression::Compression;
use crate::read::layer::LayerIndex;
use crate::read::manifests::ImageDesc;
use crate::read::members::Members;
use crate::read::verify::read_layers;
use crate::report::{SquashPointChoice, SquashReport};
use crate::scratch::ScratchFactory;
use crate::write::compress::choice::{choose, Chosen};
use crate::write::{Job, Written};

/// An image read and merged, ready to be written.
pub(crate) struct Planned {
    layers: Vec<LayerIndex>,
    diff_ids: Vec<String>,
    steps: Vec<Step>,
    choice: SquashPointChoice,
    keep: usize,
    from_label: String,
    compression: Chosen,
    plan: Plan,
}

/// What a job needs besides the image: the archive, the host's means, the output's form.
pub(crate) struct Context<'a, 's> {
    pub(crate) members: &'a Members<'a>,
    pub(crate) sha256: Option<&'a Sha256Factory<'s>>,
    pub(crate) scratch: Option<&'a ScratchFactory<'s>>,
    pub(crate) opts: &'a SquashOptions,
}

/// Checks, before any layer is read, that `-from ID` names a layer of `image` (pre-1.10
/// images have their ids only once read).
pub(crate) fn check_from(image: &ImageDesc, from: &SquashFrom) -> Result<()> {
    match from {
        SquashFrom::Layer(id) if !image.legacy => resolve_layer(image, None, id).map(|_| ()),
        _ => Ok(()),
    }
}

/// Reads `image`'s layers, chooses its squash point and merges what is above it.
pub(crate) fn plan(cx: &Context<'_, '_>, image: &ImageDesc, progress: &mut ProgressFn) -> Result<Planned> {
    let opts = cx.opts;
    let layers = read_layers(cx.members, image, cx.sha256, opts.verify, progress)?;
    let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
    let steps = steps(&image.config, layers.len());
    let ids = layer_ids(image, Some(&layers));
    let choice = match &opts.from {
        SquashFrom::Root => SquashPointChoice {
            from: "root".into(),
            layer_index: None,
            reason: "-from root: one layer for the whole image".into(),
        },
        SquashFrom::Default => default_from(&steps, &ids),
        SquashFrom::Layer(id) => {
            let k = resolve_layer(image, Some(&layers), id)?;
            SquashPointChoice {
                from: ids[k].clone(),
                layer_index: Some(k),
                reason: format!("-from {id}: keeping layer {k} and those below"),
            }
        }
    };
    let keep = choice.layer_index.map_or(0, |k| k + 1);
    let from_label = match choice.layer_index {
        Some(k) => ids[k].chars().take(12).collect(),
        None => "root".to_string(),
    };
    let squashed: Vec<(Compression, u64)> =
        (keep..layers.len()).map(|i| (layers[i].compression, image.layers[i].file.size)).collect();
    let compression = choose(opts.compress, opts.level, &squashed, opts.pushed)?;
    let plan = match keep < layers.len() {
        true => apply_layers(&layers, keep, &mut |_| {})?.plan(),
        false => Plan::default(),
    };
    Ok(Planned { layers, diff_ids, steps, choice, keep, from_label, compression, plan })
}

impl Planned {
    /// The job that writes it under `tags`.
    pub(crate) fn job<'a, 's>(
        &'a self,
        cx: &Context<'a, 's>,
        image: &'a ImageDesc,
        tags: &[String],
        format: ArchiveFormat,
    ) -> Job<'a, 's> {
        Job {
            members: cx.members,
            image,
            layers: &self.layers,
            diff_ids: &self.diff_ids,
            steps: &self.steps,
            keep: self.keep,
            plan: &self.plan,
            from_label: self.from_label.clone(),
            tags: tags.to_vec(),
            sha256: cx.sha256,
            scratch: cx.scratch,
            compression: self.compression.clone(),
            format,
        }
    }

    /// What was done, once `written`.
    pub(crate) fn report(&self, written: Written, tags: &[String], format: ArchiveFormat) -> SquashReport {
        let layers = &self.layers;
        let size_before: u64 = layers.iter().map(|l| l.size).sum();
        let kept_size: u64 = layers[..self.keep].iter().map(|l| l.size).sum();
        let new_size = written.new_layer.as_ref().map_or(0, |n| n.size);
        SquashReport {
            image_id: written.image_id,
            tags: tags.to_vec(),
            from: self.choice.clone(),
            layers_before: layers.len(),
            layers_after: self.keep + usize::from(written.new_layer.is_some()),
            size_before,
            size_after: kept_size + new_size,
            new_layer_diff_id: written.new_layer.as_ref().map(|n| n.diff_id.clone()),
            new_layer_size: new_size,
            new_layer_digest: written.new_layer.as_ref().map(|n| n.digest.clone()),
            new_layer_stored_size: written.new_layer.as_ref().map_or(0, |n| n.stored_size),
            compression: self.compression.codec.name().to_string(),
            compression_level: self.compression.level,
            compression_reason: self.compression.reason.clone(),
            format: format_name(format).to_string(),
            manifest_digest: written.manifest_digest,
            output_bytes: written.output_bytes,
            platforms: Vec::new(),
            left_out: Vec::new(),
        }
    }
}

/// The layout as the report names it.
pub(crate) fn format_name(format: ArchiveFormat) -> &'static str {
    match format {
        ArchiveFormat::Oci => "oci",
        ArchiveFormat::Docker => "docker",
    }
}
