//! Hostile and broken input: every case ends in a clear error (a code for programs, a
//! message a user can act on), never a panic, a hang or unbounded memory.

use squash_engine::{Archive, Error, ErrorCode, SliceSource, SquashFrom, SquashOptions};
use squash_testkit::{
    digest, dir, file, gzip, hardlink, sample_layers, set_checksum, symlink, tar, v1_id, zstd, Entry, Folders, Header,
    Image, Layer,
};

fn open(bytes: Vec<u8>) -> Result<Archive<'static>, Error> {
    Archive::open(Box::new(SliceSource(bytes)))
}

fn squash_with(bytes: Vec<u8>, opts: SquashOptions) -> Result<Vec<u8>, Error> {
    let a = open(bytes)?;
    let mut out = Vec::new();
    a.squash(&opts, &mut out, &mut |_| true)?;
    Ok(out)
}

fn squash(bytes: Vec<u8>) -> Result<Vec<u8>, Error> {
    squash_with(bytes, SquashOptions { from: SquashFrom::Root, ..Default::default() })
}

#[track_caller]
fn expect(r: Result<Vec<u8>, Error>, code: ErrorCode, words: &[&str]) -> Error {
    let e = r.expect_err("this input must be refused");
    assert_eq!(e.code, code, "wrong code for: {}", e.message);
    for w in words {
        assert!(e.message.contains(w), "message lacks `{w}`: {}", e.message);
    }
    e
}

/// `docker save` as Docker 1.10–24 writes it, one folder per layer.
fn docker_archive(layers: &[Layer]) -> Vec<u8> {
    Image::new(layers.to_vec()).docker_save_as(Folders::ByPosition)
}

/// Its members (layer folders, config, manifest.json last), for tests that change some.
fn docker_members(layers: &[Layer]) -> Vec<Entry> {
    Image::new(layers.to_vec()).docker_members(Folders::ByPosition)
}

fn config(layers: &[Layer]) -> Vec<u8> {
    Image::new(layers.to_vec()).config_bytes()
}

fn layers2() -> Vec<Layer> {
    vec![
        Layer::plain(tar(&[dir("etc/"), file("etc/a", b"aaaa"), file("bin/x", b"x")])).by("ADD file:00 in /"),
        Layer::plain(tar(&[file("etc/b", b"bbbb"), file("etc/.wh.a", b"")])),
    ]
}

/// Offset of the header of the member whose name starts with `name`.
fn member_at(archive: &[u8], name: &str) -> usize {
    let mut pos = 0;
    while pos + 512 <= archive.len() {
        let h = &archive[pos..pos + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        if h.starts_with(name.as_bytes()) {
            return pos;
        }
        let size = u64::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap().trim_matches(char::from(0)), 8)
            .unwrap() as usize;
        pos += 512 + size.div_ceil(512) * 512;
    }
    panic!("no member {name}");
}

#[test]
fn a_valid_archive_squashes_and_the_helpers_are_sound() {
    let out = squash(docker_archive(&layers2())).unwrap();
    let again = open(out).unwrap();
    again.inspect(None, None, true, &mut |_| true).unwrap();
    squash(Image::new(sample_layers()).oci_layout()).unwrap();
}

#[test]
fn empty_input() {
    expect(squash(Vec::new()), ErrorCode::NotAnImage, &["empty", "docker save"]);
}

#[test]
fn not_a_tar() {
    let text = b"hello, this is a text file and not an archive at all\n".repeat(40);
    expect(squash(text), ErrorCode::NotAnImage, &["not a tar archive", "docker save"]);
}

#[test]
fn a_tar_that_is_not_an_image() {
    let t = tar(&[file("README", b"hi"), dir("src/")]);
    expect(squash(t), ErrorCode::NotAnImage, &["not an image", "manifest.json"]);
}

#[test]
fn truncated_in_a_header() {
    let a = docker_archive(&layers2());
    let at = member_at(&a, "manifest.json");
    expect(squash(a[..at + 100].to_vec()), ErrorCode::Corrupt, &["truncated"]);
}

#[test]
fn truncated_in_a_layer() {
    let a = docker_archive(&layers2());
    let at = member_at(&a, &format!("{}/layer.tar", v1_id(1)));
    expect(squash(a[..at + 512 + 700].to_vec()), ErrorCode::Corrupt, &["truncated", "layer.tar"]);
}

#[test]
fn truncated_in_manifest_json() {
    let a = docker_archive(&layers2());
    let at = member_at(&a, "manifest.json");
    expect(squash(a[..at + 512 + 20].to_vec()), ErrorCode::Corrupt, &["truncated", "manifest.json"]);
}

#[test]
fn truncated_gzip_archive() {
    let g = gzip(&docker_archive(&layers2()));
    expect(squash(g[..g.len() / 2].to_vec()), ErrorCode::Corrupt, &["gzip", "cannot be decompressed"]);
}

#[test]
fn corrupt_zstd_archive() {
    let mut z = zstd(&docker_archive(&layers2()));
    let n = z.len();
    z.truncate(n - n / 3);
    expect(squash(z), ErrorCode::Corrupt, &["zstd", "cannot be decompressed"]);
}

#[test]
fn truncated_gzip_layer() {
    let mut ls = layers2();
    let g = Layer::gzip(tar(&[file("etc/c", b"c".repeat(5000)), file("etc/d", b"d")]));
    ls.push(Layer::raw(g.stored[..g.stored.len() - 12].to_vec(), &g.diff_id));
    expect(squash(docker_archive(&ls)), ErrorCode::Corrupt, &["layer 2", "gzip", "damaged or truncated"]);
}

#[test]
fn corrupt_zstd_layer() {
    let mut ls = layers2();
    let z = Layer::zstd(tar(&[file("etc/c", b"c".repeat(5000))]));
    let mut stored = z.stored.clone();
    let n = stored.len();
    stored.truncate(n - 10);
    ls.push(Layer::raw(stored, &z.diff_id));
    expect(squash(docker_archive(&ls)), ErrorCode::Corrupt, &["layer 2", "zstd"]);
}

fn with_manifest(manifest: &[u8]) -> Vec<u8> {
    let mut members = docker_members(&layers2());
    members.pop();
    members.push(file("manifest.json", manifest));
    tar(&members)
}

#[test]
fn manifest_not_json() {
    expect(squash(with_manifest(b"[{\"Config\": ")), ErrorCode::Corrupt, &["manifest.json", "not valid JSON"]);
}

#[test]
fn manifest_missing_fields() {
    expect(squash(with_manifest(b"[{\"RepoTags\": []}]")), ErrorCode::Corrupt, &["manifest.json", "no Config"]);
    let cfg = String::from_utf8(config(&layers2())).unwrap();
    let name = format!("{}.json", &digest(cfg.as_bytes())[7..]);
    let m = format!("[{{\"Config\": \"{name}\"}}]");
    expect(squash(with_manifest(m.as_bytes())), ErrorCode::Corrupt, &["no Layers"]);
}

#[test]
fn manifest_points_to_absent_files() {
    let cfg = config(&layers2());
    let name = format!("{}.json", &digest(&cfg)[7..]);
    let m = format!("[{{\"Config\": \"{name}\", \"Layers\": [\"nothere/layer.tar\", \"x/layer.tar\"]}}]");
    expect(squash(with_manifest(m.as_bytes())), ErrorCode::Corrupt, &["lacks `nothere/layer.tar`"]);
    expect(
        squash(with_manifest(b"[{\"Config\": \"gone.json\", \"Layers\": []}]")),
        ErrorCode::Corrupt,
        &["lacks `gone.json`"],
    );
}

#[test]
fn index_json_broken() {
    let t = tar(&[file("oci-layout", b"{}"), file("index.json", b"{not json")]);
    expect(squash(t), ErrorCode::Corrupt, &["index.json", "not valid JSON"]);
    let t = tar(&[file("index.json", br#"{"manifests":[{"digest":"sha256:abcd"}]}"#)]);
    expect(squash(t), ErrorCode::NotAnImage, &["index.json", "not in the archive"]);
    let t = tar(&[file("index.json", br#"{"manifests":[{"mediaType":"x"}]}"#)]);
    expect(squash(t), ErrorCode::Corrupt, &["no digest"]);
}

#[test]
fn diff_ids_mismatch() {
    let mut ls = layers2();
    ls[1].diff_id = digest(b"something else");
    expect(squash(docker_archive(&ls)), ErrorCode::DigestMismatch, &["layer 1", "promises", "damaged or was altered"]);
}

/// Docker accepts an image listing the same layer twice (identical RUN steps give
/// identical layers), so the engine does too; only a layer whose content does not match
/// its diff_id is refused (diff_ids_mismatch).
#[test]
fn a_layer_listed_twice_is_accepted() {
    let ls = layers2();
    let twice = vec![ls[0].clone(), ls[1].clone(), ls[1].clone()];
    let out = squash(docker_archive(&twice)).unwrap();
    open(out).unwrap().inspect(None, None, true, &mut |_| true).unwrap();
    // The same member named twice in manifest.json.
    let cfg = config(&twice);
    let name = format!("{}.json", &digest(&cfg)[7..]);
    let l = format!("{}/layer.tar", v1_id(1));
    let mut members = docker_members(&ls);
    members.pop();
    members.push(file(&name, &cfg));
    let m = format!("[{{\"Config\": \"{name}\", \"Layers\": [\"{}/layer.tar\", \"{l}\", \"{l}\"]}}]", v1_id(0));
    members.push(file("manifest.json", m.as_bytes()));
    squash(tar(&members)).unwrap();
}

#[test]
fn from_matching_nothing() {
    let opts = SquashOptions { from: SquashFrom::Layer("ffffffffffffdead".into()), ..Default::default() };
    expect(
        squash_with(docker_archive(&layers2()), opts),
        ErrorCode::FromChoice,
        &["no layer", "ffffffffffffdead", "its layers are"],
    );
}

#[test]
fn from_matching_several_layers() {
    // Find two layers whose diff_ids share a first hex digit.
    let mut ls: Vec<Layer> = Vec::new();
    let prefix = loop {
        let l = Layer::plain(tar(&[file(format!("f{}", ls.len()), b"x")]));
        if let Some(p) = ls.iter().find(|o| o.diff_id[7..8] == l.diff_id[7..8]) {
            let p = p.diff_id[7..8].to_string();
            ls.push(l);
            break p;
        }
        ls.push(l);
    };
    let opts = SquashOptions { from: SquashFrom::Layer(prefix.clone()), ..Default::default() };
    expect(squash_with(docker_archive(&ls), opts), ErrorCode::FromChoice, &["matches 2 layers", "give more of the id"]);
}

#[test]
fn invalid_tag() {
    let opts = SquashOptions { from: SquashFrom::Root, tag: Some("Bad Tag:!".into()), ..Default::default() };
    expect(squash_with(docker_archive(&layers2()), opts), ErrorCode::BadTag, &["not a valid image tag"]);
}

#[test]
fn absurd_entry_size_in_a_layer() {
    let mut t = tar(&[file("a", b"a")]);
    t[124..136].copy_from_slice(b"77777777777\0");
    set_checksum(&mut t[..512]);
    let mut ls = layers2();
    ls.push(Layer::raw(t.clone(), &digest(&t)));
    expect(squash(docker_archive(&ls)), ErrorCode::Corrupt, &["layer 2", "truncated"]);
}

#[test]
fn absurd_member_size_in_the_archive() {
    let mut a = docker_archive(&layers2());
    let at = member_at(&a, "manifest.json");
    a[at + 124..at + 136].copy_from_slice(b"77777777777\0");
    set_checksum(&mut a[at..at + 512]);
    expect(squash(a), ErrorCode::Corrupt, &["truncated", "manifest.json"]);
}

#[test]
fn checksum_broken_header() {
    let mut a = docker_archive(&layers2());
    let at = member_at(&a, "manifest.json");
    a[at + 148] ^= 1;
    expect(squash(a), ErrorCode::Corrupt, &["checksum"]);
    let mut t = tar(&[file("x", b"x")]);
    t[0] = b'y';
    let mut ls = layers2();
    ls.push(Layer::raw(t.clone(), &digest(&t)));
    expect(squash(docker_archive(&ls)), ErrorCode::Corrupt, &["layer 2", "checksum"]);
}

#[test]
fn pax_records_with_bad_lengths() {
    for rec in [&b"99 path=x\n"[..], b"3 path=x\n", b"x path=x\n", b"10 pathx\n\n"] {
        let t = tar(&[file("x", b"x").pax(rec)]);
        let mut ls = layers2();
        ls.push(Layer::raw(t.clone(), &digest(&t)));
        expect(squash(docker_archive(&ls)), ErrorCode::Corrupt, &["layer 2", "PAX"]);
    }
}

#[test]
fn names_escaping_the_root_are_refused() {
    let mut ls = layers2();
    ls.push(Layer::plain(tar(&[file("a/../../etc/passwd", b"x")])));
    expect(squash(docker_archive(&ls)), ErrorCode::Unsupported, &["outside the image root", "a/../../etc/passwd"]);
}

#[test]
fn absolute_names_are_rooted_as_docker_does() {
    let mut ls = layers2();
    ls.push(Layer::plain(tar(&[file("/etc/abs", b"x"), file("/../etc/abs2", b"y")])));
    let out = squash(docker_archive(&ls)).unwrap();
    open(out).unwrap().inspect(None, None, true, &mut |_| true).unwrap();
}

#[test]
fn hardlink_to_an_absent_path() {
    let mut ls = layers2();
    ls.push(Layer::plain(tar(&[hardlink("etc/h", "etc/nothere")])));
    expect(squash(docker_archive(&ls)), ErrorCode::Unsupported, &["hardlink `etc/h`", "etc/nothere", "does not exist"]);
}

#[test]
fn symlink_loops_in_layers_are_kept() {
    let mut ls = layers2();
    ls.push(Layer::plain(tar(&[symlink("l1", "l2"), symlink("l2", "l1"), symlink("self", "self")])));
    let out = squash(docker_archive(&ls)).unwrap();
    open(out).unwrap().inspect(None, None, true, &mut |_| true).unwrap();
}

#[test]
fn symlink_loop_in_the_archive() {
    let mut members = docker_members(&layers2());
    members.pop();
    members.push(symlink("manifest.json", "m2"));
    members.push(symlink("m2", "manifest.json"));
    expect(squash(tar(&members)), ErrorCode::Corrupt, &["link loop", "manifest.json"]);
}

fn peak_rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A zstd frame: one raw block holding `head`, then RLE blocks of zeros (128 KiB from
/// 4 bytes each) to `total` bytes. Gzip cannot be a bomb past the limit: deflate expands
/// at most 1032 times, under the engine's 1100 ratio.
fn zstd_zero_bomb(head: &[u8], total: u64) -> Vec<u8> {
    let mut z = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
    let raw = (head.len() as u32) << 3;
    z.extend_from_slice(&raw.to_le_bytes()[..3]);
    z.extend_from_slice(head);
    let block: u64 = 128 << 10;
    let n = (total - head.len() as u64) / block;
    for i in 0..n {
        let last = u32::from(i + 1 == n);
        let h = ((block as u32) << 3) | (1 << 1) | last;
        z.extend_from_slice(&h.to_le_bytes()[..3]);
        z.push(0);
    }
    z
}

#[test]
fn decompression_bomb_layer_is_too_large_and_memory_stays_bounded() {
    let total: u64 = (4 << 30) + (256 << 20);
    let head = Header::new(b"zeros", b'0', total - 512 - 1024).encode();
    let bomb = zstd_zero_bomb(&head, total);
    assert!(bomb.len() < 200_000, "the bomb is small: {}", bomb.len());
    let mut ls = layers2();
    ls.push(Layer::raw(bomb, &digest(b"unknowable")));
    let before = peak_rss_kb();
    let e = expect(squash(docker_archive(&ls)), ErrorCode::TooLarge, &["layer 2", "decompression bomb"]);
    let grew = peak_rss_kb().saturating_sub(before);
    eprintln!("bomb: {} ; peak RSS grew by {} MiB", e.message, grew / 1024);
    assert!(grew < 256 << 10, "memory grew by {grew} KiB");
}

#[test]
fn decompression_bomb_archive_is_too_large() {
    let total: u64 = (4 << 30) + (128 << 20);
    let head = Header::new(b"zeros", b'0', total - 512 - 1024).encode();
    let bomb = zstd_zero_bomb(&head, total);
    let before = peak_rss_kb();
    let e = open(bomb).err().expect("the bomb must be refused");
    assert_eq!(e.code, ErrorCode::TooLarge, "{}", e.message);
    assert!(e.message.contains("archive decompresses to more than"), "{}", e.message);
    let grew = peak_rss_kb().saturating_sub(before);
    assert!(grew < 256 << 10, "memory grew by {grew} KiB");
}
