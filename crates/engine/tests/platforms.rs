//! Multi-platform images: an index in gives an index out, every chosen platform squashed by
//! the same rule on its own layers and checked against the reference filesystem; what the
//! input's index names but cannot be squashed (attestations, absent blobs) is left out and
//! said; shared blobs are written once; `-platform` chooses.

use serde_json::{json, Value};
use squash_engine::{ArchiveFormat, ErrorCode, SquashOptions};
use squash_testkit::*;

/// A platform's image: a base layer (made by `ADD file:`), a layer that deletes and adds,
/// and a top layer; `arch` is in every file's content, so platforms differ.
fn image(arch: &str) -> Image {
    Image::new(vec![
        Layer::plain(tar(&[dir("etc"), file("etc/os", format!("base {arch}")), file("tmp/big", "x".repeat(4000))]))
            .by("/bin/sh -c #(nop) ADD file:0123 in / "),
        Layer::gzip(tar(&[whiteout("tmp/big"), file("bin/app", format!("app for {arch}"))])),
        Layer::plain(tar(&[file("etc/os", format!("top {arch}"))])),
    ])
}

fn two() -> Vec<Platform> {
    vec![
        Platform::new("linux/amd64", image("amd64")).annotated(json!({"com.example.note": "x86"})),
        Platform::new("linux/arm64/v8", image("arm64")),
    ]
}

fn opts(from: SquashFrom) -> SquashOptions {
    SquashOptions { from, ..Default::default() }
}

/// Squashes `archive` (which must give an index), also with scratch space and without
/// verifying (the same bytes each time), and reads the index back.
fn squash_index(archive: &[u8], o: &SquashOptions) -> (IndexOut, squash_engine::SquashReport) {
    let (bytes, report) = squash_with(archive, o).unwrap_or_else(|e| panic!("squash failed: {e} ({:?})", e.code));
    let (staged, _) = squash_to_scratch(archive, o).unwrap();
    assert!(staged == bytes, "staging the new layers in scratch space changed the output");
    let (trusted, _) = squash_with(archive, &SquashOptions { verify: false, ..o.clone() }).unwrap();
    assert!(trusted == bytes, "not verifying changed the output");
    (read_index_output(&bytes, &report.tags), report)
}

fn platforms_of(out: &IndexOut) -> Vec<&str> {
    out.platforms.iter().map(|p| p.platform.as_str()).collect()
}

#[test]
fn every_platform_of_an_index_is_squashed_into_one_new_index() {
    let spec = IndexArchive::new(two());
    let (out, report) = squash_index(&spec.build(), &opts(SquashFrom::Root));
    assert_eq!(platforms_of(&out), ["linux/amd64", "linux/arm64/v8"]);
    check_platforms(&spec.platforms, &out, &[]);
    for p in &out.platforms {
        assert_eq!(p.layers.len(), 1, "{}: one layer from root", p.platform);
    }
    // The index keeps its annotations, each descriptor its platform and annotations.
    assert_eq!(out.index["annotations"], spec.annotations.clone().unwrap());
    assert_eq!(out.platforms[0].descriptor["annotations"], json!({"com.example.note": "x86"}));
    assert_eq!(out.platforms[1].descriptor["platform"], platform_json("linux/arm64/v8"));
    assert_eq!(out.top["manifests"][0]["annotations"]["io.containerd.image.name"], "docker.io/test/multi:1");
    // The report: the index's digest, and each platform's own squash.
    assert_eq!(report.image_id, out.index_digest);
    assert_eq!(report.manifest_digest.as_deref(), Some(out.index_digest.as_str()));
    assert_eq!(report.tags, ["docker.io/test/multi:1"], "the containerd name, as for one image");
    assert_eq!(report.platforms.len(), 2);
    assert_eq!((report.layers_before, report.layers_after), (6, 2));
    for (p, w) in report.platforms.iter().zip(&out.platforms) {
        assert_eq!(p.platform, w.platform);
        assert_eq!(p.report.manifest_digest.as_deref(), w.descriptor["digest"].as_str());
        assert_eq!(p.report.image_id, digest(&w.config_bytes));
    }
    assert!(report.left_out.is_empty(), "{:?}", report.left_out);
    // manifest.json names one platform's image (amd64), for loaders that read only it.
    let m: Value = serde_json::from_slice(&out.members["manifest.json"]).unwrap();
    assert_eq!(m[0]["Config"], format!("blobs/sha256/{}", sha256_hex(&out.platforms[0].config_bytes)));
}

#[test]
fn the_default_squash_point_is_found_for_each_platform_on_its_own() {
    let mut arm = image("arm64");
    // arm64's base is two layers: its `ADD file:` is layer 1.
    arm.layers[0].created_by = Some("/bin/sh -c #(nop) COPY dir:aa in / ".into());
    arm.layers[1].created_by = Some("/bin/sh -c #(nop) ADD file:4567 in / ".into());
    let spec =
        IndexArchive::new(vec![Platform::new("linux/amd64", image("amd64")), Platform::new("linux/arm64/v8", arm)]);
    let (out, report) = squash_index(&spec.build(), &opts(SquashFrom::Default));
    check_platforms(&spec.platforms, &out, &[("linux/amd64", 1), ("linux/arm64/v8", 2)]);
    let kept: Vec<Option<usize>> = report.platforms.iter().map(|p| p.report.from.layer_index).collect();
    assert_eq!(kept, [Some(0), Some(1)]);
    assert_eq!(out.platforms[0].layers.len(), 2);
    assert_eq!(out.platforms[1].layers.len(), 3);
    assert_eq!(report.from.from, "per platform");
    assert!(report.from.reason.contains("linux/arm64/v8: keeping layer 1"), "{}", report.from.reason);
}

#[test]
fn a_shared_base_layer_and_identical_squashed_layers_are_written_once() {
    // The same base on both platforms; above it the same files: the squashed layers are
    // the same bytes too, and only the configs (architecture) differ.
    let (amd, arm) = (image("same"), image("same"));
    let base = amd.layers[0].diff_id.clone();
    let spec = IndexArchive::new(vec![Platform::new("linux/amd64", amd), Platform::new("linux/arm64/v8", arm)]);
    let (out, report) = squash_index(&spec.build(), &opts(SquashFrom::Layer(base.clone())));
    check_platforms(&spec.platforms, &out, &[("linux/amd64", 1), ("linux/arm64/v8", 1)]);
    let layer_digests = |p: &PlatformOut| -> Vec<String> {
        p.manifest["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(layer_digests(&out.platforms[0]), layer_digests(&out.platforms[1]));
    assert_ne!(out.platforms[0].config_bytes, out.platforms[1].config_bytes);
    // Blobs: 2 layers + 2 configs + 2 manifests + the index, each member once (read_index_output
    // refuses a member written twice).
    let blobs = out.members.keys().filter(|n| n.strip_prefix("blobs/sha256/").is_some_and(|h| !h.is_empty())).count();
    assert_eq!(blobs, 7, "{:?}", out.order);
    assert_eq!(report.platforms[0].report.new_layer_digest, report.platforms[1].report.new_layer_digest);
}

#[test]
fn from_a_layer_id_a_platform_lacks_is_an_error_naming_it_and_platform_chooses_the_others() {
    let spec = IndexArchive::new(two());
    let amd_base = spec.platforms[0].image.layers[0].diff_id.clone();
    let e = squash_with(&spec.build(), &opts(SquashFrom::Layer(amd_base.clone()))).unwrap_err();
    assert_eq!(e.code, ErrorCode::FromChoice);
    assert!(e.message.contains("of linux/amd64 but not of linux/arm64/v8"), "{}", e.message);
    assert!(e.message.contains("-platform linux/amd64"), "{}", e.message);
    // With -platform leaving arm64 out: one image, squashed from that layer.
    let o = SquashOptions { platform: Some("linux/amd64".into()), ..opts(SquashFrom::Layer(amd_base)) };
    let (bytes, report) = squash_with(&spec.build(), &o).unwrap();
    assert!(report.platforms.is_empty());
    let written = read_output(&bytes);
    check_oci_layout(&written, &report.tags);
    assert_eq!(written.config["architecture"], "amd64");
    assert_eq!(written.layers.len(), 2);
    // A layer no platform has: said so.
    let e = squash_with(&spec.build(), &opts(SquashFrom::Layer("feedface".into()))).unwrap_err();
    assert_eq!(e.code, ErrorCode::FromChoice);
    assert!(e.message.contains("no platform of the index"), "{}", e.message);
}

#[test]
fn platform_picks_variants_lists_and_all_of_three_platforms() {
    let three = vec![
        Platform::new("linux/amd64", image("amd64")),
        Platform::new("linux/arm64/v8", image("arm64")),
        Platform::new("linux/arm/v7", image("arm")),
    ];
    let spec = IndexArchive::new(three);
    let archive = spec.build();
    for (asked, want) in [
        (None, vec!["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]),
        (Some("all"), vec!["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]),
        (Some("linux/arm/v7,linux/amd64"), vec!["linux/amd64", "linux/arm/v7"]),
    ] {
        let o = SquashOptions { platform: asked.map(str::to_string), ..opts(SquashFrom::Root) };
        let (out, _) = squash_index(&archive, &o);
        assert_eq!(platforms_of(&out), want, "-platform {asked:?}");
        check_platforms(&spec.platforms, &out, &[]);
    }
    // One platform, by its name without the variant: one image, as before.
    for asked in ["linux/arm64", "linux/arm64/v8"] {
        let o = SquashOptions { platform: Some(asked.into()), ..opts(SquashFrom::Root) };
        let (bytes, report) = squash_with(&archive, &o).unwrap();
        let written = read_output(&bytes);
        check_oci_layout(&written, &report.tags);
        assert_eq!(
            (written.config["architecture"].as_str(), written.config["variant"].as_str()),
            (Some("arm64"), Some("v8"))
        );
    }
    let o = SquashOptions { platform: Some("linux/s390x".into()), ..opts(SquashFrom::Root) };
    let e = squash_with(&archive, &o).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImageChoice);
    assert!(e.message.contains("linux/s390x"), "{}", e.message);
}

#[test]
fn attestation_manifests_are_dropped_and_counted() {
    let mut spec = IndexArchive::new(two());
    spec.attestations = true;
    let (out, report) = squash_index(&spec.build(), &opts(SquashFrom::Root));
    assert_eq!(platforms_of(&out), ["linux/amd64", "linux/arm64/v8"]);
    check_platforms(&spec.platforms, &out, &[]);
    assert_eq!(report.left_out.len(), 1, "{:?}", report.left_out);
    let l = &report.left_out[0];
    assert_eq!((l.kind.as_str(), l.count), ("attestation", 2));
    assert!(l.reason.contains("2 attestation manifests dropped"), "{}", l.reason);
    assert!(!out.members.values().any(|b| b.windows(7).any(|w| w == b"in-toto")), "no attestation blob is written");
}

#[test]
fn an_index_named_by_index_json_itself_or_nested_under_a_tag_is_followed() {
    for nested in [false, true] {
        let mut spec = IndexArchive::new(two());
        spec.nested = nested;
        let (out, report) = squash_index(&spec.build(), &opts(SquashFrom::Root));
        assert_eq!(platforms_of(&out), ["linux/amd64", "linux/arm64/v8"], "nested {nested}");
        check_platforms(&spec.platforms, &out, &[]);
        assert_eq!(out.index["annotations"], spec.annotations.clone().unwrap(), "nested {nested}");
        assert!(report.tags[0].ends_with("test/multi:1"), "nested {nested}: {:?}", report.tags);
    }
}

#[test]
fn a_docker25_save_of_two_platforms_gives_an_index() {
    let mut spec = IndexArchive::new(two());
    spec.docker_manifest = true;
    let (out, _) = squash_index(&spec.build(), &opts(SquashFrom::Root));
    assert_eq!(platforms_of(&out), ["linux/amd64", "linux/arm64/v8"]);
    check_platforms(&spec.platforms, &out, &[]);
}

#[test]
fn platforms_whose_blobs_are_absent_are_left_out_named_and_an_error_only_when_asked_for() {
    let mut spec = IndexArchive::new(two());
    spec.absent = vec!["linux/ppc64le".into(), "linux/s390x".into()];
    let archive = spec.build();
    let (out, report) = squash_index(&archive, &opts(SquashFrom::Root));
    assert_eq!(platforms_of(&out), ["linux/amd64", "linux/arm64/v8"]);
    check_platforms(&spec.platforms, &out, &[]);
    let l = &report.left_out[0];
    assert_eq!(
        (l.kind.as_str(), l.count, l.platforms.clone()),
        ("absent", 2, vec!["linux/ppc64le".into(), "linux/s390x".into()])
    );
    assert!(l.reason.contains("linux/ppc64le, linux/s390x"), "{}", l.reason);
    let o = SquashOptions { platform: Some("linux/amd64,linux/s390x".into()), ..opts(SquashFrom::Root) };
    let e = squash_with(&archive, &o).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImageChoice);
    assert!(
        e.message.contains("`linux/s390x` is named by the index, but its blobs are not in the archive"),
        "{}",
        e.message
    );
    // Platforms -platform did not ask for are not "left out": they were not wanted.
    for (platform, left) in [("linux/amd64,linux/arm64", 0), ("linux/amd64", 0), ("all", 2)] {
        let o = SquashOptions { platform: Some(platform.into()), ..opts(SquashFrom::Root) };
        let (_, report) = squash_with(&archive, &o).unwrap();
        let absent = report.left_out.iter().filter(|l| l.kind == "absent").map(|l| l.count).sum::<usize>();
        assert_eq!(absent, left, "-platform {platform}: {:?}", report.left_out);
    }
}

#[test]
fn the_docker_layout_cannot_hold_an_index_and_says_to_choose_a_platform() {
    let spec = IndexArchive::new(two());
    let o = SquashOptions { format: ArchiveFormat::Docker, ..opts(SquashFrom::Root) };
    let e = squash_with(&spec.build(), &o).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImageChoice);
    assert!(e.message.contains("-platform linux/amd64"), "{}", e.message);
    let o = SquashOptions { platform: Some("linux/arm64".into()), ..o };
    let (bytes, _) = squash_with(&spec.build(), &o).unwrap();
    assert_eq!(read_output(&bytes).config["architecture"], "arm64");
}

/// A containerd export of hello-world: an index of 11 platforms, only amd64's blobs in it.
#[test]
fn a_real_partly_pulled_index_squashes_its_one_present_platform_and_names_the_rest() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/oras-go/hello-world.tar");
    let Ok(archive) = std::fs::read(path) else {
        eprintln!("skipped: {path} is not here");
        return;
    };
    let (bytes, report) = squash_with(&archive, &opts(SquashFrom::Root)).unwrap();
    let written = read_output(&bytes);
    check_oci_layout(&written, &report.tags);
    assert_eq!(written.config["architecture"], "amd64");
    let absent = report.left_out.iter().find(|l| l.kind == "absent").expect("the absent platforms are said");
    assert_eq!(absent.count, 10, "{:?}", absent.platforms);
    assert!(absent.platforms.iter().any(|p| p == "linux/arm64/v8"), "{:?}", absent.platforms);
    let o = SquashOptions { platform: Some("linux/arm64".into()), ..opts(SquashFrom::Root) };
    let e = squash_with(&archive, &o).unwrap_err();
    assert!(e.message.contains("its blobs are not in the archive"), "{}", e.message);
}
