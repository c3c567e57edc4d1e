//! [`Archive`]: an opened image archive, and the three things done with one: list it,
//! inspect it (every layer read), squash it.

use crate::digest::Sha256Factory;
use crate::error::Result;
use crate::image::select::{choose as choose_images, group_of, select, Selection};
use crate::image::tag::normalize_tag;
use crate::inspect;
use crate::options::{ProgressFn, SquashOptions};
use crate::read::images::find_images;
use crate::read::index::Group;
use crate::read::manifests::ImageDesc;
use crate::read::members::Members;
use crate::read::verify::{layer_ranges, read_layers, verify_layers};
use crate::report::{ImageInfo, Inspection, LayerRange, SquashReport};
use crate::scratch::ScratchFactory;
use crate::source::ReadAt;
use crate::squash::{check_from, plan, Context};
use crate::squash_index::{left_out, squash_index};
use crate::write;
use crate::write::compress::choice::check_level;

/// An opened image archive: its images and layers are found, no layer is read yet.
pub struct Archive<'s> {
    members: Members<'s>,
    images: Vec<ImageDesc>,
    /// The indexes naming images as the platforms of one.
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

    /// Squashes and streams the resulting archive to `out`. An image alone gives an image;
    /// the platforms of one index (all of them, or those `-platform` lists) give one new
    /// index, each platform squashed by the same rule on its own layers.
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
        let cx = Context { members: &self.members, sha256: self.sha256.as_ref(), scratch: self.scratch.as_ref(), opts };
        let selection = choose_images(&self.images, &self.groups, opts.image.as_deref(), opts.platform.as_deref())?;
        let (group, idx) = match selection {
            Selection::Index { group, images } => {
                let tags = if tags.is_empty() { self.images[images[0]].tags.clone() } else { tags };
                return squash_index(&cx, &self.images, &self.groups[group], &images, &tags, out, progress);
            }
            Selection::One(idx) => (group_of(&self.groups, idx), idx),
        };
        let image = &self.images[idx];
        check_from(image, &opts.from)?; // before reading gigabytes
        let planned = plan(&cx, image, progress)?;
        let tags = if tags.is_empty() { image.tags.clone() } else { tags };
        let written = write::write(&planned.job(&cx, image, &tags, opts.format), out, progress)?;
        let mut report = planned.report(written, &tags, opts.format);
        report.left_out = group.map(|g| left_out(&self.groups[g], opts.platform.as_deref())).unwrap_or_default();
        Ok(report)
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
