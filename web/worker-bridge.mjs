// The page's side of worker.mjs: each request has an id, and the worker answers by that id.
// The worker posts progress while it works and one 'done' or 'error' at the end (the
// protocol is written at the top of worker.mjs). Cancelling ends the worker and starts a
// new one: the wasm calls are synchronous, so there is no gentler way to stop them.

/** Names this page's output files in the browser's private file storage. */
const SESSION = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

const coded = (message, code, extra = {}) => Object.assign(new Error(message), { code }, extra);

/** The page's lock, held while it is open: a later visit removes the files of pages without one. */
const PAGE_LOCK = `docker-squash-page-${SESSION}`; // output-sink.mjs's PAGE_LOCK_PREFIX

export class WorkerBridge {
  /** `helper`: a worker that only verifies layers (verifiers.mjs): no lock, no file cleanup. */
  constructor({ helper = false } = {}) {
    this.nextId = 1;
    this.helper = helper;
    if (!helper) navigator.locks?.request(PAGE_LOCK, () => new Promise(() => {})).catch(() => {});
    this.spawn();
  }

  spawn() {
    this.pending = new Map();
    this.worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      type: 'module',
      name: this.helper ? 'verifier' : 'squasher',
    });
    this.worker.onmessage = (e) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      this.failAll({ code: 'LOAD', message: e.message || 'the worker could not start' });
    };
    // What closed tabs left, and what a cancelled squash of this page left, goes now.
    if (!this.helper) this.call('cleanup', null).catch(() => {});
  }

  receive(msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.memory) p.memory = msg.memory;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.progress, msg.memory);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'done') {
      p.resolve(msg);
    } else {
      const err = coded(msg.error.message, msg.error.code, { memory: msg.memory });
      p.reject(err);
      // A wasm panic leaves the module unusable: start afresh.
      if (err.code === 'INTERNAL') this.restart();
    }
  }

  failAll(error) {
    const pending = this.pending;
    this.pending = new Map();
    for (const p of pending.values()) p.reject(coded(error.message, error.code));
  }

  restart() {
    this.worker.terminate();
    const pending = this.pending;
    this.spawn();
    for (const p of pending.values()) p.reject(coded('stopped', 'CANCELLED'));
  }

  /** Stops whatever runs at once: the worker is ended and a new one made. */
  cancel() {
    this.restart();
  }

  /**
   * Runs `op` ('list' | 'inspect' | 'squash' | 'verify') on `file` in the worker. Resolves with the
   * worker's 'done' message ({ result, output?, stats?, memory }); rejects with an Error
   * whose `code` is the engine's, or CANCELLED.
   */
  call(op, file, options = {}, onProgress = null) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, op, file, options, session: SESSION });
    });
  }
}
