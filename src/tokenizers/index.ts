/** Tokenizer layer: re-exports the text → token id tokenizer and its batch types. */
export { Tokenizer } from './tokenizer.js';
export type { Batch, EncodedText, TokenizerOptions } from './tokenizer.js';
