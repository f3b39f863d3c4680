// Streaming input readers for `encode`: plain text (one text per line) and
// JSON Lines (one object per line, text taken from a named field), delivered
// in bounded-size batches, plus a fast line counter for progress totals.

import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { openHint } from './file_errors.js';

export type TextFormat = 'text' | 'jsonl';

export interface ReadTextsOptions {
  /** 'auto' (default): .jsonl/.ndjson/.json → jsonl, anything else → text. */
  format?: 'auto' | TextFormat;
  /** JSONL field holding the text; default 'text'. */
  field?: string;
  /** Texts per yielded batch; default 4096. */
  chunkSize?: number;
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

/** The format 'auto' picks for `path`. */
export function detectFormat(path: string): TextFormat {
  return JSONL_EXTENSIONS.has(extname(path).toLowerCase()) ? 'jsonl' : 'text';
}

function openError(path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  return new Error(`cannot read input file ${JSON.stringify(path)}: ${e?.message ?? String(err)}; ${openHint(err, 'directory')}`, { cause: err });
}

/** Yields every line of the file as a string (BOM stripped, CRLF accepted, no phantom last line). */
async function* readLines(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let first = true;
  const finish = (line: string): string => {
    if (first) {
      first = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.write(chunk);
      let start = 0;
      let nl = text.indexOf('\n');
      while (nl !== -1) {
        const piece = text.slice(start, nl);
        const line = partial.length > 0 ? partial + piece : piece;
        partial = '';
        yield finish(line);
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      if (start < text.length) partial += text.slice(start);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== undefined) throw openError(path, err);
    throw err;
  } finally {
    stream.destroy();
  }
  partial += decoder.end();
  if (partial.length > 0) yield finish(partial);
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

  let texts: string[] = [];
  let firstLine = 0;
  let lineNo = 0;
  for await (const line of readLines(path)) {
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
