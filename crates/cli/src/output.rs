//! The output: stdout, or a file written under a temporary name and renamed into place
//! only when complete, so a failure or a signal never leaves a half-written archive behind.
//! A path that names a device or a pipe (`-o /dev/null`, a FIFO) is written to as it is:
//! renaming a file over it would replace the device itself.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::signals::Pending;

pub enum Output {
    Stdout(BufWriter<Stdout>),
    /// A device or pipe, written to directly (nothing to rename or remove).
    Device(BufWriter<File>, PathBuf),
    File {
        w: BufWriter<File>,
        tmp: PathBuf,
        dest: PathBuf,
        pending: Pending,
    },
}

/// stdout, noting when its reader has gone (`| head -c 1000`): that ends the run quietly.
pub struct Stdout {
    inner: io::Stdout,
    closed: Rc<Cell<bool>>,
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.closed.set(e.kind() == io::ErrorKind::BrokenPipe))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|e| self.closed.set(e.kind() == io::ErrorKind::BrokenPipe))
    }
}

impl Output {
    /// Opens the output; a temporary file is handed to `pending` to be removed on a signal.
    /// `closed` is set when stdout's reader goes away.
    pub fn open(path: Option<&str>, pending: &Pending, closed: Rc<Cell<bool>>) -> Result<Output, String> {
        match path {
            None | Some("-") => {
                if io::IsTerminal::is_terminal(&io::stdout()) {
                    return Err(squash_cli_def::say::TERMINAL_OUTPUT.into());
                }
                Ok(Output::Stdout(BufWriter::with_capacity(1 << 20, Stdout { inner: io::stdout(), closed })))
            }
            Some(p) => {
                let dest = PathBuf::from(p);
                if let Ok(meta) = std::fs::metadata(&dest) {
                    if meta.is_dir() {
                        return Err(format!("{p} is a folder; give the file to write, e.g. {p}/squashed.tar"));
                    }
                    if !meta.is_file() {
                        let f = std::fs::OpenOptions::new()
                            .write(true)
                            .open(&dest)
                            .map_err(|e| format!("cannot write {p}: {e}"))?;
                        return Ok(Output::Device(BufWriter::with_capacity(1 << 20, f), dest));
                    }
                }
                let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
                let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
                let f = File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
                pending.hold(tmp.clone());
                Ok(Output::File { w: BufWriter::with_capacity(1 << 20, f), tmp, dest, pending: pending.clone() })
            }
        }
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::Device(w, _) => w,
            Output::File { w, .. } => w,
        }
    }

    /// Flushes and moves the file into place.
    pub fn commit(self) -> Result<(), String> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| format!("writing to stdout: {e}")),
            Output::Device(mut w, dest) => w.flush().map_err(|e| format!("writing {}: {e}", dest.display())),
            Output::File { w, tmp, dest, pending } => pending.finish(|| {
                let f = w.into_inner().map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    format!("writing {}: {}", dest.display(), e.error())
                })?;
                if let Err(e) = f.sync_all() {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(format!("writing {}: {e}", dest.display()));
                }
                std::fs::rename(&tmp, &dest).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    format!("cannot move the result to {}: {e}", dest.display())
                })
            }),
        }
    }

    /// Removes what was written.
    pub fn abandon(self) {
        if let Output::File { w, tmp, pending, .. } = self {
            drop(w);
            pending.finish(|| {
                let _ = std::fs::remove_file(tmp);
            });
        }
    }
}
