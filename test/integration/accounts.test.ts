// Several accounts of one server from the command line, against oidc-provider: alice and bob side by side, each used
// when named, the preferred one otherwise, refreshed by two processes at once, and signed out one at a time.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
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

  it('refuses --account on diagnose, which signs nobody in', async function () {
    const result = await cli.run('diagnose', mcp.url, '--account', 'bob');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--account is not for diagnose/);
  });
});
