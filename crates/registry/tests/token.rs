//! The bearer-token flow end to end: docker-registry with `auth: token:` and a token issuer
//! of the test's own (RS256 JWTs, key and certificate by openssl). Skipped only when
//! docker-registry, skopeo or openssl is not installed.

mod support;

use base64::Engine;
use serde_json::json;
use squash_registry::{pull, push, ErrorKind, MediaTypes, Options, Reference};
use support::token::{available, TokenRegistry, REFRESH};
use support::*;

/// Options with a config.json of `entry` for the registry (and the directory, kept while used).
fn config(name: &str, reg: &TokenRegistry, entry: serde_json::Value) -> (Options, Scratch) {
    let dir = temp_dir(&format!("token-config-{name}"));
    std::fs::write(dir.join("config.json"), json!({"auths": {reg.addr.clone(): entry}}).to_string()).unwrap();
    (Options { docker_config: Some(dir.to_path_buf()), verbose: true, ..Options::default() }, dir)
}

fn login() -> serde_json::Value {
    json!({"auth": base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))})
}

/// No token the issuer gave, and no form of the login, in `text`.
fn assert_no_token(reg: &TokenRegistry, text: &str) {
    assert_no_secret(text);
    assert!(!text.contains(REFRESH), "the refresh token leaked: {text}");
    for t in reg.issued() {
        assert!(!text.contains(&t), "a token leaked: {text}");
        // Its signature alone would do too.
        let sig = t.rsplit('.').next().unwrap_or_default();
        assert!(!text.contains(sig), "a token's signature leaked: {text}");
    }
}

#[test]
fn bearer_tokens_for_pull_push_and_mount() {
    let test = "bearer_tokens_for_pull_push_and_mount";
    if !tools(test) || !available(test) {
        return;
    }
    let reg = TokenRegistry::start("flow");
    let dir = temp_dir("token-work");
    let archive = write(&dir, "image.tar", &image("token", "amd64").docker_save());
    skopeo_put(&reg.addr, &archive, "src/app:1");
    let (o, _c1) = config("login", &reg, login());
    let src = Reference::parse(&format!("{}/src/app:1", reg.addr)).unwrap();

    // Pull: one token, for repository:src/app:pull, asked with the login.
    let before = reg.asked().len();
    let mut log = Log::default();
    let mut out = out_file(&dir, "pulled.tar");
    let pulled = pull(&src, &o, &mut out, &mut log.sink()).unwrap();
    assert_eq!(pulled.layers, 3);
    let asked = reg.asked()[before..].to_vec();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!((asked[0].method.as_str(), asked[0].login), ("GET", Some(true)));
    assert_eq!(asked[0].scopes, vec!["repository:src/app:pull"]);
    assert!(log.text().contains("token for repository:src/app:pull"), "{}", log.text());
    assert_no_token(&reg, &log.text());

    // Push to another repository, mounting: one token for both scopes, and the mounts made.
    let pulled_file = std::fs::File::open(dir.join("pulled.tar")).unwrap();
    let dest = Reference::parse(&format!("{}/dest/app:copy", reg.addr)).unwrap();
    let before = reg.asked().len();
    let mut log = Log::default();
    let p = push(&pulled_file, &dest, Some(&src), MediaTypes::Oci, &o, &mut log.sink()).unwrap();
    let asked = reg.asked()[before..].to_vec();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].scopes, vec!["repository:dest/app:pull,push", "repository:src/app:pull"]);
    assert_eq!(p.mounted.len(), 4, "3 layers and the config: {p:?}\n{}", log.text());
    assert!(p.uploaded.is_empty());
    assert_eq!(p.digest, pulled.digest, "the Docker manifest pushed as it was served");
    let mounts = access_log(&reg.log).into_iter().filter(|(m, u, s)| m == "POST" && u.contains("mount=") && *s == 201);
    assert_eq!(mounts.count(), 4);
    assert_no_token(&reg, &log.text());

    // An identity token (refresh token): POST grant_type=refresh_token, access_token back.
    let (o2, _c2) = config("identity", &reg, json!({"identitytoken": REFRESH}));
    let before = reg.asked().len();
    let mut log = Log::default();
    pull(&dest, &o2, &mut out_file(&dir, "again.tar"), &mut log.sink()).unwrap();
    let asked = reg.asked()[before..].to_vec();
    assert_eq!((asked[0].method.as_str(), asked[0].scopes.clone()), ("POST", vec!["repository:dest/app:pull".into()]));
    assert_no_token(&reg, &log.text());
}

#[test]
fn bearer_refusals_are_auth_errors() {
    let test = "bearer_refusals_are_auth_errors";
    if !tools(test) || !available(test) {
        return;
    }
    let reg = TokenRegistry::start("refusals");
    let dir = temp_dir("token-refusals");
    let r = Reference::parse(&format!("{}/some/app:1", reg.addr)).unwrap();

    // A wrong password: the issuer refuses it.
    let wrong = json!({"auth": base64::engine::general_purpose::STANDARD.encode(format!("{USER}:wrong-password"))});
    let mut log = Log::default();
    let (o, _c) = config("wrong", &reg, wrong);
    let e = pull(&r, &o, &mut out_file(&dir, "a.tar"), &mut log.sink()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(e.message.starts_with(&format!("login to {} failed", reg.addr)), "{e}");
    assert!(e.message.contains("repository:some/app:pull") && e.message.contains("docker login"), "{e}");
    assert_no_token(&reg, &format!("{e}\n{}", log.text()));

    // No login: a token without access, then the registry's insufficient_scope.
    let empty = temp_dir("token-none");
    let none = Options { docker_config: Some(empty.to_path_buf()), verbose: true, ..Options::default() };
    let mut log = Log::default();
    let e = pull(&r, &none, &mut out_file(&dir, "b.tar"), &mut log.sink()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(e.message.starts_with(&format!("no credentials for {}: docker login {}", reg.addr, reg.addr)), "{e}");
    assert!(e.message.contains("repository:some/app:pull"), "{e}");
    assert_no_token(&reg, &format!("{e}\n{}", log.text()));

    // A bad refresh token.
    let (o, _c3) = config("bad-refresh", &reg, json!({"identitytoken": "not-the-token"}));
    let e = pull(&r, &o, &mut out_file(&dir, "c.tar"), &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth, "{e}");
    assert!(!e.message.contains("not-the-token"), "{e}");
}
