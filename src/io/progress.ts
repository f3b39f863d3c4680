// Terminal progress line (count/total, bar, rate, ETA) redrawn in place on a
// TTY at most ~10 times a second; completely silent when the stream is not a
// terminal, so pipes, logs and tests get no output.

/** The part of a writable stream Progress uses (process.stderr fits). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

export interface ProgressOptions {
  /** Expected final count; enables the bar, percentage and ETA. */
  total?: number;
  /** Shown at the start of the line, e.g. 'encoding'. */
  label: string;
  /** Where to draw; default process.stderr. Nothing is written unless stream.isTTY. */
  stream?: ProgressStream;
  /** Name of the counted thing, e.g. 'texts'; default 'items'. */
  unit?: string;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 24;

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatRate(r: number): string {
  if (!Number.isFinite(r)) return '-';
  if (r >= 100) return formatCount(r);
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2);
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class Progress {
  private readonly total: number | undefined;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly unit: string;
  private readonly enabled: boolean;
  private readonly start = Date.now();
  private count = 0;
  private lastDraw = 0;
  private extra = '';
  private finished = false;

  constructor(opts: ProgressOptions) {
    const total = opts.total;
    this.total = total !== undefined && Number.isFinite(total) && total > 0 ? total : undefined;
    this.label = opts.label;
    this.stream = opts.stream ?? process.stderr;
    this.unit = opts.unit ?? 'items';
    this.enabled = this.stream.isTTY === true;
  }

  /** Adds `n` to the count; `extra` replaces the trailing note. Redraws at most every 100 ms. */
  tick(n: number, extra?: string): void {
    if (this.finished) return;
    this.count += n;
    if (extra !== undefined) this.extra = extra;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    this.draw(now);
  }

  /** Draws the final state (with `summary` as the note) and ends the line. */
  done(summary?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.enabled) return;
    if (summary !== undefined) this.extra = summary;
    this.draw(Date.now());
    this.stream.write('\n');
  }

  private draw(now: number): void {
    const elapsed = Math.max((now - this.start) / 1000, 1e-3);
    const rate = this.count / elapsed;
    const parts = [this.label];
    if (this.total !== undefined) {
      const frac = Math.min(1, this.count / this.total);
      const filled = Math.round(frac * BAR_WIDTH);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`);
      parts.push(`${formatCount(this.count)}/${formatCount(this.total)} ${this.unit}`);
      parts.push(`${Math.floor(frac * 100)}%`);
    } else {
      parts.push(`${formatCount(this.count)} ${this.unit}`);
    }
    parts.push(`${formatRate(rate)} ${this.unit}/s`);
    if (this.finished) {
      parts.push(`in ${formatDuration(elapsed)}`);
    } else if (this.total !== undefined) {
      const remaining = Math.max(0, this.total - this.count);
      parts.push(`ETA ${rate > 0 ? formatDuration(remaining / rate) : '--:--'}`);
    }
    if (this.extra) parts.push(this.extra);
    let line = parts.join(' ');
    const width = this.stream.columns;
    if (width !== undefined && width > 1 && line.length > width - 1) line = line.slice(0, width - 1);
    // \r returns to column 0; ESC[K clears what a longer previous line left behind.
    this.stream.write(`\r${line}\x1b[K`);
  }
}
