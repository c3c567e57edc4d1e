//! Path rules of `docker load` + a container: names are cleaned as Go's `filepath.Clean`
//! does (`a/./b`, `a//b`, `a/x/../b` are all `a/b`), a leading `/` roots the name, and a
//! name that climbs above the root is refused, as Docker refuses it ("breakout").
//! Names are bytes: any byte but `/` and NUL is legal in a Linux file name.

/// Splits a tar entry name into clean components. None if it climbs above the root.
pub fn clean(name: &[u8]) -> Option<Vec<&[u8]>> {
    let rooted = name.first() == Some(&b'/');
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in name.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() && !rooted {
                    return None;
                }
            }
            c => parts.push(c),
        }
    }
    Some(parts)
}

/// Joins components with `/`.
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(p);
    }
    out
}

/// For display: lossy UTF-8.
pub fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<String> {
        clean(s.as_bytes()).map(|p| String::from_utf8(join(&p)).unwrap())
    }

    #[test]
    fn clean_follows_go_filepath_clean() {
        assert_eq!(c("./a/b/"), Some("a/b".into()));
        assert_eq!(c("a//b/./c"), Some("a/b/c".into()));
        assert_eq!(c("a/x/../b"), Some("a/b".into()));
        assert_eq!(c("/etc/passwd"), Some("etc/passwd".into()));
        assert_eq!(c("./"), Some("".into()));
    }

    #[test]
    fn names_climbing_above_the_root_are_refused_unless_rooted() {
        assert_eq!(c("../etc"), None);
        assert_eq!(c("a/../../b"), None);
        assert_eq!(c("/../etc"), Some("etc".into()));
    }

    #[test]
    fn dots_inside_names_are_plain_names() {
        assert_eq!(c("a..b/..c/.d"), Some("a..b/..c/.d".into()));
    }
}
