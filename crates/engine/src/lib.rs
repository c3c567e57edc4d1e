//! The squash engine: reads an image archive written by `docker save` (or podman,
//! skopeo, buildx, kaniko, jib, containerd), squashes the layers above a chosen
//! layer into one, and writes an archive that `docker load` takes.
//!
//! The engine knows nothing of JavaScript or of the command line: input is a
//! [`ReadAt`] (random access by offset), output is any [`std::io::Write`].
//!
//! ```text
//! let archive = Archive::open(Box::new(source))?;      // finds the images, cheap
//! let facts = archive.inspect(None, None, &mut progress)?;  // reads every layer
//! archive.squash(&SquashOptions { from: From::Default, .. }, &mut out, &mut progress)?;
//! ```

pub mod error;
pub mod report;
pub mod source;

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
}

/// Called during long work; return false to cancel (the call then fails with `Cancelled`).
pub type ProgressFn<'p> = dyn FnMut(&Progress) -> bool + 'p;

/// An opened image archive: its images and layers are found, no layer is read yet.
pub struct Archive<'s> {
    #[allow(dead_code)]
    src: Box<dyn ReadAt + 's>,
}

impl<'s> Archive<'s> {
    /// Opens an archive: detects whole-archive gzip/zstd, finds manifest.json, index.json
    /// or the pre-1.10 `<id>/json` chain, and the images in it.
    pub fn open(src: Box<dyn ReadAt + 's>) -> Result<Archive<'s>> {
        Ok(Archive { src })
    }

    /// The images, tags and history, without reading layer contents: fast.
    /// `squash_points`, `largest_wasted` and the wasted/entries counts are left empty.
    pub fn list(&self) -> Result<Inspection> {
        Err(Error::new(ErrorCode::Unsupported, "engine under construction"))
    }

    /// Everything `inspect` prints: reads every layer of the chosen image (all images when
    /// `image` is None), verifying each against its diff_id.
    pub fn inspect(
        &self,
        _image: Option<&str>,
        _platform: Option<&str>,
        _progress: &mut ProgressFn,
    ) -> Result<Inspection> {
        Err(Error::new(ErrorCode::Unsupported, "engine under construction"))
    }

    /// Squashes and streams the resulting archive to `out`.
    pub fn squash(
        &self,
        _opts: &SquashOptions,
        _out: &mut dyn std::io::Write,
        _progress: &mut ProgressFn,
    ) -> Result<SquashReport> {
        Err(Error::new(ErrorCode::Unsupported, "engine under construction"))
    }
}
