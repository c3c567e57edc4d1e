//! Inputs that change under the CLI: a file truncated or appended to while it is read, and
//! a stdin that ends early, give one clear error naming what happened, a non-zero exit,
//! and no output, never a silently wrong image.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use squash_testkit::{file, noise, tar, Image, Layer};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

fn archive_bytes() -> Vec<u8> {
    let data = noise(200usize << 20, 0x2545_f491_4f6c_dd1d);
    Image::new(vec![Layer::plain(tar(&[file("big", &data)]))]).docker_save()
}

fn folder(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("changing-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Squashes a copy of the archive to a file, and runs `change` on the copy once the
/// squash has started; returns the exit status and stderr.
fn squash_while(name: &str, bytes: &[u8], change: impl FnOnce(&Path)) -> (Option<i32>, String, PathBuf) {
    let d = folder(name);
    let input = d.join("in.tar");
    std::fs::write(&input, bytes).unwrap();
    let out_dir = d.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let child = Command::new(BIN)
        .args(["-from", "root", "-compress", "gzip", "-i", input.to_str().unwrap(), "-o"])
        .arg(out_dir.join("out.tar"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::fs::read_dir(&out_dir).unwrap().next().is_none() {
        assert!(t0.elapsed() < Duration::from_secs(60), "the squash never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    change(&input);
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), out_dir)
}

fn assert_refused(what: &str, (code, stderr, out_dir): (Option<i32>, String, PathBuf), says: &str) {
    assert_eq!(code, Some(1), "{what}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr}");
    assert!(stderr.contains(says), "{what}: {stderr}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "{what}: something was left in the output folder");
}

#[test]
fn a_file_truncated_or_appended_to_while_it_is_read_is_an_error_that_says_so() {
    let bytes = archive_bytes();
    let half = bytes.len() as u64 / 2;
    let truncated = squash_while("truncated", &bytes, |p| {
        std::fs::OpenOptions::new().write(true).open(p).unwrap().set_len(half).unwrap();
    });
    assert_refused("truncated", truncated, "changed while it was read (truncated");
    let appended = squash_while("appended", &bytes, |p| {
        std::fs::OpenOptions::new().append(true).open(p).unwrap().write_all(&[0u8; 4096]).unwrap();
    });
    assert_refused("appended", appended, "changed while it was read (appended to");
}

#[test]
fn a_stdin_that_ends_early_is_an_error_that_says_so() {
    let bytes = archive_bytes();
    let mut child = Command::new(BIN)
        .args(["-from", "root"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&bytes[..bytes.len() * 2 / 3]).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("truncated"), "the message says the input is cut short: {stderr}");
}
