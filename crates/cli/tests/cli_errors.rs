//! The CLI on broken input and broken output: a non-zero exit, exactly one clear message on
//! stderr, and nothing left behind where -o pointed (not even the temporary file).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

fn header(name: &str, size: usize) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn tar(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        out.extend_from_slice(&header(name, data.len()));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A pre-1.10 `docker save` archive (no digests to compute): two layers, the upper one
/// holding `payload` bytes of incompressible-ish data.
fn legacy_archive(payload: usize) -> Vec<u8> {
    let a = "a".repeat(64);
    let b = "b".repeat(64);
    let mut big = Vec::with_capacity(payload);
    let mut x: u32 = 1;
    for _ in 0..payload {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        big.push((x >> 16) as u8);
    }
    let l0 = tar(&[("etc/base", b"base".to_vec())]);
    let l1 = tar(&[("data/big", big)]);
    let ja =
        format!(r#"{{"id":"{a}","created":"2020-01-01T00:00:00Z","container_config":{{"Cmd":["ADD file:00 in /"]}}}}"#);
    let jb = format!(
        r#"{{"id":"{b}","parent":"{a}","created":"2020-01-01T00:00:00Z","container_config":{{"Cmd":["RUN x"]}}}}"#
    );
    let repos = format!(r#"{{"t/app":{{"1":"{b}"}}}}"#);
    tar(&[
        (&format!("{a}/json"), ja.into_bytes()),
        (&format!("{a}/layer.tar"), l0),
        (&format!("{b}/json"), jb.into_bytes()),
        (&format!("{b}/layer.tar"), l1),
        ("repositories", repos.into_bytes()),
    ])
}

fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cli-errors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files_in(d: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Runs with -i IN -o OUT in a fresh folder; checks the failure and that only IN is left.
#[track_caller]
fn fails(name: &str, input: &[u8], extra: &[&str], words: &[&str]) -> String {
    let d = workdir(name);
    let inp = d.join("in.tar");
    std::fs::write(&inp, input).unwrap();
    let out = d.join("out.tar");
    let r = Command::new(BIN).arg("-i").arg(&inp).arg("-o").arg(&out).args(extra).output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(!r.status.success(), "{name}: must fail; stderr: {err}");
    // One message (it may list choices on the lines below it).
    assert!(err.starts_with("docker-squash: "), "{name}: {err}");
    assert_eq!(err.matches("docker-squash:").count(), 1, "{name}: one message expected, got: {err}");
    for w in words {
        assert!(err.contains(w), "{name}: stderr lacks `{w}`: {err}");
    }
    assert_eq!(files_in(&d), vec!["in.tar".to_string()], "{name}: something was left behind");
    std::fs::remove_dir_all(&d).unwrap();
    err
}

#[test]
fn a_valid_archive_squashes() {
    let d = workdir("valid");
    let inp = d.join("in.tar");
    std::fs::write(&inp, legacy_archive(1000)).unwrap();
    let r = Command::new(BIN).arg("-i").arg(&inp).arg("-o").arg(d.join("out.tar")).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(files_in(&d), vec!["in.tar".to_string(), "out.tar".to_string()]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn no_verify_gives_the_same_bytes_and_still_hashes_layers_without_promised_digests() {
    // A pre-1.10 archive promises no diff_ids: -no-verify must hash it all the same.
    let d = workdir("no-verify");
    let inp = d.join("in.tar");
    std::fs::write(&inp, legacy_archive(300_000)).unwrap();
    let mut outs = Vec::new();
    for extra in [&[][..], &["-no-verify"][..], &["--no-verify=false"][..]] {
        let out = d.join(format!("out{}.tar", outs.len()));
        let r = Command::new(BIN).arg("-i").arg(&inp).arg("-o").arg(&out).args(extra).output().unwrap();
        assert!(r.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&r.stderr));
        outs.push(std::fs::read(&out).unwrap());
    }
    assert!(outs[0] == outs[1] && outs[1] == outs[2], "-no-verify changed the output");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn empty_file() {
    fails("empty", b"", &[], &["empty"]);
}

#[test]
fn not_a_tar() {
    fails("not-tar", &b"just some text, not an archive\n".repeat(50), &[], &["not a tar archive"]);
}

#[test]
fn a_tar_that_is_not_an_image() {
    fails("not-image", &tar(&[("README", b"hi".to_vec())]), &[], &["not an image"]);
}

#[test]
fn truncated_archive() {
    let a = legacy_archive(20_000);
    fails("truncated", &a[..a.len() / 2], &[], &["truncated"]);
}

#[test]
fn truncated_gzip_archive() {
    // A gzip header and a little deflate data, then nothing.
    let g = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xed, 0xc1, 0x01, 0x0d];
    fails("gzip", &g, &[], &["gzip"]);
}

#[test]
fn invalid_tag() {
    fails("tag", &legacy_archive(100), &["-t", "Not A Tag"], &["not a valid image tag"]);
}

#[test]
fn from_matching_nothing() {
    let err =
        fails("from", &legacy_archive(100), &["-from", "cccccccc"], &["no layer of this image has the id `cccccccc`"]);
    assert!(err.starts_with("docker-squash: no layer"), "{err}");
}

/// Output that does not fit: a 1 MiB tmpfs (needs root to mount; skipped with a message
/// otherwise).
#[test]
fn output_disk_full() {
    let d = workdir("full");
    let mnt = d.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "none"])
        .arg(&mnt)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIPPED output_disk_full: cannot mount a tmpfs here (not root?)");
        return;
    }
    let inp = d.join("in.tar");
    std::fs::write(&inp, legacy_archive(3 << 20)).unwrap();
    let r = Command::new(BIN)
        .arg("-i")
        .arg(&inp)
        .arg("-o")
        .arg(mnt.join("out.tar"))
        .arg("-from")
        .arg("root")
        .output()
        .unwrap();
    let left = files_in(&mnt);
    let _ = Command::new("umount").arg(&mnt).status();
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "must fail: {err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(err.lines().count(), 1, "one message: {err}");
    assert!(left.is_empty(), "left behind on the full disk: {left:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// `docker-squash ... | head -c 100`: the reader goes away; the run ends quietly (as
/// cat or gzip do), with the status a shell shows for SIGPIPE, and no panic.
#[test]
fn output_pipe_closed_early() {
    let d = workdir("pipe");
    let inp = d.join("in.tar");
    std::fs::write(&inp, legacy_archive(4 << 20)).unwrap();
    let mut child = Command::new(BIN)
        .arg("-i")
        .arg(&inp)
        .arg("-from")
        .arg("root")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let r = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(141), "{err}");
    assert_eq!(err, "", "nothing on stderr");
    std::fs::remove_dir_all(&d).unwrap();
}

/// A whole archive of 150 kB of zstd that expands to 4 GiB of zeros: refused while it is
/// spooled, before it fills the temporary folder.
#[test]
fn decompression_bomb_archive() {
    let total: u64 = (4 << 30) + (64 << 20);
    let mut z = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
    let head = header("zeros", (total - 1536) as usize);
    z.extend_from_slice(&((head.len() as u32) << 3).to_le_bytes()[..3]);
    z.extend_from_slice(&head);
    let n = (total - 512) / (128 << 10);
    for i in 0..n {
        let h = ((128u32 << 10) << 3) | (1 << 1) | u32::from(i + 1 == n);
        z.extend_from_slice(&h.to_le_bytes()[..3]);
        z.push(0);
    }
    fails("bomb", &z, &[], &["zstd-compressed", "decompression bomb"]);
}
