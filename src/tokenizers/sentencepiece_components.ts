/**
 * Rust-exact stand-ins for the tokenizer.json components of SentencePiece tokenizers
 * (XLM-RoBERTa, multilingual-e5, paraphrase-multilingual, T5, ALBERT, …) where
 * @huggingface/tokenizers lacks them or approximates them: a normalizer tree that holds `Nmt` or
 * `Precompiled` is rebuilt with our Nmt, Precompiled and Strip (the rest, e.g. NFKC and Replace,
 * are the library's own), and a pre-tokenizer tree that holds `Metaspace` is rebuilt with our
 * Metaspace and WhitespaceSplit. Takes the component's JSON and the tokenizer.json path; returns
 * null where the library's own component is kept.
 */
import { hfLib, type HfNormalizer, type HfPreTokenizeOptions, type HfPreTokenizer, type HfTokenizer } from './hf_library.js';
import { MetaspacePreTokenizer } from './metaspace.js';
import { NmtNormalizer } from './nmt.js';
import { PrecompiledNormalizer } from './precompiled.js';
import { StripNormalizer } from './strip.js';
import { WhitespaceSplitPreTokenizer } from './whitespace_split.js';

type JsonObject = { [key: string]: unknown };

/** A normalizer tree with Nmt or Precompiled, rebuilt Rust-exact; null when it has neither. */
export function sentencePieceNormalizer(config: unknown, where: string): HfNormalizer | null {
  return containsType(config, 'normalizers', ['Nmt', 'Precompiled']) ? buildNormalizer(config as JsonObject, where) : null;
}

/** A pre-tokenizer tree with Metaspace, rebuilt Rust-exact; null when it has none. */
export function sentencePiecePreTokenizer(config: unknown, where: string): HfPreTokenizer | null {
  return containsType(config, 'pretokenizers', ['Metaspace']) ? buildPreTokenizer(config as JsonObject, where) : null;
}

/**
 * After the normalizer was replaced: added tokens marked `normalized` are matched against the
 * normalized text, so their normalized forms are recomputed with the new normalizer.
 */
export function renormalizeAddedTokens(hf: HfTokenizer): void {
  if (hf.normalizer === null || !hf.added_tokens.some((t) => t.normalized)) return;
  const map = new Map<string, (typeof hf.added_tokens)[number]>();
  const unnormalized: string[] = [];
  const normalized: string[] = [];
  for (const token of hf.added_tokens) {
    map.set(token.content, token);
    if (token.normalized) {
      const form = hf.normalizer(token.content);
      normalized.push(form);
      map.set(form, token);
    } else {
      unnormalized.push(token.content);
    }
  }
  const Splitter = hf.splitter_unnormalized.constructor as new (words: string[]) => typeof hf.splitter_unnormalized;
  hf.added_tokens_map = map;
  hf.splitter_unnormalized = new Splitter(unnormalized);
  hf.splitter_normalized = new Splitter(normalized);
}

function containsType(config: unknown, childrenKey: string, types: string[]): boolean {
  if (!isObject(config)) return false;
  if (typeof config['type'] === 'string' && types.includes(config['type'])) return true;
  const children = config[childrenKey];
  return config['type'] === 'Sequence' && Array.isArray(children) && children.some((c) => containsType(c, childrenKey, types));
}

function buildNormalizer(config: JsonObject, where: string): HfNormalizer {
  switch (config['type']) {
    case 'Sequence': {
      const children = config['normalizers'];
      if (!Array.isArray(children)) throw new Error(`${where}: a Sequence normalizer has no "normalizers" list. Fix or re-download tokenizer.json.`);
      return new SequenceNormalizer(children.map((c, i) => {
        if (!isObject(c)) throw new Error(`${where}: normalizer ${i} of a Sequence is not an object. Fix or re-download tokenizer.json.`);
        return buildNormalizer(c, where);
      }));
    }
    case 'Nmt':
      return new NmtNormalizer();
    case 'Precompiled':
      return new PrecompiledNormalizer(config, where);
    case 'Strip':
      return new StripNormalizer(config);
    default:
      // the library's own component, made by its factory
      return new hfLib.SequenceNormalizer({ type: 'Sequence', normalizers: [config] });
  }
}

function buildPreTokenizer(config: JsonObject, where: string): HfPreTokenizer {
  switch (config['type']) {
    case 'Sequence': {
      const children = config['pretokenizers'];
      if (!Array.isArray(children)) throw new Error(`${where}: a Sequence pre-tokenizer has no "pretokenizers" list. Fix or re-download tokenizer.json.`);
      return new SequencePreTokenizer(children.map((c, i) => {
        if (!isObject(c)) throw new Error(`${where}: pre-tokenizer ${i} of a Sequence is not an object. Fix or re-download tokenizer.json.`);
        return buildPreTokenizer(c, where);
      }));
    }
    case 'Metaspace':
      return new MetaspacePreTokenizer(config, where);
    case 'WhitespaceSplit':
      return new WhitespaceSplitPreTokenizer();
    default:
      return new hfLib.SequencePreTokenizer({ type: 'Sequence', pretokenizers: [config] });
  }
}

class SequenceNormalizer extends hfLib.Normalizer {
  constructor(private readonly steps: HfNormalizer[]) {
    super({ type: 'Sequence' });
  }

  override normalize(text: string): string {
    for (const step of this.steps) text = step.normalize(text);
    return text;
  }
}

class SequencePreTokenizer extends hfLib.PreTokenizer {
  constructor(private readonly steps: HfPreTokenizer[]) {
    super();
  }

  override pre_tokenize(text: string | string[], options?: HfPreTokenizeOptions): string[] {
    let pieces = Array.isArray(text) ? text : [text];
    for (const step of this.steps) pieces = step.pre_tokenize(pieces, options);
    return pieces;
  }

  override pre_tokenize_text(text: string, options?: HfPreTokenizeOptions): string[] {
    return this.pre_tokenize(text, options);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
