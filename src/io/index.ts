// Public entry point of the I/O helpers used by `sentencekit encode`: text and
// JSONL input, .npy and JSONL embedding output, atomic writes and progress.

export { writeFileAtomic, openAtomic, type AtomicFile } from './atomic.js';
export {
  readTexts,
  countLines,
  detectFormat,
  TextInputError,
  firstInvalidUtf8,
  type ReadTextsOptions,
  type TextReadStats,
  type TextBatch,
  type TextFormat,
} from './text_input.js';
export { createNpyWriter, encodeNpy, parseNpy, readNpy, npyHeader, type EmbeddingWriter } from './npy.js';
export { createJsonlEmbeddingWriter, formatFloat32 } from './jsonl_output.js';
export { Progress, type ProgressOptions, type ProgressStream } from './progress.js';
