// Learning-rate schedules as the Hugging Face Trainer defines them: the multiplier λ(step) of
// the base rate for optimizer step `step` (0-based; the first step of a warm-up uses λ = 0):
//   constant: 1
//   constant_with_warmup: step/warmup during warm-up, then 1
//   linear: step/warmup, then (total − step)/(total − warmup), floored at 0
//   cosine: step/warmup, then ½(1 + cos(π·progress)), progress = (step − warmup)/(total − warmup)

export const SCHEDULES = ['constant', 'constant_with_warmup', 'linear', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export function lrLambda(name: ScheduleName, step: number, warmup: number, total: number): number {
  if (name === 'constant') return 1;
  if (step < warmup) return step / Math.max(1, warmup);
  if (name === 'constant_with_warmup') return 1;
  if (name === 'linear') return Math.max(0, (total - step) / Math.max(1, total - warmup));
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Warm-up steps from an explicit count or a ratio of the total (rounded up, as the Trainer does). */
export function warmupSteps(total: number, steps: number | undefined, ratio: number | undefined): number {
  if (steps !== undefined && steps > 0) return steps;
  return Math.ceil(total * (ratio ?? 0));
}
