/**
 * The `Metaspace` pre-tokenizer as the Rust tokenizers apply it (SentencePiece word marks):
 * every ' ' becomes the replacement (▁); ▁ is put in front when the piece does not start with
 * one (prepend_scheme "always", or "first" for the first piece of the text); then, with split
 * (the default), the piece is cut before every ▁, each ▁ staying with the text after it
 * ("▁a▁▁b" → "▁a", "▁", "▁b"). Older files give add_prefix_space instead of prepend_scheme
 * (true → "always", false → "never"). Takes the pre-tokenizer's JSON config and the file path.
 */
import { hfLib, type HfPreTokenizeOptions } from './hf_library.js';

type PrependScheme = 'always' | 'first' | 'never';

export class MetaspacePreTokenizer extends hfLib.PreTokenizer {
  private readonly replacement: string;
  private readonly prepend: PrependScheme;
  private readonly split: boolean;

  constructor(config: { replacement?: unknown; prepend_scheme?: unknown; add_prefix_space?: unknown; split?: unknown }, where: string) {
    super();
    const replacement = config.replacement ?? '\u2581';
    if (typeof replacement !== 'string' || [...replacement].length !== 1) {
      throw new Error(`${where}: the Metaspace pre-tokenizer's replacement must be one character, found ${JSON.stringify(replacement)}. Fix pre_tokenizer.replacement.`);
    }
    let prepend: unknown = config.prepend_scheme;
    if (prepend === undefined) prepend = config.add_prefix_space === false ? 'never' : 'always';
    if (prepend !== 'always' && prepend !== 'first' && prepend !== 'never') {
      throw new Error(`${where}: the Metaspace pre-tokenizer's prepend_scheme must be "always", "first" or "never", found ${JSON.stringify(prepend)}.`);
    }
    this.replacement = replacement;
    this.prepend = prepend;
    this.split = config.split !== false;
  }

  /**
   * "first" prepends only to the piece at the start of the text: here, the first pre-token of
   * the first section between added tokens (the Rust code asks whether the piece starts at
   * offset 0 of the original text; the two differ only when the text opens with whitespace
   * that an earlier step removed).
   */
  override pre_tokenize(text: string | string[], options?: HfPreTokenizeOptions): string[] {
    const pieces = Array.isArray(text) ? text : [text];
    const out: string[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const first = (options?.section_index ?? 0) === 0 && i === 0;
      out.push(...this.pieces(pieces[i]!, first));
    }
    return out;
  }

  override pre_tokenize_text(text: string, options?: HfPreTokenizeOptions): string[] {
    return this.pieces(text, (options?.section_index ?? 0) === 0);
  }

  private pieces(text: string, first: boolean): string[] {
    const r = this.replacement;
    let s = text.replaceAll(' ', r);
    // Rust's prepend leaves an empty string empty.
    if (s.length > 0 && !s.startsWith(r) && (this.prepend === 'always' || (this.prepend === 'first' && first))) s = r + s;
    if (!this.split) return s.length > 0 ? [s] : [];
    const out: string[] = [];
    let start = 0;
    for (let i = s.indexOf(r, 1); i >= 0; i = s.indexOf(r, i + r.length)) {
      out.push(s.slice(start, i));
      start = i;
    }
    if (start < s.length) out.push(s.slice(start));
    return out;
  }
}
