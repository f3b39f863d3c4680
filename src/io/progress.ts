// Progress of a long job (count/total, rate, ETA and a trailing note such as the loss), in one of
// two forms chosen by the stream:
// - a terminal (isTTY): one bar line redrawn in place at most ~10 times a second;
// - anything else (a pipe, a log file, CI): a plain line every `intervalSeconds` (default 10,
//   or SENTENCEKIT_PROGRESS_INTERVAL seconds; 0 = a line on every tick), and a final line when
//   at least one was printed, so a job that runs for minutes is never silent.
// rate = count / elapsed seconds; ETA = (total − count) / rate.
// `note(text)` prints a line at once in both forms (e.g. an evaluation result during training).
// SENTENCEKIT_PROGRESS=off|lines|bar|auto (or the `mode` option) overrides the choice.

/** The part of a writable stream Progress uses (process.stderr fits). */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
}

/** auto: bar on a terminal, plain lines otherwise; off: nothing at all. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  /** Expected final count; enables the bar, percentage and ETA. */
  total?: number;
  /** Shown at the start of the line, e.g. 'encoding'. */
  label: string;
  /** Where to draw; default process.stderr. */
  stream?: ProgressStream;
  /** Name of the counted thing, e.g. 'texts'; default 'items'. */
  unit?: string;
  /** Default: SENTENCEKIT_PROGRESS, else 'auto'. */
  mode?: ProgressMode;
  /** Seconds between plain lines; default SENTENCEKIT_PROGRESS_INTERVAL, else 10. */
  intervalSeconds?: number;
  /** Count already done before this run (a resumed job): shown, but not part of the rate. */
  initial?: number;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 24;
const DEFAULT_INTERVAL_S = 10;
const MODES: readonly ProgressMode[] = ['auto', 'bar', 'lines', 'off'];

/** The mode SENTENCEKIT_PROGRESS asks for; an unknown value is an error naming the variable. */
export function progressModeFromEnv(env: NodeJS.ProcessEnv = process.env): ProgressMode {
  const v = env.SENTENCEKIT_PROGRESS;
  if (v === undefined || v === '') return 'auto';
  if ((MODES as readonly string[]).includes(v)) return v as ProgressMode;
  throw new Error(`SENTENCEKIT_PROGRESS="${v}": expected one of ${MODES.join(', ')}`);
}

/** The interval SENTENCEKIT_PROGRESS_INTERVAL asks for (seconds ≥ 0). */
export function progressIntervalFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SENTENCEKIT_PROGRESS_INTERVAL;
  if (v === undefined || v === '') return DEFAULT_INTERVAL_S;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`SENTENCEKIT_PROGRESS_INTERVAL="${v}": expected a number of seconds ≥ 0`);
  return n;
}

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatRate(r: number): string {
  if (!Number.isFinite(r)) return '-';
  if (r >= 100) return formatCount(r);
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2);
}

export function formatDuration(seconds: number): string {
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
  private readonly form: 'bar' | 'lines' | 'off';
  private readonly intervalMs: number;
  private readonly start = Date.now();
  private count = 0;
  private readonly initial: number;
  private lastDraw = 0;
  private linesPrinted = 0;
  private barShown = false;
  private extra = '';
  private finished = false;

  constructor(opts: ProgressOptions) {
    const total = opts.total;
    this.total = total !== undefined && Number.isFinite(total) && total > 0 ? total : undefined;
    this.label = opts.label;
    this.stream = opts.stream ?? process.stderr;
    this.unit = opts.unit ?? 'items';
    this.initial = opts.initial ?? 0;
    this.count = this.initial;
    const mode = opts.mode ?? progressModeFromEnv();
    this.form = mode === 'auto' ? (this.stream.isTTY === true ? 'bar' : 'lines') : mode;
    const interval = opts.intervalSeconds ?? progressIntervalFromEnv();
    this.intervalMs = Math.max(0, interval) * 1000;
    // the first plain line comes one interval after the start
    this.lastDraw = this.form === 'lines' ? this.start : 0;
  }

  /** Adds `n` to the count; `extra` replaces the trailing note. */
  tick(n: number, extra?: string): void {
    if (this.finished) return;
    this.count += n;
    if (extra !== undefined) this.extra = extra;
    if (this.form === 'off') return;
    const now = Date.now();
    if (this.form === 'bar') {
      if (now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      this.drawBar(now);
    } else if (now - this.lastDraw >= this.intervalMs) {
      this.lastDraw = now;
      this.writeLine(now);
    }
  }

  /** Prints `text` as a line of its own now (the bar is redrawn below it). */
  note(text: string): void {
    if (this.form === 'off') return;
    if (this.form === 'bar' && this.barShown && !this.finished) {
      this.stream.write(`\r\x1b[K${text}\n`);
      this.drawBar(Date.now());
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  /** Draws the final state (with `summary` as the note) and ends the line. */
  done(summary?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (summary !== undefined) this.extra = summary;
    if (this.form === 'bar') {
      this.drawBar(Date.now());
      this.stream.write('\n');
    } else if (this.form === 'lines' && this.linesPrinted > 0) {
      this.writeLine(Date.now());
    }
  }

  /** The progress text: label, [bar,] count[/total], percentage, rate, ETA or time taken, note. */
  private text(now: number, bar: boolean): string {
    const elapsed = Math.max((now - this.start) / 1000, 1e-3);
    const rate = (this.count - this.initial) / elapsed;
    const parts = [this.label];
    if (this.total !== undefined) {
      const frac = Math.min(1, this.count / this.total);
      if (bar) {
        const filled = Math.round(frac * BAR_WIDTH);
        parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`);
      }
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
    } else {
      parts.push(`elapsed ${formatDuration(elapsed)}`);
    }
    if (this.extra) parts.push(this.extra);
    return parts.join(' ');
  }

  private writeLine(now: number): void {
    this.linesPrinted++;
    this.stream.write(this.text(now, false) + '\n');
  }

  private drawBar(now: number): void {
    let line = this.text(now, true);
    const width = this.stream.columns;
    if (width !== undefined && width > 1 && line.length > width - 1) line = line.slice(0, width - 1);
    // \r returns to column 0; ESC[K clears what a longer previous line left behind.
    this.stream.write(`\r${line}\x1b[K`);
    this.barShown = true;
  }
}
