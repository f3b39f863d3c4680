// Builds an evaluator from a data file description, as `train` (its "eval" section) and
// `evaluate` take it: sts (pairs + scores), binary (pairs + 0/1 labels), triplet (anchor,
// positive, negative) and retrieval (a BEIR corpus, queries and qrels).

import { dirname, join } from 'node:path';
import { loadDataset, type DatasetFormat, type DatasetSpec } from '../data/dataset.js';
import { loadBeir } from '../data/beir.js';
import { BinaryClassificationEvaluator, EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator, TripletEvaluator, type SentenceEvaluator } from '../evaluation/index.js';
import { ConfigError } from '../training/args.js';

export const EVALUATORS = ['sts', 'binary', 'triplet', 'retrieval'] as const;
/** In a training configuration, "loss" also evaluates the training loss on the eval data. */
export const TRAIN_EVALUATORS = [...EVALUATORS, 'loss'] as const;
export type EvaluatorKind = (typeof EVALUATORS)[number];

export interface EvalSpec {
  evaluator: EvaluatorKind;
  path?: string;
  format?: DatasetFormat;
  columns?: Record<string, string>;
  /** retrieval: a BEIR folder, or the three files. */
  dir?: string;
  corpus?: string;
  queries?: string;
  qrels?: string;
  k?: number;
  name?: string;
  batchSize?: number;
  scoreScale?: number;
}

const DEFAULT_FORMAT: Record<EvaluatorKind, DatasetFormat | null> = { sts: 'stsb', binary: 'csv', triplet: 'csv', retrieval: null };

export async function buildEvaluator(spec: EvalSpec, where = 'eval'): Promise<{ evaluator: SentenceEvaluator; rows: number }> {
  if (!EVALUATORS.includes(spec.evaluator)) throw new ConfigError(`${where}.evaluator: must be one of ${EVALUATORS.join(', ')}, got ${JSON.stringify(spec.evaluator)}`);
  const name = spec.name ?? '';
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
    const set = await loadBeirFiles(corpus, queries, qrels);
    const ks = spec.k ? [...new Set([1, 3, 5, spec.k])].sort((a, b) => a - b) : undefined;
    const evaluator = new InformationRetrievalEvaluator(set.queries, set.corpus, set.qrels, {
      name, batchSize: spec.batchSize,
      ...(ks ? { accuracyAtK: ks, precisionRecallAtK: ks, mrrAtK: [spec.k!], ndcgAtK: [spec.k!], mapAtK: [spec.k!] } : {}),
    });
    return { evaluator, rows: set.qrels.size };
  }
  if (!spec.path) throw new ConfigError(`${where}.path: the ${spec.evaluator} evaluator needs a data file`);
  const ds: DatasetSpec = { path: spec.path, format: spec.format ?? (DEFAULT_FORMAT[spec.evaluator] as DatasetFormat), columns: spec.columns };
  if (spec.scoreScale !== undefined) ds.scoreScale = spec.scoreScale;
  if (spec.evaluator === 'binary') ds.labelKind = 'class';
  const data = await loadDataset(ds);
  const ex = data.examples;
  const need = spec.evaluator === 'triplet' ? 3 : 2;
  if (ex.length === 0) throw new ConfigError(`${spec.path}: no usable rows for the ${spec.evaluator} evaluator`);
  if (ex[0].texts.length < need) throw new ConfigError(`${spec.path}: the ${spec.evaluator} evaluator needs ${need} text columns, the data has ${ex[0].texts.length} (${data.columns.join(', ')}); map them with "columns"`);
  const col = (i: number): string[] => ex.map((e) => e.texts[i]);
  if (spec.evaluator === 'triplet') return { evaluator: new TripletEvaluator(col(0), col(1), col(2), { name, batchSize: spec.batchSize }), rows: ex.length };
  const labels = ex.map((e, i) => {
    if (typeof e.label !== 'number') throw new ConfigError(`${spec.path}: row ${i + 1} has no ${spec.evaluator === 'sts' ? 'score' : 'label'}; map it with "columns"`);
    return e.label;
  });
  if (spec.evaluator === 'binary') return { evaluator: new BinaryClassificationEvaluator(col(0), col(1), labels, { name, batchSize: spec.batchSize }), rows: ex.length };
  return { evaluator: new EmbeddingSimilarityEvaluator(col(0), col(1), labels, { name, batchSize: spec.batchSize }), rows: ex.length };
}

async function loadBeirFiles(corpus: string, queries: string, qrels: string): Promise<{ corpus: Map<string, string>; queries: Map<string, string>; qrels: Map<string, Map<string, number>> }> {
  const dir = dirname(corpus);
  if (join(dir, 'corpus.jsonl') === corpus && join(dir, 'queries.jsonl') === queries && join(dir, 'qrels', 'test.tsv') === qrels) {
    const s = await loadBeir(dir);
    return { corpus: s.corpus, queries: s.queries, qrels: s.qrels };
  }
  const c = await loadDataset({ path: corpus, format: 'beir-corpus' });
  const q = await loadDataset({ path: queries, format: 'beir-queries' });
  const r = await loadDataset({ path: qrels, format: 'beir-qrels' });
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
  };
}
