// SequentialEvaluator: runs several evaluators one after the other on the same model, merges
// their metric maps (a later key overwrites an earlier one) and adds "sequential_score" =
// aggregate(primary score of each evaluator, in order), the last one by default as in
// sentence-transformers. Takes the evaluators and an aggregate ('last', 'first', 'mean', 'min',
// 'max' or a function of the primary scores).

import { checkName, metricKey, type Encoder, type SentenceEvaluator } from './base.js';

export type Aggregate = 'last' | 'first' | 'mean' | 'min' | 'max' | ((scores: number[]) => number);

export interface SequentialOptions {
  /** How the primary scores become sequential_score (default 'last'). */
  aggregate?: Aggregate;
  /** Prefix of the sequential_score key (the merged metrics keep their own names). */
  name?: string;
}

function aggregateFn(a: Aggregate): (scores: number[]) => number {
  if (typeof a === 'function') return a;
  switch (a) {
    case 'last':
      return (s) => s[s.length - 1];
    case 'first':
      return (s) => s[0];
    case 'mean':
      return (s) => s.reduce((x, y) => x + y, 0) / s.length;
    case 'min':
      return (s) => Math.min(...s);
    case 'max':
      return (s) => Math.max(...s);
    default:
      throw new Error(`aggregate must be last, first, mean, min, max or a function; got ${String(a)}`);
  }
}

export class SequentialEvaluator implements SentenceEvaluator {
  readonly name: string;
  readonly evaluators: readonly SentenceEvaluator[];
  private readonly aggregate: (scores: number[]) => number;
  /** Primary scores of the last run, one per evaluator. */
  lastScores: number[] = [];

  constructor(evaluators: readonly SentenceEvaluator[], opts: SequentialOptions = {}) {
    if (evaluators.length === 0) throw new Error('SequentialEvaluator needs at least one evaluator');
    this.evaluators = [...evaluators];
    this.aggregate = aggregateFn(opts.aggregate ?? 'last');
    this.name = checkName(opts.name);
  }

  get primaryMetric(): string {
    return metricKey(this.name, 'sequential_score');
  }

  async evaluate(model: Encoder): Promise<Record<string, number>> {
    const merged: Record<string, number> = {};
    const scores: number[] = [];
    for (const ev of this.evaluators) {
      const res = await ev.evaluate(model);
      const primary = ev.primaryMetric in res ? res[ev.primaryMetric] : Object.values(res)[0];
      scores.push(primary ?? NaN);
      Object.assign(merged, res);
    }
    this.lastScores = scores;
    merged[this.primaryMetric] = this.aggregate(scores);
    return merged;
  }
}
