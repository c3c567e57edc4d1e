//! The squash engine: reads an image archive written by `docker save` (or podman,
//! skopeo, buildx, kaniko, jib, containerd), squashes the layers above a chosen
//! layer into one, and writes an archive that `docker load` takes.
//!
//! The engine knows nothing of JavaScript or of the command line: input is a
//! [`ReadAt`] (random access by offset), output is any [`std::io::Write`].
//!
//! ```text
//! let archive = Archive::open(Box::new(source))?;      // finds the images, cheap
//! let facts = archive.inspect(None, None, true, &mut progress)?;  // reads every layer
//! archive.squash(&SquashOptions { from: From::Default, .. }, &mut out, &mut progress)?;
//! ```

pub mod bundle;
pub mod compression;
pub mod digest;
pub mod error;
pub mod header;
pub mod history;
pub mod images;
mod inspect;
pub mod layer;
pub mod path;
pub mod report;
pub mod source;
pub mod spool;
pub mod squash;
pub mod tag;
pub mod tarwalk;
pub mod tree;
mod zstd;

pub use error::{Error, ErrorCode, Result};
pub use report::*;
pub use source::{ReadAt, SliceSource};

/// Where the squash starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum From {
    /// As the original docker-squash: keep the base image up to its first `ADD file:`
    /// layer (or a later `#(squash)` layer); squash from root when there is neither.
    #[default]
    Default,
    /// One layer for the whole image.
    Root,
    /// Keep this layer and all below it: a unique prefix of a diff_id, blob digest or
    /// legacy id, with or without `sha256:`.
    Layer(String),
}

#[derive(Debug, Clone, Default)]
pub struct SquashOptions {
    pub from: From,
    /// `repo:tag` for the result; None keeps the image's own tags.
    pub tag: Option<String>,
    /// Which image of a multi-image archive: a tag, or a prefix of its id.
    pub image: Option<String>,
    /// "os/arch[/variant]" for OCI indexes with several platforms; default linux/amd64.
    pub platform: Option<String>,
    /// Trust the layers' promised diff_ids instead of hashing every byte of the input.
    /// Several times faster on an archive in the page cache (uncompressed layers are
    /// indexed by their headers alone), but a damaged or altered layer that is squashed
    /// goes unnoticed. Kept layers are copied as they are, and `docker load` checks them.
    pub skip_verify: bool,
}

/// Called during long work; return false to cancel (the call then fails with `Cancelled`).
pub type ProgressFn<'p> = dyn FnMut(&Progress) -> bool + 'p;

/// An opened image archive: its images and layers are found, no layer is read yet.
pub struct Archive<'s> {
    bundle: bundle::Bundle<'s>,
    images: Vec<images::ImageDesc>,
    sha256: Option<digest::Sha256Factory<'s>>,
}

impl<'s> Archive<'s> {
    /// Opens an archive: detects whole-archive gzip/zstd, finds manifest.json, index.json
    /// or the pre-1.10 `<id>/json` chain, and the images in it.
    pub fn open(src: Box<dyn ReadAt + 's>) -> Result<Archive<'s>> {
        let bundle = bundle::Bundle::open(src)?;
        let images = images::find_images(&bundle)?;
        Ok(Archive { bundle, images, sha256: None })
    }

    /// Uses the caller's SHA-256 (e.g. the JavaScript host's native one) for verifying
    /// layers and hashing the new one, instead of the engine's own.
    pub fn set_sha256(&mut self, factory: digest::Sha256Factory<'s>) {
        self.sha256 = Some(factory);
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
            compression: self.bundle.compression.name().to_string(),
            images,
        }
    }

    /// Everything `inspect` prints: reads every layer of the chosen image (all images when
    /// `image` is None), verifying each against its diff_id when `verify` is on (see
    /// [`SquashOptions::skip_verify`] for what is skipped otherwise).
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
            let layers = inspect::read_layers(&self.bundle, &self.images[i], self.sha256.as_ref(), verify, progress)?;
            out.push(inspect::full(i, &self.images[i], &layers)?);
        }
        Ok(self.inspection(out))
    }

    /// Squashes and streams the resulting archive to `out`.
    pub fn squash(
        &self,
        opts: &SquashOptions,
        out: &mut dyn std::io::Write,
        progress: &mut ProgressFn,
    ) -> Result<SquashReport> {
        let tags = match &opts.tag {
            Some(t) => vec![tag::normalize_tag(t)?],
            None => Vec::new(),
        };
        let idx = self.select(opts.image.as_deref(), opts.platform.as_deref())?;
        let image = &self.images[idx];
        if let From::Layer(id) = &opts.from {
            // Check what can be checked before reading gigabytes.
            if !image.legacy {
                inspect::resolve_layer(image, None, id)?;
            }
        }
        let layers = inspect::read_layers(&self.bundle, image, self.sha256.as_ref(), !opts.skip_verify, progress)?;
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let steps = history::steps(&image.config, layers.len());
        let ids = inspect::layer_ids(image, Some(&layers));
        let choice = match &opts.from {
            From::Root => SquashPointChoice {
                from: "root".into(),
                layer_index: None,
                reason: "-from root: one layer for the whole image".into(),
            },
            From::Default => history::default_from(&steps, &ids),
            From::Layer(id) => {
                let k = inspect::resolve_layer(image, Some(&layers), id)?;
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
        let job = squash::Job {
            bundle: &self.bundle,
            image,
            layers: &layers,
            diff_ids: &diff_ids,
            steps: &steps,
            keep,
            from_label,
            tags: tags.clone(),
            sha256: self.sha256.as_ref(),
        };
        let written = squash::write(&job, out, progress)?;
        let size_before: u64 = layers.iter().map(|l| l.size).sum();
        let kept_size: u64 = layers[..keep].iter().map(|l| l.size).sum();
        let new_size = written.new_layer.as_ref().map_or(0, |(_, s)| *s);
        Ok(SquashReport {
            image_id: written.image_id,
            tags,
            from: choice,
            layers_before: layers.len(),
            layers_after: keep + usize::from(written.new_layer.is_some()),
            size_before,
            size_after: kept_size + new_size,
            new_layer_diff_id: written.new_layer.map(|(d, _)| d),
            new_layer_size: new_size,
            output_bytes: written.output_bytes,
        })
    }

    /// Picks one image by tag or id, and platform.
    fn select(&self, image: Option<&str>, platform: Option<&str>) -> Result<usize> {
        inspect::select(&self.images, image, platform)
    }
}
