// Inline SVG charts for the HTML report, written from scratch (no chart library, nothing fetched): a line chart
// with linear or log axes and a grouped horizontal bar chart. Every function returns a standalone <svg> string.

export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#7f7f7f',
  '#393b79',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
  '#3182bd',
];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Number formatting for tick labels: short, no float noise. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

interface Scale {
  map(v: number): number;
  ticks: number[];
}

/** "Nice" linear ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) || 1;
    return niceTicks(lo - d / 2, lo + d / 2, count);
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  if (out[out.length - 1]! < hi) out.push(+(out[out.length - 1]! + step).toPrecision(12));
  return out;
}

function scale(lo: number, hi: number, from: number, to: number, log: boolean): Scale {
  if (log) {
    const a = Math.floor(Math.log10(lo)),
      b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
    const ticks: number[] = [];
    for (let e = a; e <= b; e++) ticks.push(10 ** e);
    return { ticks, map: (v) => from + ((Math.log10(v) - a) / (b - a)) * (to - from) };
  }
  const ticks = niceTicks(lo, hi);
  const t0 = ticks[0]!,
    t1 = ticks[ticks.length - 1]!;
  return { ticks, map: (v) => from + ((v - t0) / (t1 - t0 || 1)) * (to - from) };
}

export interface Series {
  name: string;
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Draw a marker at every point (default true). */
  markers?: boolean;
}

/** A line chart; points with non-finite (or, on a log axis, non-positive) coordinates are left out. */
export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 560,
    legendRows = Math.ceil(o.series.length / 3),
    H = (o.height ?? 320) + legendRows * 16;
  const m = { l: 58, r: 16, t: 30, b: 44 + legendRows * 16 };
  const ok = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0) && (!o.logY || y > 0);
  const series = o.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => ok(x, y)) }));
  const all = series.flatMap((s) => s.points);
  const parts: string[] = [svgOpen(W, H, o.title), `<text class="title" x="${W / 2}" y="18" text-anchor="middle">${escapeXml(o.title)}</text>`];
  if (all.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="note">no data</text></svg>`);
    return parts.join('');
  }
  const xs = all.map((p) => p[0]),
    ys = all.map((p) => p[1]);
  const yLo = o.logY ? Math.min(...ys) : Math.min(0, Math.min(...ys));
  const sx = scale(Math.min(...xs), Math.max(...xs), m.l, W - m.r, !!o.logX);
  const sy = scale(yLo, Math.max(...ys), H - m.b, m.t, !!o.logY);
  parts.push(axes(sx, sy, W, H, m, o.xLabel, o.yLabel));
  series.forEach((s, k) => {
    const c = PALETTE[k % PALETTE.length]!;
    if (s.points.length === 0) return;
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx.map(x).toFixed(1)},${sy.map(y).toFixed(1)}`).join('');
    parts.push(`<path class="series" d="${d}" fill="none" stroke="${c}" stroke-width="2"><title>${escapeXml(s.name)}</title></path>`);
    if (o.markers !== false)
      for (const [x, y] of s.points)
        parts.push(
          `<circle cx="${sx.map(x).toFixed(1)}" cy="${sy.map(y).toFixed(1)}" r="2.8" fill="${c}"><title>${escapeXml(`${s.name}: ${tickLabel(x)}, ${y.toPrecision(4)}`)}</title></circle>`,
        );
  });
  parts.push(
    legend(
      series.map((s) => s.name),
      W,
      H - legendRows * 16 - 4,
    ),
  );
  parts.push('</svg>');
  return parts.join('');
}

export interface BarChartOptions {
  title: string;
  /** One group of bars per category (drawn as rows). */
  categories: string[];
  series: { name: string; values: (number | undefined)[] }[];
  xLabel: string;
  logX?: boolean;
  width?: number;
  /** Draw a vertical reference line at this value (e.g. 1 for ratios). */
  reference?: number;
}

/** Horizontal grouped bars: one row group per category, one bar per series; missing values leave a gap. */
export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 640,
    bar = 11,
    gap = 8,
    nS = o.series.length;
  const labelW = Math.min(260, 12 + 6.5 * Math.max(...o.categories.map((c) => c.length), 4));
  const legendRows = Math.ceil(nS / 3);
  const m = { l: labelW, r: 56, t: 30, b: 40 + legendRows * 16 };
  const H = m.t + m.b + o.categories.length * (nS * bar + gap);
  const vals = o.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v) && (!o.logX || v > 0));
  if (o.reference !== undefined) vals.push(o.reference);
  const parts: string[] = [svgOpen(W, H, o.title), `<text class="title" x="${W / 2}" y="18" text-anchor="middle">${escapeXml(o.title)}</text>`];
  if (vals.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="note">no data</text></svg>`);
    return parts.join('');
  }
  const lo = o.logX ? Math.min(...vals) : Math.min(0, ...vals);
  const sx = scale(lo, Math.max(...vals), m.l, W - m.r, !!o.logX);
  const base = o.logX ? m.l : sx.map(0);
  for (const t of sx.ticks) {
    const x = sx.map(t);
    parts.push(
      `<line class="grid" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${H - m.b}"/><text class="tick" x="${x.toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  parts.push(`<text class="label" x="${(m.l + W - m.r) / 2}" y="${H - m.b + 30}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  o.categories.forEach((cat, i) => {
    const y0 = m.t + i * (nS * bar + gap);
    parts.push(`<text class="tick" x="${m.l - 6}" y="${(y0 + (nS * bar) / 2 + 4).toFixed(1)}" text-anchor="end">${escapeXml(cat)}</text>`);
    o.series.forEach((s, k) => {
      const v = s.values[i];
      if (v === undefined || !Number.isFinite(v) || (o.logX && v <= 0)) return;
      const x = sx.map(v);
      const c = PALETTE[k % PALETTE.length]!;
      parts.push(
        `<rect class="bar" x="${Math.min(base, x).toFixed(1)}" y="${y0 + k * bar}" width="${Math.max(1, Math.abs(x - base)).toFixed(1)}" height="${bar - 1}" fill="${c}"><title>${escapeXml(`${cat} — ${s.name}: ${v.toPrecision(4)}`)}</title></rect>`,
      );
      parts.push(`<text class="value" x="${(Math.max(base, x) + 3).toFixed(1)}" y="${y0 + k * bar + bar - 2}">${tickLabel(v)}</text>`);
    });
  });
  if (o.reference !== undefined) {
    const x = sx.map(o.reference);
    parts.push(`<line class="ref" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t - 4}" y2="${H - m.b}"/>`);
  }
  parts.push(`<line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}"/>`);
  parts.push(
    legend(
      o.series.map((s) => s.name),
      W,
      H - legendRows * 16 - 4,
    ),
  );
  parts.push('</svg>');
  return parts.join('');
}

function svgOpen(W: number, H: number, title: string): string {
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(title)}">`;
}

function axes(sx: Scale, sy: Scale, W: number, H: number, m: { l: number; r: number; t: number; b: number }, xLabel: string, yLabel: string): string {
  const p: string[] = [];
  for (const t of sy.ticks) {
    const y = sy.map(t);
    p.push(
      `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/><text class="tick" x="${m.l - 5}" y="${(y + 4).toFixed(1)}" text-anchor="end">${tickLabel(t)}</text>`,
    );
  }
  for (const t of sx.ticks) {
    const x = sx.map(t);
    p.push(
      `<line class="grid" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${H - m.b}"/><text class="tick" x="${x.toFixed(1)}" y="${H - m.b + 14}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  p.push(
    `<line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}"/><line class="axis" x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}"/>`,
  );
  p.push(`<text class="label" x="${(m.l + W - m.r) / 2}" y="${H - m.b + 30}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  p.push(`<text class="label" transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  return p.join('');
}

function legend(names: string[], W: number, top: number): string {
  const colW = (W - 40) / 3;
  return names
    .map((n, k) => {
      const x = 20 + (k % 3) * colW,
        y = top + Math.floor(k / 3) * 16;
      return `<rect x="${x.toFixed(1)}" y="${y}" width="12" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text class="legend" x="${(x + 16).toFixed(1)}" y="${y + 9}">${escapeXml(n.length > 34 ? n.slice(0, 33) + '…' : n)}</text>`;
    })
    .join('');
}

/** A chart from this file as a file of its own (bench figures linked from Markdown): the report's chart styles inlined. */
export function standaloneSvg(chart: string): string {
  const css =
    'svg{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#fff}.title{font-size:13px;font-weight:600}' +
    '.tick,.value{font-size:10px;fill:#444}.label{font-size:11px;fill:#333}.legend{font-size:10.5px;fill:#333}' +
    '.grid{stroke:#eee}.axis{stroke:#888}.ref{stroke:#000;stroke-dasharray:4 3}.note{font-size:12px;fill:#999}';
  return `<?xml version="1.0" encoding="UTF-8"?>\n${chart.replace(/^(<svg[^>]*>)/, `$1<style>${css}</style><rect width="100%" height="100%" fill="#fff"/>`)}\n`;
}
