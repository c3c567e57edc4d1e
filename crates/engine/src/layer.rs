//! Reads one layer: every entry's path, kind and where its bytes are, plus the layer's
//! digest, verified against the config's diff_id. Contents are not kept: they are copied
//! from the input again when the output is written.

use std::cell::{Cell, RefCell};
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use crate::compression::{decoder, expansion_limit, Compression, READ_CHUNK};
use crate::digest::{HashingReader, Sha256Factory};
use crate::error::{Error, ErrorCode, Result};
use crate::images::LayerDesc;
use crate::path;
use crate::source::{RangeReader, ReadAt, Window};
use crate::tarwalk::{AtStream, SeqStream, TarEntry, TarStream, Walker};

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
    /// `.wh.<name>`: deletes the path from the layers below.
    Whiteout,
    /// `.wh..wh..opq`: hides everything below in this directory.
    Opaque,
}

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

#[derive(Debug, Clone)]
pub struct LayerEntry {
    /// Clean path (for whiteouts, the path deleted; for opaque markers, the directory).
    pub path: Vec<u8>,
    pub op: Op,
}

#[derive(Debug, Clone)]
pub struct LayerIndex {
    pub entries: Vec<LayerEntry>,
    pub diff_id: String,
    /// Uncompressed size.
    pub size: u64,
    pub compression: Compression,
}

/// Opens a layer's uncompressed stream, reading the source in large slices and counting
/// stored bytes read into `counter`.
pub fn open_layer<'a>(
    src: &'a dyn ReadAt,
    desc: &LayerDesc,
    compression: Compression,
    counter: Rc<Cell<u64>>,
) -> Result<Box<dyn Read + 'a>> {
    let raw = CountingReader { inner: RangeReader::new(src, desc.file.offset, desc.file.size), counter };
    let limit = expansion_limit(desc.file.size);
    let dec = decoder(BufReader::with_capacity(READ_CHUNK, raw), compression)
        .map_err(|e| Error::corrupt(format!("cannot decompress: {e}")))?;
    Ok(match compression {
        Compression::None => dec,
        _ => Box::new(LimitedReader { inner: dec, left: limit, limit }),
    })
}

/// Reads a layer, calling `tick(stored_bytes_read)` now and then. With `verify`, every
/// byte is hashed and the result is the layer's real diff_id, for the caller to check
/// against the config. Without it, a layer whose diff_id the config promises is trusted:
/// an uncompressed one is indexed by reading its headers only (the contents are skipped,
/// which is most of the time a squash takes); a compressed one still has to be decoded
/// front to back, but is not hashed. Layers with no promised diff_id (pre-1.10 archives)
/// are always hashed, as the output's config needs their digest.
pub fn read_layer<'s>(
    src: &dyn ReadAt,
    desc: &LayerDesc,
    sha256: Option<&Sha256Factory<'s>>,
    verify: bool,
    tick: &mut dyn FnMut(u64) -> Result<()>,
) -> Result<LayerIndex> {
    let compression =
        Compression::sniff(src, desc.file.offset, desc.file.size).map_err(|e| Error::io("reading a layer", e))?;
    let trusted = if verify { None } else { desc.diff_id.clone() };
    match (trusted, compression) {
        (Some(diff_id), Compression::None) => index_headers(src, desc, diff_id, tick),
        (trusted, _) => read_stream(src, desc, compression, sha256, trusted, tick),
    }
}

/// Reads the whole (decompressed) stream, hashing it unless its diff_id is `trusted`.
fn read_stream<'s>(
    src: &dyn ReadAt,
    desc: &LayerDesc,
    compression: Compression,
    sha256: Option<&Sha256Factory<'s>>,
    trusted: Option<String>,
    tick: &mut dyn FnMut(u64) -> Result<()>,
) -> Result<LayerIndex> {
    let counter = Rc::new(Cell::new(0u64));
    let stream = open_layer(src, desc, compression, counter.clone())?;
    let hashing = match trusted {
        Some(_) => HashingReader::counting(stream),
        None => HashingReader::new(stream, sha256),
    };
    // Progress every MB read, from inside large files too; an error from `tick` (cancel)
    // is kept here and returned as is, not as the read error it travels as.
    let stopped: Rc<RefCell<Option<Error>>> = Rc::new(RefCell::new(None));
    let mut last_tick = 0u64;
    let hook_counter = counter.clone();
    let hook_stopped = stopped.clone();
    let tick_inner: &mut dyn FnMut(u64) -> Result<()> = &mut *tick;
    let hook = Box::new(move || -> io::Result<()> {
        let done = hook_counter.get();
        if done - last_tick >= (1 << 20) {
            last_tick = done;
            if let Err(e) = tick_inner(done) {
                *hook_stopped.borrow_mut() = Some(e);
                return Err(io::Error::other("stopped"));
            }
        }
        Ok(())
    });
    let (entries, hashing) = {
        let mut walker = Walker::new(SeqStream::with_hook(BufReader::with_capacity(256 << 10, hashing), hook), 0);
        let take = |e: Error| stopped.borrow_mut().take().unwrap_or_else(|| in_layer(e, compression));
        let entries = collect_entries(&mut walker, take, |_| Ok(()))?;
        walker.drain().map_err(take)?;
        (entries, walker.stream.into_inner().into_inner())
    };
    let size = hashing.count;
    let diff_id = match trusted {
        Some(d) => d,
        None => hashing.finish().ok_or_else(|| Error::corrupt("internal: layer not hashed"))?,
    };
    tick(counter.get())?;
    Ok(LayerIndex { entries, diff_id, size, compression })
}

/// Indexes an uncompressed layer by its headers alone, stepping over file contents.
fn index_headers(
    src: &dyn ReadAt,
    desc: &LayerDesc,
    diff_id: String,
    tick: &mut dyn FnMut(u64) -> Result<()>,
) -> Result<LayerIndex> {
    let window = Window::new(src, desc.file.offset, desc.file.size);
    let mut walker = Walker::new(AtStream { src: &window, pos: 0 }, 0);
    // Nothing reads the skipped contents, so progress is ticked between entries.
    let mut last_tick = 0u64;
    let entries = collect_entries(
        &mut walker,
        |e| e,
        |done| {
            if done - last_tick >= (1 << 20) {
                last_tick = done;
                tick(done)?;
            }
            Ok(())
        },
    )?;
    tick(desc.file.size)?;
    Ok(LayerIndex { entries, diff_id, size: desc.file.size, compression: Compression::None })
}

/// The layer's entries; `take` maps a walking error, `after_each` gets the position
/// reached after each entry's header.
fn collect_entries<S: TarStream>(
    walker: &mut Walker<S>,
    take: impl Fn(Error) -> Error,
    mut after_each: impl FnMut(u64) -> Result<()>,
) -> Result<Vec<LayerEntry>> {
    let mut entries = Vec::new();
    while let Some(e) = walker.next_entry().map_err(&take)? {
        if let Some(entry) = to_layer_entry(e)? {
            entries.push(entry);
        }
        after_each(walker.position())?;
    }
    Ok(entries)
}

fn in_layer(e: Error, c: Compression) -> Error {
    match (c, e.code) {
        (Compression::None, _) | (_, ErrorCode::TooLarge) => e,
        (_, ErrorCode::Io) | (_, ErrorCode::Corrupt) => {
            Error::corrupt(format!("{} (the {}-compressed layer is damaged or truncated)", e.message, c.name()))
        }
        _ => e,
    }
}

fn to_layer_entry(e: TarEntry) -> Result<Option<LayerEntry>> {
    if e.typeflag == b'g' {
        return Ok(None); // global PAX headers: Docker ignores them
    }
    let Some(parts) = path::clean(&e.path) else {
        return Err(Error::new(
            ErrorCode::Unsupported,
            format!("the entry `{}` points outside the image root; Docker refuses such layers", path::show(&e.path)),
        ));
    };
    let name = parts.last().copied().unwrap_or(b"");
    if let Some(rest) = name.strip_prefix(b".wh.") {
        let parent = path::join(&parts[..parts.len() - 1]);
        if rest == b".wh..opq" {
            return Ok(Some(LayerEntry { path: parent, op: Op::Opaque }));
        }
        if rest.starts_with(b".wh.") {
            return Ok(None); // other AUFS metadata (.wh..wh.plnk...), skipped as Docker does
        }
        let mut target = parent;
        if !target.is_empty() {
            target.push(b'/');
        }
        target.extend_from_slice(rest);
        return Ok(Some(LayerEntry { path: target, op: Op::Whiteout }));
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

pub struct CountingReader<R> {
    pub inner: R,
    pub counter: Rc<Cell<u64>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.set(self.counter.get() + n as u64);
        Ok(n)
    }
}

/// Stops a decompression bomb: fails once more than `limit` bytes come out.
struct LimitedReader<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(Error::new(
                ErrorCode::TooLarge,
                format!("the layer decompresses to more than {} bytes, far more than its stored size: a decompression bomb?", self.limit),
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
