// Post-processing of sentence embeddings for a response: Matryoshka truncation to the first
// `dimensions` numbers, L2 normalisation v / ‖v‖ (after truncation, so a truncated vector is a
// unit vector again), cosine similarity u·v / (‖u‖‖v‖), and OpenAI's base64 encoding (the
// float32 little-endian bytes of the vector, base64).

export function truncateAndNormalize(v: Float32Array, dimensions: number | undefined, normalize: boolean): Float32Array {
  const out = dimensions !== undefined && dimensions < v.length ? v.slice(0, dimensions) : v.slice();
  if (normalize) {
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i] * out[i];
    const n = Math.sqrt(s);
    if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
  }
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const d = Math.sqrt(na) * Math.sqrt(nb);
  return d > 0 ? dot / d : 0;
}

/** The vector's float32 bytes (little-endian, as every platform Node runs on), base64. */
export function toBase64(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

/** Plain numbers for JSON. */
export function toList(v: Float32Array): number[] {
  return Array.from(v);
}
