/**
 * The `WhitespaceSplit` pre-tokenizer as the Rust tokenizers apply it: splits on runs of
 * characters with the Unicode White_Space property (Rust's char::is_whitespace) and drops them.
 * JavaScript's \s differs on U+0085 (whitespace here) and U+FEFF (not whitespace here).
 * Takes the text.
 */
import { hfLib } from './hf_library.js';

const NOT_WHITE_SPACE = /\P{White_Space}+/gu;

export class WhitespaceSplitPreTokenizer extends hfLib.PreTokenizer {
  override pre_tokenize_text(text: string): string[] {
    return text.match(NOT_WHITE_SPACE) ?? [];
  }
}
