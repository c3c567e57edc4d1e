//! Copying an input that comes as a stream (stdin, a pipe) into a file the engine can read
//! by offset, decompressing a gzip- or zstd-compressed archive on the way: one pass, and
//! the decompression-bomb bound applied as the bytes come. The native CLI and the npm
//! bin both spool through here, so both say the same words when an input is damaged.

use std::cell::Cell;
use std::io::{self, BufReader, Read, Write};
use std::rc::Rc;

use super::counted::Counted;
use crate::error::{Error, ErrorCode, Result};
use crate::read::compression::{decoder, expansion_limit, Compression};

/// What [`spool`] found and wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spooled {
    /// How the input was compressed (it was written out decompressed).
    pub compression: Compression,
    /// Bytes written to the sink.
    pub size: u64,
}

/// Copies `input` to `out`, decompressed. `what` names the input in messages ("stdin", a
/// path); `found` is told the compression as soon as the first bytes show it. Errors: `Io` when reading or writing fails, `Corrupt` for damaged compression,
/// `TooLarge` for a decompression bomb. `out` may hold a partial copy after an error.
pub fn spool(
    input: &mut dyn Read,
    what: &str,
    out: &mut dyn Write,
    found: &mut dyn FnMut(Compression),
) -> Result<Spooled> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::new(ErrorCode::Io, format!("cannot read {what}: {e}"))),
        }
    }
    let compression = Compression::detect(&head[..got]);
    found(compression);
    let stored = Rc::new(Cell::new(0u64));
    let counted = Counted::new(io::Cursor::new(head[..got].to_vec()).chain(input), stored.clone());
    let read_failed = counted.failed.clone();
    let mut reader = decoder(BufReader::with_capacity(1 << 20, counted), compression)
        .map_err(|e| damaged(what, compression, read_failed.get(), &e))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(damaged(what, compression, read_failed.get(), &e)),
        };
        size += n as u64;
        // A bomb must not fill the disk: the engine's bound, checked as the input comes.
        let limit = expansion_limit(stored.get());
        if compression != Compression::None && size > limit {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!(
                    "{what} is {}-compressed and decompresses to more than {limit} bytes, far more than its \
                     stored size: a decompression bomb?",
                    compression.name()
                ),
            ));
        }
        out.write_all(&buf[..n]).map_err(|e| Error::io("cannot write a temporary file", e))?;
    }
    out.flush().map_err(|e| Error::io("cannot write a temporary file", e))?;
    Ok(Spooled { compression, size })
}

/// A read or decoding failure while spooling, in words that say which.
fn damaged(what: &str, compression: Compression, read_failed: bool, e: &io::Error) -> Error {
    match compression {
        _ if read_failed => Error::io(&format!("cannot read {what}"), clone_io(e)),
        Compression::None => Error::new(ErrorCode::Io, format!("cannot read {what}: {e}")),
        c => Error::corrupt(format!("{what} is {}-compressed but damaged: {e}", c.name())),
    }
}

fn clone_io(e: &io::Error) -> io::Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(engine) => io::Error::other(engine.clone()),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
