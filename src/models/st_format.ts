// The sentence-transformers directory formats, 2.x to 6.x: which modules.json type names
// mean which module, how each version keeps Pooling's modes (boolean `pooling_mode_*`
// flags up to 5.x, one `pooling_mode` string or list in 6.x), the Transformer's max length
// (sentence_bert_config.json `max_seq_length` up to 5.x; 6.x leaves it out and keeps
// tokenizer_config.json `model_max_length`) and `do_lower_case`, and what each format
// writes. Takes parsed JSON objects; returns plain records (no I/O).
//
// Written formats:
//   'v3' (default): the 3.x-5.x layout with only the keys that 2.x also reads; loaded by
//                   2.x (where 2.x has the modules' options), 3.x, 4.x, 5.x and 6.x.
//   'v2':           as 'v3', with weights as pytorch_model.bin (torch.save) for the
//                   transformers and Dense versions that predate safetensors.
//   'v6':           what sentence-transformers 6.x writes; loaded by 6.x only.

import { Fields, ModelFormatError, type JsonObject } from './json_file.js';

export type StFormat = 'v2' | 'v3' | 'v6';
export const ST_FORMATS: readonly StFormat[] = ['v2', 'v3', 'v6'];
export type ModuleKind = 'Transformer' | 'Pooling' | 'Dense' | 'Normalize' | 'StaticEmbedding';

const V6_TYPES: Readonly<Record<ModuleKind, string>> = {
  Transformer: 'sentence_transformers.base.modules.transformer.Transformer',
  Pooling: 'sentence_transformers.sentence_transformer.modules.pooling.Pooling',
  Dense: 'sentence_transformers.base.modules.dense.Dense',
  Normalize: 'sentence_transformers.base.modules.normalize.Normalize',
  StaticEmbedding: 'sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding',
};
const FILE_NAMES: Readonly<Record<ModuleKind, string>> = {
  Transformer: 'transformer', Pooling: 'pooling', Dense: 'dense', Normalize: 'normalize', StaticEmbedding: 'static_embedding',
};

/** The module a modules.json `type` names, in any version's spelling; null when unknown. */
export function moduleKind(type: string): ModuleKind | null {
  for (const kind of Object.keys(V6_TYPES) as ModuleKind[]) {
    if (type === V6_TYPES[kind] || type === `sentence_transformers.models.${kind}` || type === `sentence_transformers.models.${FILE_NAMES[kind]}.${kind}`) return kind;
  }
  return null;
}

/** Whether a modules.json type name is 6.x's spelling. */
export function isV6TypeName(type: string): boolean {
  return Object.values(V6_TYPES).includes(type);
}

/** The modules.json type name a format writes. */
export function moduleTypeName(kind: ModuleKind, format: StFormat): string {
  return format === 'v6' ? V6_TYPES[kind] : `sentence_transformers.models.${kind}`;
}

// ------------------------------------------------------------------ Pooling

export const POOLING_MODE_NAMES = ['cls', 'max', 'mean', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'] as const;
export type PoolingModeName = (typeof POOLING_MODE_NAMES)[number];

/** The flag each mode had up to 5.x, in the order those versions concatenate them. */
const FLAGS: Readonly<Record<PoolingModeName, string>> = {
  cls: 'pooling_mode_cls_token',
  max: 'pooling_mode_max_tokens',
  mean: 'pooling_mode_mean_tokens',
  mean_sqrt_len_tokens: 'pooling_mode_mean_sqrt_len_tokens',
  weightedmean: 'pooling_mode_weightedmean_tokens',
  lasttoken: 'pooling_mode_lasttoken',
};
/** Flags every version since 2.0 knows; 2.x refuses the others, so they are written only when set. */
const FLAGS_2X = new Set<PoolingModeName>(['cls', 'max', 'mean', 'mean_sqrt_len_tokens']);

export interface PoolingSpec {
  dimension: number;
  modes: PoolingModeName[];
  includePrompt: boolean;
}

function poolingModeName(v: unknown, path: string): PoolingModeName {
  const s = typeof v === 'string' ? v.toLowerCase() : v;
  if (typeof s !== 'string' || !(POOLING_MODE_NAMES as readonly string[]).includes(s)) {
    throw new ModelFormatError(`${path}: pooling_mode ${JSON.stringify(v)} is not one of ${POOLING_MODE_NAMES.join(', ')}`);
  }
  return s as PoolingModeName;
}

/**
 * Reads 1_Pooling/config.json in any version's shape: 6.x's `embedding_dimension` +
 * `pooling_mode` (one name, or a list concatenated in its order), or the `pooling_mode_*`
 * flags of 2.x-5.x (concatenated in the fixed order cls, max, mean, mean_sqrt_len,
 * weightedmean, lasttoken; `pooling_mode_mean_tokens` defaults to true there).
 */
export function readPoolingConfig(obj: JsonObject, path: string): PoolingSpec {
  const f = new Fields(obj, path);
  const dimKey = obj.embedding_dimension !== undefined ? 'embedding_dimension' : 'word_embedding_dimension';
  if (obj[dimKey] === undefined) throw new ModelFormatError(`${path}: neither embedding_dimension (6.x) nor word_embedding_dimension (2.x-5.x) is set; the Pooling module needs the token embedding size`);
  const dimension = f.int(dimKey, undefined, 1);
  const includePrompt = f.bool('include_prompt', true);
  let modes: PoolingModeName[];
  if (obj.pooling_mode !== undefined && obj.pooling_mode !== null) {
    const pm = obj.pooling_mode;
    modes = Array.isArray(pm) ? pm.map((m) => poolingModeName(m, path)) : [poolingModeName(pm, path)];
    if (modes.length === 0) throw new ModelFormatError(`${path}: pooling_mode is an empty list; name at least one of ${POOLING_MODE_NAMES.join(', ')}`);
    if (new Set(modes).size !== modes.length) throw new ModelFormatError(`${path}: pooling_mode ${JSON.stringify(pm)} names a mode twice`);
  } else {
    modes = POOLING_MODE_NAMES.filter((m) => f.bool(FLAGS[m], m === 'mean'));
    if (modes.length === 0) {
      throw new ModelFormatError(`${path}: every pooling_mode_* flag is false, so no pooling mode is enabled; set one of ${Object.values(FLAGS).join(', ')} to true (or "pooling_mode": "mean")`);
    }
  }
  return { dimension, modes, includePrompt };
}

/** Why the 2.x-5.x flags cannot hold these modes (6.x's order differs from theirs), or null. */
export function poolingFlagsProblem(modes: readonly PoolingModeName[]): string | null {
  const canonical = POOLING_MODE_NAMES.filter((m) => modes.includes(m));
  return canonical.join(',') === modes.join(',') ? null
    : `pooling modes ${modes.join(', ')} are concatenated in an order that the pooling_mode_* flags of 2.x-5.x cannot express (they always use ${canonical.join(', ')})`;
}

/** 1_Pooling/config.json as a format writes it. */
export function poolingConfigJson(p: PoolingSpec, format: StFormat): JsonObject {
  if (format === 'v6') {
    return { embedding_dimension: p.dimension, pooling_mode: p.modes.length === 1 ? p.modes[0] : [...p.modes], include_prompt: p.includePrompt };
  }
  const problem = poolingFlagsProblem(p.modes);
  if (problem) throw new ModelFormatError(`cannot write the ${format} format: ${problem}; save with { format: 'v6' }`);
  const o: JsonObject = { word_embedding_dimension: p.dimension };
  for (const m of POOLING_MODE_NAMES) if (FLAGS_2X.has(m) || p.modes.includes(m)) o[FLAGS[m]] = p.modes.includes(m);
  if (!p.includePrompt) o.include_prompt = false;
  return o;
}

// ------------------------------------------------------------------ Transformer

export interface TransformerSpec {
  /** max_seq_length, before capping at max_position_embeddings; null when no file sets one. */
  maxSeqLength: number | null;
  /** Where it came from, for `info`. */
  maxSeqLengthFrom: 'sentence_bert_config.json' | 'tokenizer_config.json' | null;
  /** Lowercase texts before tokenizing (sentence_bert_config.json do_lower_case). */
  doLowerCase: boolean;
}

/** Tokenizers without a limit save model_max_length as int(1e30); such values mean "none". */
const SANE_MAX_LENGTH = 1e6;

/**
 * The Transformer's settings as each version reads them: sentence_bert_config.json's
 * `max_seq_length` (2.x-5.x; also honoured by 6.x), else `tokenizer_args.model_max_length`,
 * else tokenizer_config.json's `model_max_length` (what 6.x writes, and what 3.x-5.x fall
 * back to); `do_lower_case` from sentence_bert_config.json.
 */
export function readTransformerConfig(sbc: JsonObject, sbcPath: string, tokenizerConfig: JsonObject | null): TransformerSpec {
  const f = new Fields(sbc, sbcPath);
  const doLowerCase = f.bool('do_lower_case', false);
  if (sbc.max_seq_length !== undefined && sbc.max_seq_length !== null) {
    return { maxSeqLength: f.int('max_seq_length', undefined, 1), maxSeqLengthFrom: 'sentence_bert_config.json', doLowerCase };
  }
  for (const args of [sbc.processor_kwargs, sbc.tokenizer_args, tokenizerConfig]) {
    if (args && typeof args === 'object' && !Array.isArray(args)) {
      const v = (args as JsonObject).model_max_length;
      if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < SANE_MAX_LENGTH) {
        return { maxSeqLength: v, maxSeqLengthFrom: args === tokenizerConfig ? 'tokenizer_config.json' : 'sentence_bert_config.json', doLowerCase };
      }
    }
  }
  return { maxSeqLength: null, maxSeqLengthFrom: null, doLowerCase };
}

/** sentence_bert_config.json as a format writes it (6.x keeps the length in tokenizer_config.json). */
export function transformerConfigJson(maxSeqLength: number, doLowerCase: boolean, format: StFormat): JsonObject {
  if (format !== 'v6') return { max_seq_length: maxSeqLength, do_lower_case: doLowerCase };
  const o: JsonObject = {
    transformer_task: 'feature-extraction',
    modality_config: { text: { method: 'forward', method_output_name: 'last_hidden_state' } },
    module_output_name: 'token_embeddings',
  };
  if (doLowerCase) o.do_lower_case = true;
  return o;
}

/** 6.x's Dense and Normalize configs name what they read and write. */
export const V6_IO_KEYS: Readonly<JsonObject> = { module_input_name: 'sentence_embedding', module_output_name: 'sentence_embedding' };

// ------------------------------------------------------------------ the whole directory

export interface DirFormat {
  /** 'sentence-transformers 6.x', 'sentence-transformers 3.x-5.x', 'sentence-transformers 2.x', or '… 2.x-5.x' when nothing tells them apart. */
  name: string;
  /** The closest written format. */
  format: StFormat;
  /** Who wrote it, from config_sentence_transformers.json's __version__ ("sentence-transformers 6.0.1", "sentencekit 0.1.0"). */
  savedBy: string | null;
}

/** Which layout a directory is in: 6.x type names, else the saved version (2.x or later), else the Pooling keys. */
export function detectFormat(moduleTypes: readonly string[], stConfig: JsonObject, poolingConfig: JsonObject | null): DirFormat {
  const v = stConfig.__version__;
  const versions = v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {};
  const stVersion = typeof versions.sentence_transformers === 'string' ? versions.sentence_transformers : null;
  const savedBy = stVersion ? `sentence-transformers ${stVersion}` : typeof versions.sentencekit === 'string' ? `sentencekit ${versions.sentencekit}` : null;
  if (moduleTypes.some(isV6TypeName)) return { name: 'sentence-transformers 6.x', format: 'v6', savedBy };
  if (typeof versions.sentencekit === 'string') return { name: 'sentence-transformers 3.x-5.x', format: 'v3', savedBy };
  // the layout decides (6.x's type names are checked above); the saved version tells 2.x from 3.x-5.x
  const major = stVersion ? Number.parseInt(stVersion, 10) : NaN;
  if (major >= 3) return { name: 'sentence-transformers 3.x-5.x', format: 'v3', savedBy };
  if (major === 2 || major === 1 || major === 0) return { name: 'sentence-transformers 2.x', format: 'v2', savedBy };
  if (poolingConfig && (poolingConfig.include_prompt !== undefined || poolingConfig.pooling_mode_lasttoken !== undefined)) {
    return { name: 'sentence-transformers 3.x-5.x', format: 'v3', savedBy };
  }
  return { name: 'sentence-transformers 2.x-5.x', format: 'v3', savedBy };
}

/** config_sentence_transformers.json as a format writes it. */
export function stConfigJson(
  o: { prompts: Record<string, string>; defaultPromptName: string | null; similarityFnName: string; extra: JsonObject; version: string },
  format: StFormat,
): JsonObject {
  const out: JsonObject = { __version__: { sentencekit: o.version }, ...o.extra };
  if (format === 'v6') out.model_type = 'SentenceTransformer';
  out.prompts = o.prompts;
  out.default_prompt_name = o.defaultPromptName;
  out.similarity_fn_name = o.similarityFnName;
  return out;
}

export function parseFormat(v: unknown): StFormat {
  if (typeof v === 'string' && (ST_FORMATS as readonly string[]).includes(v)) return v as StFormat;
  throw new Error(`format must be one of ${ST_FORMATS.join(', ')} (v3, the default: the 3.x-5.x layout that 2.x and 6.x load too), got ${JSON.stringify(v)}`);
}
