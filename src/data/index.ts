// Data loading for training and evaluation: streaming readers (CSV/TSV, JSON lines, Parquet)
// with bad-row accounting, the mapping from columns to loss examples (with presets for STS-B,
// NLI, MRPC and BEIR), dedupe and seeded splits, text cleaning and token-bounded chunking.

import { readDelimited, type DelimitedOptions } from './delimited.js';
import { readJsonl } from './jsonl.js';
import { readParquet, type ParquetOptions } from './parquet.js';
import type { RowReader } from './rows.js';

export { DataError, BadRowLog, type BadRow, type BadRowPolicy, type ReadReport } from './report.js';
export { RowReader, type FieldValue, type Row, type RowRecord, type ReadOptions } from './rows.js';
export { readCsv, readTsv, readDelimited, DelimitedParser, type DelimitedOptions, type RaggedPolicy, type ParsedRecord } from './delimited.js';
export { readJsonl, type JsonlOptions } from './jsonl.js';
export { readParquet, toFieldValue, type ParquetOptions } from './parquet.js';
export {
  loadDataset,
  streamDataset,
  DatasetStream,
  NLI_LABELS,
  numberClassNames,
  type DatasetFormat,
  type DatasetOptions,
  type DatasetSpec,
  type Example,
  type LoadedDataset,
} from './dataset.js';
export { loadBeir, type BeirOptions, type BeirSet } from './beir.js';
export { sniffFormat, type SniffedFormat } from './sniff.js';
export { dedupe, trainTestSplit, seededRandom, type SplitOptions } from './split.js';
export { cleanExamples, cleanText, foldWhitespace, htmlToText, removeControlChars, type CleanOptions, type CleanReport } from './clean.js';
export {
  chunkDocuments,
  chunkText,
  newChunkStats,
  splitSentences,
  DEFAULT_ABBREVIATIONS,
  type Chunk,
  type ChunkOptions,
  type ChunkStats,
  type Span,
  type TokenCounter,
} from './chunk.js';

/** Opens a file with the reader for its format. */
export function readRows(
  path: string,
  format: 'csv' | 'tsv' | 'jsonl' | 'parquet',
  opts: DelimitedOptions & ParquetOptions = {},
): RowReader {
  switch (format) {
    case 'csv':
      return readDelimited(path, { ...opts, delimiter: ',' });
    case 'tsv':
      return readDelimited(path, { ...opts, delimiter: '\t' });
    case 'jsonl':
      return readJsonl(path, opts);
    case 'parquet':
      return readParquet(path, opts);
    default:
      throw new RangeError(`unknown row format ${JSON.stringify(format)}; use 'csv', 'tsv', 'jsonl' or 'parquet'`);
  }
}
