// Keeping credentials fresh against a real authorization server issuing short-lived tokens with refresh-token
// rotation: refresh when due, exactly one refresh for many callers and for two processes, failures classified.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { isKeyringError } from '../../src/core/errors';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { FileStore } from '../../src/node/fileStore';
import { createCliHarness, type CliHarness } from './cliHarness';
import { startCli } from './cliProcess';
import { createTestKeyring } from './testKeyring';

const TOKEN_LIFETIME_SECONDS = 3;
/** With a 3 s lifetime refresh is due after half of it; wait a little past that. */
const UNTIL_REFRESH_DUE_MS = 1_700;

function storedRefreshToken(contents: string): string | undefined {
  return /"refreshToken\\?":\\?"([^"\\]+)/.exec(contents)?.[1];
}

describe('refreshing short-lived tokens with rotation', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    as = await startAuthorizationServer({ accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS, accessTokenFormat: 'opaque' });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness();
    assert.equal((await cli.run('login', mcp.url)).code, 0);
  });
  afterEach(async function () {
    await cli.dispose();
  });

  it('hands out the stored token while it is fresh and a refreshed one, with a rotated refresh token, once refresh is due', async function () {
    const first = (await cli.run('token', mcp.url)).stdout.trim();
    const refreshBefore = storedRefreshToken(await cli.storeContents());
    assert.equal((await cli.run('token', mcp.url)).stdout.trim(), first);
    const tokenRequests = as.requestCount('token');
    await delay(UNTIL_REFRESH_DUE_MS);
    const second = await cli.run('token', mcp.url);
    assert.equal(second.code, 0, second.stderr);
    assert.notEqual(second.stdout.trim(), first);
    assert.equal(as.requestCount('token'), tokenRequests + 1);
    const refreshAfter = storedRefreshToken(await cli.storeContents());
    assert.ok(refreshBefore && refreshAfter && refreshAfter !== refreshBefore, 'the rotated refresh token replaced the old one');
    assert.equal(cli.browserOpens, 1, 'no sign-in was needed');
  });

  it('refreshes exactly once when 300 callers ask for a token at the moment it is due', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser);
    await delay(UNTIL_REFRESH_DUE_MS);
    const before = as.requestCount('token');
    const results = await Promise.allSettled(Array.from({ length: 300 }, () => keyring.getAccessToken(mcp.url, { interactive: false })));
    assert.equal(results.filter((result) => result.status === 'rejected').length, 0);
    const tokens = new Set(results.map((result) => (result as PromiseFulfilledResult<{ accessToken: string }>).value.accessToken));
    assert.equal(tokens.size, 1);
    assert.equal(as.requestCount('token') - before, 1);
  });

  it('gives up retrying a refresh in an outage once its caller has aborted, instead of retrying after a pause', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser);
    const before = as.requestCount('token');
    as.failNext('token', 1, 503);
    await assert.rejects(keyring.refresh(mcp.url, { signal: AbortSignal.abort() }), (error) => isKeyringError(error, 'cancelled'));
    assert.equal(as.requestCount('token'), before + 1, 'the refresh was sent once (it is never cut off) and not retried');
  });

  it('refreshes exactly once when two processes sharing a store ask at the same moment, without tripping rotation', async function () {
    await delay(UNTIL_REFRESH_DUE_MS);
    const before = as.requestCount('token');
    const runs = await Promise.all([1, 2].map(() => startCli(['token', mcp.url, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true }).done));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.equal(runs[0]!.stdout, runs[1]!.stdout);
    assert.equal(as.requestCount('token') - before, 1);
  });

  it('keeps the credential through a brief outage of the token endpoint and recovers by retrying', async function () {
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    as.failNext('token', 1, 503);
    const result = await cli.run('token', mcp.url);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(cli.browserOpens, 1);
  });

  it('reports a longer outage without prompting, keeps the tokens, and works again once the server is back', async function () {
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    const refreshBefore = storedRefreshToken(await cli.storeContents());
    as.failNext('token', 3, 503);
    const failed = await cli.run('token', mcp.url);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /server_unavailable/);
    assert.equal(cli.browserOpens, 1, 'a server outage never leads to a sign-in prompt');
    assert.equal(storedRefreshToken(await cli.storeContents()), refreshBefore);
    const status = JSON.parse((await cli.run('status', mcp.url, '--json')).stdout) as { needsSignIn: boolean; lastRefresh: { outcome: string } }[];
    assert.equal(status[0]!.needsSignIn, false);
    assert.equal(status[0]!.lastRefresh.outcome, 'retrying');
    const recovered = await cli.run('token', mcp.url);
    assert.equal(recovered.code, 0, recovered.stderr);
  });

  it('marks the server as needing sign-in when the refresh token is rejected, keeping the record rather than deleting it', async function () {
    const keyring = await createTestKeyring(cli.storeDirectory, cli.browser);
    const refreshToken = storedRefreshToken(await cli.storeContents())!;
    const clientId = (JSON.parse((await cli.run('status', '--json')).stdout) as { clientId: string }[])[0]!.clientId;
    const revocation = await fetch(as.endpoints.revocation, { method: 'POST', body: new URLSearchParams({ token: refreshToken, client_id: clientId }) });
    assert.equal(revocation.status, 200);
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    await assert.rejects(keyring.getAccessToken(mcp.url, { interactive: false }), (error) => isKeyringError(error, 'needs_sign_in'));
    const status = JSON.parse((await cli.run('status', mcp.url, '--json')).stdout) as { needsSignIn: boolean; hasRefreshToken: boolean }[];
    assert.equal(status[0]!.needsSignIn, true);
    assert.equal(status[0]!.hasRefreshToken, true);
    // Signing in again clears the mark.
    assert.equal((await cli.run('token', mcp.url)).code, 0);
    assert.equal(cli.browserOpens, 2);
  });

  describe('interrupted with Ctrl-C (SIGINT) in its own process', function () {
    /** How long the authorization server keeps a refresh's answer back: the window the interrupt lands in. */
    const HELD_ANSWER_MS = 1_500;

    async function until(condition: () => boolean, what: string): Promise<void> {
      for (const started = Date.now(); !condition(); await delay(10)) {
        if (Date.now() - started > 15_000) throw new Error(`gave up waiting for ${what}`);
      }
    }

    it('stores a refresh whose answer was on its way, so the sign-in survives rotation', async function () {
      await delay(UNTIL_REFRESH_DUE_MS);
      const tokenRequests = as.requestCount('token');
      as.holdNextAnswer('token', HELD_ANSWER_MS);
      const running = startCli(['token', mcp.url, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true });
      await until(() => as.requestCount('token') > tokenRequests, 'the refresh to reach the authorization server');
      running.child.kill('SIGINT');
      const interrupted = await running.done;
      assert.equal(interrupted.signal, null, 'the command line handled the interrupt instead of dying of it');
      assert.match(interrupted.stderr, /stopping/);
      // The refresh above used up the old refresh token; only the stored new one can still work.
      const call = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"still signed in"}');
      assert.equal(call.code, 0, call.stderr);
      assert.equal(call.stdout.trim(), 'still signed in');
      assert.equal(cli.browserOpens, 1, 'no second sign-in');
    });

    it('stops waiting for the browser, exits 130 and keeps the earlier sign-in', async function () {
      const storedBefore = await cli.storeContents();
      const running = startCli(['login', mcp.url, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true });
      let printed = '';
      running.child.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      await until(() => printed.includes('Open this URL'), 'the sign-in URL');
      running.child.kill('SIGINT');
      const interrupted = await running.done;
      assert.equal(interrupted.code, 130, interrupted.stderr);
      assert.match(interrupted.stderr, /interrupted/);
      assert.equal(storedBefore.includes(storedRefreshToken(await cli.storeContents())!), true, 'the stored credential is the earlier one');
    });
  });

  it('answers a 401 for a token the server stopped accepting by refreshing and retrying, without a prompt', async function () {
    // The server forgets the token (as after a key rotation); the grant itself stays valid.
    const store = await FileStore.open(cli.storeDirectory);
    const [key] = await store.keys('credential/');
    const record = JSON.parse((await store.get(key!))!) as { accessToken: string };
    await store.set(key!, JSON.stringify({ ...record, accessToken: 'a-token-the-server-does-not-know' }));
    const unauthorizedBefore = mcp.unauthorizedCount;
    const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"still here"}');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'still here');
    assert.equal(mcp.unauthorizedCount, unauthorizedBefore + 1, 'the server refused the unknown token once');
    assert.equal(cli.browserOpens, 1);
  });
});
