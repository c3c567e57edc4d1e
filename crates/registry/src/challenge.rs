//! `WWW-Authenticate` challenges (RFC 7235, parsed by `http-auth`): which scheme the
//! registry wants, and for Bearer where the token service is (the distribution token spec).

/// What a registry asks for on a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// HTTP Basic with the login itself (htpasswd registries, ECR, some proxies).
    Basic,
    /// A token from `realm`, asked for with `service` and `scope` (space-separated scopes).
    Bearer { realm: String, service: Option<String>, scope: Option<String>, error: Option<String> },
}

impl Challenge {
    /// The scopes this challenge names (`repository:a/b:pull`, …).
    pub(crate) fn scopes(&self) -> Vec<String> {
        match self {
            Challenge::Bearer { scope: Some(s), .. } => s.split_whitespace().map(str::to_string).collect(),
            _ => Vec::new(),
        }
    }
}

/// The challenge to answer among the `WWW-Authenticate` header values: Bearer when the
/// registry offers it (it is what the token spec and the docker CLI use), else Basic. None
/// when no value parses or names a scheme the Distribution API uses.
pub(crate) fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let mut basic = false;
    for value in values {
        let Ok(challenges) = http_auth::parse_challenges(value) else { continue };
        for c in challenges {
            if c.scheme.eq_ignore_ascii_case("basic") {
                basic = true;
            } else if c.scheme.eq_ignore_ascii_case("bearer") {
                let param = |name: &str| {
                    c.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_unescaped())
                };
                if let Some(realm) = param("realm").filter(|r| !r.is_empty()) {
                    return Some(Challenge::Bearer {
                        realm,
                        service: param("service"),
                        scope: param("scope"),
                        error: param("error"),
                    });
                }
            }
        }
    }
    basic.then_some(Challenge::Basic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(realm: &str, service: Option<&str>, scope: Option<&str>, error: Option<&str>) -> Option<Challenge> {
        Some(Challenge::Bearer {
            realm: realm.into(),
            service: service.map(Into::into),
            scope: scope.map(Into::into),
            error: error.map(Into::into),
        })
    }

    /// Headers as these registries send them (recorded).
    #[test]
    fn recorded_headers() {
        let hub = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#;
        assert_eq!(
            parse([hub]),
            bearer(
                "https://auth.docker.io/token",
                Some("registry.docker.io"),
                Some("repository:library/busybox:pull"),
                None
            )
        );
        let ghcr = r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull""#;
        assert_eq!(
            parse([ghcr]),
            bearer("https://ghcr.io/token", Some("ghcr.io"), Some("repository:user/image:pull"), None)
        );
        // Docker Hub on a token without the scope asked for.
        let insufficient = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nope:pull",error="insufficient_scope""#;
        assert_eq!(parse([insufficient]).unwrap().scopes(), vec!["repository:library/nope:pull".to_string()]);
        assert!(
            matches!(parse([insufficient]), Some(Challenge::Bearer { error: Some(e), .. }) if e == "insufficient_scope")
        );
        // Quay's /v2/ names no scope; distribution's token auth names the catalog.
        let quay = r#"Bearer realm="https://quay.io/v2/auth",service="quay.io""#;
        assert_eq!(parse([quay]), bearer("https://quay.io/v2/auth", Some("quay.io"), None, None));
        let multi =
            r#"Bearer realm="http://127.0.0.1:9/token",service="reg",scope="repository:a:pull repository:b:pull,push""#;
        assert_eq!(parse([multi]).unwrap().scopes(), vec!["repository:a:pull", "repository:b:pull,push"]);
        // distribution's htpasswd, and ECR (Basic with extra params).
        assert_eq!(parse([r#"Basic realm="e2e-registry""#]), Some(Challenge::Basic));
        let ecr = r#"Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com""#;
        assert_eq!(parse([ecr]), Some(Challenge::Basic));
    }

    #[test]
    fn odd_headers() {
        // Lowercase scheme and keys, escapes, unquoted tokens.
        assert_eq!(
            parse([r#"bearer REALM="https://a/t\"x",service=svc"#]),
            bearer("https://a/t\"x", Some("svc"), None, None)
        );
        // Bearer preferred over Basic, in one header or across several.
        let both = r#"Basic realm="r", Bearer realm="https://a/token",service="s""#;
        assert_eq!(parse([both]), bearer("https://a/token", Some("s"), None, None));
        assert_eq!(parse([r#"Basic realm="r""#, r#"Bearer realm="https://b""#]), bearer("https://b", None, None, None));
        // Unusable: none, garbage, a Bearer without realm, a scheme the API does not use.
        assert_eq!(parse([]), None);
        assert_eq!(parse(["", "   ", "\"", "Bearer realm=", "=x"]), None);
        assert_eq!(parse([r#"Bearer service="s""#]), None);
        assert_eq!(parse([r#"Negotiate"#, r#"Digest realm="x", nonce="y""#]), None);
    }
}
