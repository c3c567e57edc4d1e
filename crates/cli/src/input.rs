//! Opening the input for random access: a regular file is read in place by offset; stdin
//! or a pipe is spooled to an unlinked temporary file first, and a compressed archive is
//! decompressed while spooling (one pass, instead of one per read-back).

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use squash_engine::compression::{decoder, Compression};
use squash_engine::layer::CountingReader;
use squash_engine::ReadAt;

pub struct FileSource {
    file: File,
    size: u64,
    /// How the input was compressed before it was decompressed into a spool file.
    pub compression: Compression,
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
}

/// The input, opened; `what` names it in messages.
pub fn open(path: Option<&str>, log: &mut dyn FnMut(&str)) -> Result<FileSource, String> {
    let (mut reader, what): (Box<dyn Read>, String) = match path {
        None | Some("-") => {
            if io::IsTerminal::is_terminal(&io::stdin()) {
                return Err("no input: pipe `docker save IMAGE` into docker-squash, or give -i FILE".into());
            }
            (Box::new(io::stdin().lock()), "stdin".into())
        }
        Some(p) => {
            let file = File::open(p).map_err(|e| format!("cannot open {p}: {e}"))?;
            let meta = file.metadata().map_err(|e| format!("cannot read {p}: {e}"))?;
            if meta.is_dir() {
                return Err(format!("{p} is a folder; give the .tar file `docker save` wrote"));
            }
            if meta.is_file() {
                let mut magic = [0u8; 4];
                let n = file.read_at(&mut magic, 0).unwrap_or(0);
                if Compression::detect(&magic[..n]) == Compression::None {
                    return Ok(FileSource { size: meta.len(), file, compression: Compression::None });
                }
            }
            (Box::new(file), p.to_string())
        }
    };
    // Spool: peek at the magic to decompress on the way.
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = reader.read(&mut head[got..]).map_err(|e| format!("cannot read {what}: {e}"))?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let compression = Compression::detect(&head[..got]);
    let stored = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counted =
        CountingReader { inner: io::Cursor::new(head[..got].to_vec()).chain(reader), counter: stored.clone() };
    let dec = decoder(BufReader::with_capacity(1 << 20, counted), compression).map_err(|e| format!("{what}: {e}"))?;
    // A decompression bomb must not fill the disk: the engine's bound, as the input comes.
    let mut stream = Bounded { inner: dec, out: 0, stored };
    if compression != Compression::None {
        log(&format!("{what} is {}-compressed: decompressing to a temporary file", compression.name()));
    }
    let (file, path) = temp_file("input")?;
    let _ = std::fs::remove_file(&path); // unlinked: gone when we exit, whatever happens
    let mut w = io::BufWriter::with_capacity(1 << 20, &file);
    let size = io::copy(&mut stream, &mut w).map_err(|e| match compression {
        Compression::None => format!("cannot read {what}: {e}"),
        c => format!("{what} is {}-compressed but damaged: {e}", c.name()),
    })?;
    w.flush().map_err(|e| format!("cannot write a temporary file: {e}"))?;
    drop(w);
    Ok(FileSource { file, size, compression })
}

fn temp_file(tag: &str) -> Result<(File, PathBuf), String> {
    let dir = std::env::temp_dir();
    for n in 0..1000u32 {
        let p = dir.join(format!(".docker-squash-{}-{tag}-{n}", std::process::id()));
        match std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((f, p)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create a temporary file in {}: {e}", dir.display())),
        }
    }
    Err("cannot create a temporary file".into())
}

/// Fails once the output passes 1100 times the stored bytes read so far and 4 GiB (deflate
/// cannot pass 1032:1; zstd can, by far).
struct Bounded<R> {
    inner: R,
    out: u64,
    stored: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.out += k as u64;
        let limit = self.stored.get().saturating_mul(1100).max(4 << 30);
        if self.out > limit {
            return Err(io::Error::other(format!(
                "it decompresses to more than {limit} bytes, far more than its stored size: a decompression bomb?"
            )));
        }
        Ok(k)
    }
}
