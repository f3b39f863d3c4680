// `sentencekit train --config FILE.json`: fine-tunes a model as the configuration says (see
// src/training/config.ts), checking everything before any work (the output folder's rules
// included: src/training/output_dir.ts), and prints a JSON summary. SIGINT / SIGTERM save a
// checkpoint and exit 130 / 143 with the command that resumes.

import { SentenceTransformer } from '../../models/sentence_transformer.js';
import { loadDataset } from '../../data/dataset.js';
import { createLoss } from '../../losses/index.js';
import type { Loss } from '../../losses/loss.js';
import { readTrainConfig, type TrainConfig } from '../../training/config.js';
import { ConfigError } from '../../training/args.js';
import { checkLabelRange } from '../../training/label_range.js';
import { Trainer, type Evaluator, type TrainDataset } from '../../training/trainer.js';
import { LossEvaluator } from '../../evaluation/loss_evaluator.js';
import { buildEvaluator } from '../evaluator_spec.js';
import { checkTrainOutput } from '../../training/output_dir.js';
import { assertNotInput } from '../../io/output_guard.js';
import { parse, required, UsageError } from '../args.js';

export const usage = `Usage: sentencekit train --config FILE.json [--resume [CHECKPOINT_DIR] | --overwrite]

Fine-tunes a Sentence Transformer. FILE.json:
  { "model": "DIR or hub id" (or {"create": {"tokenizer", "hidden", "layers", "heads", "intermediate"}}),
    "train": { "path": "sts-train.csv", "format": "stsb" },   (or a list of named datasets)
    "eval":  { "path": "sts-dev.csv", "format": "stsb", "evaluator": "sts" },
    "loss":  { "name": "CoSENTLoss", "scale": 20 },
    "args":  { "epochs": 1, "batchSize": 16, "learningRate": 2e-5, "warmupRatio": 0.1, … },
    "output": "DIR", "overwrite": false }
Formats: stsb, nli, mrpc, csv, tsv, jsonl, parquet. Evaluators: sts, binary, triplet, retrieval,
and loss (the training loss on the eval data: the validation loss).
--resume continues from the newest checkpoint in the output folder (or the one given); it is refused,
with each difference named, when the batch size, data, loss or seed differ from the checkpoint's run.
A fresh run needs a new or empty output folder; --overwrite (or "overwrite": true) replaces an
earlier run there (its checkpoints and log are removed first). One run at a time writes a folder
(it holds DIR/sentencekit.lock). SIGINT / SIGTERM save a checkpoint, print how to resume and exit
130 / 143.`;

function lossFrom(spec: Record<string, unknown>, dim: number, where: string): Loss {
  const { name, ...options } = spec;
  if (typeof name !== 'string') throw new ConfigError(`${where}.name: required`);
  if (name === 'SoftmaxLoss' && options.embeddingDim === undefined) options.embeddingDim = dim;
  try {
    return createLoss(name, options);
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
}

/**
 * The class numbering the eval data must share with the training data: the config's eval
 * labelMap, else the training set's (given, or the sorted one its names received), so a class
 * missing from one file cannot shift the numbers of the others.
 */
function evalLabelMap(cfg: TrainConfig, trainMaps: (Record<string, number> | undefined)[]): Record<string, number> | undefined {
  if (cfg.eval?.labelMap) return cfg.eval.labelMap;
  return trainMaps.find((m) => m !== undefined);
}

export async function prepare(cfg: TrainConfig): Promise<{ model: SentenceTransformer; datasets: TrainDataset[]; loss: Loss | Record<string, Loss>; labelMaps: (Record<string, number> | undefined)[] }> {
  const model = typeof cfg.model === 'string'
    ? await SentenceTransformer.load(cfg.model)
    : await SentenceTransformer.create(cfg.model.create);
  const dim = model.dimension;
  const loss = cfg.lossPerDataset
    ? Object.fromEntries(Object.entries(cfg.loss).map(([k, v]) => [k, lossFrom(v as Record<string, unknown>, dim, `loss.${k}`)]))
    : lossFrom(cfg.loss as Record<string, unknown>, dim, 'loss');
  const datasets: TrainDataset[] = [];
  const labelMaps: (Record<string, number> | undefined)[] = [];
  for (const t of cfg.train) {
    const l = cfg.lossPerDataset ? (loss as Record<string, Loss>)[t.name!] : (loss as Loss);
    const labelKind = t.labelKind ?? (l.labelKind === 'none' ? 'none' : l.labelKind === 'embedding' ? 'embedding' : l.labelKind);
    const { limit, maxBadRowRate, maxBadRows, ...spec } = t;
    const d = await loadDataset({ ...spec, labelKind }, { limit, maxBadRowRate, maxBadRows });
    const rep = d.report;
    if (rep.badRows) {
      const first = rep.badSamples[0]!;
      process.stderr.write(`${t.path} (read as ${rep.format}): ${rep.rows} rows read, ${rep.badRows} bad row(s) skipped (at ${rep.unit} ${rep.badSamples.map((b) => b.line).slice(0, 5).join(', ')}; first: ${first.problem})\n`);
    }
    if (l.labelKind !== 'none') checkLabelRange(l, d.examples.map((e) => e.label), `${t.name ?? 'train'} (${t.path}, read as ${rep.format})`);
    labelMaps.push(labelKind === 'class' ? rep.labelMap : undefined);
    datasets.push({ name: t.name, examples: d.examples, columns: d.columns, source: t.path });
  }
  return { model, datasets, loss, labelMaps };
}

export async function train(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, resume: { type: 'boolean', default: false }, overwrite: { type: 'boolean', default: false }, help: { type: 'boolean' } }, usage);
  const configPath = required(values, 'config', usage);
  if (values.resume && values.overwrite) throw new UsageError('--resume continues the run in the output folder and --overwrite replaces it: give one of them', usage);
  if (!values.resume && positionals.length) throw new UsageError(`unexpected argument(s): ${positionals.join(' ')} (a checkpoint folder goes after --resume)`, usage);
  const cfg = await readTrainConfig(configPath);
  const resume = values.resume ? (positionals[0] ?? true) : false;
  const overwrite = Boolean(values.overwrite) || cfg.overwrite;
  if (typeof cfg.model === 'string') assertNotInput(cfg.output, { '"model"': cfg.model }, `${configPath}: "output"`);
  await checkTrainOutput(cfg.output, { resume, overwrite });
  const { model, datasets, loss, labelMaps } = await prepare(cfg);
  const labelMap = evalLabelMap(cfg, labelMaps);
  let evaluator: Evaluator | null = null;
  if (cfg.eval && (cfg.eval.evaluator as string) === 'loss') {
    // the validation loss: the training loss (of the first dataset) on the eval data
    const l = cfg.lossPerDataset ? Object.values(loss as Record<string, Loss>)[0] : (loss as Loss);
    if (!cfg.eval.path || !cfg.eval.format) throw new ConfigError('eval: the loss evaluator needs "path" and "format"');
    const e = cfg.eval;
    const d = await loadDataset(
      { path: cfg.eval.path, format: cfg.eval.format, columns: e.columns, labelKind: l.labelKind, ...(e.scoreScale !== undefined ? { scoreScale: e.scoreScale } : {}), ...(e.header !== undefined ? { header: e.header } : {}), ...(l.labelKind === 'class' && labelMap ? { labelMap } : {}) },
      { maxBadRowRate: e.maxBadRowRate, maxBadRows: e.maxBadRows, minRowsAtEnd: 1 },
    );
    evaluator = new LossEvaluator(l, d.examples, { name: cfg.eval.name ?? 'eval', batchSize: cfg.args.batchSize });
  } else if (cfg.eval) {
    const built = await buildEvaluator(cfg.eval.evaluator === 'binary' && labelMap && !cfg.eval.labelMap ? { ...cfg.eval, labelMap } : cfg.eval);
    for (const w of built.warnings) process.stderr.write(`warning: ${w}\n`);
    evaluator = built.evaluator;
  }
  const trainer = new Trainer({
    model, trainDataset: datasets, loss, args: cfg.args, evaluator, outputDir: cfg.output,
    multiDatasetSampling: cfg.multiDatasetSampling,
    resumeFromCheckpoint: resume,
    overwrite,
    resumeCommand: `sentencekit train --config ${shellQuote(configPath)} --resume`,
    log: (line) => void process.stderr.write(line + '\n'),
    baseModel: cfg.baseModel ?? (typeof cfg.model === 'string' ? cfg.model : 'a randomly initialised BERT model'),
  });
  const r = await trainer.train();
  process.stdout.write(JSON.stringify({ output: cfg.output, steps: r.globalStep, seconds: +r.seconds.toFixed(1), final_training_loss: r.trainingLoss, evaluation: r.metrics }, null, 2) + '\n');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
