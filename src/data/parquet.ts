// Streaming Parquet reader. Takes a path and yields one object per row, keyed by the column
// names of the file's schema, reading one row group at a time so that memory stays bounded by
// the largest row group. Values come out JSON-like: 64-bit integers as numbers (as strings when
// they do not fit a double exactly), dates as ISO strings, lists as arrays. Snappy, gzip, zstd,
// brotli and LZ4 compression are supported.

import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DataError } from './report.js';
import { newLog, RowReader, type FieldValue, type ReadOptions, type Row } from './rows.js';
import { peekBytes } from './source.js';

export interface ParquetOptions extends ReadOptions {
  /** Read only these columns (default all). */
  columns?: string[];
}

/** Converts a value decoded by hyparquet into a JSON-like field value. */
export function toFieldValue(value: unknown): FieldValue {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return value;
    case 'bigint': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value.toString();
    }
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return new TextDecoder('utf-8').decode(value);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => toFieldValue(v));
  if (Array.isArray(value)) return value.map((v) => toFieldValue(v));
  const out: { [key: string]: FieldValue } = {};
  for (const [k, v] of Object.entries(value as object)) out[k] = toFieldValue(v);
  return out;
}

/** Streams a Parquet file row group by row group; BadRow line numbers are 1-based row numbers. */
export function readParquet(path: string, opts: ParquetOptions = {}): RowReader {
  const log = newLog(path, 'parquet', 'row', opts);
  return new RowReader(path, 'parquet', log, async function* (reader): AsyncGenerator<Row> {
    const head = await peekBytes(path, 4);
    if (head.length === 0) {
      if (opts.allowEmpty === true) return;
      throw new DataError(path, 'the file is empty; give a Parquet file (or pass allowEmpty: true to accept an empty file)');
    }
    if (head.toString('latin1') !== 'PAR1') {
      throw new DataError(path, `this is not a Parquet file (it does not start with the PAR1 magic bytes); use format 'csv', 'tsv' or 'jsonl' for text files`);
    }
    let file: AsyncBuffer;
    let metadata: FileMetaData;
    try {
      file = await asyncBufferFromFile(path);
      metadata = await parquetMetadataAsync(file);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new DataError(path, `cannot read the Parquet metadata (${msg}); the file is truncated or corrupt, write or download it again`, {}, { cause: err });
    }
    const names = parquetSchema(metadata).children.map((c) => c.element.name);
    if (opts.columns !== undefined) {
      const missing = opts.columns.filter((c) => !names.includes(c));
      if (missing.length > 0) {
        throw new DataError(path, `no column named ${missing.map((m) => JSON.stringify(m)).join(', ')}; the file's columns are: ${names.join(', ')}`);
      }
    }
    reader.columns = opts.columns ?? names;

    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      if (rowEnd === rowStart) continue;
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({
          file, metadata, rowStart, rowEnd, compressors,
          ...(opts.columns !== undefined ? { columns: opts.columns } : {}),
        });
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new DataError(path, `cannot decode rows ${rowStart + 1}–${rowEnd} (${msg}); the file is corrupt or uses an unsupported encoding`, { line: rowStart + 1, unit: 'row' }, { cause: err });
      }
      for (let i = 0; i < rows.length; i++) {
        log.row();
        const record: { [key: string]: FieldValue } = {};
        const src = rows[i]!;
        for (const name of reader.columns) record[name] = toFieldValue(src[name]);
        yield { line: rowStart + i + 1, record };
      }
      rowStart = rowEnd;
    }
    if (log.report.rows === 0 && opts.allowEmpty !== true) {
      throw new DataError(path, 'the Parquet file has no rows; give a file with data (or pass allowEmpty: true to accept an empty file)');
    }
    log.finish();
  });
}
