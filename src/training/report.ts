// The training report: an HTML page with inline SVG line charts of the training loss, the
// learning rate and every evaluation metric over steps, written beside the trained model.

export interface Series {
  title: string;
  points: [number, number][];
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : +v.toPrecision(4) + '';
}

/** One chart as an SVG element (axes, ticks, polyline, last value). */
export function svgChart(s: Series, width = 560, height = 260): string {
  const pad = { l: 64, r: 16, t: 28, b: 36 };
  const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  if (pts.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="10" y="20">${esc(s.title)}: no data</text></svg>`;
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 -= Math.abs(y0) * 0.1 || 1; y1 += Math.abs(y1) * 0.1 || 1; }
  const X = (x: number): number => pad.l + ((x - x0) / (x1 - x0)) * w;
  const Y = (y: number): number => pad.t + h - ((y - y0) / (y1 - y0)) * h;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks.map((t) => {
    const yv = y0 + t * (y1 - y0);
    const xv = x0 + t * (x1 - x0);
    return `<line x1="${pad.l}" x2="${pad.l + w}" y1="${Y(yv).toFixed(1)}" y2="${Y(yv).toFixed(1)}" stroke="#ddd"/>` +
      `<text x="${pad.l - 6}" y="${(Y(yv) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(yv)}</text>` +
      `<text x="${X(xv).toFixed(1)}" y="${pad.t + h + 16}" text-anchor="middle" font-size="11">${Math.round(xv)}</text>`;
  }).join('');
  const line = pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
  const dots = pts.length <= 40 ? pts.map(([x, y]) => `<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.5" fill="#1f77b4"/>`).join('') : '';
  const last = pts[pts.length - 1];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<text x="${pad.l}" y="18" font-size="14" font-weight="bold">${esc(s.title)}</text>` +
    `<text x="${width - pad.r}" y="18" font-size="11" text-anchor="end">last: ${fmt(last[1])} @ step ${last[0]}</text>` +
    grid + `<rect x="${pad.l}" y="${pad.t}" width="${w}" height="${h}" fill="none" stroke="#888"/>` +
    `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${line}"/>` + dots +
    `<text x="${pad.l + w / 2}" y="${height - 4}" text-anchor="middle" font-size="11">step</text></svg>`;
}

export function htmlReport(title: string, series: Series[], summary: Record<string, unknown>): string {
  const rows = Object.entries(summary).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    `<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse;margin-bottom:16px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}.charts{display:flex;flex-wrap:wrap;gap:12px}</style>` +
    `</head><body><h1>${esc(title)}</h1><table>${rows}</table><div class="charts">${series.map((s) => svgChart(s)).join('')}</div></body></html>\n`;
}
