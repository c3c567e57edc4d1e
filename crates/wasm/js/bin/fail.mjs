// The bin's failures: one message to print, and OS errors in the native CLI's words.

/** The program's name, as messages and temporary files show it. */
export const PROG = 'docker-squash-wasm';

/** A failure with the one message to print. */
export class Fail extends Error {}

/** An OS error as Rust's io::Error shows it: "No such file or directory (os error 2)". */
export function osMessage(e) {
  if (e && typeof e.errno === 'number' && typeof e.message === 'string') {
    const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message);
    if (m) return `${m[1].charAt(0).toUpperCase()}${m[1].slice(1)} (os error ${Math.abs(e.errno)})`;
  }
  return e && e.message ? e.message : String(e);
}
