//! Image references for `-t`: Docker's grammar, so that a tag `docker load` would
//! refuse is refused here first, with the reason.

use crate::error::{Error, ErrorCode, Result};

fn bad(tag: &str, why: &str) -> Error {
    Error::new(ErrorCode::BadTag, format!("`{tag}` is not a valid image tag: {why} (expected e.g. `myimage:squashed` or `registry:5000/team/app:1.2`)"))
}

fn path_component_ok(c: &str) -> bool {
    // [a-z0-9]+ (( "." | "_" | "__" | "-"+ ) [a-z0-9]+)*
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_lowercase() && !b[0].is_ascii_digit() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        match ch {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || !b.get(i).is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return false;
        }
    }
    true
}

fn domain_ok(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Validates `name[:tag]` and returns it with `:latest` added when no tag is given.
pub fn normalize_tag(input: &str) -> Result<String> {
    let t = input.trim();
    if t.is_empty() {
        return Err(bad(input, "it is empty"));
    }
    if t.contains('@') {
        return Err(bad(input, "a digest (@sha256:...) cannot be used as a tag"));
    }
    let last_slash = t.rfind('/');
    let (name, tag) = match t.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => (&t[..i], Some(&t[i + 1..])),
        _ => (t, None),
    };
    if name.len() > 255 {
        return Err(bad(input, "the name is longer than 255 characters"));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    let first = parts[0];
    if parts.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase()))
    {
        if !domain_ok(first) {
            return Err(bad(input, "the registry host is malformed"));
        }
        parts.remove(0);
    }
    for c in &parts {
        if !path_component_ok(c) {
            let why = if c.bytes().any(|b| b.is_ascii_uppercase()) {
                "repository names must be lowercase"
            } else {
                "repository names use only a-z, 0-9 and single separators . _ __ -"
            };
            return Err(bad(input, why));
        }
    }
    let tag = tag.unwrap_or("latest");
    let tb = tag.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if tb.is_empty() || tb.len() > 128 || !word(tb[0]) || !tb.iter().all(|&b| word(b) || b == b'.' || b == b'-') {
        return Err(bad(input, "a tag is 1-128 characters of letters, digits, _ . - and cannot start with . or -"));
    }
    Ok(format!("{name}:{tag}"))
}

/// A tag as containerd names images: the registry and `library/` that Docker implies,
/// written out (`app:1` is `docker.io/library/app:1`).
pub(crate) fn full_name(tag: &str) -> String {
    let first = tag.split('/').next().unwrap_or("");
    let has_domain = tag.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_domain {
        tag.to_string()
    } else if tag.contains('/') {
        format!("docker.io/{tag}")
    } else {
        format!("docker.io/library/{tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_spell_out_what_docker_implies() {
        assert_eq!(full_name("app:sq"), "docker.io/library/app:sq");
        assert_eq!(full_name("team/app:1"), "docker.io/team/app:1");
        assert_eq!(full_name("registry:5000/team/app:1.2"), "registry:5000/team/app:1.2");
        assert_eq!(full_name("localhost/app:1"), "localhost/app:1");
        assert_eq!(full_name("docker.io/library/app:1"), "docker.io/library/app:1");
    }

    #[test]
    fn valid_tags_are_kept_and_latest_is_added() {
        assert_eq!(normalize_tag("app").unwrap(), "app:latest");
        assert_eq!(normalize_tag("app:squashed").unwrap(), "app:squashed");
        assert_eq!(normalize_tag("registry:5000/team/app:1.2").unwrap(), "registry:5000/team/app:1.2");
        assert_eq!(normalize_tag("localhost/a__b/c-d:v_1").unwrap(), "localhost/a__b/c-d:v_1");
    }

    #[test]
    fn invalid_tags_are_refused_with_a_reason() {
        for t in ["", "App:1", "app:", "app:-x", "a..b", "-app", "app@sha256:00", "app:has space", "a/b:"] {
            let e = normalize_tag(t).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadTag, "{t}");
        }
    }
}
