// The losses and `createLoss`, which builds one from a training config such as
//   { "name": "CoSENTLoss", "scale": 20 }
//   { "name": "MatryoshkaLoss", "loss": { "name": "MultipleNegativesRankingLoss" }, "dims": [768, 256, 64] }
// Every option is checked by name and type; a wrong one is rejected with the allowed keys or
// values. Option names are the camelCase forms of sentence-transformers' arguments
// (similarity_fct → similarityFct), except MatryoshkaLoss's loss / dims / weights.

import type { Loss } from './loss.js';
import { AnglELoss } from './angle_loss.js';
import { BATCH_DISTANCE_METRICS, BatchHardTripletLoss } from './batch_hard_triplet_loss.js';
import { BatchAllTripletLoss } from './batch_all_triplet_loss.js';
import { ContrastiveLoss } from './contrastive_loss.js';
import { CoSENTLoss } from './cosent_loss.js';
import { CosineSimilarityLoss, REGRESSION_LOSSES } from './cosine_similarity_loss.js';
import { MarginMSELoss } from './margin_mse_loss.js';
import { MatryoshkaLoss } from './matryoshka_loss.js';
import { MSELoss } from './mse_loss.js';
import { MultipleNegativesRankingLoss } from './multiple_negatives_ranking_loss.js';
import { CachedMultipleNegativesRankingLoss } from './cached_multiple_negatives_ranking_loss.js';
import { MultipleNegativesSymmetricRankingLoss } from './multiple_negatives_symmetric_ranking_loss.js';
import { OnlineContrastiveLoss } from './online_contrastive_loss.js';
import { DISTANCE_METRICS, PAIRWISE_SIMILARITY_FUNCTIONS, SIMILARITY_FUNCTIONS } from './similarity.js';
import { SoftmaxLoss } from './softmax_loss.js';
import { TripletLoss } from './triplet_loss.js';

export type { ColumnSpec, LabelKind, Loss, LossContext } from './loss.js';
export { SIMILARITY_FUNCTIONS, PAIRWISE_SIMILARITY_FUNCTIONS, DISTANCE_METRICS, type SimilarityFunction, type PairwiseSimilarityFunction, type DistanceMetric } from './similarity.js';
/** The similarity functions as graph ops (cosSim(g, a, b), …), for writing losses. */
export * as similarityOps from './similarity.js';
export { AnglELoss, type AnglELossOptions } from './angle_loss.js';
export { BatchAllTripletLoss } from './batch_all_triplet_loss.js';
export { BatchHardTripletLoss, type BatchDistanceMetric, type BatchTripletLossOptions } from './batch_hard_triplet_loss.js';
export { ContrastiveLoss, type ContrastiveLossOptions } from './contrastive_loss.js';
export { CoSENTLoss, type CoSENTLossOptions } from './cosent_loss.js';
export { CosineSimilarityLoss, type CosineSimilarityLossOptions, type RegressionLoss } from './cosine_similarity_loss.js';
export { MarginMSELoss, type MarginMSELossOptions } from './margin_mse_loss.js';
export { MatryoshkaLoss, type MatryoshkaLossOptions } from './matryoshka_loss.js';
export { MSELoss } from './mse_loss.js';
export { MultipleNegativesRankingLoss, type MultipleNegativesRankingLossOptions } from './multiple_negatives_ranking_loss.js';
export { CachedMultipleNegativesRankingLoss, type CachedMultipleNegativesRankingLossOptions } from './cached_multiple_negatives_ranking_loss.js';
export { MultipleNegativesSymmetricRankingLoss } from './multiple_negatives_symmetric_ranking_loss.js';
export { OnlineContrastiveLoss, type OnlineContrastiveLossOptions } from './online_contrastive_loss.js';
export { SoftmaxLoss, type SoftmaxLossOptions } from './softmax_loss.js';
export { TripletLoss, type TripletLossOptions } from './triplet_loss.js';

type OptionSpec =
  | { type: 'number' }
  | { type: 'boolean' }
  | { type: 'integer' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'integers' }
  | { type: 'numbers' }
  | { type: 'loss' };

interface LossSpec {
  options: Record<string, OptionSpec>;
  required?: string[];
  make(o: Record<string, unknown>): Loss;
}

const num: OptionSpec = { type: 'number' };
const bool: OptionSpec = { type: 'boolean' };
const int: OptionSpec = { type: 'integer' };
const oneOf = (values: readonly string[]): OptionSpec => ({ type: 'enum', values });

/** Options already checked against their spec, handed to the constructor (which checks its values). */
const checked = <T>(o: Record<string, unknown>): T => o as T;

const LOSSES: Record<string, LossSpec> = {
  CosineSimilarityLoss: { options: { lossFct: oneOf(REGRESSION_LOSSES) }, make: (o) => new CosineSimilarityLoss(checked(o)) },
  CoSENTLoss: { options: { scale: num, similarityFct: oneOf(PAIRWISE_SIMILARITY_FUNCTIONS) }, make: (o) => new CoSENTLoss(checked(o)) },
  AnglELoss: { options: { scale: num }, make: (o) => new AnglELoss(checked(o)) },
  MultipleNegativesRankingLoss: {
    options: { scale: num, similarityFct: oneOf(SIMILARITY_FUNCTIONS) },
    make: (o) => new MultipleNegativesRankingLoss(checked(o)),
  },
  CachedMultipleNegativesRankingLoss: {
    options: { scale: num, similarityFct: oneOf(SIMILARITY_FUNCTIONS), miniBatchSize: int },
    make: (o) => new CachedMultipleNegativesRankingLoss(checked(o)),
  },
  MultipleNegativesSymmetricRankingLoss: {
    options: { scale: num, similarityFct: oneOf(SIMILARITY_FUNCTIONS) },
    make: (o) => new MultipleNegativesSymmetricRankingLoss(checked(o)),
  },
  TripletLoss: { options: { distanceMetric: oneOf(DISTANCE_METRICS), margin: num }, make: (o) => new TripletLoss(checked(o)) },
  BatchHardTripletLoss: { options: { distanceMetric: oneOf(BATCH_DISTANCE_METRICS), margin: num }, make: (o) => new BatchHardTripletLoss(checked(o)) },
  BatchAllTripletLoss: { options: { distanceMetric: oneOf(BATCH_DISTANCE_METRICS), margin: num }, make: (o) => new BatchAllTripletLoss(checked(o)) },
  ContrastiveLoss: {
    options: { distanceMetric: oneOf(DISTANCE_METRICS), margin: num, sizeAverage: bool },
    make: (o) => new ContrastiveLoss(checked(o)),
  },
  OnlineContrastiveLoss: { options: { distanceMetric: oneOf(DISTANCE_METRICS), margin: num }, make: (o) => new OnlineContrastiveLoss(checked(o)) },
  SoftmaxLoss: {
    options: {
      embeddingDim: int,
      numLabels: int,
      concatenationSentRep: bool,
      concatenationSentDifference: bool,
      concatenationSentMultiplication: bool,
      seed: int,
    },
    required: ['embeddingDim', 'numLabels'],
    make: (o) => new SoftmaxLoss(checked(o)),
  },
  MSELoss: { options: {}, make: () => new MSELoss() },
  MarginMSELoss: { options: { similarityFct: oneOf(PAIRWISE_SIMILARITY_FUNCTIONS) }, make: (o) => new MarginMSELoss(checked(o)) },
  MatryoshkaLoss: {
    options: { loss: { type: 'loss' }, dims: { type: 'integers' }, weights: { type: 'numbers' } },
    required: ['loss', 'dims'],
    make: (o) => {
      const { name, ...rest } = o.loss as Record<string, unknown>;
      if (name === 'MatryoshkaLoss') throw new Error('MatryoshkaLoss: option "loss" cannot itself be a MatryoshkaLoss');
      return new MatryoshkaLoss(createLoss(name as string, rest), { dims: o.dims as number[], weights: o.weights as number[] | undefined });
    },
  },
};

/** Names createLoss accepts. */
export const LOSS_NAMES: readonly string[] = Object.keys(LOSSES);

function describe(spec: OptionSpec): string {
  switch (spec.type) {
    case 'number': return 'a finite number';
    case 'boolean': return 'true or false';
    case 'integer': return 'an integer';
    case 'enum': return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'integers': return 'a non-empty array of positive integers';
    case 'numbers': return 'an array of finite numbers';
    case 'loss': return 'a loss config object with a "name"';
  }
}

function valid(spec: OptionSpec, v: unknown): boolean {
  switch (spec.type) {
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'enum': return typeof v === 'string' && spec.values.includes(v);
    case 'integers': return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0);
    case 'numbers': return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    case 'loss': return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as Record<string, unknown>).name === 'string';
  }
}

/**
 * Builds the loss `name` with `options` (a training config without its "name"; a "name" key
 * equal to `name` is ignored). Throws on an unknown loss, an unknown option, a wrong type or
 * value, or a missing required option, naming the key and what is allowed.
 */
export function createLoss(name: string, options: Record<string, unknown> = {}): Loss {
  const spec = Object.prototype.hasOwnProperty.call(LOSSES, name) ? LOSSES[name] : undefined;
  if (!spec) throw new Error(`unknown loss "${name}"; available losses: ${LOSS_NAMES.join(', ')}`);
  const allowed = Object.keys(spec.options);
  const allowedText = allowed.length ? allowed.join(', ') : '(none)';
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'name') {
      if (value !== name) throw new Error(`${name}: option "name" is ${JSON.stringify(value)}, expected "${name}"`);
      continue;
    }
    const os = Object.prototype.hasOwnProperty.call(spec.options, key) ? spec.options[key] : undefined;
    if (!os) throw new Error(`${name}: unknown option "${key}"; allowed options: ${allowedText}`);
    if (value === undefined) continue;
    if (!valid(os, value)) throw new Error(`${name}: option "${key}" must be ${describe(os)} (got ${JSON.stringify(value)})`);
    given[key] = value;
  }
  for (const key of spec.required ?? []) {
    if (!(key in given)) throw new Error(`${name}: option "${key}" is required (${describe(spec.options[key])})`);
  }
  return spec.make(given);
}
