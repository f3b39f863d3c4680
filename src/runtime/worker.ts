// A session that runs in a worker thread, so the caller's event loop stays free while
// onnxruntime computes (session.run blocks the thread it runs on). Requests are queued and
// answered in order; input and output buffers are transferred, not copied.

import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Feeds, Fetches, SessionOptions } from './session.js';

interface Pending {
  resolve: (f: Fetches) => void;
  reject: (e: Error) => void;
}

export class WorkerSession {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private failure: Error | null = null;

  private constructor(worker: Worker, readonly inputNames: string[], readonly outputNames: string[]) {
    this.worker = worker;
    worker.on('message', (m: WorkerReply) => {
      if (m.type !== 'result' && m.type !== 'error') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.outputs);
      else p.reject(new Error(m.message));
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => {
      this.failAll(new Error(this.closed ? 'session worker is closed' : `session worker exited with code ${code}`));
    });
  }

  private failAll(e: Error): void {
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Starts a worker and loads ModelProto bytes into a session there. */
  static async create(bytes: Uint8Array, opts: SessionOptions = {}): Promise<WorkerSession> {
    const worker = new Worker(fileURLToPath(new URL('./worker_main.js', import.meta.url)));
    // A real copy: Buffer#slice (protobufjs output is a Buffer) is a view, and transferring
    // its memory would detach the caller's bytes.
    const copy = new Uint8Array(bytes);
    const loaded = await new Promise<WorkerReply>((resolve, reject) => {
      const onMsg = (m: WorkerReply): void => {
        if (m.type === 'loaded' || m.type === 'load-error') {
          worker.off('message', onMsg);
          resolve(m);
        }
      };
      worker.on('message', onMsg);
      worker.once('error', reject);
      worker.postMessage({ type: 'load', bytes: copy, opts }, [copy.buffer]);
    });
    if (loaded.type === 'load-error') {
      await worker.terminate();
      throw new Error(loaded.message);
    }
    if (loaded.type !== 'loaded') throw new Error('unexpected worker reply');
    return new WorkerSession(worker, loaded.inputNames, loaded.outputNames);
  }

  run(feeds: Feeds, outputs?: string[]): Promise<Fetches> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('session worker is closed'));
    const id = this.nextId++;
    const transfer: ArrayBuffer[] = [];
    for (const t of Object.values(feeds)) {
      const b = t.data.buffer;
      if (b instanceof ArrayBuffer && b.byteLength === t.data.byteLength && !transfer.includes(b)) transfer.push(b);
    }
    return new Promise<Fetches>((resolve, reject) => {
      this.worker.postMessage({ type: 'run', id, feeds, outputs }, transfer);
      this.pending.set(id, { resolve, reject });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

export type WorkerReply =
  | { type: 'loaded'; inputNames: string[]; outputNames: string[] }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; outputs: Fetches }
  | { type: 'error'; id: number; message: string };
