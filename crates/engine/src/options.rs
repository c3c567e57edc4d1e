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

impl SquashFrom {
    /// `-from` as both command lines and the JS API take it: nothing for the default,
    /// `root`, or a layer id.
    pub fn from_arg(arg: Option<&str>) -> SquashFrom {
        match arg {
            None => SquashFrom::Default,
            Some("root") => SquashFrom::Root,
            Some(id) => SquashFrom::Layer(id.to_string()),
        }
    }
}

/// How the new layer is stored (kept layers are copied as they are, whatever this says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerCompression {
    /// As the layers it replaces were stored: gzip or zstd when they were compressed (an
    /// image from a registry or the containerd store), a plain tar when they were plain (a
    /// classic `docker save`).
    #[default]
    Auto,
    /// A plain tar.
    None,
    /// gzip, levels 1 to 9 (default 6).
    Gzip,
    /// zstd, levels 1 to 19 (default 3).
    Zstd,
}

/// The layout of the written archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchiveFormat {
    /// What Docker 25+ writes: an OCI image layout (`oci-layout`, `index.json`,
    /// `blobs/sha256/…`) with `manifest.json` pointing at the same blobs, so that every
    /// loader takes it (Docker of any version, containerd, podman, skopeo).
    #[default]
    Oci,
    /// What Docker before 25 wrote: `<id>/layer.tar`, `<id>.json`, `manifest.json` and
    /// `repositories`.
    Docker,
}

impl std::str::FromStr for LayerCompression {
    type Err = String;
    /// `auto`, `none`, `gzip` or `zstd`, as `-compress` takes them.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(LayerCompression::Auto),
            "none" => Ok(LayerCompression::None),
            "gzip" => Ok(LayerCompression::Gzip),
            "zstd" => Ok(LayerCompression::Zstd),
            _ => Err(format!("-compress takes auto, none, gzip or zstd, not `{s}`")),
        }
    }
}

impl std::str::FromStr for ArchiveFormat {
    type Err = String;
    /// `oci` or `docker`, as `-format` takes them.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "oci" => Ok(ArchiveFormat::Oci),
            "docker" => Ok(ArchiveFormat::Docker),
            _ => Err(format!("-format takes oci (Docker 25+, the default) or docker (before 25), not `{s}`")),
        }
    }
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
    /// How the new layer is stored.
    pub compress: LayerCompression,
    /// The compression level; None for the codec's default.
    pub level: Option<i32>,
    /// The archive's layout.
    pub format: ArchiveFormat,
    /// The result is pushed to a registry as it is stored (no `docker push` compresses it on
    /// the way): `auto` then never leaves the new layer a plain tar; it gzips what would be.
    pub pushed: bool,
}

impl Default for SquashOptions {
    fn default() -> Self {
        SquashOptions {
            from: SquashFrom::Default,
            tag: None,
            image: None,
            platform: None,
            verify: true,
            compress: LayerCompression::Auto,
            level: None,
            format: ArchiveFormat::Oci,
            pushed: false,
        }
    }
}

/// Called during long work; return false to cancel (the call then fails with
/// [`ErrorCode::Cancelled`](crate::ErrorCode::Cancelled)).
pub type ProgressFn<'p> = dyn FnMut(&Progress) -> bool + 'p;
