// Splits long documents into chunks that fit a model's token limit. Takes a document (or a
// stream of { id, text }), a tokenizer (token counts, special tokens included) and a token
// budget; packs whole sentences (Intl.Segmenter, with common abbreviations kept together)
// into each chunk, splits a sentence longer than the budget at word boundaries (at characters
// only for a single over-long word), and can repeat the last sentences of a chunk at the start
// of the next (overlap in tokens). Chunks keep character offsets: doc.slice(start, end) === text.

/** What chunking needs from a tokenizer; {@link Tokenizer} from src/tokenizers fits. */
export interface TokenCounter {
  /** Tokens of a text without truncation, special tokens included. */
  countTokens(text: string): number;
  /** Special tokens added around every text ([CLS] and [SEP] for BERT: 2). */
  readonly numSpecialTokens: number;
  /** The tokenizer's truncation length, the default budget. */
  readonly maxLength: number;
}

export interface ChunkOptions {
  /** Most tokens in a chunk, special tokens included (default the tokenizer's maxLength). */
  maxTokens?: number;
  /** Tokens (without special tokens) repeated from the end of one chunk at the start of the next (default 0). */
  overlapTokens?: number;
  /** Locale for sentence segmentation (default 'en'). */
  locale?: string;
  /** Lower-case words ending in "." after which a sentence does not end (default: common English abbreviations). */
  abbreviations?: Iterable<string>;
  /** Counts added to as chunks are made. */
  stats?: ChunkStats;
}

export interface ChunkStats {
  documents: number;
  chunks: number;
  sentences: number;
  /** Sentences longer than the budget, split at word boundaries. */
  sentencesSplit: number;
  /** Words longer than the budget, split between characters. */
  wordsSplit: number;
}

export interface Chunk {
  sourceId: string;
  chunkIndex: number;
  text: string;
  /** Character offsets into the document: doc.slice(start, end) === text. */
  start: number;
  end: number;
  /** Token count of text, special tokens included (≤ maxTokens). */
  tokens: number;
}

export interface Span {
  start: number;
  end: number;
}

export function newChunkStats(): ChunkStats {
  return { documents: 0, chunks: 0, sentences: 0, sentencesSplit: 0, wordsSplit: 0 };
}

/** Abbreviations (lower case, without the final ".") that do not end a sentence. */
export const DEFAULT_ABBREVIATIONS: readonly string[] = [
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'gen', 'col', 'capt', 'lt', 'sgt', 'rev', 'hon',
  'gov', 'sen', 'rep', 'pres', 'inc', 'ltd', 'co', 'corp', 'vs', 'etc', 'e.g', 'i.e', 'cf', 'al', 'approx', 'no',
  'nos', 'vol', 'fig', 'figs', 'eq', 'ed', 'eds', 'p', 'pp', 'ch', 'sec', 'dept', 'univ', 'est', 'jan', 'feb', 'mar',
  'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'u.k', 'a.m', 'p.m',
];

const segmenters = new Map<string, Intl.Segmenter>();
function sentenceSegmenter(locale: string): Intl.Segmenter {
  let s = segmenters.get(locale);
  if (s === undefined) {
    s = new Intl.Segmenter(locale, { granularity: 'sentence' });
    segmenters.set(locale, s);
  }
  return s;
}

const WS = /\s/;

function trimSpan(text: string, start: number, end: number): Span | null {
  while (start < end && WS.test(text[start]!)) start++;
  while (end > start && WS.test(text[end - 1]!)) end--;
  return start < end ? { start, end } : null;
}

/**
 * Sentence spans of a text (whitespace trimmed, so text.slice(start, end) is the sentence):
 * Intl.Segmenter's sentence breaks, except after a known abbreviation or a single-letter
 * initial ("Mr.", "e.g.", "J.") and before a lower-case letter ('"Really?" she asked.'),
 * when the text goes on in the same line.
 */
export function splitSentences(text: string, opts: { locale?: string; abbreviations?: Iterable<string> } = {}): Span[] {
  const abbreviations = new Set(opts.abbreviations ?? DEFAULT_ABBREVIATIONS);
  const spans: Span[] = [];
  for (const seg of sentenceSegmenter(opts.locale ?? 'en').segment(text)) {
    const span = trimSpan(text, seg.index, seg.index + seg.segment.length);
    if (span === null) continue;
    const prev = spans[spans.length - 1];
    if (
      prev !== undefined &&
      (endsWithAbbreviation(text, prev, abbreviations) || /^\p{Ll}/u.test(text[span.start]!)) &&
      !/[\n\r\u2028\u2029]/.test(text.slice(prev.end, span.start))
    ) {
      prev.end = span.end;
      continue;
    }
    spans.push(span);
  }
  return spans;
}

function endsWithAbbreviation(text: string, span: Span, abbreviations: Set<string>): boolean {
  if (text[span.end - 1] !== '.') return false;
  let i = span.end - 1;
  while (i > span.start && !WS.test(text[i - 1]!) && text[i - 1] !== '(' && text[i - 1] !== '"') i--;
  const word = text.slice(i, span.end - 1).toLowerCase();
  if (word.length === 1 && /\p{Lu}/u.test(text[i]!)) return true; // an initial: "J. K. Rowling"
  return abbreviations.has(word);
}

/** Word spans (runs of non-whitespace) inside [start, end). */
function wordSpans(text: string, start: number, end: number): Span[] {
  const out: Span[] = [];
  const re = /\S+/g;
  re.lastIndex = start;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m.index < end) {
    out.push({ start: m.index, end: Math.min(m.index + m[0].length, end) });
  }
  return out;
}

interface Unit extends Span {
  /** Content tokens (special tokens not included). */
  tokens: number;
}

class Chunker {
  readonly budget: number;
  readonly maxTokens: number;
  readonly overlap: number;
  readonly abbreviations: Set<string>;
  readonly stats: ChunkStats;

  constructor(readonly tok: TokenCounter, readonly opts: ChunkOptions) {
    const special = tok.numSpecialTokens;
    this.maxTokens = opts.maxTokens ?? tok.maxLength;
    if (!Number.isInteger(this.maxTokens) || this.maxTokens <= special) {
      throw new RangeError(`maxTokens must be an integer above the tokenizer's ${special} special tokens, got ${String(opts.maxTokens)}`);
    }
    this.budget = this.maxTokens - special;
    this.overlap = opts.overlapTokens ?? 0;
    if (!Number.isInteger(this.overlap) || this.overlap < 0 || this.overlap >= this.budget) {
      throw new RangeError(
        `overlapTokens must be a whole number from 0 to ${this.budget - 1} (below maxTokens minus special tokens), got ${String(opts.overlapTokens)}`,
      );
    }
    this.abbreviations = new Set(opts.abbreviations ?? DEFAULT_ABBREVIATIONS);
    this.stats = opts.stats ?? newChunkStats();
  }

  count(text: string): number {
    return this.tok.countTokens(text) - this.tok.numSpecialTokens;
  }

  /** Sentences, with those over the budget split at words (and words over it at characters). */
  units(doc: string): Unit[] {
    const units: Unit[] = [];
    for (const s of splitSentences(doc, { locale: this.opts.locale, abbreviations: this.abbreviations })) {
      this.stats.sentences++;
      const tokens = this.count(doc.slice(s.start, s.end));
      if (tokens <= this.budget) {
        units.push({ ...s, tokens });
        continue;
      }
      this.stats.sentencesSplit++;
      this.splitLong(doc, s, units);
    }
    return units;
  }

  /**
   * Packs the words of an over-long sentence into pieces that leave room for the overlap
   * (budget - overlapTokens), so that consecutive pieces can still overlap.
   */
  private splitLong(doc: string, s: Span, out: Unit[]): void {
    const limit = this.budget - this.overlap;
    const words = wordSpans(doc, s.start, s.end).map((w) => ({ ...w, tokens: this.count(doc.slice(w.start, w.end)) }));
    let i = 0;
    while (i < words.length) {
      const w = words[i]!;
      if (w.tokens > limit) {
        this.stats.wordsSplit++;
        this.splitWord(doc, w, limit, out);
        i++;
        continue;
      }
      let j = i;
      let sum = 0;
      while (j < words.length && words[j]!.tokens <= limit && sum + words[j]!.tokens <= limit) sum += words[j++]!.tokens;
      // token counts of words need not add up exactly: check the piece itself and shrink if needed
      let n = this.count(doc.slice(w.start, words[j - 1]!.end));
      while (n > limit && j > i + 1) {
        j--;
        n = this.count(doc.slice(w.start, words[j - 1]!.end));
      }
      out.push({ start: w.start, end: words[j - 1]!.end, tokens: n });
      i = j;
    }
  }

  /** Cuts one over-long word into the longest prefixes of at most `limit` tokens (at code point boundaries). */
  private splitWord(doc: string, w: Span, limit: number, out: Unit[]): void {
    let start = w.start;
    while (start < w.end) {
      let lo = start + 1;
      let hi = w.end;
      // largest end in (start, w.end] whose piece fits; binary search on the count
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (this.count(doc.slice(start, mid)) <= limit) lo = mid;
        else hi = mid - 1;
      }
      let end = lo;
      const c = doc.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff && end < w.end) end = end - 1 > start ? end - 1 : end + 1; // keep surrogate pairs whole
      out.push({ start, end, tokens: this.count(doc.slice(start, end)) });
      start = end;
    }
  }

  chunk(doc: string, sourceId: string): Chunk[] {
    this.stats.documents++;
    const units = this.units(doc);
    const chunks: Chunk[] = [];
    let i = 0;
    let overlapStart: number | null = null;
    while (i < units.length) {
      let start = overlapStart ?? units[i]!.start;
      // tokens already in the chunk before unit i (the overlap), estimated from unit counts
      let sum = overlapStart === null ? 0 : this.count(doc.slice(overlapStart, units[i - 1]!.end));
      let j = i;
      while (j < units.length && sum + units[j]!.tokens <= this.budget) sum += units[j++]!.tokens;
      if (j === i) {
        // the overlap leaves no room for the next unit: start later inside it, or drop it
        overlapStart = this.laterStart(units, overlapStart!, i);
        continue;
      }
      let end = units[j - 1]!.end;
      let tokens = this.tok.countTokens(doc.slice(start, end));
      while (tokens > this.maxTokens && j > i + 1) {
        j--;
        end = units[j - 1]!.end;
        tokens = this.tok.countTokens(doc.slice(start, end));
      }
      if (tokens > this.maxTokens) {
        if (overlapStart !== null) {
          overlapStart = this.laterStart(units, overlapStart, i);
          continue;
        }
        throw new Error(`internal: unit ${start}–${end} of ${sourceId} has ${tokens} tokens, more than ${this.maxTokens}`);
      }
      chunks.push({ sourceId, chunkIndex: chunks.length, text: doc.slice(start, end), start, end, tokens });
      this.stats.chunks++;
      overlapStart = j < units.length ? this.overlapStart(doc, units, i, j) : null;
      i = j;
    }
    return chunks;
  }

  /** Where the next chunk starts to repeat at most `overlap` tokens of units [i, j): whole units if possible, else words. */
  private overlapStart(doc: string, units: Unit[], i: number, j: number): number | null {
    if (this.overlap === 0) return null;
    let k = j;
    let sum = 0;
    while (k > i + 1 && sum + units[k - 1]!.tokens <= this.overlap) sum += units[--k]!.tokens;
    if (k < j) {
      const exact = this.count(doc.slice(units[k]!.start, units[j - 1]!.end));
      if (exact <= this.overlap) return units[k]!.start;
      return k + 1 < j ? units[k + 1]!.start : null;
    }
    // the last unit alone is longer than the overlap: repeat its last words
    const last = units[j - 1]!;
    const words = wordSpans(doc, last.start, last.end);
    let best: number | null = null;
    for (let w = words.length - 1; w > 0; w--) {
      if (this.count(doc.slice(words[w]!.start, last.end)) > this.overlap) break;
      best = words[w]!.start;
    }
    return best;
  }

  /** The next unit start after `from` within the overlap before unit i, or null (no overlap). */
  private laterStart(units: Unit[], from: number, i: number): number | null {
    for (let k = 0; k < i; k++) {
      if (units[k]!.start > from) return k < i ? units[k]!.start : null;
    }
    return null;
  }
}

/** Chunks one document; see {@link ChunkOptions}. */
export function chunkText(text: string, tokenizer: TokenCounter, opts: ChunkOptions & { sourceId?: string } = {}): Chunk[] {
  if (typeof text !== 'string') throw new TypeError(`chunkText: expected the document as a string, got ${text === null ? 'null' : typeof text}`);
  return new Chunker(tokenizer, opts).chunk(text, opts.sourceId ?? '0');
}

/** Chunks a stream of documents, yielding chunks as each document is done (bounded by the largest document). */
export async function* chunkDocuments(
  docs: Iterable<{ id: string; text: string }> | AsyncIterable<{ id: string; text: string }>,
  tokenizer: TokenCounter,
  opts: ChunkOptions = {},
): AsyncGenerator<Chunk> {
  const chunker = new Chunker(tokenizer, opts);
  let n = 0;
  for await (const doc of docs) {
    n++;
    if (doc === null || typeof doc !== 'object' || typeof doc.text !== 'string') {
      throw new TypeError(`chunkDocuments: document ${n} must be { id, text } with a string text`);
    }
    yield* chunker.chunk(doc.text, String(doc.id ?? n - 1));
  }
}
