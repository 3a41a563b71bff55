import assert from 'node:assert/strict';
import { ClientIdentities } from '../../../src/core/clientIdentity';
import { CredentialManager, type RefreshContext } from '../../../src/core/credentialManager';
import { KeyringError, isTransient } from '../../../src/core/errors';
import { MINIMUM_VALIDITY_MS } from '../../../src/core/refreshPolicy';
import { credentialKey, KeyringRepository, type AccountRef, type ClientRecord, type Credential } from '../../../src/core/records';
import { MemoryStore, fakeClock, httpClientOver, json, recordingLogger, rejectsWithCode, routerFetch, type FakeClock } from './fakes';

const TOKEN_ENDPOINT = 'https://as.example/token';
const MINUTE = 60_000;
const as = { issuer: 'https://as.example', token_endpoint: TOKEN_ENDPOINT, authorization_endpoint: 'https://as.example/authorize' };
const client: ClientRecord = {
  issuer: as.issuer, clientId: 'client-1', authMethod: 'none', redirectUris: ['http://127.0.0.1/callback'], origin: 'dynamic-registration', registeredAt: 0,
};
const binding: AccountRef & Pick<Credential, 'resource' | 'clientId'> = { serverUrl: 'https://mcp.example/mcp', resource: 'https://mcp.example/mcp', issuer: as.issuer, clientId: client.clientId, account: 'alice' };

type TokenAnswer = () => Response | Promise<Response>;

const tokens = (accessToken: string, extra: Record<string, unknown> = {}): TokenAnswer => () => json({ access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...extra });
const oauthError = (error: string, status = 400): TokenAnswer => () => json({ error }, status);
const unavailable: TokenAnswer = () => new Response('<html>maintenance</html>', { status: 503, headers: { 'content-type': 'text/html' } });

interface Harness {
  readonly manager: CredentialManager;
  readonly store: MemoryStore;
  readonly repository: KeyringRepository;
  readonly clock: FakeClock;
  /** Form bodies of the token requests, in order. */
  readonly tokenRequests: URLSearchParams[];
  readonly sleeps: number[];
  readonly context: () => Promise<RefreshContext>;
  stored(): Promise<Credential | undefined>;
}

/** A manager whose token endpoint answers with `answers` in turn (the last one repeats). */
function harness(answers: TokenAnswer[], options: { refreshAttempts?: number; answerDelayMs?: number; client?: ClientRecord; inFlightPatienceMs?: number } = {}): Harness {
  const store = new MemoryStore();
  const repository = new KeyringRepository(store);
  const clock = fakeClock();
  const tokenRequests: URLSearchParams[] = [];
  const sleeps: number[] = [];
  const server = routerFetch({
    [TOKEN_ENDPOINT]: async (_url, init) => {
      tokenRequests.push(new URLSearchParams(init?.body as URLSearchParams | string));
      // Like a real fetch, a request waiting for its answer fails when its signal aborts.
      if (options.answerDelayMs) await abortableDelay(options.answerDelayMs, init?.signal ?? undefined);
      return answers[Math.min(tokenRequests.length, answers.length) - 1]!();
    },
  });
  const http = httpClientOver(server.fetch);
  const manager = new CredentialManager({
    repository,
    http,
    identities: new ClientIdentities(http, repository, () => clock.now()),
    clock,
    logger: recordingLogger(),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    refreshAttempts: options.refreshAttempts,
    inFlightPatienceMs: options.inFlightPatienceMs,
  });
  return {
    manager, store, repository, clock, tokenRequests, sleeps,
    context: () => Promise.resolve({ as, client: options.client ?? client, policy: { serverAddressClass: 'loopback' } }),
    stored: () => repository.getCredential(binding),
  };
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    }, { once: true });
  });
}

/** A one-hour credential obtained `age` ago. */
function credentialAged(clock: FakeClock, age: number, overrides: Partial<Credential> = {}): Credential {
  const obtainedAt = clock.now() - age;
  return {
    serverUrl: binding.serverUrl, resource: binding.resource, issuer: binding.issuer, clientId: binding.clientId, account: binding.account,
    accessToken: 'access-1', refreshToken: 'refresh-1', tokenType: 'bearer', scopes: ['read'],
    obtainedAt, expiresAt: obtainedAt + 60 * MINUTE, needsSignIn: false, ...overrides,
  };
}

const FRESH = 10 * MINUTE;
const DUE_BUT_VALID = 57 * MINUTE;
const EXPIRED = 61 * MINUTE;

describe('CredentialManager', () => {
  describe('fresh', () => {
    it('hands out a stored credential that is not due without asking the server', async () => {
      const h = harness([tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, FRESH));
      assert.equal((await h.manager.fresh(binding, h.context)).accessToken, 'access-1');
      assert.equal(h.tokenRequests.length, 0);
    });

    it('fails with not_signed_in when nothing is stored', async () => {
      const h = harness([tokens('access-2')]);
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'not_signed_in');
    });

    it('fails with needs_sign_in for a credential already marked, without asking the server', async () => {
      const h = harness([tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED, { needsSignIn: true }));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      assert.equal(h.tokenRequests.length, 0);
    });

    it('refreshes a due credential with its refresh token and the resource', async () => {
      const h = harness([tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      const refreshed = await h.manager.fresh(binding, h.context);
      assert.equal(refreshed.accessToken, 'access-2');
      assert.equal(h.tokenRequests.length, 1);
      const form = h.tokenRequests[0]!;
      assert.equal(form.get('grant_type'), 'refresh_token');
      assert.equal(form.get('refresh_token'), 'refresh-1');
      assert.equal(form.get('resource'), binding.resource);
      assert.equal(form.get('client_id'), client.clientId);
    });

    it('lets 200 concurrent callers of an expired credential share exactly one refresh request', async () => {
      const h = harness([tokens('access-2')], { answerDelayMs: 10 });
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      const results = await Promise.all(Array.from({ length: 200 }, () => h.manager.fresh(binding, h.context)));
      assert.equal(h.tokenRequests.length, 1);
      assert.ok(results.every((result) => result.accessToken === 'access-2'));
    });

    /** The refresh's first caller and 20 arriving while it runs, in the order their answers came. */
    async function callersDuringARefresh(h: Harness): Promise<string[]> {
      const settled: string[] = [];
      const starter = h.manager.fresh(binding, h.context).then((credential) => settled.push(`starter ${credential.accessToken}`));
      const others = Array.from({ length: 20 }, () => h.manager.fresh(binding, h.context).then((credential) => settled.push(`other ${credential.accessToken}`)));
      await Promise.all([starter, ...others]);
      return settled;
    }

    it('lets callers arriving while a due refresh is under way wait for its token when it answers promptly', async () => {
      const h = harness([tokens('access-2')], { answerDelayMs: 20, inFlightPatienceMs: 2_000 });
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      assert.deepEqual(await callersDuringARefresh(h), ['starter access-2', ...Array.from({ length: 20 }, () => 'other access-2')]);
      assert.equal(h.tokenRequests.length, 1);
    });

    it('hands the still-valid token to callers arriving while a slow refresh is under way, instead of holding them', async () => {
      const h = harness([tokens('access-2')], { answerDelayMs: 300, inFlightPatienceMs: 20 });
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      assert.deepEqual(await callersDuringARefresh(h), [...Array.from({ length: 20 }, () => 'other access-1'), 'starter access-2']);
      assert.equal(h.tokenRequests.length, 1);
    });

    it('waits for a slow refresh no longer than the current token stays acceptable to hand out', async () => {
      // Patient enough for the refresh, but the current token's spare validity (above MINIMUM_VALIDITY_MS) runs out first.
      const h = harness([tokens('access-2')], { answerDelayMs: 300, inFlightPatienceMs: 5_000 });
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID, { expiresAt: h.clock.now() + MINIMUM_VALIDITY_MS + 20 }));
      assert.deepEqual(await callersDuringARefresh(h), [...Array.from({ length: 20 }, () => 'other access-1'), 'starter access-2']);
      assert.equal(h.tokenRequests.length, 1);
    });

    it('sees a refresh through once it was sent, even when the caller gives up, and stores the rotated refresh token', async () => {
      const h = harness([tokens('access-2', { refresh_token: 'refresh-2' })], { answerDelayMs: 30 });
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      const caller = new AbortController();
      const refreshed = h.manager.fresh(binding, async () => ({ ...(await h.context()), signal: caller.signal }));
      while (h.tokenRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      caller.abort();
      assert.equal((await refreshed).accessToken, 'access-2');
      assert.equal((await h.stored())?.refreshToken, 'refresh-2');
    });

    it('stores the new tokens before handing them out', async () => {
      const h = harness([tokens('access-2', { refresh_token: 'refresh-2', expires_in: 1800, scope: 'read write' })]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      const events: string[] = [];
      h.store.onSet = async (_key, value) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`stored ${(JSON.parse(value) as Credential).accessToken}`);
      };
      const refreshed = await h.manager.fresh(binding, h.context);
      events.push(`returned ${refreshed.accessToken}`);
      assert.deepEqual(events, ['stored access-2', 'returned access-2']);
      assert.deepEqual(await h.stored(), {
        ...credentialAged(h.clock, 0),
        accessToken: 'access-2', refreshToken: 'refresh-2', tokenType: 'bearer', scopes: ['read', 'write'],
        obtainedAt: h.clock.now(), expiresAt: h.clock.now() + 1800 * 1000, lastRefresh: { at: h.clock.now(), outcome: 'ok' },
      });
    });

    it('stores a rotated refresh token and uses it for the next refresh', async () => {
      const h = harness([tokens('access-2', { refresh_token: 'refresh-2' }), tokens('access-3', { refresh_token: 'refresh-3' })]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      await h.manager.fresh(binding, h.context);
      assert.equal((await h.stored())?.refreshToken, 'refresh-2');
      h.clock.advance(DUE_BUT_VALID);
      await h.manager.fresh(binding, h.context);
      assert.deepEqual(h.tokenRequests.map((form) => form.get('refresh_token')), ['refresh-1', 'refresh-2']);
      assert.equal((await h.stored())?.refreshToken, 'refresh-3');
    });

    it('keeps the refresh token and scopes when the server sends no new ones', async () => {
      const h = harness([tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID, { scopes: ['read', 'admin'] }));
      await h.manager.fresh(binding, h.context);
      const stored = await h.stored();
      assert.equal(stored?.refreshToken, 'refresh-1');
      assert.deepEqual(stored?.scopes, ['read', 'admin']);
    });

    it('refreshes when the server rejected the current token, even if it is not due', async () => {
      const h = harness([tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, FRESH));
      assert.equal((await h.manager.fresh(binding, h.context, { kind: 'rejected', token: 'access-1' })).accessToken, 'access-2');
      assert.equal(h.tokenRequests.length, 1);
    });

    it('hands out the stored token without refreshing when another caller already replaced the rejected one', async () => {
      const h = harness([tokens('access-3')]);
      await h.repository.putCredential(credentialAged(h.clock, FRESH, { accessToken: 'access-2' }));
      assert.equal((await h.manager.fresh(binding, h.context, { kind: 'rejected', token: 'access-1' })).accessToken, 'access-2');
      assert.equal(h.tokenRequests.length, 0);
    });

    it('keeps a still-valid credential without a refresh token when asked to refresh it, and ends it only when the server refused it', async () => {
      const h = harness([]);
      await h.repository.putCredential(credentialAged(h.clock, FRESH, { refreshToken: undefined }));
      assert.equal((await h.manager.fresh(binding, h.context, { kind: 'forced', token: 'access-1' })).accessToken, 'access-1');
      assert.equal((await h.stored())?.needsSignIn, false);
      await rejectsWithCode(h.manager.fresh(binding, h.context, { kind: 'rejected', token: 'access-1' }), 'needs_sign_in');
      assert.equal((await h.stored())?.needsSignIn, true);
      assert.equal(h.tokenRequests.length, 0);
    });

    it('uses a credential refreshed by another process while it waited for the lock', async () => {
      const h = harness([tokens('access-x')]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      let release!: () => void;
      const held = h.store.withLock(await credentialKey(binding), () => new Promise<void>((resolve) => { release = resolve; }));
      const pending = h.manager.fresh(binding, h.context);
      while (h.store.lockRequests.length < 2) await new Promise((resolve) => setImmediate(resolve));
      await h.repository.putCredential(credentialAged(h.clock, 0, { accessToken: 'access-from-elsewhere', refreshToken: 'refresh-2' }));
      release();
      await held;
      assert.equal((await pending).accessToken, 'access-from-elsewhere');
      assert.equal(h.tokenRequests.length, 0);
    });

    it('marks an expired credential without a refresh token as needing sign-in, without asking the server', async () => {
      const h = harness([tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED, { refreshToken: undefined }));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      assert.equal(h.tokenRequests.length, 0);
      assert.equal((await h.stored())?.needsSignIn, true);
    });
  });

  describe('when the authorization server rejects the refresh', () => {
    it('marks the credential as needing sign-in on invalid_grant, keeps it stored, and fails with needs_sign_in', async () => {
      const h = harness([oauthError('invalid_grant')]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      const stored = await h.stored();
      assert.equal(stored?.needsSignIn, true);
      assert.equal(stored?.accessToken, 'access-1');
      assert.equal(stored?.refreshToken, 'refresh-1');
      assert.deepEqual(stored?.lastRefresh, { at: h.clock.now(), outcome: 'rejected', code: 'invalid_grant' });
      assert.equal(h.tokenRequests.length, 1);
    });

    it('marks the credential as needing sign-in on a 400 without an error body (glewlwyd, revoked refresh token)', async () => {
      const h = harness([() => new Response(null, { status: 400 })]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      const stored = await h.stored();
      assert.equal(stored?.needsSignIn, true);
      assert.equal(stored?.refreshToken, 'refresh-1');
      assert.deepEqual(stored?.lastRefresh, { at: h.clock.now(), outcome: 'rejected', code: 'invalid_response' });
    });

    // The lock can be held twice (a SecretStorage lease race, a file lock taken over from a holder that stalled): the
    // winner's rotated refresh token must survive the loser's rejected refresh with the old one.
    it('uses the refresh token another lock holder rotated meanwhile instead of marking its own rejected one (invalid_grant)', async () => {
      const h: Harness = harness([async () => {
        await h.repository.putCredential(credentialAged(h.clock, 0, { accessToken: 'access-winner', refreshToken: 'refresh-winner' }));
        return oauthError('invalid_grant')();
      }]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      assert.equal((await h.manager.fresh(binding, h.context)).accessToken, 'access-winner');
      const stored = await h.stored();
      assert.equal(stored?.refreshToken, 'refresh-winner');
      assert.equal(stored?.needsSignIn, false);
      assert.equal(h.tokenRequests.length, 1);
    });

    it('reports the refusal, not the store, when the credential cannot be read again after invalid_grant, and writes nothing', async () => {
      const h: Harness = harness([() => {
        h.store.get = () => Promise.reject(new KeyringError('store_failed', 'the store is unreadable'));
        return oauthError('invalid_grant')();
      }]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      const before = new Map(h.store.values);
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'invalid_grant');
      assert.deepEqual(h.store.values, before);
    });

    it('reads the credential again only for a failure whose outcome it writes', async () => {
      const h: Harness = harness([() => {
        h.store.get = () => Promise.reject(new KeyringError('store_failed', 'the store is unreadable'));
        throw new KeyringError('forbidden_address', 'refused to contact https://as.example/token');
      }]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'forbidden_address');
    });

    it('writes nothing back when the credential was signed out while its refresh was rejected', async () => {
      const h: Harness = harness([async () => {
        await h.repository.deleteCredential(binding);
        return oauthError('invalid_grant')();
      }]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'not_signed_in');
      assert.equal(await h.stored(), undefined);
    });

    it('does not retry or ask again once the grant was rejected', async () => {
      const h = harness([oauthError('invalid_grant')]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      assert.equal(h.tokenRequests.length, 1);
      assert.deepEqual(h.sleeps, []);
    });

    it('forgets a dynamically registered client the server no longer knows (invalid_client)', async () => {
      const h = harness([oauthError('invalid_client', 401)]);
      await h.repository.putClient(client);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      assert.equal(await h.repository.getClient(client.issuer, client.clientId), undefined);
      assert.equal((await h.stored())?.needsSignIn, true);
    });
    // A 401 with a challenge is the client refused, not a transient failure: no backoff, and the person signs in again.
    it('marks the credential as needing sign-in when the token endpoint refuses the client secret with a 401 challenge', async () => {
      const confidential: ClientRecord = { ...client, clientSecret: 'client-secret', authMethod: 'client_secret_basic', origin: 'pre-registered' };
      const refused: TokenAnswer = () => json({ error: 'invalid_client' }, 401, { 'www-authenticate': 'Basic realm="as.example"' });
      const h = harness([refused], { client: confidential });
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
      assert.equal(h.tokenRequests.length, 1);
      assert.deepEqual(h.sleeps, []);
      assert.equal((await h.stored())?.needsSignIn, true);
    });
  });

  describe('when the authorization server is unavailable', () => {
    it('keeps the refresh token another lock holder rotated meanwhile when its own refresh failed for a while (503)', async () => {
      const h: Harness = harness([async () => {
        await h.repository.putCredential(credentialAged(h.clock, 0, { accessToken: 'access-winner', refreshToken: 'refresh-winner' }));
        return unavailable();
      }]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      assert.equal((await h.manager.fresh(binding, h.context)).accessToken, 'access-winner');
      const stored = await h.stored();
      assert.equal(stored?.refreshToken, 'refresh-winner');
      assert.equal(stored?.lastRefresh, undefined);
    });

    it('keeps the tokens and hands out the still-valid token on a 503', async () => {
      const h = harness([unavailable]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      const handed = await h.manager.fresh(binding, h.context);
      assert.equal(handed.accessToken, 'access-1');
      const stored = await h.stored();
      assert.equal(stored?.accessToken, 'access-1');
      assert.equal(stored?.refreshToken, 'refresh-1');
      assert.equal(stored?.needsSignIn, false);
      assert.deepEqual(stored?.lastRefresh, { at: h.clock.now(), outcome: 'retrying', code: 'server_unavailable' });
    });

    it('hands out the still-valid token when the refresh answer is garbled (truncated JSON), without marking it', async () => {
      const truncated: TokenAnswer = () => new Response('{"access_token": "access-2", "token_ty', { status: 200, headers: { 'content-type': 'application/json' } });
      const h = harness([truncated]);
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID));
      assert.equal((await h.manager.fresh(binding, h.context)).accessToken, 'access-1');
      const stored = await h.stored();
      assert.equal(stored?.needsSignIn, false);
      assert.deepEqual(stored?.lastRefresh, { at: h.clock.now(), outcome: 'retrying', code: 'invalid_response' });
    });

    it('fails with invalid_response for a garbled answer once the token has expired', async () => {
      const h = harness([() => new Response('<html>proxy error</html>', { status: 200, headers: { 'content-type': 'text/html' } })]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'invalid_response');
      assert.equal((await h.stored())?.needsSignIn, false);
    });

    it('retries an expired token with backoff, then fails with a transient code without marking it', async () => {
      const h = harness([unavailable]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      const error = await rejectsWithCode(h.manager.fresh(binding, h.context), 'server_unavailable');
      assert.ok(isTransient(error));
      assert.equal(h.tokenRequests.length, 3);
      assert.equal(h.sleeps.length, 2);
      assert.ok(h.sleeps[0]! >= 250 && h.sleeps[0]! <= 500, `first delay ${h.sleeps[0]}`);
      assert.ok(h.sleeps[1]! >= 500 && h.sleeps[1]! <= 1000, `second delay ${h.sleeps[1]}`);
      const stored = await h.stored();
      assert.equal(stored?.needsSignIn, false);
      assert.equal(stored?.refreshToken, 'refresh-1');
    });

    it('succeeds when a retry of an expired token gets through', async () => {
      const h = harness([unavailable, tokens('access-2')]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      assert.equal((await h.manager.fresh(binding, h.context)).accessToken, 'access-2');
      assert.equal(h.tokenRequests.length, 2);
      assert.equal(h.sleeps.length, 1);
    });

    it('treats temporarily_unavailable like a 503', async () => {
      const h = harness([oauthError('temporarily_unavailable')], { refreshAttempts: 2 });
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'server_unavailable');
      assert.equal(h.tokenRequests.length, 2);
      assert.equal((await h.stored())?.needsSignIn, false);
    });

    it('fails with network, after retries, when the token endpoint cannot be reached', async () => {
      const h = harness([() => Promise.reject(new TypeError('fetch failed'))]);
      await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
      await rejectsWithCode(h.manager.fresh(binding, h.context), 'network');
      assert.equal(h.tokenRequests.length, 3);
      assert.equal((await h.stored())?.needsSignIn, false);
    });

    const transientAnswers: [string, TokenAnswer][] = [['a 503', unavailable], ['server_error', oauthError('server_error')], ['slow_down', oauthError('slow_down')]];
    for (const [name, answer] of transientAnswers) {
      it(`never marks an expired credential as needing sign-in after ${name}`, async () => {
        const h = harness([answer]);
        await h.repository.putCredential(credentialAged(h.clock, EXPIRED));
        await rejectsWithCode(h.manager.fresh(binding, h.context), 'server_unavailable');
        assert.equal((await h.stored())?.needsSignIn, false);
      });
    }
  });

  describe('storeNew', () => {
    it('stores a credential built from a sign-in, assuming the requested scopes when the server named none', async () => {
      const h = harness([]);
      const stored = await h.manager.storeNew(binding, { accessToken: 'a', refreshToken: 'r', tokenType: 'bearer', expiresInSeconds: 60 }, ['read', 'offline_access'], binding.resource);
      assert.deepEqual(await h.stored(), stored);
      assert.deepEqual(stored.scopes, ['read', 'offline_access']);
      assert.equal(stored.expiresAt, h.clock.now() + 60_000);
      assert.equal(stored.needsSignIn, false);
    });

    it('stores no expiry when the server gave none', async () => {
      const h = harness([]);
      const stored = await h.manager.storeNew(binding, { accessToken: 'a', tokenType: 'bearer', scopes: ['x'] }, ['read'], binding.resource);
      assert.equal(stored.expiresAt, undefined);
      assert.deepEqual(stored.scopes, ['x']);
    });
  });
});

describe('CredentialManager renewing a credential without a refresh token (machine grants)', () => {
  const renewedWith = (accessToken: string) => () => Promise.resolve({ accessToken, tokenType: 'bearer', expiresInSeconds: 3600 });

  it('runs the renewal instead of marking the credential as needing sign-in, and stores the new token', async () => {
    const h = harness([tokens('unused')]);
    await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID, { refreshToken: undefined }));
    let renewals = 0;
    const fresh = await h.manager.fresh(binding, h.context, { kind: 'due' }, () => {
      renewals++;
      return renewedWith('access-2')();
    });
    assert.equal(fresh.accessToken, 'access-2');
    assert.equal(renewals, 1);
    assert.equal(h.tokenRequests.length, 0, 'no refresh-token request');
    assert.equal((await h.stored())?.accessToken, 'access-2');
    assert.equal((await h.stored())?.lastRefresh?.outcome, 'ok');
  });

  it('renews once for many concurrent callers', async () => {
    const h = harness([tokens('unused')]);
    await h.repository.putCredential(credentialAged(h.clock, EXPIRED, { refreshToken: undefined }));
    let renewals = 0;
    const renew = async () => {
      renewals++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return renewedWith('access-2')();
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => h.manager.fresh(binding, h.context, { kind: 'due' }, renew)));
    assert.equal(renewals, 1);
    assert.deepEqual(new Set(results.map((credential) => credential.accessToken)), new Set(['access-2']));
  });

  it('reports a refused renewal as itself, records it, and does not pretend a sign-in would help', async () => {
    const h = harness([tokens('unused')]);
    await h.repository.putCredential(credentialAged(h.clock, EXPIRED, { refreshToken: undefined }));
    const refused = new KeyringError('invalid_grant', 'JWT assertion grant: the authorization server rejected the grant (invalid_grant)');
    const error = await rejectsWithCode(h.manager.fresh(binding, h.context, { kind: 'due' }, () => Promise.reject(refused)), 'invalid_grant');
    assert.equal(error, refused);
    const stored = await h.stored();
    assert.equal(stored?.needsSignIn, false);
    assert.deepEqual(stored?.lastRefresh && { outcome: stored.lastRefresh.outcome, code: stored.lastRefresh.code }, { outcome: 'rejected', code: 'invalid_grant' });
  });

  const failuresLeavingTheGrant: [string, KeyringError][] = [
    ['an outage', new KeyringError('server_unavailable', 'down')],
    ['a garbled answer (as a refresh does)', new KeyringError('invalid_response', 'the token endpoint answered with a cut-off body')],
  ];
  for (const [name, failure] of failuresLeavingTheGrant) {
    it(`keeps a still-valid token through a renewal that failed with ${name}`, async () => {
      const h = harness([tokens('unused')], { refreshAttempts: 1 });
      await h.repository.putCredential(credentialAged(h.clock, DUE_BUT_VALID, { refreshToken: undefined }));
      const fresh = await h.manager.fresh(binding, h.context, { kind: 'due' }, () => Promise.reject(failure));
      assert.equal(fresh.accessToken, 'access-1');
      assert.equal((await h.stored())?.lastRefresh?.outcome, 'retrying');
    });
  }

  it('still ends a code-flow credential without refresh token when no renewal is offered', async () => {
    const h = harness([tokens('unused')]);
    await h.repository.putCredential(credentialAged(h.clock, EXPIRED, { refreshToken: undefined }));
    await rejectsWithCode(h.manager.fresh(binding, h.context), 'needs_sign_in');
  });
});
