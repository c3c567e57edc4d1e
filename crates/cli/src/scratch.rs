//! Temporary files: the spooled input, and the engine's scratch space for the new layer.
//! Unlinked from the start (tempfile's O_TMPFILE or create-then-unlink), so they vanish
//! when the process ends, however it ends.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

use squash_engine::{ReadAt, Scratch};

/// An unlinked temporary file in `$TMPDIR`.
pub fn temp_file() -> Result<File, String> {
    let dir = std::env::temp_dir();
    tempfile::tempfile_in(&dir).map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))
}

/// The engine's scratch space: written through a buffer, then read back by offset.
struct ScratchFile {
    w: BufWriter<File>,
    size: u64,
}

impl Write for ScratchFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.w.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

impl ReadAt for ScratchFile {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.w.get_ref().read_at(buf, offset)
    }
}

/// A fresh scratch file, for [`squash_engine::Archive::set_scratch`].
pub fn scratch() -> io::Result<Box<dyn Scratch>> {
    let file = temp_file().map_err(io::Error::other)?;
    Ok(Box::new(ScratchFile { w: BufWriter::with_capacity(1 << 20, file), size: 0 }))
}
