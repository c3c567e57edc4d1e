//! The CLI on a multi-platform archive: an index out, and what the input's index named
//! that the output leaves out (attestations, platforms without their blobs) said on stderr
//! without -verbose, one line each; the Docker layout, which holds one image, refused
//! before anything is written.

use std::process::Command;

use squash_testkit::{dir, file, tar, Image, IndexArchive, Layer, Platform};

const BIN: &str = env!("CARGO_BIN_EXE_docker-squash");

fn image(arch: &str) -> Image {
    Image::new(vec![
        Layer::plain(tar(&[dir("etc"), file("etc/os", format!("base {arch}"))]))
            .by("/bin/sh -c #(nop) ADD file:01 in / "),
        Layer::plain(tar(&[file("etc/os", format!("top {arch}"))])),
    ])
}

#[test]
fn what_an_index_leaves_out_is_said_without_verbose_and_the_output_is_an_index() {
    let folder = tempfile::tempdir().unwrap();
    let mut spec = IndexArchive::new(vec![
        Platform::new("linux/amd64", image("amd64")),
        Platform::new("linux/arm64/v8", image("arm64")),
    ]);
    spec.attestations = true;
    spec.absent = vec!["linux/s390x".into()];
    let input = folder.path().join("multi.tar");
    std::fs::write(&input, spec.build()).unwrap();
    let output = folder.path().join("out.tar");
    let run = Command::new(BIN).args(["-from", "root", "-i"]).arg(&input).arg("-o").arg(&output).output().unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{said}");
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.contains("attestation manifests dropped")).count(), 1, "{said}");
    assert_eq!(lines.iter().filter(|l| l.contains("left out") && l.contains("linux/s390x")).count(), 1, "{said}");
    let out = squash_testkit::read_index_output(&std::fs::read(&output).unwrap(), &["test/multi:1".to_string()]);
    assert_eq!(out.platforms.len(), 2);

    let docker = folder.path().join("docker.tar");
    let run = Command::new(BIN).args(["-format", "docker", "-i"]).arg(&input).arg("-o").arg(&docker).output().unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(said.contains("-platform linux/amd64"), "{said}");
    assert!(!docker.exists(), "nothing is written");
}
