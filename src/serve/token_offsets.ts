// Character offsets of tokens in the text they came from, for TEI's /tokenize (`start`,
// `stop`: the token is text.slice(start, stop)). The tokenizer library gives no offsets, so
// they are found by alignment: the text is folded character by character the way BERT-style
// normalizers fold it (NFD with combining marks removed, lower case when the tokenizer lower-
// cases), keeping for each folded character the original position it came from; each token's
// string (its "##" continuation prefix removed) is then searched for in the folded text from
// where the previous token ended. A token that cannot be found (e.g. [UNK]) gets null offsets
// and does not move the cursor; special tokens get null.

export interface TokenSpan {
  start: number | null;
  stop: number | null;
}

const MARKS = /\p{Mn}/gu;

export function tokenOffsets(text: string, tokens: readonly { text: string; special: boolean }[], lowercase: boolean): TokenSpan[] {
  // folded text and, per folded UTF-16 unit, [start, stop) of the original character
  let folded = '';
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    let f = ch.normalize('NFD').replace(MARKS, '');
    if (lowercase) f = f.toLowerCase();
    for (let k = 0; k < f.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    folded += f;
    i += ch.length;
  }
  let cursor = 0;
  return tokens.map((t) => {
    if (t.special) return { start: null, stop: null };
    let piece = t.text.startsWith('##') ? t.text.slice(2) : t.text;
    if (lowercase) piece = piece.toLowerCase();
    if (piece === '') return { start: null, stop: null };
    const at = folded.indexOf(piece, cursor);
    if (at < 0) return { start: null, stop: null };
    cursor = at + piece.length;
    return { start: from[at], stop: to[cursor - 1] };
  });
}
