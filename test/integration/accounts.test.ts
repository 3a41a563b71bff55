// Several accounts of one server from the command line, against oidc-provider: alice and bob side by side, each used
// when named, the preferred one otherwise, refreshed by two processes at once, and signed out one at a time.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createTestBrowser, type TestBrowser } from '../fixtures/testBrowser';
import { createCliHarness, type CliHarness } from './cliHarness';
import { startCli } from './cliProcess';

const TOKEN_LIFETIME_SECONDS = 3;
/** With a 3 s lifetime refresh is due after half of it; wait a little past that. */
const UNTIL_REFRESH_DUE_MS = 1_700;

interface StatusLine {
  readonly account: string;
  readonly accountId: string;
  readonly isPreferred: boolean;
}

describe('several accounts of one server from the command line', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;

  const status = async (...args: string[]) => JSON.parse((await cli.run('status', mcp.url, '--json', ...args)).stdout) as StatusLine[];
  const whoami = async (...args: string[]) => {
    const result = await cli.run('call', mcp.url, 'whoami', ...args);
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout) as { sub: string }).sub;
  };

  before(async function () {
    as = await startAuthorizationServer({ accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });
  beforeEach(async function () {
    // The browser keeps alice's session at the authorization server, as a person's browser does.
    cli = await createCliHarness();
    const alice = await cli.run('login', mcp.url);
    assert.equal(alice.code, 0, alice.stderr);
    const bob = await cli.run('login', mcp.url, '--account', 'bob');
    assert.equal(bob.code, 0, bob.stderr);
    assert.match(bob.stdout, /as bob\.$/m);
  });
  afterEach(async function () {
    await cli.dispose();
  });

  it('keeps both accounts, the first signed in preferred, and lists them all in status', async function () {
    const accounts = await status();
    assert.deepEqual(accounts.map((account) => [account.account, account.isPreferred]), [['alice', true], ['bob', false]]);
    assert.notEqual(accounts[0]!.accountId, accounts[1]!.accountId);
    assert.deepEqual((await status('--account', 'bob')).map((account) => account.account), ['bob']);
    const human = await cli.run('status', mcp.url);
    assert.match(human.stdout, /account: {3}alice \(preferred\)\n[\s\S]*account: {3}bob\n/);
  });

  it('reaches the server as the account named, and as the preferred one otherwise', async function () {
    assert.equal(await whoami(), 'alice');
    assert.equal(await whoami('--account', 'bob'), 'bob');
    assert.equal(await whoami('--account', 'alice'), 'alice');
    assert.equal(cli.browserOpens, 2, 'both accounts were used without signing in again');
  });

  it('replaces only that account\'s credential when signing in again as it', async function () {
    const bobToken = (await cli.run('token', mcp.url, '--account', 'bob')).stdout.trim();
    const aliceToken = (await cli.run('token', mcp.url, '--account', 'alice')).stdout.trim();
    const again = await cli.run('login', mcp.url, '--account', 'alice');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await status()).map((account) => account.account), ['alice', 'bob']);
    assert.notEqual((await cli.run('token', mcp.url, '--account', 'alice')).stdout.trim(), aliceToken);
    assert.equal((await cli.run('token', mcp.url, '--account', 'bob')).stdout.trim(), bobToken);
  });

  it('fails with account_mismatch, keeping what was signed in, when someone else signs in than the account named', async function () {
    const impostor = await createCliHarness({ login: 'carol' });
    try {
      const result = await impostor.run('login', mcp.url, '--account', 'dave');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /account_mismatch: signed in to .* as carol, not as dave/);
      const kept = JSON.parse((await impostor.run('status', mcp.url, '--json')).stdout) as StatusLine[];
      assert.deepEqual(kept.map((account) => account.account), ['carol']);
    } finally {
      await impostor.dispose();
    }
  });

  it('refreshes alice and bob in two processes at once, each its own account, one token request each', async function () {
    const before = { alice: (await cli.run('token', mcp.url, '--account', 'alice')).stdout.trim(), bob: (await cli.run('token', mcp.url, '--account', 'bob')).stdout.trim() };
    await delay(UNTIL_REFRESH_DUE_MS);
    const tokenRequests = as.requestCount('token');
    const [alice, bob] = await Promise.all(['alice', 'bob'].map((account) => startCli(['token', mcp.url, '--account', account, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true }).done));
    for (const run of [alice!, bob!]) assert.equal(run.code, 0, run.stderr);
    assert.equal(as.requestCount('token') - tokenRequests, 2, 'one refresh per account, none repeated');
    assert.notEqual(alice!.stdout.trim(), before.alice);
    assert.notEqual(bob!.stdout.trim(), before.bob);
    assert.equal(await whoami('--account', 'alice'), 'alice');
    assert.equal(await whoami('--account', 'bob'), 'bob');
    assert.equal(cli.browserOpens, 2, 'neither refresh needed a sign-in: rotation kept each account\'s own refresh token');
  });

  it('signs out of bob only, revoking his tokens, and keeps alice', async function () {
    const revocations = as.requestCount('revocation');
    const result = await cli.run('logout', mcp.url, '--account', 'bob');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Signed out of .* as bob; revoked/);
    assert.ok(as.requestCount('revocation') > revocations, 'bob\'s tokens were revoked');
    assert.deepEqual((await status()).map((account) => [account.account, account.isPreferred]), [['alice', true]]);
    assert.equal(await whoami(), 'alice');
  });

  it('signs out of every account without --account', async function () {
    const result = await cli.run('logout', mcp.url);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /as (alice, bob|bob, alice);/);
    assert.deepEqual(await status(), []);
  });

  it('uses the account chosen with use, and refuses one not signed in', async function () {
    const chosen = await cli.run('use', mcp.url, '--account', 'bob');
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.match(chosen.stdout, / now uses bob\.$/m);
    assert.deepEqual((await status()).map((account) => [account.account, account.isPreferred]), [['bob', true], ['alice', false]]);
    assert.equal(await whoami(), 'bob');
    const unknown = await cli.run('use', mcp.url, '--account', 'dave');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not_signed_in: not signed in to .* as dave/);
    assert.equal((await cli.run('use', mcp.url)).code, 2, 'use without --account is a usage error');
  });

  it('makes the account of a plain sign-in preferred once the preferred one was refused, but not an added one', async function () {
    // A browser whose person can be changed: the next one starts with no session at the authorization server.
    let person = createTestBrowser();
    const browser: TestBrowser = {
      open: (url) => person.open(url),
      get lastFinalUrl() { return person.lastFinalUrl; },
      get lastFinalStatus() { return person.lastFinalStatus; },
      get history() { return person.history; },
    };
    const own = await createCliHarness({}, {}, browser);
    try {
      assert.equal((await own.run('login', mcp.url)).code, 0);
      assert.equal((await own.run('login', mcp.url, '--account', 'bob')).code, 0);
      await delay(UNTIL_REFRESH_DUE_MS);
      as.failNext('token', 1, 400, 'invalid_grant');
      person = createTestBrowser({ login: 'carol' });
      const call = await own.run('call', mcp.url, 'whoami');
      assert.equal(call.code, 0, call.stderr);
      assert.equal((JSON.parse(call.stdout) as { sub: string }).sub, 'carol', 'alice\'s refresh was refused, so the person signed in, as carol');
      const accounts = JSON.parse((await own.run('status', mcp.url, '--json')).stdout) as (StatusLine & { needsSignIn: boolean })[];
      assert.deepEqual(accounts.map((account) => [account.account, account.isPreferred, account.needsSignIn]), [['carol', true, false], ['alice', false, true], ['bob', false, false]]);
      const again = await own.run('call', mcp.url, 'whoami');
      assert.equal((JSON.parse(again.stdout) as { sub: string }).sub, 'carol');
      assert.equal(own.browserOpens, 3, 'carol stayed in use without another sign-in');
    } finally {
      await own.dispose();
    }
  });

  it('refuses --account on diagnose, which signs nobody in', async function () {
    const result = await cli.run('diagnose', mcp.url, '--account', 'bob');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--account is not for diagnose/);
  });
});
