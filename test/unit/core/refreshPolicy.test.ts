import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BACKOFF_MAX_MS, MINIMUM_VALIDITY_MS, backoffDelay, isRefreshDue, isStillValid, plannedRefreshAt, refreshDueAt } from '../../../src/core/refreshPolicy';

const T0 = 1_700_000_000_000;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('refreshDueAt', () => {
  const cases: [string, number, number][] = [
    ['a one-hour token six minutes before expiry (10% of its life)', 60 * MINUTE, 6 * MINUTE],
    ['a ten-minute token 60 s before expiry (the minimum lead)', 10 * MINUTE, 60 * SECOND],
    ['a two-minute token at half its life (the minimum lead would exceed half)', 2 * MINUTE, 60 * SECOND],
    ['a five-second token at half its life', 5 * SECOND, 2.5 * SECOND],
    ['a one-day token 2.4 hours before expiry', 24 * 60 * MINUTE, 144 * MINUTE],
  ];
  for (const [name, lifetime, lead] of cases) {
    it(`makes refresh due for ${name}`, () => {
      assert.equal(refreshDueAt({ obtainedAt: T0, expiresAt: T0 + lifetime }), T0 + lifetime - lead);
    });
  }

  it('has no due time for a token without expiry', () => {
    assert.equal(refreshDueAt({ obtainedAt: T0, expiresAt: undefined }), undefined);
  });

  it('makes an already expired token (expiry before it was obtained) due at its expiry', () => {
    assert.equal(refreshDueAt({ obtainedAt: T0, expiresAt: T0 - SECOND }), T0 - SECOND);
  });

  it('always falls between the middle of the lifetime and the expiry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 * 24 * 60 * MINUTE }), (lifetime) => {
        const due = refreshDueAt({ obtainedAt: T0, expiresAt: T0 + lifetime })!;
        assert.ok(due >= T0 + lifetime / 2 && due <= T0 + lifetime, `${lifetime} → ${due - T0}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('isRefreshDue', () => {
  const hour = { obtainedAt: T0, expiresAt: T0 + 60 * MINUTE };
  it('is not due before the due time and is due from it on', () => {
    assert.equal(isRefreshDue(hour, T0 + 54 * MINUTE - 1), false);
    assert.equal(isRefreshDue(hour, T0 + 54 * MINUTE), true);
  });

  it('is never due for a token without expiry', () => {
    assert.equal(isRefreshDue({ obtainedAt: T0, expiresAt: undefined }, T0 + 365 * 24 * 60 * MINUTE), false);
  });
});

describe('isStillValid', () => {
  const cases: [string, number | undefined, number, boolean][] = [
    ['a token with plenty of time left', T0 + MINUTE, T0, true],
    ['a token with just over the minimum validity left', T0 + MINIMUM_VALIDITY_MS + 1, T0, true],
    ['a token with exactly the minimum validity left', T0 + MINIMUM_VALIDITY_MS, T0, false],
    ['an expired token', T0 - 1, T0, false],
    ['a token without expiry', undefined, T0, true],
  ];
  for (const [name, expiresAt, now, expected] of cases) {
    it(`says ${expected} for ${name}`, () => {
      assert.equal(isStillValid({ expiresAt }, now), expected);
    });
  }
});

describe('backoffDelay', () => {
  it('waits between half and all of a doubling ceiling', () => {
    assert.deepEqual([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, () => 0)), [250, 500, 1000, 2000]);
    assert.deepEqual([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, () => 0.999_999)), [500, 1000, 2000, 4000]);
  });

  it('uses the injected random number for the jitter', () => {
    assert.equal(backoffDelay(2, () => 0.5), 1500);
  });

  it('is capped at the maximum however many attempts failed', () => {
    for (const attempt of [7, 10, 50, 2000]) assert.equal(backoffDelay(attempt, () => 0.999_999), BACKOFF_MAX_MS);
    assert.equal(backoffDelay(Number.MAX_SAFE_INTEGER, () => 0), BACKOFF_MAX_MS / 2);
  });

  it('treats a negative attempt as the first one', () => {
    assert.equal(backoffDelay(-3, () => 0), 250);
  });

  it('never shrinks from one attempt to the next for the same random draw and never exceeds the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, draw) => {
        const now = backoffDelay(attempt, () => draw);
        const next = backoffDelay(attempt + 1, () => draw);
        assert.ok(next >= now && next <= BACKOFF_MAX_MS && now > 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('plannedRefreshAt', () => {
  const fresh = { obtainedAt: T0, expiresAt: T0 + 60 * MINUTE, needsSignIn: false, hasRefreshToken: true };

  it('is the due time of a refreshable credential, with the requested lead', () => {
    assert.equal(plannedRefreshAt(fresh), refreshDueAt(fresh));
    assert.equal(plannedRefreshAt(fresh, 10 * MINUTE), T0 + 50 * MINUTE);
  });

  it('is nothing for a credential that needs a sign-in or has no refresh token', () => {
    assert.equal(plannedRefreshAt({ ...fresh, needsSignIn: true }), undefined);
    assert.equal(plannedRefreshAt({ ...fresh, hasRefreshToken: false }), undefined);
  });
});
