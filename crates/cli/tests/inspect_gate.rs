//! `inspect` as a CI gate, as dive's CI mode: `--fail-under-efficiency E` and
//! `--max-wasted N|P%` print the facts as always, then fail with exit 1 and one line
//! saying why when an image wastes more than allowed; exit 0 when it does not.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use squash_testkit::{dir, file, tar, whiteout, Image, Layer};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

/// 300 kB kept, 100 kB in a folder a later layer deletes: efficiency 0.75, 25% wasted.
/// Written once for all the tests (they run at the same time).
fn wasteful() -> &'static PathBuf {
    static ARCHIVE: OnceLock<PathBuf> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("inspect-gate");
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("wasteful.tar");
        let l0 = tar(&[
            dir("opt"),
            dir("opt/sdk"),
            file("opt/sdk/a", vec![1; 60_000]),
            file("opt/sdk/b", vec![2; 40_000]),
            file("keep", vec![3; 300_000]),
        ]);
        let l1 = tar(&[whiteout("opt/sdk")]);
        let img = Image::new(vec![Layer::plain(l0), Layer::plain(l1).by("/bin/sh -c rm -rf /opt/sdk")]);
        std::fs::write(&p, img.docker_save()).unwrap();
        p
    })
}

fn inspect(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).arg("inspect").args(args).arg(wasteful()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_table_shows_the_efficiency_and_the_waste_by_folder() {
    let (code, stdout, stderr) = inspect(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("  efficiency: 75.0% (as dive scores it: 100% is no waste)\n"), "{stdout}");
    assert!(stdout.contains("  wasted, by folder (--json lists their largest files):\n"), "{stdout}");
    assert!(stdout.contains("   100.0 kB  opt/sdk/  (2 files, written by #0, deleted by #1)\n"), "{stdout}");
    let (_, json, _) = inspect(&["--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let img = &v["images"][0];
    assert_eq!(img["efficiency"], 0.75);
    assert_eq!(img["wastedGroups"][0]["folder"], "opt/sdk/");
    assert_eq!(img["wastedGroups"][0]["files"], 2);
    assert_eq!(img["wastedGroups"][0]["largest"][0]["path"], "opt/sdk/a");
}

#[test]
fn an_image_under_the_efficiency_asked_for_fails_with_one_line_after_the_facts() {
    let (code, stdout, stderr) = inspect(&["--fail-under-efficiency", "0.9"]);
    assert_eq!(code, Some(1));
    assert!(stdout.contains("efficiency: 75.0%"), "the facts are printed either way");
    assert_eq!(
        stderr,
        "docker-squash: efficiency 75.0% is under the 90.0% asked for (--fail-under-efficiency): 100.0 kB wasted\n"
    );
    assert_eq!(inspect(&["--fail-under-efficiency=0.75"]).0, Some(0), "equal passes");
    assert_eq!(inspect(&["--json", "--fail-under-efficiency", "0.5"]).0, Some(0));
}

#[test]
fn more_waste_than_max_wasted_fails_in_bytes_or_in_percent() {
    let (code, _, stderr) = inspect(&["--max-wasted", "50kB"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr, "docker-squash: 100.0 kB wasted, more than the 50.0 kB allowed (--max-wasted)\n");
    assert_eq!(inspect(&["--max-wasted", "100000"]).0, Some(0));
    let (code, _, stderr) = inspect(&["--max-wasted", "10%"]);
    assert_eq!(code, Some(1));
    // Of the layers' uncompressed size, tar headers included.
    assert_eq!(
        stderr,
        "docker-squash: 100.0 kB wasted, 24.6% of the image's 406.0 kB, more than the 10% allowed (--max-wasted)\n"
    );
    assert_eq!(inspect(&["--max-wasted", "30%"]).0, Some(0));
}

#[test]
fn bad_gate_values_are_usage_errors() {
    let (code, _, stderr) = inspect(&["--fail-under-efficiency", "90"]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("docker-squash: --fail-under-efficiency takes a score from 0 to 1"), "{stderr}");
    let (code, _, stderr) = inspect(&["--max-wasted", "lots"]);
    assert_eq!(code, Some(2));
    assert!(stderr.starts_with("docker-squash: --max-wasted takes a size"), "{stderr}");
    let out = Command::new(BIN).args(["--max-wasted", "5%", "-from", "root"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("docker-squash: --max-wasted is for `inspect`, not for a squash\n"));
}
