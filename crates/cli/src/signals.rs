//! Ctrl-C, `kill`, `timeout`, a closed terminal: SIGINT, SIGTERM and SIGHUP end the run at
//! once with the conventional status (128 + the signal) and one line on stderr, after the
//! temporary output is removed. The spooled input and the new layer's scratch file are
//! unlinked from the moment they are made, so nothing else can remain. A thread waits for
//! the signals (signal-hook's iterator), so a run blocked in a read ends too.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The temporary output, while it exists and is not yet renamed into place.
#[derive(Clone, Default)]
pub struct Pending(Arc<Mutex<Option<PathBuf>>>);

impl Pending {
    fn lock(&self) -> MutexGuard<'_, Option<PathBuf>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `path` is now the temporary output: removed if a signal comes.
    pub fn hold(&self, path: PathBuf) {
        *self.lock() = Some(path);
    }

    /// Runs `done` (the rename, or the removal) with the signal thread kept out, so that a
    /// signal never races it; afterwards there is nothing left to remove.
    pub fn finish<T>(&self, done: impl FnOnce() -> T) -> T {
        let mut held = self.lock();
        let r = done();
        *held = None;
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
                let held = pending.lock();
                let removed = held.as_ref().is_some_and(|p| std::fs::remove_file(p).is_ok());
                let what = if removed { ": the unfinished output was removed" } else { "" };
                eprintln!("\n{prog}: interrupted by {}{what}", name(sig));
                std::process::exit(128 + sig);
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot watch for Ctrl-C (a thread): {e}"))
}
