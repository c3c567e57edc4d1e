//! Sizes, tags and ids as the CLI shows them.

/// A size in decimal units with one decimal: `999 B`, `1.5 kB`, `2.0 GB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// An image's tags, comma-separated, or `<untagged>`.
pub fn tags(t: &[String]) -> String {
    if t.is_empty() {
        "<untagged>".into()
    } else {
        t.join(", ")
    }
}

/// An id (`sha256:…` or bare hex) as the 12 characters `docker images` shows.
pub fn short(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// `s` on one line, cut to `n` characters with an ellipsis.
pub fn clip(s: &str, n: usize) -> String {
    let one_line = s.replace(['\n', '\t'], " ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        format!("{}…", one_line.chars().take(n - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_ids_and_commands_are_shown_short() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1500), "1.5 kB");
        assert_eq!(bytes(1250), "1.2 kB", "ties round to even, as Rust's {{:.1}} does");
        assert_eq!(tags(&[]), "<untagged>");
        assert_eq!(short("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(clip("a\tb\nc", 10), "a b c");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
