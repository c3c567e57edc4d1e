//! A scripted HTTP/1.1 server on loopback, for what a real registry will not do on cue: a
//! 503, a connection cut inside a blob, a redirect to another port or address, a 401 from
//! a storage host, bytes trickled, an answer that never comes. It listens on several
//! addresses at once (127.0.0.1, 127.0.0.2, … are all loopback on Linux), answers each
//! request with the test's handler, and keeps every request it read, headers included, so
//! that a test can assert on what each host received. One server for the Rust tests and,
//! through the `scripted-registry` binary, for the npm package's tests in Node.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// The listener it arrived at (`127.0.0.2:41234`).
    pub at: String,
    /// Header names in lower case, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// How an answer's body goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    /// All of it.
    #[default]
    Whole,
    /// The headers and this many bytes, then the connection is closed.
    Cut(usize),
    /// One byte every so often, for as long as the other side reads.
    Trickle(Duration),
    /// Nothing at all, not even a status line: the connection stays open, silent.
    Silent,
}

/// An answer.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub pace: Pace,
}

/// An answer with `status` and `body`, sent whole.
pub fn reply(status: u16, body: impl Into<Vec<u8>>) -> Reply {
    Reply { status, body: body.into(), ..Reply::default() }
}

impl Reply {
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn paced(mut self, pace: Pace) -> Reply {
        self.pace = pace;
        self
    }
}

/// Answers a request; the second argument is every listener's address, in the order given.
pub type Handler = Arc<dyn Fn(&Request, &[String]) -> Reply + Send + Sync>;

/// The running server; it stops when dropped (and after ten minutes in any case).
pub struct Server {
    /// The listeners' addresses (`127.0.0.1:41234`), in the order they were asked for.
    pub addrs: Vec<String>,
    seen: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Listens on each of `binds` (`127.0.0.1:0`, `127.0.0.2:0`: port 0 picks a free one).
    pub fn start(binds: &[&str], handler: Handler) -> std::io::Result<Server> {
        let mut listeners = Vec::new();
        for b in binds {
            let l = TcpListener::bind(b)?;
            l.set_nonblocking(true)?;
            listeners.push(l);
        }
        let addrs: Vec<String> =
            listeners.iter().map(|l| l.local_addr().map(|a| a.to_string())).collect::<std::io::Result<_>>()?;
        let (seen, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        for (l, at) in listeners.into_iter().zip(addrs.clone()) {
            let (seen, stop, handler, all) =
                (Arc::clone(&seen), Arc::clone(&stop), Arc::clone(&handler), addrs.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(600);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match l.accept() {
                        Ok((s, _)) => {
                            let (seen, stop, handler, all, at) =
                                (Arc::clone(&seen), Arc::clone(&stop), Arc::clone(&handler), all.clone(), at.clone());
                            std::thread::spawn(move || serve(s, &at, &all, &handler, &seen, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        Ok(Server { addrs, seen, stop })
    }

    /// Every request read so far, in order.
    pub fn seen(&self) -> Vec<Request> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The requests that arrived at listener `i`.
    pub fn seen_at(&self, i: usize) -> Vec<Request> {
        self.seen().into_iter().filter(|r| r.at == self.addrs[i]).collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Reads one request (closing on anything that is not HTTP/1.x, a TLS hello included) and
/// answers it; one request per connection (`Connection: close`).
fn serve(
    stream: TcpStream,
    at: &str,
    all: &[String],
    handler: &Handler,
    seen: &Mutex<Vec<Request>>,
    stop: &AtomicBool,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut r = BufReader::new(&stream);
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [method, target, version] = parts.as_slice() else { return };
    if !version.starts_with("HTTP/1.") {
        return;
    }
    let (mut headers, mut len) = (Vec::new(), 0usize);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
            if k == "content-length" {
                len = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    let req = Request { method: method.to_string(), target: target.to_string(), at: at.to_string(), headers, body };
    if let Ok(mut s) = seen.lock() {
        s.push(req.clone());
    }
    let rep = handler(&req, all);
    let mut s = &stream;
    if rep.pace == Pace::Silent {
        while !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        return;
    }
    let mut head = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n", rep.status, rep.body.len());
    for (k, v) in &rep.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    match rep.pace {
        Pace::Whole => {
            let _ = s.write_all(&rep.body);
        }
        Pace::Cut(n) => {
            let _ = s.write_all(&rep.body[..n.min(rep.body.len())]);
        }
        Pace::Trickle(every) => {
            for b in &rep.body {
                if stop.load(Ordering::SeqCst) || s.write_all(&[*b]).and_then(|()| s.flush()).is_err() {
                    return;
                }
                std::thread::sleep(every);
            }
        }
        Pace::Silent => {}
    }
    let _ = s.flush();
}
