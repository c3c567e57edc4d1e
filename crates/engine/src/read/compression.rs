//! Compression of whole archives and of single layers, detected by magic bytes (never by
//! file name or media type: `docker save` with the containerd store, kaniko and skopeo
//! all label things differently, but the bytes do not lie).

use std::cell::RefCell;
use std::io::{self, BufReader, Read};
use std::rc::Rc;

use crate::source::{RangeReader, ReadAt};

/// A layer or archive may decompress to at most this many times its stored size (deflate's
/// own limit is 1032:1), or [`MIN_EXPANSION_LIMIT`] bytes, whichever is more: beyond, it is
/// a decompression bomb (zstd can reach far higher ratios).
pub const MAX_RATIO: u64 = 1100;
/// The least a compressed input may always decompress to, whatever its stored size.
pub const MIN_EXPANSION_LIMIT: u64 = 4 << 30;

/// How many bytes `stored` compressed bytes may decompress to before they are called a bomb.
pub fn expansion_limit(stored: u64) -> u64 {
    stored.saturating_mul(MAX_RATIO).max(MIN_EXPANSION_LIMIT)
}

/// Reads from the source in large slices: every read may be a call into JavaScript.
pub const READ_CHUNK: usize = 4 << 20;

/// How an archive or a layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed: a plain tar.
    None,
    /// gzip (RFC 1952), one member or several.
    Gzip,
    /// zstd (RFC 8878), with skippable frames.
    Zstd,
}

impl Compression {
    /// The compression the first bytes show (four are enough).
    pub fn detect(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&crate::read::zstd::FRAME_MAGIC) || crate::read::zstd::is_skippable_magic(magic) {
            // A stream may begin with a skippable frame (RFC 8878 §3.1.2), as `zstd -d` accepts.
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Reads the first bytes of `[offset, offset+len)` and detects.
    pub fn sniff(src: &dyn ReadAt, offset: u64, len: u64) -> io::Result<Compression> {
        let mut magic = [0u8; 4];
        let want = len.min(4) as usize;
        let mut got = 0;
        while got < want {
            let n = src.read_at(offset + got as u64, &mut magic[got..want])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        Ok(Compression::detect(&magic[..got]))
    }

    /// "none", "gzip" or "zstd".
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A decompressing reader over any reader.
pub fn decoder<'a, R: Read + 'a>(inner: R, compression: Compression) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(inner),
        // Multi-member: pigz and some registries write several gzip members.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(inner)),
        Compression::Zstd => Box::new(crate::read::zstd::ZstdReader::new(inner)),
    })
}

/// Reads `[offset, offset+len)` of `src`, decompressed, in large slices.
pub fn open_range<'a, S: ReadAt + 'a>(
    src: S,
    offset: u64,
    len: u64,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'a>> {
    let raw = BufReader::with_capacity(READ_CHUNK, RangeReader::new(src, offset, len));
    decoder(raw, compression)
}

/// Random access to a compressed whole archive (`docker save | gzip`), for callers that
/// cannot spool it to disk (wasm). Reading forward decodes on; reading backward starts
/// the decoder again from the beginning, so callers read in ascending order where they can.
pub struct DecodedSource<'a> {
    src: Rc<dyn ReadAt + 'a>,
    compression: Compression,
    size: u64,
    state: RefCell<Option<(u64, Box<dyn Read + 'a>)>>,
}

impl<'a> DecodedSource<'a> {
    /// Decodes the whole input once to learn its length (and fail early if it is damaged).
    pub fn new(src: Rc<dyn ReadAt + 'a>, compression: Compression) -> io::Result<Self> {
        let total = src.size();
        let mut reader = open_range(src.clone(), 0, total, compression)?;
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            size += n as u64;
            // The same bound as for one layer: beyond it, a decompression bomb.
            let limit = expansion_limit(total);
            if size > limit {
                return Err(io::Error::other(crate::error::Error::new(
                    crate::error::ErrorCode::TooLarge,
                    format!("the archive decompresses to more than {limit} bytes, far more than its stored size: a decompression bomb?"),
                )));
            }
        }
        drop(reader);
        Ok(DecodedSource { src, compression, size, state: RefCell::new(None) })
    }
}

impl ReadAt for DecodedSource<'_> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let mut state = self.state.borrow_mut();
        let restart = match state.as_ref() {
            Some((pos, _)) => *pos > offset,
            None => true,
        };
        if restart {
            *state = Some((0, open_range(self.src.clone(), 0, self.src.size(), self.compression)?));
        }
        let Some((pos, reader)) = state.as_mut() else { return Ok(0) };
        if *pos < offset {
            let skipped = io::copy(&mut reader.by_ref().take(offset - *pos), &mut io::sink())?;
            *pos += skipped;
            if *pos < offset {
                return Ok(0);
            }
        }
        let n = reader.read(buf)?;
        *pos += n as u64;
        Ok(n)
    }
}
