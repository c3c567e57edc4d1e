//! Reads one layer: every entry's path, kind and where its bytes are, plus the layer's
//! digest, verified against the config's diff_id. Contents are not kept: they are copied
//! from the input again when the output is written.

use std::cell::{Cell, RefCell};
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use super::counted::Counted;
use super::entry::{to_layer_entry, LayerEntry};
use crate::digest::{HashingReader, Sha256Factory};
use crate::error::{Error, ErrorCode, Result};
use crate::read::compression::{decoder, expansion_limit, Compression, READ_CHUNK};
use crate::read::manifests::LayerDesc;
use crate::source::{RangeReader, ReadAt, Window};
use crate::tar::walk::{AtStream, SeqStream, TarStream, Walker};

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
    let raw = Counted::new(RangeReader::new(src, desc.file.offset, desc.file.size), counter);
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
