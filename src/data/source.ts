// Opens a data file for the text readers: takes a path, streams it as UTF-8 text in bounded
// chunks (gzip-compressed files are decompressed on the fly, a byte-order mark is dropped) and
// refuses files that are not text (binary, Parquet, zip, UTF-16) with a message saying what
// the file looks like and what to do. Also splits the stream into numbered lines.

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { DataError } from './report.js';
import { openHint } from '../io/file_errors.js';

const READ_CHUNK = 256 * 1024;
const SNIFF_BYTES = 8192;
/** Default cap on one line or record, in UTF-16 code units: bounds memory when a file has no line breaks. */
export const DEFAULT_MAX_RECORD_CHARS = 64 * 1024 * 1024;

function openError(path: string, err: unknown): DataError {
  const e = err as NodeJS.ErrnoException;
  return new DataError(path, `cannot read the file (${e?.message ?? String(err)}); ${openHint(err)}`, {}, { cause: err });
}

/** The first bytes of a file (fewer when the file is shorter). */
export async function peekBytes(path: string, n: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw openError(path, err);
  } finally {
    await handle?.close();
  }
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** Throws when the first bytes (after any decompression) show that this is not UTF-8 text. */
function checkText(path: string, head: Buffer, wanted: string): void {
  const ascii = head.subarray(0, 4).toString('latin1');
  if (ascii === 'PAR1') {
    throw new DataError(path, `this is a Parquet file, not ${wanted}; read it with format 'parquet'`);
  }
  if (ascii === 'PK\u0003\u0004') {
    throw new DataError(path, `this is a zip archive, not ${wanted}; extract the data file from it first`);
  }
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new DataError(path, `this file is UTF-16 encoded; convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)`);
  }
  const nul = head.indexOf(0);
  if (nul !== -1) {
    throw new DataError(
      path,
      `this looks like a binary file, not ${wanted} (a NUL byte at offset ${nul}); give a UTF-8 text file, or use format 'parquet' for Parquet`,
    );
  }
}

/**
 * Streams the file as UTF-8 text chunks: BOM dropped, .gz (by magic bytes) decompressed,
 * non-text files refused. `wanted` names the expected format in messages ("CSV", "JSON lines");
 * onInvalidUtf8 hears how many invalid byte sequences a chunk had replaced by U+FFFD, and the
 * line of the first.
 */
export async function* readTextChunks(path: string, wanted: string, onInvalidUtf8?: (count: number, line: number) => void): AsyncGenerator<string> {
  const head = await peekBytes(path, SNIFF_BYTES);
  const gzip = isGzip(head);
  if (!gzip) checkText(path, head, wanted);

  const file = createReadStream(path, { highWaterMark: READ_CHUNK });
  let stream: Readable = file;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: READ_CHUNK });
    stream = pipeline(file, gunzip, () => {});
  }
  const decoder = new StringDecoder('utf8');
  let firstBytes = true;
  let firstText = true;
  let offset = 0;
  let newlines = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (chunk.length === 0) continue;
      if (firstBytes) {
        firstBytes = false;
        if (gzip) checkText(path, chunk.subarray(0, SNIFF_BYTES), wanted);
      }
      // binary data after the sniffed start (a NUL never occurs in UTF-8 text)
      const nul = chunk.indexOf(0);
      if (nul !== -1) {
        throw new DataError(path, `a NUL byte at byte offset ${offset + nul}${gzip ? ' (of the decompressed data)' : ''}: this part of the file is binary, not ${wanted}; give a UTF-8 text file`);
      }
      offset += chunk.length;
      let text = decoder.write(chunk);
      if (onInvalidUtf8 !== undefined) {
        // U+FFFD in the text that the bytes did not spell out (EF BF BD) replaced invalid UTF-8
        const invalid = countOf(text, '\uFFFD') - countBytes(chunk);
        if (invalid > 0) {
          // the physical line of the first replacement (exact unless the chunk also spells U+FFFD out)
          const at = text.indexOf('\uFFFD');
          onInvalidUtf8(invalid, newlines + countOf(text.slice(0, at), '\n') + 1);
        }
        newlines += countOf(text, '\n');
      }
      if (firstText && text.length > 0) {
        firstText = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (text.length > 0) yield text;
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
      throw new DataError(path, `the gzip data is corrupt or truncated (${(err as Error).message}); re-download or re-compress the file`, {}, { cause: err });
    }
    throw openError(path, err);
  } finally {
    file.destroy();
    stream.destroy();
  }
  let rest = decoder.end();
  if (firstText && rest.charCodeAt(0) === 0xfeff) rest = rest.slice(1);
  if (rest.length > 0) yield rest;
}

function countOf(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

const REPLACEMENT_BYTES = Buffer.from([0xef, 0xbf, 0xbd]);
function countBytes(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(REPLACEMENT_BYTES); i !== -1; i = buf.indexOf(REPLACEMENT_BYTES, i + 3)) n++;
  return n;
}

/** One physical line: its 1-based number and its text without the line break (\n or \r\n). */
export interface NumberedLine {
  line: number;
  text: string;
}

/**
 * Splits a text stream into lines (\n or \r\n; no phantom last line after a final newline).
 * A line longer than maxChars fails the read: the file is probably not line-oriented.
 */
export async function* numberedLines(
  path: string,
  chunks: AsyncIterable<string>,
  maxChars: number = DEFAULT_MAX_RECORD_CHARS,
): AsyncGenerator<NumberedLine> {
  let partial = '';
  let lineNo = 0;
  const finish = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);
  for await (const text of chunks) {
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1) {
      const piece = text.slice(start, nl);
      const line = partial.length > 0 ? partial + piece : piece;
      partial = '';
      lineNo++;
      yield { line: lineNo, text: finish(line) };
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      partial += text.slice(start);
      if (partial.length > maxChars) {
        throw new DataError(
          path,
          `line is longer than ${maxChars} characters without a line break; this does not look like a line-oriented file (check the format)`,
          { line: lineNo + 1 },
        );
      }
    }
  }
  if (partial.length > 0) {
    lineNo++;
    yield { line: lineNo, text: finish(partial) };
  }
}
