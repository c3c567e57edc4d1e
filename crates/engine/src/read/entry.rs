//! The entries of a layer as the merge sees them: what each tar entry does to the
//! filesystem (puts a file of some kind, deletes a path, hides a directory's contents),
//! and where its bytes are for copying them again.

use crate::error::{Error, ErrorCode, Result};
use crate::merge::whiteout::{self, Marker};
use crate::path;
use crate::tar::walk::TarEntry;

/// The kinds of filesystem entries a layer can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Dir,
    Symlink,
    Hardlink,
    Char,
    Block,
    Fifo,
}

impl Kind {
    fn of(typeflag: u8) -> Option<Kind> {
        Some(match typeflag {
            b'0' | b'\0' => Kind::Regular,
            b'1' => Kind::Hardlink,
            b'2' => Kind::Symlink,
            b'3' => Kind::Char,
            b'4' => Kind::Block,
            b'5' => Kind::Dir,
            b'6' => Kind::Fifo,
            _ => return None,
        })
    }
}

/// What one tar entry does to the filesystem.
#[derive(Debug, Clone)]
pub enum Op {
    /// Creates or replaces the path.
    Put(Put),
    /// A whiteout (see [`whiteout`]): deletes the path from the layers below.
    Whiteout,
    /// An opaque marker: hides everything below in this directory.
    Opaque,
}

/// An entry that creates or replaces its path.
#[derive(Debug, Clone)]
pub struct Put {
    pub kind: Kind,
    /// Where the entry's header sequence starts in the uncompressed layer.
    pub seq_start: u64,
    pub header_len: u32,
    /// Data bytes (0 but for regular files).
    pub size: u64,
    /// Clean target path of a hardlink.
    pub link: Option<Vec<u8>>,
    /// The header sequence as written, kept for directories and hardlinks (written out of
    /// layer order); other entries are read again from the input.
    pub raw: Option<Box<[u8]>>,
}

/// One entry of a layer.
#[derive(Debug, Clone)]
pub struct LayerEntry {
    /// Clean path (for whiteouts, the path deleted; for opaque markers, the directory).
    pub path: Vec<u8>,
    pub op: Op,
}

/// What one tar entry of a layer does; `None` for entries Docker ignores.
pub fn to_layer_entry(e: TarEntry) -> Result<Option<LayerEntry>> {
    if e.typeflag == b'g' {
        return Ok(None); // global PAX headers: Docker ignores them
    }
    let Some(parts) = path::clean(&e.path) else {
        return Err(Error::new(
            ErrorCode::Unsupported,
            format!("the entry `{}` points outside the image root; Docker refuses such layers", path::show(&e.path)),
        ));
    };
    match whiteout::recognize(&parts) {
        Some(Marker::Whiteout(path)) => return Ok(Some(LayerEntry { path, op: Op::Whiteout })),
        Some(Marker::Opaque(dir)) => return Ok(Some(LayerEntry { path: dir, op: Op::Opaque })),
        Some(Marker::AufsMeta) => return Ok(None), // skipped, as Docker does
        None => {}
    }
    let kind = match Kind::of(e.typeflag) {
        Some(k) => k,
        None if e.typeflag == b'S' => {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!("`{}` is a GNU sparse file, which this tool does not expand", path::show(&e.path)),
            ))
        }
        None => {
            return Err(Error::new(
                ErrorCode::Unsupported,
                format!(
                    "`{}` has tar entry type `{}`, which Docker cannot apply",
                    path::show(&e.path),
                    e.typeflag.escape_ascii()
                ),
            ))
        }
    };
    let link = match kind {
        Kind::Hardlink => {
            let target = e.link.as_deref().unwrap_or(b"");
            let parts = path::clean(target).filter(|p| !p.is_empty()).ok_or_else(|| {
                Error::new(
                    ErrorCode::Unsupported,
                    format!("the hardlink `{}` points outside the image root", path::show(&e.path)),
                )
            })?;
            Some(path::join(&parts))
        }
        _ => None,
    };
    let header_len = u32::try_from(e.header_len()).map_err(|_| Error::corrupt("a tar header sequence is too long"))?;
    let keep_raw = matches!(kind, Kind::Dir | Kind::Hardlink);
    Ok(Some(LayerEntry {
        path: path::join(&parts),
        op: Op::Put(Put {
            kind,
            seq_start: e.seq_start,
            header_len,
            size: if kind == Kind::Regular { e.size } else { 0 },
            link,
            raw: keep_raw.then(|| e.raw.into_boxed_slice()),
        }),
    }))
}
