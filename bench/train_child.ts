// Child process of the training benchmark (ours): load the model in DIR, run every step of
// PLAN.json with the Trainer's step runner (forward, loss and gradients in one ONNX graph, then
// clipping and AdamW; dropout on; the linear schedule from lr to 0 over the plan), save the model to
// OUT, and print one JSON line: per-step seconds (median and best of the steps after the
// plan's warm-up), seconds from process start to the model loaded, and the peak resident memory.
// Usage: node dist/bench/train_child.js DIR PLAN.json OUT [sparse]

import { readFileSync } from 'node:fs';
import { SentenceTransformer } from '../src/models/sentence_transformer.js';
import { createLoss } from '../src/losses/index.js';
import { StepRunner } from '../src/training/step_runner.js';
import type { TrainPlan } from './train_plan.js';

const [dir, planPath, out, mode] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, 'utf8')) as TrainPlan;
const model = await SentenceTransformer.load(dir);
const loaded = performance.now() / 1000;
const loss = createLoss(plan.loss.name, { scale: plan.loss.scale });
const st = new StepRunner(model, loss, {
  learningRate: plan.optimizer.lr, weightDecay: plan.optimizer.weight_decay, betas: [0.9, 0.999], eps: 1e-8,
  maxGradNorm: plan.optimizer.max_grad_norm, dropoutSeed: 42, freezeWordEmbeddings: false, sparseEmbeddings: mode === 'sparse',
});
const times: number[] = [];
const total = plan.steps.length;
for (let t = 1; t <= total; t++) {
  const s = plan.steps[t - 1];
  const labels = s.labels ? { dtype: 'float32' as const, dims: [s.labels.length], data: Float32Array.from(s.labels) } : null;
  const t0 = performance.now();
  const r = await st.run({ columns: s.columns, labels }, (plan.optimizer.lr * (total - (t - 1))) / total, t);
  if (!r.finite) throw new Error(`step ${t}: non-finite loss or gradient`);
  if (t > plan.warmup) times.push((performance.now() - t0) / 1000);
}
await st.close();
await model.save(out);
const sorted = [...times].sort((a, b) => a - b);
process.stdout.write(JSON.stringify({
  seconds_per_step: +sorted[Math.floor(sorted.length / 2)].toFixed(4),
  best_seconds_per_step: +sorted[0].toFixed(4),
  steps_timed: times.length,
  seconds_to_loaded: +loaded.toFixed(3),
  max_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
}) + '\n');
