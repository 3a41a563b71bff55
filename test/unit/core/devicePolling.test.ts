import assert from 'node:assert/strict';
import { pollForTokens, type PollAnswer, type PollTiming } from '../../../src/core/devicePolling';
import { KeyringError } from '../../../src/core/errors';
import { fakeClock, rejectsWithCode, type FakeClock } from './fakes';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

type Step = PollAnswer<string> | KeyringError;

const pending: Step = { kind: 'pending' };
const slowDown: Step = { kind: 'slowDown' };
const tokens: Step = { kind: 'tokens', tokens: 'the-tokens' };

interface Run {
  readonly clock: FakeClock;
  readonly timing: PollTiming;
  /** Fake-clock times at which the token endpoint was asked, relative to the start. */
  readonly pollTimes: number[];
  readonly poll: () => Promise<PollAnswer<string>>;
}

/** A token endpoint answering `steps` in turn (the last one repeats), under a fake clock whose sleep advances it. */
function run(steps: Step[], onSleep: (ms: number) => void = () => undefined): Run {
  const clock = fakeClock();
  const start = clock.now();
  const pollTimes: number[] = [];
  let index = 0;
  const timing: PollTiming = {
    now: () => clock.now(),
    sleep: (ms, signal) => {
      onSleep(ms);
      if (signal.aborted) return Promise.reject(new KeyringError('cancelled', 'cancelled'));
      clock.advance(ms);
      return Promise.resolve();
    },
  };
  const poll = () => {
    pollTimes.push(clock.now() - start);
    const step = steps[Math.min(index++, steps.length - 1)]!;
    return step instanceof KeyringError ? Promise.reject(step) : Promise.resolve(step);
  };
  return { clock, timing, pollTimes, poll };
}

describe('polling for the tokens of a device authorization', () => {
  it('waits the server\'s interval before every request, and returns the tokens once approved', async () => {
    const { timing, pollTimes, poll, clock } = run([pending, pending, tokens]);
    const result = await pollForTokens(poll, { intervalSeconds: 2, expiresAt: clock.now() + 10 * MINUTE }, timing, new AbortController().signal);
    assert.equal(result, 'the-tokens');
    assert.deepEqual(pollTimes, [2 * SECOND, 4 * SECOND, 6 * SECOND]);
  });

  it('waits five seconds between requests when the server names no interval (RFC 8628 §3.2)', async () => {
    const { timing, pollTimes, poll, clock } = run([pending, tokens]);
    await pollForTokens(poll, { expiresAt: clock.now() + 10 * MINUTE }, timing, new AbortController().signal);
    assert.deepEqual(pollTimes, [5 * SECOND, 10 * SECOND]);
  });

  it('never polls more than once a second, whatever interval the server names', async () => {
    const { timing, pollTimes, poll, clock } = run([pending, tokens]);
    await pollForTokens(poll, { intervalSeconds: 0, expiresAt: clock.now() + 10 * MINUTE }, timing, new AbortController().signal);
    assert.deepEqual(pollTimes, [1 * SECOND, 2 * SECOND]);
  });

  it('adds five seconds to this and every later interval for each slow_down (RFC 8628 §3.5)', async () => {
    const { timing, pollTimes, poll, clock } = run([pending, slowDown, pending, slowDown, pending, tokens]);
    await pollForTokens(poll, { intervalSeconds: 1, expiresAt: clock.now() + 10 * MINUTE }, timing, new AbortController().signal);
    const gaps = pollTimes.map((time, index) => time - (pollTimes[index - 1] ?? 0));
    assert.deepEqual(gaps, [1, 1, 6, 6, 11, 11].map((seconds) => seconds * SECOND));
  });

  it('backs off on transient failures, doubling the wait, and returns to the interval once answered', async () => {
    const unavailable = new KeyringError('server_unavailable', 'down');
    const { timing, pollTimes, poll, clock } = run([unavailable, unavailable, pending, tokens]);
    await pollForTokens(poll, { intervalSeconds: 2, expiresAt: clock.now() + 10 * MINUTE }, timing, new AbortController().signal);
    const gaps = pollTimes.map((time, index) => time - (pollTimes[index - 1] ?? 0));
    assert.deepEqual(gaps, [2, 4, 8, 2].map((seconds) => seconds * SECOND));
  });

  for (const code of ['access_denied', 'device_code_expired', 'invalid_client'] as const) {
    it(`ends at once when the server answers with a final error (${code})`, async () => {
      const { timing, pollTimes, poll, clock } = run([pending, new KeyringError(code, 'final')]);
      await rejectsWithCode(pollForTokens(poll, { intervalSeconds: 1, expiresAt: clock.now() + 10 * MINUTE }, timing, new AbortController().signal), code);
      assert.equal(pollTimes.length, 2);
    });
  }

  it('gives up when the device code expires, without a request after the deadline', async () => {
    const { timing, pollTimes, poll, clock } = run([pending]);
    const expiresAt = clock.now() + 30 * SECOND;
    await rejectsWithCode(pollForTokens(poll, { intervalSeconds: 5, expiresAt }, timing, new AbortController().signal), 'device_code_expired');
    assert.deepEqual(pollTimes, [5, 10, 15, 20, 25].map((seconds) => seconds * SECOND));
    assert.ok(clock.now() < expiresAt);
  });

  it('stops when cancelled while waiting, and asks the server nothing more', async () => {
    const abort = new AbortController();
    let sleeps = 0;
    const { timing, pollTimes, poll, clock } = run([pending], () => {
      if (++sleeps === 3) abort.abort();
    });
    await rejectsWithCode(pollForTokens(poll, { intervalSeconds: 1, expiresAt: clock.now() + 10 * MINUTE }, timing, abort.signal), 'cancelled');
    assert.equal(pollTimes.length, 2);
  });

  it('reports a request cut short by cancellation as cancelled, not as a network failure', async () => {
    const abort = new AbortController();
    const { timing, clock } = run([]);
    const poll = () => {
      abort.abort();
      return Promise.reject(new KeyringError('network', 'aborted'));
    };
    await rejectsWithCode(pollForTokens(poll, { intervalSeconds: 1, expiresAt: clock.now() + 10 * MINUTE }, timing, abort.signal), 'cancelled');
  });
});
