//! What a squash is asked to do, and how long work reports progress.

use crate::report::Progress;

/// Where the squash starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SquashFrom {
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

/// The options of [`Archive::squash`](crate::Archive::squash).
#[derive(Debug, Clone)]
pub struct SquashOptions {
    /// Where the squash starts.
    pub from: SquashFrom,
    /// `repo:tag` for the result; None keeps the image's own tags.
    pub tag: Option<String>,
    /// Which image of a multi-image archive: a tag, or a prefix of its id.
    pub image: Option<String>,
    /// "os/arch[/variant]" for OCI indexes with several platforms; default linux/amd64.
    pub platform: Option<String>,
    /// Hash every byte of the input and check each layer against its promised diff_id
    /// (the default). Off, the promised diff_ids are trusted: several times faster on an
    /// archive in the page cache (uncompressed layers are indexed by their headers alone),
    /// but a damaged or altered layer that is squashed goes unnoticed. Kept layers are
    /// copied as they are either way, and `docker load` checks them.
    pub verify: bool,
}

impl Default for SquashOptions {
    fn default() -> Self {
        SquashOptions { from: SquashFrom::Default, tag: None, image: None, platform: None, verify: true }
    }
}

/// Called during long work; return false to cancel (the call then fails with
/// [`ErrorCode::Cancelled`](crate::ErrorCode::Cancelled)).
pub type ProgressFn<'p> = dyn FnMut(&Progress) -> bool + 'p;
