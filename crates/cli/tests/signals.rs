//! SIGINT, SIGTERM and SIGHUP at several points of a squash of a large archive (while
//! stdin is spooled, while the layers are read, while the output is written): the exit
//! status is 128 + the signal, stderr says so in one line, and neither the output folder
//! nor the temporary folder holds anything new. A closed stdout ends the run quietly.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use squash_testkit::{file, noise, tar, Image, Layer};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");
const SIGNALS: [(&str, i32); 3] = [("INT", 2), ("TERM", 15), ("HUP", 1)];

/// A one-layer image of ~300 MB that compresses somewhat (so gzip takes a while), made once.
fn archive() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let data = noise(300usize << 20, 0x9e37_79b9_7f4a_7c15);
        let bytes = Image::new(vec![Layer::plain(tar(&[file("big", &data)]))]).docker_save();
        // In cargo's folder for test files, replaced by each run rather than left in /tmp.
        let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join("signals-archive.tar");
        std::fs::write(&p, bytes).unwrap();
        p
    })
}

/// A fresh, empty folder.
fn folder(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("signals-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn entries(d: &Path) -> Vec<String> {
    std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn send(child: &Child, sig: &str) {
    let ok = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap().success();
    assert!(ok, "kill -{sig} failed");
}

/// Waits until `ready` holds (checked every few ms), for at most 60 s.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < Duration::from_secs(60), "never saw: {what}");
        std::thread::sleep(Duration::from_millis(3));
    }
}

/// Checks how an interrupted run ended.
fn ended_by(child: Child, sig: &str, n: i32, out_dir: &Path, tmp: &Path, when: &str) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + n), "SIG{sig} {when}: status {:?}, stderr: {stderr}", out.status);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "SIG{sig} {when}: one line on stderr, got: {stderr}");
    assert!(lines[0].starts_with(&format!("docker-squash: interrupted by SIG{sig}")), "{}", lines[0]);
    assert_eq!(entries(out_dir), Vec::<String>::new(), "SIG{sig} {when}: the output folder holds something");
    assert_eq!(entries(tmp), Vec::<String>::new(), "SIG{sig} {when}: the temporary folder holds something");
}

fn squash_to_file(args: &[&str], out_dir: &Path, tmp: &Path) -> Child {
    Command::new(BIN)
        .args(args)
        .args(["-i", archive().to_str().unwrap(), "-o", out_dir.join("out.tar").to_str().unwrap()])
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_signal_while_stdin_is_spooled_ends_the_run_and_leaves_no_spool() {
    let input = std::fs::read(archive()).unwrap();
    for (sig, n) in SIGNALS {
        let (out_dir, tmp) = (folder(&format!("spool-out-{sig}")), folder(&format!("spool-tmp-{sig}")));
        let mut child = Command::new(BIN)
            .args(["-from", "root", "-o", out_dir.join("out.tar").to_str().unwrap()])
            .env("TMPDIR", &tmp)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Half the archive, then the pipe stays open: the CLI waits in the middle of a read.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input[..input.len() / 2]).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        send(&child, sig);
        ended_by(child, sig, n, &out_dir, &tmp, "while spooling stdin");
        drop(stdin);
    }
}

#[test]
fn a_signal_while_the_layers_are_read_or_the_new_layer_is_made_removes_the_temporary_output() {
    for (sig, n) in SIGNALS {
        let (out_dir, tmp) = (folder(&format!("read-out-{sig}")), folder(&format!("read-tmp-{sig}")));
        let child = squash_to_file(&["-from", "root", "-compress", "gzip"], &out_dir, &tmp);
        // The temporary output exists (and is empty) from the start of the reading.
        wait_for("the temporary output", || !entries(&out_dir).is_empty());
        std::thread::sleep(Duration::from_millis(200));
        assert!(running(&child), "the squash ended before SIG{sig}");
        send(&child, sig);
        ended_by(child, sig, n, &out_dir, &tmp, "while reading");
    }
}

#[test]
fn a_signal_while_the_output_is_written_removes_the_temporary_output() {
    for (sig, n) in SIGNALS {
        let (out_dir, tmp) = (folder(&format!("write-out-{sig}")), folder(&format!("write-tmp-{sig}")));
        let child = squash_to_file(&["-from", "root", "-format", "docker"], &out_dir, &tmp);
        let written = || std::fs::read_dir(&out_dir).unwrap().any(|e| e.unwrap().metadata().is_ok_and(|m| m.len() > 0));
        wait_for("output being written", written);
        send(&child, sig);
        ended_by(child, sig, n, &out_dir, &tmp, "while writing");
    }
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_nothing_left() {
    let tmp = folder("closed-stdout");
    let mut child = Command::new(BIN)
        .args(["-from", "root", "-i", archive().to_str().unwrap()])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 1000];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
    drop(child.stdout.take()); // as `| head -c 1000` does
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "the status a shell shows for SIGPIPE");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "nothing on stderr");
    assert_eq!(entries(&tmp), Vec::<String>::new());
}

/// Whether the process is still there (`kill -0`; it is not reaped until waited for).
fn running(child: &Child) -> bool {
    Command::new("kill").arg("-0").arg(child.id().to_string()).status().is_ok_and(|s| s.success())
}
