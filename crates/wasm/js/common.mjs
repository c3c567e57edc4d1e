// The part of the wrapper shared by Node and browsers: turns what callers have (bytes, a
// Blob or File, a `{ size, readAt }` object) into the random-access source the wasm reads,
// and wraps the low-level calls into promise-returning functions.

const READ_WINDOW = 1 << 20; // FileReaderSync: small reads come from one 1 MB window
const READ_AHEAD = 32 << 20; // …and streamed ones from a 32 MB one (see blobSyncSource)
const BLOB_PART = 16 << 20; // Blob outside a worker: read in parts of this size

/** An Error with the stable `code` the wasm errors have. */
export function codedError(message, code, ErrorType = Error, cause) {
  const e = cause === undefined ? new ErrorType(message) : new ErrorType(message, { cause });
  e.code = code;
  return e;
}

const badArgument = (message) => codedError(message, 'BAD_ARGUMENT', TypeError);

/** Random access into bytes held in memory. */
export function bytesSource(bytes) {
  return {
    size: bytes.byteLength,
    readAt(offset, length) {
      return bytes.subarray(offset, offset + length);
    },
  };
}

/**
 * Random access into a Blob/File with FileReaderSync: workers only, nothing held whole.
 * Each readAsArrayBuffer costs a round trip to the browser's blob store: 1 GB read in 1 MB
 * slices takes ~5 s in Chromium here, in 32 MB slices ~2.5 s. So small reads come from one
 * 1 MB window, and a read that continues the previous one (a layer streamed through, as
 * hashing does) starts a 32 MB read-ahead window; other large reads go straight through.
 */
export function blobSyncSource(blob) {
  const reader = new FileReaderSync();
  let cacheStart = 0;
  let cache = null;
  let lastEnd = -1;
  const fill = (offset, size) => {
    cacheStart = offset;
    cache = new Uint8Array(reader.readAsArrayBuffer(blob.slice(offset, Math.min(blob.size, offset + size))));
  };
  return {
    size: blob.size,
    readAt(offset, length) {
      const end = Math.min(blob.size, offset + length);
      if (!(end > offset)) return new Uint8Array(0);
      const sequential = offset === lastEnd;
      lastEnd = end;
      if (cache && offset >= cacheStart && end <= cacheStart + cache.length) {
        return cache.subarray(offset - cacheStart, end - cacheStart);
      }
      if (end - offset >= READ_WINDOW / 4) {
        if (!sequential) return new Uint8Array(reader.readAsArrayBuffer(blob.slice(offset, end)));
        fill(offset, Math.max(READ_AHEAD, end - offset));
        return cache.subarray(0, end - offset);
      }
      fill(offset, READ_WINDOW);
      return cache.subarray(0, end - offset);
    },
  };
}

/**
 * A Blob/File where no synchronous read exists (a page's main thread, Node): read up front
 * in 16 MB parts with `arrayBuffer()` (no single buffer as large as the archive is needed,
 * but the archive is held in memory: in browsers prefer a worker, in Node a file path).
 */
export async function blobBufferedSource(blob) {
  const parts = [];
  for (let o = 0; o < blob.size; o += BLOB_PART) {
    parts.push(new Uint8Array(await blob.slice(o, Math.min(blob.size, o + BLOB_PART)).arrayBuffer()));
  }
  return {
    size: blob.size,
    readAt(offset, length) {
      const i = Math.floor(offset / BLOB_PART);
      const part = parts[i];
      if (!part) return new Uint8Array(0);
      const start = offset - i * BLOB_PART;
      return part.subarray(start, Math.min(part.length, start + length)); // may be short: the wasm reads on
    },
  };
}

const isBlob = (x) => typeof Blob === 'function' && x instanceof Blob;

/** What the wrapper accepts everywhere; Node adds file paths. */
export async function toSource(input) {
  if (input instanceof Uint8Array) return bytesSource(input);
  if (input instanceof ArrayBuffer) return bytesSource(new Uint8Array(input));
  if (ArrayBuffer.isView(input)) return bytesSource(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  if (isBlob(input)) {
    return typeof FileReaderSync === 'function' ? blobSyncSource(input) : blobBufferedSource(input);
  }
  if (input && typeof input === 'object' && typeof input.readAt === 'function' && Number.isSafeInteger(input.size)) {
    return input;
  }
  throw badArgument(
    'the input must be a Uint8Array, an ArrayBuffer, a Blob or File, or a { size, readAt(offset, length) } source',
  );
}

const GiB = 2 ** 30;

/**
 * The browser's own SHA-256 (`crypto.subtle`, native code: several times SHA-256 in wasm)
 * needs the bytes whole, so a plain layer is read whole into memory for it, one at a time
 * and only up to `max()` bytes: an eighth of the device's memory, at most 1 GiB. While it
 * is hashed a layer costs twice its size (`digest` works on a copy). For the browser
 * entries (Node hashes natively as it reads).
 */
export const subtleWhole = {
  max() {
    const gb = (typeof navigator === 'object' && navigator.deviceMemory) || 4;
    return Math.min(GiB, (gb * GiB) / 8);
  },
  /** `sha256:…` of `input[offset, offset + size)`, or null where it cannot be had this way. */
  async hash(input, { offset, size }) {
    const subtle = globalThis.crypto && globalThis.crypto.subtle; // secure contexts only
    if (!subtle) return null;
    try {
      let bytes;
      if (typeof Blob === 'function' && input instanceof Blob) {
        bytes = await input.slice(offset, offset + size).arrayBuffer();
      } else if (ArrayBuffer.isView(input) || input instanceof ArrayBuffer) {
        const b = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
        bytes = new Uint8Array(b.buffer, b.byteOffset + offset, size);
      } else {
        return null;
      }
      if (bytes.byteLength !== size) return null;
      const d = new Uint8Array(await subtle.digest('SHA-256', bytes));
      return `sha256:${Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('')}`;
    } catch {
      return null; // no memory for it, say: the engine reads and hashes the layer itself
    }
  },
};

function checkOptions(opts) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw badArgument('options must be an object');
  return opts;
}

/**
 * The wrapper's functions over a low-level module (`{ list, inspect, squash, checkTag,
 * checkOptions, version }` of a wasm-pack target), loaded by `load()` (sync or async), with `open(input)`
 * giving `{ source, close? }`, `sha256` the host's SHA-256 factory where it has a
 * synchronous one (Node), `scratch` its scratch-space factory (Node: a temporary
 * file), each used unless the caller's options say otherwise, and `whole` where the host
 * has a faster SHA-256 that needs the bytes whole (browsers: `subtleWhole` above), used
 * by `verifyLayers`.
 */
export function createApi({ load, open, sha256, scratch, whole }) {
  const hashOf = (o) => (o.sha256 === undefined ? sha256 : o.sha256);
  const scratchOf = (o) => (o.scratch === undefined ? scratch : o.scratch);
  async function using(input, fn) {
    const low = await load();
    const { source, close } = await open(input);
    try {
      return fn(low, source);
    } finally {
      if (close) close();
    }
  }

  /**
   * The plain layers of `o.layers` up to `o.wholeLayerMax` bytes, hashed whole by the
   * host, one at a time: `{ hashed: [{ index, digest }], done, total }` (bytes hashed, bytes
   * of all of `o.layers`), or null. A layer the host cannot take is left to the engine.
   */
  async function hashedWhole(input, o) {
    const max = o.wholeLayerMax === undefined ? whole.max() : Number(o.wholeLayerMax);
    if (!(max > 0) || !Array.isArray(o.layers) || o.layers.length === 0) return null;
    const ranges = await using(input, (low, source) =>
      low.layerRanges(source, { image: o.image, platform: o.platform }),
    );
    const wanted = ranges.filter((r) => o.layers.includes(r.index));
    const total = wanted.reduce((s, r) => s + r.size, 0);
    const out = { hashed: [], done: 0, total };
    for (const r of wanted.filter((r) => r.plain && r.size <= max)) {
      const digest = await whole.hash(input, r);
      if (!digest) continue;
      out.hashed.push({ index: r.index, digest });
      out.done += r.size;
      if (o.onProgress && o.onProgress({ phase: 'read', bytesDone: out.done, bytesTotal: total }) === false) {
        throw codedError('cancelled', 'CANCELLED');
      }
    }
    return out.hashed.length > 0 ? out : null;
  }

  return {
    /** Images, tags and history without reading the layers: fast. */
    async list(input) {
      return using(input, (low, source) => low.list(source));
    },

    /** Everything `docker-squash inspect` shows; reads (and verifies) every layer. */
    async inspect(input, opts) {
      const o = checkOptions(opts);
      return using(input, (low, source) =>
        low.inspect(source, {
          image: o.image,
          platform: o.platform,
          onProgress: o.onProgress,
          sha256: hashOf(o),
          verify: o.verify,
        }),
      );
    },

    /**
     * Verifies only the layers `opts.layers` (indices, 0 at the bottom) against their
     * diff_ids; rejects as `squash` does on a damaged layer. For verifying in parallel
     * workers while a squash runs with `verify: false`. Resolves with `hashedWhole`: the
     * layers hashed by the host's own SHA-256 (browsers), not read by the engine.
     */
    async verifyLayers(input, opts) {
      const o = checkOptions(opts);
      const pre = whole && o.hashed === undefined ? await hashedWhole(input, o) : null;
      // The engine compares the host's digests (its words on a damaged layer) and reads the rest.
      const onProgress =
        pre && o.onProgress
          ? (p) => o.onProgress({ ...p, bytesDone: pre.done + p.bytesDone, bytesTotal: pre.total })
          : o.onProgress;
      await using(input, (low, source) =>
        low.verifyLayers(source, {
          image: o.image,
          platform: o.platform,
          layers: o.layers,
          hashed: pre ? pre.hashed : o.hashed,
          onProgress,
          sha256: hashOf(o),
        }),
      );
      return { hashedWhole: pre ? pre.hashed.map((h) => h.index) : [] };
    },

    /**
     * Squashes. The archive goes to `opts.onChunk` when given (then `chunks` is empty),
     * otherwise it is collected into `chunks`.
     */
    async squash(input, opts) {
      const o = checkOptions(opts);
      if (o.onChunk !== undefined && o.onChunk !== null && typeof o.onChunk !== 'function') {
        throw badArgument('options.onChunk must be a function');
      }
      const chunks = [];
      const onChunk =
        o.onChunk ||
        ((c) => {
          chunks.push(c);
        });
      return using(input, (low, source) => {
        const report = low.squash(source, {
          from: o.from,
          tag: o.tag,
          image: o.image,
          platform: o.platform,
          onProgress: o.onProgress,
          onChunk,
          transientChunks: Boolean(o.onChunk && o.transientChunks),
          sha256: hashOf(o),
          verify: o.verify,
          compress: o.compress,
          level: o.level,
          format: o.format,
          pushed: o.pushed,
          scratch: scratchOf(o),
        });
        return { chunks, report };
      });
    },

    /** `repo:tag` as squash will write it (`app` -> `app:latest`); throws BAD_TAG. */
    async checkTag(tag) {
      const low = await load();
      return low.checkTag(tag);
    },

    /** Throws what `squash` would for these options (BAD_TAG, BAD_OPTION, BAD_ARGUMENT), reading nothing. */
    async checkOptions(options) {
      const low = await load();
      low.checkOptions(options);
    },

    async version() {
      const low = await load();
      return low.version();
    },
  };
}
