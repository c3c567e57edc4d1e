//! `-o` naming a device or a pipe (`-o /dev/null` to time a squash, a FIFO read by another
//! program) is written to directly: a temporary file renamed over it would replace the
//! device itself (as root, /dev/null became a regular file that every later reader read).

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Stdio};

use squash_testkit::{file, tar, Image, Layer};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

fn input(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("in.tar");
    std::fs::write(&p, Image::new(vec![Layer::plain(tar(&[file("a", vec![7u8; 100_000])]))]).docker_save()).unwrap();
    p
}

fn folder(name: &str) -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("device-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn dev_null_stays_a_device() {
    let d = folder("null");
    let out =
        Command::new(BIN).args(["-from", "root", "-i"]).arg(input(&d)).args(["-o", "/dev/null"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
    let leftovers: Vec<_> = std::fs::read_dir("/dev")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(".null.") && n.ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "a temporary file was left in /dev");
}

#[test]
fn a_fifo_gets_the_archive_as_it_is_written() {
    let d = folder("fifo");
    let fifo = d.join("out.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let child = Command::new(BIN)
        .args(["-from", "root", "-i"])
        .arg(input(&d))
        .arg("-o")
        .arg(&fifo)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut got = Vec::new();
    std::fs::File::open(&fifo).unwrap().read_to_end(&mut got).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still a FIFO");
    let file = d.join("out.tar");
    let by_file = Command::new(BIN).args(["-from", "root", "-i"]).arg(input(&d)).arg("-o").arg(&file).output().unwrap();
    assert!(by_file.status.success());
    assert_eq!(got, std::fs::read(&file).unwrap(), "the same archive as to a file");
}

#[test]
fn a_folder_is_refused_at_once() {
    let d = folder("dir");
    let out = Command::new(BIN).args(["-from", "root", "-i"]).arg(input(&d)).arg("-o").arg(&d).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is a folder; give the file to write"), "{err}");
}
