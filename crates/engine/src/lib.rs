//! The squash engine: reads an image archive written by `docker save` (or podman,
//! skopeo, buildx, kaniko, jib, containerd), squashes the layers above a chosen layer
//! into one, and writes an archive that `docker load` takes, with exactly the
//! filesystem Docker would show.
//!
//! The engine knows nothing of JavaScript or of the command line: input is a [`ReadAt`]
//! (random access by offset), output is any [`std::io::Write`]. Its stages, one folder
//! each (see ARCHITECTURE.md): `tar` → `read` → `merge` → `write`, with `image` (history,
//! layer ids, the squash point, tags) and `inspect` (the waste report) beside them.
//!
//! ```
//! use squash_engine::{Archive, SliceSource, SquashFrom, SquashOptions};
//!
//! # fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
//! #     let mut b = tar::Builder::new(Vec::new());
//! #     for (name, data) in files {
//! #         let mut h = tar::Header::new_ustar();
//! #         h.set_size(data.len() as u64);
//! #         h.set_mode(0o644);
//! #         h.set_cksum();
//! #         b.append_data(&mut h, name, *data).unwrap();
//! #     }
//! #     b.into_inner().unwrap()
//! # }
//! # fn digest(b: &[u8]) -> String {
//! #     use sha2::Digest;
//! #     format!("sha256:{}", hex::encode(sha2::Sha256::digest(b)))
//! # }
//! # fn main() -> squash_engine::Result<()> {
//! # let (base, top) = (tar(&[("a", b"1"), ("b", b"2")]), tar(&[(".wh.b", b"")]));
//! # let config = format!(r#"{{"rootfs":{{"type":"layers","diff_ids":["{}","{}"]}}}}"#, digest(&base), digest(&top));
//! # let manifest = r#"[{"Config":"c.json","RepoTags":["app:1"],"Layers":["0/layer.tar","1/layer.tar"]}]"#;
//! # let saved = tar(&[("c.json", config.as_bytes()), ("0/layer.tar", &base), ("1/layer.tar", &top), ("manifest.json", manifest.as_bytes())]);
//! # let bytes = &saved[..];
//! // `bytes` holds what `docker save` wrote.
//! let archive = Archive::open(Box::new(SliceSource(bytes)))?; // finds the images: cheap
//! let facts = archive.inspect(None, None, true, &mut |_| true)?; // reads every layer
//! assert_eq!(facts.images[0].history.len(), 2);
//!
//! let mut out = Vec::new();
//! let opts = SquashOptions { from: SquashFrom::Root, tag: Some("app:sq".into()), ..Default::default() };
//! let report = archive.squash(&opts, &mut out, &mut |_progress| true)?; // false cancels
//! assert_eq!((report.layers_before, report.layers_after), (2, 1));
//! assert_eq!(report.tags, ["app:sq"]);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod archive;
mod digest;
mod error;
mod fuzzing;
mod image;
mod inspect;
mod merge;
mod options;
mod path;
mod read;
mod report;
mod scratch;
mod source;
mod squash;
mod squash_index;
mod tar;
mod write;

pub use archive::{check_options, Archive};
pub use digest::{Sha256Factory, Sha256Stream};
pub use error::{Error, ErrorCode, Result};
/// For the fuzz targets (`crates/engine/fuzz`) only: not part of the API.
#[doc(hidden)]
pub use fuzzing::{read_member_as_layer, LayerRead};
pub use image::tag::normalize_tag;
pub use options::{ArchiveFormat, LayerCompression, ProgressFn, SquashFrom, SquashOptions};
pub use read::compression::{expansion_limit, Compression, MAX_RATIO, MIN_EXPANSION_LIMIT};
pub use read::spool::{spool, Spooled};
pub use report::{
    HistoryRow, ImageInfo, Inspection, LayerInfo, LayerRange, LeftOut, PlatformSquash, Progress, SquashPointChoice,
    SquashPointEstimate, SquashReport, WasteGroup, WastedFile,
};
pub use scratch::{Scratch, ScratchFactory};
pub use source::{RangeReader, ReadAt, SliceSource};
