// The command line against the MCP TypeScript SDK's own authorization server (`mcpAuthRouter` with a provider as a
// deployed server writes one) and an MCP server guarded by the SDK's `requireBearerAuth` and
// `mcpAuthMetadataRouter`: sign-in from a cold store, calls, refresh after expiry, two processes refreshing under
// strict rotation, status, and sign-out that leaves the refresh token dead at the server.
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { FileStore } from '../../src/node/fileStore';
import { startSdkAuthorizationServer, type SdkAuthorizationServer } from '../fixtures/sdkAuthorizationServer';
import { startSdkProtectedMcpServer, type SdkProtectedMcpServer } from '../fixtures/sdkProtectedMcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';
import { startCli } from './cliProcess';

const TOKEN_LIFETIME_SECONDS = 3;

interface Status {
  issuer: string;
  clientId: string;
  clientOrigin: string;
  account: string;
  scopes: string[];
  expiresAt: number;
  hasRefreshToken: boolean;
  needsSignIn: boolean;
  dpopBound: boolean;
}

describe('signing in to the MCP TypeScript SDK authorization server (mcpAuthRouter, requireBearerAuth)', function () {
  let as: SdkAuthorizationServer;
  let mcp: SdkProtectedMcpServer;
  let cli: CliHarness;

  const status = async () => JSON.parse((await cli.run('status', mcp.url, '--json')).stdout) as Status[];
  /** The refresh token the store holds now, read as the engine reads it. */
  const storedRefreshToken = async () => {
    const store = await FileStore.open(cli.storeDirectory);
    const [key] = await store.keys('credential/');
    return (JSON.parse((await store.get(key!))!) as { refreshToken: string }).refreshToken;
  };

  before(async function () {
    as = await startSdkAuthorizationServer({ accessTokenTtlSeconds: TOKEN_LIFETIME_SECONDS });
    mcp = await startSdkProtectedMcpServer(as);
  });
  after(async function () {
    await mcp?.close();
    await as?.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness();
  });
  afterEach(async function () {
    await cli.dispose();
  });

  it('lists the tools from a cold store: discovery from the 401, dynamic registration, sign-in on the pages', async function () {
    const result = await cli.run('tools', mcp.url, '--json');
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as { tools: { name: string }[] };
    assert.deepEqual(listed.tools.map((tool) => tool.name).sort(), ['admin_action', 'echo', 'whoami']);
    assert.equal(cli.browserOpens, 1);
    assert.deepEqual(cli.browser.history.map((visit) => visit.url.replace(/^http:\/\/[^/]+/, '')), ['/authorize', '/sign-in', '/consent']);
    const secrets = [...mcp.seenTokens, await storedRefreshToken()];
    assert.ok(secrets.every((secret) => !cli.transcript.includes(secret)), 'a token appeared in the output');
  });

  it('ends with access_denied and stores nothing when the person declines on the consent page', async function () {
    const declining = await createCliHarness({ consent: 'deny' });
    try {
      const result = await declining.run('tools', mcp.url);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^mcp-keyring: access_denied: /);
      assert.equal(declining.browser.history.at(-1)?.url.replace(/^http:\/\/[^/]+/, ''), '/consent/deny');
      assert.equal(JSON.parse((await declining.run('status', mcp.url, '--json')).stdout).length, 0);
    } finally {
      await declining.dispose();
    }
  });

  it('calls a tool with the stored credential, with no second sign-in and no token request', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const before = { ...as.events };
    const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"hello sdk"}');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'hello sdk');
    const whoami = await cli.run('call', mcp.url, 'whoami');
    assert.equal(JSON.parse(whoami.stdout).sub, 'alice');
    assert.deepEqual(as.events, before);
    assert.equal(cli.browserOpens, 1);
  });

  it('refreshes with no browser when called after the access token expired', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const expired = (await cli.run('token', mcp.url)).stdout.trim();
    const refreshes = as.events.refreshes;
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"after expiry"}');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'after expiry');
    assert.equal(as.events.refreshes, refreshes + 1);
    assert.notEqual(mcp.seenTokens.at(-1), expired, 'the call went out with the refreshed token');
    assert.equal(cli.browserOpens, 1, 'no sign-in was needed');
  });

  it('keeps both processes signed in when they refresh at the same moment under strict rotation, and the credential works after', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    const before = { ...as.events };
    const runs = await Promise.all(['first', 'second'].map((text) =>
      startCli(['call', mcp.url, 'echo', '--args', JSON.stringify({ text }), '--store', cli.storeDirectory, '--no-browser', '--timeout', '20'], { fromSource: true }).done));
    assert.deepEqual(runs.map((run) => [run.code, run.stdout.trim()]), [[0, 'first'], [0, 'second']], runs.map((run) => run.stderr).join('\n'));
    // Each call spans several MCP requests over seconds of process start-up, so with 3 s tokens the second process
    // may legitimately find the first one's fresh token due again; what must never happen is a refresh token used twice.
    assert.ok(as.events.refreshes > before.refreshes);
    assert.equal(as.events.refreshReuses, 0, 'no rotated-away refresh token was presented');
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    const refreshes = as.events.refreshes;
    const after = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"still signed in"}');
    assert.equal(after.code, 0, after.stderr);
    assert.equal(as.events.refreshes, refreshes + 1, 'the stored refresh token is the live one');
    assert.equal(cli.browserOpens, 1);
  });

  it('revokes the whole grant when a rotated-away refresh token comes back (the strictness the test above relies on)', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const { clientId } = (await status())[0]!;
    const original = await storedRefreshToken();
    await delay(TOKEN_LIFETIME_SECONDS * 1000 + 200);
    assert.equal((await cli.run('call', mcp.url, 'echo', '--args', '{"text":"refreshed"}')).code, 0);
    assert.notEqual(await storedRefreshToken(), original, 'the refresh rotated the refresh token');
    assert.equal((await refreshAtServer(original, clientId)).error, 'invalid_grant');
    assert.equal(as.events.refreshReuses, 1);
    const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"grant revoked"}');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(cli.browserOpens, 2, 'the current credential died with its grant: only a new sign-in helped');
  });

  it('reports the sign-in in status: issuer, registered client, scopes, expiry and refresh state', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const [entry, ...others] = await status();
    assert.equal(others.length, 0);
    assert.equal(entry!.issuer, as.issuer);
    assert.equal(entry!.clientOrigin, 'dynamic-registration');
    assert.deepEqual(entry!.scopes, ['mcp:read']);
    assert.ok(entry!.hasRefreshToken);
    assert.equal(entry!.needsSignIn, false);
    assert.ok(Math.abs(entry!.expiresAt - (Date.now() + TOKEN_LIFETIME_SECONDS * 1000)) < 2_000, 'expiry from expires_in');
  });

  it('signs out by revoking at the server: the refresh token is dead there afterwards', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const { clientId } = (await status())[0]!;
    const refreshToken = await storedRefreshToken();
    const accessToken = (await cli.run('token', mcp.url)).stdout.trim();
    const result = await cli.run('logout', mcp.url, '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).revoked, ['refresh_token', 'access_token']);
    assert.equal((await refreshAtServer(refreshToken, clientId)).error, 'invalid_grant');
    const call = await fetch(mcp.url, { method: 'POST', headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(call.status, 401, 'the access token is dead too');
    assert.deepEqual(await status(), []);
  });

  it('registers and signs in again, once, after the server restarted and forgot every registration and token', async function () {
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const { clientId } = (await status())[0]!;
    as.restart();
    const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"after the restart"}');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'after the restart');
    assert.equal(cli.browserOpens, 2);
    assert.notEqual((await status())[0]!.clientId, clientId, 'a new registration replaced the forgotten one');
  });

  it('stops at once with device_flow_unavailable when asked for the device flow, which the SDK does not offer', async function () {
    const result = await cli.run('tools', mcp.url, '--device');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mcp-keyring: device_flow_unavailable: /);
    assert.equal(cli.browserOpens, 0);
    assert.deepEqual(await status(), []);
  });

  it('refuses the Bearer token the server issues when explicitly asked for DPoP, which the SDK does not offer, and stores nothing', async function () {
    const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"no dpop here"}', '--dpop');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mcp-keyring: token_failed: the authorization server issued an unbound \(Bearer\) token although a DPoP-bound one \(RFC 9449\) was asked for; nothing was stored\n$/);
    assert.deepEqual(await status(), []);
    const unasked = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"no dpop here"}');
    assert.equal(unasked.code, 0, unasked.stderr);
    assert.equal((await status())[0]!.dpopBound, false);
  });

  /** A refresh-token grant sent straight to the server's token endpoint, as an attacker holding the token would. */
  async function refreshAtServer(refreshToken: string, clientId: string): Promise<{ status: number; error?: string }> {
    const response = await fetch(as.metadata.token_endpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, error: ((await response.json()) as { error?: string }).error };
  }
});
