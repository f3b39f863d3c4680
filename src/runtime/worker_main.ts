// Worker-thread entry point for WorkerSession: loads a model into an ORT session and answers
// run requests one at a time, transferring output buffers back.

import { parentPort } from 'node:worker_threads';
import { Session, type Feeds, type SessionOptions } from './session.js';
import type { WorkerReply } from './worker.js';

type Request = { type: 'load'; bytes: Uint8Array; opts: SessionOptions } | { type: 'run'; id: number; feeds: Feeds; outputs?: string[] };

const port = parentPort;
if (!port) throw new Error('worker_main must run in a worker thread');
let session: Session | null = null;
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: Request) => {
  if (m.type === 'load') {
    Session.create(m.bytes, { ...m.opts, cache: false })
      .then((s) => {
        session = s;
        const reply: WorkerReply = { type: 'loaded', inputNames: [...s.inputNames], outputNames: [...s.outputNames] };
        port.postMessage(reply);
      })
      .catch((e: Error) => port.postMessage({ type: 'load-error', message: e.message } satisfies WorkerReply));
    return;
  }
  queue = queue.then(async () => {
    try {
      if (!session) throw new Error('no model loaded');
      const outputs = await session.run(m.feeds, m.outputs);
      const transfer = Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer);
      port.postMessage({ type: 'result', id: m.id, outputs } satisfies WorkerReply, transfer);
    } catch (e) {
      port.postMessage({ type: 'error', id: m.id, message: (e as Error).message } satisfies WorkerReply);
    }
  });
});
