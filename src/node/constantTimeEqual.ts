// Compares a presented secret (a state, a relay key) with the expected one without leaking, through timing, how much
// of it matched or how long it is: both are hashed to equal lengths first.
import { createHash, timingSafeEqual } from 'node:crypto';

export function constantTimeEqual(presented: string, expected: string): boolean {
  return constantTimeMatcher(expected)(presented);
}

/** The same comparison against one expected secret many times (the relay's key, on every request): hashed once. */
export function constantTimeMatcher(expected: string): (presented: string) => boolean {
  const expectedDigest = sha256(expected);
  return (presented) => timingSafeEqual(sha256(presented), expectedDigest);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
