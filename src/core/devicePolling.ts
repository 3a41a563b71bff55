// The polling loop of a device authorization (RFC 8628 §3.4–3.5): ask the token endpoint no more often than the
// server's interval, five seconds slower after every slow_down, back off on transient failures, and give up when the
// device code expires or the caller cancels. Time and sleep are injected so the loop is tested under a fake clock.
import { KeyringError, isKeyringError, isTransient } from './errors';

/** RFC 8628 §3.2: the interval when the server names none. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §3.5: slow_down adds five seconds to this and every later interval. */
export const SLOW_DOWN_INCREMENT_SECONDS = 5;
/** A server that asks for less than a second (or zero) is not taken at its word: one request a second at most. */
const MIN_POLL_INTERVAL_SECONDS = 1;
/** Transient failures double the interval (RFC 8628 §3.5 asks for backoff on timeouts), up to this bound. */
const MAX_BACKOFF_INTERVAL_SECONDS = 60;

/** One answer of the token endpoint that does not end the loop, or the tokens that do. */
export type PollAnswer<T> = { readonly kind: 'tokens'; readonly tokens: T } | { readonly kind: 'pending' } | { readonly kind: 'slowDown' };

export interface PollSchedule {
  /** The server's `interval`, if it gave one. */
  readonly intervalSeconds?: number;
  /** Epoch milliseconds when the device code expires. */
  readonly expiresAt: number;
}

export interface PollTiming {
  now(): number;
  /** Resolves after `ms`, or rejects with a KeyringError `cancelled` when `signal` aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** Polls until `poll` yields tokens; denial and other final answers are thrown by `poll` and end the loop at once. */
export async function pollForTokens<T>(poll: (signal: AbortSignal) => Promise<PollAnswer<T>>, schedule: PollSchedule, timing: PollTiming, signal: AbortSignal): Promise<T> {
  let intervalSeconds = Math.max(MIN_POLL_INTERVAL_SECONDS, schedule.intervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS);
  let backoffSeconds = intervalSeconds;
  for (;;) {
    const waitMs = backoffSeconds * 1000;
    // A request after expiry can only be refused; say so without sending it.
    if (timing.now() + waitMs >= schedule.expiresAt) throw deviceCodeExpired();
    await timing.sleep(waitMs, signal);
    let answer: PollAnswer<T>;
    try {
      answer = await poll(signal);
    } catch (error) {
      if (signal.aborted) throw new KeyringError('cancelled', 'the device sign-in was cancelled', { cause: error });
      if (!isKeyringError(error) || !isTransient(error)) throw error;
      backoffSeconds = Math.min(MAX_BACKOFF_INTERVAL_SECONDS, Math.max(backoffSeconds * 2, intervalSeconds));
      continue;
    }
    if (answer.kind === 'tokens') return answer.tokens;
    if (answer.kind === 'slowDown') intervalSeconds += SLOW_DOWN_INCREMENT_SECONDS;
    backoffSeconds = intervalSeconds;
  }
}

export function deviceCodeExpired(): KeyringError {
  return new KeyringError('device_code_expired', 'the device code expired before the sign-in was approved');
}
