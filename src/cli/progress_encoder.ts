// An Encoder (what the evaluators run) that reports its encoding progress: texts encoded so far,
// texts/s and the elapsed time, through io/progress (a bar on a terminal, a line every N seconds
// otherwise). Takes the model and the label of the progress line.

import type { Encoder, EncodeMatrixOptions } from '../evaluation/base.js';
import type { SentenceTransformer } from '../models/sentence_transformer.js';
import { Progress } from '../io/progress.js';

export interface ProgressEncoder extends Encoder {
  /** Ends the progress line (with the time taken when lines were printed). */
  done(): void;
}

export function progressEncoder(model: SentenceTransformer, label: string): ProgressEncoder {
  const progress = new Progress({ label, unit: 'texts' });
  return {
    similarityFnName: model.similarityFnName,
    async encodeMatrix(texts: readonly string[], opts: EncodeMatrixOptions = {}) {
      let reported = 0;
      return model.encodeMatrix(texts, {
        ...opts,
        onProgress: (done) => {
          progress.tick(done - reported);
          reported = done;
        },
      });
    },
    done: () => progress.done(),
  };
}
