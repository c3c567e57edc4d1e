// Durations in words, for "about 2 min 5 s left" and the result's time.

/** Seconds as "12 s", "2 min 5 s", "1 h 3 min"; empty for nonsense. */
export function fmtDuration(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 1) return 'less than a second';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
