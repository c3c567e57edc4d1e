//! Reading an answer's body: small ones whole, larger ones with a limit, and URLs shown
//! without their query (upload locations and signed storage URLs carry secrets there).

use crate::error::{Error, Result};
use crate::host::{HttpResponse, ResponseBody, Transport, TransportKind};

/// The longest error body or token answer read; more is not an answer the API gives.
pub(crate) const SMALL_BODY: u64 = 1 << 20;

/// A small body (an error, a token, a manifest is read with its own limit); empty on failure.
pub(crate) async fn read_small<B: ResponseBody>(resp: &mut HttpResponse<B>) -> Vec<u8> {
    read_body(&mut resp.body, SMALL_BODY).await.unwrap_or_default()
}

/// At most `limit` bytes of a body: larger is a Protocol error, a dropped connection a
/// Network one, too slow a body a Timeout.
pub(crate) async fn read_limited<B: ResponseBody>(
    resp: &mut HttpResponse<B>,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>> {
    match read_body(&mut resp.body, limit).await {
        Ok(v) => Ok(v),
        Err(None) => Err(Error::protocol(format!("{what} is larger than {limit} bytes"))),
        Err(Some(e)) if e.kind == TransportKind::Timeout => {
            Err(Error::timeout(format!("reading {what}: {}", e.detail)))
        }
        Err(Some(e)) => Err(Error::network(format!("reading {what}: {}", e.detail))),
    }
}

/// The whole body, or Err(None) past `limit` bytes, Err(Some(why)) when the connection fails.
async fn read_body<B: ResponseBody>(body: &mut B, limit: u64) -> std::result::Result<Vec<u8>, Option<Transport>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf).await.map_err(Some)?;
        if n == 0 {
            return Ok(out);
        }
        if (out.len() + n) as u64 > limit {
            return Err(None);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// A URL for messages and logs: upload locations and signed storage URLs carry state and
/// signatures in their query.
pub(crate) fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_not_shown() {
        assert_eq!(
            strip_query("https://r/v2/a/blobs/uploads/x?_state=abc&digest=sha256:1"),
            "https://r/v2/a/blobs/uploads/x"
        );
        assert_eq!(strip_query("https://s3/x#frag"), "https://s3/x");
    }
}
