//! [`Archive`]: an opened image archive, and the three things done with one: list it,
//! inspect it (every layer read), squash it.

use crate::digest::Sha256Factory;
use crate::error::Result;
use crate::image::history::steps;
use crate::image::layer_ids::layer_ids;
use crate::image::select::select;
use crate::image::squash_point::{default_from, resolve_layer};
use crate::image::tag::normalize_tag;
use crate::inspect;
use crate::merge::apply_layers;
use crate::merge::plan::Plan;
use crate::options::{ArchiveFormat, ProgressFn, SquashFrom, SquashOptions};
use crate::read::compression::Compression;
use crate::read::images::find_images;
use crate::read::index::Group;
use crate::read::manifests::ImageDesc;
use crate::read::members::Members;
use crate::read::verify::{layer_ranges, read_layers, verify_layers};
use crate::report::{ImageInfo, Inspection, LayerRange, SquashPointChoice, SquashReport};
use crate::scratch::ScratchFactory;
use crate::source::ReadAt;
use crate::write;
use crate::write::compress::choice::{check_level, choose};

/// An opened image archive: its images and layers are found, no layer is read yet.
pub struct Archive<'s> {
    members: Members<'s>,
    images: Vec<ImageDesc>,
    /// The indexes naming images as the platforms of one.
    #[allow(dead_code)]
    groups: Vec<Group>,
    sha256: Option<Sha256Factory<'s>>,
    scratch: Option<ScratchFactory<'s>>,
}

impl<'s> Archive<'s> {
    /// Opens an archive: detects whole-archive gzip/zstd, finds manifest.json, index.json
    /// or the pre-1.10 `<id>/json` chain, and the images in it.
    pub fn open(src: Box<dyn ReadAt + 's>) -> Result<Archive<'s>> {
        let members = Members::open(src)?;
        let found = find_images(&members)?;
        Ok(Archive { members, images: found.images, groups: found.groups, sha256: None, scratch: None })
    }

    /// Uses the caller's SHA-256 (e.g. the JavaScript host's native one) for verifying
    /// layers and hashing the new one, instead of the engine's own.
    pub fn set_sha256(&mut self, factory: Sha256Factory<'s>) {
        self.sha256 = Some(factory);
    }

    /// Lends the writer scratch space (a temporary file) for the new layer, which must be
    /// measured before it is written whenever it is compressed or the layout is OCI.
    /// Without it, the layer is made twice: the same bytes, more time, no space.
    pub fn set_scratch(&mut self, factory: ScratchFactory<'s>) {
        self.scratch = Some(factory);
    }

    /// The images, tags and history, without reading layer contents: fast.
    /// `squash_points`, `largest_wasted` and the wasted/entries counts are left empty.
    pub fn list(&self) -> Result<Inspection> {
        let images = self.images.iter().enumerate().map(|(i, d)| inspect::summary(i, d, None)).collect();
        Ok(self.inspection(images))
    }

    fn inspection(&self, images: Vec<ImageInfo>) -> Inspection {
        Inspection {
            format: self.images.first().map_or("unknown", |i| i.format).to_string(),
            compression: self.members.compression.name().to_string(),
            images,
        }
    }

    /// Everything `inspect` prints: reads every layer of the chosen image (all images when
    /// `image` is None), verifying each against its diff_id when `verify` is on (see
    /// [`SquashOptions::verify`] for what is skipped otherwise).
    pub fn inspect(
        &self,
        image: Option<&str>,
        platform: Option<&str>,
        verify: bool,
        progress: &mut ProgressFn,
    ) -> Result<Inspection> {
        let chosen: Vec<usize> = match (image, platform) {
            (None, None) => (0..self.images.len()).collect(),
            _ => vec![self.select(image, platform)?],
        };
        let mut out = Vec::new();
        for i in chosen {
            let layers = read_layers(&self.members, &self.images[i], self.sha256.as_ref(), verify, progress)?;
            out.push(inspect::full(i, &self.images[i], &layers)?);
        }
        Ok(self.inspection(out))
    }

    /// Verifies the layers `layers` (indices, from 0 at the bottom) of the chosen image
    /// against their diff_ids and reads no other; fails as [`Archive::squash`] fails on a
    /// damaged layer (DIGEST_MISMATCH naming it). For a host that verifies in parallel
    /// (one call per worker, each with its share of the layers) while the squash itself
    /// runs with `verify` off. `hashed`: digests the host computed by its own means of the
    /// bytes of some of the plain [`Archive::layer_ranges`]; those are compared, not read.
    pub fn verify_layers(
        &self,
        image: Option<&str>,
        platform: Option<&str>,
        layers: &[usize],
        hashed: &[(usize, String)],
        progress: &mut ProgressFn,
    ) -> Result<()> {
        let idx = self.select(image, platform)?;
        verify_layers(&self.members, &self.images[idx], self.sha256.as_ref(), layers, hashed, progress)
    }

    /// Where the chosen image's layers lie in the input, and which are stored as their
    /// tar, as is (empty when the whole input is compressed): for a host that hashes them
    /// itself.
    pub fn layer_ranges(&self, image: Option<&str>, platform: Option<&str>) -> Result<Vec<LayerRange>> {
        let idx = self.select(image, platform)?;
        layer_ranges(&self.members, &self.images[idx])
    }

    /// Squashes and streams the resulting archive to `out`.
    pub fn squash(
        &self,
        opts: &SquashOptions,
        out: &mut dyn std::io::Write,
        progress: &mut ProgressFn,
    ) -> Result<SquashReport> {
        check_options(opts)?;
        let tags = match &opts.tag {
            Some(t) => vec![normalize_tag(t)?],
            None => Vec::new(),
        };
        let idx = self.select(opts.image.as_deref(), opts.platform.as_deref())?;
        let image = &self.images[idx];
        if let SquashFrom::Layer(id) = &opts.from {
            // Check what can be checked before reading gigabytes.
            if !image.legacy {
                resolve_layer(image, None, id)?;
            }
        }
        let layers = read_layers(&self.members, image, self.sha256.as_ref(), opts.verify, progress)?;
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
        let tags = if tags.is_empty() { image.tags.clone() } else { tags };
        let squashed: Vec<(Compression, u64)> =
            (keep..layers.len()).map(|i| (layers[i].compression, image.layers[i].file.size)).collect();
        let compression = choose(opts.compress, opts.level, &squashed, opts.pushed)?;
        let plan = match keep < layers.len() {
            true => apply_layers(&layers, keep, &mut |_| {})?.plan(),
            false => Plan::default(),
        };
        let job = write::Job {
            members: &self.members,
            image,
            layers: &layers,
            diff_ids: &diff_ids,
            steps: &steps,
            keep,
            plan: &plan,
            from_label,
            tags: tags.clone(),
            sha256: self.sha256.as_ref(),
            scratch: self.scratch.as_ref(),
            compression: compression.clone(),
            format: opts.format,
        };
        let written = write::write(&job, out, progress)?;
        let size_before: u64 = layers.iter().map(|l| l.size).sum();
        let kept_size: u64 = layers[..keep].iter().map(|l| l.size).sum();
        let new_size = written.new_layer.as_ref().map_or(0, |n| n.size);
        Ok(SquashReport {
            image_id: written.image_id,
            tags,
            from: choice,
            layers_before: layers.len(),
            layers_after: keep + usize::from(written.new_layer.is_some()),
            size_before,
            size_after: kept_size + new_size,
            new_layer_diff_id: written.new_layer.as_ref().map(|n| n.diff_id.clone()),
            new_layer_size: new_size,
            new_layer_digest: written.new_layer.as_ref().map(|n| n.digest.clone()),
            new_layer_stored_size: written.new_layer.as_ref().map_or(0, |n| n.stored_size),
            compression: compression.codec.name().to_string(),
            compression_level: compression.level,
            compression_reason: compression.reason,
            format: match opts.format {
                ArchiveFormat::Oci => "oci",
                ArchiveFormat::Docker => "docker",
            }
            .to_string(),
            manifest_digest: written.manifest_digest,
            output_bytes: written.output_bytes,
        })
    }

    /// Picks one image by tag or id, and platform.
    fn select(&self, image: Option<&str>, platform: Option<&str>) -> Result<usize> {
        select(&self.images, image, platform)
    }
}

/// Checks what can be checked of `opts` before any archive is read, so that a host can
/// refuse them before it spools gigabytes of stdin: the tag, and a level that the asked
/// compression (with `auto`: every compression) does not take. [`Archive::squash`]
/// checks the same first.
pub fn check_options(opts: &SquashOptions) -> Result<()> {
    if let Some(t) = &opts.tag {
        normalize_tag(t)?;
    }
    check_level(opts.compress, opts.level)
}
