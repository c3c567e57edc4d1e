//! The little URL handling the Distribution API needs: a URL's scheme and host, a Location
//! resolved against the registry, query pairs and forms (application/x-www-form-urlencoded).
//! Not the `url` crate: its IDNA tables would be most of what the crate adds to the npm
//! package's wasm, and registry URLs are ASCII hosts the registry itself hands out.

/// The parts of an absolute `scheme://authority/path?query` URL the crate reads.
pub(crate) struct Url {
    /// In lower case.
    pub(crate) scheme: String,
    /// `host` or `host:port` (lower case, a scheme's default port dropped, as `url` does).
    host_port: String,
}

impl Url {
    /// None when `s` is not an absolute URL with a host.
    pub(crate) fn parse(s: &str) -> Option<Url> {
        let (scheme, rest) = s.split_once("://")?;
        let mut chars = scheme.chars();
        if !chars.next()?.is_ascii_alphabetic()
            || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_ascii_lowercase();
        if host_port.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let default = match scheme.as_str() {
            "https" => Some(":443"),
            "http" => Some(":80"),
            _ => None,
        };
        let host_port = match default.and_then(|d| host_port.strip_suffix(d)) {
            Some(h) => h.to_string(),
            None => host_port,
        };
        Some(Url { scheme, host_port })
    }

    /// `host[:port]`; empty when the URL has no host.
    pub(crate) fn host_port(&self) -> &str {
        &self.host_port
    }
}

/// `loc` (a Location header: absolute, `//host/…`, `/path`, or relative) against `base`
/// (the URL it answered: `scheme://host[:port]` with or without a path); None when it
/// cannot be one.
pub(crate) fn join(base: &str, loc: &str) -> Option<String> {
    let loc = loc.trim();
    if loc.is_empty() || loc.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    if Url::parse(loc).is_some() {
        return Some(loc.to_string());
    }
    let b = Url::parse(base)?;
    if let Some(rest) = loc.strip_prefix("//") {
        return Some(format!("{}://{rest}", b.scheme));
    }
    // The base's origin as written, and its path up to the last '/' (query dropped).
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let path_at = base[after_scheme..].find(['/', '?', '#']).map_or(base.len(), |i| after_scheme + i);
    let origin = &base[..path_at];
    if loc.starts_with('/') {
        return Some(format!("{origin}{loc}"));
    }
    let path = base[path_at..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    Some(format!("{origin}{dir}{loc}"))
}

/// `url` with `key=value` added to its query (before any `#fragment`).
pub(crate) fn append_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let (head, fragment) = match url.split_once('#') {
        Some((h, f)) => (h, Some(f)),
        None => (url, None),
    };
    let mut out = head.to_string();
    for (k, v) in pairs {
        if !out.contains('?') {
            out.push('?');
        } else if !out.ends_with('?') && !out.ends_with('&') {
            out.push('&');
        }
        out.push_str(&form_encode(k));
        out.push('=');
        out.push_str(&form_encode(v));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// A form body: `k=v&k=v`, each form-encoded.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v))).collect::<Vec<_>>().join("&")
}

/// application/x-www-form-urlencoded: alphanumerics and `*-._` as they are, a space as `+`,
/// every other byte as `%XX` (the WHATWG serializer, which `url` follows).
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let u = Url::parse("HTTPS://User:pw@Reg.Example:443/v2/?x#y").unwrap();
        assert_eq!((u.scheme.as_str(), u.host_port()), ("https", "reg.example"));
        assert_eq!(Url::parse("http://127.0.0.1:5000").unwrap().host_port(), "127.0.0.1:5000");
        assert_eq!(Url::parse("http://[::1]:5000/v2/").unwrap().host_port(), "[::1]:5000");
        assert!(Url::parse("/v2/x").is_none());
        assert!(Url::parse("1http://x").is_none());
        assert_eq!(Url::parse("https:///x").unwrap().host_port(), "");
    }

    #[test]
    fn locations() {
        let b = "http://127.0.0.1:5000";
        assert_eq!(
            join(b, "/v2/a/blobs/uploads/u?_state=s").unwrap(),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u?_state=s"
        );
        assert_eq!(join(b, "https://s3.example/u").unwrap(), "https://s3.example/u");
        assert_eq!(join(b, "//other:1/u").unwrap(), "http://other:1/u");
        assert_eq!(join(b, "u").unwrap(), "http://127.0.0.1:5000/u");
        assert!(join(b, "").is_none());
    }

    #[test]
    fn queries_and_forms() {
        let d = "sha256:ab";
        assert_eq!(append_query("http://r/u?_state=x", &[("digest", d)]), "http://r/u?_state=x&digest=sha256%3Aab");
        assert_eq!(append_query("http://r/u", &[("digest", d)]), "http://r/u?digest=sha256%3Aab");
        assert_eq!(
            append_query("https://auth/token", &[("service", "reg"), ("scope", "repository:a/b:pull,push")]),
            "https://auth/token?service=reg&scope=repository%3Aa%2Fb%3Apull%2Cpush"
        );
        assert_eq!(form(&[("a", "x y"), ("b", "é")]), "a=x+y&b=%C3%A9");
    }
}
