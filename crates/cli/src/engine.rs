//! `docker-daemon:` and `containers-storage:`: the image is read with the engine's own
//! `save` and written with its `load`, run as child processes. Going through the engine's
//! CLI (rather than its API socket) means `DOCKER_HOST`, docker contexts and podman's
//! connections apply exactly as for the user's other commands.

use std::io::{self, Read};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::thread::JoinHandle;

use squash_cli_def::Engine;

/// What is needed to end a running `save` or `load` (the child itself is kept apart, so
/// that a signal can kill it): its stderr, collected on a thread of its own (a child that
/// fills an unread stderr pipe would block).
pub struct Run {
    what: String,
    stderr: Option<JoinHandle<String>>,
}

fn collect(stderr: Option<ChildStderr>) -> Option<JoinHandle<String>> {
    let mut pipe = stderr?;
    std::thread::Builder::new()
        .name("engine-stderr".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
        .ok()
}

fn start(engine: Engine, args: &[&str], what: String, stdin: Stdio, stdout: Stdio) -> Result<(Child, Run), String> {
    let prog = engine.program();
    let mut child =
        Command::new(prog).args(args).stdin(stdin).stdout(stdout).stderr(Stdio::piped()).spawn().map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                format!(
                    "cannot run `{prog}` for {what}: it is not on PATH; install it, or give an archive file with -i/-o"
                )
            } else {
                format!("cannot run `{prog}` for {what}: {e}")
            }
        })?;
    let stderr = collect(child.stderr.take());
    Ok((child, Run { what, stderr }))
}

/// `docker save REF` (or podman's), its stdout to be read.
pub fn save(engine: Engine, reference: &str) -> Result<(Child, Run), String> {
    let what = format!("{}{reference}", engine.transport());
    start(engine, &["save", reference], what, Stdio::null(), Stdio::piped())
}

/// `docker load` (or podman's), its stdin to be written; what it says on stdout (`Loaded
/// image: app:sq`) is collected too.
pub fn load(engine: Engine, reference: &str) -> Result<(Child, Run, JoinHandle<String>), String> {
    let what = format!("{}{reference}", engine.transport());
    let (mut child, run) = start(engine, &["load"], what, Stdio::piped(), Stdio::piped())?;
    let out = child.stdout.take().ok_or("no stdout from the engine's load")?;
    let said = std::thread::Builder::new()
        .name("engine-stdout".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = { out }.read_to_string(&mut text);
            text
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    Ok((child, run, said))
}

impl Run {
    /// Waits for the child; an error quoting what it said when it failed.
    pub fn finish(mut self, child: &mut Child, verb: &str) -> Result<(), String> {
        let status = child.wait().map_err(|e| format!("waiting for {verb} of {}: {e}", self.what))?;
        let said = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        if status.success() {
            return Ok(());
        }
        let said = said.trim();
        let why = if said.is_empty() { format!("it ended with {status}") } else { said.to_string() };
        Err(format!("`{verb}` failed: {why}"))
    }
}
