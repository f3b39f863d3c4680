// `sentencekit evaluate sts|binary|triplet|retrieval`: runs one evaluator on a model and prints
// one JSON object of metrics on stdout (names as sentence-transformers spells them) and a
// readable table on stderr, with the time and peak memory.

import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { modelLabel, modelOption, resolveModelSpec } from '../../models/default_model.js';
import { formatTable } from '../../evaluation/format.js';
import { buildEvaluator, EVALUATORS, type EvalSpec, type EvaluatorKind } from '../evaluator_spec.js';
import type { DatasetFormat } from '../../data/dataset.js';
import { intOpt, parse, required, UsageError } from '../args.js';

export const usage = `Usage: sentencekit evaluate sts       [--model DIR] --data FILE [--format stsb|csv|tsv|jsonl|parquet] [--columns s1,s2,score]
       sentencekit evaluate binary    [--model DIR] --data FILE [--format …] [--columns s1,s2,label]
       sentencekit evaluate triplets  [--model DIR] --data FILE [--format …] [--columns anchor,positive,negative]
       sentencekit evaluate retrieval [--model DIR] --corpus corpus.jsonl --queries queries.jsonl --qrels qrels.tsv [--k 10]
Options: --batch-size N, --name NAME (prefix of the metric names).
Prints the metrics as one JSON object on stdout and a table on stderr.`;

const ROLES: Record<string, string[]> = { sts: ['sentence1', 'sentence2', 'score'], binary: ['sentence1', 'sentence2', 'label'], triplet: ['anchor', 'positive', 'negative'] };

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
    'batch-size': { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean' },
  }, usage);
  const spec: EvalSpec = { evaluator: kind, batchSize: intOpt(values, 'batch-size', undefined, usage), name: typeof values.name === 'string' ? values.name : undefined };
  if (kind === 'retrieval') {
    spec.corpus = required(values, 'corpus', usage);
    spec.queries = required(values, 'queries', usage);
    spec.qrels = required(values, 'qrels', usage);
    spec.k = intOpt(values, 'k', 10, usage);
  } else {
    spec.path = required(values, 'data', usage);
    if (typeof values.format === 'string') spec.format = values.format as DatasetFormat;
    else if (/\.jsonl$/i.test(spec.path)) spec.format = 'jsonl';
    else if (/\.tsv$/i.test(spec.path)) spec.format = 'tsv';
    else if (/\.parquet$/i.test(spec.path)) spec.format = 'parquet';
    else if (kind !== 'sts' || !/sts-.*\.csv$/i.test(spec.path)) spec.format = spec.format ?? (kind === 'sts' ? 'stsb' : 'csv');
    if (typeof values.columns === 'string') {
      const names = values.columns.split(',').map((s) => s.trim());
      const roles = ROLES[kind];
      if (names.length !== roles.length) throw new UsageError(`--columns takes ${roles.length} names (${roles.join(',')}), got ${names.length}`, usage);
      spec.columns = Object.fromEntries(roles.map((r, i) => [r, names[i]]));
    }
  }
  const t0 = performance.now();
  const modelSpec = modelOption(values);
  const model = await SentenceTransformer.load(resolveModelSpec(modelSpec));
  const { evaluator, rows } = await buildEvaluator(spec, 'evaluate');
  const metrics = await evaluator.evaluate(model);
  await model.close();
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(metrics) + '\n');
  process.stderr.write(formatTable(metrics, { title: `${kind} (${rows} ${kind === 'retrieval' ? 'judged queries' : 'rows'})`, primaryMetric: evaluator.primaryMetric }) + '\n');
  process.stderr.write(`model ${modelLabel(modelSpec)}; ${secs.toFixed(1)} s, peak memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
}
