//! The credentials the docker CLI would use for a registry: `config.json`'s `credHelpers`,
//! `auths` (base64 `auth`, `username`/`password`, `identitytoken`) and `credsStore`, through
//! `docker_config.rs`. A credential never reaches a message or a log line.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::docker_config::{self, Found, Lookup as E};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::reference::{Reference, DOCKER_HUB};

/// A login for one registry.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    /// A user name and password (or a personal access token in the password's place).
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user), traded at
    /// the token realm with grant_type=refresh_token.
    IdentityToken(String),
}

impl Credential {
    /// The forms a credential can take on the wire or in a helper's output, so that each
    /// can be masked wherever text leaves the crate.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            Credential::Basic { username, password } => {
                vec![
                    password.clone(),
                    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")),
                ]
            }
            Credential::IdentityToken(t) => vec![t.clone()],
        }
    }
    /// `Authorization: Basic …` for this login, when it has a password.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credential::IdentityToken(_) => None,
        }
    }
}

/// Never the secret, even in `{:?}`.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// The docker CLI's config directory: `explicit`, else `$DOCKER_CONFIG`, else `~/.docker`.
pub(crate) fn config_dir<H: Host>(host: &H, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(d) = host.env("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    host.env("HOME").map(|h| Path::new(&h).join(".docker"))
}

/// The credential for `r`'s registry from `dir/config.json`; None (anonymous) when there is
/// no config file, it names none for the registry, or its helper has none (as the docker
/// CLI, which then goes on without a login).
pub(crate) async fn find<H: Host>(host_io: &H, r: &Reference, dir: Option<&Path>) -> Result<Option<Credential>> {
    let Some(dir) = dir else { return Ok(None) };
    let path = dir.join("config.json");
    let host = r.registry();
    // The docker CLI's key first; for Docker Hub also the keys other tools write
    // (docker.io, index.docker.io), which the crate compares by host.
    let mut keys = vec![r.auth_key()];
    if host == DOCKER_HUB {
        keys.push(DOCKER_HUB);
    }
    for key in keys {
        let file = match host_io.read_file(&path.to_string_lossy()) {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Error::new(crate::ErrorKind::Io, format!("reading {}: {e}", path.display()))),
        };
        match docker_config::lookup(host_io, &file, key).await {
            Ok(Found::UsernamePassword(username, password)) => {
                if username.is_empty() && password.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(Credential::Basic { username, password }));
            }
            Ok(Found::IdentityToken(t)) => return Ok(Some(Credential::IdentityToken(t))),
            Err(E::NotConfigured) => continue,
            // docker-credential-helpers' answer for a server they hold nothing for: the docker
            // CLI goes on without a login.
            Err(E::HelperFailure { ref stdout, ref stderr, .. })
                if stdout.contains("credentials not found") || stderr.contains("credentials not found") =>
            {
                continue
            }
            Err(e) => return Err(explain(e, host, &path)),
        }
    }
    Ok(None)
}

/// An error of the lookup, without the helper's output (it may hold a secret).
fn explain(e: E, host: &str, path: &Path) -> Error {
    let config = path.display();
    match e {
        E::HelperFailure { helper, .. } => Error::auth(format!(
            "{helper} (named in {config}) failed to give the credentials for {host}; its output is not shown"
        )),
        E::HelperCommunication => Error::auth(format!(
            "the credential helper {config} names for {host} could not be run (is docker-credential-<name> on PATH?)"
        )),
        E::MalformedHelperResponse => Error::auth(format!(
            "the credential helper {config} names for {host} did not answer with {{\"Username\",\"Secret\"}}"
        )),
        E::Decoding => Error::usage(format!("the auth of {host} in {config} is not base64 of user:password")),
        E::Mismatch => Error::usage(format!("the auth of {host} in {config} does not match its username and password")),
        E::ConfigRead => Error::usage(format!("{config} is not a docker config file")),
        E::NotConfigured => Error::auth(format!("no credentials for {host}: docker login {host}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::OnceLock;

    fn reference(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    /// The lookup on the native host (helpers run as processes).
    fn find(r: &Reference, dir: Option<&Path>) -> Result<Option<Credential>> {
        pollster::block_on(super::find(&crate::NativeHost::default(), r, dir))
    }

    fn config(json: &str) -> crate::faults::Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = crate::faults::temp(&format!("creds-{n}"));
        std::fs::write(dir.join("config.json"), json).unwrap();
        dir
    }

    fn basic(u: &str, p: &str) -> Option<Credential> {
        Some(Credential::Basic { username: u.into(), password: p.into() })
    }

    #[test]
    fn auths_forms() {
        // "e2e:e2e-secret"
        let dir = config(
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "ZTJlOmUyZS1zZWNyZXQ="},
                "https://ghcr.io": {"username": "u", "password": "p"},
                "https://index.docker.io/v1/": {"auth": "aHViOmh1Yi1wdw=="},
                "quay.io": {"identitytoken": "refresh-me"},
                "empty.io": {}
            }}"#,
        );
        let d = Some(&*dir);
        assert_eq!(find(&reference("127.0.0.1:5000/a"), d).unwrap(), basic("e2e", "e2e-secret"));
        assert_eq!(find(&reference("ghcr.io/o/a"), d).unwrap(), basic("u", "p"));
        assert_eq!(find(&reference("busybox"), d).unwrap(), basic("hub", "hub-pw"));
        assert_eq!(find(&reference("quay.io/a/b"), d).unwrap(), Some(Credential::IdentityToken("refresh-me".into())));
        assert_eq!(find(&reference("empty.io/a"), d).unwrap(), None);
        assert_eq!(find(&reference("other.io/a"), d).unwrap(), None);
        // Docker Hub under a plain host key, as some tools write it.
        let dir = config(r#"{"auths": {"docker.io": {"auth": "aHViOmh1Yi1wdw=="}}}"#);
        assert_eq!(find(&reference("busybox"), Some(&*dir)).unwrap(), basic("hub", "hub-pw"));
        // No file: anonymous. A broken one: an error.
        assert_eq!(find(&reference("a"), Some(Path::new("/nonexistent/squash"))).unwrap(), None);
        let dir = config("{not json");
        assert_eq!(find(&reference("a"), Some(&*dir)).unwrap_err().kind, crate::ErrorKind::Usage);
        let dir = config(r#"{"auths": {"x.io": {"auth": "!!!"}}}"#);
        assert_eq!(find(&reference("x.io/a"), Some(&*dir)).unwrap_err().kind, crate::ErrorKind::Usage);
    }

    /// A directory on PATH with `docker-credential-test` (credHelpers) and
    /// `docker-credential-store` (credsStore): real executables speaking the helper
    /// protocol. PATH is set once for the whole test binary (only the helper test runs them).
    fn helpers_on_path() -> &'static crate::faults::Scratch {
        static DIR: OnceLock<crate::faults::Scratch> = OnceLock::new();
        DIR.get_or_init(|| {
            let scratch = crate::faults::temp("helpers");
            let dir = scratch.to_path_buf();
            let helper = |name: &str, body: &str| {
                let p = dir.join(format!("docker-credential-{name}"));
                std::fs::write(&p, format!("#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread -r server\n{body}")).unwrap();
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            };
            helper(
                "test",
                r#"case "$server" in
  reg.example:5000) echo '{"ServerURL":"reg.example:5000","Username":"helper-user","Secret":"helper-secret"}' ;;
  tok.example) echo '{"Username":"<token>","Secret":"helper-refresh"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#,
            );
            helper(
                "store",
                r#"case "$server" in
  https://index.docker.io/v1/) echo '{"Username":"store-user","Secret":"store-secret"}' ;;
  broken.example) echo 'secret-in-output'; echo oops >&2; exit 3 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#,
            );
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![dir];
            paths.extend(std::env::split_paths(&path));
            std::env::set_var("PATH", std::env::join_paths(paths).unwrap());
            scratch
        })
    }

    #[test]
    fn helpers_and_store() {
        let helpers = helpers_on_path();
        let dir = config(
            r#"{"auths": {"plain.example": {"auth": "dTpw"}, "https://index.docker.io/v1/": {}},
                "credHelpers": {"reg.example:5000": "test", "tok.example": "test", "gone.example": "test",
                                "missing.example": "nosuchhelper"},
                "credsStore": "store"}"#,
        );
        let d = Some(&*dir);
        assert_eq!(find(&reference("reg.example:5000/a"), d).unwrap(), basic("helper-user", "helper-secret"));
        assert_eq!(
            find(&reference("tok.example/a"), d).unwrap(),
            Some(Credential::IdentityToken("helper-refresh".into()))
        );
        // A helper without an entry for the host: anonymous, as the docker CLI goes on.
        assert_eq!(find(&reference("gone.example/a"), d).unwrap(), None);
        // auths before credsStore when it holds a login; the store for the rest.
        assert_eq!(find(&reference("plain.example/a"), d).unwrap(), basic("u", "p"));
        assert_eq!(find(&reference("busybox"), d).unwrap(), basic("store-user", "store-secret"));
        assert_eq!(find(&reference("unknown.example/a"), d).unwrap(), None);
        let e = find(&reference("missing.example/a"), d).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Auth);
        assert!(e.message.contains("missing.example"), "{e}");
        let e = find(&reference("broken.example/a"), d).unwrap_err();
        assert!(e.message.contains("docker-credential-store") && !e.message.contains("secret-in-output"), "{e}");
        // A static is never dropped: remove the helpers here, their one user.
        let _ = std::fs::remove_dir_all(&**helpers);
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credential::Basic { username: "u".into(), password: "hunter2".into() };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!format!("{:?}", Credential::IdentityToken("tok123".into())).contains("tok123"));
        assert_eq!(c.basic_header().as_deref(), Some("Basic dTpodW50ZXIy"));
        assert!(c.secrets().contains(&"dTpodW50ZXIy".to_string()));
    }
}
