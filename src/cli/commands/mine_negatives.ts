// `sentencekit mine-negatives`: reads (anchor, positive) pairs, mines hard negatives with a
// model (mineHardNegatives: exact cosine search, candidates = an optional corpus ∪ the
// positives), writes the rows as JSON lines atomically — {"anchor","positive","negative"}, or
// negative_1 … negative_n (n-tuple), {"anchor","document","label"} (labeled-pair),
// {"anchor","documents","labels"} (labeled-list) — and prints the mining report as one JSON
// object on stdout, with a table of positive and negative scores on stderr.
// Takes the options in usage; defaults follow sentence-transformers' mine_hard_negatives.

import { extname } from 'node:path';
import { loadDataset, type DatasetFormat, type DatasetSpec } from '../../data/index.js';
import { readTexts } from '../../io/text_input.js';
import { openAtomic } from '../../io/atomic.js';
import { assertNotInput } from '../../io/output_guard.js';
import { Progress } from '../../io/progress.js';
import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { modelLabel, modelOption, resolveModelSpec } from '../../models/default_model.js';
import {
  mineHardNegatives,
  miningRecords,
  MINING_OUTPUT_FORMATS,
  type MineOptions,
  type MiningOutputFormat,
  type MiningPair,
  type MiningReport,
  type MiningResult,
  type ScoreSummary,
} from '../../mining/index.js';
import { intOpt, parse, required, UsageError } from '../args.js';
import { formatFromName, parseColumns } from './data.js';

export const usage = `Usage: sentencekit mine-negatives [--model DIR] --input pairs.(jsonl|csv|tsv|parquet) --output OUT.jsonl
         [--format csv|tsv|jsonl|parquet] [--columns anchor=FIELD,positive=FIELD]
         [--corpus corpus.(jsonl|txt) [--corpus-field text]]
         [--num-negatives 3] [--range-min 0] [--range-max N] [--margin X] [--relative-margin X]
         [--max-score X] [--min-score X] [--sampling top|random] [--seed 42]
         [--format-out triplet|n-tuple|labeled-pair|labeled-list] [--output-scores] [--include-positives]
         [--batch-size 32] [--query-prompt TEXT] [--corpus-prompt TEXT] [--threads N]

Pairs: the first two text columns are anchor and positive (or map them with --columns).
Candidates: the --corpus texts (JSON lines: the --corpus-field field; other files: one text a
line) and every positive. Ranks count candidates other than the query's positives: ranks below
--range-min are skipped, ranks from --range-max on are not looked at (default, as
sentence-transformers: range-min + num-negatives × 10 + most positives of a query when a margin
or --max-score is set, else range-min + num-negatives + most positives). A candidate is dropped
when score > positive − margin, > positive − |positive| × relative-margin, > max-score or < min-score.
Writes JSON lines to OUT.jsonl and prints the report as JSON on stdout.`;

const PAIR_FORMATS: readonly DatasetFormat[] = ['csv', 'tsv', 'jsonl', 'parquet'];

function floatOpt(values: Record<string, string | boolean | undefined>, name: string): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(v)}"`, usage);
  return n;
}

function fmt(x: number | null, digits = 4): string {
  return x === null ? '-' : x.toFixed(digits);
}

function scoreTable(r: MiningReport): string {
  const rows: [string, (s: ScoreSummary) => string][] = [
    ['count', (s) => String(s.count)],
    ['mean', (s) => fmt(s.mean)],
    ['median', (s) => fmt(s.median)],
    ['std', (s) => fmt(s.std)],
    ['min', (s) => fmt(s.min)],
    ['25%', (s) => fmt(s.p25)],
    ['75%', (s) => fmt(s.p75)],
    ['max', (s) => fmt(s.max)],
  ];
  const { positive, negative, difference } = r.scores;
  const lines = [`${'metric'.padEnd(8)}${'positive'.padStart(12)}${'negative'.padStart(12)}${'difference'.padStart(12)}`];
  for (const [name, f] of rows) lines.push(`${name.padEnd(8)}${f(positive).padStart(12)}${f(negative).padStart(12)}${f(difference).padStart(12)}`);
  const skipped = Object.entries(r.skipped).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  if (skipped.length) lines.push(`candidates skipped: ${skipped.join(', ')}`);
  return lines.join('\n');
}

export async function mineNegatives(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    model: { type: 'string' }, input: { type: 'string' }, format: { type: 'string' }, columns: { type: 'string' },
    corpus: { type: 'string' }, 'corpus-field': { type: 'string', default: 'text' }, output: { type: 'string' },
    'num-negatives': { type: 'string' }, 'range-min': { type: 'string' }, 'range-max': { type: 'string' },
    margin: { type: 'string' }, 'relative-margin': { type: 'string' }, 'max-score': { type: 'string' }, 'min-score': { type: 'string' },
    sampling: { type: 'string', default: 'top' }, seed: { type: 'string' }, 'format-out': { type: 'string', default: 'triplet' },
    'output-scores': { type: 'boolean', default: false }, 'include-positives': { type: 'boolean', default: false },
    'batch-size': { type: 'string' }, 'query-prompt': { type: 'string' }, 'corpus-prompt': { type: 'string' }, threads: { type: 'string' },
    help: { type: 'boolean' },
  }, usage);
  if (positionals.length > 0) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')}`, usage);
  const modelSpec = modelOption(values);
  const modelDir = resolveModelSpec(modelSpec);
  const input = required(values, 'input', usage);
  const output = required(values, 'output', usage);
  if (extname(output).toLowerCase() !== '.jsonl') throw new UsageError(`--output must end in .jsonl, got "${output}"`, usage);
  assertNotInput(output, { '--input': input, '--corpus': typeof values.corpus === 'string' ? values.corpus : undefined });
  let format: DatasetFormat;
  if (typeof values.format === 'string') {
    if (!PAIR_FORMATS.includes(values.format as DatasetFormat)) throw new UsageError(`--format must be one of ${PAIR_FORMATS.join(', ')}, got "${values.format}"`, usage);
    format = values.format as DatasetFormat;
  } else {
    const guess = formatFromName(input);
    if (!guess || !PAIR_FORMATS.includes(guess)) throw new UsageError(`cannot tell the format of ${input} from its name; pass --format (${PAIR_FORMATS.join(', ')})`, usage);
    format = guess;
  }
  const sampling = String(values.sampling);
  if (sampling !== 'top' && sampling !== 'random') throw new UsageError(`--sampling must be top or random, got "${sampling}"`, usage);
  const formatOut = String(values['format-out']) as MiningOutputFormat;
  if (!MINING_OUTPUT_FORMATS.includes(formatOut)) throw new UsageError(`--format-out must be one of ${MINING_OUTPUT_FORMATS.join(', ')}, got "${formatOut}"`, usage);
  const seedText = values.seed;
  const seed = seedText === undefined ? 42 : Number(seedText);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${String(seedText)}"`, usage);
  const opts: MineOptions = {
    numNegatives: intOpt(values, 'num-negatives', 3, usage),
    rangeMin: intOpt(values, 'range-min', 0, usage, 0),
    rangeMax: intOpt(values, 'range-max', undefined, usage),
    margin: floatOpt(values, 'margin'),
    relativeMargin: floatOpt(values, 'relative-margin'),
    maxScore: floatOpt(values, 'max-score'),
    minScore: floatOpt(values, 'min-score'),
    samplingStrategy: sampling,
    outputFormat: formatOut,
    outputScores: Boolean(values['output-scores']),
    includePositives: Boolean(values['include-positives']),
    seed,
    batchSize: intOpt(values, 'batch-size', 32, usage),
    queryPrompt: typeof values['query-prompt'] === 'string' ? values['query-prompt'] : undefined,
    corpusPrompt: typeof values['corpus-prompt'] === 'string' ? values['corpus-prompt'] : undefined,
  };
  const numNegatives = opts.numNegatives!;
  if (opts.rangeMax !== undefined && opts.rangeMin! >= opts.rangeMax) {
    throw new UsageError(`--range-min ${opts.rangeMin} must be below --range-max ${opts.rangeMax}`, usage);
  }
  if (opts.rangeMax !== undefined && numNegatives > opts.rangeMax - opts.rangeMin!) {
    throw new UsageError(`--num-negatives ${numNegatives} does not fit ranks ${opts.rangeMin} to ${opts.rangeMax - 1}; lower it or widen --range-min/--range-max`, usage);
  }

  // pairs: the first two text columns
  const spec: DatasetSpec = { path: input, format, labelKind: 'none' };
  if (typeof values.columns === 'string') spec.columns = parseColumns(values.columns, usage);
  const ds = await loadDataset(spec);
  if (ds.examples.length === 0) throw new Error(`${input}: no pairs to mine; the file has no usable rows`);
  if (ds.columns.length < 2) {
    throw new Error(`${input}: mining needs two text columns (anchor, positive), the file gives ${ds.columns.length} (${ds.columns.join(', ')}); map them with --columns anchor=FIELD,positive=FIELD`);
  }
  const pairs: MiningPair[] = ds.examples.map((e) => ({ query: e.texts[0], positive: e.texts[1] }));
  const messages: string[] = [];
  if (ds.columns.length > 2) messages.push(`pairs: anchor = ${ds.columns[0]}, positive = ${ds.columns[1]}; ignored ${ds.columns.slice(2).join(', ')}`);
  if (ds.report.badRows > 0) messages.push(`${input}: ${ds.report.badRows} bad row(s) skipped; first at line ${ds.report.badSamples[0]?.line}: ${ds.report.badSamples[0]?.problem}`);

  if (typeof values.corpus === 'string') {
    const corpus: string[] = [];
    for await (const batch of readTexts(values.corpus, { field: String(values['corpus-field']) })) corpus.push(...batch.texts);
    opts.corpus = corpus;
  }

  const model = await SentenceTransformer.load(modelDir, { threads: intOpt(values, 'threads', undefined, usage) });
  const progress = new Progress({ label: 'mine', unit: 'texts' });
  let last = 0;
  opts.onProgress = (done, total) => {
    progress.tick(done - last, `of ${total}`);
    last = done;
  };
  const t0 = performance.now();
  let result: MiningResult;
  try {
    result = await mineHardNegatives(model, pairs, opts);
  } finally {
    await model.close();
  }
  progress.done();

  const file = await openAtomic(output);
  try {
    let buf = '';
    for (const rec of miningRecords(result)) {
      buf += JSON.stringify(rec) + '\n';
      if (buf.length >= 1 << 20) {
        await file.write(buf);
        buf = '';
      }
    }
    if (buf.length > 0) await file.write(buf);
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
  const secs = (performance.now() - t0) / 1000;
  const r = result.report;
  process.stdout.write(JSON.stringify({ model: modelLabel(modelSpec), ...r, output, seconds: Number(secs.toFixed(2)) }) + '\n');
  const lines = [
    ...messages,
    scoreTable(r),
    `mined ${r.negatives} negatives for ${r.queries} queries (${r.uniquePairs} pairs, ${r.candidates} candidates, ranks ${r.rangeMin}–${r.rangeMax - 1}) → ${r.rows} ${r.outputFormat} rows in ${output}, ${secs.toFixed(1)} s`,
    ...r.notes,
  ];
  if (r.pairsWithoutRow > 0) lines.push(`${r.pairsWithoutRow} pair(s) gave no row (${r.outputFormat === 'n-tuple' ? `fewer than ${numNegatives} negatives` : 'no negative'})`);
  process.stderr.write(lines.join('\n') + '\n');
}
