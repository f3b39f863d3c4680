/**
 * Typed view of the parts of @huggingface/tokenizers that SentenceKit uses or patches. The
 * package's own declaration files use extension-less relative imports, which NodeNext resolution
 * cannot follow, so its exports would otherwise be untyped. Takes nothing; exports `hfLib` and
 * the shapes of the library objects touched here.
 */
import * as hfTokenizers from '@huggingface/tokenizers';

export interface HfBertNormalizerConfig {
  type: 'BertNormalizer';
  clean_text?: boolean;
  handle_chinese_chars?: boolean;
  strip_accents?: boolean | null;
  lowercase?: boolean;
}
/** A normalizer: callable, text in, text out. */
export interface HfNormalizer {
  (text: string): string;
  normalize(text: string): string;
}
export interface HfBertNormalizer extends HfNormalizer {
  config: HfBertNormalizerConfig;
}
/** A pre-tokenizer: callable, text (or texts) in, pre-tokens out. */
export interface HfPreTokenizer {
  (text: string | string[], options?: HfPreTokenizeOptions): string[];
  pre_tokenize(text: string | string[], options?: HfPreTokenizeOptions): string[];
  pre_tokenize_text(text: string, options?: HfPreTokenizeOptions): string[];
}
/** section_index: which piece of the text between added tokens is being pre-tokenized. */
export interface HfPreTokenizeOptions {
  section_index?: number;
}
export interface HfPostProcessor {
  post_process(tokens: string[], tokensPair: string[] | null, addSpecialTokens: boolean): { tokens: string[] };
}
export interface HfAddedToken {
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
}
/** The library's added-token splitter (longest match first); rebuilt when the normalizer changes. */
export interface HfDictionarySplitter {
  split(text: string): string[];
}
export interface HfTokenizer {
  normalizer: HfNormalizer | null;
  /** The model (WordPiece, BPE, Unigram): pre-tokens in, token strings out. */
  model: (preTokens: string[]) => string[];
  remove_space?: boolean;
  do_lowercase_and_remove_accent: boolean;
  pre_tokenizer: HfPreTokenizer | null;
  post_processor: HfPostProcessor | null;
  added_tokens: HfAddedToken[];
  added_tokens_map: Map<string, HfAddedToken>;
  splitter_unnormalized: HfDictionarySplitter;
  splitter_normalized: HfDictionarySplitter;
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_added_tokens_decoder(): Map<number, HfAddedToken>;
  get_vocab(withAddedTokens: boolean): Map<string, number>;
  /** One text → token strings: added-token split, normalizer, pre-tokenizer, model. */
  encode_text(text: string | null): string[] | null;
}
export interface HfLibrary {
  Tokenizer: new (tokenizerJson: object, config: object) => HfTokenizer;
  BertNormalizer: new (config: HfBertNormalizerConfig) => HfBertNormalizer;
  /** Base class of every normalizer (makes instances callable). */
  Normalizer: new (config: object) => HfNormalizer;
  /** Base class of every pre-tokenizer; subclasses implement pre_tokenize_text. */
  PreTokenizer: new () => HfPreTokenizer;
  /** Builds each listed normalizer with the library's own factory. */
  SequenceNormalizer: new (config: { type: 'Sequence'; normalizers: unknown[] }) => HfNormalizer;
  /** Builds each listed pre-tokenizer with the library's own factory. */
  SequencePreTokenizer: new (config: { type: 'Sequence'; pretokenizers: unknown[] }) => HfPreTokenizer;
}

export const hfLib = hfTokenizers as unknown as HfLibrary;
