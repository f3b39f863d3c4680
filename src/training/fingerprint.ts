// What makes a resume valid: a flat record of the settings that decide which batches a run
// sees and what each step computes — batch size, gradient accumulation, seed, shuffling and
// sampler, max sequence length, dropout, frozen/sparse embeddings, multi-dataset sampling, each
// dataset's rows and content hash (sha256 over its texts and labels) and each loss with its
// options. It is stored in every checkpoint's trainer_state.json; `--resume` compares it with
// the new run's and names every difference. Settings that only extend or reshape the schedule
// (epochs, maxSteps, learning rate, evaluation and saving) are not part of it.

import { createHash } from 'node:crypto';
import type { Loss } from '../losses/loss.js';
import type { TrainingArgs } from './args.js';

export type Fingerprint = Record<string, string | number | boolean | null>;

/** The args keys compared on resume. */
export const RESUME_ARGS = ['batchSize', 'gradientAccumulationSteps', 'seed', 'shuffle', 'batchSampler', 'maxSeqLength', 'dropout', 'freezeWordEmbeddings', 'sparseEmbeddings'] as const;

export interface FingerprintDataset {
  name: string;
  /** The file it came from, shown in messages (not compared: a moved file is the same data). */
  source?: string;
  texts: string[][];
  labels: (number | number[] | undefined)[];
  loss: Loss;
}

/** sha256 over the examples, one JSON line [texts, label] each. */
export function datasetHash(texts: string[][], labels: (number | number[] | undefined)[]): string {
  const h = createHash('sha256');
  for (let i = 0; i < texts.length; i++) h.update(JSON.stringify([texts[i], labels[i] ?? null]) + '\n');
  return h.digest('hex');
}

export function runFingerprint(args: TrainingArgs, datasets: FingerprintDataset[], multiDatasetSampling: string): Fingerprint {
  const f: Fingerprint = {};
  for (const k of RESUME_ARGS) f[`args.${k}`] = args[k] as string | number | boolean | null;
  if (datasets.length > 1) f.multiDatasetSampling = multiDatasetSampling;
  for (const d of datasets) {
    const key = `data.${d.name}`;
    f[`${key}.rows`] = d.texts.length;
    f[`${key}.sha256`] = datasetHash(d.texts, d.labels);
    f[`${key}.loss`] = `${d.loss.name} ${JSON.stringify(typeof d.loss.config === "function" ? d.loss.config() : {})}`;
    if (d.source) f[`${key}.file`] = d.source;
  }
  return f;
}

function show(v: unknown): string {
  if (v === undefined) return 'absent';
  if (typeof v === 'string') return /^[0-9a-f]{64}$/.test(v) ? `sha256 ${v.slice(0, 12)}…` : v;
  return JSON.stringify(v);
}

/**
 * Every difference between a checkpoint's fingerprint and the new run's, as
 * "KEY: VALUE in the checkpoint, VALUE now" (file names are shown with the data, not compared).
 */
export function fingerprintDifferences(saved: Fingerprint, now: Fingerprint): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])].filter((k) => !k.endsWith('.file'));
  const out: string[] = [];
  for (const k of keys) {
    if (JSON.stringify(saved[k]) === JSON.stringify(now[k])) continue;
    const data = /^data\.(.*)\.(rows|sha256|loss)$/.exec(k);
    const file = data ? (now[`data.${data[1]}.file`] ?? saved[`data.${data[1]}.file`]) : undefined;
    const label = !data ? k : data[2] === 'loss' ? `loss of dataset ${data[1]}` : `training data of dataset ${data[1]}${file ? ` (${String(file)})` : ''}, ${data[2] === 'rows' ? 'rows' : 'content'}`;
    out.push(`${label}: ${show(saved[k])} in the checkpoint, ${show(now[k])} now`);
  }
  return out;
}
