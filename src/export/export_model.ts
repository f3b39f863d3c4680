// ONNX export of a Sentence Transformer into one folder that is at once
//   - a transformers.js model: onnx/model.onnx (input_ids, attention_mask, token_type_ids
//     int64 [batch_size, sequence_length] → last_hidden_state [batch_size, sequence_length,
//     hidden], the encoder alone) beside config.json and the tokenizer files;
//   - a whole-pipeline graph: onnx/sentence_embedding.onnx (same inputs → token_embeddings and
//     sentence_embedding [batch_size, dim], pooled, dense and normalised as the model does);
//   - a sentence-transformers model (modules.json, weights, pooling and dense folders);
// plus, per requested weight quantisation, onnx/model_quantized.onnx and
// onnx/sentence_embedding_quantized.onnx (int8 / uint8, transformers.js's dtype "q8") or
// onnx/model_fp16.onnx and onnx/sentence_embedding_fp16.onnx, and onnx/export.json describing
// every file (and, in `written_files`, every file the export wrote). Everything is checked
// (opset, module types, output folder) before anything is written, written into a temporary
// folder beside the destination, run once in onnxruntime, and only then moved into place, so a
// failed export never replaces a good one. Into an earlier export, only the files that export
// listed are replaced (the user's own files beside them stay); a non-empty folder that is not an
// export is refused unless `overwrite` is set, and then too only the exported files' paths change.
// Takes a SentenceTransformer (or a directory / Hub id) and an output folder.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { GraphBuilder, DEFAULT_OPSET } from '../graph/builder.js';
import type { Graph, Value } from '../graph/ir.js';
import { prune } from '../graph/prune.js';
import { irVersionFor, toModelProto } from '../graph/serialise.js';
import { writeFileAtomic } from '../io/atomic.js';
import { assertNotInput, assertWritableFolder } from '../io/output_guard.js';
import { Dense } from '../models/dense.js';
import { VERSION } from '../version.js';
import type { BuildMode } from '../models/module.js';
import { supportedModules } from '../models/module_registry.js';
import { Normalize } from '../models/normalize.js';
import { buildPipeline } from '../models/pipeline.js';
import { InitializerSource } from '../models/params.js';
import { Pooling } from '../models/pooling.js';
import { SentenceTransformer, type LoadOptions } from '../models/sentence_transformer.js';
import { Session, type Feeds } from '../runtime/session.js';
import { MAX_EXPORT_OPSET, opsetShortfall } from './opset.js';
import { quantizeDynamic, quantizeGatherTables, storeFloat16, WEIGHT_QUANTIZATIONS, type QuantizeReport, type WeightQuantization } from './quantize_graph.js';

/**
 * Exported graphs keep the padded [batch, seq] layout throughout (no token packing): the
 * standard shape that other runtimes and ONNX Runtime's transformer optimizer expect, and
 * last_hidden_state equal to Hugging Face's at padded positions too.
 */
const PORTABLE: BuildMode = { kind: 'inference', packTokens: false };

/** Version written into the ONNX files and export.json: the package's own (src/version.ts). */
export const PRODUCER_VERSION = VERSION;
/** Name of the metadata file inside the onnx/ folder. */
export const EXPORT_METADATA = 'export.json';

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

export interface ExportOptions {
  /** ai.onnx opset of the written graphs (default 17, the first with LayerNormalization). */
  opset?: number;
  /** Extra weight-quantised copies: 'int8' or 'uint8' (dynamic) and/or 'fp16'. */
  quantize?: WeightQuantization | readonly WeightQuantization[];
  /** int8/uint8: one weight scale per output column (default true) or per matrix. */
  perColumn?: boolean;
  /** int8/uint8: 7-bit weights, for CPUs without VNNI where u8·s8 products can saturate. */
  reduceRange?: boolean;
  /** int8/uint8: also store the word-embedding table as int8 with one scale per row (default true). */
  quantizeEmbeddings?: boolean;
  /** Run every written graph once in onnxruntime before committing (default true). */
  verify?: boolean;
  /** How to load the model when a directory or Hub id is given. */
  load?: LoadOptions;
  /**
   * Allow a non-empty output folder that is not an earlier export, and replacing files there
   * that an earlier export did not write. Files the export does not write are never touched.
   */
  overwrite?: boolean;
  /**
   * Called after each file lands in the temporary folder, with its path relative to the
   * export; throwing aborts the export and leaves the destination as it was.
   */
  onFile?: (relativePath: string) => void | Promise<void>;
}

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: (number | string)[] | null;
}

export interface ExportedFile {
  path: string;
  /** 'encoder': token ids → last_hidden_state (transformers.js); 'sentence': the whole pipeline. */
  graph: 'encoder' | 'sentence';
  weights: 'float32' | WeightQuantization;
  /** transformers.js's `dtype` that loads this file (encoder graphs only). */
  transformers_js_dtype: string | null;
  bytes: number;
  sha256: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Smallest cosine similarity to the float32 file's output over the check batch (quantised files). */
  check_cosine_min?: number;
  /** What the quantisation changed: tensors rewritten, MatMuls, embedding tables, weight bytes. */
  quantized?: { tensors: number; matmuls: number; embedding_tables: number; weight_bytes_before: number; weight_bytes_after: number };
}

export interface ExportMetadata {
  format: 'sentencekit-onnx-export';
  format_version: 1;
  producer: 'sentencekit';
  producer_version: string;
  opset: number;
  ir_version: number;
  files: ExportedFile[];
  quantization: Record<string, unknown>;
  pooling: string[];
  include_prompt: boolean;
  dimension: number;
  normalize: boolean;
  dense: { in_features: number; out_features: number; activation_function: string }[];
  hidden_size: number;
  max_seq_length: number;
  similarity_fn_name: string;
  /** How to run sentence_embedding*.onnx: feeds, and what prompt_length means when it is an input. */
  usage: string;
  /** Every file this export wrote, relative to its folder (export.json included): what a later export replaces. */
  written_files: string[];
}

export interface ExportResult {
  dir: string;
  metadata: ExportMetadata;
}

/** DynamicQuantizeLinear, the newest op the int8/uint8 graphs add, exists from opset 11. */
const QUANTIZE_MIN_OPSET = 11;

/** Throws unless every module is one the exporter can write (a Module: it builds its own graph). */
export function checkExportable(model: SentenceTransformer): void {
  model.modules.forEach((m, i) => {
    const mod: unknown = m.module;
    const o = mod as { type?: unknown; build?: unknown; parameters?: unknown } | null;
    if (!o || typeof o.type !== 'string' || typeof o.build !== 'function' || typeof o.parameters !== 'function') {
      throw new ExportError(`module ${i} (path "${m.path}") has type ${JSON.stringify(o?.type ?? typeof mod)}, which the ONNX export does not support (supported: ${supportedModules()})`);
    }
  });
  if (model.modules[model.modules.length - 1].module.produces !== 'sentence') throw new ExportError('the model has no Pooling module, so there is no sentence embedding to export');
}

/** The encoder alone, as transformers.js expects it: ids → last_hidden_state. */
export function buildEncoderGraph(model: SentenceTransformer, opset = DEFAULT_OPSET): Graph {
  const g = new GraphBuilder('encoder', { opset });
  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  const tokenTypeIds = g.input('token_type_ids', 'int64', dims);
  const first = model.modules[0];
  const f = buildPipeline(g, [first], () => new InitializerSource(g, (n) => first.module.parameters().get(n)!), { inputIds, attentionMask, tokenTypeIds, promptLength: null }, PORTABLE);
  if (!f.tokenEmbeddings) throw new ExportError('the Transformer module produced no token embeddings');
  g.output(f.tokenEmbeddings, 'last_hidden_state');
  prune(g.graph);
  return g.graph;
}

function normaliseQuantize(q: ExportOptions['quantize']): WeightQuantization[] {
  const list = q === undefined ? [] : typeof q === 'string' ? [q] : [...q];
  for (const k of list) {
    if (!(WEIGHT_QUANTIZATIONS as readonly string[]).includes(k)) throw new ExportError(`quantize "${String(k)}" is not one of ${WEIGHT_QUANTIZATIONS.join(', ')}`);
  }
  const uniq = [...new Set(list)];
  if (uniq.includes('int8') && uniq.includes('uint8')) {
    throw new ExportError('quantize: int8 and uint8 both write onnx/model_quantized.onnx; choose one of them');
  }
  return uniq;
}

function checkOpset(opset: number): void {
  if (!Number.isInteger(opset) || opset < 1) throw new ExportError(`opset must be a positive integer, got ${String(opset)}`);
  if (opset > MAX_EXPORT_OPSET) throw new ExportError(`opset ${opset} is above ${MAX_EXPORT_OPSET}, the highest this exporter writes; use --opset ${MAX_EXPORT_OPSET} or lower`);
}

function explainShortfall(g: Graph, opset: number, what: string): void {
  const short = opsetShortfall(g, opset);
  if (short.length === 0) return;
  const need = short[0].opset;
  const list = short.map((s) => `${s.why} (opset ${s.opset}, ${s.count} node${s.count === 1 ? '' : 's'})`).join(', ');
  throw new ExportError(`opset ${opset} is too low for the ${what}: it uses ${list}; export with --opset ${need} or higher. Nothing was written.`);
}

async function pathKind(p: string): Promise<'missing' | 'dir' | 'other'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw new ExportError(`${p}: cannot inspect the output location (${(e as Error).message})`);
  }
}

/**
 * Where the export goes: a new or empty folder ('fresh'), or beside what a folder holds
 * ('merge', with the files an earlier export wrote, or null for an export.json that predates
 * `written_files`). A non-empty folder that is not an export is refused unless `overwrite`.
 */
type Destination = { kind: 'fresh' } | { kind: 'merge'; previous: Set<string> | null };

/** A relative path inside the export folder, or null for one that would leave it. */
function safeRelative(p: unknown): string | null {
  if (typeof p !== 'string' || p === '' || isAbsolute(p)) return null;
  const n = normalize(p);
  return n === '..' || n.startsWith(`..${sep}`) ? null : n.split(sep).join('/');
}

async function checkDestination(out: string, overwrite: boolean): Promise<Destination> {
  const kind = await pathKind(out);
  if (kind === 'missing') return { kind: 'fresh' };
  if (kind === 'other') throw new ExportError(`${out}: exists and is not a directory; choose another --out`);
  const entries = await readdir(out);
  if (entries.length === 0) return { kind: 'fresh' };
  const metaPath = join(out, 'onnx', EXPORT_METADATA);
  if ((await pathKind(metaPath)) === 'other') {
    let meta: Partial<ExportMetadata>;
    try {
      meta = JSON.parse(await readFile(metaPath, 'utf8')) as Partial<ExportMetadata>;
    } catch (e) {
      throw new ExportError(`${metaPath}: cannot read the earlier export's metadata (${(e as Error).message}); it says which files an export may replace. Fix or remove it, or export into a new folder`);
    }
    if (!Array.isArray(meta.written_files)) return { kind: 'merge', previous: null };
    const previous = new Set<string>();
    for (const f of meta.written_files) {
      const rel = safeRelative(f);
      if (rel === null) throw new ExportError(`${metaPath}: written_files holds ${JSON.stringify(f)}, a path outside the folder; fix or remove the file`);
      previous.add(rel);
    }
    return { kind: 'merge', previous };
  }
  assertWritableFolder(out, {
    overwrite,
    what: 'the export',
    hint: `It is not an earlier export (no onnx/${EXPORT_METADATA}); with --overwrite only the files the export writes are replaced, the others stay`,
  });
  return { kind: 'merge', previous: new Set() };
}

function tensorInfo(v: Value): TensorInfo {
  return { name: v.name, dtype: v.dtype, shape: v.shape === null ? null : [...v.shape] };
}

function checkFeeds(model: SentenceTransformer, withPrompt: boolean): Feeds {
  const texts = ['A short check sentence.', 'A second, somewhat longer sentence to check the exported graph with padding.'];
  const batch = model.tokenizer.pad(model.tokenizer.encodeBatch(texts));
  const dims = [batch.batchSize, batch.seqLen];
  const feeds: Feeds = {
    input_ids: { dtype: 'int64', dims, data: batch.inputIds },
    attention_mask: { dtype: 'int64', dims, data: batch.attentionMask },
    token_type_ids: { dtype: 'int64', dims, data: batch.tokenTypeIds },
  };
  if (withPrompt) feeds.prompt_length = { dtype: 'int64', dims: [], data: BigInt64Array.of(0n) };
  return feeds;
}

/** Runs `bytes` once; returns the first output, flattened per row, after checking shape and finiteness. */
async function runCheck(bytes: Uint8Array, feeds: Feeds, output: string, rel: string, rows: number, cols: number): Promise<Float32Array> {
  let s: Session;
  try {
    s = await Session.create(bytes, { cache: false, threads: 1 });
  } catch (e) {
    throw new ExportError(`${rel}: onnxruntime cannot load the exported graph (${(e as Error).message}); nothing was replaced`);
  }
  try {
    const r = await s.run(feeds, [output]);
    const t = r[output];
    const data = t.data as Float32Array;
    if (t.dims[0] !== rows || data.length !== rows * cols) throw new ExportError(`${rel}: ${output} has dims [${t.dims.join(', ')}], expected ${rows} rows of ${cols}`);
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new ExportError(`${rel}: ${output} holds a non-finite value on the check batch; the export was not written`);
    return data;
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${rel}: onnxruntime failed to run the exported graph (${(e as Error).message}); nothing was replaced`);
  } finally {
    await s.release();
  }
}

function minRowCosine(a: Float32Array, b: Float32Array, rows: number): number {
  const dim = a.length / rows;
  let m = 1;
  for (let r = 0; r < rows; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i] * b[i];
      aa += a[i] * a[i];
      bb += b[i] * b[i];
    }
    m = Math.min(m, ab / Math.max(Math.sqrt(aa * bb), 1e-30));
  }
  return +m.toFixed(6);
}

/**
 * Exports `model` into `outDir`; see the file comment for the layout. Returns the folder and
 * what export.json holds.
 */
export async function exportModel(model: SentenceTransformer | string, outDir: string, opts: ExportOptions = {}): Promise<ExportResult> {
  // ---- every check before anything is written
  const opset = opts.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const quantize = normaliseQuantize(opts.quantize);
  const out = resolve(outDir);
  if (typeof model === 'string') assertNotInput(out, { '--model': model }, '--out');
  const destination = await checkDestination(out, opts.overwrite ?? false);
  const m = typeof model === 'string' ? await SentenceTransformer.load(model, opts.load ?? {}) : model;
  checkExportable(m);
  const probe = Math.max(opset, DEFAULT_OPSET);
  const build = (kind: 'encoder' | 'sentence', at: number): Graph => (kind === 'encoder' ? buildEncoderGraph(m, at) : m.buildGraph(at, PORTABLE).graph);
  // the float32 graphs are built first to check the opset; at the requested opset they are the ones written
  const prebuilt = new Map<'encoder' | 'sentence', Graph>();
  // an input module that gives the sentence embedding itself (StaticEmbedding) has no encoder
  // (token-level) graph for transformers.js: sentence graphs only
  const isStatic = m.inputModule.produces !== 'tokens';
  const kinds = isStatic ? (['sentence'] as const) : (['encoder', 'sentence'] as const);
  for (const kind of kinds) {
    const g = build(kind, probe);
    explainShortfall(g, opset, kind === 'encoder' ? 'encoder graph (onnx/model.onnx)' : 'sentence-embedding graph (onnx/sentence_embedding.onnx)');
    if (probe === opset) prebuilt.set(kind, g);
  }
  const dynamicQ = quantize.find((q) => q !== 'fp16');
  if (dynamicQ && opset < QUANTIZE_MIN_OPSET) {
    throw new ExportError(`opset ${opset} is too low for ${dynamicQ} quantisation: DynamicQuantizeLinear needs opset ${QUANTIZE_MIN_OPSET}; export with --opset ${QUANTIZE_MIN_OPSET} or higher. Nothing was written.`);
  }
  const verify = opts.verify ?? true;
  const pooling = m.pooling;
  const withPrompt = pooling ? !pooling.includePrompt : false;
  const feeds = verify ? checkFeeds(m, withPrompt) : null;
  const encoderFeeds = feeds ? { input_ids: feeds.input_ids, attention_mask: feeds.attention_mask, token_type_ids: feeds.token_type_ids } : null;

  // ---- write into a temporary folder beside the destination
  const parent = dirname(out);
  await mkdir(parent, { recursive: true }).catch((e: Error) => {
    throw new ExportError(`${parent}: cannot create the parent of the output folder (${e.message})`);
  });
  const tmp = join(parent, `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(join(tmp, 'onnx'), { recursive: true });
    await m.save(tmp);
    const tpath = m.modules[0].path;
    if (tpath !== '' && !isStatic) {
      // transformers.js reads config.json and the tokenizer from the folder's root
      await writeFileAtomic(join(tmp, 'config.json'), JSON.stringify(m.transformer.configJson(), null, 2) + '\n');
      await m.tokenizer.saveTo(tmp);
    }
    await opts.onFile?.('config.json');

    const files: ExportedFile[] = [];
    const quantInfo: Record<string, unknown> = {};
    const reference = new Map<string, Float32Array>();
    const writeGraph = async (kind: 'encoder' | 'sentence', weights: 'float32' | WeightQuantization): Promise<void> => {
      const pre = weights === 'float32' ? prebuilt.get(kind) : undefined;
      if (pre) prebuilt.delete(kind);
      const g = pre ?? build(kind, opset);
      let report: QuantizeReport | null = null;
      let tables: QuantizeReport | null = null;
      if (weights === 'fp16') report = storeFloat16(g);
      else if (weights !== 'float32') {
        report = quantizeDynamic(g, weights, { perColumn: opts.perColumn, reduceRange: opts.reduceRange });
        if (opts.quantizeEmbeddings ?? true) tables = quantizeGatherTables(g);
      }
      const stem = kind === 'encoder' ? 'model' : 'sentence_embedding';
      const suffix = weights === 'float32' ? '' : weights === 'fp16' ? '_fp16' : '_quantized';
      const rel = `onnx/${stem}${suffix}.onnx`;
      const bytes = toModelProto(g, {
        opset,
        producerVersion: PRODUCER_VERSION,
        docString: kind === 'encoder' ? 'BERT encoder: token ids to last_hidden_state' : 'Sentence Transformer: token ids to token_embeddings and sentence_embedding',
        metadata: { graph: kind, weights, pooling: pooling ? pooling.modes.join(',') : 'static_embedding_mean', dimension: String(m.dimension) },
      });
      const entry: ExportedFile = {
        path: rel,
        graph: kind,
        weights,
        transformers_js_dtype: kind === 'encoder' ? (weights === 'float32' ? 'fp32' : weights === 'fp16' ? 'fp16' : 'q8') : null,
        bytes: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        inputs: g.inputs.filter((v) => !g.initializers.has(v.name)).map(tensorInfo),
        outputs: g.outputs.map(tensorInfo),
      };
      if (feeds && encoderFeeds) {
        const output = kind === 'encoder' ? 'last_hidden_state' : 'sentence_embedding';
        const rows = feeds.input_ids.dims[0];
        const cols = kind === 'encoder' ? feeds.input_ids.dims[1] * m.inputModule.hiddenSize : m.dimension;
        const got = await runCheck(bytes, kind === 'encoder' ? encoderFeeds : feeds, output, rel, rows, cols);
        if (weights === 'float32') reference.set(kind, got);
        else {
          const ref = reference.get(kind);
          if (ref) entry.check_cosine_min = minRowCosine(ref, got, kind === 'encoder' ? rows * feeds.input_ids.dims[1] : rows);
        }
      }
      if (report && weights !== 'float32') {
        quantInfo[weights] = weights === 'fp16'
          ? { method: 'float32 initializers of ≥1024 elements stored as float16, Cast to float32 at load (onnxruntime folds the Casts)' }
          : {
            method: 'dynamic: DynamicQuantizeLinear (uint8 activations, per tensor) + MatMulInteger + Cast + scale Mul; onnxruntime fuses it into DynamicQuantizeMatMul',
            weights: weights === 'int8' ? 'int8, symmetric' : 'uint8, asymmetric',
            per_column: opts.perColumn ?? true,
            reduce_range: opts.reduceRange ?? false,
            embedding_tables: (opts.quantizeEmbeddings ?? true) ? 'int8, one scale per row; Gather then Cast and scale Mul' : null,
          };
        entry.quantized = {
          tensors: report.changed + (tables?.changed ?? 0),
          matmuls: weights === 'fp16' ? 0 : report.changed,
          embedding_tables: tables?.changed ?? 0,
          weight_bytes_before: report.bytesBefore + (tables?.bytesBefore ?? 0),
          weight_bytes_after: report.bytesAfter + (tables?.bytesAfter ?? 0),
        };
      }
      await writeFileAtomic(join(tmp, rel), bytes);
      files.push(entry);
      await opts.onFile?.(rel);
    };
    for (const weights of ['float32' as const, ...quantize]) for (const kind of kinds) await writeGraph(kind, weights);
    const dense = m.modules.flatMap((x) => (x.module instanceof Dense ? [{ in_features: x.module.inFeatures, out_features: x.module.outFeatures, activation_function: x.module.activationFunction }] : []));
    const metadata: ExportMetadata = {
      format: 'sentencekit-onnx-export',
      format_version: 1,
      producer: 'sentencekit',
      producer_version: PRODUCER_VERSION,
      opset,
      ir_version: irVersionFor(opset),
      files,
      quantization: quantInfo,
      pooling: pooling ? [...pooling.modes] : [],
      include_prompt: pooling ? pooling.includePrompt : true,
      dimension: m.dimension,
      normalize: m.modules.some((x) => x.module instanceof Normalize),
      dense,
      hidden_size: m.inputModule.hiddenSize,
      max_seq_length: m.maxSeqLength,
      similarity_fn_name: m.similarityFnName,
      usage: isStatic
        ? 'sentence_embedding*.onnx (a StaticEmbedding model: no model*.onnx): feed input_ids and attention_mask (int64 [batch, seq]; the tokenizer in the StaticEmbedding module folder, WITHOUT special tokens, truncated to max_seq_length; token_type_ids is accepted and unused); read sentence_embedding [batch, dimension], the mean of the token rows.'
        : withPrompt
        ? 'sentence_embedding*.onnx: feed input_ids, attention_mask, token_type_ids (int64 [batch, seq], the tokenizer in this folder, truncated to max_seq_length) and prompt_length (int64 scalar: tokens of the prompt with [CLS], without its [SEP]; 0 without a prompt); read sentence_embedding [batch, dimension].'
        : 'sentence_embedding*.onnx: feed input_ids, attention_mask, token_type_ids (int64 [batch, seq], the tokenizer in this folder, truncated to max_seq_length); read sentence_embedding [batch, dimension]. model*.onnx gives last_hidden_state for transformers.js.',
      written_files: [...new Set([...(await filesUnder(tmp)), `onnx/${EXPORT_METADATA}`])].sort(),
    };
    await writeFileAtomic(join(tmp, 'onnx', EXPORT_METADATA), JSON.stringify(metadata, null, 2) + '\n');
    await opts.onFile?.(`onnx/${EXPORT_METADATA}`);
    if (destination.kind === 'fresh') await swapInto(tmp, out);
    else await mergeInto(tmp, out, destination.previous, metadata.written_files, opts.overwrite ?? false);
    return { dir: out, metadata };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}

/** Every file under `dir`, as '/'-separated paths relative to it. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * Moves the finished export from `tmp` into the non-empty folder `out`: the files the earlier
 * export wrote (`previous`; null: an old export.json without the list, so only the paths this
 * export writes) are moved aside, the new ones moved in, and the old ones deleted last; any
 * failure puts everything back. Files of `out` that no export wrote are never touched, and one
 * that the new export would replace is refused unless `overwrite`.
 */
async function mergeInto(tmp: string, out: string, previous: Set<string> | null, written: string[], overwrite: boolean): Promise<void> {
  const fresh = new Set(written);
  const prev = previous ?? fresh;
  const clashes: string[] = [];
  for (const p of fresh) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      if ((await pathKind(join(out, ...parts.slice(0, i)))) === 'other') clashes.push(`${parts.slice(0, i).join('/')} (a file where the export needs a folder)`);
    }
    const k = await pathKind(join(out, p));
    if (k === 'dir') clashes.push(`${p} (a folder where the export writes a file)`);
    else if (k === 'other' && !prev.has(p) && !overwrite) clashes.push(p);
  }
  if (clashes.length) {
    const list = [...new Set(clashes)];
    throw new ExportError(`${out}: the export would replace ${list.slice(0, 5).join(', ')}${list.length > 5 ? ` and ${list.length - 5} more` : ''}, which no earlier export there wrote; move them away or pass --overwrite (only the export's own files are replaced). Nothing was replaced`);
  }
  const backup = join(dirname(out), `.${basename(out)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  const moved: string[] = [];
  const placed: string[] = [];
  try {
    for (const p of new Set([...prev, ...fresh])) {
      if ((await pathKind(join(out, p))) !== 'other') continue;
      await mkdir(dirname(join(backup, p)), { recursive: true });
      await rename(join(out, p), join(backup, p));
      moved.push(p);
    }
    for (const p of fresh) {
      await mkdir(dirname(join(out, p)), { recursive: true });
      await rename(join(tmp, p), join(out, p));
      placed.push(p);
    }
  } catch (e) {
    for (const p of placed.reverse()) await rename(join(out, p), join(tmp, p)).catch(() => undefined);
    for (const p of moved.reverse()) await rename(join(backup, p), join(out, p)).catch(() => undefined);
    await rm(backup, { recursive: true, force: true }).catch(() => undefined);
    throw new ExportError(`${out}: cannot move the new export into place (${(e as Error).message}); the previous export is left as it was`);
  }
  await rm(backup, { recursive: true, force: true });
  await rm(tmp, { recursive: true, force: true });
  // folders only the earlier export had (e.g. 2_Dense/ of another model) go when they are empty
  for (const p of prev) {
    if (fresh.has(p)) continue;
    for (let d = dirname(p); d !== '.' && d !== ''; d = dirname(d)) {
      if (!(await rmdir(join(out, d)).then(() => true, () => false))) break;
    }
  }
}

/** Renames the finished temporary folder onto `out`, keeping the old one until the new one is in place. */
async function swapInto(tmp: string, out: string): Promise<void> {
  let old: string | null = null;
  if ((await pathKind(out)) !== 'missing') {
    old = join(dirname(out), `.${basename(out)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(out, old);
    } catch (e) {
      throw new ExportError(`${out}: cannot move the previous export aside (${(e as Error).message}); it is left as it was`);
    }
  }
  try {
    await rename(tmp, out);
  } catch (e) {
    if (old) await rename(old, out).catch(() => undefined);
    throw new ExportError(`${out}: cannot move the new export into place (${(e as Error).message}); the previous export is left as it was`);
  }
  if (old) await rm(old, { recursive: true, force: true });
}
