// Streaming JSON-lines reader. Takes a path (plain or gzip-compressed) and yields one object
// per non-blank line with its line number; a line that is not valid JSON, or is JSON but not
// an object, is counted as a bad row with its line number and the parser's message.

import { DataError } from './report.js';
import { newLog, RowReader, type FieldValue, type ReadOptions, type Row } from './rows.js';
import { numberedLines, readTextChunks } from './source.js';

export type JsonlOptions = ReadOptions;

function snippet(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Streams a JSON-lines file: one JSON object per line, blank lines skipped (and counted). */
export function readJsonl(path: string, opts: JsonlOptions = {}): RowReader {
  const log = newLog(path, 'jsonl', 'line', opts);
  return new RowReader(path, 'jsonl', log, async function* (reader): AsyncGenerator<Row> {
    let sawBytes = false;
    let invalidUtf8 = 0;
    let firstInvalidLine: number | undefined;
    const chunks = (async function* () {
      for await (const text of readTextChunks(path, 'JSON lines', (n, line) => {
      invalidUtf8 += n;
      firstInvalidLine ??= line;
    })) {
        sawBytes = true;
        yield text;
      }
    })();
    for await (const { line, text } of numberedLines(path, chunks, opts.maxRecordChars)) {
      if (text.trim().length === 0) {
        log.report.emptyLines++;
        continue;
      }
      log.row();
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        log.bad(line, `not valid JSON (${msg}): ${snippet(text)}; each line must hold one complete JSON object`);
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        log.bad(line, `expected a JSON object, found ${typeName(value)}: ${snippet(text)}`);
        continue;
      }
      const record = value as { [key: string]: FieldValue };
      reader.columns ??= Object.keys(record);
      yield { line, record };
    }
    if (invalidUtf8 > 0) {
      log.note(`${invalidUtf8} invalid UTF-8 byte sequence(s) replaced by U+FFFD; the file may not be UTF-8 (convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8); the first is on line ${firstInvalidLine}`);
    }
    if (log.report.rows === 0 && opts.allowEmpty !== true) {
      const what = sawBytes ? 'the file has only blank lines' : 'the file is empty';
      throw new DataError(path, `${what}; give a file with one JSON object per line (or pass allowEmpty: true to accept an empty file)`);
    }
    log.finish();
  });
}
