// Training arguments: defaults as sentence-transformers' SentenceTransformerTrainingArguments
// where they overlap, and validation that names the key and the allowed values before any work.

import { SCHEDULES, type ScheduleName } from './schedule.js';
import type { SamplerName } from './sampler.js';

export interface TrainingArgs {
  epochs: number;
  maxSteps: number | null;
  batchSize: number;
  /** Batches whose gradients are summed (each scaled by 1/k) before one optimizer step. */
  gradientAccumulationSteps: number;
  learningRate: number;
  warmupRatio: number;
  warmupSteps: number;
  scheduler: ScheduleName;
  weightDecay: number;
  maxGradNorm: number | null;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  seed: number;
  shuffle: boolean;
  dropout: boolean;
  maxSeqLength: number | null;
  batchSampler: SamplerName;
  evalSteps: number | null;
  saveSteps: number | null;
  logSteps: number;
  saveTotalLimit: number | null;
  loadBestModelAtEnd: boolean;
  metricForBestModel: string | null;
  greaterIsBetter: boolean | null;
  earlyStoppingPatience: number | null;
  earlyStoppingThreshold: number;
  freezeWordEmbeddings: boolean;
  /** Update only the word-embedding rows each batch uses (lazy AdamW on the table; much faster). */
  sparseEmbeddings: boolean;
  /** What to do with a step whose loss or gradient is NaN/infinite: stop the run, or skip the step. */
  onNonFinite: 'stop' | 'skip';
  threads: number | null;
}

export const DEFAULT_ARGS: TrainingArgs = {
  epochs: 1,
  maxSteps: null,
  batchSize: 16,
  gradientAccumulationSteps: 1,
  learningRate: 2e-5,
  warmupRatio: 0,
  warmupSteps: 0,
  scheduler: 'linear',
  weightDecay: 0,
  maxGradNorm: 1,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  seed: 42,
  shuffle: true,
  dropout: true,
  maxSeqLength: null,
  batchSampler: 'batch_sampler',
  evalSteps: null,
  saveSteps: 500,
  logSteps: 10,
  saveTotalLimit: null,
  loadBestModelAtEnd: false,
  metricForBestModel: null,
  greaterIsBetter: null,
  earlyStoppingPatience: null,
  earlyStoppingThreshold: 0,
  freezeWordEmbeddings: false,
  sparseEmbeddings: false,
  onNonFinite: 'stop',
  threads: null,
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind = 'posint' | 'nonnegint' | 'posnum' | 'nonnegnum' | 'bool' | 'ratio' | 'beta' | 'string';
const KINDS: Record<keyof TrainingArgs, { kind: Kind; nullable?: boolean; values?: readonly string[] }> = {
  epochs: { kind: 'posnum' },
  maxSteps: { kind: 'posint', nullable: true },
  batchSize: { kind: 'posint' },
  gradientAccumulationSteps: { kind: 'posint' },
  learningRate: { kind: 'nonnegnum' },
  warmupRatio: { kind: 'ratio' },
  warmupSteps: { kind: 'nonnegint' },
  scheduler: { kind: 'string', values: SCHEDULES },
  weightDecay: { kind: 'nonnegnum' },
  maxGradNorm: { kind: 'nonnegnum', nullable: true },
  adamBeta1: { kind: 'beta' },
  adamBeta2: { kind: 'beta' },
  adamEpsilon: { kind: 'posnum' },
  seed: { kind: 'nonnegint' },
  shuffle: { kind: 'bool' },
  dropout: { kind: 'bool' },
  maxSeqLength: { kind: 'posint', nullable: true },
  batchSampler: { kind: 'string', values: ['batch_sampler', 'no_duplicates'] },
  evalSteps: { kind: 'posint', nullable: true },
  saveSteps: { kind: 'posint', nullable: true },
  logSteps: { kind: 'posint' },
  saveTotalLimit: { kind: 'posint', nullable: true },
  loadBestModelAtEnd: { kind: 'bool' },
  metricForBestModel: { kind: 'string', nullable: true },
  greaterIsBetter: { kind: 'bool', nullable: true },
  earlyStoppingPatience: { kind: 'posint', nullable: true },
  earlyStoppingThreshold: { kind: 'nonnegnum' },
  freezeWordEmbeddings: { kind: 'bool' },
  sparseEmbeddings: { kind: 'bool' },
  onNonFinite: { kind: 'string', values: ['stop', 'skip'] },
  threads: { kind: 'posint', nullable: true },
};

/** Merges `given` over the defaults, rejecting unknown keys and bad values with a message naming them. */
export function resolveArgs(given: Record<string, unknown> = {}, where = 'args'): TrainingArgs {
  const out: Record<string, unknown> = { ...DEFAULT_ARGS };
  for (const [k, v] of Object.entries(given)) {
    const spec = KINDS[k as keyof TrainingArgs];
    if (!spec) throw new ConfigError(`${where}.${k}: unknown key (allowed: ${Object.keys(KINDS).join(', ')})`);
    if (v === null && spec.nullable) {
      out[k] = null;
      continue;
    }
    const bad = (want: string): never => {
      throw new ConfigError(`${where}.${k}: must be ${want}${spec.nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`);
    };
    switch (spec.kind) {
      case 'posint': if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad('a positive integer'); break;
      case 'nonnegint': if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('an integer ≥ 0'); break;
      case 'posnum': if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad('a number > 0'); break;
      case 'nonnegnum': if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) bad('a number ≥ 0'); break;
      case 'ratio': if (typeof v !== 'number' || !(v >= 0 && v <= 1)) bad('a number in [0, 1]'); break;
      case 'beta': if (typeof v !== 'number' || !(v >= 0 && v < 1)) bad('a number in [0, 1)'); break;
      case 'bool': if (typeof v !== 'boolean') bad('true or false'); break;
      case 'string':
        if (typeof v !== 'string') bad('a string');
        if (spec.values && !spec.values.includes(v as string)) bad(`one of ${spec.values.map((s) => `"${s}"`).join(', ')}`);
        break;
    }
    out[k] = v;
  }
  const a = out as unknown as TrainingArgs;
  if (a.maxGradNorm === 0) a.maxGradNorm = null;
  return a;
}
