/**
 * The @huggingface/tokenizers Tokenizer with the Rust tokenizers' whitespace for added tokens
 * marked lstrip / rstrip (XLM-RoBERTa's and RoBERTa's <mask>): the whitespace they absorb from
 * the text beside them is the Unicode White_Space set (Rust's char::is_whitespace), where the
 * library uses String#trimEnd/trimStart (which also strip U+FEFF and keep U+0085). Takes what the
 * library's Tokenizer takes (tokenizer.json object, tokenizer_config.json object); the rest of
 * encode_text follows the library: split on raw added tokens, normalize each piece, split on
 * normalized added tokens, pre-tokenize, run the model.
 */
import { hfLib, type HfTokenizer } from './hf_library.js';

const WHITE_SPACE = /^\p{White_Space}$/u;

export class RustCompatibleHfTokenizer extends hfLib.Tokenizer {
  override encode_text(text: string | null): string[] | null {
    if (text === null) return null;
    // configuration flags of a few older tokenizers: the library's own path handles them
    if (this.remove_space === true || this.do_lowercase_and_remove_accent) return super.encode_text(text);
    const sections = absorbWhitespace(this, this.splitter_unnormalized.split(text));
    const out: string[] = [];
    for (let sectionIndex = 0; sectionIndex < sections.length; sectionIndex++) {
      const section = sections[sectionIndex]!;
      if (section.length === 0) continue;
      if (this.added_tokens_map.has(section)) {
        out.push(section);
        continue;
      }
      const normalized = this.normalizer === null ? section : this.normalizer(section);
      if (normalized.length === 0) continue;
      for (const sub of absorbWhitespace(this, this.splitter_normalized.split(normalized))) {
        if (sub.length === 0) continue;
        if (this.added_tokens_map.has(sub)) {
          out.push(sub);
          continue;
        }
        const preTokens = this.pre_tokenizer === null ? [sub] : this.pre_tokenizer(sub, { section_index: sectionIndex });
        for (const token of this.model(preTokens)) out.push(token);
      }
    }
    return out;
  }
}

/** Removes the whitespace that lstrip / rstrip added tokens take from the pieces beside them. */
function absorbWhitespace(hf: HfTokenizer, pieces: string[]): string[] {
  for (let i = 0; i < pieces.length; i++) {
    const token = hf.added_tokens_map.get(pieces[i]!);
    if (token === undefined) continue;
    if (token.lstrip && i > 0) pieces[i - 1] = trimWhiteSpaceEnd(pieces[i - 1]!);
    if (token.rstrip && i < pieces.length - 1) pieces[i + 1] = trimWhiteSpaceStart(pieces[i + 1]!);
  }
  return pieces;
}

// Every White_Space character is in the BMP, so one UTF-16 unit is one character here.
function trimWhiteSpaceEnd(s: string): string {
  let end = s.length;
  while (end > 0 && WHITE_SPACE.test(s[end - 1]!)) end--;
  return s.slice(0, end);
}

function trimWhiteSpaceStart(s: string): string {
  let start = 0;
  while (start < s.length && WHITE_SPACE.test(s[start]!)) start++;
  return s.slice(start);
}
