// The record stream every reader returns: takes a generator of rows plus the read's bad-row
// log, and exposes it as a one-shot async iterable of { line, record } with the column names
// (once known) and a live ReadReport.

import { BadRowLog, type BadRowPolicy, type ReadReport } from './report.js';

/** A field value: CSV/TSV fields are strings; JSON and Parquet give any JSON-like value. */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

/** A record keyed by column name (header, JSON object, Parquet schema), or the fields of a header-less CSV/TSV row. */
export type RowRecord = { [key: string]: FieldValue } | string[];

/** One record and the 1-based line (text formats) or row (Parquet) where it starts. */
export interface Row {
  line: number;
  record: RowRecord;
}

/** Options every reader takes. */
export interface ReadOptions extends BadRowPolicy {
  /** A log to count into (shared with a mapping layer); a new one by default. */
  log?: BadRowLog;
  /** Accept a file with no records instead of failing (default false). */
  allowEmpty?: boolean;
  /** Longest line/record in UTF-16 code units before the read fails (bounds memory; default 64 Mi). */
  maxRecordChars?: number;
}

/** A one-shot async iterable of rows with the read's report. */
export class RowReader implements AsyncIterable<Row> {
  readonly file: string;
  readonly format: string;
  readonly log: BadRowLog;
  /**
   * Column names: the header (CSV/TSV), the schema (Parquet), the keys of the first object
   * (JSON lines), or "0", "1", … for a header-less file. Set before the first row is yielded.
   */
  columns: string[] | undefined;
  private readonly body: (reader: RowReader) => AsyncGenerator<Row>;
  private started = false;

  constructor(file: string, format: string, log: BadRowLog, body: (reader: RowReader) => AsyncGenerator<Row>) {
    this.file = file;
    this.format = format;
    this.log = log;
    this.body = body;
  }

  /** Counts so far; complete once iteration has ended. */
  get report(): ReadReport {
    return this.log.report;
  }

  [Symbol.asyncIterator](): AsyncIterator<Row> {
    if (this.started) throw new Error(`${this.file}: this reader has already been iterated; open the file again to read it twice`);
    this.started = true;
    return this.body(this);
  }
}

export function newLog(file: string, format: string, unit: 'line' | 'row', opts: ReadOptions): BadRowLog {
  return opts.log ?? new BadRowLog(file, format, unit, opts);
}
