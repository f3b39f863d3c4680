// Public surface of the runtime layer.
export { Session, clearSessionCache, defaultThreads, spinningEnabled, memArenaEnabled, type SessionOptions, type Feeds, type Fetches } from './session.js';
export { breakdown as profileBreakdown, type OpBreakdown, type TraceEvent } from './profile.js';
export { WorkerSession } from './worker.js';
export { toOrt, fromOrt } from './tensors.js';
