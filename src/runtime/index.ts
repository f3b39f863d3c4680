// Public surface of the runtime layer.
export { Session, clearSessionCache, defaultThreads, type SessionOptions, type Feeds, type Fetches } from './session.js';
export { WorkerSession } from './worker.js';
export { toOrt, fromOrt } from './tensors.js';
