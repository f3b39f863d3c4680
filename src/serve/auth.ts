// Bearer API keys: with keys configured, a request must carry `Authorization: Bearer KEY` for
// one of them. Keys are compared as SHA-256 digests with crypto.timingSafeEqual, so the time
// taken says nothing about how much of a guess was right (nor its length).

import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    for (const k of keys) if (k.length === 0) throw new Error('an API key must not be empty (--api-key)');
    this.digests = keys.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Throws 401 unless the header carries a configured key (always passes with no keys configured). */
  check(authorization: string | undefined): void {
    if (!this.enabled) return;
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (!m) throw new ApiError(401, 'missing API key: send the header "Authorization: Bearer KEY"', 'Unauthorized', null, { 'www-authenticate': 'Bearer' });
    const given = digest(m[1].trim());
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, given) || ok; // every key compared, no early exit
    if (!ok) throw new ApiError(401, 'invalid API key', 'Unauthorized', null, { 'www-authenticate': 'Bearer' });
  }
}
