// Byte counts as `docker history` shows them.

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Decimal units with three significant digits: 973 kB, 1.23 MB. */
export function fmtBytes(n) {
  n = Number(n);
  if (!Number.isFinite(n)) return '?';
  let u = 0;
  let v = Math.abs(n);
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const s = u === 0 ? String(v) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[u]}`;
}
