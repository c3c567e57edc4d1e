//! The docker CLI's config.json lookup for one server key, as the `docker_credential` crate
//! did it (the same order and the same quirks, so that a login found before is found now):
//! `credHelpers`, then `auths` (`identitytoken`, base64 `auth` checked against
//! `username`/`password`, `username`/`password`), then `credsStore`. Our own because the
//! helper must run through the [`Host`]: wasm cannot spawn a process, Node can.

use std::collections::HashMap;

use base64::Engine;

use crate::host::Host;

/// A login as config.json or a helper gives it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    UsernamePassword(String, String),
    IdentityToken(String),
}

/// Why no login came out of the lookup (`NotConfigured` is no error: anonymous).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    NotConfigured,
    /// The file is not a docker config.
    ConfigRead,
    /// `auth` is not base64 of user:password.
    Decoding,
    /// `auth` disagrees with `username`/`password`.
    Mismatch,
    /// `docker-credential-<name>` could not be run.
    HelperCommunication,
    /// Its answer was not `{"Username","Secret"}`.
    MalformedHelperResponse,
    /// It exited non-zero; its output (maybe a secret) is kept for the "not found" test only.
    HelperFailure {
        helper: String,
        stdout: String,
        stderr: String,
    },
}

#[derive(serde::Deserialize)]
struct AuthConfig {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    auths: Option<HashMap<String, AuthConfig>>,
    creds_store: Option<String>,
    cred_helpers: Option<HashMap<String, String>>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperResponse {
    username: String,
    secret: String,
}

impl DockerConfig {
    /// The auths entry for `server`: its own key, else the first key naming the same registry.
    fn entry(&self, server: &str) -> Option<&AuthConfig> {
        let auths = self.auths.as_ref()?;
        if let Some(a) = auths.get(server) {
            return Some(a);
        }
        let server = normalize_registry(server);
        auths.iter().find(|(k, _)| normalize_key_to_registry(k) == server).map(|(_, a)| a)
    }
}

/// A key (`https://index.docker.io/v1/`, `quay.io`) as the registry it names.
fn normalize_key_to_registry(key: &str) -> &str {
    let stripped = key.strip_prefix("http://").unwrap_or(key);
    let mut stripped = key.strip_prefix("https://").unwrap_or(stripped);
    if stripped != key {
        stripped = stripped.split_once('/').unwrap_or((stripped, "")).0;
    }
    normalize_registry(stripped)
}

fn normalize_registry(registry: &str) -> &str {
    match registry {
        "registry-1.docker.io" | "docker.io" => "index.docker.io",
        _ => registry,
    }
}

fn decode_auth(encoded: &str) -> Result<Found, Lookup> {
    let config = base64::engine::general_purpose::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    let engine = base64::engine::general_purpose::GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let decoded = engine.decode(encoded).map_err(|_| Lookup::Decoding)?;
    let decoded = String::from_utf8(decoded).map_err(|_| Lookup::Decoding)?;
    let (user, password) = decoded.split_once(':').ok_or(Lookup::Decoding)?;
    Ok(Found::UsernamePassword(user.to_string(), password.to_string()))
}

/// The login for `server` from config.json's bytes.
pub(crate) async fn lookup<H: Host>(host: &H, config: &[u8], server: &str) -> Result<Found, Lookup> {
    let conf: DockerConfig = serde_json::from_slice(config).map_err(|_| Lookup::ConfigRead)?;
    if let Some(helper) = conf.cred_helpers.as_ref().and_then(|h| h.get(server)).filter(|h| !h.is_empty()) {
        return from_helper(host, server, helper).await;
    }
    let entry = conf.entry(server);
    if let Some(t) = entry.and_then(|e| e.identitytoken.as_ref()) {
        return Ok(Found::IdentityToken(t.clone()));
    }
    let user_password = entry.and_then(|e| match (&e.username, &e.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        _ => None,
    });
    if let Some(auth) = entry.and_then(|e| e.auth.as_ref()) {
        let found = decode_auth(auth)?;
        if let Some((u, p)) = user_password {
            if found != Found::UsernamePassword(u, p) {
                return Err(Lookup::Mismatch);
            }
        }
        return Ok(found);
    }
    if let Some((u, p)) = user_password {
        return Ok(Found::UsernamePassword(u, p));
    }
    if let Some(store) = &conf.creds_store {
        return from_helper(host, server, store).await;
    }
    Err(Lookup::NotConfigured)
}

/// `docker-credential-<helper> get` with `server` on its stdin.
async fn from_helper<H: Host>(host: &H, server: &str, helper: &str) -> Result<Found, Lookup> {
    let program = format!("docker-credential-{helper}");
    let out = host.run_helper(&program, server).await.map_err(|_| Lookup::HelperCommunication)?;
    if !out.success {
        return Err(Lookup::HelperFailure {
            helper: program,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let r: HelperResponse = serde_json::from_slice(&out.stdout).map_err(|_| Lookup::MalformedHelperResponse)?;
    Ok(if r.username == "<token>" {
        Found::IdentityToken(r.secret)
    } else {
        Found::UsernamePassword(r.username, r.secret)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_registries() {
        assert_eq!(normalize_key_to_registry("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize_key_to_registry("https://docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize_key_to_registry("quay.io"), "quay.io");
        assert_eq!(decode_auth("dTpw").unwrap(), Found::UsernamePassword("u".into(), "p".into()));
        assert_eq!(decode_auth("dTpwOng=").unwrap(), Found::UsernamePassword("u".into(), "p:x".into()));
        assert_eq!(decode_auth("!!!").unwrap_err(), Lookup::Decoding);
    }
}
