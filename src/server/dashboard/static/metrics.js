/**
 * Reading /metrics in the browser: the Prometheus text exposition format, and quantiles of a
 * histogram's bucket counts the way Prometheus' histogram_quantile computes them. Pure functions,
 * so they are tested in Node as well.
 */

/** Parses the exposition format into { name, labels, value } samples. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** histogram_quantile over bucket count deltas (linear within a bucket, as Prometheus does). */
export function quantile(q, buckets) {
  const bs = [...buckets.entries()]
    .map(([le, c]) => [le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), c])
    .sort((a, b) => a[0] - b[0]);
  if (!bs.length) return Number.NaN;
  const total = bs[bs.length - 1][1];
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of bs) {
    if (c >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1e-12, c - prevCount);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}
