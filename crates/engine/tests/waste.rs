//! `inspect`'s wasted space on real archives: grouped by the folder a later layer deleted
//! (or by folder for files removed one by one), and dive's efficiency score, each byte once.

use squash_engine::{Archive, ImageInfo, SliceSource};
use squash_testkit::{dir, file, hardlink, opaque, tar, whiteout, Image, Layer};

fn inspect(img: &Image) -> ImageInfo {
    let bytes = img.docker_save();
    let a = Archive::open(Box::new(SliceSource(&bytes))).unwrap();
    a.inspect(None, None, true, &mut |_| true).unwrap().images.remove(0)
}

#[test]
fn a_deleted_folder_is_one_group_and_files_overwritten_one_by_one_are_grouped_by_folder() {
    let sdk: Vec<_> = (0..30).map(|i| file(format!("usr/lib/sdk/pkg{}/f{i}", i % 3), vec![b'x'; 100 + i])).collect();
    let mut l0 = vec![dir("usr"), dir("usr/lib"), dir("usr/lib/sdk"), dir("etc")];
    l0.extend(sdk);
    l0.extend([file("etc/a", vec![1; 40]), file("etc/b", vec![2; 60]), file("keep", vec![3; 1000])]);
    let l1 = vec![whiteout("usr/lib/sdk"), file("etc/a", vec![4; 10]), file("etc/b", vec![5; 20])];
    let info = inspect(&Image::new(vec![Layer::plain(tar(&l0)), Layer::plain(tar(&l1)).by("RUN rm -rf /usr/lib/sdk")]));

    let sdk_bytes: u64 = (0..30).map(|i| 100 + i).sum();
    let groups: Vec<(&str, u64, u64, usize, usize, &str)> = info
        .wasted_groups
        .iter()
        .map(|g| (g.folder.as_str(), g.files, g.size, g.layer_index, g.removed_by, g.how.as_str()))
        .collect();
    assert_eq!(groups, vec![("usr/lib/sdk/", 30, sdk_bytes, 0, 1, "deleted"), ("etc/", 2, 100, 0, 1, "overwritten")]);
    assert_eq!(info.wasted_groups[0].largest.len(), 10, "ten largest files per group");
    assert_eq!(info.wasted_groups[0].largest[0].path, "usr/lib/sdk/pkg2/f29");
    assert_eq!(info.wasted_bytes, sdk_bytes + 100);

    // dive's rule: smallest size per path (0 once deleted) over all file bytes.
    let kept = 1000 + 10 + 20;
    let all = sdk_bytes + 40 + 60 + 1000 + 10 + 20;
    let e = info.efficiency.unwrap();
    assert!((e - kept as f64 / all as f64).abs() < 1e-12, "{e}");
}

#[test]
fn an_opaque_folder_groups_what_it_hides_and_a_surviving_hardlink_keeps_its_bytes() {
    let l0 = vec![
        dir("opt"),
        dir("opt/app"),
        file("opt/app/old1", vec![1; 500]),
        file("opt/app/old2", vec![1; 300]),
        file("data", vec![7; 800]),
        hardlink("data.link", "data"),
    ];
    let l1 = vec![dir("opt/app"), opaque("opt/app"), file("opt/app/new", vec![2; 50]), whiteout("data")];
    let info = inspect(&Image::new(vec![Layer::plain(tar(&l0)), Layer::plain(tar(&l1))]));
    let groups: Vec<(&str, u64, u64)> =
        info.wasted_groups.iter().map(|g| (g.folder.as_str(), g.files, g.size)).collect();
    assert_eq!(groups, vec![("opt/app/", 2, 800)], "data survives as data.link: not wasted");
    let e = info.efficiency.unwrap();
    assert!((e - (800.0 + 50.0) / (500.0 + 300.0 + 800.0 + 50.0)).abs() < 1e-12, "{e}");
}

#[test]
fn an_image_without_waste_scores_one_and_has_no_groups() {
    let info = inspect(&Image::new(vec![Layer::plain(tar(&[file("a", b"abc")]))]));
    assert!(info.wasted_groups.is_empty());
    assert_eq!(info.efficiency, Some(1.0));
    let bytes = Image::new(vec![Layer::plain(tar(&[file("a", b"abc")]))]).docker_save();
    let listed = Archive::open(Box::new(SliceSource(&bytes))).unwrap().list().unwrap().images.remove(0);
    assert_eq!(listed.efficiency, None, "unknown until the layers are read");
}
