import assert from 'node:assert/strict';
import { KeyringError, type ErrorCode } from '../../../src/core/errors';
import { refreshDueAt, RETRY_PAUSE_MS } from '../../../src/core/refreshPolicy';
import { RefreshScheduler, type RefreshSchedulerOptions, type ScheduledCredential } from '../../../src/core/refreshScheduler';
import { deferred, FakeTime, recordingLogger, type Deferred } from './fakes';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Stored credentials the way the engine keeps them, and a refresh that renews them like the engine would. */
class Harness {
  readonly time = new FakeTime();
  readonly logger = recordingLogger();
  readonly credentials = new Map<string, ScheduledCredential>();
  /** Wall-clock times of each refresh call, by server. */
  readonly calls = new Map<string, number[]>();
  /** What each planning listed: a server's credentials, or 'all'. */
  readonly listings: string[] = [];
  /** What the next refresh calls do; the default renews the credential for `lifetime`. */
  behaviour: (serverUrl: string) => Promise<void> = (serverUrl) => Promise.resolve(this.renew(serverUrl));
  lifetime = HOUR;
  readonly scheduler: RefreshScheduler;

  constructor(options: Partial<RefreshSchedulerOptions> = {}) {
    this.scheduler = new RefreshScheduler({
      clock: this.time,
      timers: this.time,
      random: () => 0.5,
      listCredentials: (serverUrl) => {
        this.listings.push(serverUrl ?? 'all');
        return Promise.resolve([...this.credentials.values()].filter((credential) => serverUrl === undefined || credential.serverUrl === serverUrl));
      },
      refresh: (serverUrl) => {
        this.calls.set(serverUrl, [...(this.calls.get(serverUrl) ?? []), this.time.now()]);
        return this.behaviour(serverUrl);
      },
      logger: this.logger,
      refreshBeforeExpirySeconds: () => 60,
      ...options,
    });
  }

  /** A credential obtained now (or `ago` ms before), living `lifetime`. */
  add(serverUrl: string, overrides: Partial<ScheduledCredential> = {}, ago = 0): ScheduledCredential {
    const obtainedAt = this.time.now() - ago;
    const credential = { serverUrl, obtainedAt, expiresAt: obtainedAt + this.lifetime, needsSignIn: false, hasRefreshToken: true, ...overrides };
    this.credentials.set(serverUrl, credential);
    return credential;
  }

  renew(serverUrl: string): void {
    const now = this.time.now();
    this.credentials.set(serverUrl, { ...this.credentials.get(serverUrl)!, obtainedAt: now, expiresAt: now + this.lifetime });
  }

  callsOf(serverUrl: string): number[] {
    return this.calls.get(serverUrl) ?? [];
  }

  /** Moves time to just before `at`, where no refresh may have happened yet, and then to `at`, where the first must. */
  async expectFirstRefreshAt(serverUrl: string, at: number): Promise<void> {
    await this.time.advance(at - this.time.now() - 1);
    assert.deepEqual(this.callsOf(serverUrl), [], 'no refresh before its time');
    await this.time.advance(1);
    assert.deepEqual(this.callsOf(serverUrl), [at]);
  }

  totalCalls(): number {
    return [...this.calls.values()].reduce((sum, times) => sum + times.length, 0);
  }
}

function failWith(code: ErrorCode): () => Promise<void> {
  return () => Promise.reject(new KeyringError(code, `refresh failed (${code})`));
}

describe('RefreshScheduler', () => {
  let harness: Harness;
  afterEach(() => harness.scheduler.dispose());

  describe('when refresh is due', () => {
    const jitterCases: [string, number][] = [['no jitter', 0], ['half the jitter', 0.5], ['almost all the jitter', 0.999]];
    for (const [name, random] of jitterCases) {
      it(`refreshes a one-hour credential once, in the last part of its life plus at most 10% of the lead (${name})`, async () => {
        harness = new Harness({ random: () => random });
        const credential = harness.add('https://a.example/');
        await harness.scheduler.reschedule();
        const due = refreshDueAt(credential)!;
        const lead = credential.expiresAt! - due;
        const expected = due + random * 0.1 * lead;
        await harness.expectFirstRefreshAt('https://a.example/', expected);
        assert.ok(expected >= due && expected <= due + 0.1 * lead);
        // The renewed credential is next due an hour later, not again now.
        await harness.time.advance(50 * MINUTE);
        assert.equal(harness.callsOf('https://a.example/').length, 1);
      });
    }

    it('refreshes earlier when refreshBeforeExpirySeconds asks for more lead than the policy', async () => {
      harness = new Harness({ refreshBeforeExpirySeconds: () => 15 * 60, random: () => 0 });
      const credential = harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      await harness.expectFirstRefreshAt('https://a.example/', credential.expiresAt! - 15 * MINUTE);
    });

    it('applies a changed refreshBeforeExpirySeconds when rescheduled, without a restart', async () => {
      let setting = 60;
      harness = new Harness({ refreshBeforeExpirySeconds: () => setting, random: () => 0 });
      const credential = harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      setting = 20 * 60;
      await harness.scheduler.reschedule();
      await harness.expectFirstRefreshAt('https://a.example/', credential.expiresAt! - 20 * MINUTE);
    });

    it('never refreshes before half the lifetime, even when the setting asks for more lead than the token lives', async () => {
      harness = new Harness({ refreshBeforeExpirySeconds: () => 60, random: () => 0 });
      harness.lifetime = 30 * SECOND;
      const credential = harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      await harness.expectFirstRefreshAt('https://a.example/', credential.obtainedAt + 15 * SECOND);
      // Five minutes of 30-second tokens: one refresh per half-life, not a storm.
      await harness.time.advance(5 * MINUTE - 15 * SECOND);
      const calls = harness.callsOf('https://a.example/').length;
      assert.ok(calls >= 18 && calls <= 21, `${calls} refreshes`);
    });

    it('never jitters a refresh into the last seconds before expiry', async () => {
      harness = new Harness({ refreshBeforeExpirySeconds: () => 5, random: () => 0.999 });
      harness.lifetime = 10 * SECOND;
      const credential = harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      await harness.expectFirstRefreshAt('https://a.example/', credential.expiresAt! - 5 * SECOND);
    });

    it('refreshes at once a credential that is already due or expired', async () => {
      harness = new Harness();
      harness.add('https://a.example/', {}, 2 * HOUR);
      await harness.scheduler.reschedule();
      assert.equal(harness.callsOf('https://a.example/').length, 1);
    });

    const neverCases: [string, Partial<ScheduledCredential>][] = [
      ['marked as needing sign-in', { needsSignIn: true }],
      ['without a refresh token', { hasRefreshToken: false }],
      ['without an expiry', { expiresAt: undefined }],
    ];
    for (const [name, overrides] of neverCases) {
      it(`never refreshes a credential ${name}`, async () => {
        harness = new Harness();
        harness.add('https://a.example/', overrides, 2 * HOUR);
        await harness.scheduler.reschedule();
        await harness.time.advance(24 * HOUR);
        assert.equal(harness.totalCalls(), 0);
      });
    }

    it('waits out a credential that expires in months with several alarms, not one timer that would overflow', async () => {
      harness = new Harness();
      harness.lifetime = 90 * 24 * HOUR;
      harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      await harness.time.advance(3 * 24 * HOUR);
      assert.equal(harness.totalCalls(), 0);
    });
  });

  describe('when refresh fails', () => {
    it('keeps retrying a transient failure with growing backoff, never sooner than the engine\'s retry pause', async () => {
      harness = new Harness();
      harness.behaviour = failWith('network');
      const credential = harness.add('https://a.example/', {}, 58 * MINUTE);
      await harness.scheduler.reschedule();
      await harness.time.advance(80 * SECOND);
      const times = harness.callsOf('https://a.example/');
      const gaps = times.slice(1).map((time, index) => time - times[index]!);
      // random 0.5 → backoff 3/4 of 0.5 s·2^n, floored at the 5 s retry pause: 5, 5, 5, 5, 6, 12, 24 s.
      assert.deepEqual(gaps, [5, 5, 5, 5, 6, 12, 24].map((seconds) => seconds * SECOND));
      assert.ok(gaps.every((gap) => gap >= RETRY_PAUSE_MS));
      assert.ok(harness.logger.lines.includes('warn [refreshScheduler] refreshing https://a.example/ failed (network); will retry'));
      assert.ok(times.every((time) => time < credential.expiresAt!));
    });

    it('makes one last attempt just before expiry when the backoff would reach past it', async () => {
      harness = new Harness({ random: () => 0 });
      harness.behaviour = failWith('server_unavailable');
      harness.lifetime = 10 * MINUTE;
      const credential = harness.add('https://a.example/', {}, 9 * MINUTE); // 60 s left: due now
      await harness.scheduler.reschedule();
      await harness.time.advance(2 * MINUTE);
      const left = harness.callsOf('https://a.example/').map((time) => (credential.expiresAt! - time) / SECOND);
      // random 0 → no jitter, backoff half of 0.5 s·2^n floored at 5 s. The backoff after the attempt 11 s before
      // expiry (32 s) would land after it, so one more attempt is made 5 s before; then the backoff goes on past expiry.
      assert.deepEqual(left.slice(0, 9), [60, 55, 50, 45, 40, 35, 27, 11, 5]);
      assert.ok(left.length > 9 && left.slice(9).every((seconds) => seconds < 0));
    });

    it('stops for a credential that needs a new sign-in and says so', async () => {
      harness = new Harness();
      harness.behaviour = (serverUrl) => {
        harness.credentials.set(serverUrl, { ...harness.credentials.get(serverUrl)!, needsSignIn: true });
        return Promise.reject(new KeyringError('needs_sign_in', 'the sign-in has expired'));
      };
      harness.add('https://a.example/', {}, 58 * MINUTE);
      await harness.scheduler.reschedule();
      await harness.time.advance(HOUR);
      assert.equal(harness.callsOf('https://a.example/').length, 1);
      assert.ok(harness.logger.lines.includes('warn [refreshScheduler] https://a.example/ needs a new sign-in; background refresh stops for it'));
    });

    it('stops after needs_sign_in even before the listing shows the mark, and resumes after a new sign-in', async () => {
      harness = new Harness();
      harness.behaviour = failWith('needs_sign_in');
      harness.add('https://a.example/', {}, 58 * MINUTE);
      await harness.scheduler.reschedule();
      await harness.time.advance(HOUR);
      assert.equal(harness.callsOf('https://a.example/').length, 1);
      harness.behaviour = (serverUrl) => Promise.resolve(harness.renew(serverUrl));
      harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      await harness.time.advance(HOUR);
      assert.equal(harness.callsOf('https://a.example/').length, 2);
    });

    it('stops on a failure that retrying will not fix', async () => {
      harness = new Harness();
      harness.behaviour = failWith('discovery_failed');
      harness.add('https://a.example/', {}, 58 * MINUTE);
      await harness.scheduler.reschedule();
      await harness.time.advance(HOUR);
      assert.equal(harness.callsOf('https://a.example/').length, 1);
      assert.ok(harness.logger.lines.includes('warn [refreshScheduler] refreshing https://a.example/ failed (discovery_failed); background refresh stops for it'));
    });

    it('paces a refresh that returned without renewing the credential instead of asking again at once', async () => {
      harness = new Harness();
      harness.behaviour = () => Promise.resolve();
      harness.add('https://a.example/', {}, 58 * MINUTE);
      await harness.scheduler.reschedule();
      await harness.time.advance(10 * SECOND);
      assert.equal(harness.callsOf('https://a.example/').length, 3); // at 0, 5 and 10 s
    });

    it('never rejects when the credentials cannot be listed', async () => {
      harness = new Harness({ listCredentials: () => Promise.reject(new KeyringError('store_failed', 'locked')) });
      await harness.scheduler.reschedule();
      assert.ok(harness.logger.lines.some((line) => line.includes('could not list credentials (store_failed)')));
    });
  });

  describe('sleep and clock changes', () => {
    it('refreshes at once after a sleep that passed the due time, without waiting for the old timer', async () => {
      harness = new Harness();
      harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      // The laptop sleeps for two hours: the wall clock moves, the timers do not.
      harness.time.jumpWallClock(2 * HOUR);
      await harness.time.advance(30 * SECOND);
      assert.equal(harness.callsOf('https://a.example/').length, 1);
      assert.ok(harness.logger.lines.some((line) => line.includes('rescheduling')));
    });

    it('does not refresh early when the wall clock was set back', async () => {
      harness = new Harness({ random: () => 0 });
      const credential = harness.add('https://a.example/');
      await harness.scheduler.reschedule();
      const due = refreshDueAt(credential)!;
      harness.time.jumpWallClock(-10 * MINUTE);
      await harness.time.advance(due - credential.obtainedAt);
      assert.equal(harness.totalCalls(), 0, 'the timer fired, but the wall clock says 10 minutes remain');
      await harness.time.advance(10 * MINUTE);
      assert.deepEqual(harness.callsOf('https://a.example/'), [due]);
    });
  });

  describe('storms', () => {
    it('runs at most four refreshes at once when fifty are due together, and each exactly once', async () => {
      harness = new Harness();
      let running = 0;
      let most = 0;
      const pending: Deferred<void>[] = [];
      harness.behaviour = async (serverUrl) => {
        running++;
        most = Math.max(most, running);
        const gate = deferred();
        pending.push(gate);
        await gate.promise;
        running--;
        harness.renew(serverUrl);
      };
      for (let index = 0; index < 50; index++) harness.add(`https://s${index}.example/`, {}, 2 * HOUR);
      await harness.scheduler.reschedule();
      while (pending.length > 0) {
        assert.ok(running <= 4);
        pending.splice(0).forEach((gate) => gate.resolve());
        await harness.time.advance(10);
      }
      assert.equal(most, 4);
      assert.equal(harness.calls.size, 50);
      assert.ok([...harness.calls.values()].every((times) => times.length === 1));
    });

  });

  describe('rescheduling and disposal', () => {
    it('forgets a removed credential and clears its timer', async () => {
      harness = new Harness();
      harness.add('https://a.example/');
      harness.add('https://b.example/');
      await harness.scheduler.reschedule();
      const timers = harness.time.pendingTimers;
      harness.credentials.delete('https://a.example/');
      await harness.scheduler.reschedule();
      assert.equal(harness.time.pendingTimers, timers - 1);
      await harness.time.advance(2 * HOUR);
      assert.deepEqual(harness.callsOf('https://a.example/'), []);
    });

    it('replans only the server whose credential changed: a refresh lists that server\'s credentials, not every one', async () => {
      harness = new Harness();
      for (let index = 0; index < 5; index++) harness.add(`https://s${index}.example/`, {}, index * MINUTE);
      await harness.scheduler.reschedule();
      assert.deepEqual(harness.listings, ['all']);
      await harness.time.advance(HOUR);
      assert.equal(harness.totalCalls(), 5, 'each server refreshed once');
      assert.deepEqual([...harness.listings].slice(1).sort(), ['https://s0.example/', 'https://s1.example/', 'https://s2.example/', 'https://s3.example/', 'https://s4.example/']);
    });

    it('forgets a removed credential when its own server is replanned, and keeps the other servers\' plans', async () => {
      harness = new Harness();
      harness.add('https://a.example/');
      harness.add('https://b.example/');
      await harness.scheduler.reschedule();
      harness.credentials.delete('https://a.example/');
      await harness.scheduler.reschedule('https://a.example/');
      await harness.time.advance(HOUR);
      assert.deepEqual(harness.callsOf('https://a.example/'), []);
      assert.equal(harness.callsOf('https://b.example/').length, 1);
    });

    it('coalesces a burst of reschedule requests into few listings', async () => {
      let listings = 0;
      harness = new Harness({ listCredentials: () => Promise.resolve((listings++, [])) });
      await Promise.all(Array.from({ length: 20 }, () => harness.scheduler.reschedule()));
      assert.ok(listings <= 2, `${listings} listings`);
    });

    it('leaves no timer behind when disposed, aborts refreshes in flight and schedules nothing more', async () => {
      harness = new Harness();
      let signal: AbortSignal | undefined;
      const gate = deferred();
      harness = new Harness({
        refresh: (_serverUrl, abort) => {
          signal = abort;
          return gate.promise;
        },
      });
      harness.add('https://due.example/', {}, 2 * HOUR);
      for (let index = 0; index < 10; index++) harness.add(`https://s${index}.example/`);
      await harness.scheduler.reschedule();
      assert.ok(harness.time.pendingTimers > 10);
      harness.scheduler.dispose();
      assert.equal(harness.time.pendingTimers, 0);
      assert.equal(signal?.aborted, true);
      gate.resolve();
      await harness.scheduler.reschedule();
      await harness.time.advance(2 * HOUR);
      assert.equal(harness.time.pendingTimers, 0);
    });
  });
});
