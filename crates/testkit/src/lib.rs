//! The tests' one kit for the squash engine: builds layers and whole `docker save` / OCI
//! archives in memory, runs the engine on them, reads back what it wrote, and applies
//! layers with a reference implementation of Docker's rules, so that the filesystem an
//! image shows can be compared before and after squashing.
//!
//! By stage: `header` (one 512-byte tar header, breakable by hand) → `entry` (entries and
//! tar streams) → `compress` / `digest` → `archive` (images) → `run` (the engine) →
//! `output` (reading tars back; `index` and `index_output`: multi-platform archives and the
//! squashed indexes read back) → `reference` (the filesystem Docker would show). Only
//! `run` uses the engine; `reference` must stay independent of it. Beside them, for the
//! registry client: `scripted` (an HTTP server on several loopback addresses that keeps
//! every request) and `hostile_registry` (the registry and hosts it scripts), which the
//! `scripted-registry` binary runs for the npm package's tests.

mod archive;
mod compress;
mod digest;
mod entry;
mod header;
pub mod hostile_registry;
mod index;
mod index_output;
mod output;
mod path;
mod reference;
mod run;
pub mod scripted;

pub use archive::{base_config, noise, sample_layers, v1_id, Folders, Image, Layer};
pub use compress::{decompress, gunzip_one_member, gzip, zstd, GZIP_MAGIC, ZSTD_MAGIC};
pub use digest::{digest, sha256_hex};
pub use entry::{
    blockdev, chardev, dir, fifo, file, global_pax, hardlink, opaque, pax_record, symlink, tar, tar_without_end,
    whiteout, write_entry, EKind, Entry, Style, MTIME,
};
pub use header::{pad_to_block, set_checksum, Header, BLOCK};
pub use index::{platform_json, IndexArchive, Platform};
pub use index_output::{check_platforms, read_index_output, IndexOut, PlatformOut};
pub use output::{check_oci_layout, members, parse_layer, read_output, Output, Parsed};
pub use path::{clean_path, show};
pub use reference::{assert_same_content, assert_same_fs, check_order, Fs, NKind, Node};
pub use run::{
    run, run_all_points, run_archive, run_checked, run_layers, squash, squash_to_scratch, squash_with, Squashed,
};

pub use squash_engine::SquashFrom;
