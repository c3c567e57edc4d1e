//! Image references with Docker's normalization (distribution/reference's
//! `ParseNormalizedNamed`): `app` is `docker.io/library/app:latest`.

use std::fmt;

use crate::error::{Error, Result};

/// Docker Hub's name in references and config.json keys.
pub(crate) const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's Distribution API answers.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The key docker login writes Docker Hub's credentials under.
const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// distribution/reference's `NameTotalLengthMax`.
const NAME_MAX: usize = 255;

/// A registry, a repository in it, and a tag or digest (or both: the digest wins for pulls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Docker's normalization: `app` -> docker.io/library/app:latest, `reg:5000/a/b@sha256:..`.
    /// `s` is what follows `docker://`. An uppercase repository is refused, as Docker does.
    pub fn parse(s: &str) -> Result<Reference> {
        // What looks like `user:password@` is never quoted back (to a terminal, a CI log):
        // only what follows its `@` is.
        let shown = match userinfo_end(s) {
            Some(at) if looks_like_login(&s[..at], &s[at + 1..]) => return Err(login_refused(&s[at + 1..])),
            Some(at) => format!("…@{}", &s[at + 1..]),
            None => s.to_string(),
        };
        let bad = |why: &str| Error::usage(format!("invalid reference {:?}: {why}", crate::error::short(&shown, 300)));
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("a 64-character hexadecimal string is an image id, not a repository"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(parse_digest(d).map_err(|w| bad(&w))?)),
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/' (a port's ':' does not).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(bad("a tag is 1-128 of A-Z a-z 0-9 _ . - and does not start with . or -"));
            }
        }
        let (registry, repository) = split_domain(name);
        if repository.to_lowercase() != repository {
            return Err(bad("the repository name must be lowercase"));
        }
        if !valid_host_port(&registry) {
            return Err(bad("the registry is not a host name, IPv4 or [IPv6] address with an optional port"));
        }
        if !repository.split('/').all(valid_path_component) {
            return Err(bad("each part of a repository is lowercase letters and digits, separated by . _ __ or -"));
        }
        if registry.len() + 1 + repository.len() > NAME_MAX {
            return Err(bad("the name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(Reference { registry, repository, tag, digest })
    }

    /// The registry as named: `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }
    /// The repository: `library/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }
    /// The tag, if any (`latest` when neither tag nor digest was given).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    /// The digest, if any: `sha256:<64 hex>`.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The same repository with another tag or digest; for the registry's answers about it.
    pub(crate) fn with_digest(&self, digest: &str) -> Reference {
        Reference { digest: Some(digest.to_string()), tag: None, ..self.clone() }
    }
    /// What the manifest is fetched or stored by: the digest when there is one, else the tag.
    pub(crate) fn manifest_key(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }
    /// The host and port the API is reached at (Docker Hub's API is not at docker.io).
    pub(crate) fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }
    /// The config.json key the docker CLI keeps this registry's credentials under.
    pub(crate) fn auth_key(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_AUTH_KEY
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Docker's `splitDockerDomain`: the first part is a registry only if it has a `.` or a
/// `:`, is `localhost`, or has an uppercase letter; Docker Hub's one-part names are official
/// images under `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut rest) = match name.split_once('/') {
        Some((d, r)) if d.contains(['.', ':']) || d == "localhost" || d.to_lowercase() != d => {
            (d.to_string(), r.to_string())
        }
        _ => (DOCKER_HUB.to_string(), name.to_string()),
    };
    if domain == "index.docker.io" {
        domain = DOCKER_HUB.to_string();
    }
    if domain == DOCKER_HUB && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
}

/// Where what may be a `user[:password]@` ends: the last `@` that does not start the
/// digest (`@sha256:…`, the only `@` a reference has; a password may hold `@` and `/`).
fn userinfo_end(s: &str) -> Option<usize> {
    let last = s.rfind('@')?;
    if digest_shaped(&s[last + 1..]) {
        s[..last].rfind('@')
    } else {
        Some(last)
    }
}

/// `algorithm:encoded` as distribution/reference's grammar has it, but not `host:port`
/// (an encoded part of 1-5 digits reads as a port, unless the algorithm is a known one:
/// `app@sha512:00` is a wrong digest, not a login).
fn digest_shaped(d: &str) -> bool {
    let Some((algo, enc)) = d.split_once(':') else { return false };
    let port = !enc.is_empty() && enc.len() <= 5 && enc.bytes().all(|b| b.is_ascii_digit());
    let known = matches!(algo, "sha256" | "sha384" | "sha512" | "blake3");
    !algo.is_empty()
        && !enc.is_empty()
        && (known || !port)
        && algo.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
}

/// Is `before@after` a login before a registry (`alice:pw@host/app`, `alice@host:5000`),
/// rather than a mistyped digest (`app@latest`)?
fn looks_like_login(before: &str, after: &str) -> bool {
    let host = after.split('/').next().unwrap_or("");
    let port = host.rsplit_once(':').is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    after.contains('/') || port || (before.contains(':') && !before.contains('/'))
}

/// A reference holding a login: refused, saying where logins come from instead.
fn login_refused(after: &str) -> Error {
    let first = after.split('/').next().unwrap_or("");
    // As split_domain: a first part that is no host is a Docker Hub repository.
    let login = if first.contains(['.', ':']) || first == "localhost" {
        format!("docker login {first}")
    } else {
        "docker login".to_string()
    };
    let shown = crate::error::short(after, 300);
    Error::usage(format!(
        "invalid reference {:?}: a user name or password does not belong in a reference (it is not used, \
         and it would be shown in logs); log in with `{login}` (logins are read from the docker config, \
         where the docker CLI keeps them) and give the reference without it: {shown}",
        format!("…@{shown}")
    ))
}

/// `sha256:<64 lowercase hex>`, the only digest the layout's `blobs/sha256/` can hold.
pub(crate) fn parse_digest(d: &str) -> std::result::Result<String, String> {
    match d.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
        }
        Some((algo, _)) if algo != "sha256" && !algo.is_empty() => {
            Err(format!("digest algorithm {:?} is not supported (only sha256)", crate::error::short(algo, 20)))
        }
        _ => Err("a digest is sha256: and 64 hexadecimal digits".to_string()),
    }
}

/// `[\w][\w.-]{0,127}`.
fn valid_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty() && b.len() <= 128 && word(b[0]) && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn valid_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|s| s == b'-')) {
            return false;
        }
    }
    true
}

/// `host[:port]`: DNS labels, an IPv4 address (a label too), or `[IPv6]`.
fn valid_host_port(hp: &str) -> bool {
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) => {
                if v6.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                match tail {
                    "" => return true,
                    t => match t.strip_prefix(':') {
                        Some(p) => (None, Some(p)),
                        None => return false,
                    },
                }
            }
            None => return false,
        }
    } else {
        match hp.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(hp), None),
        }
    };
    let label = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    };
    let host_ok = host.is_none_or(|h| h.split('.').all(label));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok());
    host_ok && port_ok
}

/// Docker takes these registries as insecure by itself: plain HTTP is allowed.
pub(crate) fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// May `host_port` be reached over plain HTTP or unverified TLS? Loopback, as Docker does by
/// itself, and what `-insecure-registry` names: host:port, or a host for any of its ports
/// (a scheme or a trailing `/` in the option is forgiven; hosts compare without case).
pub(crate) fn allows_insecure(insecure: &[String], host_port: &str) -> bool {
    let host = host_port.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map(|(h, _)| h);
    is_loopback(host_port)
        || insecure.iter().any(|i| {
            let i = i.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/');
            i.eq_ignore_ascii_case(host_port) || host.is_some_and(|h| i.eq_ignore_ascii_case(h))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parts(s: &str) -> (String, String, Option<String>, Option<String>) {
        let r = Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (r.registry().into(), r.repository().into(), r.tag().map(Into::into), r.digest().map(Into::into))
    }

    #[test]
    fn docker_hub_normalization() {
        let hub = |repo: &str, tag: &str| ("docker.io".to_string(), repo.to_string(), Some(tag.to_string()), None);
        assert_eq!(parts("app"), hub("library/app", "latest"));
        assert_eq!(parts("app:1.2"), hub("library/app", "1.2"));
        assert_eq!(parts("user/app"), hub("user/app", "latest"));
        assert_eq!(parts("docker.io/app"), hub("library/app", "latest"));
        assert_eq!(parts("index.docker.io/user/app:x"), hub("user/app", "x"));
        assert_eq!(parts("a/b/c"), hub("a/b/c", "latest"));
        assert_eq!(Reference::parse("app").unwrap().to_string(), "docker.io/library/app:latest");
        assert_eq!(Reference::parse("app").unwrap().api_host(), "registry-1.docker.io");
        assert_eq!(Reference::parse("app").unwrap().auth_key(), "https://index.docker.io/v1/");
    }

    #[test]
    fn registries_ports_and_digests() {
        assert_eq!(parts("reg:5000/a/b"), ("reg:5000".into(), "a/b".into(), Some("latest".into()), None));
        assert_eq!(parts("localhost/app:t"), ("localhost".into(), "app".into(), Some("t".into()), None));
        assert_eq!(parts("ghcr.io/o/app"), ("ghcr.io".into(), "o/app".into(), Some("latest".into()), None));
        assert_eq!(parts("[::1]:5000/app"), ("[::1]:5000".into(), "app".into(), Some("latest".into()), None));
        assert_eq!(parts(&format!("reg:5000/a/b@{D}")), ("reg:5000".into(), "a/b".into(), None, Some(D.into())));
        let both = format!("reg:5000/a:v1@{D}");
        assert_eq!(parts(&both), ("reg:5000".into(), "a".into(), Some("v1".into()), Some(D.into())));
        assert_eq!(Reference::parse(&both).unwrap().to_string(), both);
        assert_eq!(Reference::parse(&both).unwrap().manifest_key(), D);
        let upper = format!("app@sha256:{}", D[7..].to_uppercase());
        assert_eq!(Reference::parse(&upper).unwrap().digest(), Some(D));
        assert_eq!(Reference::parse("127.0.0.1:5000/a").unwrap().auth_key(), "127.0.0.1:5000");
        // An uppercase first part is a registry, as in Docker.
        assert_eq!(parts("Reg/app").0, "Reg");
    }

    #[test]
    fn refused() {
        for s in [
            "",
            "App",
            "docker.io/Library/app",
            "reg:5000/A/b",
            "app:",
            "app:-x",
            &format!("app:{}", "t".repeat(129)),
            "app@sha256:abc",
            "app@md5:0123456789abcdef0123456789abcdef",
            &format!("app@sha512:{}", "a".repeat(128)),
            "a//b",
            "a/b/",
            "-a",
            "a..b",
            "a___b",
            "reg:99999/a",
            "reg:/a",
            "[::zz]:5000/a",
            "-reg.io/a",
            &"a".repeat(256),
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a b",
            "app:t:t",
        ] {
            let e = Reference::parse(s).expect_err(s);
            assert_eq!(e.kind, crate::ErrorKind::Usage, "{s}");
        }
        let e = Reference::parse("App").unwrap_err();
        assert!(e.message.contains("lowercase"), "{e}");
        let e = Reference::parse("app@sha512:00").unwrap_err();
        assert!(e.message.contains("only sha256"), "{e}");
    }

    #[test]
    fn a_login_in_a_reference_is_refused_and_never_quoted() {
        let at = format!("reg.example/team/app@{D}");
        for (s, login) in [
            ("alice:s3cret@reg.example/x:1", "docker login reg.example"),
            ("alice@reg.example:5000/x", "docker login reg.example:5000"),
            ("alice:s3cret@localhost:5000", "docker login localhost:5000"),
            ("alice:s3cr@t/x@reg.example/x", "docker login reg.example"),
            (&format!("alice:s3cret@{at}"), "docker login reg.example"),
            ("alice:s3cret@team/app", "docker login`"),
        ] {
            let e = Reference::parse(s).expect_err(s);
            assert_eq!(e.kind, crate::ErrorKind::Usage, "{s}");
            assert!(!e.message.contains("s3cr") && !e.message.contains("alice"), "{s}: {e}");
            assert!(e.message.contains(login) && e.message.contains("does not belong in a reference"), "{s}: {e}");
        }
        // Other mistakes are quoted, but never what stands before a stray `@`.
        for (s, quoted) in [("App", "\"App\""), ("app@latest", "\"…@latest\""), ("alice:pa/ss@host", "\"…@host\"")]
        {
            let e = Reference::parse(s).expect_err(s);
            assert!(e.message.contains(quoted) && !e.message.contains("pa/ss"), "{s}: {e}");
        }
        assert_eq!(parts(&format!("app:1@{D}")).2.as_deref(), Some("1"), "a tag and a digest are no login");
    }

    #[test]
    fn separators() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a1-2.3_4", "0"] {
            assert!(valid_path_component(ok), "{ok}");
        }
        for bad in ["a.", ".a", "a._b", "a-_b", "a..b", "a___b", "A"] {
            assert!(!valid_path_component(bad), "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for h in ["localhost", "localhost:5000", "127.0.0.1", "127.3.4.5:80", "[::1]:5000", "[::1]", "LOCALHOST"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["docker.io", "10.0.0.1:5000", "[::2]:5000", "localhost.example.com", "128.0.0.1"] {
            assert!(!is_loopback(h), "{h}");
        }
        let list = vec!["reg.lan:5000".to_string(), "http://Other.lan/".to_string()];
        for ok in ["reg.lan:5000", "other.lan", "other.lan:443", "127.0.0.1:5000", "[::1]:80"] {
            assert!(allows_insecure(&list, ok), "{ok}");
        }
        for no in ["reg.lan", "reg.lan:5001", "docker.io", "lan:5000"] {
            assert!(!allows_insecure(&list, no), "{no}");
        }
    }
}
