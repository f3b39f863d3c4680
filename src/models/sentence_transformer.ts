// SentenceTransformer: a tokenizer plus a pipeline of modules (Transformer → Pooling →
// [Dense] → [Normalize], or StaticEmbedding → [Dense] → [Normalize]; each a Module, loaded through the module registry by its modules.json
// type) read from and written to the sentence-transformers directory layout, compiled by the
// pipeline builder into ONE ONNX graph (token ids → token embeddings → sentence embedding) that
// onnxruntime runs. `encode` tokenizes, sorts texts by token length so batches carry little
// padding, runs the graph batch by batch and returns embeddings in the caller's order. With
// backend 'onnx' it runs an exported sentence-level graph file (onnx/sentence_embedding*.onnx)
// instead of the graph built from the weights.

import { createHash } from 'node:crypto';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { GraphBuilder, DEFAULT_OPSET } from '../graph/builder.js';
import { prune } from '../graph/prune.js';
import { toModelProto } from '../graph/serialise.js';
import type { TensorData } from '../graph/ir.js';
import { Session, type Feeds, type Fetches, type SessionOptions } from '../runtime/session.js';
import { WorkerSession } from '../runtime/worker.js';
import { Tokenizer, type EncodedText } from '../tokenizers/tokenizer.js';
import { writeFileAtomic } from '../io/atomic.js';
import { architecture } from './architectures/registry.js';
import { Dense } from './dense.js';
import type { Features } from './features.js';
import { Fields, ModelFormatError, readJsonObject, type JsonObject } from './json_file.js';
import { checkMaxSeqLength } from './max_seq_length.js';
import { INFERENCE, isInputModule, type BuildMode, type InputModule, type Module, type ModuleEntry } from './module.js';
import { MEAN_POOLING_DEFAULT, moduleLoader } from './module_registry.js';
import { Normalize, normalizeRows } from './normalize.js';
import { InitializerSource } from './params.js';
import { buildPipeline, checkPipeline, paramNamespace, pipelineDimension } from './pipeline.js';
import { Pooling, type PoolingMode } from './pooling.js';
import { STATIC_EMBEDDING_TYPES, StaticEmbedding, truncationLength, UNLIMITED_TOKENS } from './static_embedding.js';
import { Transformer } from './transformer.js';
import { resolveModelSpec } from './default_model.js';
import { isHubId, resolveModelDir, type HubOptions } from './hub_model.js';
import { similarity, similarityPairwise, type Embeddings, type SimilarityFn } from './similarity.js';
import { detectFormat, moduleKind, moduleTypeName, parseFormat, poolingFlagsProblem, stConfigJson, type DirFormat, type StFormat } from './st_format.js';
import { VERSION } from '../version.js';

export type { Module, ModuleEntry, InputModule } from './module.js';

export type { SimilarityFn } from './similarity.js';

export interface LoadOptions extends HubOptions {
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** Run the graph in a worker thread so the event loop stays free (servers). */
  worker?: boolean;
  /** Override max_seq_length from sentence_bert_config.json. */
  maxSeqLength?: number;
  /** 'graph' (default): build the graph from the weights; 'onnx': run an exported sentence-level file. */
  backend?: 'graph' | 'onnx';
  /** With backend 'onnx': the graph file, relative to the model folder (default onnx/sentence_embedding.onnx). */
  file?: string;
}

export interface EncodeOptions {
  batchSize?: number;
  /** L2-normalise the embeddings (in addition to any Normalize module). */
  normalize?: boolean;
  /** Text prepended to every input (e.g. "query: "). */
  prompt?: string;
  /** Name of a prompt in config_sentence_transformers.json. */
  promptName?: string;
  /** Keep only the first N dimensions (Matryoshka), re-normalised when `normalize` is set. */
  truncateDim?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EmbeddingMatrix {
  data: Float32Array;
  rows: number;
  dim: number;
  /** How many texts were longer than max_seq_length and were truncated. */
  truncated: number;
  /** Tokens fed to the model (without padding). */
  tokens: number;
}

export interface CreateOptions {
  tokenizerDir: string;
  /** config.json's model_type of the encoder (default bert). */
  arch?: string;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  pooling?: PoolingMode | PoolingMode[];
  normalize?: boolean;
  dense?: number;
  seed?: number;
  maxSeqLength?: number;
  maxPositionEmbeddings?: number;
  activation?: string;
}

interface Runner {
  readonly outputNames: readonly string[];
  run(feeds: Feeds, outputs?: string[]): Promise<Fetches>;
}

export class SentenceTransformer {
  private runner: Promise<Runner> | null = null;
  /** The format of the folder it was loaded from (null for a model made here); `info` names it. */
  sourceFormat: DirFormat | null = null;

  constructor(
    readonly tokenizer: Tokenizer,
    readonly modules: ModuleEntry[],
    readonly prompts: Record<string, string> = {},
    readonly defaultPromptName: string | null = null,
    readonly similarityFnName: SimilarityFn = 'cosine',
    readonly loadOptions: LoadOptions = {},
    readonly stConfigExtra: JsonObject = {},
  ) {
    const first = modules[0]?.module;
    if (!first || !isInputModule(first)) throw new ModelFormatError('the first module must be a Transformer (or another module that reads token ids)');
  }

  /** The first module: it turns token ids into embeddings. */
  get inputModule(): InputModule {
    return this.modules[0].module as InputModule;
  }

  /** The Hugging Face encoder; the error says so when the first module is another kind. */
  get transformer(): Transformer {
    const m = this.modules[0].module;
    if (!(m instanceof Transformer)) throw new ModelFormatError(`this model has no Transformer module (its first module is ${m.type})`);
    return m;
  }

  get maxSeqLength(): number {
    return this.inputModule.maxSeqLength;
  }

  /** Dimension of the sentence embedding. */
  get dimension(): number {
    return pipelineDimension(this.modules);
  }

  /** Replaces module `index` (a changed copy of it: another max length, a trained one); forgets the compiled graph. */
  replaceModule(index: number, module: Module): void {
    const e = this.modules[index];
    if (!e) throw new RangeError(`replaceModule: no module ${index}`);
    if (index === 0 && !isInputModule(module)) throw new ModelFormatError('the first module must read token ids');
    this.modules[index] = { ...e, module };
    this.invalidate();
  }

  get pooling(): Pooling | null {
    return (this.modules.find((m) => m.module instanceof Pooling)?.module as Pooling | undefined) ?? null;
  }

  parameterCount(): number {
    let n = 0;
    for (const m of this.modules) for (const p of m.module.parameters().values()) n += p.data.length;
    return n;
  }

  // ---------------------------------------------------------------- loading

  /**
   * Loads a sentence-transformers model from a directory or a Hugging Face Hub id; with none
   * (undefined or ''), the built-in model (sentencekit-static-en) that ships with the package.
   */
  static async load(dirOrHubId?: string, opts: LoadOptions = {}): Promise<SentenceTransformer> {
    const dir = await resolveModelDir(resolveModelSpec(dirOrHubId), opts);
    if (opts.backend === 'onnx') opts = { ...opts, file: await onnxBackendFile(dir, opts.file) };
    else if (opts.backend !== undefined && opts.backend !== 'graph') throw new Error(`backend must be 'graph' or 'onnx', got ${JSON.stringify(opts.backend)}`);
    const modulesJson = await readModulesJson(dir);
    const stCfgPath = join(dir, 'config_sentence_transformers.json');
    const stCfg = (await readJsonObject(stCfgPath, true)) ?? {};
    const sf = new Fields(stCfg, stCfgPath);
    const prompts = sf.strMap('prompts');
    const defaultPromptName = sf.optStr('default_prompt_name');
    if (defaultPromptName && !(defaultPromptName in prompts)) {
      throw new ModelFormatError(`${stCfgPath}: default_prompt_name "${defaultPromptName}" is not among the prompts (${Object.keys(prompts).join(', ') || 'none'})`);
    }
    const simName = sf.str('similarity_fn_name', 'cosine');
    if (!['cosine', 'dot', 'euclidean', 'manhattan'].includes(simName)) {
      throw new ModelFormatError(`${stCfgPath}: similarity_fn_name "${simName}" is not one of cosine, dot, euclidean, manhattan`);
    }
    const modules: ModuleEntry[] = [];
    let tokenizer: Tokenizer | null = null;
    for (const e of modulesJson) {
      const load = moduleLoader(e.type, dir);
      const loaded = await load({ dir: join(dir, e.path), modelDir: dir, maxSeqLength: opts.maxSeqLength, previous: modules.map((m) => m.module) });
      if (loaded.tokenizer && !tokenizer) tokenizer = loaded.tokenizer;
      modules.push({ name: e.name, path: e.path, module: loaded.module });
    }
    if (!tokenizer) throw new ModelFormatError(`${join(dir, 'modules.json')}: no Transformer or StaticEmbedding module`);
    checkPipeline(dir, modules);
    const extra: JsonObject = {};
    for (const [k, v] of Object.entries(stCfg)) if (!['prompts', 'default_prompt_name', 'similarity_fn_name', '__version__', 'model_type'].includes(k)) extra[k] = v;
    const model = new SentenceTransformer(tokenizer, modules, prompts, defaultPromptName, simName as SimilarityFn, opts, extra);
    const poolingEntry = modulesJson.find((e) => moduleKind(e.type) === 'Pooling');
    const poolingCfg = poolingEntry ? await readJsonObject(join(dir, poolingEntry.path, 'config.json'), true) : null;
    model.sourceFormat = detectFormat(modulesJson.map((e) => e.type), stCfg, poolingCfg);
    return model;
  }

  /** A randomly initialised encoder (of family `arch`, BERT by default) with the tokenizer found in `tokenizerDir`. */
  static async create(o: CreateOptions): Promise<SentenceTransformer> {
    const arch = architecture(o.arch ?? 'bert', 'arch');
    const base = (await readJsonObject(join(o.tokenizerDir, 'config.json'), true)) ?? {};
    const tokProbe = await Tokenizer.fromDir(o.tokenizerDir);
    const maxPos = o.maxPositionEmbeddings ?? 512;
    const cfg = arch.randomConfig({
      vocabSize: tokProbe.vocabSize,
      padTokenId: typeof base.pad_token_id === 'number' ? base.pad_token_id : tokProbe.padTokenId,
      hidden: o.hidden,
      layers: o.layers,
      heads: o.heads,
      intermediate: o.intermediate,
      maxPositionEmbeddings: maxPos,
      activation: o.activation ?? 'gelu',
    });
    if (o.maxSeqLength !== undefined) checkMaxSeqLength(o.maxSeqLength, maxPos, 'maxPositionEmbeddings');
    const maxSeq = Math.min(o.maxSeqLength ?? 256, maxPos);
    const seed = o.seed ?? 42;
    const t = Transformer.random(cfg, seed, maxSeq);
    const tokenizer = await Tokenizer.fromDir(o.tokenizerDir, { maxLength: maxSeq });
    const modes = o.pooling === undefined ? ['mean' as PoolingMode] : Array.isArray(o.pooling) ? o.pooling : [o.pooling];
    const pooling = new Pooling(o.hidden, modes, true);
    const modules: ModuleEntry[] = [
      { name: '0', path: '', module: t },
      { name: '1', path: '1_Pooling', module: pooling },
    ];
    if (o.dense) modules.push({ name: String(modules.length), path: `${modules.length}_Dense`, module: Dense.random(pooling.outputDim(), o.dense, seed + 1) });
    if (o.normalize ?? true) modules.push({ name: String(modules.length), path: `${modules.length}_Normalize`, module: new Normalize() });
    return new SentenceTransformer(tokenizer, modules);
  }

  /**
   * A StaticEmbedding model over the tokenizer in `tokenizerDir` (content tokens only, truncated
   * as its tokenizer.json says): the given table [vocab, dim] or a N(0, 1) one of width `dim`,
   * [+ Normalize].
   */
  static async createStatic(o: { tokenizerDir: string; dim?: number; weights?: Float32Array; seed?: number; normalize?: boolean }): Promise<SentenceTransformer> {
    // a folder with vocab.txt only: the tokenizer.json written on save has no truncation either
    const tj = join(o.tokenizerDir, 'tokenizer.json');
    const maxLength = (await access(tj).then(() => true, () => false)) ? await truncationLength(tj) : UNLIMITED_TOKENS;
    const tokenizer = await Tokenizer.fromDir(o.tokenizerDir, { maxLength, addSpecialTokens: false });
    const V = tokenizer.vocabSize;
    let se: StaticEmbedding;
    if (o.weights) {
      if (o.weights.length % V !== 0) throw new Error(`createStatic: ${o.weights.length} weights are not a whole number of rows for the tokenizer's ${V} tokens`);
      se = new StaticEmbedding({ shape: [V, o.weights.length / V], data: o.weights }, maxLength);
    } else {
      if (!o.dim || !Number.isInteger(o.dim) || o.dim < 1) throw new Error('createStatic: give weights or a positive integer dim');
      se = StaticEmbedding.random(V, o.dim, o.seed ?? 42, maxLength);
    }
    const modules: ModuleEntry[] = [{ name: '0', path: '0_StaticEmbedding', module: se }];
    if (o.normalize) modules.push({ name: '1', path: '1_Normalize', module: new Normalize() });
    return new SentenceTransformer(tokenizer, modules);
  }

  // ---------------------------------------------------------------- saving

  /**
   * The format `save` writes by default: 'v3' (the 3.x-5.x layout, which 2.x and 6.x load too),
   * or 'v6' when the model needs what only 6.x expresses (pooling modes in another order).
   */
  defaultFormat(): StFormat {
    const p = this.pooling;
    return p && poolingFlagsProblem(p.modes) ? 'v6' : 'v3';
  }

  /**
   * Writes the sentence-transformers layout; Python's SentenceTransformer(dir) loads it unchanged.
   * `format`: 'v3' (the default; loaded by 2.x where 2.x has the modules' options, 3.x-5.x and
   * 6.x), 'v2' (the same with pytorch_model.bin weights, for transformers versions before
   * safetensors) or 'v6' (what 6.x writes; loaded by 6.x only). Weights keep their file dtype.
   */
  async save(dir: string, opts: { format?: StFormat } = {}): Promise<void> {
    const format = opts.format === undefined ? this.defaultFormat() : parseFormat(opts.format);
    const problem = this.pooling && format !== 'v6' ? poolingFlagsProblem(this.pooling.modes) : null;
    if (problem) throw new ModelFormatError(`cannot save in the ${format} format: ${problem}; save with { format: 'v6' }`);
    await mkdir(dir, { recursive: true });
    const typeName = (t: string): string => {
      const kind = moduleKind(t);
      return kind ? moduleTypeName(kind, format) : t;
    };
    const modulesJson = this.modules.map((m, idx) => ({ idx, name: m.name, path: m.path, type: typeName(m.module.type) }));
    for (const [i, m] of this.modules.entries()) {
      const mdir = join(dir, m.path);
      await mkdir(mdir, { recursive: true });
      await m.module.save(mdir, { format });
      // the tokenizer lives beside the module that reads token ids; 6.x keeps the max length in its config
      if (i === 0) await this.tokenizer.saveTo(mdir, format === 'v6' && m.module instanceof Transformer ? { modelMaxLength: m.module.maxSeqLength } : {});
    }
    const stCfg = stConfigJson({ prompts: this.prompts, defaultPromptName: this.defaultPromptName, similarityFnName: this.similarityFnName, extra: this.stConfigExtra, version: VERSION }, format);
    await writeFileAtomic(join(dir, 'config_sentence_transformers.json'), JSON.stringify(stCfg, null, 2) + '\n');
    await writeFileAtomic(join(dir, 'modules.json'), JSON.stringify(modulesJson, null, 2) + '\n');
  }

  // ---------------------------------------------------------------- graph

  /** Builds the inference graph: ids → token_embeddings and sentence_embedding. */
  buildGraph(opset = DEFAULT_OPSET, mode: BuildMode = INFERENCE): GraphBuilder {
    const g = new GraphBuilder('sentence_transformer', { opset });
    const inputIds = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
    const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
    const tokenTypeIds = g.input('token_type_ids', 'int64', ['batch_size', 'sequence_length']);
    const pooling = this.pooling;
    const promptLength = pooling && !pooling.includePrompt ? g.input('prompt_length', 'int64', []) : null;
    const features: Features = { inputIds, attentionMask, tokenTypeIds, promptLength };
    const f = buildPipeline(g, this.modules, (m, i) => new InitializerSource(g, (n) => moduleParam(m, n), paramNamespace(m, i, '.')), features, mode);
    if (!f.tokenEmbeddings || !f.sentenceEmbedding) throw new ModelFormatError('the module pipeline does not produce a sentence embedding (is there a Pooling module?)');
    g.output(f.tokenEmbeddings, 'token_embeddings');
    g.output(f.sentenceEmbedding, 'sentence_embedding');
    prune(g.graph);
    return g;
  }

  /**
   * ModelProto bytes of the inference graph, built anew on each call (the weights are in them:
   * the session keeps its own copy, so holding these would only double the model's memory).
   */
  graphBytes(): Uint8Array {
    return toModelProto(this.buildGraph().graph, { opset: DEFAULT_OPSET });
  }

  /** Forgets the compiled graph (call after changing weights in place). */
  invalidate(): void {
    this.runner = null;
  }

  private getRunner(): Promise<Runner> {
    if (!this.runner) {
      const so: SessionOptions = { threads: this.loadOptions.threads, cache: false };
      if (this.loadOptions.backend === 'onnx' && this.loadOptions.file) {
        const file = this.loadOptions.file;
        this.runner = readFile(file).then(async (bytes) => {
          const r = this.loadOptions.worker ? await WorkerSession.create(bytes, so) : await Session.create(bytes, so);
          if (!r.outputNames.includes('sentence_embedding')) {
            await (r instanceof WorkerSession ? r.close() : r.release());
            throw new ModelFormatError(`${file}: the graph has no output "sentence_embedding" (outputs: ${r.outputNames.join(', ')}); use an exported onnx/sentence_embedding*.onnx file, not the encoder-only model*.onnx`);
          }
          return r;
        });
        this.runner.catch(() => { this.runner = null; });
        return this.runner;
      }
      this.runner = this.loadOptions.worker ? WorkerSession.create(this.graphBytes(), so) : Session.create(this.graphBytes(), so);
    }
    return this.runner;
  }

  /** Frees the session (and its worker thread). */
  async close(): Promise<void> {
    const r = this.runner;
    this.runner = null;
    if (!r) return;
    const s = await r;
    if (s instanceof WorkerSession) await s.close();
    else if (s instanceof Session) await s.release();
  }

  // ---------------------------------------------------------------- encoding

  resolvePrompt(opts: EncodeOptions): string {
    if (opts.prompt !== undefined) return opts.prompt;
    const name = opts.promptName ?? this.defaultPromptName;
    if (name === null || name === undefined) return '';
    const p = this.prompts[name];
    if (p === undefined) throw new Error(`prompt name "${name}" not found (this model has: ${Object.keys(this.prompts).join(', ') || 'no prompts'})`);
    return p;
  }

  /** Embeddings as one row-major matrix [texts.length, dim]. */
  async encodeMatrix(texts: readonly string[], opts: EncodeOptions = {}): Promise<EmbeddingMatrix> {
    checkTexts(texts, 'encodeMatrix takes an array of strings');
    const batchSize = opts.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    const prompt = this.resolvePrompt(opts);
    const fullDim = this.dimension;
    const dim = opts.truncateDim !== undefined ? checkTruncateDim(opts.truncateDim, fullDim) : fullDim;
    const n = texts.length;
    const out = new Float32Array(n * dim);
    const encoded: EncodedText[] = this.tokenizer.encodeBatch(prompt ? texts.map((t) => prompt + t) : [...texts]);
    let promptLength: TensorData | null = null;
    const pooling = this.pooling;
    if (pooling && !pooling.includePrompt) {
      // as sentence-transformers: the prompt's tokens with the leading special token, without the trailing one
      const pl = prompt ? this.tokenizer.encode(prompt).ids.length - 1 : 0;
      promptLength = { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(pl)) };
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => encoded[b].ids.length - encoded[a].ids.length || a - b);
    const runner = await this.getRunner();
    let truncated = 0;
    let tokens = 0;
    for (const e of encoded) {
      if (e.truncated) truncated++;
      tokens += e.ids.length;
    }
    for (let start = 0; start < n; start += batchSize) {
      const idx = order.slice(start, start + batchSize);
      const res = await this.runPadded(runner, idx.map((i) => encoded[i]), promptLength, ['sentence_embedding']);
      const emb = res.sentence_embedding.data as Float32Array;
      for (let r = 0; r < idx.length; r++) out.set(emb.subarray(r * fullDim, r * fullDim + dim), idx[r] * dim);
      opts.onProgress?.(Math.min(start + batchSize, n), n);
    }
    if (opts.normalize) normalizeRows(out, dim);
    return { data: out, rows: n, dim, truncated, tokens };
  }

  private runPadded(runner: Runner, encoded: EncodedText[], promptLength: TensorData | null, outputs: string[]): Promise<Fetches> {
    const batch = this.tokenizer.pad(encoded);
    const dims = [batch.batchSize, batch.seqLen];
    const feeds: Feeds = {
      input_ids: { dtype: 'int64', dims, data: batch.inputIds },
      attention_mask: { dtype: 'int64', dims, data: batch.attentionMask },
      token_type_ids: { dtype: 'int64', dims, data: batch.tokenTypeIds },
    };
    if (promptLength) feeds.prompt_length = promptLength;
    return runner.run(feeds, outputs);
  }

  /**
   * Runs ONE padded batch of already tokenized texts (a server's dynamic batch): the sentence
   * embeddings [rows, dim] in the given order, and with `tokenEmbeddings` the token embeddings
   * [rows, seqLen, hidden] (seqLen the longest row). `promptTokens` is the prompt's token count
   * that pooling leaves out when the model excludes the prompt (0 otherwise).
   */
  async runTokenized(encoded: EncodedText[], opts: { promptTokens?: number; tokenEmbeddings?: boolean } = {}): Promise<{ sentence: Float32Array; dim: number; tokens?: Float32Array; seqLen: number; hidden: number }> {
    if (encoded.length === 0) throw new Error('runTokenized: no texts');
    const pooling = this.pooling;
    const promptLength: TensorData | null = pooling && !pooling.includePrompt
      ? { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(opts.promptTokens ?? 0)) } : null;
    const runner = await this.getRunner();
    const outputs = opts.tokenEmbeddings ? ['sentence_embedding', 'token_embeddings'] : ['sentence_embedding'];
    if (opts.tokenEmbeddings && !runner.outputNames.includes('token_embeddings')) {
      throw new Error('this model\'s graph has no token_embeddings output (an exported sentence-level file); load the model folder to get token embeddings');
    }
    const res = await this.runPadded(runner, encoded, promptLength, outputs);
    let seqLen = 0;
    for (const e of encoded) seqLen = Math.max(seqLen, e.ids.length);
    return {
      sentence: res.sentence_embedding.data as Float32Array,
      dim: this.dimension,
      tokens: opts.tokenEmbeddings ? (res.token_embeddings.data as Float32Array) : undefined,
      seqLen,
      hidden: this.inputModule.hiddenSize,
    };
  }

  /**
   * Embeddings as one Float32Array per text, in the caller's order; a single string gives one
   * Float32Array (as sentence-transformers returns one vector for a string).
   */
  async encode(text: string, opts?: EncodeOptions): Promise<Float32Array>;
  async encode(texts: readonly string[], opts?: EncodeOptions): Promise<Float32Array[]>;
  async encode(input: string | readonly string[], opts: EncodeOptions = {}): Promise<Float32Array | Float32Array[]> {
    const single = typeof input === 'string';
    const texts = single ? [input] : checkTexts(input, 'encode takes a string or an array of strings');
    const m = await this.encodeMatrix(texts, opts);
    if (single) return m.data;
    return Array.from({ length: m.rows }, (_, i) => m.data.subarray(i * m.dim, (i + 1) * m.dim));
  }

  /**
   * The [N, M] similarity of every embedding of `a` with every one of `b`, with this model's
   * similarity function (`similarityFnName`: cosine unless the model's config says dot,
   * euclidean or manhattan), as sentence-transformers' `model.similarity`. One row per embedding of `a`.
   */
  similarity(a: Embeddings, b: Embeddings): Promise<Float32Array[]> {
    return similarity(a, b, this.similarityFnName);
  }

  /** sim(a_i, b_i) for pairs of embeddings, with this model's similarity function (`model.similarity_pairwise`). */
  similarityPairwise(a: Embeddings, b: Embeddings): Promise<Float32Array> {
    return similarityPairwise(a, b, this.similarityFnName);
  }

  /**
   * SHA-256 of the weights (every module's parameters, by name, shape and float32 bytes) and of
   * the pipeline configuration (info(), max length, prompts): equal for two loads of one model,
   * different after fine-tuning. Vector indexes record it to refuse queries from another model.
   */
  fingerprint(): string {
    const h = createHash('sha256');
    const { format: _format, saved_by: _savedBy, ...described } = this.info(); // the same model in any folder format
    h.update(JSON.stringify(described));
    const param = (name: string, p: { shape: number[]; data: Float32Array }): void => {
      h.update(`${name}:${p.shape.join('x')};`);
      h.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
    };
    this.modules.forEach((m, i) => {
      h.update(`module ${i} ${m.module.type};`);
      const ps = m.module.parameters();
      // the input module's weights by sorted name; a later module's in its own order by the
      // name's last part ("weight", "bias"), as fingerprints have always been computed
      const names = i === 0 ? [...ps.keys()].sort() : [...ps.keys()];
      for (const name of names) param(i === 0 ? name : name.slice(name.lastIndexOf('.') + 1), ps.get(name)!);
    });
    return h.digest('hex');
  }

  /** A short description (what `sentencekit info` prints). */
  info(): JsonObject {
    // the input module describes itself (architecture, model_type, its sizes); a module that
    // gives token embeddings is followed by pooling, whose modes are listed
    const { architecture: arch, model_type: modelType, ...sizes } = this.inputModule.describe?.() ?? {};
    const tokens = this.inputModule.produces === 'tokens';
    return {
      architecture: arch as string,
      ...(modelType !== undefined ? { model_type: modelType as string } : {}),
      modules: this.modules.map((m) => m.module.type.replace('sentence_transformers.models.', '')),
      parameters: this.parameterCount(),
      ...(sizes as JsonObject),
      dimension: this.dimension,
      max_seq_length: this.maxSeqLength,
      ...(tokens ? { pooling: this.pooling ? this.pooling.modes : null, include_prompt: this.pooling ? this.pooling.includePrompt : null } : {}),
      normalize: this.modules.some((m) => m.module instanceof Normalize),
      similarity_fn_name: this.similarityFnName,
      prompts: this.prompts,
      format: this.sourceFormat?.name ?? null,
      saved_by: this.sourceFormat?.savedBy ?? null,
    };
  }
}

/** Absolute path of the exported graph that backend 'onnx' runs; the error says what to do when it is missing. */
async function onnxBackendFile(dir: string, file = 'onnx/sentence_embedding.onnx'): Promise<string> {
  const path = isAbsolute(file) ? file : join(dir, file);
  const ok = await stat(path).then((st) => st.isFile(), () => false);
  if (!ok) throw new ModelFormatError(`${path}: file not found; backend 'onnx' runs a file written by \`sentencekit export\` (onnx/sentence_embedding.onnx, _quantized or _fp16)`);
  return path;
}

interface ModulesJsonEntry {
  idx: number;
  name: string;
  path: string;
  type: string;
}

async function readModulesJson(dir: string): Promise<ModulesJsonEntry[]> {
  const path = join(dir, 'modules.json');
  const exists = await access(path).then(() => true, () => false);
  if (!exists) {
    const m2v = await model2vecModules(dir);
    if (m2v) return m2v;
    // a plain Hugging Face model: Transformer + mean pooling, as sentence-transformers does
    const hasConfig = await access(join(dir, 'config.json')).then(() => true, () => false);
    if (!hasConfig) {
      const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
      throw new ModelFormatError(isDir ? `${dir}: neither modules.json nor config.json found; not a model directory` : `${dir}: no such directory${isHubId(dir) ? ' (and not found on the hub)' : ''}`);
    }
    return [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: MEAN_POOLING_DEFAULT },
    ];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new ModelFormatError(`${path}: expected a JSON array of modules`);
  return parsed.map((e, i) => {
    if (!e || typeof e !== 'object') throw new ModelFormatError(`${path}: entry ${i} is not an object`);
    const o = e as Record<string, unknown>;
    if (typeof o.type !== 'string') throw new ModelFormatError(`${path}: entry ${i} has no "type"`);
    if (o.path !== undefined && typeof o.path !== 'string') throw new ModelFormatError(`${path}: entry ${i} "path" must be a string`);
    const p = (o.path as string | undefined) ?? '';
    if (p.includes('..') || p.startsWith('/')) throw new ModelFormatError(`${path}: entry ${i} path "${p}" leaves the model directory`);
    return { idx: typeof o.idx === 'number' ? o.idx : i, name: typeof o.name === 'string' ? o.name : String(i), path: p, type: o.type };
  });
}

/** Runtime check of encode's input (JavaScript callers and untyped data): an array of strings. */
function checkTexts(texts: unknown, takes: string): readonly string[] {
  const what = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
  if (!Array.isArray(texts)) throw new TypeError(`${takes}, got ${what(texts)}`);
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') throw new TypeError(`${takes.split(' ')[0]}: texts[${i}] is ${what(texts[i])}, expected a string`);
  }
  return texts as readonly string[];
}

/** truncateDim keeps the first N dimensions; more than the model has is refused, not ignored. */
export function checkTruncateDim(truncateDim: number, dim: number): number {
  if (!Number.isInteger(truncateDim) || truncateDim < 1) throw new RangeError(`truncateDim (--truncate-dim) must be a positive integer, got ${String(truncateDim)}`);
  if (truncateDim > dim) {
    throw new RangeError(`truncateDim (--truncate-dim) ${truncateDim} is more than the ${dim} dimensions this model's embeddings have; use at most ${dim}, or leave it out for all ${dim}`);
  }
  return truncateDim;
}

function moduleParam(m: ModuleEntry, name: string): { shape: number[]; data: Float32Array } {
  const p = m.module.parameters().get(name);
  if (!p) throw new Error(`${m.module.type} (path "${m.path}"): no parameter ${name}`);
  return p;
}

/**
 * A model2vec directory (config.json with model_type "model2vec", model.safetensors with
 * `embeddings`, tokenizer.json) read as StaticEmbedding [+ Normalize when its config says
 * normalize: true, as model2vec's encode does]; null for anything else.
 */
async function model2vecModules(dir: string): Promise<ModulesJsonEntry[] | null> {
  const cfgPath = join(dir, 'config.json');
  const cfg = await readJsonObject(cfgPath, true).catch(() => null);
  if (!cfg || cfg.model_type !== 'model2vec') return null;
  const out: ModulesJsonEntry[] = [{ idx: 0, name: '0', path: '', type: STATIC_EMBEDDING_TYPES[0] }];
  if (cfg.normalize === true) out.push({ idx: 1, name: '1', path: '1_Normalize', type: 'sentence_transformers.models.Normalize' });
  return out;
}
