/**
 * The `Nmt` normalizer of the Rust tokenizers (normalizers/unicode.rs, SentencePiece's NMT
 * rules): removes the control characters U+0001–U+0008, U+000B, U+000E–U+001F, U+007F, U+008F,
 * U+009F, and turns U+0009, U+000A, U+000C, U+000D, U+1680, U+200B–U+200F, U+2028, U+2029,
 * U+2581, U+FEFF and U+FFFD into a space. Takes the text; every other character is kept.
 */
import { hfLib } from './hf_library.js';

const REMOVED = /[\u0001-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]/g;
const TO_SPACE = /[\u0009\u000a\u000c\u000d\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]/g;

export class NmtNormalizer extends hfLib.Normalizer {
  constructor() {
    super({ type: 'Nmt' });
  }

  override normalize(text: string): string {
    return text.replace(REMOVED, '').replace(TO_SPACE, ' ');
  }
}
