//! Bad and conflicting options: one clear message, a non-zero exit, nothing written, and
//! nothing read either: they are refused before stdin is spooled, so a `docker save` of
//! gigabytes is not read to the end only to be told the level was wrong.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

fn folder(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("options-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs with `args` and `-o` into a fresh folder, stdin a pipe that stays open and is never
/// written: the run must end by itself, at once. Returns the exit status and stderr.
fn refused(name: &str, args: &[&str]) -> (Option<i32>, String) {
    let d = folder(name);
    let mut child = Command::new(BIN)
        .args(args)
        .arg("-o")
        .arg(d.join("out.tar"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _held_open = child.stdin.take();
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("{name}: {args:?} waited for stdin instead of refusing at once");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0, "{name}: something was written");
    (status.code(), stderr)
}

#[test]
fn unknown_values_and_conflicting_flags_are_usage_errors_that_say_which_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["-compress", "lz4"], "-compress takes auto, none, gzip or zstd, not `lz4`"),
        (&["-format", "tar"], "-format takes oci (Docker 25+, the default) or docker (before 25), not `tar`"),
        (&["-level", "fast"], "-level takes a number (1-9 for gzip, 1-19 for zstd), not `fast`"),
        (&["-compress", "gzip", "-compress", "zstd"], "-compress given twice: give it once"),
        (&["-t", "a:1", "--tag", "b:2"], "-t given twice: give it once"),
        (&["-from", "root", "--json"], "--json is for `inspect`, not for a squash"),
    ];
    for (n, (args, says)) in cases.iter().enumerate() {
        let (code, stderr) = refused(&format!("usage-{n}"), args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or("");
        assert_eq!(first, format!("docker-squash: {says}"), "{args:?}");
        assert!(stderr.contains("\nUsage:\n"), "{args:?}: the usage follows: {stderr}");
    }
}

#[test]
fn inspect_refuses_the_flags_of_a_squash_with_exit_2() {
    for flag in [["-t", "app"], ["-from", "root"], ["-compress", "gzip"], ["-level", "3"], ["-format", "docker"]] {
        let out = Command::new(BIN).arg("inspect").args(flag).arg("x.tar").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {stderr}");
        let first = stderr.lines().next().unwrap_or("");
        assert_eq!(first, format!("docker-squash: inspect takes no {}: it only reads (squashing takes it)", flag[0]));
    }
}

#[test]
fn a_level_the_compression_cannot_take_and_a_bad_tag_are_refused_before_stdin_is_read() {
    let cases: &[(&[&str], &str)] = &[
        (&["-compress", "none", "-level", "3"], "-level 3 needs -compress gzip or zstd: -compress none has no level"),
        (&["-compress", "gzip", "-level", "10"], "-level 10 is out of range for gzip: it takes 1 to 9 (default 6)"),
        (&["-compress", "zstd", "-level", "0"], "-level 0 is out of range for zstd: it takes 1 to 19 (default 3)"),
        (&["-level", "25"], "-level 25 is out of range for every compression: gzip takes 1 to 9"),
        (&["-t", "Not A Tag!"], "Not A Tag!"),
    ];
    for (n, (args, says)) in cases.iter().enumerate() {
        let (code, stderr) = refused(&format!("early-{n}"), args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.starts_with("docker-squash: ") && stderr.contains(says), "{args:?}: {stderr}");
    }
}
