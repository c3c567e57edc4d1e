//! Paths in an image as byte strings, cleaned as Docker cleans tar names.

/// A tar name as a path in the image: `.`, empty parts and `..` resolved, no slash at
/// either end.
pub fn clean_path(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join(&b'/')
}

/// The directory holding a cleaned path (`""` for the root's children); None for the root.
pub(crate) fn parent_of(p: &[u8]) -> Option<&[u8]> {
    if p.is_empty() {
        return None;
    }
    Some(match p.iter().rposition(|&b| b == b'/') {
        Some(i) => &p[..i],
        None => b"",
    })
}

/// Whether `p` is strictly below directory `d` (everything is below the root `""`).
pub(crate) fn is_under(p: &[u8], d: &[u8]) -> bool {
    if d.is_empty() {
        return !p.is_empty();
    }
    p.len() > d.len() && p.starts_with(d) && p[d.len()] == b'/'
}

/// A path for messages.
pub fn show(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}
