// The Trainer: composes a model, datasets, a loss, training arguments and an evaluator into a
// run — batches from a seeded sampler (several datasets round-robin or proportionally), one
// compiled ONNX step per batch (forward, loss, gradients, clipping, AdamW), the learning-rate
// schedule, logging (JSON lines), evaluation every N steps, atomic checkpoints with exact resume
// (weights, moments, schedule position, data order), the best model kept by a metric, early
// stopping, callbacks, a progress bar, and at the end the model in the sentence-transformers
// layout with a model card and an HTML training report. The output folder is locked by the run
// and follows the rules of output_dir.ts; a resume must match the checkpoint's fingerprint;
// SIGINT / SIGTERM save a checkpoint at the step reached and stop (interrupt.ts).

import { appendFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TensorData } from '../graph/ir.js';
import type { Loss } from '../losses/loss.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { Dense } from '../models/dense.js';
import { Transformer } from '../models/transformer.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Progress } from '../io/progress.js';
import { resolveArgs, type TrainingArgs, ConfigError } from './args.js';
import { cleanInterruptedWrites, latestCheckpoint, loadCheckpointInto, readCheckpointState, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { fingerprintDifferences, runFingerprint } from './fingerprint.js';
import { TrainingInterruptedError, watchStopSignals, type StopSignal } from './interrupt.js';
import { openTrainOutput } from './output_dir.js';
import { checkLabelRange } from './label_range.js';
import { modelCard } from './model_card.js';
import { htmlReport, type Series } from './report.js';
import { epochBatches } from './sampler.js';
import { lrLambda, warmupSteps } from './schedule.js';
import { StepRunner } from './step_runner.js';
import type { TrainableParam } from './param_source.js';

import type { Example } from '../data/dataset.js';
export type { Example };

export interface TrainDataset {
  name?: string;
  examples: Example[];
  /** Column roles in the order of `texts` (for the model card and checks). */
  columns?: string[];
  /** The file the examples came from (named in resume messages). */
  source?: string;
}

import type { Evaluator } from '../evaluation/base.js';
export type { Evaluator };

export interface TrainerCallback {
  onLog?(entry: Record<string, number>): void | Promise<void>;
  onEvaluate?(step: number, metrics: Record<string, number>): void | Promise<void>;
  onStepEnd?(step: number, loss: number): void | { stop: boolean } | Promise<void | { stop: boolean }>;
  onSave?(dir: string): void | Promise<void>;
  onTrainEnd?(result: TrainOutput): void | Promise<void>;
}

export interface TrainerOptions {
  model: SentenceTransformer;
  trainDataset: TrainDataset | TrainDataset[];
  /** One loss for every dataset, or one per dataset name. */
  loss: Loss | Record<string, Loss>;
  args?: Partial<TrainingArgs> | Record<string, unknown>;
  evaluator?: Evaluator | null;
  outputDir?: string | null;
  callbacks?: TrainerCallback[];
  /** 'round_robin' alternates datasets until the smallest runs out; 'proportional' interleaves all batches. */
  multiDatasetSampling?: 'round_robin' | 'proportional';
  /** A checkpoint directory, or true for the newest one in outputDir. */
  resumeFromCheckpoint?: string | boolean;
  /** Name of the base model for the model card. */
  baseModel?: string;
  /** Report progress on stderr (default true): a bar on a terminal, otherwise a line every 10 s and each evaluation's result. */
  progress?: boolean;
  /**
   * A fresh run may replace an earlier run in outputDir (its checkpoints, best model and log are
   * removed first); without it a non-empty outputDir is refused. Ignored when resuming.
   */
  overwrite?: boolean;
  /** Save a checkpoint and stop on SIGINT / SIGTERM instead of dying mid-step (default true). */
  handleSignals?: boolean;
  /** Where notices go (resume, stale lock, interruption); default stderr unless progress is false. */
  log?: (line: string) => void;
  /**
   * How to resume from the newest checkpoint, for the message of an interrupted run (the
   * checkpoint's folder is appended when it is not the newest one in outputDir).
   */
  resumeCommand?: string;
}

export interface TrainOutput {
  globalStep: number;
  trainingLoss: number | null;
  metrics: Record<string, number>;
  seconds: number;
  logHistory: Record<string, number | string>[];
}

export class NonFiniteLossError extends Error {
  constructor(readonly step: number, loss: number, gradNorm: number) {
    super(`step ${step}: the loss (${loss}) or the gradient norm (${gradNorm}) is not finite; the step was not applied and the model was not saved. Lower the learning rate, check the data for empty or extreme rows, or set args.onNonFinite to "skip"`);
    this.name = 'NonFiniteLossError';
  }
}

interface Prepared {
  name: string;
  source?: string;
  ids: number[][][];
  labels: (number | number[] | undefined)[];
  texts: string[][];
  columns: string[];
  loss: Loss;
}

export class Trainer {
  readonly args: TrainingArgs;
  private readonly model: SentenceTransformer;
  private readonly datasets: TrainDataset[];
  private readonly opts: TrainerOptions;

  constructor(opts: TrainerOptions) {
    this.opts = opts;
    this.model = opts.model;
    this.args = resolveArgs(opts.args as Record<string, unknown> | undefined);
    this.datasets = Array.isArray(opts.trainDataset) ? opts.trainDataset : [opts.trainDataset];
    if (this.datasets.length === 0) throw new ConfigError('trainDataset: give at least one dataset');
    const maxPos = this.model.inputModule.maxPositions;
    if (this.args.maxSeqLength !== null && this.args.maxSeqLength > maxPos) {
      // refused rather than lowered: the saved model would otherwise say another length than the one asked for
      throw new ConfigError(`args.maxSeqLength: ${this.args.maxSeqLength} is more than the model's max_position_embeddings ${maxPos} (there are no position embeddings beyond it); use at most ${maxPos}`);
    }
    for (const [i, d] of this.datasets.entries()) {
      if (d.examples.length === 0) throw new ConfigError(`trainDataset ${d.name ?? i}: no examples`);
      this.lossFor(d, i);
    }
  }

  private lossFor(d: TrainDataset, i: number): Loss {
    const l = this.opts.loss;
    const loss = typeof (l as Loss).build === 'function' ? (l as Loss) : (l as Record<string, Loss>)[d.name ?? ''];
    if (!loss) throw new ConfigError(`loss: no loss for dataset "${d.name ?? i}" (give one loss, or one per dataset name)`);
    const n = d.examples[0].texts.length;
    if (n < loss.columns.min || n > loss.columns.max) {
      throw new ConfigError(`dataset ${d.name ?? i}: ${loss.name} takes ${loss.columns.min === loss.columns.max ? loss.columns.min : `${loss.columns.min}–${loss.columns.max}`} text columns (${loss.columns.names.join(', ')}), the data has ${n}`);
    }
    const bad = d.examples.findIndex((e) => e.texts.length !== n);
    if (bad >= 0) throw new ConfigError(`dataset ${d.name ?? i}: example ${bad} has ${d.examples[bad].texts.length} texts, the first has ${n}`);
    if (loss.labelKind !== 'none') {
      const missing = d.examples.findIndex((e) => e.label === undefined);
      if (missing >= 0) throw new ConfigError(`dataset ${d.name ?? i}: ${loss.name} needs a label (${loss.labelKind}) on every example; example ${missing} has none`);
      checkLabelRange(loss, d.examples.map((e) => e.label), String(d.name ?? i));
    }
    return loss;
  }

  private prepare(): Prepared[] {
    const tok = this.model.tokenizer;
    const L = Math.min(this.args.maxSeqLength ?? this.model.maxSeqLength, this.model.inputModule.maxPositions);
    // the saved model states the length it was trained at
    this.model.replaceModule(0, this.model.inputModule.with({ maxSeqLength: L }));
    // truncation keeps the trailing special tokens ([SEP]); a tokenizer without them cuts plainly
    const tail = tok.numSpecialTokens > 0 ? 1 : 0;
    return this.datasets.map((d, i) => {
      const cols = d.examples[0].texts.length;
      const ids: number[][][] = Array.from({ length: cols }, () => []);
      for (const e of d.examples) {
        const enc = tok.encodeBatch(e.texts);
        enc.forEach((x, c) => ids[c].push(x.ids.length > L ? [...x.ids.slice(0, L - tail), ...x.ids.slice(x.ids.length - tail)] : x.ids));
      }
      return { name: d.name ?? `dataset${i}`, source: d.source, ids, labels: d.examples.map((e) => e.label), texts: d.examples.map((e) => e.texts), columns: d.columns ?? [], loss: this.lossFor(d, i) };
    });
  }

  /** Batches of one epoch over all datasets: [dataset index, example indices]. */
  private schedule(prep: Prepared[], epoch: number): [number, number[]][] {
    const per = prep.map((p) => epochBatches((i) => p.texts[i], p.texts.length, this.args.batchSize, this.args.seed, epoch, this.args.shuffle, this.args.batchSampler));
    if (per.length === 1) return per[0].map((b) => [0, b]);
    const out: [number, number[]][] = [];
    if ((this.opts.multiDatasetSampling ?? 'proportional') === 'round_robin') {
      const n = Math.min(...per.map((p) => p.length));
      for (let k = 0; k < n; k++) per.forEach((p, d) => out.push([d, p[k]]));
      return out;
    }
    per.forEach((p, d) => p.forEach((b) => out.push([d, b])));
    // seeded interleave
    const rng = epochBatches(() => [], out.length, out.length, this.args.seed + 17, epoch, true, 'batch_sampler')[0];
    return rng.map((i) => out[i]);
  }

  private labelsTensor(p: Prepared, batch: number[]): TensorData | null {
    const kind = p.loss.labelKind;
    if (kind === 'none') return null;
    const B = batch.length;
    if (kind === 'class') return { dtype: 'int64', dims: [B], data: BigInt64Array.from(batch, (i) => BigInt(Math.round(Number(p.labels[i])))) };
    if (kind === 'score') return { dtype: 'float32', dims: [B], data: Float32Array.from(batch, (i) => Number(p.labels[i])) };
    const first = p.labels[batch[0]] as number[];
    const K = first.length;
    const data = new Float32Array(B * K);
    batch.forEach((i, r) => data.set(p.labels[i] as number[], r * K));
    return { dtype: 'float32', dims: [B, K], data };
  }

  async train(): Promise<TrainOutput> {
    const outputDir = this.opts.outputDir ?? null;
    const say = this.opts.log ?? (this.opts.progress === false ? () => undefined : (line: string) => void process.stderr.write(line + '\n'));
    const resume = this.opts.resumeFromCheckpoint ?? false;
    if (resume === true && !outputDir) throw new ConfigError('resumeFromCheckpoint: true resumes from the newest checkpoint in outputDir, and no outputDir was given');
    const lock = outputDir
      ? await openTrainOutput(outputDir, { resume, overwrite: this.opts.overwrite ?? false, command: process.argv.slice(1).join(' '), log: say })
      : null;
    let interrupted: StopSignal | null = null;
    const unwatch = this.opts.handleSignals ?? true
      ? watchStopSignals((signal, count) => {
        if (count === 1) {
          interrupted = signal;
          say(`${signal}: finishing the current step, then saving a checkpoint${outputDir ? '' : ' (no output folder: nothing will be saved)'} and stopping`);
        } else {
          say(`${signal} again: still stopping; the checkpoint is being completed so that nothing is lost`);
        }
      })
      : () => undefined;
    try {
      return await this.run(outputDir, resume, say, () => interrupted);
    } finally {
      unwatch();
      lock?.release();
    }
  }

  private async run(outputDir: string | null, resume: string | boolean, say: (line: string) => void, interruptedBy: () => StopSignal | null): Promise<TrainOutput> {
    const a = this.args;
    const t0 = performance.now();
    // trained weights are float32: saved as such throughout, whatever dtype the checkpoint had
    const input = this.model.inputModule;
    const narrow = new Set(input instanceof Transformer ? [...input.fileDtypes.values()].filter((d) => d !== 'F32') : []);
    for (const m of this.model.modules) if (m.module instanceof Dense && m.module.fileDtype !== 'F32') narrow.add(m.module.fileDtype);
    if (narrow.size) say(`the model's files hold ${[...narrow].join('/')} weights; training runs in float32 and saves every tensor as float32`);
    this.model.replaceModule(0, input.with({ saveFloat32: true }));
    for (const m of this.model.modules) if (m.module instanceof Dense) m.module.fileDtype = 'F32';
    const prep = this.prepare();
    const fingerprint = runFingerprint(a, prep.map((p) => ({ name: p.name, source: p.source, texts: p.texts, labels: p.labels, loss: p.loss })), this.opts.multiDatasetSampling ?? 'proportional');
    let resumeDir: string | null = null;
    if (resume) {
      resumeDir = resume === true ? await latestCheckpoint(outputDir!) : resume;
      if (!resumeDir) throw new ConfigError(`${outputDir}: no complete checkpoint to resume from; run without resuming to start a fresh run`);
      const saved = await readCheckpointState(resumeDir);
      if (saved.fingerprint) {
        const diffs = fingerprintDifferences(saved.fingerprint, fingerprint);
        if (diffs.length) {
          throw new ConfigError(`${resumeDir}: cannot resume: this run differs from the one that wrote the checkpoint — ${diffs.join('; ')}. Put those settings back as they were to resume, or start a fresh run (a new output folder, or overwrite)`);
        }
      } else {
        say(`${resumeDir}: the checkpoint records no run fingerprint (an older version wrote it), so its data and settings cannot be checked against this run`);
      }
    }
    const epoch0 = this.schedule(prep, 0);
    const stepsPerEpoch = Math.ceil(epoch0.length / a.gradientAccumulationSteps);
    const total = a.maxSteps ?? Math.max(1, Math.ceil(a.epochs * stepsPerEpoch));
    const warmup = warmupSteps(total, a.warmupSteps, a.warmupRatio);
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    let state: TrainerState = { global_step: 0, epoch: 0, step_in_epoch: 0, best_metric: null, best_step: null, evals_without_improvement: 0, log_history: [] };
    const makeSteps = (dropoutSeed: number | null): Map<Loss, StepRunner> => {
      const m = new Map<Loss, StepRunner>();
      for (const p of prep) {
        if (m.has(p.loss)) continue;
        const o = {
          learningRate: a.learningRate, weightDecay: a.weightDecay, betas: [a.adamBeta1, a.adamBeta2] as [number, number], eps: a.adamEpsilon,
          maxGradNorm: a.maxGradNorm, dropoutSeed, freezeWordEmbeddings: a.freezeWordEmbeddings, sparseEmbeddings: a.sparseEmbeddings, threads: a.threads ?? undefined,
        };
        m.set(p.loss, new StepRunner(this.model, p.loss, o, { accumulationSteps: a.gradientAccumulationSteps, moments }));
      }
      return m;
    };
    const steps = makeSteps(a.dropout ? a.seed : null);
    let lastSaved: string | null = null;
    if (resumeDir) {
      // dropout masks depend on (seed, step) only: the resumed run draws the same ones
      state = await loadCheckpointInto(resumeDir, paramsOf(steps), moments, this.model.modules[0].path);
      lastSaved = resolve(resumeDir);
      say(`resuming from ${resumeDir} at step ${state.global_step} of ${total}`);
    }
    const logPath = outputDir ? join(outputDir, 'logs.jsonl') : null;
    const progress = new Progress({ total, label: 'train', unit: 'steps', mode: this.opts.progress === false ? 'off' : undefined, initial: state.global_step });
    const bestDir = outputDir ? join(outputDir, 'best-model') : null;
    let lossSum = 0;
    let lossCount = 0;
    let lastLoss: number | null = null;
    let tokSum = 0;
    let tokTime = 0;
    let lastMetrics: Record<string, number> = {};
    let stop = false;
    const log = async (entry: Record<string, number>): Promise<void> => {
      state.log_history.push(entry);
      if (logPath) await appendFile(logPath, JSON.stringify(entry) + '\n');
      for (const cb of this.opts.callbacks ?? []) await cb.onLog?.(entry);
    };
    const evaluate = async (): Promise<void> => {
      if (!this.opts.evaluator) return;
      this.model.invalidate();
      const metrics = await this.opts.evaluator.evaluate(this.model);
      await this.model.close();
      lastMetrics = metrics;
      progress.note(`eval at step ${state.global_step}: ${Object.entries(metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ')}`);
      await log({ step: state.global_step, epoch: +(state.global_step / stepsPerEpoch).toFixed(4), ...Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval_${k}`, v])) });
      for (const cb of this.opts.callbacks ?? []) await cb.onEvaluate?.(state.global_step, metrics);
      const key = a.metricForBestModel ?? this.opts.evaluator.primaryMetric ?? Object.keys(metrics)[0];
      const value = metrics[key] ?? metrics[`eval_${key}`];
      // losses improve downwards, every other metric upwards (unless greaterIsBetter says otherwise)
      const greater = a.greaterIsBetter ?? !/(^|_)loss$/.test(key);
      if (value === undefined) return;
      const improved = state.best_metric === null || (greater ? value > state.best_metric + a.earlyStoppingThreshold : value < state.best_metric - a.earlyStoppingThreshold);
      if (improved) {
        state.best_metric = value;
        state.best_step = state.global_step;
        state.evals_without_improvement = 0;
        if (a.loadBestModelAtEnd && bestDir) await saveCheckpoint(bestDir, this.model, [], new Map(), state, { metric: key });
      } else {
        state.evals_without_improvement++;
        if (a.earlyStoppingPatience !== null && state.evals_without_improvement >= a.earlyStoppingPatience) stop = true;
      }
    };
    const checkpoint = async (): Promise<void> => {
      if (!outputDir) return;
      const dir = join(outputDir, `checkpoint-${state.global_step}`);
      const allParams = paramsOf(steps);
      await saveCheckpoint(dir, this.model, allParams, moments, state, { args: a, total_steps: total, fingerprint });
      lastSaved = resolve(dir);
      for (const cb of this.opts.callbacks ?? []) await cb.onSave?.(dir);
      if (a.saveTotalLimit) {
        const names = (await readdir(outputDir)).map((n) => /^checkpoint-(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((x, y) => x - y);
        for (const s of names.slice(0, Math.max(0, names.length - a.saveTotalLimit))) await rm(join(outputDir, `checkpoint-${s}`), { recursive: true, force: true });
      }
    };

    try {
      outer: for (let epoch = state.epoch; ; epoch++) {
        const batches = epoch === 0 ? epoch0 : this.schedule(prep, epoch);
        const k = a.gradientAccumulationSteps;
        for (let b = epoch === state.epoch ? state.step_in_epoch : 0; b < batches.length; ) {
          // one turn of the event loop between steps, so that a stop signal is seen before the next one
          await new Promise((r) => setImmediate(r));
          if (state.global_step >= total || stop || interruptedBy()) break outer;
          // k consecutive batches of one dataset make one optimizer step
          const d = batches[b][0];
          const group: number[][] = [];
          while (group.length < k && b < batches.length && batches[b][0] === d) group.push(batches[b++][1]);
          const p = prep[d];
          const lr = a.learningRate * lrLambda(a.scheduler, state.global_step, warmup, total);
          const ts = performance.now();
          const micro = group.map((idx) => ({ columns: p.ids.map((col) => idx.map((i) => col[i])), labels: this.labelsTensor(p, idx) }));
          const runner = steps.get(p.loss)!;
          const r = await runner.run(micro, lr, state.global_step + 1);
          const dt = (performance.now() - ts) / 1000;
          if (!r.finite && a.onNonFinite === 'stop') throw new NonFiniteLossError(state.global_step + 1, r.loss, r.gradNorm);
          state.global_step++;
          state.epoch = epoch;
          state.step_in_epoch = b;
          if (state.step_in_epoch >= batches.length) {
            state.epoch = epoch + 1;
            state.step_in_epoch = 0;
          }
          if (r.finite) {
            lossSum += r.loss;
            lossCount++;
            lastLoss = r.loss;
          }
          tokSum += r.tokens;
          tokTime += dt;
          progress.tick(1, `loss ${r.loss.toFixed(4)} lr ${lr.toExponential(2)} ${(tokSum / tokTime).toFixed(0)} tok/s`);
          if (state.global_step % a.logSteps === 0 || state.global_step === total) {
            await log({ step: state.global_step, epoch: +(state.global_step / stepsPerEpoch).toFixed(4), loss: lossCount ? lossSum / lossCount : NaN, learning_rate: lr, grad_norm: r.gradNorm, tokens_per_s: +(tokSum / tokTime).toFixed(1), skipped: r.finite ? 0 : 1 });
            lossSum = 0;
            lossCount = 0;
          }
          for (const cb of this.opts.callbacks ?? []) {
            const res = await cb.onStepEnd?.(state.global_step, r.loss);
            if (res && res.stop) stop = true;
          }
          if (a.evalSteps && state.global_step % a.evalSteps === 0) await evaluate();
          if (a.saveSteps && state.global_step % a.saveSteps === 0) await checkpoint();
        }
        if (state.global_step >= total || stop || interruptedBy()) break;
      }
      const signal = interruptedBy();
      if (signal) {
        let saved: string | null = null;
        let hint = this.opts.resumeCommand ?? `resumeFromCheckpoint: true (outputDir ${outputDir})`;
        if (outputDir) {
          saved = join(outputDir, `checkpoint-${state.global_step}`);
          // a checkpoint of this step written by this run (or the one it resumed from, if in outputDir) is kept as it is
          if (lastSaved !== resolve(saved)) await checkpoint();
          await cleanInterruptedWrites(outputDir);
          const newest = await latestCheckpoint(outputDir);
          if (newest === null || resolve(newest) !== resolve(saved)) hint = this.opts.resumeCommand ? `${this.opts.resumeCommand} ${saved}` : `resumeFromCheckpoint: ${JSON.stringify(saved)}`;
        }
        progress.done();
        throw new TrainingInterruptedError(signal, state.global_step, saved, hint);
      }
      if (this.opts.evaluator && (!a.evalSteps || state.global_step % a.evalSteps !== 0)) await evaluate();
      if (a.loadBestModelAtEnd && bestDir && state.best_step !== null && state.best_step !== state.global_step) {
        const allParams = paramsOf(steps).filter((p) => !p.name.startsWith('loss/'));
        await loadCheckpointInto(bestDir, allParams, new Map(), this.model.modules[0].path).catch(() => undefined);
        this.model.invalidate();
      }
    } finally {
      for (const s of steps.values()) await s.close();
      this.model.invalidate();
    }
    progress.done();
    const seconds = (performance.now() - t0) / 1000;
    const result: TrainOutput = { globalStep: state.global_step, trainingLoss: lastLoss, metrics: lastMetrics, seconds, logHistory: state.log_history };
    if (outputDir) await this.writeOutputs(outputDir, prep, state, result, total, stepsPerEpoch);
    const late = interruptedBy();
    if (late) say(`${late} came after the last step: the finished run was written in full`);
    for (const cb of this.opts.callbacks ?? []) await cb.onTrainEnd?.(result);
    return result;
  }

  private async writeOutputs(dir: string, prep: Prepared[], state: TrainerState, r: TrainOutput, total: number, perEpoch: number): Promise<void> {
    await this.model.save(dir);
    const loss = prep[0].loss;
    await writeFileAtomic(join(dir, 'README.md'), modelCard({
      baseModel: this.opts.baseModel ?? 'a randomly initialised BERT model',
      datasets: prep.map((p, i) => ({ path: this.datasets[i].name ?? p.name, rows: p.texts.length, columns: p.columns.length ? p.columns : p.ids.map((_, c) => `text_${c}`) })),
      loss: { name: loss.name, config: loss.config() },
      args: this.args,
      steps: state.global_step,
      epochs: state.global_step / perEpoch,
      seconds: r.seconds,
      finalLoss: r.trainingLoss,
      evaluation: r.metrics,
      dimension: this.model.dimension,
      maxSeqLength: this.model.maxSeqLength,
    }));
    const hist = state.log_history;
    const series: Series[] = [
      { title: 'training loss', points: hist.filter((h) => typeof h.loss === 'number').map((h) => [Number(h.step), Number(h.loss)]) },
      { title: 'learning rate', points: hist.filter((h) => typeof h.learning_rate === 'number').map((h) => [Number(h.step), Number(h.learning_rate)]) },
      { title: 'gradient norm', points: hist.filter((h) => typeof h.grad_norm === 'number').map((h) => [Number(h.step), Number(h.grad_norm)]) },
    ];
    const evalKeys = [...new Set(hist.flatMap((h) => Object.keys(h).filter((k) => k.startsWith('eval_'))))];
    for (const k of evalKeys) series.push({ title: k, points: hist.filter((h) => typeof h[k] === 'number').map((h) => [Number(h.step), Number(h[k])]) });
    await writeFileAtomic(join(dir, 'training_report.html'), htmlReport('Training report', series, {
      steps: `${state.global_step} of ${total}`, seconds: r.seconds.toFixed(1), loss: loss.name, final_training_loss: r.trainingLoss ?? 'n/a', ...r.metrics,
    }));
    await writeFileAtomic(join(dir, 'training_args.json'), JSON.stringify(this.args, null, 2) + '\n');

  }
}

/** Every parameter the step runners train or read, once each (they share the model's tensors). */
function paramsOf(steps: Map<Loss, StepRunner>): TrainableParam[] {
  return [...new Map([...steps.values()].flatMap((s) => s.params.map((p) => [p.name, p] as const))).values()];
}
