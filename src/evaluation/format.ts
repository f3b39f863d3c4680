// Presentation of evaluation results: JSON (numbers as they are; NaN and ±Infinity, which JSON
// cannot hold, become null) and a two-column text table for stderr — one row per metric,
// name left-aligned and value printed with a fixed number of decimals, the primary metric marked
// with "*". Takes a metric map (key → number) and optional title / primary metric.

export interface FormatOptions {
  /** A heading (e.g. the evaluator's class and name). */
  title?: string;
  /** Key to mark as the primary metric. */
  primaryMetric?: string;
}

export interface TableOptions extends FormatOptions {
  /** Decimals printed (default 4). */
  digits?: number;
}

function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * JSON text of the results. Without options: the metric object itself. With a title or a
 * primary metric: {"evaluator", "primary_metric", "primary_score", "metrics"} (absent parts left
 * out). Ends with a newline.
 */
export function formatJson(results: Record<string, number>, opts: FormatOptions = {}, indent = 2): string {
  const metrics: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(results)) metrics[k] = jsonNumber(v);
  if (opts.title === undefined && opts.primaryMetric === undefined) return JSON.stringify(metrics, null, indent) + '\n';
  const doc: Record<string, unknown> = {};
  if (opts.title !== undefined) doc.evaluator = opts.title;
  if (opts.primaryMetric !== undefined) {
    doc.primary_metric = opts.primaryMetric;
    doc.primary_score = opts.primaryMetric in results ? jsonNumber(results[opts.primaryMetric]) : null;
  }
  doc.metrics = metrics;
  return JSON.stringify(doc, null, indent) + '\n';
}

function formatValue(v: number, digits: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return v.toFixed(digits);
}

/** A plain-text table of the results, e.g. for process.stderr.write. Ends with a newline. */
export function formatTable(results: Record<string, number>, opts: TableOptions = {}): string {
  const digits = opts.digits ?? 4;
  const entries = Object.entries(results);
  const header = ['metric', 'value'];
  const rows = entries.map(([k, v]) => [k + (k === opts.primaryMetric ? ' *' : ''), formatValue(v, digits)]);
  const w0 = Math.max(header[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(header[1].length, ...rows.map((r) => r[1].length));
  const lines: string[] = [];
  if (opts.title) lines.push(opts.title);
  lines.push(`${header[0].padEnd(w0)}  ${header[1].padStart(w1)}`);
  lines.push(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}`);
  for (const [k, v] of rows) lines.push(`${k.padEnd(w0)}  ${v.padStart(w1)}`);
  if (opts.primaryMetric !== undefined && opts.primaryMetric in results) lines.push('* primary metric');
  return lines.join('\n') + '\n';
}
