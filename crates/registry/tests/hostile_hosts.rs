//! Where the user's login goes, and how long a registry may keep a transfer waiting, against
//! the scripted hosts of squash_testkit::hostile_registry (a registry on 127.0.0.1, storage
//! on another port, another loopback address, a rogue token realm), through the crate's
//! native client as the CLI runs it. Each test asserts on the headers every other host
//! received, on the error's kind and words, and on the time taken.

use std::time::{Duration, Instant};

use squash_registry::{pull, push, Error, ErrorKind, MediaTypes, Options, Pulled, Reference};
use squash_testkit::hostile_registry::{
    basic, Hostile, Scenario, OTHER_ADDRESS, PASSWORD, ROGUE_REALM, STORAGE, TOKEN,
};
use squash_testkit::scripted::Request;

struct Run {
    hostile: Hostile,
    _dir: Dir,
    opts: Options,
    log: Vec<String>,
}

/// The run's folder (tempfile's), removed when dropped.
type Dir = tempfile::TempDir;

fn start(s: Scenario, timeout_secs: u64) -> Run {
    let hostile = Hostile::start(s).expect("the scripted hosts listen");
    let dir = tempfile::Builder::new().prefix(&format!("squash-hostile-{}-", s.name())).tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), hostile.config_json()).unwrap();
    let opts = Options {
        docker_config: Some(dir.path().to_path_buf()),
        verbose: true,
        timeout: Some(Duration::from_secs(timeout_secs)),
        ..Options::default()
    };
    Run { hostile, _dir: dir, opts, log: Vec::new() }
}

impl Run {
    fn pull(&mut self) -> Result<Pulled, Error> {
        let r = Reference::parse(&self.hostile.reference()).unwrap();
        let path = self._dir.path().join("pulled.tar");
        let mut out = std::fs::File::options().read(true).write(true).create(true).truncate(true).open(path).unwrap();
        let log = &mut self.log;
        pull(&r, &self.opts, &mut out, &mut |l| log.push(l.to_string()))
    }

    fn push(&mut self) -> Result<squash_registry::Pushed, Error> {
        let img = squash_testkit::Image::new(squash_testkit::sample_layers());
        let path = self._dir.path().join("push.tar");
        std::fs::write(&path, img.oci_layout()).unwrap();
        let archive = std::fs::File::open(&path).unwrap();
        let r = Reference::parse(&self.hostile.push_reference()).unwrap();
        let log = &mut self.log;
        push(&archive, &r, None, MediaTypes::Oci, &self.opts, &mut |l| log.push(l.to_string()))
    }

    fn at(&self, i: usize) -> Vec<Request> {
        self.hostile.server.seen_at(i)
    }

    /// No host but the registry (and a realm it named, when `realm_ok`) got a login.
    fn assert_no_login_elsewhere(&self, realm: Option<usize>) {
        for r in self.hostile.elsewhere() {
            let i = self.hostile.server.addrs.iter().position(|a| *a == r.at);
            if i == realm {
                continue;
            }
            assert_eq!(r.header("authorization"), None, "{} {} at {} got a login", r.method, r.target, r.at);
        }
        let text = self.log.join("\n");
        for secret in [PASSWORD, TOKEN, basic().as_str()] {
            assert!(!text.contains(secret), "{secret} in the log: {text}");
        }
    }

    /// The registry did get the login (the tests are not vacuous).
    fn assert_registry_got_the_login(&self, with: &str) {
        assert!(self.at(0).iter().any(|r| r.header("authorization") == Some(with)), "{:?}", self.at(0));
    }
}

#[test]
fn a_blob_redirected_to_another_port_of_the_same_host_is_fetched_without_the_login() {
    let mut run = start(Scenario::RedirectToOtherPort, 30);
    let pulled = run.pull().expect("the pull succeeds through the redirect");
    assert_eq!(pulled.layers, 1);
    assert_eq!(run.at(STORAGE).len(), 1, "storage served the layer");
    run.assert_no_login_elsewhere(None);
    run.assert_registry_got_the_login(&basic());
}

#[test]
fn a_blob_redirected_to_another_address_is_fetched_without_the_login() {
    let mut run = start(Scenario::RedirectToOtherAddress, 30);
    run.pull().expect("the pull succeeds through the redirect");
    assert_eq!(run.at(OTHER_ADDRESS).len(), 1);
    run.assert_no_login_elsewhere(None);
}

#[test]
fn a_storage_hosts_own_challenge_is_not_answered_and_its_401_is_not_called_a_login_failure() {
    let mut run = start(Scenario::StorageChallenge, 30);
    let e = run.pull().unwrap_err();
    let storage = &run.hostile.server.addrs[STORAGE];
    let registry = run.hostile.registry().to_string();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(
        e.message.starts_with(&format!("{storage} answered 401 Unauthorized to GET http://{storage}/storage/")),
        "{e}"
    );
    assert!(e.message.contains(&format!("the login for {registry} goes to {registry} only")), "{e}");
    assert!(!e.message.contains("login to") && !e.message.contains("refused the credentials"), "{e}");
    assert!(!e.message.contains("X-Signature"), "no signed query in a message: {e}");
    assert!(run.at(ROGUE_REALM).is_empty(), "the realm storage named heard nothing: {:?}", run.at(ROGUE_REALM));
    run.assert_no_login_elsewhere(None);
}

#[test]
fn a_bearer_token_goes_to_the_registry_and_the_password_to_the_realm_it_named_only() {
    let mut run = start(Scenario::BearerRedirect, 30);
    run.pull().expect("the bearer pull succeeds");
    // The realm the registry's own challenge named got the Basic login, as the token spec has it.
    let realm = run.at(OTHER_ADDRESS);
    assert!(realm.iter().any(|r| r.path() == "/token" && r.header("authorization") == Some(&basic())), "{realm:?}");
    run.assert_no_login_elsewhere(Some(OTHER_ADDRESS));
    run.assert_registry_got_the_login(&format!("Bearer {TOKEN}"));
    assert!(run.at(STORAGE).iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn an_upload_location_on_another_host_gets_no_login_and_its_challenge_no_answer() {
    let mut run = start(Scenario::UploadElsewhere, 30);
    let e = run.push().unwrap_err();
    let other = &run.hostile.server.addrs[OTHER_ADDRESS];
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.message.starts_with(&format!("{other} answered 401 Unauthorized to PUT http://{other}/upload/")), "{e}");
    assert!(!e.message.contains("_state"), "{e}");
    assert!(!run.at(OTHER_ADDRESS).is_empty(), "the upload did go there");
    assert!(run.at(ROGUE_REALM).is_empty(), "{:?}", run.at(ROGUE_REALM));
    run.assert_no_login_elsewhere(None);
}

#[test]
fn a_redirect_to_plain_http_is_refused_as_the_same_url_asked_for_directly() {
    let mut run = start(Scenario::RedirectToPlainHttp, 30);
    let e = run.pull().unwrap_err();
    let port = run.hostile.server.addrs[STORAGE].rsplit_once(':').unwrap().1.to_string();
    assert_eq!(e.kind, ErrorKind::Usage, "{e}");
    assert!(
        e.message.contains(&format!("refusing plain HTTP to 0.0.0.0:{port}"))
            && e.message.contains(&format!("-insecure-registry 0.0.0.0:{port}")),
        "{e}"
    );
    assert!(run.at(STORAGE).is_empty(), "nothing was sent: {:?}", run.at(STORAGE));
}

#[test]
fn a_trickled_blob_is_stopped_after_two_tries_of_one_window_each() {
    let mut run = start(Scenario::Trickle, 2);
    let t = Instant::now();
    let e = run.pull().unwrap_err();
    let took = t.elapsed();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.starts_with("after 2 tries: downloading the layer 1/1 blob"), "{e}");
    assert!(e.message.contains("bytes arrived in 2 s (less than 1024 bytes per 2 s)"), "{e}");
    assert!(e.message.contains("-registry-timeout 120 (now 2 s)"), "{e}");
    // Two windows of 2 s, a read of 0.5 s past each, 0.5 s between: about 5.5 s.
    assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(12), "{took:?}");
}

#[test]
fn a_host_that_never_answers_costs_two_deadlines_not_minutes() {
    let mut run = start(Scenario::Silent, 2);
    let t = Instant::now();
    let e = run.pull().unwrap_err();
    let took = t.elapsed();
    let registry = run.hostile.registry().to_string();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert!(e.message.starts_with(&format!("after 2 tries: GET http://{registry}/v2/r/app/blobs/sha256:")), "{e}");
    assert!(e.message.contains(&format!("{registry} sent no answer in time")), "{e}");
    assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(10), "{took:?}");
}
