//! Answering a registry's challenge: Basic with the login, or a Bearer token from the
//! realm (the distribution token spec: GET realm?service=…&scope=… with Basic credentials,
//! or POST grant_type=refresh_token for an identity token), and the Auth errors that name
//! the host and the scope when neither works.

use crate::bodies::{read_small, strip_query};
use crate::challenge::Challenge;
use crate::client::{Client, Request};
use crate::credentials::Credential;
use crate::error::{describe, registry_errors, Error, Result};
use crate::host::{Body, Host};
use crate::urls;

/// A token answer: `token`, or its OAuth2 name `access_token`.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl<H: Host> Client<'_, H> {
    /// After the ping's 401: the login to send from the start (a token is fetched now, so
    /// that no upload is sent twice for a 401).
    pub(crate) async fn prepare_auth(&mut self) -> Result<()> {
        match self.challenge.clone() {
            Some(Challenge::Bearer { realm, service, .. }) => self.fetch_token(&realm, service.as_deref()).await,
            Some(Challenge::Basic) => {
                self.authorization = self.credential.as_ref().and_then(Credential::basic_header);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A new login for a 401: true when there is one to try (a fresh token, with the
    /// challenge's scope added; Basic not sent yet), false when the 401 stands.
    pub(crate) async fn reauthorize(&mut self, challenge: Option<&Challenge>) -> Result<bool> {
        match challenge {
            Some(Challenge::Basic) => {
                let basic = self.credential.as_ref().and_then(Credential::basic_header);
                if basic.is_none() || basic == self.authorization {
                    return Ok(false);
                }
                self.authorization = basic;
                Ok(true)
            }
            Some(ch @ Challenge::Bearer { realm, service, error, .. }) => {
                let mut wider = false;
                for s in ch.scopes() {
                    if !self.scopes.contains(&s) {
                        self.scopes.push(s);
                        wider = true;
                    }
                }
                // The same scopes again would get the same refusal; an expired token
                // (no error, or invalid_token) is worth renewing.
                if error.as_deref() == Some("insufficient_scope") && !wider {
                    return Ok(false);
                }
                self.challenge = Some(ch.clone());
                self.fetch_token(realm, service.as_deref()).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Fetches a token for the session's scopes from `realm` and makes it the login.
    async fn fetch_token(&mut self, realm: &str, service: Option<&str>) -> Result<()> {
        let host = self.host.clone();
        let url = urls::Url::parse(realm)
            .ok_or_else(|| Error::protocol(format!("{host}'s token realm {:?} is not a URL", strip_query(realm))))?;
        if url.scheme != "https" && url.scheme != "http" {
            return Err(Error::protocol(format!("{host}'s token realm {} is not HTTP(S)", strip_query(realm))));
        }
        let scope = self.scopes.join(" ");
        // An identity token is traded with OAuth2's refresh grant (a form POST); a password
        // goes as Basic on a GET, as the docker CLI does.
        let (req, form) = match self.credential.clone() {
            Some(Credential::IdentityToken(refresh)) => {
                let mut pairs = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", "docker-squash"),
                ];
                if let Some(s) = service {
                    pairs.push(("service", s));
                }
                if !scope.is_empty() {
                    pairs.push(("scope", &scope));
                }
                let form = urls::form(&pairs);
                self.add_secret(&urls::form_encode(&refresh));
                let req =
                    Request::new("POST", realm.to_string()).header("Content-Type", "application/x-www-form-urlencoded");
                (req, form.into_bytes())
            }
            other => {
                let mut pairs: Vec<(&str, &str)> = Vec::new();
                if let Some(s) = service {
                    pairs.push(("service", s));
                }
                for s in &self.scopes {
                    pairs.push(("scope", s));
                }
                if let Some(Credential::Basic { username, .. }) = &other {
                    pairs.push(("account", username));
                }
                (Request::new("GET", urls::append_query(realm, &pairs)), Vec::new())
            }
        };
        // The login goes to the realm's origin only (the registry named it), never on to
        // where the realm may redirect. An identity token travels in the form instead.
        let basic = match &self.credential {
            Some(Credential::IdentityToken(_)) | None => None,
            Some(other) => other.basic_header(),
        };
        let login = basic.zip(crate::redirect::origin(realm));
        let retry = self.retry;
        let mut resp = retry
            .run(self, async |c| {
                let req = Request {
                    method: req.method,
                    url: req.url.clone(),
                    headers: req.headers.clone(),
                    body: if form.is_empty() { Body::Empty } else { Body::Bytes(&form) },
                };
                let (resp, at) = c.exchange(&req, login.clone().map(|(h, o)| (o, h))).await?;
                if matches!(resp.status, 401 | 403) && !crate::redirect::same_origin(&at, realm) {
                    return Err(c.foreign_refusal(resp.status, &at, req.method, realm));
                }
                match resp.status {
                    429 | 500..=599 => Err(Error::network(format!(
                        "the token service {} answered {}",
                        strip_query(&req.url),
                        crate::status::status_text(resp.status)
                    ))),
                    _ => Ok(resp),
                }
            })
            .await?;
        let status = resp.status;
        let body = read_small(&mut resp).await;
        let realm_shown = strip_query(realm);
        match status {
            200 => {}
            401 | 403 | 400 if self.credential.is_some() => {
                return Err(self.scrub(Error::auth(format!(
                    "login to {host} failed: its token service ({realm_shown}) refused the credentials from {} \
                     for {scope}: docker login {host}",
                    self.config_file
                ))))
            }
            401 | 403 => {
                return Err(Error::auth(format!(
                    "no credentials for {host}: docker login {host} (its token service refused anonymous access to {scope})"
                )))
            }
            s => {
                return Err(Error::protocol(format!("the token service of {host} ({realm_shown}) answered {s}")));
            }
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| Error::protocol(format!("the token service of {host} ({realm_shown}) sent no JSON token")))?;
        let token = answer.token.filter(|t| !t.is_empty()).or(answer.access_token.filter(|t| !t.is_empty()));
        let token = token
            .ok_or_else(|| Error::protocol(format!("the token service of {host} ({realm_shown}) sent no token")))?;
        self.add_secret(&token);
        self.trace(&format!("token for {scope} from {realm_shown}"));
        self.authorization = Some(format!("Bearer {token}"));
        Ok(())
    }

    /// The Auth error for a 401 or 403 that stands: whose login, which scope, what to do.
    pub(crate) fn denied(&self, status: u16, body: &[u8], challenge: Option<&Challenge>) -> Error {
        let host = &self.host;
        let scope = self.scopes.join(" ");
        let codes = describe(&registry_errors(body));
        let codes = if codes.is_empty() { String::new() } else { format!(" ({codes})") };
        let msg = match (status, &self.credential, challenge) {
            // Docker Hub answers so for a repository that does not exist, too.
            (401, None, Some(Challenge::Bearer { error: Some(e), .. })) if e == "insufficient_scope" => format!(
                "no credentials for {host}: docker login {host} (anonymous access to {scope} was refused{codes}; \
                 or the repository does not exist)"
            ),
            (401, None, _) => {
                format!(
                    "no credentials for {host}: docker login {host} (anonymous access to {scope} was refused{codes})"
                )
            }
            (401, Some(_), Some(Challenge::Bearer { error: Some(e), .. })) if e == "insufficient_scope" => format!(
                "the login for {host} (from {}) does not grant {scope}{codes}; check the repository name and your \
                 access to it",
                self.config_file
            ),
            (401, Some(_), _) => format!(
                "login to {host} failed: the registry refused the credentials from {} for {scope}{codes}: \
                 docker login {host}",
                self.config_file
            ),
            (_, None, _) => format!("{host} denied {scope}{codes}: docker login {host}"),
            (_, Some(_), _) => format!("{host} denied {scope} to the login from {}{codes}", self.config_file),
        };
        self.scrub(Error::auth(msg))
    }
}
