//! Every squash rule, pinned on synthetic images: each test builds layers, squashes, and
//! checks (in `squash_testkit::run_archive`) that the squashed image shows exactly the
//! filesystem the original showed, applied with an independent reference of Docker's
//! rules, plus what the squashed layer itself must hold.

use serde_json::{json, Value};
use squash_engine::{ArchiveFormat, ErrorCode, SquashOptions};
use squash_testkit::*;

fn layer_id(spec: &Image, k: usize) -> SquashFrom {
    SquashFrom::Layer(spec.layers[k].diff_id.clone())
}

fn whiteouts(s: &Squashed) -> Vec<String> {
    s.new_layer
        .iter()
        .filter(|e| e.clean().rsplit(|&b| b == b'/').next().unwrap_or(b"").starts_with(b".wh."))
        .map(|e| show(&e.clean()))
        .collect()
}

fn content(fs: &Fs, p: &str) -> Vec<u8> {
    match &fs.get(p).unwrap_or_else(|| panic!("{p} is missing; have {:?}", fs.paths())).kind {
        NKind::File(d) => d.clone(),
        k => panic!("{p} is {k:?}, not a file"),
    }
}

// ------------------------------------------------------------------ whiteouts and opaque

#[test]
fn file_whiteouts_delete_files_and_whole_subtrees() {
    let layers = vec![
        vec![dir("etc"), file("etc/a", "a"), file("etc/b", "b"), dir("d"), dir("d/x"), file("d/x/y", "y")],
        vec![whiteout("etc/a"), whiteout("d")],
        vec![file("top", "t")],
    ];
    for s in run_all_points(&layers) {
        assert!(s.after.get("etc/a").is_none() && s.after.get("d").is_none() && s.after.get("d/x/y").is_none());
        assert_eq!(content(&s.after, "etc/b"), b"b");
    }
    let root = run_layers(&layers, SquashFrom::Root);
    assert!(whiteouts(&root).is_empty(), "from root nothing is below, no whiteout is needed: {:?}", whiteouts(&root));
    assert!(!root.has("etc/a") && !root.has("d/x/y"));
}

#[test]
fn whiteout_of_a_file_in_a_kept_layer_stays_a_whiteout() {
    let spec = Image::from_entries(&[
        vec![dir("etc"), file("etc/passwd", "root"), file("etc/shadow", "x")],
        vec![whiteout("etc/shadow")],
        vec![file("etc/new", "n")],
    ]);
    let s = run(&spec, layer_id(&spec, 0));
    assert_eq!(whiteouts(&s), vec!["etc/.wh.shadow".to_string()]);
    assert!(s.after.get("etc/shadow").is_none());
    assert_eq!(s.report.layers_after, 2);
}

#[test]
fn whiteouts_that_hide_nothing_below_are_dropped() {
    let spec = Image::from_entries(&[
        vec![file("kept", "k")],
        vec![file("t", "tmp"), dir("tdir"), file("tdir/f", "f"), whiteout("never-existed")],
        vec![whiteout("t"), whiteout("tdir"), whiteout("also/never")],
    ]);
    for from in [layer_id(&spec, 0), SquashFrom::Root] {
        let s = run(&spec, from);
        assert!(whiteouts(&s).is_empty(), "whiteouts of nothing: {:?}", whiteouts(&s));
        assert!(!s.has("t") && !s.has("tdir") && !s.has("tdir/f"), "{:?}", s.new_paths());
    }
}

#[test]
fn opaque_directory_hides_lower_content_but_keeps_its_own_layer() {
    let layers = vec![
        vec![dir("d"), file("d/a", "a"), dir("d/sub"), file("d/sub/b", "b"), file("outside", "o")],
        vec![dir("d"), opaque("d"), file("d/c", "c")],
        vec![file("later", "l")],
    ];
    for s in run_all_points(&layers) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("d/")).collect();
        assert_eq!(under, vec!["d/c".to_string()]);
        assert_eq!(content(&s.after, "outside"), b"o");
    }
    let spec = Image::from_entries(&layers);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(s.has("d/.wh..wh..opq"), "the opaque marker must hide the kept d/a: {:?}", s.new_paths());
    let root = run(&spec, SquashFrom::Root);
    assert!(!root.has("d/.wh..wh..opq") && !root.has("d/a"), "{:?}", root.new_paths());
}

#[test]
fn opaque_marker_after_the_layers_own_entries_keeps_them() {
    let layers = vec![
        vec![dir("d"), file("d/old", "old"), dir("d/keep"), file("d/keep/old2", "x")],
        vec![dir("d"), file("d/new", "new"), dir("d/keep"), file("d/keep/new2", "y"), opaque("d")],
    ];
    for s in run_all_points(&layers) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("d/")).collect();
        assert_eq!(under, vec!["d/keep".to_string(), "d/keep/new2".to_string(), "d/new".to_string()]);
    }
}

#[test]
fn nested_opaque_directories() {
    let layers = vec![
        vec![dir("a"), file("a/g1", "g1"), dir("a/b"), dir("a/b/c"), file("a/b/c/f1", "f1"), file("a/b/f0", "f0")],
        vec![dir("a/b"), opaque("a/b"), file("a/b/n1", "n1"), dir("a/b/c"), opaque("a/b/c"), file("a/b/c/m1", "m1")],
        vec![file("a/g2", "g2")],
        vec![dir("a"), opaque("a"), dir("a/b"), file("a/b/n2", "n2")],
    ];
    for s in run_all_points(&layers) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("a")).collect();
        assert_eq!(under, vec!["a", "a/b", "a/b/n2"]);
    }
    // The opaque markers of layer 1 alone.
    let upto2: Vec<_> = layers[..3].to_vec();
    for s in run_all_points(&upto2) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("a")).collect();
        assert_eq!(under, vec!["a", "a/b", "a/b/c", "a/b/c/m1", "a/b/n1", "a/g1", "a/g2"]);
    }
}

#[test]
fn repeated_opaque_markers_on_one_directory() {
    let layers = vec![
        vec![dir("d"), file("d/base", "b")],
        vec![dir("d"), opaque("d"), file("d/x", "x")],
        vec![dir("d"), opaque("d"), file("d/y", "y")],
        vec![file("d/z", "z")],
        vec![dir("d"), opaque("d")],
        vec![file("d/last", "l")],
    ];
    for s in run_all_points(&layers) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("d/")).collect();
        assert_eq!(under, vec!["d/last"]);
    }
    for s in run_all_points(&layers[..4]) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("d/")).collect();
        assert_eq!(under, vec!["d/y", "d/z"]);
    }
}

#[test]
fn opaque_marker_on_a_missing_directory_makes_it() {
    let layers = vec![vec![file("f", "f")], vec![opaque("made/here"), file("made/here/x", "x")]];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("made/here").unwrap().kind, NKind::Dir);
        assert_eq!(content(&s.after, "made/here/x"), b"x");
    }
}

#[test]
fn deleted_then_recreated_paths() {
    let layers = vec![
        vec![file("f", "one"), dir("d"), file("d/old", "old"), dir("d/sub"), file("d/sub/s", "s")],
        vec![whiteout("f"), whiteout("d")],
        vec![file("f", "two"), dir("d"), file("d/new", "new")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(content(&s.after, "f"), b"two");
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("d/")).collect();
        assert_eq!(under, vec!["d/new"]);
    }
    let spec = Image::from_entries(&layers);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(s.has("d/.wh..wh..opq"), "a recreated directory over a kept one must be opaque: {:?}", s.new_paths());
    assert!(!whiteouts(&s).contains(&".wh.f".to_string()), "a recreated file needs no whiteout: {:?}", whiteouts(&s));
    // From layer 1 the directory is new above the kept layers: no marker.
    let s = run(&spec, layer_id(&spec, 1));
    assert!(whiteouts(&s).is_empty(), "{:?}", whiteouts(&s));
}

#[test]
fn recreated_dir_over_kept_dir_gets_an_opaque_marker() {
    // Deleted by a whiteout, replaced by a file, or replaced by a symlink, then a directory again.
    for removal in [vec![whiteout("d")], vec![file("d", "now a file")], vec![symlink("d", "/tmp")]] {
        let spec = Image::from_entries(&[
            vec![dir("d"), file("d/kept-below", "k"), dir("d/deep"), file("d/deep/x", "x")],
            removal,
            vec![dir("d"), dir("d/deep"), file("d/deep/fresh", "f")],
        ]);
        let s = run(&spec, layer_id(&spec, 0));
        assert!(s.has("d/.wh..wh..opq"), "{:?}", s.new_paths());
        assert!(s.after.get("d/kept-below").is_none() && s.after.get("d/deep/x").is_none());
        assert_eq!(content(&s.after, "d/deep/fresh"), b"f");
    }
    // Made implicitly (only a file below it is written) after the deletion.
    let spec = Image::from_entries(&[
        vec![dir("d").mode(0o700), file("d/k", "k")],
        vec![whiteout("d")],
        vec![file("d/n", "n")],
    ]);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(s.has("d/.wh..wh..opq"), "{:?}", s.new_paths());
    assert_eq!(s.after.get("d").unwrap().mode, 0o755, "an implicit directory is 0755");
}

// ------------------------------------------------------------------ type changes

#[test]
fn type_change_dir_to_file() {
    let layers = vec![
        vec![dir("p"), file("p/x", "x"), dir("p/y"), file("p/y/z", "z")],
        vec![file("p", "file now")],
        vec![file("q", "q")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(content(&s.after, "p"), b"file now");
        assert!(s.after.paths().iter().all(|p| !p.starts_with("p/")));
    }
}

#[test]
fn type_change_file_to_dir() {
    let layers =
        vec![vec![file("p", "file"), file("other", "o")], vec![dir("p"), file("p/x", "x")], vec![file("p/y", "y")]];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("p").unwrap().kind, NKind::Dir);
        assert_eq!(content(&s.after, "p/x"), b"x");
        assert_eq!(content(&s.after, "p/y"), b"y");
    }
}

#[test]
fn type_change_file_to_symlink_and_back() {
    let layers = vec![
        vec![file("s", "file"), file("t", "t")],
        vec![symlink("s", "/etc/passwd"), symlink("t", "s")],
        vec![file("t", "file again")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("s").unwrap().kind, NKind::Symlink(b"/etc/passwd".to_vec()));
        assert_eq!(content(&s.after, "t"), b"file again");
    }
}

#[test]
fn type_change_symlink_to_dir() {
    let layers = vec![
        vec![dir("real"), file("real/inside", "i"), symlink("l", "real")],
        vec![dir("l"), file("l/z", "z")],
        vec![file("l/w", "w")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("l").unwrap().kind, NKind::Dir);
        assert_eq!(content(&s.after, "l/z"), b"z");
        assert_eq!(content(&s.after, "l/w"), b"w");
        assert!(s.after.get("l/inside").is_none());
        assert_eq!(content(&s.after, "real/inside"), b"i");
    }
}

#[test]
fn type_change_dir_to_symlink_and_file_under_a_former_file() {
    let layers = vec![vec![dir("d"), file("d/x", "x"), file("f", "f")], vec![symlink("d", "/"), file("f/under", "u")]];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("d").unwrap().kind, NKind::Symlink(b"/".to_vec()));
        assert!(s.after.get("d/x").is_none());
        // A file below a former file: the file became an (implicit) directory.
        assert_eq!(s.after.get("f").unwrap().kind, NKind::Dir);
        assert_eq!(content(&s.after, "f/under"), b"u");
    }
}

// ------------------------------------------------------------------ metadata

#[test]
fn metadata_only_changes_in_a_later_layer_win() {
    let layers = vec![
        vec![dir("d"), file("d/x", "x"), file("f", "same").mode(0o644), file("g", "g").mtime(100)],
        vec![
            dir("d").mode(0o700).owner(5, 6).mtime(77),
            file("f", "same").mode(0o600).owner(1000, 1000),
            file("g", "g").mtime(200),
        ],
        vec![file("h", "h")],
    ];
    for s in run_all_points(&layers) {
        let d = s.after.get("d").unwrap();
        assert_eq!((d.mode, d.uid, d.gid, d.mtime), (0o700, 5, 6, 77));
        assert_eq!(content(&s.after, "d/x"), b"x", "a directory over a directory keeps its children");
        let f = s.after.get("f").unwrap();
        assert_eq!((f.mode, f.uid, f.gid), (0o600, 1000, 1000));
        assert_eq!(s.after.get("g").unwrap().mtime, 200);
    }
    let spec = Image::from_entries(&layers);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(s.has("d") && !s.has("d/x"), "only the directory's own entry is rewritten: {:?}", s.new_paths());
}

#[test]
fn root_directory_metadata_from_a_dot_entry() {
    let layers =
        vec![vec![dir("./").mode(0o755), file("a", "a")], vec![dir("./").mode(0o700).mtime(5), file("b", "b")]];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("").unwrap().mode, 0o700);
    }
}

// ------------------------------------------------------------------ hardlinks

#[test]
fn hardlinks_that_both_survive_stay_one_hardlink_with_the_content_once() {
    let data = "shared-content-of-the-linked-file";
    let layers = vec![
        vec![dir("bin"), file("bin/a", data).mode(0o755), hardlink("bin/b", "bin/a").mode(0o755)],
        vec![file("other", "o")],
    ];
    let s = run_layers(&layers, SquashFrom::Root);
    assert_eq!(s.after.link_groups().len(), 1);
    let copies = s.new_layer.iter().filter(|e| e.data == data.as_bytes()).count();
    assert_eq!(copies, 1, "the content appears once: {:?}", s.new_paths());
    let links: Vec<_> = s.new_layer.iter().filter(|e| e.typeflag == b'1').collect();
    assert_eq!(links.len(), 1);
    assert_eq!(clean_path(links[0].link.as_deref().unwrap()), b"bin/a");
}

#[test]
fn hardlink_keeps_the_old_content_when_its_target_is_modified_later() {
    let layers = vec![vec![file("a", "old"), hardlink("b", "a")], vec![file("a", "new")], vec![file("c", "c")]];
    for s in run_all_points(&layers) {
        assert_eq!(content(&s.after, "a"), b"new");
        assert_eq!(content(&s.after, "b"), b"old");
    }
    let s = run_layers(&layers, SquashFrom::Root);
    assert!(s.after.link_groups().is_empty());
    assert!(s.new_layer.iter().all(|e| e.typeflag != b'1'), "b is not a link to the new a: {:?}", s.new_paths());
}

#[test]
fn hardlink_keeps_the_old_metadata_when_its_target_is_chmodded_later() {
    let layers = vec![
        vec![file("a", "data").mode(0o755).owner(1, 1), hardlink("b", "a").mode(0o755).owner(1, 1)],
        vec![file("a", "data").mode(0o600)],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("a").unwrap().mode, 0o600);
        let b = s.after.get("b").unwrap();
        assert_eq!((b.mode, b.uid), (0o755, 1));
        assert_eq!(content(&s.after, "b"), b"data");
    }
}

#[test]
fn hardlink_keeps_the_content_when_its_target_is_deleted() {
    let layers = vec![vec![dir("d"), file("d/a", "payload"), hardlink("keep", "d/a")], vec![whiteout("d")]];
    for s in run_all_points(&layers) {
        assert_eq!(content(&s.after, "keep"), b"payload");
        assert!(s.after.get("d").is_none());
    }
    let s = run_layers(&layers, SquashFrom::Root);
    let e = s.new_entry("keep").unwrap();
    assert_eq!((e.typeflag, e.data.as_slice()), (b'0', &b"payload"[..]));
}

#[test]
fn hardlink_keeps_the_content_when_an_opaque_directory_hides_its_target() {
    let layers = vec![
        vec![dir("d"), file("d/a", "payload"), hardlink("keep", "d/a")],
        vec![dir("d"), opaque("d"), file("d/b", "b")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(content(&s.after, "keep"), b"payload");
        assert!(s.after.get("d/a").is_none());
    }
}

#[test]
fn two_links_to_a_deleted_target_stay_linked_to_each_other() {
    let layers = vec![
        vec![
            file("a", "payload").xattr("user.x", "1"),
            hardlink("b", "a"),
            hardlink("c", "a"),
            hardlink("z/deep/d", "a"),
        ],
        vec![whiteout("a")],
    ];
    for s in run_all_points(&layers) {
        let groups = s.after.link_groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups.iter().next().unwrap().len(), 3);
        assert_eq!(content(&s.after, "c"), b"payload");
        assert_eq!(s.after.get("c").unwrap().xattrs.get(&b"user.x"[..]).map(|v| v.as_slice()), Some(&b"1"[..]));
    }
    let s = run_layers(&layers, SquashFrom::Root);
    assert_eq!(s.new_layer.iter().filter(|e| e.data == b"payload").count(), 1, "{:?}", s.new_paths());
    assert_eq!(s.new_layer.iter().filter(|e| e.typeflag == b'1').count(), 2);
}

#[test]
fn hardlink_to_a_hardlink_and_links_made_in_a_later_layer() {
    let layers = vec![
        vec![file("a", "A"), hardlink("b", "a")],
        vec![hardlink("c", "b"), file("x", "X")],
        vec![hardlink("y", "x"), whiteout("b")],
    ];
    let s = run_layers(&layers, SquashFrom::Root);
    let groups = s.after.link_groups();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(content(&s.after, "c"), b"A");
    assert_eq!(content(&s.after, "y"), b"X");
}

#[test]
fn renamed_hardlink_content_keeps_xattrs_and_long_names() {
    let long_dir = "l".repeat(120);
    let longer = format!("{}/{}/{}", "p".repeat(100), "q".repeat(100), "r".repeat(80));
    for style in [Style::Go, Style::Gnu, Style::Pax] {
        let layers = vec![
            vec![
                file("t", "content").xattr("user.x", "xv").xattr("security.capability", [1u8, 0, 0, 2]).mode(0o4755),
                hardlink(format!("{long_dir}/link"), "t").style(style),
                hardlink(&longer, "t").style(style),
            ],
            vec![whiteout("t")],
        ];
        for s in run_all_points(&layers) {
            let n = s.after.get(&longer).unwrap();
            assert_eq!(n.kind, NKind::File(b"content".to_vec()));
            assert_eq!(n.mode, 0o4755);
            assert_eq!(n.xattrs.get(&b"user.x"[..]).map(|v| v.as_slice()), Some(&b"xv"[..]));
            assert_eq!(s.after.link_groups().len(), 1);
        }
    }
}

// ------------------------------------------------------------------ squashing from a middle layer

#[test]
fn kept_layers_are_byte_identical_in_the_output() {
    let l0 = tar(&[dir("usr"), file("usr/a", "a".repeat(3000))]);
    let l1 = tar(&[file("usr/b", "b")]);
    let l2 = tar(&[whiteout("usr/a"), file("c", "c")]);
    let spec = Image::new(vec![Layer::gzip(l0), Layer::zstd(l1), Layer::plain(l2)]);
    let s = run(&spec, layer_id(&spec, 1));
    assert_eq!(s.out.layers.len(), 3);
    assert_eq!(s.out.layers[0], spec.layers[0].stored);
    assert_eq!(s.out.layers[1], spec.layers[1].stored);
    let ids = s.out.config["rootfs"]["diff_ids"].as_array().unwrap().clone();
    assert_eq!(ids[0], json!(spec.layers[0].diff_id));
    assert_eq!(ids[1], json!(spec.layers[1].diff_id));
    assert_eq!(whiteouts(&s), vec!["usr/.wh.a"]);
}

#[test]
fn squashing_from_the_top_layer_writes_no_new_layer() {
    let spec = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")]]);
    let s = run(&spec, layer_id(&spec, 1));
    assert_eq!(s.report.layers_after, 2);
    assert!(s.report.new_layer_diff_id.is_none());
    assert_eq!(s.out.layers, vec![spec.layers[0].stored.clone(), spec.layers[1].stored.clone()]);
    assert_eq!(
        s.out.config["history"],
        Value::Array(spec.history_values()),
        "nothing squashed: the history is unchanged"
    );
}

#[test]
fn upper_layers_only_unchanged_kept_paths_are_not_rewritten() {
    let spec = Image::from_entries(&[
        vec![dir("a"), dir("a/b"), file("a/b/base", "base")],
        vec![file("a/b/new", "n")],
        vec![file("a/b/new", "n2")],
    ]);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(!s.has("a/b/base"), "{:?}", s.new_paths());
    assert_eq!(s.new_layer.iter().filter(|e| e.data.starts_with(b"n")).count(), 1);
}

// ------------------------------------------------------------------ order and determinism

#[test]
fn parents_come_before_children_and_targets_before_links() {
    // Children listed before their directories, deep implicit parents, links whose
    // targets sort after them.
    let layers = vec![
        vec![
            file("z/y/x/w/file", "f"),
            dir("z/y").mode(0o711),
            dir("z"),
            file("m/target", "T"),
            hardlink("a-link", "m/target"),
        ],
        vec![
            file("b/c/d", "d"),
            dir("b").mode(0o700),
            file("q/src", "Q"),
            hardlink("b/c/e", "q/src"),
            whiteout("m/target"),
        ],
        vec![file("0first", "0")],
    ];
    for s in run_all_points(&layers) {
        // check_order ran on each; make sure it had something to check.
        assert!(!s.new_layer.is_empty());
    }
    // Links across squashed layers too.
    let mut cross = layers.clone();
    cross[2].push(hardlink("0-cross", "z/y/x/w/file"));
    let s = run_layers(&cross, SquashFrom::Root);
    let pos =
        |p: &str| s.new_layer.iter().position(|e| e.clean() == p.as_bytes()).unwrap_or_else(|| panic!("{p} missing"));
    assert!(pos("z") < pos("z/y") && pos("z/y") < pos("z/y/x") && pos("z/y/x/w") < pos("z/y/x/w/file"));
    assert!(pos("z/y/x/w/file") < pos("0-cross"));
    assert!(pos("q/src") < pos("b/c/e"));
}

#[test]
fn hardlink_to_a_file_of_a_kept_layer_becomes_a_copy() {
    let spec = Image::from_entries(&[
        vec![dir("bin"), file("bin/tool", "tool-bytes").mode(0o755).xattr("user.k", "v")],
        vec![hardlink("bin/alias", "bin/tool").mode(0o755), file("x", "x")],
    ]);
    let s = run_checked(&spec, spec.docker_save(), layer_id(&spec, 0), false);
    let e = s.new_entry("bin/alias").unwrap();
    assert_eq!((e.typeflag, e.data.as_slice(), e.mode), (b'0', &b"tool-bytes"[..], 0o755));
    assert_eq!(e.xattrs.get(&b"user.k"[..]).map(|v| v.as_slice()), Some(&b"v"[..]));
    assert!(!s.has("bin/tool"));
}

#[test]
fn same_input_gives_byte_identical_output() {
    let layers = vec![
        vec![dir("d"), file("d/a", "a"), file("x", "x"), hardlink("y", "x"), dir("e"), file("e/1", "1")],
        vec![whiteout("d/a"), file("d/b", "b"), opaque("e"), whiteout("x")],
        vec![file("z", "z")],
    ];
    let spec = Image::from_entries(&layers);
    let archive = spec.docker_save();
    for from in [SquashFrom::Root, layer_id(&spec, 0), SquashFrom::Default] {
        let (a, ra) = squash(&archive, from.clone()).unwrap();
        let (b, rb) = squash(&archive.clone(), from.clone()).unwrap();
        assert!(a == b, "two squashes of one input differ ({from:?})");
        assert_eq!(ra.image_id, rb.image_id);
    }
}

// ------------------------------------------------------------------ entries that must survive

#[test]
fn pax_xattrs_survive() {
    let layers = vec![
        vec![
            dir("d").xattr("user.dir", "dv"),
            file("d/f", "f").xattr("user.x", "value with = and spaces").xattr("trusted.y", [0u8, 255, 7]),
        ],
        vec![file("g", "g").xattr("user.x", "1"), symlink("s", "g").xattr("user.link", "l")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("d/f").unwrap().xattrs.get(&b"user.x"[..]).unwrap(), b"value with = and spaces");
        assert_eq!(s.after.get("d/f").unwrap().xattrs.get(&b"trusted.y"[..]).unwrap(), &[0u8, 255, 7]);
        assert_eq!(s.after.get("d").unwrap().xattrs.get(&b"user.dir"[..]).unwrap(), b"dv");
    }
    let s = run_layers(&layers, SquashFrom::Root);
    assert_eq!(s.new_entry("g").unwrap().xattrs.get(&b"user.x"[..]).unwrap(), b"1");
}

#[test]
fn long_names_survive() {
    let n150 = format!("{}/{}", "a".repeat(70), "b".repeat(79)); // USTAR prefix/name
    let n200 = "c".repeat(200); // one component: PAX or GNU only
    let n300 = format!("{}/{}/{}", "d".repeat(100), "e".repeat(100), "f".repeat(98));
    let n4000 = (0..16).map(|i| format!("{i:02}{}", "g".repeat(240))).collect::<Vec<_>>().join("/");
    let link_target = "t".repeat(150);
    for style in [Style::Go, Style::Gnu, Style::Pax] {
        let layers = vec![
            vec![
                file(&n150, "150").style(style),
                file(&n200, "200").style(style),
                dir(&n300).style(style),
                file(format!("{n300}/in"), "in").style(style),
                file(&n4000, "4000").style(style),
                symlink("sym", &link_target).style(style),
                file(&link_target, "target").style(style),
                hardlink(format!("{n300}/hl"), &n200).style(style),
            ],
            vec![whiteout(&n150), file(format!("{n300}/later"), "l").style(style)],
        ];
        for s in run_all_points(&layers) {
            assert_eq!(content(&s.after, &n200), b"200");
            assert_eq!(content(&s.after, &n4000), b"4000");
            assert_eq!(content(&s.after, &format!("{n300}/hl")), b"200");
            assert_eq!(s.after.get("sym").unwrap().kind, NKind::Symlink(link_target.clone().into_bytes()));
            assert!(s.after.get(&n150).is_none());
        }
    }
}

#[test]
fn non_utf8_names_survive() {
    let latin1: &[u8] = b"caf\xe9";
    let mut deep = b"dir-\xff\xfe/".to_vec();
    deep.extend_from_slice(&[b'\x80'; 150]);
    let deleted = b"dir-\xff\xfe/gone-\xc0".to_vec();
    let layers = vec![
        vec![
            file(latin1, "latin1"),
            dir(b"dir-\xff\xfe"),
            file(&deleted, "x"),
            file(&deep, "deep").style(Style::Gnu),
            hardlink(b"link-\xe9", latin1),
        ],
        vec![whiteout(&deleted), file(b"new-\xe9", "n")],
        vec![file("plain", "p")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.nodes.get(latin1).map(|n| n.kind.clone()), Some(NKind::File(b"latin1".to_vec())));
        assert_eq!(s.after.nodes.get(&deep).map(|n| n.kind.clone()), Some(NKind::File(b"deep".to_vec())));
        assert!(!s.after.nodes.contains_key(&deleted));
    }
    let spec = Image::from_entries(&layers);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(s.new_layer.iter().any(|e| e.clean() == b"dir-\xff\xfe/.wh.gone-\xc0"), "{:?}", s.new_paths());
}

#[test]
fn devices_and_fifos_survive() {
    let layers = vec![
        vec![dir("dev"), chardev("dev/null", 1, 3), blockdev("dev/sda", 8, 0), fifo("dev/pipe").mode(0o600)],
        vec![chardev("dev/tty", 5, 0).owner(0, 5), whiteout("dev/sda"), blockdev("dev/loop0", 7, 0)],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("dev/null").unwrap().kind, NKind::Char(1, 3));
        assert_eq!(s.after.get("dev/tty").unwrap().kind, NKind::Char(5, 0));
        assert_eq!(s.after.get("dev/loop0").unwrap().kind, NKind::Block(7, 0));
        assert_eq!(s.after.get("dev/pipe").unwrap().kind, NKind::Fifo);
        assert!(s.after.get("dev/sda").is_none());
    }
}

#[test]
fn setuid_setgid_and_sticky_bits_survive() {
    let layers = vec![
        vec![dir("tmp").mode(0o1777), file("su", "x").mode(0o4755), file("sg", "y").mode(0o2755)],
        vec![
            dir("var").mode(0o3775).owner(0, 50),
            file("su2", "z").mode(0o6711),
            hardlink("su-link", "su2").mode(0o6711),
        ],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("tmp").unwrap().mode, 0o1777);
        assert_eq!(s.after.get("su").unwrap().mode, 0o4755);
        assert_eq!(s.after.get("sg").unwrap().mode, 0o2755);
        assert_eq!(s.after.get("var").unwrap().mode, 0o3775);
        assert_eq!(s.after.get("su-link").unwrap().mode, 0o6711);
    }
}

// ------------------------------------------------------------------ config, history, manifest

fn history_spec() -> Image {
    let mut spec = Image::from_entries(&[vec![file("base", "b")], vec![file("one", "1")], vec![file("two", "2")]]);
    spec.history = Some(vec![
        json!({"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:0123abcd in / "}),
        json!({"created": "2024-01-01T00:00:01Z", "created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": true}),
        json!({"created": "2024-01-02T00:00:00Z", "created_by": "RUN one", "comment": "c1"}),
        json!({"created": "2024-01-02T00:00:01Z", "created_by": "ENV A=1", "empty_layer": true}),
        json!({"created": "2024-01-03T00:00:00Z", "created_by": "RUN two"}),
        json!({"created": "2024-01-03T00:00:01Z", "created_by": "LABEL x=y", "empty_layer": true, "author": "me"}),
    ]);
    spec.config.insert("x-vendor-field".into(), json!({"nested": [1, 2, {"k": null}], "s": "v"}));
    spec.config.insert("container".into(), json!("4a5b6c"));
    spec.config.insert("variant".into(), json!(""));
    spec.config.insert("os.features".into(), json!(["f1"]));
    spec
}

#[test]
fn config_keeps_every_field_and_rewrites_rootfs() {
    let spec = history_spec();
    for from in [SquashFrom::Root, layer_id(&spec, 0), layer_id(&spec, 1)] {
        let s = run(&spec, from);
        let mut got = s.out.config.clone();
        let mut want = spec.config.clone();
        for k in ["rootfs", "history"] {
            got.remove(k);
            want.remove(k);
        }
        assert_eq!(Value::Object(got), Value::Object(want), "config fields changed");
        assert_eq!(s.out.config["rootfs"]["type"], json!("layers"));
        // run_archive checked diff_ids against the written layers.
    }
}

#[test]
fn history_is_kept_steps_then_squash_step_then_empty_layer_steps() {
    let spec = history_spec();
    let id0 = spec.layers[0].diff_id.clone();
    let s = run(&spec, layer_id(&spec, 0));
    let h = s.out.config["history"].as_array().unwrap().clone();
    let by: Vec<&str> = h.iter().map(|e| e["created_by"].as_str().unwrap()).collect();
    let label = format!("#(squash) from {}", &id0[7..19]);
    assert_eq!(
        by,
        vec![
            "/bin/sh -c #(nop) ADD file:0123abcd in / ",
            "/bin/sh -c #(nop)  CMD [\"sh\"]",
            label.as_str(),
            "ENV A=1",
            "LABEL x=y"
        ]
    );
    let hist = spec.history.clone().unwrap();
    assert_eq!(h[0], hist[0]);
    assert_eq!(h[1], hist[1]);
    assert_eq!(h[3], hist[3]);
    assert_eq!(h[4], hist[5]);
    assert!(h[2].get("empty_layer").is_none_or(|v| v == &json!(false)));
    assert_eq!(h[2]["created"], json!("2024-01-03T00:00:00Z"), "the squash step is dated by the last squashed layer");
    // Non-empty steps match the layers.
    let non_empty = h.iter().filter(|e| e.get("empty_layer") != Some(&json!(true))).count();
    assert_eq!(non_empty, s.out.layers.len());

    let s = run(&spec, SquashFrom::Root);
    let by: Vec<String> = s.out.config["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["created_by"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(by, vec!["#(squash) from root", "/bin/sh -c #(nop)  CMD [\"sh\"]", "ENV A=1", "LABEL x=y"]);
}

#[test]
fn manifest_keeps_the_tags_or_takes_the_given_one() {
    let spec = history_spec();
    let s = run(&spec, SquashFrom::Root);
    assert_eq!(s.out.manifest[0]["RepoTags"], json!(["test/img:1"]));
    assert_eq!(s.report.tags, vec!["test/img:1"]);
    let opts = SquashOptions { from: SquashFrom::Root, tag: Some("squashed".into()), ..Default::default() };
    let (bytes, report) = squash_with(&spec.docker_save(), &opts).unwrap();
    let out = read_output(&bytes);
    assert_eq!(out.manifest[0]["RepoTags"], json!(["squashed:latest"]));
    assert_eq!(report.tags, vec!["squashed:latest"]);
    let index: Value = serde_json::from_slice(&out.members["index.json"]).unwrap();
    let names = &index["manifests"][0]["annotations"];
    assert_eq!(names["io.containerd.image.name"], "docker.io/library/squashed:latest");
    assert_eq!(names["org.opencontainers.image.ref.name"], "latest");
    // The Docker layout (before 25) has `repositories` too.
    let (bytes, _) =
        squash_with(&spec.docker_save(), &SquashOptions { format: ArchiveFormat::Docker, ..opts }).unwrap();
    let out = read_output(&bytes);
    assert_eq!(out.manifest[0]["RepoTags"], json!(["squashed:latest"]));
    let repos: Value = serde_json::from_slice(&out.members["repositories"]).unwrap();
    assert!(repos["squashed"]["latest"].is_string());
}

#[test]
fn bad_tags_are_refused_with_bad_tag() {
    let archive = history_spec().docker_save();
    for t in ["Bad:Tag", "app:", "app:-x", "a..b", "app@sha256:00", "UPPER", "x:has space", "-lead"] {
        let e =
            squash_with(&archive, &SquashOptions { from: SquashFrom::Root, tag: Some(t.into()), ..Default::default() })
                .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadTag, "{t}: {e}");
    }
}

#[test]
fn from_unknown_or_ambiguous_ids_is_refused_with_from_choice() {
    // Find two layers whose diff_ids share their first hex digit.
    let mut by_first: std::collections::BTreeMap<char, Vec<Vec<u8>>> = Default::default();
    let mut i = 0;
    let pair = loop {
        let l = tar(&[file("f", format!("content {i}"))]);
        let c = digest(&l).chars().nth(7).unwrap();
        let v = by_first.entry(c).or_default();
        v.push(l);
        if v.len() == 2 {
            break (c, v.clone());
        }
        i += 1;
    };
    let (c, ls) = pair;
    let spec = Image::new(vec![
        Layer::plain(ls[0].clone()),
        Layer::plain(ls[1].clone()),
        Layer::plain(tar(&[file("g", "g")])),
    ]);
    let archive = spec.docker_save();
    let e = squash(&archive, SquashFrom::Layer(c.to_string())).unwrap_err();
    assert_eq!(e.code, ErrorCode::FromChoice, "{e}");
    let full0 = spec.layers[0].diff_id.clone();
    let unknown: String = full0[7..].chars().map(|ch| if ch == 'f' { 'e' } else { 'f' }).collect();
    for bad in [unknown.as_str(), "zz-not-hex", "", "sha256:"] {
        let e = squash(&archive, SquashFrom::Layer(bad.to_string())).unwrap_err();
        assert_eq!(e.code, ErrorCode::FromChoice, "{bad}: {e}");
    }
    // A unique prefix, with or without sha256:, works.
    for good in [full0[7..19].to_string(), full0[..19].to_string(), full0.clone()] {
        let (_, r) = squash(&archive, SquashFrom::Layer(good.clone())).unwrap();
        assert_eq!(r.from.layer_index, Some(0), "{good}");
    }
}

#[test]
fn default_squash_point_is_the_first_add_file_layer() {
    let spec = history_spec();
    let s = run(&spec, SquashFrom::Default);
    assert_eq!(s.report.from.layer_index, Some(0));
    assert_eq!(s.report.layers_after, 2);
    assert_eq!(s.out.layers[0], spec.layers[0].stored);

    // The first ADD file: wins over a later one.
    let mut spec2 =
        Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")], vec![file("c", "c")], vec![file("d", "d")]]);
    spec2.history = Some(vec![
        json!({"created_by": "COPY file:aaa in /a"}),
        json!({"created_by": "/bin/sh -c #(nop) ADD file:111 in / "}),
        json!({"created_by": "/bin/sh -c #(nop) ADD file:222 in /x "}),
        json!({"created_by": "RUN d"}),
    ]);
    let s = run(&spec2, SquashFrom::Default);
    assert_eq!(s.report.from.layer_index, Some(1));
    assert_eq!(s.report.layers_after, 3);

    // No ADD file: at all: from root.
    let spec3 = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")]]);
    let s = run(&spec3, SquashFrom::Default);
    assert_eq!(s.report.from.layer_index, None);
    assert_eq!(s.report.layers_after, 1);
}

#[test]
fn default_squash_point_is_a_later_earlier_squash() {
    let mut spec = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")], vec![file("c", "c")]]);
    spec.history = Some(vec![
        json!({"created_by": "/bin/sh -c #(nop) ADD file:111 in / "}),
        json!({"created_by": "#(squash) from 0123456789ab"}),
        json!({"created_by": "RUN c"}),
    ]);
    let s = run(&spec, SquashFrom::Default);
    assert_eq!(s.report.from.layer_index, Some(1));
}

#[test]
fn diff_id_mismatch_is_refused_with_digest_mismatch() {
    let mut spec = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")]]);
    spec.layers[1].diff_id = digest(b"something else");
    let e = squash(&spec.docker_save(), SquashFrom::Root).unwrap_err();
    assert_eq!(e.code, ErrorCode::DigestMismatch, "{e}");
    // Also when the damaged layer is one that would be kept.
    let e = squash(&spec.docker_save(), SquashFrom::Layer(spec.layers[0].diff_id.clone())).unwrap_err();
    assert_eq!(e.code, ErrorCode::DigestMismatch, "{e}");
}

#[test]
fn not_verifying_trusts_the_promised_diff_ids_and_still_writes_the_real_digest_of_the_new_layer() {
    let mut spec = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")], vec![file("c", "c")]]);
    spec.layers[1].diff_id = digest(b"something else");
    let ids: Vec<String> = spec.layers.iter().map(|l| l.diff_id.clone()).collect();
    let trusting = |from| SquashOptions { from, verify: false, ..Default::default() };
    // The damaged layer is squashed: it goes unnoticed, and the new layer's diff_id is
    // the digest of what was written.
    let (bytes, report) = squash_with(&spec.docker_save(), &trusting(SquashFrom::Root)).unwrap();
    let out = read_output(&bytes);
    assert_eq!(out.config["rootfs"]["diff_ids"], json!([digest(&out.layers[0])]));
    assert_eq!(report.new_layer_diff_id.as_deref(), Some(digest(&out.layers[0]).as_str()));
    // A kept layer keeps the diff_id it promised (docker load then checks it).
    let (bytes, _) = squash_with(&spec.docker_save(), &trusting(SquashFrom::Layer(ids[1].clone()))).unwrap();
    let out = read_output(&bytes);
    let written = out.config["rootfs"]["diff_ids"].as_array().unwrap().clone();
    assert_eq!(written[..2], [json!(ids[0]), json!(ids[1])]);
    // inspect trusts them alike, and finds the same facts.
    let a = squash_engine::Archive::open(Box::new(squash_engine::SliceSource(spec.docker_save()))).unwrap();
    assert!(a.inspect(None, None, true, &mut |_| true).is_err());
    let clean = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b"), whiteout("a")]]);
    let a = squash_engine::Archive::open(Box::new(squash_engine::SliceSource(clean.docker_save()))).unwrap();
    let verified = serde_json::to_value(a.inspect(None, None, true, &mut |_| true).unwrap()).unwrap();
    let trusted = serde_json::to_value(a.inspect(None, None, false, &mut |_| true).unwrap()).unwrap();
    assert_eq!(verified, trusted);
}

// ------------------------------------------------------------------ input formats

fn format_layers() -> Vec<Vec<u8>> {
    vec![
        tar(&[
            dir("etc"),
            file("etc/os", "debian".repeat(500)),
            file("etc/gone", "g"),
            file("a", "a"),
            hardlink("a2", "a"),
        ]),
        tar(&[
            whiteout("etc/gone"),
            dir("etc"),
            opaque("etc"),
            file("etc/os", "alpine"),
            file("big", vec![7u8; 200_000]),
        ]),
        tar(&[file("c", "c").xattr("user.k", "v"), whiteout("a")]),
    ]
}

#[test]
fn gzip_and_zstd_layers_and_compressed_archives_give_the_same_result() {
    let tars = format_layers();
    let plain = Image::new(tars.iter().cloned().map(Layer::plain).collect());
    let gz = Image::new(tars.iter().cloned().map(Layer::gzip).collect());
    let zs = Image::new(tars.iter().cloned().map(Layer::zstd).collect());
    let mixed =
        Image::new(vec![Layer::zstd(tars[0].clone()), Layer::gzip(tars[1].clone()), Layer::plain(tars[2].clone())]);
    for from_k in [None, Some(0usize)] {
        let from = |spec: &Image| from_k.map_or(SquashFrom::Root, |k| layer_id(spec, k));
        let reference = run(&plain, from(&plain));
        // The same tar, however the layers it was made from were stored (auto stores it as
        // they were: the bytes on disk differ, the tar does not).
        let new_layer = |s: &Squashed| decompress(s.out.layers.last().unwrap());
        for (what, spec, archive) in [
            ("gzip layers", &gz, gz.docker_save()),
            ("zstd layers", &zs, zs.docker_save()),
            ("mixed layers", &mixed, mixed.docker_save()),
            ("gzip archive", &plain, gzip(&plain.docker_save())),
            ("zstd archive", &plain, zstd(&plain.docker_save())),
            ("gzip archive of gzip layers", &gz, gzip(&gz.docker_save())),
        ] {
            let s = run_archive(spec, archive, from(spec));
            assert_same_fs(&reference.after, &s.after, what);
            assert_eq!(
                new_layer(&s),
                new_layer(&reference),
                "{what}: the squashed layer differs from the plain input's"
            );
        }
    }
}

#[test]
fn oci_layout_archive_without_manifest_json_works() {
    let tars = format_layers();
    let spec =
        Image::new(vec![Layer::gzip(tars[0].clone()), Layer::plain(tars[1].clone()), Layer::zstd(tars[2].clone())]);
    let oci = spec.oci_layout();
    assert!(read_output(&spec.docker_save()).members.contains_key("manifest.json"));
    {
        let names: Vec<String> = members(&oci).into_iter().map(|(n, _)| n).collect();
        assert!(!names.iter().any(|n| n == "manifest.json") && names.iter().any(|n| n == "index.json"));
    }
    for from in [SquashFrom::Root, layer_id(&spec, 0), layer_id(&spec, 1)] {
        let s = run_archive(&spec, oci.clone(), from.clone());
        assert_eq!(s.out.manifest[0]["RepoTags"], json!(["test/img:1"]));
        let d = run(&spec, from);
        assert_eq!(s.out.layers, d.out.layers, "the same image as docker save gives the same layers");
    }
    // -from by the blob digest of a compressed layer works too.
    let (_, r) = squash(&oci, SquashFrom::Layer(digest(&spec.layers[0].stored))).unwrap();
    assert_eq!(r.from.layer_index, Some(0));
}

// ------------------------------------------------------------------ more shapes of input

#[test]
fn hardlinks_to_symlinks_devices_and_fifos() {
    let layers = vec![
        vec![
            symlink("s", "/etc/os-release"),
            hardlink("s2", "s").mode(0o777),
            fifo("p"),
            hardlink("p2", "p"),
            chardev("c", 4, 64),
            hardlink("c2", "c").mode(0o666),
        ],
        vec![whiteout("s"), whiteout("p"), file("x", "x")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.get("s2").unwrap().kind, NKind::Symlink(b"/etc/os-release".to_vec()));
        assert_eq!(s.after.get("p2").unwrap().kind, NKind::Fifo);
        assert_eq!(s.after.link_groups().len(), 1, "c and c2 stay linked");
    }
}

#[test]
fn whiteouts_and_opaque_markers_with_long_names_from_a_middle_layer() {
    let long_dir = format!("{}/{}", "a".repeat(90), "b".repeat(90));
    let long_file = format!("{long_dir}/{}", "c".repeat(150));
    for style in [Style::Go, Style::Gnu, Style::Pax] {
        let spec = Image::from_entries(&[
            vec![
                dir(&long_dir).style(style),
                file(&long_file, "long").style(style),
                file(format!("{long_dir}/other"), "o").style(style),
            ],
            vec![whiteout(&long_file).style(style)],
            vec![file("x", "x")],
        ]);
        let s = run(&spec, layer_id(&spec, 0));
        assert_eq!(whiteouts(&s), vec![format!("{long_dir}/.wh.{}", "c".repeat(150))]);
        assert!(s.after.get(&long_file).is_none());

        let spec = Image::from_entries(&[
            vec![dir(&long_dir).style(style), file(&long_file, "long").style(style)],
            vec![whiteout(&long_dir).style(style)],
            vec![dir(&long_dir).style(style), file(format!("{long_dir}/new"), "n").style(style)],
        ]);
        let s = run(&spec, layer_id(&spec, 0));
        assert!(s.has(&format!("{long_dir}/.wh..wh..opq")), "{:?}", s.new_paths());
        assert!(s.after.get(&long_file).is_none());
    }
}

#[test]
fn a_pax_header_without_the_ustar_magic_applies_to_the_next_entry_as_gos_reader_has_it() {
    // Found by the compress fuzz target: the reference (tar-rs) saw such a header as an entry.
    let mut l0 = tar(&[dir("d"), file("p", "abc").pax(pax_record(b"path", b"d/renamed"))]);
    let at = (0..l0.len()).step_by(512).find(|&i| l0[i + 156] == b'x').expect("a PAX header");
    l0[at + 257..at + 265].copy_from_slice(b"s\0uat\x0000");
    set_checksum(&mut l0[at..at + 512]);
    let spec = Image::new(vec![Layer::plain(l0), Layer::plain(tar(&[file("z", "z")]))]);
    for from in [SquashFrom::Root, layer_id(&spec, 0)] {
        let s = run(&spec, from);
        assert_eq!(s.after.paths(), vec!["", "d", "d/renamed", "z"]);
        assert_eq!(content(&s.after, "d/renamed"), b"abc");
    }
}

#[test]
fn numeric_fields_padded_with_nuls_on_the_left_read_as_gos_reader_reads_them() {
    // Found by the compress fuzz target: `\0000644\0` is mode 0644 to Go (and the engine);
    // the reference (tar-rs) could not read it.
    let mut l0 = tar(&[dir("x"), file("x/z", "z")]);
    let at = (0..l0.len()).step_by(512).find(|&i| l0[i..].starts_with(b"x/z\0")).expect("x/z");
    l0[at + 100..at + 108].copy_from_slice(b"\x00000640\x00");
    set_checksum(&mut l0[at..at + 512]);
    let spec = Image::new(vec![Layer::plain(l0), Layer::plain(tar(&[file("y", "y")]))]);
    for from in [SquashFrom::Root, layer_id(&spec, 0)] {
        let s = run(&spec, from);
        assert_eq!(s.after.paths(), vec!["", "x", "x/z", "y"]);
        assert_eq!(s.after.get("x/z").map(|n| n.mode & 0o777), Some(0o640));
    }
}

#[test]
fn a_header_with_a_signed_checksum_is_read_as_gos_reader_reads_it() {
    // Found by the compress fuzz target in CI: Go (and the engine) take the checksum of
    // the header's bytes summed as signed; the reference (tar-rs) took only the unsigned sum.
    let mut l0 = tar(&[dir("d"), file("d/f", "f")]);
    l0[100 - 8..100].copy_from_slice(&[0xff; 8]); // high bytes in the name field's padding
    let signed: i64 =
        l0[..512].iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { i64::from(b as i8) }).sum();
    l0[148..156].copy_from_slice(format!("{signed:06o}\0 ").as_bytes());
    let spec = Image::new(vec![Layer::plain(l0), Layer::plain(tar(&[file("y", "y")]))]);
    for from in [SquashFrom::Root, layer_id(&spec, 0)] {
        let s = run(&spec, from);
        assert_eq!(s.after.paths(), vec!["", "d", "d/f", "y"]);
    }
}

#[test]
fn global_pax_headers_are_ignored() {
    let mut l0 = global_pax(&[("comment", "0123456789abcdef"), ("path", "ignored-global")]);
    l0.extend(tar(&[file("a", "a"), dir("d")]));
    let mut l1 = global_pax(&[("comment", "second")]);
    l1.extend(tar(&[file("d/b", "b")]));
    let spec = Image::new(vec![Layer::plain(l0), Layer::plain(l1), Layer::plain(tar(&[file("c", "c")]))]);
    for from in [SquashFrom::Root, layer_id(&spec, 0), layer_id(&spec, 1)] {
        let s = run(&spec, from);
        assert_eq!(s.after.paths(), vec!["", "a", "c", "d", "d/b"]);
    }
}

#[test]
fn names_with_dot_slash_leading_slash_and_dot_dot_are_cleaned() {
    let layers = vec![
        vec![dir("./etc"), file("./etc/a", "a"), file("/etc/b", "b"), file("etc/x/../c", "c"), file("etc//d", "d")],
        vec![whiteout("./etc/a"), file("/etc/./b", "b2"), whiteout("etc/sub/../c")],
        vec![file("z", "z")],
    ];
    for s in run_all_points(&layers) {
        let under: Vec<String> = s.after.paths().into_iter().filter(|p| p.starts_with("etc/")).collect();
        assert_eq!(under, vec!["etc/b", "etc/d"], "`etc/x/../c` is `etc/c`: no `etc/x` is made");
        assert_eq!(content(&s.after, "etc/b"), b"b2");
    }
}

#[test]
fn the_last_entry_for_a_path_in_one_layer_wins() {
    let layers = vec![
        vec![file("f", "first"), dir("d"), file("d/x", "x"), file("f", "second").mode(0o600), file("d", "d is a file")],
        vec![file("g", "g"), symlink("g", "f")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(content(&s.after, "f"), b"second");
        assert_eq!(content(&s.after, "d"), b"d is a file");
        assert_eq!(s.after.get("g").unwrap().kind, NKind::Symlink(b"f".to_vec()));
    }
}

#[test]
fn repeated_identical_layers_and_layers_without_an_end_marker() {
    let same = tar(&[file("stamp", "same")]);
    let spec = Image::new(vec![
        Layer::plain(tar(&[file("a", "a")])),
        Layer::plain(same.clone()),
        Layer::plain(tar_without_end(&[file("b", "b"), whiteout("stamp")])),
        Layer::plain(same),
        Layer::plain(tar(&[])),
    ]);
    for from in [SquashFrom::Root, layer_id(&spec, 0), layer_id(&spec, 2)] {
        let s = run(&spec, from);
        assert_eq!(content(&s.after, "stamp"), b"same");
        assert_eq!(content(&s.after, "b"), b"b");
    }
}

#[test]
fn squashed_layers_that_change_nothing_give_an_empty_new_layer() {
    let spec = Image::from_entries(&[
        vec![file("keep", "k")],
        vec![file("tmp", "t"), dir("cache"), file("cache/x", "x")],
        vec![whiteout("tmp"), whiteout("cache")],
    ]);
    let s = run(&spec, layer_id(&spec, 0));
    assert!(s.new_layer.is_empty(), "{:?}", s.new_paths());
    assert_eq!(s.report.layers_after, 2);
    assert_eq!(s.after.paths(), vec!["", "keep"]);
}

#[test]
fn config_without_history_gets_one_step_per_layer() {
    let mut spec = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")], vec![file("c", "c")]]);
    spec.history = Some(Vec::new());
    let s = run(&spec, layer_id(&spec, 0));
    let h = s.out.config["history"].as_array().unwrap();
    let non_empty = h.iter().filter(|e| e.get("empty_layer") != Some(&json!(true))).count();
    assert_eq!(non_empty, s.out.layers.len(), "{h:?}");
    assert!(h.last().unwrap()["created_by"].as_str().unwrap().starts_with("#(squash) from "));
}

#[test]
fn cancelling_through_progress_stops_with_cancelled() {
    let spec = Image::from_entries(&[vec![file("a", "a")], vec![file("b", "b")]]);
    let archive = spec.docker_save();
    let a = squash_engine::Archive::open(Box::new(squash_engine::SliceSource(&archive[..]))).unwrap();
    let mut out = Vec::new();
    let e = a
        .squash(&SquashOptions { from: SquashFrom::Root, ..Default::default() }, &mut out, &mut |_| false)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
}

#[test]
fn several_images_need_a_choice() {
    let a = Image::from_entries(&[vec![file("a", "a")], vec![file("a2", "a2")]]);
    let mut b = Image::from_entries(&[vec![file("b", "b")], vec![whiteout("b"), file("b2", "b2")]]);
    b.tags = vec!["other/img:2".into()];
    let archive = Image::docker_save_many(&[&a, &b]);
    let e = squash(&archive, SquashFrom::Root).unwrap_err();
    assert_eq!(e.code, ErrorCode::ImageChoice, "{e}");
    let (bytes, r) = squash_with(
        &archive,
        &SquashOptions { from: SquashFrom::Root, image: Some("other/img:2".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(r.tags, vec!["other/img:2"]);
    let out = read_output(&bytes);
    assert_same_fs(
        &Fs::from_layers(&[b.layers[0].tar.clone(), b.layers[1].tar.clone()]),
        &Fs::from_layers(&out.layers),
        "image b",
    );
}

// ------------------------------------------------------------------ many random stacks

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

fn random_path(r: &mut Rng) -> String {
    let names = ["a", "b", "c"];
    let depth = 1 + r.below(3);
    (0..depth).map(|_| *r.pick(&names)).collect::<Vec<_>>().join("/")
}

fn rich_path(r: &mut Rng) -> String {
    let long = "L".repeat(110);
    let names = ["a", "b", "c", "d", long.as_str(), "caf\u{e9}"];
    let depth = 1 + r.below(4);
    (0..depth).map(|_| r.pick(&names).to_string()).collect::<Vec<_>>().join("/")
}

/// One random layer; hardlinks only to regular files that exist at that point of the
/// same layer (as Docker's layers have them).
fn random_layer(r: &mut Rng, below: &Fs, rich: bool) -> Vec<Entry> {
    random_layer_links(r, below, rich, false)
}

/// `across`: hardlinks may also point to files of earlier layers.
fn random_layer_links(r: &mut Rng, below: &Fs, rich: bool, across: bool) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let n = 1 + r.below(if rich { 12 } else { 7 });
    while entries.len() < n {
        let p = if rich { rich_path(r) } else { random_path(r) };
        let choice = r.below(if rich { 14 } else { 10 });
        let e = match choice {
            10 => file(&p, "xattr").xattr("user.k", *r.pick(&["1", "22"])).style(*r.pick(&[
                Style::Go,
                Style::Gnu,
                Style::Pax,
            ])),
            11 => chardev(&p, r.below(3) as u32, 1),
            12 => opaque(&p), // without the directory's own entry
            13 => fifo(&p).style(Style::Gnu),
            0..=2 => file(&p, *r.pick(&["x", "y", "zz", ""]))
                .mode(*r.pick(&[0o644, 0o600, 0o4755]))
                .owner(r.below(2) as u64, 0)
                .mtime(r.below(3) as u64),
            3 | 4 => dir(&p).mode(*r.pick(&[0o755, 0o700, 0o1777])).mtime(r.below(3) as u64),
            5 => symlink(&p, *r.pick(&["a", "/b", "../c"])),
            6 | 7 => whiteout(&p),
            8 => {
                entries.push(dir(&p));
                opaque(&p)
            }
            _ => {
                let mut now = below.clone();
                now.apply(&tar(&entries));
                let written: Vec<String> = entries
                    .iter()
                    .filter(|e| {
                        matches!(e.kind, EKind::File(_) | EKind::Symlink(_) | EKind::Hardlink(_) | EKind::Char(..))
                            && !show(&e.path).contains(".wh.")
                    })
                    .map(|e| show(&e.path))
                    .filter(|t| now.get(t).is_some_and(|n| n.kind != NKind::Dir))
                    .collect();
                let mut written = written;
                if across {
                    written.extend(now.nodes.iter().filter(|(_, n)| n.kind != NKind::Dir).map(|(p, _)| show(p)));
                }
                if written.is_empty() {
                    continue;
                }
                let t = r.pick(&written).clone();
                if t == p || t.starts_with(&format!("{p}/")) || p.starts_with(&format!("{t}/")) {
                    continue;
                }
                let n = now.get(&t).unwrap();
                hardlink(&p, &t).mode(n.mode).owner(n.uid, n.gid).mtime(n.mtime)
            }
        };
        entries.push(e);
    }
    entries
}

#[test]
fn random_layer_stacks_give_the_same_filesystem_from_every_squash_point() {
    random_stacks(false, 300, 1);
}

#[test]
fn random_stacks_with_long_names_xattrs_devices_and_bare_opaque_markers() {
    random_stacks(true, 150, 7);
}

fn random_stacks(rich: bool, default_seeds: u64, salt: u64) {
    // RULES_SEEDS=n tries more stacks.
    let seeds: u64 = std::env::var("RULES_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(default_seeds);
    for seed in 1..=seeds {
        let mut r = Rng((seed + salt * 1_000_003).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let count = 2 + r.below(if rich { 5 } else { 4 });
        let mut fs = Fs::new();
        let mut layers = Vec::new();
        for _ in 0..count {
            let l = random_layer(&mut r, &fs, rich);
            fs.apply(&tar(&l));
            layers.push(l);
        }
        let result = std::panic::catch_unwind(|| run_all_points(&layers));
        if result.is_err() {
            let shown: Vec<Vec<String>> = layers
                .iter()
                .map(|l| l.iter().map(|e| format!("{} {:?} {:o}", show(&e.path), e.kind, e.mode)).collect())
                .collect();
            panic!("seed {seed} fails; layers:\n{shown:#?}");
        }
    }
}

#[test]
fn kept_directory_holding_a_whiteout_survives_an_opaque_parent_from_every_squash_point() {
    // The deleting layer holds `c/c` (it deletes something in it), so the opaque marker on
    // `c` in that same layer does not hide `c/c`: squashing from any point must agree.
    let layers = vec![
        vec![dir("c"), dir("c/c").mode(0o700), file("c/c/old", "o"), file("c/x", "x")],
        vec![file("c/c/t", "t")],
        vec![dir("c"), whiteout("c/c/t"), opaque("c"), file("c/n", "n")],
    ];
    for s in run_all_points(&layers) {
        assert_eq!(s.after.paths(), vec!["", "c", "c/c", "c/n"]);
    }
}

#[test]
fn docker25_archive_and_symlinked_repeated_layers_work() {
    let same = tar(&[file("stamp", "same")]);
    let spec = Image::new(vec![
        Layer::plain(tar(&[dir("etc"), file("etc/a", "a")])),
        Layer::plain(same.clone()),
        Layer::gzip(tar(&[whiteout("etc/a"), whiteout("stamp")])),
        Layer::plain(same),
    ]);
    let d25 = spec.docker25_save();
    for from in [SquashFrom::Root, layer_id(&spec, 0), SquashFrom::Layer(digest(&spec.layers[2].stored))] {
        let s = run_archive(&spec, d25.clone(), from);
        assert_eq!(content(&s.after, "stamp"), b"same");
    }
    let linked = spec.docker_save_as(Folders::SymlinkedRepeats);
    for from in [SquashFrom::Root, layer_id(&spec, 0), layer_id(&spec, 2)] {
        let s = run_archive(&spec, linked.clone(), from);
        assert!(s.after.get("etc/a").is_none());
    }
    // -from by the `<id>` folder name (legacy id) of the third layer.
    let (_, r) = squash(&linked, SquashFrom::Layer(v1_id(2)[..16].to_string())).unwrap();
    assert_eq!(r.from.layer_index, Some(2));
}

#[test]
fn files_larger_than_the_copy_and_read_buffers_are_copied_whole() {
    let big =
        |seed: u8, n: usize| -> Vec<u8> { (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect() };
    let l0 = tar(&[file("big1", big(1, 5 << 20)), file("small", "s"), file("big2", big(2, (9 << 20) + 7))]);
    let l1 = tar(&[file("big1", big(3, 1 << 20)), file("after", "a"), file("big3", big(4, (4 << 20) + 513))]);
    let l2 = tar(&[whiteout("big2"), file("last", big(5, 3000))]);
    for stored in [|t: &Vec<u8>| t.clone(), |t: &Vec<u8>| gzip(t)] {
        let spec = Image::new([&l0, &l1, &l2].iter().map(|t| Layer::new((*t).clone(), stored(t))).collect());
        for from in [SquashFrom::Root, layer_id(&spec, 0)] {
            let s = run(&spec, from);
            assert_eq!(content(&s.after, "big1"), big(3, 1 << 20));
            assert_eq!(content(&s.after, "big3"), big(4, (4 << 20) + 513));
        }
    }
}

#[test]
fn layers_docker_cannot_apply_are_refused_as_unsupported() {
    let bad_layers = vec![
        ("hardlink to nothing", tar(&[hardlink("l", "missing")])),
        ("hardlink before its target", tar(&[hardlink("l", "t"), file("t", "t")])),
        ("hardlink to a directory", tar(&[dir("d"), hardlink("l", "d")])),
        ("name climbing out of the root", tar(&[file("../escape", "x")])),
        ("hardlink climbing out of the root", tar(&[file("t", "t"), hardlink("l", "../../t")])),
    ];
    for (what, bad) in bad_layers {
        let spec = Image::new(vec![Layer::plain(tar(&[file("a", "a")])), Layer::plain(bad)]);
        let e = squash(&spec.docker_save(), SquashFrom::Root).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unsupported, "{what}: {e}");
    }
}

#[test]
fn random_stacks_with_hardlinks_across_layers() {
    // Links to files of earlier layers: from root the link groups must match too; from
    // a middle layer a link to a kept file becomes a copy (contents must match).
    let seeds: u64 = std::env::var("RULES_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(150);
    for seed in 1..=seeds {
        let mut r = Rng((seed + 99_000_017).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let count = 2 + r.below(4);
        let mut fs = Fs::new();
        let mut layers = Vec::new();
        for _ in 0..count {
            let l = random_layer_links(&mut r, &fs, false, true);
            fs.apply(&tar(&l));
            layers.push(l);
        }
        let result = std::panic::catch_unwind(|| {
            let spec = Image::from_entries(&layers);
            run(&spec, SquashFrom::Root);
            for k in 0..layers.len() - 1 {
                let id = spec.layers[k].diff_id.clone();
                if spec.layers.iter().filter(|l| l.diff_id == id).count() == 1 {
                    run_checked(&spec, spec.docker_save(), SquashFrom::Layer(id), false);
                }
            }
        });
        if result.is_err() {
            let shown: Vec<Vec<String>> = layers
                .iter()
                .map(|l| l.iter().map(|e| format!("{} {:?} {:o}", show(&e.path), e.kind, e.mode)).collect())
                .collect();
            panic!("seed {seed} fails; layers:\n{shown:#?}");
        }
    }
}
