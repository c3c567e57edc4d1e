//! What a hostile neighbour in a shared output folder, or a careless reference, cannot do:
//! a link planted where the temporary file could be is never written through, a login in a
//! reference is never echoed, and an output that cannot be written is refused before the
//! input is read (stdin is held open and never written: a run that read it would hang).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use squash_testkit::{file, tar, Image, Layer};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

fn folder(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("output-safety-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn archive(d: &Path) -> PathBuf {
    let img =
        Image::new(vec![Layer::plain(tar(&[file("etc/a", b"one")])), Layer::plain(tar(&[file("etc/b", b"two")]))]);
    let p = d.join("in.tar");
    std::fs::write(&p, img.docker_save()).unwrap();
    p
}

/// Waits for `child` for at most 20 s; one that is still running read its stdin (or hung).
fn finishes(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{what}: still running after 20 s (it waited for stdin)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    Output { status: child.wait().unwrap(), stdout: Vec::new(), stderr: stderr.into_bytes() }
}

/// Runs the CLI with a stdin that stays open and silent.
fn with_open_stdin(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let out = finishes(child, &args.join(" "));
    drop(stdin);
    out
}

#[test]
fn a_link_planted_at_any_pid_named_temporary_is_never_written_through() {
    let d = folder("links");
    let input = archive(&d);
    let victim = d.join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let out = d.join("out.tar");
    // The names the old scheme (`.out.tar.tmp-PID`) chose, for the pids the run can get.
    let first = std::process::id();
    let planted: Vec<PathBuf> = (first..first + 4000).map(|p| d.join(format!(".out.tar.tmp-{p}"))).collect();
    for l in &planted {
        std::os::unix::fs::symlink(&victim, l).unwrap();
    }
    let child = Command::new(BIN)
        .args(["-from", "root", "-t", "safe:1", "-i"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let r = finishes(child, "the squash");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!((first..first + 4000).contains(&pid), "the run's pid {pid} fell outside the planted range");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious", "the archive was written through a planted link");
    let meta = std::fs::symlink_metadata(&out).unwrap();
    assert!(meta.file_type().is_file(), "{} is not a plain file: {:?}", out.display(), meta.file_type());
    assert!(std::fs::read(&out).unwrap().len() > 1024);
    // Every planted link is still a link to the victim; nothing else was left beside them.
    for l in &planted {
        assert_eq!(std::fs::read_link(l).unwrap(), victim);
    }
    let mut others: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".out.tar.tmp-"))
        .collect();
    others.sort();
    assert_eq!(others, ["in.tar", "out.tar", "victim"]);
}

#[test]
fn a_login_in_a_reference_is_refused_before_input_is_read_and_never_echoed() {
    for flag in ["-o", "-i"] {
        let r = with_open_stdin(&[flag, "docker://alice:s3cret@127.0.0.1:5999/team/app:1"]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{flag}: {err}");
        assert!(!err.contains("s3cret") && !err.contains("alice"), "{flag}: the login was echoed: {err}");
        assert!(err.contains("docker login 127.0.0.1:5999"), "{flag}: {err}");
    }
}

#[test]
fn an_invalid_output_reference_is_refused_before_input_is_read() {
    let r = with_open_stdin(&["-o", "docker://127.0.0.1:5999/Team/App:1"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("invalid reference") && err.contains("lowercase"), "{err}");
}

#[test]
fn a_missing_output_folder_is_refused_before_input_is_read() {
    let d = folder("missing");
    let to = d.join("no/such/folder/out.tar");
    let r = with_open_stdin(&["-o", to.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(err.contains("there is no folder") && err.contains("create it first"), "{err}");
    let file_as_folder = d.join("plain");
    std::fs::write(&file_as_folder, b"x").unwrap();
    let r = with_open_stdin(&["-o", file_as_folder.join("out.tar").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a folder"), "{err}");
    let r = with_open_stdin(&["-o", file_as_folder.join("sub/out.tar").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains(&format!("{} is not a folder", file_as_folder.display())), "{err}");
    let r = with_open_stdin(&["-o", d.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("is a folder"));
}
