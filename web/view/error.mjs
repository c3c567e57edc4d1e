// The error panel: what went wrong in plain words, what to do, and the engine's own message
// under Details (for a bug report).

import { adviceFor } from '../error-advice.mjs';
import { $ } from './dom.mjs';

/** Shows `err` (an Error with a `code`) as having happened while trying to `during`. */
export function showError(err, during) {
  const code = err && err.code ? String(err.code) : 'INTERNAL';
  if (code === 'CANCELLED') return; // the person asked for it: nothing to explain
  const { what, todo } = adviceFor(code);
  $('error-title').textContent = during ? `Could not ${during}` : 'Something went wrong';
  $('error-what').textContent = what;
  $('error-todo').textContent = todo;
  $('error-detail').textContent = `${code}: ${err && err.message ? err.message : String(err)}`;
  $('error').dataset.code = code;
  $('error').hidden = false;
  $('error').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

export function hideError() {
  $('error').hidden = true;
  delete $('error').dataset.code;
}
