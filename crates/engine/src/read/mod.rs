//! Reading: the outer archive and its compression, which format wrote it, and each layer's
//! entries, verified against its diff_id.
//!
//! - [`compression`], [`zstd`]: by magic bytes, with the decompression-bomb bound;
//! - [`spool`]: a streamed input (stdin) copied to a file, decompressed;
//! - [`members`]: the outer tar's members by name;
//! - [`images`]: which layout wrote it; [`manifests`]: manifest.json and legacy images; [`index`]: OCI
//!   indexes, and which images are the platforms of one;
//! - [`layer`], [`entry`]: one layer's entries; [`verify`]: all layers, checked.

pub mod compression;
mod counted;
pub mod entry;
pub mod images;
pub mod index;
pub mod layer;
pub mod manifests;
pub mod members;
pub mod spool;
pub mod verify;
mod zstd;
