/**
 * The `Strip` normalizer as the Rust tokenizers apply it: removes leading (strip_left) and/or
 * trailing (strip_right) characters with the Unicode White_Space property (Rust's
 * char::is_whitespace), which differs from String#trim on U+0085 (stripped here) and U+FEFF
 * (kept here). Takes the normalizer's JSON config.
 */
import { hfLib } from './hf_library.js';

const WHITE_SPACE = /^\p{White_Space}$/u;

export class StripNormalizer extends hfLib.Normalizer {
  private readonly left: boolean;
  private readonly right: boolean;

  constructor(config: { strip_left?: unknown; strip_right?: unknown }) {
    super(config);
    this.left = config.strip_left === true;
    this.right = config.strip_right === true;
  }

  override normalize(text: string): string {
    let start = 0;
    let end = text.length;
    // Every White_Space character is in the BMP, so one UTF-16 unit is one character here.
    if (this.left) while (start < end && WHITE_SPACE.test(text[start]!)) start++;
    if (this.right) while (end > start && WHITE_SPACE.test(text[end - 1]!)) end--;
    return start === 0 && end === text.length ? text : text.slice(start, end);
  }
}
