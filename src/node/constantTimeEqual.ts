// Compares a presented secret (a state, a relay key) with the expected one without leaking, through timing, how much
// of it matched or how long it is: both are hashed to equal lengths first.
import { createHash, timingSafeEqual } from 'node:crypto';

export function constantTimeEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
