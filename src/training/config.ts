// The training configuration file (`sentencekit train --config FILE.json`): parsed and checked
// completely before any work starts, each problem naming its key and the allowed values.
// Relative paths are resolved against the file's folder.
//   { "model": "DIR or hub id" | { "create": { "tokenizer": DIR, "hidden": 384, … } },
//     "train": { "path", "format", "columns", … } | [ { "name", "path", … }, … ],
//     "eval":  { "path", "format", "evaluator": "sts" | "binary" | "triplet" | "retrieval", … },
//     "loss":  { "name": "CoSENTLoss", … } | { "<dataset name>": { "name": … }, … },
//     "args":  { "epochs", "batchSize", "learningRate", … },
//     "output": DIR, "overwrite": false, "multiDatasetSampling": "round_robin" | "proportional" }

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DatasetFormat, DatasetSpec } from '../data/dataset.js';
import { architectureNames } from '../models/architectures/registry.js';
import { Pooling, type PoolingMode } from '../models/pooling.js';
import type { CreateOptions } from '../models/sentence_transformer.js';
import { ConfigError, resolveArgs, type TrainingArgs } from './args.js';
import { TRAIN_EVALUATORS, type EvalSpec } from '../evaluation/spec.js';

const FORMATS: readonly DatasetFormat[] = ['stsb', 'nli', 'mrpc', 'csv', 'tsv', 'jsonl', 'parquet', 'beir-corpus', 'beir-queries', 'beir-qrels'];
const TOP_KEYS = ['model', 'train', 'eval', 'loss', 'args', 'output', 'overwrite', 'multiDatasetSampling', 'baseModel'];
const TRAIN_KEYS = ['name', 'path', 'format', 'columns', 'labelKind', 'scoreScale', 'header', 'limit', 'labelMap', 'maxBadRowRate', 'maxBadRows'];
const EVAL_KEYS = ['evaluator', 'path', 'format', 'columns', 'dir', 'corpus', 'queries', 'qrels', 'k', 'name', 'batchSize', 'scoreScale', 'header', 'labelMap', 'maxBadRowRate', 'maxBadRows'];
const CREATE_KEYS = ['tokenizer', 'arch', 'hidden', 'layers', 'heads', 'intermediate', 'pooling', 'seed', 'maxSeqLength', 'normalize', 'dense'];

export interface TrainConfig {
  /** A model folder or hub id, or what SentenceTransformer.create takes (the file's "tokenizer" is tokenizerDir). */
  model: string | { create: CreateOptions };
  train: (DatasetSpec & { name?: string; limit?: number; maxBadRowRate?: number; maxBadRows?: number })[];
  eval: EvalSpec | null;
  loss: Record<string, unknown> | Record<string, Record<string, unknown>>;
  lossPerDataset: boolean;
  args: TrainingArgs;
  output: string;
  /** A fresh run may replace an earlier run in `output` (as --overwrite). */
  overwrite: boolean;
  multiDatasetSampling: 'round_robin' | 'proportional';
  baseModel: string | null;
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where}: must be an object, got ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError(`${where}.${k}: unknown key (allowed: ${allowed.join(', ')})`);
}

/** labelMap, maxBadRowRate, maxBadRows, scoreScale and header of a train or eval section. */
function checkDataKeys(o: Record<string, unknown>, where: string): void {
  if (o.labelMap !== undefined) {
    const m = obj(o.labelMap, `${where}.labelMap`);
    if (Object.keys(m).length === 0) throw new ConfigError(`${where}.labelMap: give at least one class name → integer, e.g. {"entailment": 0, "neutral": 1, "contradiction": 2}`);
    const seen = new Map<number, string>();
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`${where}.labelMap.${k}: must be a non-negative integer (the class number), got ${JSON.stringify(v)}`);
      if (seen.has(v)) throw new ConfigError(`${where}.labelMap: "${seen.get(v)}" and "${k}" are both ${v}; give each class its own number`);
      seen.set(v, k);
    }
  }
  if (o.maxBadRowRate !== undefined && (typeof o.maxBadRowRate !== 'number' || !(o.maxBadRowRate >= 0 && o.maxBadRowRate <= 1))) {
    throw new ConfigError(`${where}.maxBadRowRate: must be a number from 0 to 1 (the largest share of bad rows allowed, e.g. 0.05), got ${JSON.stringify(o.maxBadRowRate)}`);
  }
  if (o.maxBadRows !== undefined && (typeof o.maxBadRows !== 'number' || !Number.isInteger(o.maxBadRows) || o.maxBadRows < 0)) {
    throw new ConfigError(`${where}.maxBadRows: must be a non-negative integer (the largest number of bad rows allowed), got ${JSON.stringify(o.maxBadRows)}`);
  }
  if (o.scoreScale !== undefined && (typeof o.scoreScale !== 'number' || !(Number.isFinite(o.scoreScale) && o.scoreScale > 0))) {
    throw new ConfigError(`${where}.scoreScale: must be a positive number (scores are divided by it; 5 turns STS-B's 0–5 into 0–1), got ${JSON.stringify(o.scoreScale)}`);
  }
  if (o.header !== undefined && typeof o.header !== 'boolean') throw new ConfigError(`${where}.header: must be true or false, got ${JSON.stringify(o.header)}`);
}

function str(o: Record<string, unknown>, k: string, where: string, required = true): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) {
    if (required) throw new ConfigError(`${where}.${k}: required`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${where}.${k}: must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

export function parseTrainConfig(raw: unknown, file: string): TrainConfig {
  const base = dirname(resolve(file));
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const c = obj(raw, file);
  onlyKeys(c, TOP_KEYS, 'config');
  // model
  let model: TrainConfig['model'];
  if (typeof c.model === 'string') {
    const local = path(c.model);
    model = existsSync(local) || c.model.startsWith('.') || c.model.startsWith('/') ? local : c.model;
  } else {
    const m = obj(c.model, 'model');
    onlyKeys(m, ['create'], 'model');
    const cr = obj(m.create, 'model.create');
    onlyKeys(cr, CREATE_KEYS, 'model.create');
    for (const k of ['hidden', 'layers', 'heads', 'intermediate']) {
      if (typeof cr[k] !== 'number' || !Number.isInteger(cr[k]) || (cr[k] as number) < (k === 'layers' ? 0 : 1)) throw new ConfigError(`model.create.${k}: must be a positive integer, got ${JSON.stringify(cr[k])}`);
    }
    const { tokenizer: _t, pooling, ...sizes } = cr;
    let modes: PoolingMode | undefined;
    if (pooling !== undefined) {
      try {
        modes = Pooling.parseMode(String(pooling));
      } catch (e) {
        throw new ConfigError(`model.create.pooling: ${(e as Error).message}`);
      }
    }
    if (cr.arch !== undefined && typeof cr.arch !== 'string') throw new ConfigError(`model.create.arch: must be a string (${architectureNames().join(', ')}), got ${JSON.stringify(cr.arch)}`);
    if (typeof cr.arch === 'string' && !architectureNames().includes(cr.arch)) throw new ConfigError(`model.create.arch: "${cr.arch}" is not one of ${architectureNames().join(', ')}`);
    model = { create: { ...(sizes as unknown as Omit<CreateOptions, 'tokenizerDir' | 'pooling'>), tokenizerDir: path(str(cr, 'tokenizer', 'model.create')!), pooling: modes } };
  }
  // train datasets
  const trainRaw = Array.isArray(c.train) ? c.train : [c.train];
  if (trainRaw.length === 0 || c.train === undefined) throw new ConfigError('config.train: required (a dataset or a list of datasets)');
  const train = trainRaw.map((t, i) => {
    const where = Array.isArray(c.train) ? `train[${i}]` : 'train';
    const o = obj(t, where);
    onlyKeys(o, TRAIN_KEYS, where);
    const format = str(o, 'format', where) as DatasetFormat;
    if (!FORMATS.includes(format)) throw new ConfigError(`${where}.format: must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    const p = path(str(o, 'path', where)!);
    if (!existsSync(p)) throw new ConfigError(`${where}.path: ${p} does not exist`);
    if (o.columns !== undefined) {
      const cols = obj(o.columns, `${where}.columns`);
      for (const [k, v] of Object.entries(cols)) if (typeof v !== 'string') throw new ConfigError(`${where}.columns.${k}: must be a field name (string), got ${JSON.stringify(v)}`);
    }
    if (o.limit !== undefined && (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1)) throw new ConfigError(`${where}.limit: must be a positive integer`);
    checkDataKeys(o, where);
    return { ...(o as unknown as DatasetSpec), path: p, format, name: (o.name as string | undefined) ?? undefined, limit: o.limit as number | undefined };
  });
  if (train.length > 1 && new Set(train.map((t) => t.name)).size !== train.length) throw new ConfigError('train: with several datasets, give each a distinct "name"');
  // eval
  let evalSpec: EvalSpec | null = null;
  if (c.eval !== undefined && c.eval !== null) {
    const e = obj(c.eval, 'eval');
    onlyKeys(e, EVAL_KEYS, 'eval');
    checkDataKeys(e, 'eval');
    const ev = str(e, 'evaluator', 'eval', false) ?? 'sts';
    if (!(TRAIN_EVALUATORS as readonly string[]).includes(ev)) throw new ConfigError(`eval.evaluator: must be one of ${TRAIN_EVALUATORS.join(', ')}, got ${JSON.stringify(ev)}`);
    if (e.format !== undefined && !FORMATS.includes(e.format as DatasetFormat)) throw new ConfigError(`eval.format: must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(e.format)}`);
    evalSpec = { ...(e as unknown as EvalSpec), evaluator: ev as EvalSpec['evaluator'] };
    for (const k of ['path', 'dir', 'corpus', 'queries', 'qrels'] as const) {
      const v = evalSpec[k];
      if (typeof v === 'string') {
        evalSpec[k] = path(v);
        if (!existsSync(evalSpec[k]!)) throw new ConfigError(`eval.${k}: ${evalSpec[k]} does not exist`);
      }
    }
  }
  // loss
  const loss = obj(c.loss, 'loss');
  const lossPerDataset = typeof loss.name !== 'string';
  if (lossPerDataset) {
    for (const t of train) if (!t.name || !loss[t.name]) throw new ConfigError(`loss: give {"name": …}, or one loss per dataset name (missing: ${t.name ?? 'unnamed dataset'})`);
  }
  const args = resolveArgs(c.args === undefined ? {} : obj(c.args, 'args'), 'args');
  const output = path(str(c, 'output', 'config')!);
  if (c.overwrite !== undefined && typeof c.overwrite !== 'boolean') throw new ConfigError(`config.overwrite: must be true or false, got ${JSON.stringify(c.overwrite)}`);
  const mds = c.multiDatasetSampling ?? 'proportional';
  if (mds !== 'round_robin' && mds !== 'proportional') throw new ConfigError(`config.multiDatasetSampling: must be "round_robin" or "proportional", got ${JSON.stringify(mds)}`);
  return { model, train, eval: evalSpec, loss, lossPerDataset, args, output, overwrite: c.overwrite === true, multiDatasetSampling: mds, baseModel: typeof c.baseModel === 'string' ? c.baseModel : null };
}

export async function readTrainConfig(file: string): Promise<TrainConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseTrainConfig(raw, file);
}
