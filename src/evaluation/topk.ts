// A bounded "best k" collection of (score, index) pairs: a binary min-heap of capacity k whose
// root is the worst kept pair, so a new pair costs O(log k) and memory stays O(k) however many
// are offered. Order: higher score is better; on equal scores the lower index is better.
// Takes k and a stream of (score, index); `sorted()` returns the kept pairs best first.

export class TopK {
  private readonly scores: Float64Array;
  private readonly indices: Int32Array;
  private n = 0;

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 0) throw new Error(`TopK: k must be a non-negative integer, got ${k}`);
    this.scores = new Float64Array(k);
    this.indices = new Int32Array(k);
  }

  get size(): number {
    return this.n;
  }

  /** True when pair a is worse than pair b. */
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  push(score: number, index: number): void {
    if (this.k === 0) return;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(score, index, this.scores[p], this.indices[p])) break;
        this.scores[i] = this.scores[p];
        this.indices[i] = this.indices[p];
        i = p;
      }
      this.scores[i] = score;
      this.indices[i] = index;
      return;
    }
    if (!this.worse(this.scores[0], this.indices[0], score, index)) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.n) break;
      const r = l + 1;
      const c = r < this.n && this.worse(this.scores[r], this.indices[r], this.scores[l], this.indices[l]) ? r : l;
      if (!this.worse(this.scores[c], this.indices[c], score, index)) break;
      this.scores[i] = this.scores[c];
      this.indices[i] = this.indices[c];
      i = c;
    }
    this.scores[i] = score;
    this.indices[i] = index;
  }

  /** The kept pairs, best first. */
  sorted(): { score: number; index: number }[] {
    const out: { score: number; index: number }[] = [];
    for (let i = 0; i < this.n; i++) out.push({ score: this.scores[i], index: this.indices[i] });
    return out.sort((a, b) => b.score - a.score || a.index - b.index);
  }
}
