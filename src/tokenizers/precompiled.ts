/**
 * SentencePiece's `Precompiled` normalizer, exactly as the Rust `tokenizers` crate applies it
 * (crate spm_precompiled + tokenizers' normalizers/precompiled.rs). Takes the base64
 * `precompiled_charsmap` of a tokenizer.json and the file's path (for error messages).
 *
 * Charsmap layout: u32 LE trie size in bytes, then that many bytes of darts-clone double-array
 * units (u32 LE each), then the normalized-strings blob (UTF-8, entries ended by \0). A unit u
 * has  leaf = (u >> 8) & 1,  label = u & (2^31 | 0xff),  offset = (u >> 10) << ((u & 2^9) >> 6),
 * value = u & (2^31 - 1). Looking up bytes b1 b2 …: pos = offset(unit[0]); per byte b:
 * pos ^= b, stop unless label(unit[pos]) = b, pos ^= offset(unit[pos]); when leaf, value(unit[pos])
 * is the blob offset of one replacement (a prefix match). transform(chunk) takes the FIRST
 * (shortest) prefix match, and that replacement stands for the whole chunk.
 *
 * normalize(text): per extended grapheme cluster g, if g is under 6 UTF-8 bytes and
 * transform(g) matches, g becomes that; otherwise each character c becomes transform(c) or
 * stays c.
 */
import { hfLib } from './hf_library.js';

const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Rust looks a grapheme up whole only below this many UTF-8 bytes. */
const WHOLE_GRAPHEME_BYTES = 6;
const CACHE_LIMIT = 50_000;
const ASCII = /^[\x00-\x7f]*$/;

/** The darts-clone trie and the replacement strings of one precompiled_charsmap. */
export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly blob: Uint8Array;
  private readonly strings = new Map<number, string>();

  /** Parses the charsmap; any damage is reported with `where` (the tokenizer.json path). */
  constructor(base64: string, private readonly where: string) {
    if (!BASE64.test(base64)) this.damaged('it is not valid base64');
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length < 4) this.damaged(`it holds ${bytes.length} bytes, fewer than the 4-byte trie size`);
    const trieBytes = bytes.readUInt32LE(0);
    if (trieBytes === 0 || trieBytes % 4 !== 0) this.damaged(`its trie size ${trieBytes} is not a positive multiple of 4`);
    if (4 + trieBytes > bytes.length) {
      this.damaged(`its trie size ${trieBytes} runs past the end of the ${bytes.length}-byte charsmap`);
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = bytes.readUInt32LE(4 + 4 * i);
    this.blob = new Uint8Array(bytes.buffer, bytes.byteOffset + 4 + trieBytes, bytes.length - 4 - trieBytes);
    try {
      STRICT_UTF8.decode(this.blob);
    } catch {
      this.damaged('its normalized-strings part is not valid UTF-8');
    }
  }

  /** The replacement of the shortest charsmap entry that prefixes `chunk`, or undefined when none does. */
  transform(chunk: Uint8Array): string | undefined {
    let pos = offset(this.unit(0));
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (c === 0) return undefined;
      pos ^= c;
      const u = this.unit(pos);
      if ((u & 0x800000ff) !== c) return undefined;
      pos ^= offset(u);
      if ((u >>> 8) & 1) return this.stringAt(this.unit(pos) & 0x7fffffff);
    }
    return undefined;
  }

  private unit(pos: number): number {
    const u = this.units[pos];
    if (u === undefined) this.damaged(`a trie lookup reached unit ${pos} of ${this.units.length}`);
    return u;
  }

  /** The blob's string from `index` to the next \0 (or the end). */
  private stringAt(index: number): string {
    let s = this.strings.get(index);
    if (s !== undefined) return s;
    if (index > this.blob.length) this.damaged(`an entry points at byte ${index} of a ${this.blob.length}-byte string table`);
    let end = index;
    while (end < this.blob.length && this.blob[end] !== 0) end++;
    try {
      s = STRICT_UTF8.decode(this.blob.subarray(index, end));
    } catch {
      this.damaged(`an entry at byte ${index} starts inside a UTF-8 character`);
    }
    this.strings.set(index, s);
    return s;
  }

  private damaged(what: string): never {
    throw new Error(
      `The Precompiled normalizer's precompiled_charsmap in ${this.where} is damaged: ${what}. ` +
        `Download tokenizer.json again from the model repository (or re-save it with transformers).`,
    );
  }
}

function offset(u: number): number {
  return (u >>> 10) << ((u & 0x200) >>> 6);
}

/** Grapheme splitting as Rust's unicode-segmentation `graphemes(true)` (extended clusters). */
const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The `Precompiled` normalizer of a tokenizer.json, as the Rust tokenizers apply it. */
export class PrecompiledNormalizer extends hfLib.Normalizer {
  private readonly charsmap: PrecompiledCharsmap;
  /** grapheme → its normalized form (graphemes repeat a lot in real text). */
  private readonly cache = new Map<string, string>();
  /** The normalized form of each ASCII character as a grapheme of its own, and of "\r\n". */
  private readonly ascii: string[];
  private readonly crlf: string;

  constructor(config: { precompiled_charsmap?: unknown }, where: string) {
    super(config);
    const raw = config.precompiled_charsmap;
    if (typeof raw !== 'string') {
      throw new Error(
        `${where}: the Precompiled normalizer has no precompiled_charsmap string (found ${raw === null ? 'null' : typeof raw}). ` +
          `Download tokenizer.json again from the model repository.`,
      );
    }
    this.charsmap = new PrecompiledCharsmap(raw, where);
    this.ascii = Array.from({ length: 128 }, (_, c) => this.normalizeGrapheme(String.fromCharCode(c)));
    this.crlf = this.normalizeGrapheme('\r\n');
  }

  override normalize(text: string): string {
    if (ASCII.test(text)) return this.normalizeAscii(text);
    let out = '';
    for (const { segment } of GRAPHEMES.segment(text)) {
      let norm = this.cache.get(segment);
      if (norm === undefined) {
        norm = this.normalizeGrapheme(segment);
        if (this.cache.size < CACHE_LIMIT) this.cache.set(segment, norm);
      }
      out += norm;
    }
    return out;
  }

  /** In ASCII text every character is a grapheme of its own, except "\r\n", which is one (UAX #29 GB3). */
  private normalizeAscii(text: string): string {
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) {
        out += this.crlf;
        i++;
      } else {
        out += this.ascii[c]!;
      }
    }
    return out;
  }

  private normalizeGrapheme(grapheme: string): string {
    const bytes = UTF8.encode(grapheme);
    if (bytes.length < WHOLE_GRAPHEME_BYTES) {
      const whole = this.charsmap.transform(bytes);
      if (whole !== undefined) return whole;
    }
    let out = '';
    for (const ch of grapheme) out += this.charsmap.transform(UTF8.encode(ch)) ?? ch;
    return out;
  }
}
