// Checkpoints: the model in the sentence-transformers layout, the AdamW moments
// (optimizer.safetensors), the loss's own weights and trainer_state.json, written into a
// temporary directory that is renamed into place only when complete — a run killed mid-write
// leaves the previous checkpoint intact. `latestCheckpoint` finds the newest complete one.
// trainer_state.json also holds the run's fingerprint (what a resume must match).

import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { f32Tensor, readSafetensors, toFloat32, writeSafetensors } from '../models/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { TrainableParam } from './param_source.js';
import type { Fingerprint } from './fingerprint.js';

export interface TrainerState {
  global_step: number;
  epoch: number;
  /** Batches of `epoch` already consumed. */
  step_in_epoch: number;
  best_metric: number | null;
  best_step: number | null;
  evals_without_improvement: number;
  log_history: Record<string, number | string>[];
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function saveCheckpoint(dir: string, model: SentenceTransformer, params: TrainableParam[], moments: Map<string, { m: Float32Array; v: Float32Array }>, state: TrainerState, extra: Record<string, unknown>): Promise<void> {
  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await model.save(tmp);
  const opt = new Map<string, ReturnType<typeof f32Tensor>>();
  for (const [name, mv] of moments) {
    opt.set(`${name}:m`, f32Tensor(mv.m, [mv.m.length]));
    opt.set(`${name}:v`, f32Tensor(mv.v, [mv.v.length]));
  }
  await writeSafetensors(join(tmp, 'optimizer.safetensors'), opt);
  const lossParams = params.filter((p) => p.name.startsWith('loss/'));
  if (lossParams.length) await writeSafetensors(join(tmp, 'loss.safetensors'), new Map(lossParams.map((p) => [p.name, f32Tensor(p.param.data, p.param.shape)])));
  await writeFileAtomic(join(tmp, 'trainer_state.json'), JSON.stringify({ ...state, ...extra }, null, 2) + '\n');
  await fsyncDir(tmp);
  const old = `${dir}.old-${process.pid}`;
  const exists = await stat(dir).then(() => true, () => false);
  if (exists) await rename(dir, old);
  await rename(tmp, dir);
  await fsyncDir(parent);
  if (exists) await rm(old, { recursive: true, force: true });
}

/** The newest complete checkpoint-N directory under `outputDir`, or null. */
export async function latestCheckpoint(outputDir: string): Promise<string | null> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  const steps = names.map((n) => /^checkpoint-(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
  for (const s of steps) {
    const d = join(outputDir, `checkpoint-${s}`);
    if (await stat(join(d, 'trainer_state.json')).then(() => true, () => false)) return d;
  }
  return null;
}

/** A checkpoint's trainer_state.json, with the fingerprint of the run that wrote it (absent in older ones). */
export async function readCheckpointState(dir: string): Promise<TrainerState & { fingerprint?: Fingerprint }> {
  const statePath = join(dir, 'trainer_state.json');
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch (e) {
    throw new Error(`${dir}: not a complete checkpoint (cannot read trainer_state.json: ${(e as Error).message}); give a checkpoint-N folder, or resume from the newest one`);
  }
  try {
    return JSON.parse(text) as TrainerState & { fingerprint?: Fingerprint };
  } catch (e) {
    throw new Error(`${statePath}: not valid JSON (${(e as Error).message}); the checkpoint is damaged, resume from another one`);
  }
}

/**
 * Copies a checkpoint's weights and moments into the running trainer's buffers; returns its
 * state. `inputPath` is the first module's folder ('' for a Transformer, 0_StaticEmbedding for
 * a static model), whose model.safetensors holds the unprefixed parameters.
 */
export async function loadCheckpointInto(dir: string, params: TrainableParam[], moments: Map<string, { m: Float32Array; v: Float32Array }>, inputPath = ''): Promise<TrainerState> {
  const statePath = join(dir, 'trainer_state.json');
  const state = JSON.parse(await readFile(statePath, 'utf8')) as TrainerState;
  const model = await readSafetensors(join(dir, inputPath, 'model.safetensors'));
  const opt = await readSafetensors(join(dir, 'optimizer.safetensors'));
  const lossFile = await readSafetensors(join(dir, 'loss.safetensors')).catch(() => null);
  const dense = new Map<string, Map<string, Float32Array>>();
  for (const p of params) {
    let data: Float32Array | null = null;
    if (p.name.startsWith('loss/')) {
      const t = lossFile?.tensors.get(p.name);
      if (t) data = toFloat32(t, p.name);
    } else if (p.name.includes('/')) {
      const [path, local] = p.name.split('/');
      let m = dense.get(path);
      if (!m) {
        const f = await readSafetensors(join(dir, path, 'model.safetensors'));
        m = new Map([...f.tensors].map(([k, t]) => [k, toFloat32(t, k)]));
        dense.set(path, m);
      }
      data = m.get(local) ?? null;
    } else {
      const t = model.tensors.get(p.name) ?? model.tensors.get(`bert.${p.name}`);
      if (t) data = toFloat32(t, p.name);
    }
    if (!data || data.length !== p.param.data.length) throw new Error(`${dir}: checkpoint lacks parameter ${p.name} or its size differs; it belongs to another model`);
    p.param.data.set(data);
    const mv = moments.get(p.name);
    if (mv) {
      const m = opt.tensors.get(`${p.name}:m`);
      const v = opt.tensors.get(`${p.name}:v`);
      if (!m || !v) throw new Error(`${dir}/optimizer.safetensors: moments of ${p.name} missing`);
      mv.m.set(toFloat32(m, `${p.name}:m`));
      mv.v.set(toFloat32(v, `${p.name}:v`));
    }
  }
  return state;
}

/**
 * Removes what an interrupted checkpoint write left behind: unfinished `*.tmp-*` directories,
 * and `*.old-*` copies (restored when their checkpoint was not renamed into place).
 */
export async function cleanInterruptedWrites(outputDir: string): Promise<void> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  for (const n of names) {
    const m = /^(.*)\.(tmp|old)-\d+(?:-\d+)?$/.exec(n);
    if (!m) continue;
    const final = join(outputDir, m[1]);
    if (m[2] === 'old' && !(await stat(final).then(() => true, () => false))) await rename(join(outputDir, n), final);
    else await rm(join(outputDir, n), { recursive: true, force: true });
  }
}
