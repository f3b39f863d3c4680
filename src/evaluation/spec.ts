// The description of an evaluator as a training configuration's "eval" section and the
// `evaluate` command take it: which evaluator (sts, binary, triplet, retrieval; in training
// also "loss") and the data it reads. A contract only; cli/evaluator_spec.ts builds from it.

import type { DatasetFormat } from '../data/dataset.js';

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
  /** Class names → integers (binary labels given as names). */
  labelMap?: Record<string, number>;
  /** CSV/TSV: whether the first row names the columns (when the format is detected). */
  header?: boolean;
  /** CSV/TSV: false when the file does not quote. */
  quote?: false;
  /** Largest share of bad rows before the read fails (default 0.01). */
  maxBadRowRate?: number;
  /** Largest number of bad rows before the read fails (replaces the rate when given). */
  maxBadRows?: number;
  /** Describes how the file is read (format, header); named in the messages about it. */
  formatDescription?: string;
}

