//! The output: stdout, or a file written under a temporary name and renamed into place
//! only when complete, so a failure never leaves a half-written archive behind.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    File { w: BufWriter<File>, tmp: PathBuf, dest: PathBuf },
}

impl Output {
    pub fn open(path: Option<&str>) -> Result<Output, String> {
        match path {
            None | Some("-") => {
                if io::IsTerminal::is_terminal(&io::stdout()) {
                    return Err(squash_cli_def::say::TERMINAL_OUTPUT.into());
                }
                Ok(Output::Stdout(BufWriter::with_capacity(1 << 20, io::stdout())))
            }
            Some(p) => {
                let dest = PathBuf::from(p);
                let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
                let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
                let f = File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
                Ok(Output::File { w: BufWriter::with_capacity(1 << 20, f), tmp, dest })
            }
        }
    }

    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::File { w, .. } => w,
        }
    }

    /// Flushes and moves the file into place.
    pub fn commit(self) -> Result<(), String> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| format!("writing to stdout: {e}")),
            Output::File { w, tmp, dest } => {
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
            }
        }
    }

    /// Removes what was written.
    pub fn abandon(self) {
        if let Output::File { w, tmp, .. } = self {
            drop(w);
            let _ = std::fs::remove_file(tmp);
        }
    }
}
