// A requested max_seq_length must fit the position embeddings: refused, not silently lowered.

export function checkMaxSeqLength(requested: number, maxPos: number, where: string): void {
  if (!Number.isInteger(requested) || requested < 1) throw new RangeError(`maxSeqLength (--max-seq-length) must be a positive integer, got ${String(requested)}`);
  if (requested > maxPos) {
    throw new RangeError(
      `maxSeqLength (--max-seq-length) ${requested} is more than this model's max_position_embeddings ${maxPos} (${where}): ` +
        `there are no position embeddings beyond it; use at most ${maxPos}`,
    );
  }
}
