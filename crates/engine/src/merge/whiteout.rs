//! Whiteouts, the overlay convention by which a layer deletes what a lower one holds
//! (OCI image spec, "Whiteouts"; Docker's and containerd's archive code): the markers,
//! how a layer's entry is recognized as one, when the squashed layer must write one, and
//! the headers it writes.

use crate::path;
use crate::tar::header;

/// `dir/.wh.name` deletes `dir/name` (and its subtree) from the layers below.
pub const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// `dir/.wh..wh..opq` hides everything in `dir` that the layers below put there.
pub const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Other names under the prefix (`.wh..wh.plnk`, `.wh..wh.aufs`...) are AUFS metadata:
/// Docker skips them, and so do we.
const AUFS_META_PREFIX: &[u8] = b".wh..wh.";

/// What a layer entry named with the whiteout prefix means.
#[derive(Debug, PartialEq, Eq)]
pub enum Marker {
    /// Deletes this (clean) path.
    Whiteout(Vec<u8>),
    /// Hides the lower layers' contents of this directory.
    Opaque(Vec<u8>),
    /// AUFS metadata: ignored.
    AufsMeta,
}

/// Recognizes a marker from an entry's clean path components; `None` for ordinary entries.
pub fn recognize(parts: &[&[u8]]) -> Option<Marker> {
    let (name, parents) = parts.split_last()?;
    let rest = name.strip_prefix(WHITEOUT_PREFIX)?;
    let parent = path::join(parents);
    if *name == OPAQUE_MARKER {
        return Some(Marker::Opaque(parent));
    }
    if name.starts_with(AUFS_META_PREFIX) {
        return Some(Marker::AufsMeta);
    }
    let mut target = parent;
    if !target.is_empty() {
        target.push(b'/');
    }
    target.extend_from_slice(rest);
    Some(Marker::Whiteout(target))
}

/// What the merge knows about one path, for deciding its markers in the squashed layer.
pub struct PathState {
    /// The path existed in the kept base.
    pub in_base: bool,
    /// ...as a directory.
    pub base_dir: bool,
    /// An upper layer removed what the base had here (deleted, replaced or made opaque).
    pub hide_base: bool,
    /// The path exists at the top of the image.
    pub exists: bool,
    /// ...as a directory.
    pub is_dir: bool,
}

/// A path the base had and the upper layers deleted: the squashed layer writes a whiteout.
/// (A path deleted that the base never had needs none: nothing below shows it.)
pub fn needs_whiteout(s: &PathState) -> bool {
    !s.exists && s.in_base && s.hide_base
}

/// A directory of the base whose old contents an upper layer hid (opaque marker, or the
/// directory was deleted or replaced and made again): the squashed layer writes it with
/// an opaque marker, so the base's children stay hidden.
pub fn needs_opaque(s: &PathState) -> bool {
    s.hide_base && s.in_base && s.base_dir && s.is_dir
}

/// The header of a whiteout deleting `path`, as Docker's layer writer makes it.
pub fn whiteout_header(path: &[u8]) -> Vec<u8> {
    let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => (&b""[..], path),
    };
    let mut p = dir.to_vec();
    p.extend_from_slice(WHITEOUT_PREFIX);
    p.extend_from_slice(name);
    header::simple(&p, b'0', 0)
}

/// The header of the opaque marker of `dir`.
pub fn opaque_header(dir: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(OPAQUE_MARKER);
    header::simple(&p, b'0', 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &str) -> Vec<&[u8]> {
        p.split('/').map(str::as_bytes).collect()
    }

    #[test]
    fn a_whiteout_names_the_path_it_deletes_and_an_opaque_marker_its_directory() {
        assert_eq!(recognize(&parts("etc/.wh.passwd")), Some(Marker::Whiteout(b"etc/passwd".to_vec())));
        assert_eq!(recognize(&parts(".wh.top")), Some(Marker::Whiteout(b"top".to_vec())));
        assert_eq!(recognize(&parts("var/.wh..wh..opq")), Some(Marker::Opaque(b"var".to_vec())));
        assert_eq!(recognize(&parts(".wh..wh..opq")), Some(Marker::Opaque(Vec::new())));
    }

    #[test]
    fn aufs_metadata_is_recognized_and_ordinary_names_are_not_markers() {
        assert_eq!(recognize(&parts(".wh..wh.plnk/123.4")), None); // a directory of it, not a marker
        assert_eq!(recognize(&parts("x/.wh..wh.aufs")), Some(Marker::AufsMeta));
        assert_eq!(recognize(&parts("etc/wh.passwd")), None);
        assert_eq!(recognize(&parts("etc/a.wh.b")), None);
    }

    #[test]
    fn written_markers_read_back_as_what_they_mean() {
        let name = |h: &[u8]| tar::Header::from_byte_slice(&h[..512]).path_bytes().into_owned();
        assert_eq!(name(&whiteout_header(b"usr/lib/x")), b"usr/lib/.wh.x");
        assert_eq!(name(&opaque_header(b"usr")), b"usr/.wh..wh..opq");
        assert_eq!(name(&opaque_header(b"")), b".wh..wh..opq");
    }

    #[test]
    fn only_what_the_base_showed_needs_a_marker() {
        let s =
            |in_base, base_dir, hide_base, exists, is_dir| PathState { in_base, base_dir, hide_base, exists, is_dir };
        assert!(needs_whiteout(&s(true, false, true, false, false)));
        assert!(!needs_whiteout(&s(false, false, true, false, false)), "never in the base");
        assert!(!needs_whiteout(&s(true, false, true, true, false)), "replaced, not deleted");
        assert!(needs_opaque(&s(true, true, true, true, true)));
        assert!(!needs_opaque(&s(true, false, true, true, true)), "the base had a file there");
        assert!(!needs_opaque(&s(true, true, false, true, true)), "the base's children still show");
    }
}
