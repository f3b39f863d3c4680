/**
 * Text → token ids for sentence-embedding models. Takes a Hugging Face tokenizer folder
 * (tokenizer.json, or vocab.txt + tokenizer_config.json [+ special_tokens_map.json] for
 * older BERT checkpoints) and computes ids with the model's special tokens, right
 * truncation to a maximum length, and right-padded int64 batches (ids, attention mask,
 * token type ids) ready for an ONNX model; it can also write the tokenizer files back out.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hfLib, type HfTokenizer } from './hf_library.js';
import { RustCompatibleHfTokenizer } from './hf_tokenizer.js';
import { renormalizeAddedTokens, sentencePieceNormalizer, sentencePiecePreTokenizer } from './sentencepiece_components.js';

/** Options for {@link Tokenizer.fromDir}. */
export interface TokenizerOptions {
  /** Truncation length, special tokens included. Default: tokenizer_config.json model_max_length, else 512. */
  maxLength?: number;
  /**
   * Lowercase every text before tokenizing, whatever the tokenizer's own normaliser does: the
   * `do_lower_case` flag of a model's sentence_bert_config.json, which sentence-transformers
   * applies in front of the tokenizer.
   */
  lowercaseInput?: boolean;
  /**
   * Add the post-processor's special tokens ([CLS] … [SEP]); default true. False encodes the
   * content tokens alone, as sentence-transformers' StaticEmbedding does.
   */
  addSpecialTokens?: boolean;
}

/** One encoded text. */
export interface EncodedText {
  /** Token ids including the special tokens ([CLS] … [SEP] for BERT), after truncation. */
  ids: number[];
  /** True when content tokens were dropped to fit maxLength. */
  truncated: boolean;
}

/** A right-padded batch, every array row-major [batchSize, seqLen]. */
export interface Batch {
  batchSize: number;
  /** Longest row in the batch (padding strategy 'longest'). */
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** Real (unpadded) length of each row. */
  lengths: Int32Array;
}

type JsonObject = { [key: string]: unknown };

/** Raw file contents kept so that {@link Tokenizer.saveTo} can write them back. */
interface TokenizerFiles {
  tokenizerJson?: string;
  tokenizerConfig?: string;
  specialTokensMap?: string;
  vocabTxt?: string;
}

interface LoadedParts {
  hf: HfTokenizer;
  tokenizerJson: JsonObject;
  config: JsonObject;
  specialMap: JsonObject;
  files: TokenizerFiles;
  doLowerCase: boolean | undefined;
  maxLength: number;
  lowercaseInput: boolean;
  addSpecialTokens: boolean;
}

const DEFAULT_MAX_LENGTH = 512;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');
const SANE_MAX_LENGTH = 1e6;
const SPECIAL_TOKEN_KEYS = ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token', 'bos_token', 'eos_token'];
/** A string that no normalizer or vocabulary turns into anything else; used to find the template's content slot. */
const CONTENT_SENTINEL = '\u0000sentencekit-content\u0000';

/** Tokenizer for sentence-embedding models, backed by @huggingface/tokenizers. */
export class Tokenizer {
  /** Truncation length including special tokens. */
  readonly maxLength: number;
  readonly padTokenId: number;
  readonly vocabSize: number;
  readonly doLowerCase: boolean | undefined;
  /** Texts are lowercased before tokenizing (sentence_bert_config.json do_lower_case). */
  readonly lowercaseInput: boolean;
  /** Number of special tokens added around a single text (2 for BERT: [CLS] and [SEP]). */
  readonly numSpecialTokens: number;

  private readonly hf: HfTokenizer;
  private readonly prefixIds: readonly number[];
  private readonly suffixIds: readonly number[];
  private readonly files: TokenizerFiles;
  private readonly tokenizerJson: JsonObject;
  private readonly config: JsonObject;
  private readonly specialMap: JsonObject;

  private constructor(parts: LoadedParts) {
    this.hf = parts.hf;
    this.files = parts.files;
    this.tokenizerJson = parts.tokenizerJson;
    this.config = parts.config;
    this.specialMap = parts.specialMap;
    this.doLowerCase = parts.doLowerCase;
    this.lowercaseInput = parts.lowercaseInput;

    const { prefix, suffix } = parts.addSpecialTokens ? specialTokenLayout(parts.hf, parts.tokenizerJson) : { prefix: [], suffix: [] };
    this.prefixIds = prefix;
    this.suffixIds = suffix;
    this.numSpecialTokens = prefix.length + suffix.length;
    if (parts.maxLength <= this.numSpecialTokens) {
      throw new RangeError(
        `maxLength ${parts.maxLength} is too small: this tokenizer adds ${this.numSpecialTokens} special tokens ` +
          `to every text. Use a maxLength of at least ${this.numSpecialTokens + 1}.`,
      );
    }
    this.maxLength = parts.maxLength;
    this.vocabSize = parts.hf.get_vocab(true).size;
    this.padTokenId = resolvePadId(parts.hf, parts.tokenizerJson, parts.config, parts.specialMap);
  }

  /**
   * Loads a tokenizer folder: tokenizer.json (preferred) or, for older BERT models,
   * vocab.txt + tokenizer_config.json (+ special_tokens_map.json).
   */
  static async fromDir(dir: string, opts: TokenizerOptions = {}): Promise<Tokenizer> {
    const root = resolve(dir);
    const info = await stat(root).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(
          `Tokenizer folder not found: ${root}. Pass the folder that holds tokenizer.json ` +
            `(or vocab.txt + tokenizer_config.json), e.g. a downloaded model folder.`,
        );
      }
      throw new Error(`Cannot access tokenizer folder ${root}: ${errorMessage(err)}. Check the path and its permissions.`);
    });
    if (!info.isDirectory()) {
      throw new Error(`Tokenizer path is not a folder: ${root}. Pass the folder that holds tokenizer.json, not a file.`);
    }

    const files: TokenizerFiles = {
      tokenizerJson: await readOptional(join(root, 'tokenizer.json')),
      tokenizerConfig: await readOptional(join(root, 'tokenizer_config.json')),
      specialTokensMap: await readOptional(join(root, 'special_tokens_map.json')),
      vocabTxt: await readOptional(join(root, 'vocab.txt')),
    };
    const config = files.tokenizerConfig === undefined ? {} : parseJsonObject(join(root, 'tokenizer_config.json'), files.tokenizerConfig);
    const specialMap =
      files.specialTokensMap === undefined ? {} : parseJsonObject(join(root, 'special_tokens_map.json'), files.specialTokensMap);

    let tokenizerJson: JsonObject;
    let jsonPath: string;
    let doLowerCase: boolean | undefined = typeof config['do_lower_case'] === 'boolean' ? config['do_lower_case'] : undefined;
    if (files.tokenizerJson !== undefined) {
      jsonPath = join(root, 'tokenizer.json');
      tokenizerJson = parseJsonObject(jsonPath, files.tokenizerJson);
      doLowerCase ??= lowercaseFromNormalizer(tokenizerJson['normalizer']);
    } else if (files.vocabTxt !== undefined) {
      jsonPath = join(root, 'vocab.txt');
      tokenizerJson = buildBertTokenizerJson(jsonPath, files.vocabTxt, config, specialMap);
      doLowerCase ??= true;
    } else {
      throw new Error(
        `No tokenizer files in ${root}: expected tokenizer.json, or vocab.txt with tokenizer_config.json ` +
          `(older BERT models). Copy the tokenizer files of the model into this folder.`,
      );
    }

    let maxLength = DEFAULT_MAX_LENGTH;
    const configured = config['model_max_length'];
    if (typeof configured === 'number' && Number.isInteger(configured) && configured > 0 && configured < SANE_MAX_LENGTH) {
      maxLength = configured;
    }
    if (opts.maxLength !== undefined) {
      if (!Number.isInteger(opts.maxLength) || opts.maxLength <= 0) {
        throw new RangeError(`maxLength must be a positive integer, got ${String(opts.maxLength)}.`);
      }
      maxLength = opts.maxLength;
    }

    const hf = createHfTokenizer(jsonPath, tokenizerJson, config);
    return new Tokenizer({ hf, tokenizerJson, config, specialMap, files, doLowerCase, maxLength, lowercaseInput: opts.lowercaseInput ?? false, addSpecialTokens: opts.addSpecialTokens ?? true });
  }

  /**
   * Encodes one text with special tokens, truncated to maxLength: the content's last tokens are
   * dropped ('right', the default) or its first ones ('left').
   */
  encode(text: string, truncation: 'right' | 'left' = 'right'): EncodedText {
    const content = this.contentIds(text);
    const room = this.maxLength - this.numSpecialTokens;
    const truncated = content.length > room;
    const n = truncated ? room : content.length;
    const from = truncated && truncation === 'left' ? content.length - room : 0;
    const prefix = this.prefixIds;
    const suffix = this.suffixIds;
    const ids = new Array<number>(n + prefix.length + suffix.length);
    let k = 0;
    for (let i = 0; i < prefix.length; i++) ids[k++] = prefix[i]!;
    for (let i = 0; i < n; i++) ids[k++] = content[from + i]!;
    for (let i = 0; i < suffix.length; i++) ids[k++] = suffix[i]!;
    return { ids, truncated };
  }

  /** Encodes each text; see {@link encode}. */
  encodeBatch(texts: string[]): EncodedText[] {
    const out = new Array<EncodedText>(texts.length);
    for (let i = 0; i < texts.length; i++) out[i] = this.encode(texts[i]!);
    return out;
  }

  /** Right-pads encoded texts to the longest one: padTokenId on padding, mask 0 there, token types all 0. */
  pad(encoded: EncodedText[]): Batch {
    const batchSize = encoded.length;
    let seqLen = 0;
    for (const e of encoded) if (e.ids.length > seqLen) seqLen = e.ids.length;
    const size = batchSize * seqLen;
    const inputIds = new BigInt64Array(size);
    const attentionMask = new BigInt64Array(size);
    const tokenTypeIds = new BigInt64Array(size);
    const lengths = new Int32Array(batchSize);
    if (this.padTokenId !== 0) inputIds.fill(BigInt(this.padTokenId));
    for (let r = 0; r < batchSize; r++) {
      const ids = encoded[r]!.ids;
      const offset = r * seqLen;
      lengths[r] = ids.length;
      for (let j = 0; j < ids.length; j++) {
        inputIds[offset + j] = BigInt(ids[j]!);
        attentionMask[offset + j] = 1n;
      }
    }
    return { batchSize, seqLen, inputIds, attentionMask, tokenTypeIds, lengths };
  }

  /** encodeBatch + pad. */
  tokenizeBatch(texts: string[]): Batch {
    return this.pad(this.encodeBatch(texts));
  }

  /** Token count of a text without truncation, special tokens included. */
  countTokens(text: string): number {
    return this.contentIds(text).length + this.numSpecialTokens;
  }

  /** Id of a token string, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }

  /** Token string of an id, or undefined when out of range. */
  idToToken(id: number): string | undefined {
    return this.hf.id_to_token(id);
  }

  /** Turns ids back into text (special tokens skipped by default). */
  decode(ids: number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    return this.hf.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /**
   * Writes tokenizer.json, tokenizer_config.json, special_tokens_map.json and vocab.txt into dir
   * (created if needed): copies of the loaded files, or files derived from the loaded tokenizer
   * where a file was absent. Each write is atomic (temporary file, fsync, rename).
   */
  async saveTo(dir: string, opts: { modelMaxLength?: number } = {}): Promise<void> {
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    const tokenizerJson = this.files.tokenizerJson ?? JSON.stringify(this.tokenizerJson, null, 2);
    let config = this.files.tokenizerConfig ?? JSON.stringify(this.derivedConfig(), null, 2);
    if (opts.modelMaxLength !== undefined && this.config['model_max_length'] !== opts.modelMaxLength) {
      // where the length lives in sentence-transformers 6.x; the file is otherwise kept as it was
      config = JSON.stringify({ ...(this.files.tokenizerConfig === undefined ? this.derivedConfig() : this.config), model_max_length: opts.modelMaxLength }, null, 2);
    }
    const specialMap = this.files.specialTokensMap ?? JSON.stringify(this.derivedSpecialMap(), null, 2);
    const vocab = this.files.vocabTxt ?? this.derivedVocabTxt();
    await writeFileAtomic(join(root, 'tokenizer.json'), tokenizerJson);
    await writeFileAtomic(join(root, 'tokenizer_config.json'), config);
    await writeFileAtomic(join(root, 'special_tokens_map.json'), specialMap);
    if (vocab !== undefined) await writeFileAtomic(join(root, 'vocab.txt'), vocab);
    await syncDir(root);
  }

  private contentIds(text: string): number[] {
    if (typeof text !== 'string') {
      throw new TypeError(`Tokenizer input must be a string, got ${text === null ? 'null' : typeof text}.`);
    }
    // A lone surrogate reaches the Rust tokenizers as U+FFFD (strings cross into Rust as UTF-8).
    if (LONE_SURROGATE.test(text)) text = text.replace(LONE_SURROGATE_ALL, '\ufffd');
    return this.hf.encode(this.lowercaseInput ? text.toLowerCase() : text, { add_special_tokens: false }).ids;
  }

  private derivedSpecialMap(): JsonObject {
    const out: JsonObject = {};
    for (const key of SPECIAL_TOKEN_KEYS) {
      const token = tokenContent(this.specialMap[key]) ?? tokenContent(this.config[key]);
      if (token !== undefined) out[key] = token;
    }
    if (Object.keys(out).length === 0) {
      for (const [id, added] of this.hf.get_added_tokens_decoder()) {
        if (!added.special) continue;
        if (id === this.padTokenId) out['pad_token'] ??= added.content;
        else if (/unk/i.test(added.content)) out['unk_token'] ??= added.content;
        else if (/cls|<s>/i.test(added.content)) out['cls_token'] ??= added.content;
        else if (/sep|<\/s>/i.test(added.content)) out['sep_token'] ??= added.content;
        else if (/mask/i.test(added.content)) out['mask_token'] ??= added.content;
      }
    }
    return out;
  }

  private derivedConfig(): JsonObject {
    const out: JsonObject = {};
    if (this.doLowerCase !== undefined) out['do_lower_case'] = this.doLowerCase;
    out['model_max_length'] = this.maxLength;
    Object.assign(out, this.derivedSpecialMap());
    return out;
  }

  /** vocab.txt lines (token of id 0, 1, …) when the vocabulary is contiguous and newline-free; else undefined. */
  private derivedVocabTxt(): string | undefined {
    const vocab = this.hf.get_vocab(true);
    const byId = new Array<string | undefined>(vocab.size);
    for (const [token, id] of vocab) {
      if (!Number.isInteger(id) || id < 0 || id >= vocab.size || /[\r\n]/.test(token)) return undefined;
      byId[id] = token;
    }
    for (const token of byId) if (token === undefined) return undefined;
    return byId.join('\n') + '\n';
  }
}

/** Finds the special token ids placed before and after a single sequence by the post-processor. */
function specialTokenLayout(hf: HfTokenizer, tokenizerJson: JsonObject): { prefix: number[]; suffix: number[] } {
  const processor = hf.post_processor;
  if (processor === null) return { prefix: [], suffix: [] };
  const tokens = processor.post_process([CONTENT_SENTINEL], null, true).tokens;
  const slot = tokens.indexOf(CONTENT_SENTINEL);
  if (slot < 0) throw new Error('The tokenizer post-processor did not keep the text tokens; this tokenizer.json is not supported.');
  const templateIds = templateSpecialIds(tokenizerJson['post_processor']);
  const toIds = (names: string[]): number[] => {
    const out: number[] = [];
    for (const name of names) {
      const mapped = templateIds.get(name);
      if (mapped !== undefined) {
        out.push(...mapped);
        continue;
      }
      const id = hf.token_to_id(name);
      if (id === undefined) {
        throw new Error(`Special token ${JSON.stringify(name)} of the post-processor is not in the vocabulary; the tokenizer files are inconsistent.`);
      }
      out.push(id);
    }
    return out;
  };
  return { prefix: toIds(tokens.slice(0, slot)), suffix: toIds(tokens.slice(slot + 1)) };
}

/** TemplateProcessing special-token name → ids (as the Rust tokenizer reads them), searched through Sequence processors. */
function templateSpecialIds(processor: unknown): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const visit = (p: unknown): void => {
    if (!isObject(p)) return;
    if (p['type'] === 'Sequence' && Array.isArray(p['processors'])) {
      for (const inner of p['processors']) visit(inner);
      return;
    }
    if (p['type'] !== 'TemplateProcessing' || !isObject(p['special_tokens'])) return;
    for (const [name, spec] of Object.entries(p['special_tokens'])) {
      if (isObject(spec) && Array.isArray(spec['ids']) && spec['ids'].every((x) => Number.isInteger(x))) {
        out.set(name, spec['ids'] as number[]);
      }
    }
  };
  visit(processor);
  return out;
}

function resolvePadId(hf: HfTokenizer, tokenizerJson: JsonObject, config: JsonObject, specialMap: JsonObject): number {
  const padToken = tokenContent(specialMap['pad_token']) ?? tokenContent(config['pad_token']);
  if (padToken !== undefined) {
    const id = hf.token_to_id(padToken);
    if (id !== undefined) return id;
  }
  const padding = tokenizerJson['padding'];
  if (isObject(padding) && Number.isInteger(padding['pad_id'])) return padding['pad_id'] as number;
  return 0;
}

function lowercaseFromNormalizer(normalizer: unknown): boolean | undefined {
  if (!isObject(normalizer)) return undefined;
  if (normalizer['type'] === 'BertNormalizer') return typeof normalizer['lowercase'] === 'boolean' ? normalizer['lowercase'] : true;
  if (normalizer['type'] === 'Lowercase') return true;
  if (normalizer['type'] === 'Sequence' && Array.isArray(normalizer['normalizers'])) {
    let found: boolean | undefined;
    for (const inner of normalizer['normalizers']) {
      const v = lowercaseFromNormalizer(inner);
      if (v === true) return true;
      if (v === false) found = false;
    }
    return found;
  }
  return undefined;
}

/**
 * The tokenizer.json that Hugging Face's BERT converter produces from vocab.txt + tokenizer_config.json:
 * BertNormalizer, BertPreTokenizer, WordPiece ("##", [UNK]), TemplateProcessing [CLS] $A [SEP].
 */
function buildBertTokenizerJson(vocabPath: string, vocabTxt: string, config: JsonObject, specialMap: JsonObject): JsonObject {
  const lines = vocabTxt.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab: { [token: string]: number } = Object.create(null) as { [token: string]: number };
  for (let i = 0; i < lines.length; i++) {
    let token = lines[i]!;
    if (token.endsWith('\r')) token = token.slice(0, -1);
    vocab[token] = i;
  }
  if (lines.length === 0) {
    throw new Error(`${vocabPath} is empty. Re-download vocab.txt from the model repository.`);
  }

  const special = (key: string, fallback: string): string =>
    tokenContent(specialMap[key]) ?? tokenContent(config[key]) ?? fallback;
  const unk = special('unk_token', '[UNK]');
  const cls = special('cls_token', '[CLS]');
  const sep = special('sep_token', '[SEP]');
  const pad = special('pad_token', '[PAD]');
  const mask = special('mask_token', '[MASK]');
  for (const [role, token] of [['unk_token', unk], ['cls_token', cls], ['sep_token', sep]] as const) {
    if (vocab[token] === undefined) {
      throw new Error(
        `${vocabPath} has no entry for the ${role} ${JSON.stringify(token)}. ` +
          `Fix ${role} in tokenizer_config.json / special_tokens_map.json or use the model's own vocab.txt.`,
      );
    }
  }

  const addedNames = [pad, unk, cls, sep, mask];
  const extra = specialMap['additional_special_tokens'] ?? config['additional_special_tokens'];
  if (Array.isArray(extra)) for (const t of extra) {
    const name = tokenContent(t);
    if (name !== undefined) addedNames.push(name);
  }
  const seen = new Set<string>();
  const addedTokens: JsonObject[] = [];
  for (const content of addedNames) {
    const id = vocab[content];
    if (id === undefined || seen.has(content)) continue;
    seen.add(content);
    addedTokens.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  addedTokens.sort((a, b) => (a['id'] as number) - (b['id'] as number));

  const lowercase = typeof config['do_lower_case'] === 'boolean' ? config['do_lower_case'] : true;
  const stripAccents = typeof config['strip_accents'] === 'boolean' ? config['strip_accents'] : null;
  const chinese = typeof config['tokenize_chinese_chars'] === 'boolean' ? config['tokenize_chinese_chars'] : true;
  const clsId = vocab[cls]!;
  const sepId = vocab[sep]!;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: chinese, strip_accents: stripAccents, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: [sepId], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

function createHfTokenizer(path: string, tokenizerJson: JsonObject, config: JsonObject): HfTokenizer {
  if (!isObject(tokenizerJson['model'])) {
    throw new Error(`${path} has no "model" section, so it is not a Hugging Face tokenizer.json. Re-export it with the tokenizers library.`);
  }
  // The JS library wants every component key present; older files omit the unused ones.
  const json: JsonObject = { ...tokenizerJson };
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) if (!(key in json)) json[key] = null;
  if (!Array.isArray(json['added_tokens'])) json['added_tokens'] = [];
  // SentencePiece components the library lacks (Nmt) or approximates (Precompiled, Metaspace) are ours.
  const normalizer = sentencePieceNormalizer(json['normalizer'], path);
  const preTokenizer = sentencePiecePreTokenizer(json['pre_tokenizer'], path);
  if (normalizer !== null) json['normalizer'] = null;
  if (preTokenizer !== null) json['pre_tokenizer'] = null;
  try {
    const hf = new RustCompatibleHfTokenizer(json, config);
    if (isObject(json['normalizer']) && json['normalizer']['type'] === 'BertNormalizer' && hf.normalizer instanceof hfLib.BertNormalizer) {
      hf.normalizer = new RustCompatibleBertNormalizer(hf.normalizer.config);
    }
    if (normalizer !== null) {
      hf.normalizer = normalizer;
      renormalizeAddedTokens(hf);
    }
    if (preTokenizer !== null) hf.pre_tokenizer = preTokenizer;
    return hf;
  } catch (err) {
    throw new Error(
      `Could not build a tokenizer from ${path}: ${errorMessage(err)}. ` +
        `Check that the file is a Hugging Face tokenizer.json with supported components.`,
    );
  }
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const NONSPACING_MARKS = /\p{Mn}/gu;
const OTHER_CATEGORY = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const WHITE_SPACE = /^\p{White_Space}$/u;

/**
 * BertNormalizer with the Rust tokenizers' exact behaviour, which the JS one misses in a few places:
 * CJK characters outside the BMP (and Rust's 0x2B920 range start) get spaces around them, accents
 * are stripped before lowercasing, and lowercasing is per character (no final-sigma rule).
 */
class RustCompatibleBertNormalizer extends hfLib.BertNormalizer {
  override normalize(text: string): string {
    const cfg = this.config;
    const lowercase = cfg.lowercase === true;
    // Printable ASCII is unchanged by cleaning, CJK spacing and accent stripping.
    if (PRINTABLE_ASCII.test(text)) return lowercase ? text.toLowerCase() : text;
    const clean = cfg.clean_text === true;
    const chinese = cfg.handle_chinese_chars === true;
    if (clean || chinese) {
      const parts: string[] = [];
      for (const ch of text) {
        const cp = ch.codePointAt(0)!;
        if (clean) {
          if (cp === 0 || cp === 0xfffd || isBertControl(ch, cp)) continue;
          if (isBertWhitespace(ch, cp)) {
            parts.push(' ');
            continue;
          }
        }
        if (chinese && isRustChineseChar(cp)) parts.push(' ', ch, ' ');
        else parts.push(ch);
      }
      text = parts.join('');
    }
    const stripAccents = typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : lowercase;
    if (stripAccents) text = text.normalize('NFD').replace(NONSPACING_MARKS, '');
    if (lowercase) {
      // String#toLowerCase maps a word-final capital sigma to ς; Rust lowercases each character to σ.
      if (text.includes('\u03a3')) text = text.replaceAll('\u03a3', '\u03c3');
      text = text.toLowerCase();
    }
    return text;
  }
}

function isBertControl(ch: string, cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  if (cp < 0x80) return cp < 0x20 || cp === 0x7f;
  return OTHER_CATEGORY.test(ch);
}

function isBertWhitespace(ch: string, cp: number): boolean {
  if (cp < 0x80) return cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d;
  return WHITE_SPACE.test(ch);
}

/** CJK Unified Ideograph blocks, as the Rust BertNormalizer lists them. */
function isRustChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value['content'] === 'string') return value['content'];
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Could not read ${path}: ${errorMessage(err)}. Check the file's permissions.`);
  }
}

function parseJsonObject(path: string, text: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${path} is not valid JSON (${errorMessage(err)}). The file is damaged or truncated; download it again from the model repository.`,
    );
  }
  if (!isObject(value)) {
    throw new Error(`${path} must hold a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}. Download it again from the model repository.`);
  }
  return value;
}

/** Writes a file via a temporary sibling, fsync, and rename, so readers never see a partial file. */
async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`Could not write ${path}: ${errorMessage(err)}. Check that the folder is writable and the disk has space.`);
  }
}

/** Makes renames in dir durable; not all platforms allow syncing a directory, which is fine to skip. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Directory fsync is unsupported on some platforms (e.g. Windows).
  }
}
