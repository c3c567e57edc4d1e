//! A real bearer-token setup: docker-registry with `auth: token:` (it verifies RS256 JWTs
//! whose x5c certificate is in its rootcertbundle), and a small token issuer on loopback
//! that signs them (ring) on testkit's scripted server, with a key and certificate made
//! by openssl.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::json;
use squash_testkit::scripted::{reply, Reply, Request, Server};

use super::{temp_dir, Scratch, PASSWORD, USER};

pub const SERVICE: &str = "test-registry";
const ISSUER: &str = "test-issuer";
/// The refresh token (config.json's identitytoken) the issuer takes for USER.
pub const REFRESH: &str = "refresh-e2e-0123";

/// One token request as the issuer saw it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: String,
    /// Basic login given and right (None: none given).
    pub login: Option<bool>,
    pub scopes: Vec<String>,
}

/// The issuer and the registry that trusts it; both stopped on drop.
pub struct TokenRegistry {
    pub addr: String,
    pub dir: Scratch,
    pub log: PathBuf,
    pub asked: Arc<Mutex<Vec<Asked>>>,
    /// Every token handed out, to look for in logs and errors.
    pub issued: Arc<Mutex<Vec<String>>>,
    _issuer: Server,
    child: Child,
}

impl Drop for TokenRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// True when openssl is there too; else says why the test is skipped.
pub fn available(test: &str) -> bool {
    if super::which("openssl").is_none() {
        eprintln!("SKIP {test}: openssl is not installed (it makes the issuer's key and certificate)");
        return false;
    }
    true
}

impl TokenRegistry {
    pub fn start(name: &str) -> TokenRegistry {
        let dir = temp_dir(&format!("token-{name}"));
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-days",
                "1",
                "-subj",
                "/CN=test-issuer",
            ],
            &dir,
        );
        // PKCS#8 DER, which ring reads (openssl's rsa and pkey differ on which DER they write).
        openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER", "-out", "key.der"], &dir);
        openssl(&["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"], &dir);
        let key = ring::signature::RsaKeyPair::from_pkcs8(&std::fs::read(dir.join("key.der")).unwrap()).unwrap();
        let cert = base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("cert.der")).unwrap());

        let (asked, issued) = (Arc::default(), Arc::default());
        let issuer = Issuer { key, cert, asked: Arc::clone(&asked), issued: Arc::clone(&issued) };
        // The issuer on testkit's scripted server, the one the other registry tests use.
        let server = Server::start(&["127.0.0.1:0"], Arc::new(move |req: &Request, _: &[String]| issuer.answer(req)))
            .expect("a loopback port for the token issuer");
        let realm = format!("http://{}/token", server.addrs[0]);

        let addr = format!("127.0.0.1:{}", free_port());
        let log = dir.join("registry.log");
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: json\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}/storage\n  delete:\n    enabled: true\n\
             http:\n  addr: {addr}\nauth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n\
             \x20   issuer: {ISSUER}\n    rootcertbundle: {}/cert.pem\n",
            dir.display(),
            dir.display()
        );
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::options().append(true).open(&log).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let reg = TokenRegistry { addr: addr.clone(), dir, log, asked, issued, _issuer: server, child };
        for _ in 0..100 {
            if let Ok(mut s) = TcpStream::connect(&addr) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n");
                let mut first = String::new();
                let _ = BufReader::new(s).read_line(&mut first);
                if first.contains("401") {
                    return reg;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the token registry did not start: {}", std::fs::read_to_string(&reg.log).unwrap_or_default());
    }

    pub fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }
    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }
}

struct Issuer {
    key: ring::signature::RsaKeyPair,
    cert: String,
    asked: Arc<Mutex<Vec<Asked>>>,
    issued: Arc<Mutex<Vec<String>>>,
}

impl Issuer {
    /// The answer to one token request (GET with a query, or POST with a form).
    fn answer(&self, req: &Request) -> Reply {
        let (method, target, body) = (req.method.clone(), &req.target, &req.body);
        let auth = req.header("authorization").map(str::to_string);
        let query = target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
        let pairs: Vec<(String, String)> = if method == "POST" {
            url::form_urlencoded::parse(body).into_owned().collect()
        } else {
            url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
        };
        let get = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        let scopes: Vec<String> = get("scope").iter().flat_map(|s| s.split(' ').map(str::to_string)).collect();
        let good = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        let login = auth.as_ref().map(|a| a == &format!("Basic {good}"));
        let refresh_ok =
            method == "POST" && get("grant_type") == ["refresh_token"] && get("refresh_token") == [REFRESH];
        self.asked.lock().unwrap().push(Asked { method: method.clone(), login, scopes: scopes.clone() });
        let (status, answer) = if login == Some(false) || (method == "POST" && !refresh_ok) {
            (401, json!({"details": "incorrect username or password"}))
        } else {
            // A login (or refresh token) gets what it asks; anonymous gets nothing.
            let granted = login == Some(true) || refresh_ok;
            let token = self.token(if granted { &scopes } else { &[] });
            self.issued.lock().unwrap().push(token.clone());
            if method == "POST" {
                (200, json!({"access_token": token, "expires_in": 300}))
            } else {
                (200, json!({"token": token, "access_token": token, "expires_in": 300}))
            }
        };
        reply(status, answer.to_string()).header("Content-Type", "application/json")
    }

    /// A JWT granting `scopes` (repository:NAME:ACTIONS), signed RS256 with the x5c chain.
    fn token(&self, scopes: &[String]) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let access: Vec<_> = scopes
            .iter()
            .filter_map(|s| {
                let mut p = s.splitn(3, ':');
                let (t, name, actions) = (p.next()?, p.next()?, p.next()?);
                Some(json!({"type": t, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
            })
            .collect();
        let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [self.cert]});
        let claims = json!({
            "iss": ISSUER, "sub": USER, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now - 10,
            "jti": format!("{now}-{}", self.issued.lock().unwrap().len()), "access": access,
        });
        let signing_input =
            format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        self.key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, signing_input.as_bytes(), &mut sig).unwrap();
        format!("{signing_input}.{}", b64url(&sig))
    }
}
