// Streaming input readers for `encode`: plain text (one text per line) and
// JSON Lines (one object per line, text taken from a named field), delivered
// in bounded-size batches, plus a fast line counter for progress totals.
// Binary files (NUL bytes, Parquet, zip, gzip, UTF-16) are refused and invalid
// UTF-8 is reported with its line (or replaced by U+FFFD and counted, on request).

import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { openHint } from './file_errors.js';

export type TextFormat = 'text' | 'jsonl';

export interface ReadTextsOptions {
  /** 'auto' (default): .jsonl/.ndjson/.json → jsonl, anything else → text. */
  format?: 'auto' | TextFormat;
  /** JSONL field holding the text; default 'text'. */
  field?: string;
  /** Texts per yielded batch; default 4096. */
  chunkSize?: number;
  /** A line with invalid UTF-8: 'error' (default) fails naming the line; 'replace' embeds it with U+FFFD for the bad bytes. */
  onInvalidUtf8?: 'error' | 'replace';
  /** Filled in as the read goes (lines with replaced bytes). */
  stats?: TextReadStats;
}

export interface TextBatch {
  texts: string[];
  /** 1-based line number (in the file) of texts[0]. */
  firstLine: number;
}

/** An input problem tied to a place in a file. */
export class TextInputError extends Error {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, problem: string, options?: { cause?: unknown }) {
    super(`${file} line ${line}: ${problem}`, options);
    this.name = 'TextInputError';
    this.file = file;
    this.line = line;
  }
}

const JSONL_EXTENSIONS = new Set(['.jsonl', '.ndjson', '.json']);
const READ_CHUNK = 1 << 20;
/** Longest line before a read gives up: the file is probably not line-oriented. */
const MAX_LINE_BYTES = 256 * 1024 * 1024;

/** The format 'auto' picks for `path`. */
export function detectFormat(path: string): TextFormat {
  return JSONL_EXTENSIONS.has(extname(path).toLowerCase()) ? 'jsonl' : 'text';
}

function openError(path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  return new Error(`cannot read input file ${JSON.stringify(path)}: ${e?.message ?? String(err)}; ${openHint(err, 'directory')}`, { cause: err });
}

/** What a read met that is worth reporting (filled in as the read goes). */
export interface TextReadStats {
  /** Lines holding invalid UTF-8 whose bad bytes were replaced by U+FFFD (onInvalidUtf8: 'replace'). */
  invalidUtf8Lines: number;
  /** The first such line (1-based), or null. */
  firstInvalidUtf8Line: number | null;
}

/** The first byte offset in `buf` where the bytes are not well-formed UTF-8 (-1 when all are). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function hexBytes(buf: Uint8Array, at: number): string {
  return Array.from(buf.subarray(at, at + 4), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

/** Refuses files that are not text, from their first bytes (the data readers' checks). */
function checkTextStart(path: string, head: Buffer): void {
  const magic = head.subarray(0, 4).toString('latin1');
  const what = 'a text file (one text a line) or JSON lines';
  if (magic === 'PAR1') throw new TextInputError(path, 1, `this is a Parquet file, not ${what}; export the text column to a text or JSON-lines file first`);
  if (magic === 'PK\u0003\u0004') throw new TextInputError(path, 1, `this is a zip archive, not ${what}; extract the text file from it first`);
  if (head[0] === 0x1f && head[1] === 0x8b) throw new TextInputError(path, 1, `this is gzip-compressed; decompress it first (gunzip)`);
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new TextInputError(path, 1, 'this file is UTF-16 encoded; convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)');
  }
}

/**
 * Yields every line of the file as a string (BOM stripped, CRLF accepted, no phantom last
 * line). Bytes are split at \n first, so a NUL byte (a binary file) or invalid UTF-8 is
 * reported with its line: an error, or with onInvalidUtf8 'replace' the bad bytes become
 * U+FFFD and the line is counted in stats.
 */
async function* readLines(path: string, onInvalidUtf8: 'error' | 'replace', stats: TextReadStats): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let lineNo = 0;
  let first = true;

  function* region(buf: Buffer, final: boolean): Generator<string> {
    if (first) {
      first = false;
      checkTextStart(path, buf);
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const nul = buf.indexOf(0);
    if (nul !== -1) {
      let line = lineNo + 1;
      for (let i = buf.indexOf(10); i !== -1 && i < nul; i = buf.indexOf(10, i + 1)) line++;
      throw new TextInputError(path, line, 'contains a NUL byte: this looks like a binary file, not text; give a UTF-8 text file (one text a line) or JSON lines');
    }
    const pieces: Buffer[] = [];
    if (isUtf8(buf)) {
      const text = buf.toString('utf8').split('\n');
      if (!final || text[text.length - 1] === '') text.pop();
      for (const t of text) {
        lineNo++;
        yield t.endsWith('\r') ? t.slice(0, -1) : t;
      }
      return;
    }
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      pieces.push(buf.subarray(start, nl));
      start = nl + 1;
    }
    if (start < buf.length) pieces.push(buf.subarray(start));
    for (const piece of pieces) {
      lineNo++;
      const bad = firstInvalidUtf8(piece);
      if (bad !== -1) {
        if (onInvalidUtf8 === 'error') {
          throw new TextInputError(
            path, lineNo,
            `invalid UTF-8 at byte ${bad + 1} of the line (bytes ${hexBytes(piece, bad)}): the file is not UTF-8 text; convert it ` +
              `(e.g. iconv -f WINDOWS-1252 -t UTF-8), or pass --on-invalid-utf8 replace (onInvalidUtf8: 'replace') to embed the line with U+FFFD in place of the bad bytes`,
          );
        }
        stats.invalidUtf8Lines++;
        stats.firstInvalidUtf8Line ??= lineNo;
      }
      const t = piece.toString('utf8');
      yield t.endsWith('\r') ? t.slice(0, -1) : t;
    }
  }

  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const last = chunk.lastIndexOf(10);
      if (last === -1) {
        carry.push(chunk);
        carryBytes += chunk.length;
        if (carryBytes > MAX_LINE_BYTES) {
          throw new TextInputError(path, lineNo + 1, `line is longer than ${MAX_LINE_BYTES} bytes without a line break; this does not look like a text file with one text a line`);
        }
        continue;
      }
      const head = chunk.subarray(0, last + 1);
      const buf = carry.length > 0 ? Buffer.concat([...carry, head]) : head;
      carry = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : [];
      carryBytes = carry.length > 0 ? carry[0]!.length : 0;
      yield* region(buf, false);
    }
  } catch (err) {
    if (err instanceof TextInputError) throw err;
    if ((err as NodeJS.ErrnoException)?.code !== undefined) throw openError(path, err);
    throw err;
  } finally {
    stream.destroy();
  }
  if (carry.length > 0) yield* region(Buffer.concat(carry), true);
  else if (first) checkTextStart(path, Buffer.alloc(0));
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function snippet(line: string): string {
  const s = line.length > 60 ? `${line.slice(0, 57)}...` : line;
  return JSON.stringify(s);
}

function keyList(obj: object): string {
  const keys = Object.keys(obj);
  if (keys.length === 0) return 'none';
  const shown = keys.slice(0, 12).join(', ');
  return keys.length > 12 ? `${shown}, ... ${keys.length - 12} more` : shown;
}

function textFromJsonLine(file: string, lineNo: number, line: string, field: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new TextInputError(
      file, lineNo,
      `not valid JSON: ${msg} (found ${snippet(line)}); each line must hold one complete JSON object`,
      { cause: err },
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TextInputError(
      file, lineNo,
      `expected a JSON object with a string field ${JSON.stringify(field)}, found ${typeName(value)}`,
    );
  }
  const record = value as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(record, field)) {
    throw new TextInputError(
      file, lineNo,
      `field ${JSON.stringify(field)} missing (keys: ${keyList(record)}); name the key that holds the text with the field option (--field)`,
    );
  }
  const text = record[field];
  if (typeof text !== 'string') {
    throw new TextInputError(
      file, lineNo,
      `field ${JSON.stringify(field)} is ${typeName(text)}, expected a string`,
    );
  }
  return text;
}

/**
 * Streams the texts of `path` in batches of at most `chunkSize`.
 * Plain text: one text per line, empty lines included (as ''), a final newline
 * does not add an empty text. JSONL: blank lines are skipped; every other line
 * must be an object whose `field` is a string.
 */
export async function* readTexts(path: string, opts: ReadTextsOptions = {}): AsyncGenerator<TextBatch> {
  const chunkSize = opts.chunkSize ?? 4096;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new Error(`readTexts: chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
  const requested = opts.format ?? 'auto';
  if (requested !== 'auto' && requested !== 'text' && requested !== 'jsonl') {
    throw new Error(`readTexts: format must be 'auto', 'text' or 'jsonl', got ${JSON.stringify(requested)}`);
  }
  const format = requested === 'auto' ? detectFormat(path) : requested;
  const field = opts.field ?? 'text';
  if (typeof field !== 'string' || field.length === 0) {
    throw new Error('readTexts: field must be a non-empty string (the JSONL key holding the text)');
  }

  const onInvalid = opts.onInvalidUtf8 ?? 'error';
  if (onInvalid !== 'error' && onInvalid !== 'replace') {
    throw new Error(`readTexts: onInvalidUtf8 must be 'error' or 'replace', got ${JSON.stringify(onInvalid)}`);
  }
  const stats = opts.stats ?? { invalidUtf8Lines: 0, firstInvalidUtf8Line: null };
  let texts: string[] = [];
  let firstLine = 0;
  let lineNo = 0;
  for await (const line of readLines(path, onInvalid, stats)) {
    lineNo++;
    let text: string;
    if (format === 'text') {
      text = line;
    } else {
      if (line.trim().length === 0) continue;
      text = textFromJsonLine(path, lineNo, line, field);
    }
    if (texts.length === 0) firstLine = lineNo;
    texts.push(text);
    if (texts.length >= chunkSize) {
      yield { texts, firstLine };
      texts = [];
    }
  }
  if (texts.length > 0) yield { texts, firstLine };
}

/**
 * Number of lines in the file as a plain-text read sees them: the count of
 * '\n' bytes, plus one when the last line has no trailing newline.
 * For JSONL with blank lines this is an upper bound on the number of texts.
 */
export async function countLines(path: string): Promise<number> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  let count = 0;
  let last = -1;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let i = chunk.indexOf(10);
      while (i !== -1) {
        count++;
        i = chunk.indexOf(10, i + 1);
      }
      if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    }
  } catch (err) {
    throw openError(path, err);
  } finally {
    stream.destroy();
  }
  if (last !== -1 && last !== 10) count++;
  return count;
}
