// Registries in Node: the host the wasm registry client (crates/registry, the native CLI's
// code) runs on. Only what Node has by itself: `fetch` for HTTP, `fs` for config.json, the
// pulled tar and the archive pushed, `child_process` for docker-credential-* helpers, timers
// for the retries' backoff. The requests, the logins and every message are the Rust code's.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';

// Node's TLS error codes (OpenSSL's verification failures, and its handshake errors).
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** A fetch that got no answer, as the Rust side classifies it: `{ kind, detail }`. */
function failure(e) {
  if (e instanceof Deadline) return { kind: 'timeout', detail: e.message };
  const cause = e && e.cause ? e.cause : null;
  const code = (cause && cause.code) || (e && e.code) || '';
  if (!cause && e instanceof TypeError) return { kind: 'request', detail: e.message };
  const message = (cause && cause.message) || (e && e.message) || String(e);
  const detail = code && !message.includes(code) ? `${message} (${code})` : message;
  return { kind: TLS_CODE.test(code) ? 'tls' : 'network', detail };
}

/** A deadline passed: what `failure` turns into `{ kind: 'timeout' }`. */
class Deadline extends Error {}

/**
 * `start()`'s promise, or a Deadline after `ms` (the request aborted with `stop`, so that
 * its connection goes at once).
 */
async function within(ms, stop, words, start) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Deadline(words));
      stop.abort();
    }, ms);
  });
  try {
    return await Promise.race([start(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Writes all of `bytes` at `pos`. */
function writeAt(fd, bytes, pos) {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, pos + done);
}

/**
 * The host: `out` is the descriptor a pull writes its tar to (from 0); `archive` the path
 * of the OCI-layout archive a push reads (blobs are sent as file-backed Blob slices).
 */
export function registryHost({ out, archive } = {}) {
  let outPos = 0;
  let archiveFd = null;
  let archiveBlob = null;
  let buf = Buffer.alloc(0);
  return {
    async send(method, url, headers, body, _unverifiedTls, deadlines) {
      // fetch verifies TLS always; plain HTTP is what loopback registries get instead.
      const h = new Headers({ 'accept-encoding': 'identity', 'user-agent': 'docker-squash-wasm' });
      for (const [k, v] of headers) if (k.toLowerCase() !== 'content-length') h.set(k, v);
      let payload;
      let length = 0;
      if (body instanceof Uint8Array) {
        payload = body;
        length = body.length;
      } else if (body && typeof body === 'object') {
        // A file-backed Blob (Node >= 20, as the package's engines say): a blob is streamed
        // from the archive, never held whole.
        archiveBlob ??= await fs.openAsBlob(archive);
        payload = archiveBlob.slice(body.offset, body.offset + body.length);
        length = body.length;
      }
      // fetch cannot time the connection apart from the answer, nor see a body go out: the
      // answer must come within both deadlines, plus the time the body may take at the
      // slowest rate allowed (deadline.rs: a KiB per window).
      const { connectMs, responseMs, idleMs, windowMs, minBytesPerWindow } = deadlines;
      const answerMs = connectMs + responseMs + Math.ceil(length / minBytesPerWindow) * windowMs;
      const stop = new AbortController();
      let resp;
      try {
        // Redirects are the Rust side's to follow, hop by hop: where a login may go, and
        // whether plain HTTP is allowed, is decided for each (crates/registry redirect.rs).
        resp = await within(answerMs, stop, 'sent no answer in time', () =>
          fetch(url, { method, headers: h, body: payload, redirect: 'manual', signal: stop.signal }),
        );
      } catch (e) {
        throw failure(e);
      }
      const reader = resp.body ? resp.body.getReader() : null;
      return {
        status: resp.status,
        headers: [...resp.headers],
        body: {
          async read() {
            if (!reader) return null;
            try {
              const { done, value } = await within(idleMs, stop, 'sent nothing for too long', () => reader.read());
              return done ? null : value;
            } catch (e) {
              throw failure(e);
            }
          },
          cancel() {
            if (reader) reader.cancel().catch(() => {});
          },
        },
      };
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    millis: () => performance.now(),
    env: (name) => process.env[name],
    readFile(p) {
      try {
        return fs.readFileSync(p);
      } catch (e) {
        if (e.code === 'ENOENT') return null;
        throw e;
      }
    },
    runHelper(program, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
        const stdout = [];
        const stderr = [];
        child.on('error', reject);
        child.stdout.on('data', (d) => stdout.push(d));
        child.stderr.on('data', (d) => stderr.push(d));
        child.stdin.on('error', () => {}); // a helper that exits without reading
        child.on('close', (code) =>
          resolve({ success: code === 0, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }),
        );
        child.stdin.end(input);
      });
    },
    write(bytes) {
      writeAt(out, bytes, outPos);
      outPos += bytes.length;
    },
    position: () => outPos,
    truncate(len) {
      fs.ftruncateSync(out, len);
      outPos = len;
    },
    archiveSize() {
      archiveFd ??= fs.openSync(archive, 'r');
      return fs.fstatSync(archiveFd).size;
    },
    readAt(offset, length) {
      archiveFd ??= fs.openSync(archive, 'r');
      if (buf.length < length) buf = Buffer.allocUnsafe(length);
      const n = fs.readSync(archiveFd, buf, 0, length, offset);
      return buf.subarray(0, n);
    },
    close() {
      if (archiveFd !== null) fs.closeSync(archiveFd);
      archiveFd = null;
    },
  };
}

/** `docker://REF` -> `REF`; null for anything else. */
export function registryRef(input) {
  return typeof input === 'string' && input.startsWith('docker://') ? input.slice('docker://'.length) : null;
}

/** The options of the Rust side from the package's: `{ insecure, platform, dockerConfig, verbose, timeout }`. */
export function registryOptions(o = {}) {
  return {
    insecure: o.insecureRegistries ?? [],
    platform: o.platform ?? undefined,
    dockerConfig: o.dockerConfig ?? undefined,
    verbose: Boolean(o.verbose),
    timeout: o.registryTimeout ?? undefined,
  };
}

/** A new temporary file, unlinked at once: `{ fd }`, gone however the process ends. */
function unlinkedTemp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-squash-pull-'));
  const fd = fs.openSync(path.join(dir, 'image.tar'), 'w+', 0o600);
  fs.rmSync(dir, { recursive: true, force: true });
  return fd;
}

/**
 * Pulls `ref` into an unlinked temporary file: `{ fd, pulled }` (the descriptor is the
 * caller's to close). `log` hears what is fetched (and each request, when verbose).
 */
export async function pullToTemp(low, ref, opts, log) {
  const fd = unlinkedTemp();
  try {
    const pulled = await low.registryPull(registryHost({ out: fd }), ref, registryOptions(opts), log);
    return { fd, pulled };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/**
 * Pushes the OCI-layout archive at `archive` to `ref`. `pulled` (pullToTemp's, or null):
 * the registry image squashed, whose layers may be mounted and whose media types the
 * manifest keeps (Docker schema 2 stays Docker; anything else is OCI), as the native CLI.
 */
export async function pushArchive(low, archive, ref, opts, log, pulled = null) {
  const from = pulled ? pulled.reference : null;
  const media = pulled && pulled.mediaType.includes('docker') ? 'docker' : 'oci';
  const host = registryHost({ archive });
  try {
    return await low.registryPush(host, ref, from, media, registryOptions(opts), log);
  } finally {
    host.close();
  }
}
