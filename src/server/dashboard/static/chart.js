/**
 * A small SVG line chart for the dashboard (no library, nothing fetched): numeric x and y axes with
 * rounded ticks, any number of series, a legend, and points drawn as a polyline (plus dots when
 * there are few). `chart.update(series)` redraws; the SVG carries `data-points` (the number of
 * points drawn) so tests can watch a curve grow.
 */
const SVG = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

export function formatTick(v) {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  if (a >= 100) return v.toFixed(0);
  return String(Number(v.toPrecision(3)));
}

export const PALETTE = ['#2f6fde', '#e0662b', '#2a9d5c', '#a347c7', '#c9a227', '#d1435b', '#3aa6b9'];

export class LineChart {
  /**
   * @param {HTMLElement} container
   * @param {{ xLabel?: string, yLabel?: string, height?: number, yMin?: number }} opts
   */
  constructor(container, opts = {}) {
    this.container = container;
    this.opts = opts;
    this.svg = el('svg', { class: 'chart', role: 'img', 'data-points': 0 });
    container.appendChild(this.svg);
    this.series = [];
    this.update([]);
  }

  /** @param {{ name: string, points: [number, number][], color?: string, dashed?: boolean }[]} series */
  update(series) {
    this.series = series;
    const svg = this.svg;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const width = Math.max(320, this.container.clientWidth || 560);
    const height = this.opts.height ?? 220;
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    // The legend sits in the top band, above the plot.
    const pad = { l: 56, r: 24, t: 26, b: 40 };
    const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    svg.setAttribute('data-points', String(all.length));
    if (!all.length) {
      const t = el(
        'text',
        { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-empty' },
        svg,
      );
      t.textContent = this.opts.empty ?? 'no data yet';
      return;
    }
    const x0 = Math.min(...all.map((p) => p[0]));
    let x1 = Math.max(...all.map((p) => p[0]));
    let y0 = Math.min(...all.map((p) => p[1]));
    let y1 = Math.max(...all.map((p) => p[1]));
    if (this.opts.yMin !== undefined) y0 = Math.min(y0, this.opts.yMin);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) {
      y1 += Math.abs(y1) * 0.1 || 1;
      y0 -= Math.abs(y0) * 0.1 || 0;
    }
    const yPad = (y1 - y0) * 0.05;
    y1 += yPad;
    if (this.opts.yMin === undefined) y0 -= yPad;
    const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
    const sy = (y) => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);

    const grid = el('g', { class: 'chart-grid' }, svg);
    for (const v of ticks(y0, y1)) {
      el('line', { x1: pad.l, x2: width - pad.r, y1: sy(v), y2: sy(v) }, grid);
      const t = el('text', { x: pad.l - 6, y: sy(v) + 4, 'text-anchor': 'end', class: 'chart-tick' }, svg);
      t.textContent = formatTick(v);
    }
    const xt = ticks(x0, x1, 6).filter((v) => !this.opts.integerX || Number.isInteger(v));
    for (const v of xt) {
      const t = el(
        'text',
        { x: sx(v), y: height - pad.b + 16, 'text-anchor': 'middle', class: 'chart-tick' },
        svg,
      );
      t.textContent = formatTick(v);
    }
    el(
      'line',
      { x1: pad.l, x2: width - pad.r, y1: height - pad.b, y2: height - pad.b, class: 'chart-axis' },
      svg,
    );
    el('line', { x1: pad.l, x2: pad.l, y1: pad.t, y2: height - pad.b, class: 'chart-axis' }, svg);
    if (this.opts.xLabel) {
      const t = el(
        'text',
        { x: (pad.l + width - pad.r) / 2, y: height - 6, 'text-anchor': 'middle', class: 'chart-label' },
        svg,
      );
      t.textContent = this.opts.xLabel;
    }

    let lx = pad.l;
    series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      if (pts.length) {
        el(
          'polyline',
          {
            points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '),
            fill: 'none',
            stroke: color,
            'stroke-width': 2,
            'stroke-dasharray': s.dashed ? '5 4' : 'none',
            class: 'chart-line',
            'data-series': s.name,
          },
          svg,
        );
        if (pts.length <= 40) {
          for (const [x, y] of pts) el('circle', { cx: sx(x), cy: sy(y), r: 2.5, fill: color }, svg);
        }
      }
      // Legend along the top.
      el('rect', { x: lx, y: 6, width: 10, height: 10, fill: color, rx: 2 }, svg);
      const t = el('text', { x: lx + 14, y: 15, class: 'chart-legend' }, svg);
      t.textContent = s.name;
      lx += 24 + 7 * s.name.length;
    });
  }
}
