// Token-id rows of one forward pass stacked into right-padded int64 input_ids and
// attention_mask [rows, longest], with the count of real tokens and each row's length.

export interface StackedRows {
  ids: BigInt64Array;
  mask: BigInt64Array;
  dims: [number, number];
  tokens: number;
  /** Real tokens of each row. */
  lengths: number[];
}

export function stackRows(rows: readonly (readonly number[])[], padId: number): StackedRows {
  const S = Math.max(1, ...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * S).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * S);
  let tokens = 0;
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) {
      ids[i * S + j] = BigInt(r[j]);
      mask[i * S + j] = 1n;
    }
    tokens += r.length;
  });
  return { ids, mask, dims: [rows.length, S], tokens, lengths: rows.map((r) => r.length) };
}
