//! Opening the input for random access: a regular file is read in place by offset; stdin,
//! a pipe or an engine's `save` is spooled to an unlinked temporary file first, and a
//! compressed archive is decompressed while spooling (one pass, instead of one per
//! read-back).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use squash_cli_def::{Args, Location};
use squash_engine::spool;
use squash_engine::Compression;
use squash_engine::ReadAt;

pub struct FileSource {
    file: File,
    size: u64,
    /// How the input was compressed before it was decompressed into a spool file.
    pub compression: Compression,
    /// The user's file, read in place: checked again at the end (see [`Watch`]).
    pub watch: Option<Watch>,
    /// The registry image it was pulled from.
    pub pulled: Option<crate::registry::Pulled>,
}

/// A file read in place, as it was when opened: a squash of a file that changes while it
/// is read (appended to, truncated, rewritten) must not end in an image of neither version.
pub struct Watch {
    file: File,
    path: String,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Watch {
    /// An error naming what happened, if the file is no longer what it was.
    pub fn changed(&self) -> Option<String> {
        let now = self.file.metadata().ok()?;
        if now.len() != self.len || now.modified().ok() != self.modified {
            return Some(squash_cli_def::say::input_changed(&self.path, now.len(), self.len));
        }
        None
    }
}

impl ReadAt for FileSource {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
}

/// The input `from`, opened (`prog` is the program's name, for advice).
pub fn open_location(
    from: &Location,
    args: &Args,
    prog: &str,
    log: &mut dyn FnMut(&str),
) -> Result<FileSource, String> {
    match from {
        Location::Stdio => open(None, prog, log),
        Location::Archive { path, .. } => open(Some(path), prog, log),
        Location::Engine { engine, reference } => {
            log(&format!("reading {}: {} save {reference}", from.describe(""), engine.program()));
            let (mut child, run) = crate::engine::save(*engine, reference)?;
            let out = child.stdout.take().ok_or("no stdout from the engine's save")?;
            let spooled = spool_from(Box::new(out), from.describe(""), log);
            // What the engine said is the better error: an empty stream is only its effect.
            run.finish(&mut child, &format!("{} save {reference}", engine.program()))?;
            spooled
        }
        Location::Registry { reference } => {
            let (file, pulled) = crate::registry::pull(reference, args, log)?;
            let size = file.metadata().map_err(|e| format!("cannot read a temporary file: {e}"))?.len();
            Ok(FileSource { file, size, compression: Compression::None, watch: None, pulled: Some(pulled) })
        }
    }
}

/// The input, opened (`prog` is the program's name, for advice).
fn open(path: Option<&str>, prog: &str, log: &mut dyn FnMut(&str)) -> Result<FileSource, String> {
    let (reader, what): (Box<dyn Read>, String) = match path {
        None | Some("-") => {
            if io::IsTerminal::is_terminal(&io::stdin()) {
                return Err(squash_cli_def::say::no_input(prog));
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
                    let watch = file.try_clone().ok().map(|f| Watch {
                        file: f,
                        path: p.to_string(),
                        len: meta.len(),
                        modified: meta.modified().ok(),
                    });
                    return Ok(FileSource {
                        size: meta.len(),
                        file,
                        compression: Compression::None,
                        watch,
                        pulled: None,
                    });
                }
            }
            (Box::new(file), p.to_string())
        }
    };
    spool_from(reader, what, log)
}

/// `reader`, spooled (and decompressed) into an unlinked temporary file.
fn spool_from(mut reader: Box<dyn Read>, what: String, log: &mut dyn FnMut(&str)) -> Result<FileSource, String> {
    let file = crate::scratch::temp_file()?;
    let mut w = io::BufWriter::with_capacity(1 << 20, &file);
    // Decompressed on the way, within the engine's bomb bound, in the engine's words.
    let mut found = |c: Compression| {
        if c != Compression::None {
            log(&format!("{what} is {}-compressed: decompressing to a temporary file", c.name()));
        }
    };
    let spooled = spool(&mut reader, &what, &mut w, &mut found).map_err(|e| e.message)?;
    drop(w);
    Ok(FileSource { file, size: spooled.size, compression: spooled.compression, watch: None, pulled: None })
}
