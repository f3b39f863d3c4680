// `sentencekit data inspect|chunk`: looks at a data file before training, and splits documents
// into model-sized chunks.
// - inspect: streams the file once through the dataset reader (bad rows counted, never fatal)
//   and prints one JSON object on stdout: rows, good and bad rows (first line numbers and
//   problems), columns (role ← field), the label kind with min/max/mean or class counts, and,
//   with a tokenizer, the token length of each text column — min, p50, p90, p99, max (nearest
//   rank: p_q is the smallest length L with at least ⌈q/100 · n⌉ texts ≤ L), and how many exceed
//   max_seq_length (special tokens included); a readable table goes to stderr.
// - chunk: streams JSON-lines documents (optionally HTML-cleaned first) through chunkDocuments
//   and writes {"id","source_id","chunk_index","text","start","end","tokens"} lines atomically.
// Takes the sub-command and its options (see usage).

import { basename, extname } from 'node:path';
import {
  chunkDocuments,
  cleanText,
  newChunkStats,
  readJsonl,
  streamDataset,
  type DatasetFormat,
  type DatasetSpec,
  type FieldValue,
} from '../../data/index.js';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { Tokenizer } from '../../tokenizers/index.js';
import { openAtomic } from '../../io/atomic.js';
import { assertNotInput } from '../../io/output_guard.js';
import { Progress } from '../../io/progress.js';
import { intOpt, parse, required, UsageError } from '../args.js';

export const usage = `Usage: sentencekit data inspect FILE [--format F] [--columns role=field,…] [--model DIR | --tokenizer DIR] [--max-seq-length N]
       sentencekit data chunk --input docs.jsonl --output chunks.jsonl (--tokenizer DIR | --model DIR)
                              [--max-tokens N] [--overlap N] [--id-field _id] [--text-field text] [--html]

inspect: rows, bad rows, columns, label statistics (as in the file, not rescaled) and, with a
  tokenizer, token lengths per text column; JSON on stdout, a table on stderr.
  Formats: stsb, nli, mrpc, csv, tsv, jsonl, parquet, beir-corpus, beir-queries, beir-qrels
  (default from the name: .csv .tsv .jsonl .parquet; sts-*.csv is stsb, msr_paraphrase_*.txt is mrpc).
  --columns maps roles to fields: anchor=question,positive=answer,label=score (a 0-based index
  for files without a header). max_seq_length: the model's, or the tokenizer's model_max_length.
chunk: one JSON line per chunk, each within --max-tokens tokens (default max_seq_length),
  sentences kept whole where they fit; --overlap repeats that many tokens between chunks;
  --html parses each text as HTML first (offsets then index the cleaned text).`;

const FORMATS: readonly DatasetFormat[] = ['stsb', 'nli', 'mrpc', 'csv', 'tsv', 'jsonl', 'parquet', 'beir-corpus', 'beir-queries', 'beir-qrels'];

/** Role → field of the presets, as src/data/dataset.ts reads them (shown in the report). */
const PRESET_FIELDS: Partial<Record<DatasetFormat, Record<string, string>>> = {
  stsb: { sentence1: '5', sentence2: '6', score: '4' },
  nli: { premise: 'premise', hypothesis: 'hypothesis', label: 'label' },
  mrpc: { sentence1: '3', sentence2: '4', label: '0' },
  'beir-corpus': { id: '_id', title: 'title', text: 'text' },
  'beir-queries': { id: '_id', text: 'text' },
  'beir-qrels': { 'query-id': '0', 'corpus-id': '1', score: '2' },
};

export async function data(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(usage + '\n');
    if (!sub) throw new UsageError('name what to do: inspect or chunk', usage);
    return;
  }
  if (sub === 'inspect') return inspect(rest);
  if (sub === 'chunk') return chunk(rest);
  throw new UsageError(`unknown data command "${sub}" (choose inspect or chunk)`, usage);
}

// ------------------------------------------------------------------ shared

/** The format a file name suggests, or undefined. */
export function formatFromName(path: string): DatasetFormat | undefined {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  if (/^sts-.*\.csv$/.test(name)) return 'stsb';
  if (/^msr_paraphrase.*\.txt$/.test(name)) return 'mrpc';
  const ext = extname(name);
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.parquet') return 'parquet';
  return undefined;
}

/** "anchor=q,positive=p" → { anchor: 'q', positive: 'p' }. */
export function parseColumns(text: string, usageText: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const role = part.slice(0, eq).trim();
    const field = part.slice(eq + 1).trim();
    if (eq < 0 || !role || !field) {
      throw new UsageError(`--columns takes role=field pairs separated by commas (e.g. anchor=question,positive=answer), got "${part}"`, usageText);
    }
    if (role in out) throw new UsageError(`--columns names the role "${role}" twice`, usageText);
    out[role] = field;
  }
  return out;
}

/** A tokenizer and its max_seq_length from --model (the model's) or --tokenizer (model_max_length). */
async function loadTokenizer(values: Record<string, string | boolean | undefined>, usageText: string): Promise<{ tokenizer: Tokenizer; maxSeqLength: number; source: string } | null> {
  const modelDir = typeof values.model === 'string' ? values.model : undefined;
  const tokDir = typeof values.tokenizer === 'string' ? values.tokenizer : undefined;
  if (modelDir && tokDir) throw new UsageError('give --model or --tokenizer, not both', usageText);
  const override = intOpt(values, 'max-seq-length', undefined, usageText);
  if (modelDir) {
    const model = await SentenceTransformer.load(modelDir);
    try {
      return { tokenizer: model.tokenizer, maxSeqLength: override ?? model.maxSeqLength, source: modelDir };
    } finally {
      await model.close();
    }
  }
  if (tokDir) {
    const tokenizer = await Tokenizer.fromDir(tokDir);
    return { tokenizer, maxSeqLength: override ?? tokenizer.maxLength, source: tokDir };
  }
  return null;
}

function describe(v: FieldValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

function round(x: number, digits = 4): number {
  return Number(x.toFixed(digits));
}

// ------------------------------------------------------------------ inspect

interface LengthStats {
  texts: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  overMaxSeqLength: number;
}

/** Token-length histogram of one column: memory bounded by the number of distinct lengths. */
class Lengths {
  private readonly counts = new Map<number, number>();
  private n = 0;
  private sum = 0;

  add(len: number): void {
    this.counts.set(len, (this.counts.get(len) ?? 0) + 1);
    this.n++;
    this.sum += len;
  }

  stats(maxSeqLength: number): LengthStats {
    const lens = [...this.counts.keys()].sort((a, b) => a - b);
    const at = (q: number): number => {
      const need = Math.max(1, Math.ceil((q / 100) * this.n));
      let seen = 0;
      for (const l of lens) {
        seen += this.counts.get(l)!;
        if (seen >= need) return l;
      }
      return lens[lens.length - 1] ?? 0;
    };
    let over = 0;
    for (const l of lens) if (l > maxSeqLength) over += this.counts.get(l)!;
    return {
      texts: this.n,
      min: lens[0] ?? 0,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      max: lens[lens.length - 1] ?? 0,
      mean: this.n ? round(this.sum / this.n, 2) : 0,
      overMaxSeqLength: over,
    };
  }
}

async function inspect(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    format: { type: 'string' }, columns: { type: 'string' }, model: { type: 'string' }, tokenizer: { type: 'string' },
    'max-seq-length': { type: 'string' }, help: { type: 'boolean' },
  }, usage);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the file to inspect' : `inspect takes one file, got ${positionals.length}: ${positionals.join(' ')}`, usage);
  const file = positionals[0];
  let format: DatasetFormat;
  if (typeof values.format === 'string') {
    if (!FORMATS.includes(values.format as DatasetFormat)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`, usage);
    format = values.format as DatasetFormat;
  } else {
    const guess = formatFromName(file);
    if (!guess) throw new UsageError(`cannot tell the format of ${file} from its name; pass --format (${FORMATS.join(', ')})`, usage);
    format = guess;
  }
  const columns = typeof values.columns === 'string' ? parseColumns(values.columns, usage) : undefined;
  const tok = await loadTokenizer(values, usage);

  const spec: DatasetSpec = { path: file, format, scoreScale: 1 };
  if (columns) spec.columns = columns;
  const stream = streamDataset(spec, { maxBadRowRate: 1 });
  let lengths: Lengths[] = [];
  const classes = new Map<number, number>();
  let labels = 0;
  let lmin = Number.POSITIVE_INFINITY;
  let lmax = Number.NEGATIVE_INFINITY;
  let lsum = 0;
  let embeddingDim = 0;
  const progress = new Progress({ label: 'inspect', unit: 'rows' });
  for await (const ex of stream) {
    if (tok) {
      if (lengths.length === 0) lengths = ex.texts.map(() => new Lengths());
      ex.texts.forEach((t, i) => lengths[i]?.add(tok.tokenizer.countTokens(t)));
    }
    const l = ex.label;
    if (typeof l === 'number') {
      labels++;
      lmin = Math.min(lmin, l);
      lmax = Math.max(lmax, l);
      lsum += l;
      if (stream.labelKind === 'class') classes.set(l, (classes.get(l) ?? 0) + 1);
    } else if (Array.isArray(l)) {
      labels++;
      embeddingDim = l.length;
    }
    progress.tick(1);
  }
  progress.done();
  const rep = stream.report;
  const textRoles = stream.columns ?? [];

  // role ← field, as mapped (preset, --columns) or inferred (every column a text, label/score the label)
  const mapping: Record<string, string> = { ...(PRESET_FIELDS[format] ?? {}), ...(columns ?? {}) };
  const header = stream.reader.columns ?? [];
  const named = header.length > 0 && !header.every((c, i) => c === String(i));
  const cols: { role: string; field: string; name?: string; kind: 'text' | 'label' | 'id' | 'title' }[] = [];
  const fieldOf = (role: string): { field: string; name?: string } => {
    const field = mapping[role] ?? role;
    const name = named && /^\d+$/.test(field) && !header.includes(field) ? header[Number(field)] : undefined;
    return name === undefined ? { field } : { field, name };
  };
  for (const role of textRoles) cols.push({ role, ...fieldOf(role), kind: 'text' });
  const labelRole = ['score', 'label'].find((r) => r in mapping) ?? (Object.keys(mapping).length === 0 ? ['score', 'label'].find((r) => header.includes(r)) : undefined);
  if (labelRole && stream.labelKind !== 'none') cols.push({ role: labelRole, ...fieldOf(labelRole), kind: 'label' });
  if ('id' in mapping) cols.push({ role: 'id', ...fieldOf('id'), kind: 'id' });
  if ('title' in mapping && format === 'beir-corpus') cols.push({ role: 'title', ...fieldOf('title'), kind: 'title' });

  let label: Record<string, unknown>;
  switch (stream.labelKind) {
    case 'score':
      label = { kind: 'score', count: labels, min: labels ? round(lmin) : null, max: labels ? round(lmax) : null, mean: labels ? round(lsum / labels) : null };
      break;
    case 'class':
      label = {
        kind: 'class', count: labels,
        classes: Object.fromEntries([...classes.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => [String(k), n])),
        ...(rep.labelMap ? { labelMap: rep.labelMap } : {}),
      };
      break;
    case 'embedding':
      label = { kind: 'embedding', count: labels, dim: embeddingDim };
      break;
    default:
      label = { kind: 'none' };
  }

  const out: Record<string, unknown> = {
    file,
    format,
    rows: rep.rows,
    goodRows: rep.goodRows,
    badRows: { count: rep.badRows, first: rep.badSamples.map((b) => ({ [rep.unit]: b.line, problem: b.problem })) },
    columns: cols,
    label,
  };
  if (tok) {
    const per: Record<string, LengthStats> = {};
    textRoles.forEach((role, i) => {
      if (lengths[i]) per[role] = lengths[i].stats(tok.maxSeqLength);
    });
    out.tokens = { tokenizer: tok.source, maxSeqLength: tok.maxSeqLength, columns: per };
  }
  out.truncatedRows = rep.truncatedRows;
  out.emptyLines = rep.emptyLines;
  out.notes = rep.notes;
  process.stdout.write(JSON.stringify(out) + '\n');
  process.stderr.write(inspectTable(out, cols, label, tok ? (out.tokens as { maxSeqLength: number; columns: Record<string, LengthStats> }) : null, rep.badSamples, rep.unit) + '\n');
}

function inspectTable(
  out: Record<string, unknown>,
  cols: { role: string; field: string; name?: string }[],
  label: Record<string, unknown>,
  tokens: { maxSeqLength: number; columns: Record<string, LengthStats> } | null,
  bad: { line: number; problem: string }[],
  unit: string,
): string {
  const lines: string[] = [];
  const badCount = (out.badRows as { count: number }).count;
  lines.push(`${out.file} (${out.format}): ${out.rows} rows, ${out.goodRows} good, ${badCount} bad`);
  for (const b of bad.slice(0, 5)) lines.push(`  bad ${unit} ${b.line}: ${b.problem}`);
  if (badCount > 5) lines.push(`  … ${badCount - 5} more bad rows`);
  lines.push(`columns: ${cols.map((c) => `${c.role} ← ${c.name === undefined ? c.field : `${c.field} (${c.name})`}`).join(', ')}`);
  if (label.kind === 'score') lines.push(`label: score, ${label.count} values, min ${label.min}, max ${label.max}, mean ${label.mean}`);
  else if (label.kind === 'class') {
    const cls = Object.entries(label.classes as Record<string, number>).map(([k, n]) => `${k}: ${n}`).join(', ');
    lines.push(`label: class, ${label.count} values (${cls})`);
  } else if (label.kind === 'embedding') lines.push(`label: embedding, ${label.count} values of dimension ${label.dim}`);
  else lines.push('label: none');
  if (tokens) {
    lines.push(`tokens (special tokens included; max_seq_length ${tokens.maxSeqLength}):`);
    const head = ['column', 'min', 'p50', 'p90', 'p99', 'max', 'mean', `> ${tokens.maxSeqLength}`];
    const rows = Object.entries(tokens.columns).map(([role, s]) => [role, s.min, s.p50, s.p90, s.p99, s.max, s.mean, s.overMaxSeqLength].map(String));
    const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]): string => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ');
    lines.push(fmt(head), ...rows.map(fmt));
  }
  for (const n of out.notes as string[]) lines.push(`note: ${n}`);
  return lines.join('\n');
}

// ------------------------------------------------------------------ chunk

const FLUSH_CHARS = 1 << 20;

async function chunk(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    input: { type: 'string' }, output: { type: 'string' }, model: { type: 'string' }, tokenizer: { type: 'string' },
    'max-tokens': { type: 'string' }, overlap: { type: 'string' }, 'id-field': { type: 'string', default: '_id' },
    'text-field': { type: 'string', default: 'text' }, html: { type: 'boolean', default: false }, 'max-seq-length': { type: 'string' },
    help: { type: 'boolean' },
  }, usage);
  if (positionals.length > 0) throw new UsageError(`chunk takes no positional arguments, got: ${positionals.join(' ')}`, usage);
  const input = required(values, 'input', usage);
  const output = required(values, 'output', usage);
  assertNotInput(output, { '--input': input });
  const tok = await loadTokenizer(values, usage);
  if (!tok) throw new UsageError('chunk needs --tokenizer DIR or --model DIR (token counts decide the chunk sizes)', usage);
  const maxTokens = intOpt(values, 'max-tokens', tok.maxSeqLength, usage, tok.tokenizer.numSpecialTokens + 1)!;
  const overlap = intOpt(values, 'overlap', 0, usage, 0)!;
  if (overlap >= maxTokens - tok.tokenizer.numSpecialTokens) {
    throw new UsageError(`--overlap ${overlap} leaves no room: it must be below --max-tokens ${maxTokens} minus the tokenizer's ${tok.tokenizer.numSpecialTokens} special tokens`, usage);
  }
  const idField = String(values['id-field']);
  const textField = String(values['text-field']);
  const html = Boolean(values.html);

  const reader = readJsonl(input);
  let noId = 0;
  let empty = 0;
  async function* documents(): AsyncGenerator<{ id: string; text: string }> {
    for await (const row of reader) {
      const rec = row.record as Record<string, FieldValue>;
      const text = rec[textField];
      if (typeof text !== 'string') {
        reader.log.bad(row.line, `field ${JSON.stringify(textField)} is ${describe(text)}, expected text${text === undefined ? ` (fields: ${Object.keys(rec).join(', ')}; choose one with --text-field)` : ''}`);
        continue;
      }
      const rawId = rec[idField];
      let id: string;
      if (rawId === undefined) {
        noId++;
        id = String(row.line);
      } else if ((typeof rawId === 'string' && rawId.length > 0) || typeof rawId === 'number') {
        id = String(rawId);
      } else {
        reader.log.bad(row.line, `field ${JSON.stringify(idField)} is ${describe(rawId)}, expected a non-empty id`);
        continue;
      }
      const clean = html ? cleanText(text, { html: true, whitespace: 'keep-newlines' }) : text;
      if (clean.trim().length === 0) empty++;
      yield { id, text: clean };
    }
  }

  const stats = newChunkStats();
  const file = await openAtomic(output);
  const progress = new Progress({ label: 'chunk', unit: 'documents' });
  const t0 = performance.now();
  let buf = '';
  let lastDocs = 0;
  try {
    for await (const c of chunkDocuments(documents(), tok.tokenizer, { maxTokens, overlapTokens: overlap, stats })) {
      buf += JSON.stringify({ id: `${c.sourceId}#${c.chunkIndex}`, source_id: c.sourceId, chunk_index: c.chunkIndex, text: c.text, start: c.start, end: c.end, tokens: c.tokens }) + '\n';
      if (buf.length >= FLUSH_CHARS) {
        await file.write(buf);
        buf = '';
      }
      progress.tick(stats.documents - lastDocs);
      lastDocs = stats.documents;
    }
    if (buf.length > 0) await file.write(buf);
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
  progress.done();
  const secs = (performance.now() - t0) / 1000;
  const rep = reader.report;
  const parts = [
    `chunked ${stats.documents} documents into ${stats.chunks} chunks of at most ${maxTokens} tokens (overlap ${overlap}) → ${output} in ${secs.toFixed(2)} s`,
    `${stats.sentences} sentences; ${stats.sentencesSplit} longer than the budget split at words, ${stats.wordsSplit} words split between characters`,
  ];
  if (rep.badRows > 0) parts.push(`${rep.badRows} bad line(s) skipped: ${rep.badSamples.slice(0, 3).map((b) => `line ${b.line}: ${b.problem}`).join('; ')}`);
  if (empty > 0) parts.push(`${empty} document(s) with no text gave no chunk`);
  if (noId > 0) parts.push(`${noId} document(s) without an ${JSON.stringify(idField)} field: their line number is the id`);
  if (html) parts.push('texts were cleaned from HTML first: start/end index the cleaned text');
  process.stderr.write(parts.join('\n') + '\n');
}
