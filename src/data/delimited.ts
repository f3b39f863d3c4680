// Streaming CSV/TSV reader. Takes a path and options (delimiter, quote character or none,
// header or not, expected field count, a policy for rows with the wrong number of fields) and
// yields one record per row with the line where the row starts. Quoted fields may hold the
// delimiter, line breaks and doubled quotes; CRLF and a UTF-8 BOM are accepted; rows that
// cannot be parsed or have the wrong field count are counted as bad rows, never dropped silently.

import { DataError } from './report.js';
import { newLog, RowReader, type ReadOptions, type Row } from './rows.js';
import { DEFAULT_MAX_RECORD_CHARS, readTextChunks } from './source.js';

/** What to do with a row whose field count differs from the header (or the first row, or fieldCount). */
export type RaggedPolicy = 'error' | 'truncate' | 'skip';

export interface DelimitedOptions extends ReadOptions {
  /** One character; ',' for readCsv, '\t' for readTsv. */
  delimiter?: string;
  /** Quote character (default '"'), or false for files that do not quote (quotes are then ordinary characters). */
  quote?: string | false;
  /**
   * true (default): the first row names the columns and records are objects; false: records
   * are string arrays, columns named "0", "1", …; a function decides from the first row.
   */
  header?: boolean | ((firstRow: string[]) => boolean);
  /** Fields every row must have; default the header's length, else the first row's. */
  fieldCount?: number;
  /**
   * Rows with another field count: 'error' fails the read; 'truncate' cuts longer rows to
   * fieldCount (counted as truncated) and counts shorter ones as bad; 'skip' (default) counts
   * them as bad rows and goes on.
   */
  ragged?: RaggedPolicy;
}

/** One parsed row, or why it could not be parsed. */
export type ParsedRecord = { line: number; fields: string[] } | { line: number; error: string };

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  QuoteCR,
  Skip,
}

const LF = 10;
const CR = 13;

function describeChar(c: number): string {
  return JSON.stringify(String.fromCharCode(c));
}

/**
 * Incremental delimited-text parser (RFC 4180 with a choice of delimiter and quote): feed it
 * text with {@link push}, then call {@link end}. Line numbers count \n characters, so a
 * quoted field spanning lines moves the next row's line number on.
 */
export class DelimitedParser {
  /** Blank lines seen (skipped, not records). */
  emptyLines = 0;
  private readonly delim: number;
  private readonly quote: number;
  private readonly quoteStr: string;
  private state = State.FieldStart;
  private fields: string[] = [];
  private field = '';
  private lastQuoted = false;
  private inRecord = false;
  private recordLine = 0;
  private recordStart = 0;
  private pos = 0;
  private line = 1;
  private error = '';

  constructor(
    private readonly file: string,
    delimiter: string,
    quote: string | false,
    private readonly maxRecordChars: number = DEFAULT_MAX_RECORD_CHARS,
  ) {
    if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '\n' || delimiter === '\r') {
      throw new RangeError(`delimiter must be one character other than a line break, got ${JSON.stringify(delimiter)}`);
    }
    if (quote !== false && (typeof quote !== 'string' || quote.length !== 1 || quote === delimiter || quote === '\n' || quote === '\r')) {
      throw new RangeError(`quote must be one character (not the delimiter or a line break) or false, got ${JSON.stringify(quote)}`);
    }
    this.delim = delimiter.charCodeAt(0);
    this.quote = quote === false ? -1 : quote.charCodeAt(0);
    this.quoteStr = quote === false ? '' : quote;
  }

  /** Parses a piece of text, appending finished records to out. */
  push(text: string, out: ParsedRecord[]): void {
    const n = text.length;
    const { delim, quote } = this;
    let seg = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case State.FieldStart:
          if (!this.inRecord) {
            this.inRecord = true;
            this.recordLine = this.line;
            this.recordStart = this.pos + i;
          }
          if (c === quote) {
            this.state = State.Quoted;
            seg = i + 1;
          } else if (c === delim) {
            this.pushField(false);
          } else if (c === LF) {
            this.pushField(false);
            this.endRecord(out);
          } else {
            this.state = State.Unquoted;
            seg = i;
          }
          break;
        case State.Unquoted:
          if (c === delim) {
            this.field += text.slice(seg, i);
            this.pushField(false);
            this.state = State.FieldStart;
          } else if (c === LF) {
            this.field += text.slice(seg, i);
            this.pushField(false);
            this.endRecord(out);
          }
          break;
        case State.Quoted:
          if (c === quote) {
            this.field += text.slice(seg, i);
            this.state = State.QuoteInQuoted;
          } else if (c === LF) {
            this.line++;
          }
          break;
        case State.QuoteInQuoted:
          if (c === quote) {
            this.field += this.quoteStr;
            seg = i + 1;
            this.state = State.Quoted;
          } else if (c === delim) {
            this.pushField(true);
            this.state = State.FieldStart;
          } else if (c === LF) {
            this.pushField(true);
            this.endRecord(out);
          } else if (c === CR) {
            this.state = State.QuoteCR;
          } else {
            this.fail(`unexpected ${describeChar(c)} after the closing quote of field ${this.fields.length + 1}`);
          }
          break;
        case State.QuoteCR:
          if (c === LF) {
            this.pushField(true);
            this.endRecord(out);
          } else {
            this.fail(`unexpected "\\r" after the closing quote of field ${this.fields.length + 1}`);
          }
          break;
        case State.Skip:
          if (c === LF) {
            out.push({ line: this.recordLine, error: this.error });
            this.reset();
          }
          break;
      }
    }
    if (this.state === State.Unquoted || this.state === State.Quoted) this.field += text.slice(seg);
    this.pos += n;
    if (this.inRecord && this.pos - this.recordStart > this.maxRecordChars) {
      const hint = this.state === State.Quoted
        ? `a quote opened in this row is probably never closed; if the file does not use quoting, read it with quote: false`
        : `check that this is a ${this.delim === 9 ? 'TSV' : 'CSV'} file with line breaks between rows`;
      throw new DataError(this.file, `row is longer than ${this.maxRecordChars} characters; ${hint}`, { line: this.recordLine });
    }
  }

  /** Finishes the last row (a file need not end with a line break). */
  end(out: ParsedRecord[]): void {
    switch (this.state) {
      case State.Quoted:
        throw new DataError(
          this.file,
          `the quoted field ${this.fields.length + 1} that starts in this row is not closed before the end of the file, ` +
            `so every line after it would be swallowed; close the quote, or read with quote: false if the file does not use quoting`,
          { line: this.recordLine },
        );
      case State.Skip:
        out.push({ line: this.recordLine, error: this.error });
        this.reset();
        return;
      case State.Unquoted:
        this.pushField(false);
        this.endRecord(out);
        return;
      case State.QuoteInQuoted:
      case State.QuoteCR:
        this.pushField(true);
        this.endRecord(out);
        return;
      case State.FieldStart:
        if (this.inRecord) {
          this.pushField(false);
          this.endRecord(out);
        }
    }
  }

  private pushField(quoted: boolean): void {
    this.fields.push(this.field);
    this.field = '';
    this.lastQuoted = quoted;
  }

  private endRecord(out: ParsedRecord[]): void {
    const fields = this.fields;
    const last = fields.length - 1;
    if (!this.lastQuoted && fields[last]!.endsWith('\r')) fields[last] = fields[last]!.slice(0, -1);
    if (fields.length === 1 && fields[0] === '' && !this.lastQuoted) this.emptyLines++;
    else out.push({ line: this.recordLine, fields });
    this.reset();
  }

  private fail(problem: string): void {
    this.error = `${problem}; if the file does not use quoting, read it with quote: false`;
    this.state = State.Skip;
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.lastQuoted = false;
    this.inRecord = false;
    this.state = State.FieldStart;
    this.line++;
  }
}

function checkHeader(file: string, names: string[], line: number): { names: string[]; renamed: number } {
  const out = names.slice();
  let renamed = 0;
  const seen = new Map<string, number>();
  for (let i = 0; i < out.length; i++) {
    if (out[i] === '') {
      out[i] = String(i);
      renamed++;
    }
    const prev = seen.get(out[i]!);
    if (prev !== undefined) {
      throw new DataError(
        file,
        `header columns ${prev + 1} and ${i + 1} are both named ${JSON.stringify(out[i])}; rename one, or read with header: false and map columns by 0-based index`,
        { line },
      );
    }
    seen.set(out[i]!, i);
  }
  return { names: out, renamed };
}

/** Streams a delimited text file; see {@link DelimitedOptions}. */
export function readDelimited(path: string, opts: DelimitedOptions = {}): RowReader {
  const delimiter = opts.delimiter ?? ',';
  const kind = delimiter === '\t' ? 'TSV' : 'CSV';
  const format = kind.toLowerCase();
  const ragged = opts.ragged ?? 'skip';
  if (ragged !== 'error' && ragged !== 'truncate' && ragged !== 'skip') {
    throw new RangeError(`ragged must be 'error', 'truncate' or 'skip', got ${JSON.stringify(ragged)}`);
  }
  if (opts.fieldCount !== undefined && !(Number.isInteger(opts.fieldCount) && opts.fieldCount > 0)) {
    throw new RangeError(`fieldCount must be a positive integer, got ${String(opts.fieldCount)}`);
  }
  const parser = new DelimitedParser(path, delimiter, opts.quote ?? '"', opts.maxRecordChars);
  const log = newLog(path, format, 'line', opts);
  const headerOpt = opts.header ?? true;

  return new RowReader(path, format, log, async function* (reader): AsyncGenerator<Row> {
    let decided = false;
    let header: string[] | undefined;
    let expected = opts.fieldCount;
    let sawBytes = false;
    let invalidUtf8 = 0;
    let firstInvalidLine: number | undefined;
    const out: ParsedRecord[] = [];

    function* handle(records: ParsedRecord[]): Generator<Row> {
      for (const rec of records) {
        if (!decided) {
          if ('error' in rec) {
            if (headerOpt === true) throw new DataError(path, `the header row cannot be parsed: ${rec.error}`, { line: rec.line });
          } else {
            decided = true;
            const isHeader = typeof headerOpt === 'function' ? headerOpt(rec.fields) : headerOpt;
            if (isHeader) {
              const checked = checkHeader(path, rec.fields, rec.line);
              header = checked.names;
              if (checked.renamed > 0) log.note(`${checked.renamed} empty header name(s) replaced by the column's 0-based index`);
              if (typeof headerOpt === 'function') log.note(`line ${rec.line} read as a header: ${header.join(', ')}`);
              expected ??= header.length;
              reader.columns = header;
              continue;
            }
            if (typeof headerOpt === 'function') log.note('no header row detected; columns are named by 0-based index');
            expected ??= rec.fields.length;
            reader.columns = Array.from({ length: expected }, (_, i) => String(i));
          }
        }
        log.row();
        if ('error' in rec) {
          log.bad(rec.line, rec.error);
          continue;
        }
        let fields = rec.fields;
        const want = expected!;
        if (fields.length !== want) {
          const problem = `has ${fields.length} field${fields.length === 1 ? '' : 's'}, expected ${want}` +
            (header !== undefined ? ` (the header's count)` : opts.fieldCount !== undefined ? '' : ' (the first row\'s count)');
          if (ragged === 'error') {
            throw new DataError(
              path,
              `${problem}; fix the row, or read with ragged: 'truncate' (keep the first ${want} fields) or ragged: 'skip' (count and skip such rows)` +
                (delimiter === ',' ? '; if this is tab-separated, use the tsv format' : ''),
              { line: rec.line },
            );
          }
          if (ragged === 'truncate' && fields.length > want) {
            fields = fields.slice(0, want);
            log.report.truncatedRows++;
          } else {
            log.bad(rec.line, problem);
            continue;
          }
        }
        if (header === undefined) {
          yield { line: rec.line, record: fields };
        } else {
          const obj: { [key: string]: string } = {};
          for (let i = 0; i < header.length; i++) obj[header[i]!] = fields[i]!;
          yield { line: rec.line, record: obj };
        }
      }
    }

    for await (const text of readTextChunks(path, kind, (n, line) => {
      invalidUtf8 += n;
      firstInvalidLine ??= line;
    })) {
      sawBytes = true;
      parser.push(text, out);
      if (out.length > 0) {
        yield* handle(out);
        out.length = 0;
      }
    }
    parser.end(out);
    yield* handle(out);
    log.report.emptyLines = parser.emptyLines;
    if (invalidUtf8 > 0) {
      log.note(`${invalidUtf8} invalid UTF-8 byte sequence(s) replaced by U+FFFD; the file may not be UTF-8 (convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8); the first is on line ${firstInvalidLine}`);
    }
    if (log.report.rows === 0 && opts.allowEmpty !== true) {
      const what = !sawBytes ? 'the file is empty'
        : header !== undefined ? 'the file has a header row but no data rows'
        : 'the file has only blank lines';
      throw new DataError(path, `${what}; give a file with data rows (or pass allowEmpty: true to accept an empty file)`);
    }
    log.finish();
  });
}

/** Streams a comma-separated file (see {@link DelimitedOptions}). */
export function readCsv(path: string, opts: Omit<DelimitedOptions, 'delimiter'> = {}): RowReader {
  return readDelimited(path, { ...opts, delimiter: ',' });
}

/** Streams a tab-separated file (see {@link DelimitedOptions}). */
export function readTsv(path: string, opts: Omit<DelimitedOptions, 'delimiter'> = {}): RowReader {
  return readDelimited(path, { ...opts, delimiter: '\t' });
}
