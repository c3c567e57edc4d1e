//! Pull and push against Debian's real docker-registry (distribution 2.8, htpasswd login),
//! with images put in and read back by skopeo, the way users run them. Skipped (with the
//! reason printed) only when docker-registry or skopeo is not installed.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use squash_registry::{pull, push, ErrorKind, MediaTypes, Options, Reference};
use squash_testkit::Image;
use support::*;

fn opts(config: &std::path::Path) -> Options {
    Options { docker_config: Some(config.to_path_buf()), verbose: true, ..Options::default() }
}

fn reference(reg: &Registry, repo: &str) -> Reference {
    Reference::parse(&format!("{}/{repo}", reg.addr)).unwrap()
}

/// A registry holding `repo` (pushed by skopeo from a docker-save archive).
fn registry_with(name: &str, repo: &str) -> (Registry, Scratch, Scratch) {
    let reg = Registry::start(name);
    let dir = temp_dir(&format!("work-{name}"));
    let archive = write(&dir, "image.tar", &image(name, "amd64").docker_save());
    reg.skopeo_put(&archive, repo);
    let config = reg.docker_config(name, PASSWORD);
    (reg, dir, config)
}

#[test]
fn pull_writes_the_registrys_blobs_in_an_oci_layout() {
    if !tools("pull_writes_the_registrys_blobs_in_an_oci_layout") {
        return;
    }
    let (reg, dir, config) = registry_with("pull", "app/pulled:v1");
    let r = reference(&reg, "app/pulled:v1");
    let mut out = out_file(&dir, "pulled.tar");
    let mut log = Log::default();
    let pulled = pull(&r, &opts(&config), &mut out, &mut log.sink()).unwrap();

    let served = reg.skopeo_manifest("app/pulled:v1");
    let manifest: Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(pulled.digest, sha256(&served));
    assert_eq!(pulled.media_type, "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(pulled.layers, 3);

    let m = members(&mut out);
    assert_eq!(m["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#);
    let index: Value = serde_json::from_slice(&m["index.json"]).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["digest"], pulled.digest.as_str());
    assert_eq!(entries[0]["mediaType"], pulled.media_type.as_str());
    assert_eq!(entries[0]["annotations"]["org.opencontainers.image.ref.name"], "v1");
    assert_eq!(entries[0]["annotations"]["io.containerd.image.name"], format!("{}/app/pulled:v1", reg.addr));
    // The manifest as served, and every blob under its own digest, as big as the manifest says.
    assert_eq!(m[&format!("blobs/sha256/{}", &pulled.digest[7..])], served);
    let mut blobs = vec![manifest["config"].clone()];
    blobs.extend(manifest["layers"].as_array().unwrap().iter().cloned());
    let mut bytes = 0;
    for b in &blobs {
        let d = b["digest"].as_str().unwrap();
        let data = &m[&format!("blobs/sha256/{}", &d[7..])];
        assert_eq!(sha256(data), d);
        assert_eq!(data.len() as u64, b["size"].as_u64().unwrap());
        bytes += data.len() as u64;
    }
    assert_eq!(pulled.bytes, bytes);
    assert_eq!(m.len(), 2 + blobs.len() + 1);

    // The engine reads it (Docker media types in an OCI layout) and squashes it.
    let tar_bytes = std::fs::read(dir.join("pulled.tar")).unwrap();
    let (squashed, _) = squash_testkit::squash(&tar_bytes, squash_testkit::SquashFrom::Root).unwrap();
    assert!(members_of(&squashed).contains_key("index.json"));

    assert!(log.0.iter().any(|l| l.contains("/v2/app/pulled/manifests/v1")), "{}", log.text());
    assert_no_secret(&log.text());
}

#[test]
fn push_mounts_uploads_and_finds_existing_blobs() {
    if !tools("push_mounts_uploads_and_finds_existing_blobs") {
        return;
    }
    let (reg, dir, config) = registry_with("push", "src/app:1");
    let o = opts(&config);
    // What a user does: pull, squash, push the squashed image beside the original.
    let mut pulled = out_file(&dir, "pulled.tar");
    pull(&reference(&reg, "src/app:1"), &o, &mut pulled, &mut |_| {}).unwrap();
    let pulled_bytes = std::fs::read(dir.join("pulled.tar")).unwrap();
    let (squashed, _) = squash_testkit::squash(&pulled_bytes, squash_testkit::SquashFrom::Default).unwrap();
    let squashed_path = write(&dir, "squashed.tar", &squashed);
    let archive = std::fs::File::open(&squashed_path).unwrap();
    let ours = members_of(&squashed);
    let index: Value = serde_json::from_slice(&ours["index.json"]).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap().to_string();
    let manifest: Value = serde_json::from_slice(&ours[&format!("blobs/sha256/{}", &manifest_digest[7..])]).unwrap();
    let layers: Vec<String> =
        manifest["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_string()).collect();
    let original: Value = serde_json::from_slice(&reg.skopeo_manifest("src/app:1")).unwrap();
    let original_layers: Vec<&str> =
        original["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap()).collect();
    let kept: Vec<&String> = layers.iter().filter(|l| original_layers.contains(&l.as_str())).collect();
    assert!(!kept.is_empty() && kept.len() < layers.len(), "the squash keeps a base layer: {layers:?}");

    // 1. To another repository, mounting from the source: the kept layers are mounted.
    let before = reg.requests().len();
    let dest = reference(&reg, "dest/app:squashed");
    let mut log = Log::default();
    let src = reference(&reg, "src/app:1");
    let p = push(&archive, &dest, Some(&src), MediaTypes::Oci, &o, &mut log.sink()).unwrap();
    assert_eq!(p.digest, manifest_digest, "an OCI push keeps the manifest's bytes");
    let mounted: Vec<&String> = p.mounted.iter().map(|(d, _)| d).collect();
    assert_eq!(mounted, kept, "{}", log.text());
    assert_eq!(p.uploaded.len(), layers.len() - kept.len() + 1, "the new layer and the config: {p:?}");
    assert!(p.existing.is_empty());
    let reqs = &reg.requests()[before..];
    for d in &kept {
        let mount = format!("/v2/dest/app/blobs/uploads/?mount={d}&from=src%2Fapp");
        let alt = format!("/v2/dest/app/blobs/uploads/?mount={d}&from=src/app");
        assert!(
            reqs.iter().any(|(m, u, s)| m == "POST" && (u == &mount || u == &alt) && *s == 201),
            "no mount of {d}: {reqs:?}"
        );
    }
    // Nothing of a mounted layer was sent: the only PUTs of blobs carry the uploaded digests.
    for (m, u, _) in reqs {
        assert_ne!(m, "PATCH", "{u}");
        if m == "PUT" && u.contains("/blobs/uploads/") {
            assert!(!kept.iter().any(|d| u.contains(&d[7..])), "a mounted blob was uploaded: {u}");
        }
    }
    let served = reg.skopeo_manifest("dest/app:squashed");
    assert_eq!(sha256(&served), p.digest);
    assert_no_secret(&log.text());

    // 2. Again: everything is there.
    let again = push(&archive, &dest, Some(&src), MediaTypes::Oci, &o, &mut |_| {}).unwrap();
    assert_eq!(again.existing.len(), layers.len() + 1);
    assert!(again.uploaded.is_empty() && again.mounted.is_empty());

    // 3. Docker media types, to a repository of its own (no mount): all uploaded.
    let docker = reference(&reg, "docker/app:d");
    let d = push(&archive, &docker, None, MediaTypes::Docker, &o, &mut |_| {}).unwrap();
    assert_eq!(d.uploaded.len(), layers.len() + 1);
    let served: Value = serde_json::from_slice(&reg.skopeo_manifest("docker/app:d")).unwrap();
    assert_eq!(served["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(served["config"]["mediaType"], "application/vnd.docker.container.image.v1+json");
    for l in served["layers"].as_array().unwrap() {
        assert!(l["mediaType"].as_str().unwrap().starts_with("application/vnd.docker.image.rootfs.diff.tar"), "{l}");
    }

    // 4. And back: a pull of what was pushed has the same blobs.
    let mut back = out_file(&dir, "back.tar");
    let pulled = pull(&docker, &o, &mut back, &mut |_| {}).unwrap();
    assert_eq!(pulled.digest, d.digest);
    let m = members(&mut back);
    for l in &layers {
        assert_eq!(m[&format!("blobs/sha256/{}", &l[7..])], ours[&format!("blobs/sha256/{}", &l[7..])]);
    }
}

#[test]
fn auth_errors_name_the_host() {
    if !tools("auth_errors_name_the_host") {
        return;
    }
    let (reg, dir, _) = registry_with("auth", "a/b:1");
    let r = reference(&reg, "a/b:1");
    let wrong = reg.docker_config("wrong", "wrong-password");
    let mut log = Log::default();
    let e = pull(&r, &opts(&wrong), &mut out_file(&dir, "x.tar"), &mut log.sink()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(e.message.contains("login to") && e.message.contains(&reg.addr), "{e}");
    assert!(e.message.contains(&format!("docker login {}", reg.addr)), "{e}");
    assert!(e.message.contains("repository:a/b:pull"), "{e}");
    assert_no_secret(&format!("{e}\n{}", log.text()));

    let none = temp_dir("no-config");
    let e = pull(&r, &opts(&none), &mut out_file(&dir, "y.tar"), &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(e.message.starts_with(&format!("no credentials for {}: docker login {}", reg.addr, reg.addr)), "{e}");
}

#[test]
fn missing_repository_tag_and_digest() {
    if !tools("missing_repository_tag_and_digest") {
        return;
    }
    let (reg, dir, config) = registry_with("missing", "here/app:v1");
    let o = opts(&config);
    let mut out = out_file(&dir, "x.tar");
    let e = pull(&reference(&reg, "nothere/app:v1"), &o, &mut out, &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert_eq!(e.message, format!("repository nothere/app not found at {}", reg.addr));

    let e = pull(&reference(&reg, "here/app:v2"), &o, &mut out, &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert_eq!(e.message, format!("tag v2 not found in repository {}/here/app (it has: v1)", reg.addr));

    let digest = format!("sha256:{}", "ab".repeat(32));
    let e = pull(&reference(&reg, &format!("here/app@{digest}")), &o, &mut out, &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.starts_with(&format!("manifest {digest} not found in repository")), "{e}");
}

/// A registry whose `repo` is a two-platform index (amd64, arm64; different layers), put
/// there by `skopeo copy --all`; with its images and the digests of the index's manifests.
fn registry_with_index(name: &str, repo: &str) -> (Registry, Scratch, (Image, Image), BTreeMap<String, String>) {
    let reg = Registry::start(name);
    let dir = temp_dir(&format!("work-{name}"));
    let (amd, arm) = (image(&format!("{name}-amd"), "amd64"), image(&format!("{name}-arm"), "arm64"));
    let (archive, digests) = multi_platform_archive(&[("amd64", &amd), ("arm64", &arm)]);
    let path = write(&dir, "multi.tar", &archive);
    skopeo(&[
        "copy",
        "--quiet",
        "--all",
        "--dest-tls-verify=false",
        "--dest-creds",
        &format!("{USER}:{PASSWORD}"),
        &format!("oci-archive:{}", path.display()),
        &format!("docker://{}/{repo}", reg.addr),
    ]);
    (reg, dir, (amd, arm), digests)
}

#[test]
fn an_index_is_followed_to_the_platform() {
    if !tools("an_index_is_followed_to_the_platform") {
        return;
    }
    let (reg, dir, _, digests) = registry_with_index("index", "multi/app:latest");
    let config = reg.docker_config("index", PASSWORD);
    let r = reference(&reg, "multi/app");

    let mut o = opts(&config);
    o.platform = Some("linux/amd64".into());
    let mut out = out_file(&dir, "amd.tar");
    let p = pull(&r, &o, &mut out, &mut |_| {}).unwrap();
    assert_eq!(p.digest, digests["amd64"]);

    o.platform = Some("linux/arm64".into());
    let mut out = out_file(&dir, "arm.tar");
    let p = pull(&r, &o, &mut out, &mut |_| {}).unwrap();
    assert_eq!(p.digest, digests["arm64"]);
    assert_eq!(p.media_type, "application/vnd.oci.image.manifest.v1+json");
    let m = members(&mut out);
    let index: Value = serde_json::from_slice(&m["index.json"]).unwrap();
    assert_eq!(index["manifests"][0]["platform"]["architecture"], "arm64");
    let manifest: Value = serde_json::from_slice(&m[&format!("blobs/sha256/{}", &p.digest[7..])]).unwrap();
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let cfg: Value = serde_json::from_slice(&m[&format!("blobs/sha256/{}", &config_digest[7..])]).unwrap();
    assert_eq!(cfg["architecture"], "arm64");

    o.platform = Some("linux/s390x".into());
    let e = pull(&r, &o, &mut out_file(&dir, "none.tar"), &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("has no image for linux/s390x (its index has: linux/amd64, linux/arm64)"), "{e}");
    assert!(e.message.contains(&format!("{}/multi/app:latest", reg.addr)), "{e}");
}

#[test]
fn a_push_never_narrows_a_multi_platform_tag_unless_the_platforms_are_named() {
    let name = "a_push_never_narrows_a_multi_platform_tag_unless_the_platforms_are_named";
    if !tools(name) {
        return;
    }
    let (reg, dir, _, digests) = registry_with_index("narrow", "multi/app:1");
    let config = reg.docker_config("narrow", PASSWORD);
    let r = reference(&reg, "multi/app:1");
    let mut out = out_file(&dir, "amd.tar");
    let mut amd_only = opts(&config);
    amd_only.platform = Some("linux/amd64".into());
    pull(&r, &amd_only, &mut out, &mut |_| {}).unwrap(); // linux/amd64 alone
    let before = reg.skopeo_manifest("multi/app:1");
    let asked = reg.requests().len();

    let e = push(&out, &r, None, MediaTypes::Oci, &opts(&config), &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Usage, "{e}");
    assert!(e.message.contains("is an index of 2 platforms (linux/amd64, linux/arm64)"), "{e}");
    assert!(e.message.contains("on linux/arm64 without an image"), "{e}");
    assert!(e.message.contains("-platform linux/amd64"), "{e}");
    assert_eq!(reg.skopeo_manifest("multi/app:1"), before, "the tag keeps both platforms");
    let sent: Vec<_> = reg.requests()[asked..].iter().filter(|(m, _, _)| m != "GET" && m != "HEAD").cloned().collect();
    assert!(sent.is_empty(), "nothing is sent before the refusal: {sent:?}");

    // A new tag takes it; so does the tag itself once -platform says it is to hold amd64 alone.
    push(&out, &reference(&reg, "multi/app:amd"), None, MediaTypes::Oci, &opts(&config), &mut |_| {}).unwrap();
    let mut named = opts(&config);
    named.platform = Some("linux/amd64".into());
    let pushed = push(&out, &r, None, MediaTypes::Oci, &named, &mut |_| {}).unwrap();
    assert_eq!(pushed.digest, digests["amd64"]);
    assert_eq!(sha256(&reg.skopeo_manifest("multi/app:1")), digests["amd64"]);
}

/// The filesystem of the one image in an OCI archive skopeo wrote.
fn filesystem_of_oci(bytes: &[u8]) -> squash_testkit::Fs {
    let m = members_of(bytes);
    let blob = |d: &Value| m[&format!("blobs/sha256/{}", &d.as_str().unwrap()[7..])].clone();
    let index: Value = serde_json::from_slice(&m["index.json"]).unwrap();
    let manifest: Value = serde_json::from_slice(&blob(&index["manifests"][0]["digest"])).unwrap();
    let layers: Vec<Vec<u8>> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| squash_testkit::decompress(&blob(&l["digest"])))
        .collect();
    squash_testkit::Fs::from_layers(&layers)
}

#[test]
fn a_multi_platform_tag_is_pulled_whole_squashed_per_platform_and_pushed_back_as_an_index() {
    let name = "a_multi_platform_tag_is_pulled_whole_squashed_per_platform_and_pushed_back_as_an_index";
    if !tools(name) {
        return;
    }
    let (reg, dir, (amd, arm), digests) = registry_with_index("whole", "multi/app:1");
    let config = reg.docker_config("whole", PASSWORD);
    let r = reference(&reg, "multi/app:1");

    // Pulled whole: the index as served, both platforms, the layers of each once.
    let mut out = out_file(&dir, "pulled.tar");
    let p = pull(&r, &opts(&config), &mut out, &mut |_| {}).unwrap();
    assert_eq!(p.digest, digests["index"]);
    assert_eq!(p.platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(p.layers, 6);
    let pulled = members(&mut out);
    assert!(pulled.contains_key(&format!("blobs/sha256/{}", &digests["arm64"][7..])));
    let blob_gets = reg.requests().iter().filter(|(m, u, _)| m == "GET" && u.contains("/blobs/")).count();
    assert_eq!(blob_gets, 8, "two configs and six layers, each fetched once");

    // Squashed (every platform, from root) and pushed over its own tag: an index again.
    let bytes = std::fs::read(dir.join("pulled.tar")).unwrap();
    let (squashed, report) = squash_testkit::squash(&bytes, squash_testkit::SquashFrom::Root).unwrap();
    assert_eq!(report.platforms.len(), 2);
    let squashed_path = write(&dir, "squashed.tar", &squashed);
    let file = std::fs::File::open(&squashed_path).unwrap();
    let pushed = push(&file, &r, None, MediaTypes::Docker, &opts(&config), &mut |_| {}).unwrap();
    let served = reg.skopeo_manifest("multi/app:1");
    assert_eq!(sha256(&served), pushed.digest);
    let index: Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");

    // Each platform, pulled back by skopeo, has its own filesystem in one layer.
    for (arch, img) in [("amd64", &amd), ("arm64", &arm)] {
        let got = dir.join(format!("back-{arch}.tar"));
        skopeo(&[
            "copy",
            "--quiet",
            "--override-arch",
            arch,
            "--src-tls-verify=false",
            "--src-creds",
            &format!("{USER}:{PASSWORD}"),
            &format!("docker://{}/multi/app:1", reg.addr),
            &format!("oci-archive:{}", got.display()),
        ]);
        let want = squash_testkit::Fs::from_layers(&img.layers.iter().map(|l| l.tar.clone()).collect::<Vec<_>>());
        squash_testkit::assert_same_fs(&want, &filesystem_of_oci(&std::fs::read(&got).unwrap()), arch);
    }
}
