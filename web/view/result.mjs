// The result: the download link, the `docker load` command to run next, before and after,
// where the space went, and the details of the run (More about this squash).

import { fmtBytes } from '../format/bytes.mjs';
import { fmtDuration } from '../format/duration.mjs';
import { outputName, shellQuote } from '../format/file-name.mjs';
import { shortId } from '../format/history.mjs';
import { plural } from '../format/plural.mjs';
import { $ } from './dom.mjs';
import { showFacts } from './facts.mjs';
import { showWaste } from './waste.mjs';

let resultUrl = null; // the download's object URL, revoked when the result goes

export function clearResult() {
  if (resultUrl) URL.revokeObjectURL(resultUrl);
  resultUrl = null;
  $('result').hidden = true;
  $('download').removeAttribute('href');
}

/**
 * Shows a finished squash. `done`: the worker's answer ({ result, output, stats, memory });
 * `file`: the input; `tag`: as typed; `seconds`: the whole run; `phases`: the progress
 * panel's phase times; `analysed`: the image as inspect() reported it, or null.
 */
export function showResult({ done, file, tag, seconds, phases, analysed }) {
  const r = done.result;
  const name = outputName(tag, file.name);
  resultUrl = URL.createObjectURL(done.output);
  const a = $('download');
  a.href = resultUrl;
  a.download = name;
  a.textContent = `Download ${name}`;
  $('download-info').textContent = `${fmtBytes(done.output.size)} tar archive`;
  $('load-cmd').value = `docker load -i ${shellQuote(name)}`;
  $('copy-status').textContent = '';

  $('before-size').textContent = fmtBytes(r.sizeBefore);
  $('before-layers').textContent = plural(Number(r.layersBefore), 'layer');
  $('after-size').textContent = fmtBytes(r.sizeAfter);
  $('after-layers').textContent = plural(Number(r.layersAfter), 'layer');
  const saved = Number(r.sizeBefore) - Number(r.sizeAfter);
  $('saved-size').textContent = fmtBytes(Math.max(0, saved));
  $('saved-pct').textContent =
    Number(r.sizeBefore) > 0 ? `${Math.max(0, (100 * saved) / Number(r.sizeBefore)).toFixed(1)}%` : '';

  showWaste(analysed);
  showFacts($('result-facts'), runFacts(done, file, seconds, phases));
  $('result').hidden = false;
  $('result').scrollIntoView({ block: 'start', behavior: 'smooth' });
  a.focus({ preventScroll: true });
}

/** "reading 1.2 GB at 850.0 MB/s; writing …" from the phase times. */
function phaseSpeeds(phases) {
  const rateOf = (x) => {
    const secs = (x.t1 - x.t0) / 1000;
    return secs > 0.05 ? `${fmtBytes(x.bytes)} at ${(x.bytes / 1e6 / secs).toFixed(1)} MB/s` : fmtBytes(x.bytes);
  };
  return [
    ['read', 'reading'],
    ['squash', 'making the new layer'],
    ['write', 'writing'],
  ]
    .filter(([ph]) => phases[ph])
    .map(([ph, name]) => `${name} ${rateOf(phases[ph])}`)
    .join('; ');
}

const FORMATS = { oci: 'OCI (as Docker 25+ saves)', docker: 'Docker (as Docker before 25 saved)' };

const storedAs = (r) => (r.compression === 'none' ? 'a plain tar' : `${r.compression} level ${r.compressionLevel}`);

/** The details, each with a key and a raw value (data-key, data-value) for scripts. */
function runFacts(done, file, seconds, phases) {
  const r = done.result;
  const mbps = seconds > 0 ? Number(file.size) / 1e6 / seconds : 0;
  const speeds = phaseSpeeds(phases);
  const peak = done.memory ? done.memory.peak : 0;
  const from = r.from
    ? `${r.from.from === 'root' ? 'root' : shortId(r.from.from)}${r.from.reason ? ` (${r.from.reason})` : ''}`
    : '';
  return [
    { key: 'image-id', label: 'New image ID', value: shortId(r.imageId), raw: r.imageId },
    { key: 'tags', label: 'Tags', value: r.tags && r.tags.length ? r.tags.join(', ') : 'none', raw: '' },
    { key: 'from', label: 'Squash point', value: from, raw: '' },
    {
      key: 'new-layer',
      label: 'New layer',
      value: r.newLayerDiffId ? `${shortId(r.newLayerDiffId)}, ${fmtBytes(r.newLayerSize)}` : 'nothing was squashed',
      raw: r.newLayerDiffId || '',
    },
    {
      key: 'compression',
      label: 'Stored as',
      value: r.newLayerDiffId ? `${storedAs(r)}, ${fmtBytes(r.newLayerStoredSize)} (${r.compressionReason})` : '',
      raw: r.compression || '',
    },
    { key: 'format', label: 'Layout', value: FORMATS[r.format] || r.format, raw: r.format || '' },
    { key: 'output-bytes', label: 'Archive size', value: fmtBytes(r.outputBytes), raw: String(r.outputBytes) },
    { key: 'time', label: 'Time', value: fmtDuration(seconds), raw: String(seconds) },
    {
      key: 'speed',
      label: 'Average speed',
      value: `${mbps.toFixed(1)} MB/s of the ${fmtBytes(file.size)} archive${speeds ? ` (${speeds})` : ''}`,
      raw: String(mbps),
    },
    {
      key: 'verifiers',
      label: 'Layers verified',
      value: done.verifiers
        ? `in ${done.verifiers} worker${done.verifiers === 1 ? '' : 's'} alongside the squash` +
          (done.hashedWhole ? `, ${done.hashedWhole} of ${done.sizable} with the browser's own SHA-256` : '')
        : 'by the squash itself',
      raw: String(done.verifiers || 0),
    },
    { key: 'peak-memory', label: 'Peak WebAssembly memory', value: fmtBytes(peak), raw: String(peak) },
    {
      key: 'sink',
      label: 'Written to',
      value: done.stats && done.stats.sink === 'opfs' ? 'browser file storage (on disk)' : 'browser memory (Blob)',
      raw: done.stats ? done.stats.sink : '',
    },
  ];
}

/** The Copy button of the `docker load` line. */
export async function copyLoadCommand() {
  const text = $('load-cmd').value;
  try {
    await navigator.clipboard.writeText(text);
    $('copy-status').textContent = 'Copied.';
  } catch {
    $('load-cmd').select();
    const ok = document.execCommand && document.execCommand('copy');
    $('copy-status').textContent = ok ? 'Copied.' : 'Select the command and copy it.';
  }
}
