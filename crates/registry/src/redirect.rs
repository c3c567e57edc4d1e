//! Redirects, one hop at a time. Hosts never follow them (host.rs): registries send blob
//! GETs to storage (S3, a CDN) that signs its own URLs, and an HTTP library's own rule
//! ("keep the login for the same host name") would hand the registry's login to another
//! port or scheme of that host. Here each hop is a new request, checked like the first:
//! the login goes only to the origin it is for, and plain HTTP only where allowed.

use crate::urls::{self, Url};

/// The most hops one request may take (as Docker's and Go's clients allow).
pub(crate) const MAX_HOPS: usize = 10;

/// Where a redirect answer sends the request next, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hop {
    /// The absolute URL of the next request.
    pub(crate) url: String,
    /// Its method: a 303, and a 301/302 to a POST, become GET (as browsers and Go do).
    pub(crate) method: &'static str,
    /// Is the body sent again? Only for 307 and 308, which promise the same request.
    pub(crate) keeps_body: bool,
}

/// The next hop of a `status` answer with `location` to `method url`; None when the answer
/// is not a redirect to follow (not 301/302/303/307/308, or no Location): it is the answer.
/// Err when the Location is there but is not a URL.
pub(crate) fn next(
    method: &'static str,
    url: &str,
    status: u16,
    location: Option<&str>,
) -> Option<Result<Hop, String>> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = location?;
    let Some(target) = urls::join(url, location) else {
        return Some(Err(format!(
            "a redirect ({status}) to {:?}, which is not a URL",
            crate::error::short(location, 200)
        )));
    };
    let (method, keeps_body) = match status {
        307 | 308 => (method, true),
        303 if method != "HEAD" => ("GET", false),
        301 | 302 if method == "POST" => ("GET", false),
        _ => (method, false),
    };
    Some(Ok(Hop { url: target, method, keeps_body }))
}

/// `scheme://host[:port]` of `url` (default ports dropped), the unit a login belongs to;
/// None when `url` is not an absolute URL.
pub(crate) fn origin(url: &str) -> Option<String> {
    let u = Url::parse(url)?;
    Some(format!("{}://{}", u.scheme, u.host_port()))
}

/// Do `a` and `b` have the same origin (scheme, host and port)?
pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_origin_is_the_same_scheme_host_and_port_and_nothing_less() {
        let reg = "http://127.0.0.1:5600/v2/r/blobs/x";
        assert!(same_origin(reg, "http://127.0.0.1:5600/blob"));
        assert!(same_origin("https://reg.example/v2/", "https://REG.example:443/x"));
        for other in [
            "http://127.0.0.1:5601/blob",       // another port of the same host
            "https://127.0.0.1:5600/blob",      // another scheme
            "http://127.0.0.2:5600/blob",       // another address
            "http://localhost:5600/blob",       // another name for it
            "http://127.0.0.1:5600@evil.test/", // userinfo tricks name evil.test
        ] {
            assert!(!same_origin(reg, other), "{other}");
        }
        assert!(!same_origin(reg, "/relative"), "a relative URL has no origin");
    }

    #[test]
    fn redirects_keep_the_method_and_body_only_when_the_status_promises_it() {
        let hop = |m, s| next(m, "https://r/v2/x", s, Some("https://s3/b?sig=1")).unwrap().unwrap();
        assert_eq!(hop("GET", 307), Hop { url: "https://s3/b?sig=1".into(), method: "GET", keeps_body: true });
        assert_eq!((hop("PUT", 308).method, hop("PUT", 308).keeps_body), ("PUT", true));
        assert_eq!((hop("POST", 302).method, hop("POST", 302).keeps_body), ("GET", false));
        assert_eq!((hop("PUT", 303).method, hop("HEAD", 303).method), ("GET", "HEAD"));
        assert_eq!(hop("HEAD", 301).method, "HEAD");
        assert_eq!(next("GET", "https://r/v2/x", 304, Some("https://s3/b")), None, "not a redirect");
        assert_eq!(next("GET", "https://r/v2/x", 302, None), None, "no Location: the answer as it is");
        assert!(next("GET", "https://r/v2/x", 302, Some("\u{7}")).unwrap().is_err());
    }

    #[test]
    fn a_relative_location_is_resolved_against_the_request() {
        let to = |loc| next("GET", "https://r:5000/v2/a/blobs/sha256:1?x=1", 307, Some(loc)).unwrap().unwrap().url;
        assert_eq!(to("/storage/b"), "https://r:5000/storage/b");
        assert_eq!(to("//cdn.example/b"), "https://cdn.example/b");
        assert_eq!(to("other"), "https://r:5000/v2/a/blobs/other");
        assert_eq!(to("http://127.0.0.1:9/b"), "http://127.0.0.1:9/b");
    }
}
