// Builds an evaluator from a data file description, as `train` (its "eval" section) and
// `evaluate` take it: sts (pairs + scores), binary (pairs + 0/1 labels), triplet (anchor,
// positive, negative) and retrieval (a BEIR corpus, queries and qrels).

import { join } from 'node:path';
import { loadDataset, type DatasetFormat, type DatasetOptions, type DatasetSpec } from '../data/dataset.js';
import { DataError, type ReadReport } from '../data/report.js';
import { loadBeir } from '../data/beir.js';
import {
  BinaryClassificationEvaluator, describeQrelsCoverage, EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator, TripletEvaluator,
  type QrelsCoverage, type SentenceEvaluator,
} from '../evaluation/index.js';
import { ConfigError } from '../training/args.js';
import { EVALUATORS, type EvalSpec, type EvaluatorKind } from '../evaluation/spec.js';

export { EVALUATORS, TRAIN_EVALUATORS, type EvalSpec, type EvaluatorKind } from '../evaluation/spec.js';

/** What was read to build an evaluator: each file's report, and warnings worth printing. */
export interface BuiltEvaluator {
  evaluator: SentenceEvaluator;
  rows: number;
  reports: ReadReport[];
  warnings: string[];
  /** Retrieval only: how the qrels match the corpus and the queries. */
  coverage?: QrelsCoverage;
}

/** Adds how the file was read to a data error, so the message names the format used. */
function withFormat<T>(p: Promise<T>, desc: string | undefined): Promise<T> {
  if (!desc) return p;
  return p.catch((e: unknown) => {
    if (e instanceof DataError) e.message += ` [read as ${desc}; pass --format to read it otherwise]`;
    throw e;
  });
}

const DEFAULT_FORMAT: Record<EvaluatorKind, DatasetFormat | null> = { sts: 'stsb', binary: 'csv', triplet: 'csv', retrieval: null };

export async function buildEvaluator(spec: EvalSpec, where = 'eval'): Promise<BuiltEvaluator> {
  if (!EVALUATORS.includes(spec.evaluator)) throw new ConfigError(`${where}.evaluator: must be one of ${EVALUATORS.join(', ')}, got ${JSON.stringify(spec.evaluator)}`);
  const name = spec.name ?? '';
  // evaluation data: the whole file's bad-row rate counts however short the file is (1 bad row in 3 fails)
  const policy: DatasetOptions = { maxBadRowRate: spec.maxBadRowRate, maxBadRows: spec.maxBadRows, minRowsAtEnd: 1 };
  if (spec.evaluator === 'retrieval') {
    let corpus = spec.corpus;
    let queries = spec.queries;
    let qrels = spec.qrels;
    if (spec.dir) {
      corpus ??= join(spec.dir, 'corpus.jsonl');
      queries ??= join(spec.dir, 'queries.jsonl');
      qrels ??= join(spec.dir, 'qrels', 'test.tsv');
    }
    if (!corpus || !queries || !qrels) throw new ConfigError(`${where}: retrieval needs "corpus", "queries" and "qrels" (or "dir", a BEIR folder)`);
    const set = await loadBeirFiles(corpus, queries, qrels, policy);
    // as sentence-transformers: mrr and ndcg at k (10), map at 100 whatever k is
    const ks = spec.k ? [...new Set([1, 3, 5, spec.k])].sort((a, b) => a - b) : undefined;
    const evaluator = new InformationRetrievalEvaluator(set.queries, set.corpus, set.qrels, {
      name, batchSize: spec.batchSize,
      ...(ks ? { accuracyAtK: ks, precisionRecallAtK: ks, mrrAtK: [spec.k!], ndcgAtK: [spec.k!] } : {}),
    });
    const warning = describeQrelsCoverage(evaluator.coverage);
    return { evaluator, rows: evaluator.queryIds.length, reports: set.reports, warnings: warning ? [`${qrels}: ${warning}`] : [], coverage: evaluator.coverage };
  }
  if (!spec.path) throw new ConfigError(`${where}.path: the ${spec.evaluator} evaluator needs a data file`);
  const ds: DatasetSpec = { path: spec.path, format: spec.format ?? (DEFAULT_FORMAT[spec.evaluator] as DatasetFormat), columns: spec.columns };
  if (spec.scoreScale !== undefined) ds.scoreScale = spec.scoreScale;
  if (spec.labelMap !== undefined) ds.labelMap = spec.labelMap;
  if (spec.header !== undefined) ds.header = spec.header;
  if (spec.quote !== undefined) ds.quote = spec.quote;
  if (spec.evaluator === 'binary') ds.labelKind = 'class';
  const data = await withFormat(loadDataset(ds, policy), spec.formatDescription);
  const ex = data.examples;
  const need = spec.evaluator === 'triplet' ? 3 : 2;
  const read = spec.formatDescription ? ` (read as ${spec.formatDescription})` : ` (format ${ds.format})`;
  if (ex.length === 0) throw new ConfigError(`${spec.path}: no usable rows for the ${spec.evaluator} evaluator${read}`);
  if (ex[0].texts.length < need) throw new ConfigError(`${spec.path}: the ${spec.evaluator} evaluator needs ${need} text columns, the data has ${ex[0].texts.length} (${data.columns.join(', ')})${read}; map them with "columns"`);
  const col = (i: number): string[] => ex.map((e) => e.texts[i]);
  const out = { rows: ex.length, reports: [data.report], warnings: [] as string[] };
  if (spec.evaluator === 'triplet') return { evaluator: new TripletEvaluator(col(0), col(1), col(2), { name, batchSize: spec.batchSize }), ...out };
  const labels = ex.map((e, i) => {
    if (typeof e.label !== 'number') throw new ConfigError(`${spec.path}: row ${i + 1} has no ${spec.evaluator === 'sts' ? 'score' : 'label'}${read}; map it with "columns"`);
    return e.label;
  });
  if (spec.evaluator === 'binary') return { evaluator: new BinaryClassificationEvaluator(col(0), col(1), labels, { name, batchSize: spec.batchSize }), ...out };
  return { evaluator: new EmbeddingSimilarityEvaluator(col(0), col(1), labels, { name, batchSize: spec.batchSize }), ...out };
}

async function loadBeirFiles(corpus: string, queries: string, qrels: string, policy: DatasetOptions): Promise<{
  corpus: Map<string, string>; queries: Map<string, string>; qrels: Map<string, Map<string, number>>; reports: ReadReport[];
}> {
  const c = await loadDataset({ path: corpus, format: 'beir-corpus' }, policy);
  const q = await loadDataset({ path: queries, format: 'beir-queries' }, policy);
  const r = await loadDataset({ path: qrels, format: 'beir-qrels' }, policy);
  const rel = new Map<string, Map<string, number>>();
  for (const e of r.examples) {
    const [qid, did] = e.texts;
    let m = rel.get(qid);
    if (!m) rel.set(qid, (m = new Map()));
    m.set(did, Number(e.label));
  }
  return {
    corpus: new Map(c.examples.map((e) => [e.id ?? '', e.texts[0]])),
    queries: new Map(q.examples.map((e) => [e.id ?? '', e.texts[0]])),
    qrels: rel,
    reports: [c.report, q.report, r.report],
  };
}
