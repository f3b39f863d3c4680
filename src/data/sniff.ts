// Tells the layout of a data file from its content rather than its name. Takes a path and the
// number of text columns the caller maps (2 for pairs, 3 for triplets) and reads the first
// 64 KiB: Parquet by its magic bytes, JSON lines when the first line is a JSON object,
// otherwise a delimited file whose delimiter is the one (tab or comma) that splits the first
// rows into the same number of fields; the STS Benchmark's published layout (tab-separated,
// no header, ≥ 7 fields, a number in field 5) is recognised as the stsb preset, MRPC's (its
// Quality, #1 ID, … columns) as the mrpc preset; a TSV whose sample quotes no field is read
// with quotes as ordinary characters. A header row
// is one whose fields are not numbers where the next rows have numbers (or that names a
// label/score column). Returns the format and a description used in every message.

import { gunzipSync } from 'node:zlib';
import { DelimitedParser, type ParsedRecord } from './delimited.js';
import type { DatasetFormat } from './dataset.js';
import { DataError } from './report.js';
import { peekBytes } from './source.js';

const SNIFF = 64 * 1024;
const ROWS = 20;

export interface SniffedFormat {
  format: DatasetFormat;
  /** For csv/tsv: whether the first row names the columns. */
  header?: boolean;
  /** For tsv: false when the sample quotes no field (quotes are then ordinary characters). */
  quote?: false;
  /** For csv/tsv: the fields of the first row (the header's names when header is true). */
  firstRow?: string[];
  /** "tab-separated, no header row, STS-B layout (…)": named in every message about the file. */
  description: string;
}

function isNumber(s: string): boolean {
  const t = s.trim();
  return t.length > 0 && Number.isFinite(Number(t));
}

function parseRows(text: string, delimiter: string): string[][] {
  const parser = new DelimitedParser('', delimiter, delimiter === '\t' ? false : '"');
  const out: ParsedRecord[] = [];
  // drop a last, probably cut, line
  const cut = text.lastIndexOf('\n');
  parser.push(cut > 0 ? text.slice(0, cut + 1) : text, out);
  const rows: string[][] = [];
  for (const r of out) {
    if ('fields' in r) rows.push(r.fields);
    if (rows.length >= ROWS) break;
  }
  return rows;
}

/** How consistently a delimiter splits the rows: the share of rows with the first row's field count (0 when it does not split). */
function consistency(rows: string[][]): number {
  if (rows.length === 0 || rows[0]!.length < 2) return 0;
  const n = rows[0]!.length;
  return rows.filter((r) => r.length === n).length / rows.length;
}

function looksLikeHeader(rows: string[][]): boolean {
  const first = rows[0]!;
  if (first.some((f) => /^(label|score|scores|labels)$/i.test(f.trim()))) return true;
  const rest = rows.slice(1).filter((r) => r.length === first.length);
  if (rest.length === 0) return first.every((f) => !isNumber(f));
  for (let c = 0; c < first.length; c++) {
    const numericBelow = rest.every((r) => isNumber(r[c]!));
    if (numericBelow && !isNumber(first[c]!)) return true;
  }
  return false;
}

/** Reads the start of `path` and says which format it is in (see the file comment). */
export async function sniffFormat(path: string): Promise<SniffedFormat> {
  let head = await peekBytes(path, SNIFF);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    try {
      head = gunzipSync(head, { finishFlush: 2 /* Z_SYNC_FLUSH: a cut stream is fine */ }).subarray(0, SNIFF);
    } catch {
      throw new DataError(path, 'the gzip data is corrupt; re-download or re-compress the file');
    }
  }
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return { format: 'parquet', description: 'Parquet (detected from the file\'s magic bytes)' };
  let text = head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const firstLine = text.split('\n').find((l) => l.trim().length > 0)?.trim() ?? '';
  if (firstLine.length === 0) throw new DataError(path, 'the file is empty (or has only blank lines); give a file with data rows');
  if (firstLine.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(firstLine);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        return { format: 'jsonl', description: 'JSON lines (detected: the first line is a JSON object)' };
      }
    } catch {
      // not JSON: fall through to the delimited formats
    }
  }
  const tab = parseRows(text, '\t');
  const comma = parseRows(text, ',');
  const ct = consistency(tab);
  const cc = consistency(comma);
  if (ct === 0 && cc === 0) {
    throw new DataError(
      path,
      `cannot tell the format: the first line has neither tabs nor commas between fields (${JSON.stringify(firstLine.slice(0, 60))}); ` +
        `give a CSV or TSV file with a header (e.g. sentence1,sentence2,score), a JSON-lines file, or pass --format`,
      { line: 1 },
    );
  }
  const useTab = ct > 0 && (ct >= cc || tab[0]!.length >= comma[0]!.length);
  const rows = useTab ? tab : comma;
  const first = rows[0]!;
  const sep = useTab ? 'tab-separated' : 'comma-separated';
  if (useTab && first.length >= 7 && isNumber(first[4]!) && !looksLikeHeader(rows)) {
    return {
      format: 'stsb',
      description: `stsb: the STS Benchmark layout (detected: tab-separated, no header row, ${first.length} fields, score in field 5, sentences in fields 6 and 7)`,
    };
  }
  const mrpcRow = (r: string[]): boolean => r.length === 5 && /^[01]$/.test(r[0]!.trim()) && /^\d+$/.test(r[1]!.trim()) && /^\d+$/.test(r[2]!.trim());
  if (useTab && ((first.length === 5 && first[0]!.trim() === 'Quality') || mrpcRow(first)) && rows.slice(1).every(mrpcRow)) {
    return { format: 'mrpc', description: 'mrpc: the MRPC layout (detected: tab-separated, Quality (0/1), #1 ID, #2 ID, #1 String, #2 String)' };
  }
  const header = looksLikeHeader(rows);
  const format = useTab ? 'tsv' : 'csv';
  // tab-separated files rarely quote: read quotes as text unless a field of the sample is quoted
  const quoted = text.split('\n').slice(0, ROWS).some((l) => l.split('\t').some((f) => /^".*"\r?$/.test(f)));
  return {
    format,
    header,
    ...(useTab && !quoted ? { quote: false as const } : {}),
    firstRow: first,
    description: header
      ? `${format} (detected: ${sep}, header row ${first.map((f) => JSON.stringify(f)).join(', ')})`
      : `${format} (detected: ${sep}, ${first.length} fields, no header row: columns taken in order)`,
  };
}
