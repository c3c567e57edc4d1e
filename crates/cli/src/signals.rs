//! Ctrl-C, `kill`, `timeout`, a closed terminal: SIGINT, SIGTERM and SIGHUP end the run at
//! once with the conventional status (128 + the signal) and one line on stderr, after the
//! temporary output is removed. The spooled input and the new layer's scratch file are
//! unlinked from the moment they are made, so nothing else can remain. A thread waits for
//! the signals (signal-hook's iterator), so a run blocked in a read ends too.

use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex, MutexGuard};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The temporary output, while it exists and is not yet renamed into place; or the
/// engine's `load` the output is streamed into, until the stream is complete.
#[derive(Clone, Default)]
pub struct Pending(Arc<Mutex<Held>>);

#[derive(Default)]
struct Held {
    path: Option<PathBuf>,
    load: Option<Child>,
}

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `path` is now the temporary output: removed if a signal comes.
    pub fn hold(&self, path: PathBuf) {
        self.lock().path = Some(path);
    }

    /// `child` is the engine's load of an unfinished stream: killed if a signal comes, so
    /// that a stream cut at a member's end is never taken for a whole image.
    pub fn hold_load(&self, child: Child) {
        self.lock().load = Some(child);
    }

    /// The load, given back once the stream is complete (a signal no longer stops it).
    pub fn release_load(&self) -> Option<Child> {
        self.lock().load.take()
    }

    /// Runs `done` (the rename, or the removal) with the signal thread kept out, so that a
    /// signal never races it; afterwards there is nothing left to remove.
    pub fn finish<T>(&self, done: impl FnOnce() -> T) -> T {
        let mut held = self.lock();
        let r = done();
        held.path = None;
        r
    }
}

fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "SIGHUP",
    }
}

/// Starts the thread that ends the run on SIGINT, SIGTERM or SIGHUP.
pub fn install(prog: &'static str, pending: Pending) -> Result<(), String> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(|e| format!("cannot watch for Ctrl-C (signals): {e}"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let mut held = pending.lock();
                let removed = held.path.as_ref().is_some_and(|p| std::fs::remove_file(p).is_ok());
                let stopped = held.load.as_mut().is_some_and(|c| c.kill().and_then(|_| c.wait()).is_ok());
                let what = match (removed, stopped) {
                    (true, _) => ": the unfinished output was removed",
                    (_, true) => ": the load was stopped, nothing was loaded",
                    _ => "",
                };
                eprintln!("\n{prog}: interrupted by {}{what}", name(sig));
                std::process::exit(128 + sig);
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot watch for Ctrl-C (a thread): {e}"))
}
