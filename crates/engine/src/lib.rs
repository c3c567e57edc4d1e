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
