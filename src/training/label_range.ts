// Checks that a dataset's labels lie where its loss can use them, before any training: a loss
// that regresses a similarity onto the label (CosineSimilarityLoss: cos(u, v) ∈ [−1, 1]) cannot
// fit STS-B's 0–5 scores, and contrastive losses take 0/1 labels, SoftmaxLoss classes in
// [0, numLabels). Takes the loss and the examples; throws a ConfigError naming the dataset,
// the first offending example, the range found and the fix (scoreScale, labelMap).

import type { Loss } from '../losses/loss.js';
import { ConfigError } from './args.js';

/** What a loss accepts as labels: a closed range, and whether only integers. */
export interface LabelRange {
  min: number;
  max: number;
  integer: boolean;
  /** What the loss does with the label, for the message. */
  why: string;
}

/** The labels a loss accepts, or null when any finite value is fine (CoSENT, AnglE: only the order matters). */
export function expectedLabelRange(loss: Loss): LabelRange | null {
  const inner = (loss as Loss & { inner?: Loss }).inner;
  if (loss.name === 'MatryoshkaLoss' && inner !== undefined) return expectedLabelRange(inner);
  switch (loss.name) {
    case 'CosineSimilarityLoss':
      return { min: -1, max: 1, integer: false, why: 'it regresses the cosine similarity of the two embeddings, which lies in [-1, 1], onto the label' };
    case 'ContrastiveLoss':
    case 'OnlineContrastiveLoss':
      return { min: 0, max: 1, integer: true, why: 'it takes 1 for a similar pair and 0 for a dissimilar one' };
    case 'SoftmaxLoss': {
      const n = (loss as Loss & { numLabels?: number }).numLabels ?? 0;
      return { min: 0, max: n - 1, integer: true, why: `it classifies each pair into numLabels = ${n} classes, 0 to ${n - 1}` };
    }
    default:
      return null;
  }
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(+x.toPrecision(6));
}

/** Throws when a label falls outside what the loss expects (see the file comment). */
export function checkLabelRange(loss: Loss, labels: readonly (number | number[] | undefined)[], dataset: string): void {
  const range = expectedLabelRange(loss);
  if (range === null) return;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let first = -1;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (typeof y !== 'number') continue;
    if (y < lo) lo = y;
    if (y > hi) hi = y;
    if (first < 0 && (!(y >= range.min && y <= range.max) || (range.integer && !Number.isInteger(y)))) first = i;
  }
  if (first < 0) return;
  const y = labels[first] as number;
  const allowed = range.integer ? `integers ${fmt(range.min)}–${fmt(range.max)}` : `[${fmt(range.min)}, ${fmt(range.max)}]`;
  let fix: string;
  if (!range.integer && lo >= 0 && hi > range.max) {
    const scale = hi <= 5 ? 5 : hi <= 10 ? 10 : hi <= 100 ? 100 : Math.ceil(hi);
    fix = `if the scores run 0–${fmt(scale)} (as STS-B's 0–5), set "scoreScale": ${fmt(scale)} in the train section (scoreScale in the dataset spec) so that they become 0–1, as the stsb preset does`;
  } else if (range.integer) {
    fix = `map the classes to ${allowed} with "labelMap" in the train section, or choose a loss for these labels`;
  } else {
    fix = `rescale the scores into ${allowed} (scoreScale divides them), or use CoSENTLoss or AnglELoss, which only use the order of the scores`;
  }
  throw new ConfigError(
    `dataset ${dataset}: ${loss.name} expects labels in ${allowed}, because ${range.why}; the labels run ${fmt(lo)}–${fmt(hi)} ` +
      `(example ${first} has ${fmt(y)}). ${fix[0]!.toUpperCase()}${fix.slice(1)}.`,
  );
}
