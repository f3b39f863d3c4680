// Bad-row accounting shared by the data readers and the dataset mapping. Takes the file name,
// its format and a policy (maxBadRowRate, minRowsForRate); counts every record read and every
// bad one with its line (or row) number, and fails the read with a message listing the first
// bad lines once the share of bad rows passes the allowed rate.

/** One rejected record: where it is and what was wrong with it. */
export interface BadRow {
  /** 1-based line in the file (text formats) or row (Parquet) where the record starts. */
  line: number;
  problem: string;
}

/** What a read saw: how many records, how many were bad and why, what was adjusted. */
export interface ReadReport {
  file: string;
  format: string;
  /** 'line' for text formats, 'row' for Parquet: the unit of BadRow.line. */
  unit: 'line' | 'row';
  /** Records read, good and bad (a header row and blank lines are not records). */
  rows: number;
  /** Records delivered: rows - badRows. */
  goodRows: number;
  /** Records rejected by the reader (unparseable, wrong field count) or by the mapping (bad score, missing field). */
  badRows: number;
  /** The first bad records (at most {@link BAD_SAMPLES_KEPT}). */
  badSamples: BadRow[];
  /** Records with more fields than expected that were cut to the expected count (ragged: 'truncate'). */
  truncatedRows: number;
  /** Blank lines skipped. */
  emptyLines: number;
  /** Class-label names → integers, when string class labels were mapped. */
  labelMap?: Record<string, number>;
  /** Other facts worth knowing (header detected, texts that were empty, …). */
  notes: string[];
}

/** When a read gives up on bad rows. */
export interface BadRowPolicy {
  /**
   * Largest allowed share of bad records, 0–1 (default 0.01). Checked once at least
   * minRowsForRate records have been read, at every bad record and at the end. 0 fails on
   * the first bad record; 1 never fails on the rate.
   */
  maxBadRowRate?: number;
  /** Records read before the rate is checked (default 100), so one early bad line does not fail a read. */
  minRowsForRate?: number;
  /** Records needed before the whole file's rate is checked at the end (default minRowsForRate; 1 checks every file, however short). */
  minRowsAtEnd?: number;
  /** Largest allowed number of bad records; when given it replaces maxBadRowRate (0 fails on the first bad record). */
  maxBadRows?: number;
}

/** How a user raises the bad-row limit, named in the message that refuses a file. */
export const RAISE_LIMIT_HINT =
  'raise maxBadRowRate (a share) or maxBadRows (a count) in the train or eval section of a training config, ' +
  'or pass --max-bad-rows P% or --max-bad-rows N on the command line';

export const DEFAULT_MAX_BAD_ROW_RATE = 0.01;
export const DEFAULT_MIN_ROWS_FOR_RATE = 100;
export const BAD_SAMPLES_KEPT = 20;
const BAD_SAMPLES_SHOWN = 5;

/** A problem with input data, tied to a file and, where known, a line (or row) and a field. */
export class DataError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(file: string, problem: string, where: { line?: number; unit?: 'line' | 'row'; field?: string } = {}, options?: { cause?: unknown }) {
    const at = where.line === undefined ? '' : ` ${where.unit ?? 'line'} ${where.line}`;
    super(`${file}${at}: ${problem}`, options);
    this.name = 'DataError';
    this.file = file;
    this.line = where.line;
    this.field = where.field;
  }
}

function checkPolicy(policy: BadRowPolicy): { maxRate: number; minRows: number; minRowsAtEnd: number; maxCount: number | undefined } {
  const maxRate = policy.maxBadRowRate ?? DEFAULT_MAX_BAD_ROW_RATE;
  const minRows = policy.minRowsForRate ?? DEFAULT_MIN_ROWS_FOR_RATE;
  const minRowsAtEnd = policy.minRowsAtEnd ?? minRows;
  if (!Number.isInteger(minRowsAtEnd) || minRowsAtEnd < 0) {
    throw new RangeError(`minRowsAtEnd must be a non-negative integer, got ${String(minRowsAtEnd)}`);
  }
  const maxCount = policy.maxBadRows;
  if (maxCount !== undefined && !(Number.isInteger(maxCount) && maxCount >= 0)) {
    throw new RangeError(`maxBadRows must be a non-negative integer, got ${String(maxCount)}`);
  }
  if (typeof maxRate !== 'number' || !(maxRate >= 0 && maxRate <= 1)) {
    throw new RangeError(`maxBadRowRate must be a number from 0 to 1, got ${String(maxRate)}`);
  }
  if (!Number.isInteger(minRows) || minRows < 0) {
    throw new RangeError(`minRowsForRate must be a non-negative integer, got ${String(minRows)}`);
  }
  return { maxRate, minRows, minRowsAtEnd, maxCount };
}

function percent(x: number): string {
  const p = x * 100;
  return `${p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toPrecision(2)}%`;
}

/** Counts records and bad records of one read and enforces a {@link BadRowPolicy}. */
export class BadRowLog {
  readonly report: ReadReport;
  private readonly maxRate: number;
  private readonly minRows: number;
  private readonly maxCount: number | undefined;
  private readonly minRowsAtEnd: number;

  constructor(file: string, format: string, unit: 'line' | 'row', policy: BadRowPolicy = {}) {
    const { maxRate, minRows, minRowsAtEnd, maxCount } = checkPolicy(policy);
    this.minRowsAtEnd = minRowsAtEnd;
    this.maxRate = maxRate;
    this.minRows = minRows;
    this.maxCount = maxCount;
    this.report = {
      file, format, unit,
      rows: 0, goodRows: 0, badRows: 0, badSamples: [],
      truncatedRows: 0, emptyLines: 0, notes: [],
    };
  }

  /** Counts one record read (good or bad). */
  row(): void {
    this.report.rows++;
    this.report.goodRows++;
  }

  /** Marks a record already counted by {@link row} as bad; throws when the bad-row rate is passed. */
  bad(line: number, problem: string): void {
    const r = this.report;
    r.badRows++;
    r.goodRows--;
    if (r.badSamples.length < BAD_SAMPLES_KEPT) r.badSamples.push({ line, problem });
    if (this.maxCount !== undefined) {
      if (r.badRows > this.maxCount) throw this.rateError();
    } else if (this.maxRate === 0 || (r.rows >= this.minRows && r.badRows / r.rows > this.maxRate)) {
      throw this.rateError();
    }
  }

  /** A note for the report (kept once). */
  note(text: string): void {
    if (!this.report.notes.includes(text)) this.report.notes.push(text);
  }

  /** End-of-read checks: the rate over the whole file, and that some record was usable. */
  finish(): void {
    const r = this.report;
    if (r.badRows > 0 && r.goodRows === 0) {
      throw new DataError(r.file, `none of the ${r.rows} records could be used; ${this.firstBad()}. Check the format (read as ${r.format}) and the column mapping.`);
    }
    if (this.maxCount === undefined && r.rows > 0 && r.rows >= this.minRowsAtEnd && r.badRows / r.rows > this.maxRate) throw this.rateError();
  }

  /** "line 3: …; line 9: …" for the first few bad records. */
  firstBad(): string {
    const r = this.report;
    const shown = r.badSamples.slice(0, BAD_SAMPLES_SHOWN).map((b) => `${r.unit} ${b.line}: ${b.problem}`);
    const more = r.badRows > shown.length ? `; … ${r.badRows - shown.length} more` : '';
    return `${shown.length === 1 ? 'bad record' : 'first bad records'}: ${shown.join('; ')}${more}`;
  }

  private rateError(): DataError {
    const r = this.report;
    const limit = this.maxCount !== undefined ? `maxBadRows ${this.maxCount}` : `maxBadRowRate ${percent(this.maxRate)}`;
    return new DataError(
      r.file,
      `${r.badRows} of ${r.rows} records read so far are bad (${percent(r.badRows / r.rows)}), more than ${limit} allows; ` +
        `${this.firstBad()}. Fix or remove those rows, check the format (read as ${r.format}) and column mapping, or ${RAISE_LIMIT_HINT}.`,
    );
  }
}
