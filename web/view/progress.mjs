// The progress panel: what runs, a bar, bytes done, speed and time left, and Cancel (or
// "Skip analysis"). Also times each phase, for the speeds the result shows.

import { fmtBytes } from '../format/bytes.mjs';
import { fmtDuration } from '../format/duration.mjs';
import { $ } from './dom.mjs';

const PHASES = {
  read: 'Reading and checking the layers',
  squash: 'Making the new layer',
  write: 'Writing the squashed image',
  verify: 'Checking the last layers against their digests',
};

/**
 * Shows the panel for a new run. Returns `{ update, phases }`: `update(progress)` is the
 * worker's progress callback; `phases` fills in as it runs, `{ [phase]: { t0, t1, bytes } }`.
 */
export function startProgress(label, { analysing = false } = {}) {
  $('progress').hidden = false;
  $('progress-label').textContent = `${label}…`;
  $('progress-bar').removeAttribute('value');
  $('progress-stats').textContent = '';
  $('cancel').textContent = analysing ? 'Skip analysis' : 'Cancel';

  const phases = {};
  let phaseStart = null; // where the current phase began: its speed is measured from there
  const update = (p) => {
    const now = performance.now();
    if (!phaseStart || phaseStart.phase !== p.phase) phaseStart = { phase: p.phase, t: now, bytes: p.bytesDone };
    const pt = (phases[p.phase] ??= { t0: now, t1: now, bytes: 0 });
    pt.t1 = now;
    pt.bytes = p.bytesDone;
    $('progress-label').textContent = analysing ? 'Analysing layers' : PHASES[p.phase] || p.phase;
    const bar = $('progress-bar');
    if (p.bytesTotal > 0) {
      bar.max = p.bytesTotal;
      bar.value = Math.min(p.bytesDone, p.bytesTotal);
    }
    const secs = (now - phaseStart.t) / 1000;
    const rate = secs > 0.2 ? (p.bytesDone - phaseStart.bytes) / secs : 0;
    const parts = [`${fmtBytes(p.bytesDone)} of ${fmtBytes(p.bytesTotal)}`];
    if (rate > 0) {
      parts.push(`${(rate / 1e6).toFixed(rate >= 1e8 ? 0 : 1)} MB/s`);
      const left = (p.bytesTotal - p.bytesDone) / rate;
      if (p.bytesDone < p.bytesTotal) parts.push(left < 1 ? 'almost done' : `about ${fmtDuration(left)} left`);
    }
    $('progress-stats').textContent = parts.join(' · ');
    $('progress').dataset.phase = p.phase;
  };
  return { update, phases };
}

export function hideProgress() {
  $('progress').hidden = true;
}
