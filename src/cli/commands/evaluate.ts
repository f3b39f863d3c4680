// `sentencekit evaluate sts|binary|triplet|retrieval`: runs one evaluator on a model and prints
// one JSON object of metrics on stdout (names as sentence-transformers spells them) and a
// readable table on stderr, with the time and peak memory.

import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { modelLabel, modelOption, resolveModelSpec } from '../../models/default_model.js';
import { formatTable } from '../../evaluation/format.js';
import { buildEvaluator, EVALUATORS, type BuiltEvaluator, type EvalSpec, type EvaluatorKind } from '../evaluator_spec.js';
import type { DatasetFormat } from '../../data/dataset.js';
import { DataError, type ReadReport } from '../../data/report.js';
import { sniffFormat } from '../../data/sniff.js';
import { intOpt, parse, required, UsageError } from '../args.js';
import { progressEncoder } from '../progress_encoder.js';

export const usage = `Usage: sentencekit evaluate sts       [--model DIR] --data FILE [--format stsb|csv|tsv|jsonl|parquet] [--columns s1,s2,score]
       sentencekit evaluate binary    [--model DIR] --data FILE [--format …] [--columns s1,s2,label]
       sentencekit evaluate triplets  [--model DIR] --data FILE [--format …] [--columns anchor,positive,negative]
       sentencekit evaluate retrieval [--model DIR] --corpus corpus.jsonl --queries queries.jsonl --qrels qrels.tsv [--k 10]
Options: --batch-size N, --name NAME (prefix of the metric names),
         --max-bad-rows N|P% (bad rows allowed before the data is refused; default 1%).
Without --format the format is detected from the content (JSON lines, Parquet, the STS-B layout, or
CSV/TSV with or without a header row) and named in every message.
Retrieval: accuracy/precision/recall at 1, 3, 5 and k, mrr@k and ndcg@k, and map@100 (as sentence-transformers).
Prints the metrics as one JSON object on stdout (with "input": rows read and bad, per file) and a table on stderr.`;

const ROLES: Record<string, string[]> = { sts: ['sentence1', 'sentence2', 'score'], binary: ['sentence1', 'sentence2', 'label'], triplet: ['anchor', 'positive', 'negative'] };
const FORMATS: readonly DatasetFormat[] = ['stsb', 'nli', 'mrpc', 'csv', 'tsv', 'jsonl', 'parquet'];

/** --max-bad-rows: "N" (a count) or "P%" (a share of the rows). */
function badRowLimit(v: string | boolean | undefined): { maxBadRows?: number; maxBadRowRate?: number } {
  if (v === undefined) return {};
  const s = String(v).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct && Number(pct[1]) <= 100) return { maxBadRowRate: Number(pct[1]) / 100 };
  if (/^\d+$/.test(s)) return { maxBadRows: Number(s) };
  throw new UsageError(`--max-bad-rows takes a count (e.g. 10) or a share (e.g. 2%), got "${s}"`, usage);
}

export async function evaluate(argv: string[]): Promise<void> {
  const [kindArg, ...rest] = argv;
  const kind = (kindArg === 'triplets' ? 'triplet' : kindArg) as EvaluatorKind;
  if (!kindArg || kindArg === '--help') {
    process.stdout.write(usage + '\n');
    if (!kindArg) throw new UsageError('name what to evaluate: sts, binary, triplets or retrieval', usage);
    return;
  }
  if (!(EVALUATORS as readonly string[]).includes(kind)) throw new UsageError(`unknown evaluation "${kindArg}" (choose sts, binary, triplets or retrieval)`, usage);
  const { values } = parse(rest, {
    model: { type: 'string' }, data: { type: 'string' }, format: { type: 'string' }, columns: { type: 'string' },
    corpus: { type: 'string' }, queries: { type: 'string' }, qrels: { type: 'string' }, k: { type: 'string' },
    'batch-size': { type: 'string' }, name: { type: 'string' }, 'max-bad-rows': { type: 'string' }, help: { type: 'boolean' },
  }, usage);
  const spec: EvalSpec = {
    evaluator: kind, batchSize: intOpt(values, 'batch-size', undefined, usage), name: typeof values.name === 'string' ? values.name : undefined,
    ...badRowLimit(values['max-bad-rows']),
  };
  if (kind === 'retrieval') {
    spec.corpus = required(values, 'corpus', usage);
    spec.queries = required(values, 'queries', usage);
    spec.qrels = required(values, 'qrels', usage);
    spec.k = intOpt(values, 'k', 10, usage);
  } else {
    spec.path = required(values, 'data', usage);
    const roles = ROLES[kind];
    if (typeof values.format === 'string') {
      if (!FORMATS.includes(values.format as DatasetFormat)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`, usage);
      spec.format = values.format as DatasetFormat;
      spec.formatDescription = `${spec.format} (as --format says)`;
    } else {
      const sniffed = await sniffFormat(spec.path);
      spec.format = sniffed.format;
      spec.formatDescription = sniffed.description;
      if (sniffed.header !== undefined) spec.header = sniffed.header;
      if (sniffed.quote !== undefined) spec.quote = sniffed.quote;
      if (sniffed.header === false && typeof values.columns !== 'string') {
        const n = sniffed.firstRow?.length ?? 0;
        if (n < roles.length) {
          throw new DataError(spec.path, `the first row has ${n} field(s) and no header, but ${kind} needs ${roles.length} columns (${roles.join(', ')}) [read as ${sniffed.description}]; add a header row naming them, or pass --format and --columns`, { line: 1 });
        }
        spec.columns = Object.fromEntries(roles.map((r, i) => [r, String(i)]));
      }
    }
    if (typeof values.columns === 'string') {
      const names = values.columns.split(',').map((s) => s.trim());
      if (names.length !== roles.length) throw new UsageError(`--columns takes ${roles.length} names (${roles.join(',')}), got ${names.length}`, usage);
      spec.columns = Object.fromEntries(roles.map((r, i) => [r, names[i]]));
    }
  }
  const t0 = performance.now();
  const modelSpec = modelOption(values);
  const model = await SentenceTransformer.load(resolveModelSpec(modelSpec));
  let built: BuiltEvaluator;
  let metrics: Record<string, number>;
  try {
    built = await buildEvaluator(spec, 'evaluate');
    const encoder = progressEncoder(model, `evaluate ${kind}: encoded`);
    metrics = await built.evaluator.evaluate(encoder);
    encoder.done();
  } finally {
    await model.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const input = built.reports.map((r) => inputSummary(r, r.file === spec.path ? spec.formatDescription : undefined));
  const out: Record<string, unknown> = { ...metrics, input };
  if (built.coverage) {
    const c = built.coverage;
    out.qrels = { judgements: c.judgements, unknown_documents: c.unknownDocuments, unknown_queries: c.unknownQueries, queries_without_known_document: c.queriesWithoutKnownDocument };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  for (const r of built.reports) process.stderr.write(readLine(r, r.file === spec.path ? spec.formatDescription : undefined) + '\n');
  for (const w of built.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(formatTable(metrics, { title: `${kind} (${built.rows} ${kind === 'retrieval' ? 'judged queries' : 'rows'})`, primaryMetric: built.evaluator.primaryMetric }) + '\n');
  process.stderr.write(`model ${modelLabel(modelSpec)}; ${secs.toFixed(1)} s, peak memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
}

function inputSummary(r: ReadReport, description: string | undefined): Record<string, unknown> {
  const first = r.badSamples[0];
  return {
    file: r.file, format: description ?? r.format, rows: r.rows, good_rows: r.goodRows, bad_rows: r.badRows,
    first_bad: first ? { [r.unit]: first.line, problem: first.problem } : null,
    notes: r.notes,
  };
}

/** "FILE (read as …): 3 rows, 2 used, 1 bad; first bad: line 3: …" */
function readLine(r: ReadReport, description: string | undefined): string {
  const first = r.badSamples[0];
  return `${r.file} (read as ${description ?? r.format}): ${r.rows} rows read, ${r.goodRows} used, ${r.badRows} bad` +
    (first ? `; first bad ${r.unit} ${first.line}: ${first.problem}` : '') +
    r.notes.map((n) => `\n  note: ${n}`).join('');
}
