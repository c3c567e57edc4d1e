//! The output: stdout, or a file written under a temporary name and renamed into place
//! only when complete, so a failure or a signal never leaves a half-written archive behind.
//! The temporary name is random and created exclusively (tempfile's O_EXCL), so a link
//! planted in a shared folder is never followed nor renamed into place.
//! A path that names a device or a pipe (`-o /dev/null`, a FIFO) is written to as it is:
//! renaming a file over it would replace the device itself. An engine's `load` is streamed
//! into; it is killed on a failure or a signal, so that only a whole archive is loaded.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ChildStdin;
use std::rc::Rc;
use std::thread::JoinHandle;

use squash_cli_def::{Args, Engine, Location};
use tempfile::TempPath;

use crate::signals::Pending;

pub enum Output {
    Stdout(BufWriter<Stdout>),
    /// A device or pipe, written to directly (nothing to rename or remove).
    Device(BufWriter<File>, PathBuf),
    File {
        w: BufWriter<File>,
        /// Removed when dropped; renamed into place by `persist`.
        tmp: TempPath,
        dest: PathBuf,
        pending: Pending,
    },
    /// `docker load` (or podman's) reading what is written.
    Load(Load),
    /// An archive in an unlinked temporary file, pushed to a registry on commit.
    Push(crate::registry::Push),
}

/// An engine's load reading what is written; its child is in `pending` (killed on a signal).
pub struct Load {
    w: BufWriter<ChildStdin>,
    engine: Engine,
    run: crate::engine::Run,
    said: JoinHandle<String>,
    pending: Pending,
}

impl Load {
    /// Ends the stream and waits for the load; returns what it said (`Loaded image: app:sq`).
    fn commit(self) -> Result<Vec<String>, String> {
        let Load { w, engine, run, said, pending } = self;
        let verb = format!("{} load", engine.program());
        let flushed = w.into_inner().map(drop).map_err(|e| format!("writing to {verb}: {}", e.error()));
        // The stream is whole once flushed; closing stdin (dropping it) lets the load end.
        let Some(mut child) = pending.release_load() else { return Err(format!("{verb} ended early")) };
        if let Err(e) = flushed {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
        run.finish(&mut child, &verb)?;
        let said = said.join().unwrap_or_default();
        Ok(said.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
    }

    /// Stops the load before it takes a partial stream.
    fn abandon(self) {
        if let Some(mut child) = self.pending.release_load() {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(self.w);
    }
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

/// What can be known of `-o FILE` before anything is read: a folder, or a file in a
/// folder that is not there, is refused at once, not after a whole pull or squash. Exit 1,
/// not 2: as "is a folder" always was, this is a fact of the file system, not a command
/// line that cannot be parsed (README: options, and crates/cli-def's usage errors).
pub fn check(to: &Location) -> Result<(), String> {
    let Location::Archive { path: p, .. } = to else { return Ok(()) };
    if p == "-" {
        return Ok(());
    }
    let dest = Path::new(p);
    if std::fs::metadata(dest).is_ok_and(|m| m.is_dir()) {
        return Err(is_a_folder(p));
    }
    let dir = folder_of(dest);
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(format!("cannot write {p}: {} is not a folder", dir.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(format!("cannot write {p}: there is no folder {}; create it first", dir.display()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            Err(format!("cannot write {p}: {} is not a folder", file_above(dir).display()))
        }
        Err(e) => Err(format!("cannot write {p}: {}: {e}", dir.display())),
    }
}

fn is_a_folder(p: &str) -> String {
    format!("{p} is a folder; give the file to write, e.g. {p}/squashed.tar")
}

/// The first part of `dir` that is a file, which is what "not a directory" is about.
fn file_above(dir: &Path) -> &Path {
    dir.ancestors().find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir())).unwrap_or(dir)
}

/// The folder `dest` is written in (`.` for a bare name).
fn folder_of(dest: &Path) -> &Path {
    dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

impl Output {
    /// Opens the output `to`; a temporary file (or the engine's load) is handed to `pending`
    /// to be removed (killed) on a signal. `closed` is set when stdout's reader goes away.
    pub fn open_location(to: &Location, pending: &Pending, closed: Rc<Cell<bool>>) -> Result<Output, String> {
        match to {
            Location::Stdio => Output::open(None, pending, closed),
            Location::Archive { path, .. } => Output::open(Some(path), pending, closed),
            Location::Engine { engine, reference } => {
                let (mut child, run, said) = crate::engine::load(*engine, reference)?;
                let stdin = child.stdin.take().ok_or("no stdin for the engine's load")?;
                pending.hold_load(child);
                let w = BufWriter::with_capacity(1 << 20, stdin);
                Ok(Output::Load(Load { w, engine: *engine, run, said, pending: pending.clone() }))
            }
            Location::Registry { reference } => Ok(Output::Push(crate::registry::Push::open(reference)?)),
        }
    }

    fn open(path: Option<&str>, pending: &Pending, closed: Rc<Cell<bool>>) -> Result<Output, String> {
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
                        return Err(is_a_folder(p));
                    }
                    if !meta.is_file() {
                        let f = std::fs::OpenOptions::new()
                            .write(true)
                            .open(&dest)
                            .map_err(|e| format!("cannot write {p}: {e}"))?;
                        return Ok(Output::Device(BufWriter::with_capacity(1 << 20, f), dest));
                    }
                }
                let dir = folder_of(&dest);
                let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
                // 0o666 as File::create (less the umask): the archive keeps the mode it had.
                let (f, tmp) = tempfile::Builder::new()
                    .prefix(&format!(".{name}."))
                    .suffix(".tmp")
                    .permissions(std::fs::Permissions::from_mode(0o666))
                    .tempfile_in(dir)
                    .map_err(|e| format!("cannot write {p}: {e}"))?
                    .into_parts();
                pending.hold(tmp.to_path_buf());
                Ok(Output::File { w: BufWriter::with_capacity(1 << 20, f), tmp, dest, pending: pending.clone() })
            }
        }
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::Device(w, _) => w,
            Output::File { w, .. } => w,
            Output::Load(l) => &mut l.w,
            Output::Push(p) => &mut p.w,
        }
    }

    /// Flushes and moves the file into place, ends the load's stream and waits for it, or
    /// pushes; returns what the load said (`Loaded image: app:sq`) or what was pushed.
    /// `pulled`: the registry image read, whose layers a push may mount.
    pub fn commit(
        self,
        pulled: Option<&crate::registry::Pulled>,
        args: &Args,
        log: &mut dyn FnMut(&str),
    ) -> Result<Vec<String>, String> {
        match self {
            Output::Push(p) => p.commit(pulled, args, log),
            Output::Load(l) => l.commit(),
            Output::Stdout(mut w) => w.flush().map(|()| Vec::new()).map_err(|e| format!("writing to stdout: {e}")),
            Output::Device(mut w, dest) => {
                w.flush().map(|()| Vec::new()).map_err(|e| format!("writing {}: {e}", dest.display()))
            }
            Output::File { w, tmp, dest, pending } => pending
                .finish(|| {
                    // On any error `tmp` is dropped, which removes the file.
                    let f = w.into_inner().map_err(|e| format!("writing {}: {}", dest.display(), e.error()))?;
                    f.sync_all().map_err(|e| format!("writing {}: {e}", dest.display()))?;
                    tmp.persist(&dest).map_err(|e| format!("cannot move the result to {}: {}", dest.display(), e.error))
                })
                .map(|()| Vec::new()),
        }
    }

    /// Removes what was written, or stops the load before it takes a partial stream.
    pub fn abandon(self) {
        match self {
            Output::File { w, tmp, pending, .. } => {
                drop(w);
                pending.finish(|| drop(tmp));
            }
            Output::Load(l) => l.abandon(),
            // An unlinked file: nothing pushed, nothing left.
            Output::Stdout(_) | Output::Device(..) | Output::Push(_) => {}
        }
    }
}
