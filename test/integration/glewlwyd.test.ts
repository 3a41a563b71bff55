// Signing in to glewlwyd, an independent OpenID provider in C (Debian's package), through its real login page (an
// application in JavaScript, so in Chromium), with an MCP server built on the official SDK in front of it whose
// resource metadata names glewlwyd's issuer. The checklist of issue #17 through the real command line.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { createChromiumTestBrowser, type ChromiumTestBrowser } from '../fixtures/chromiumTestBrowser';
import { startGlewlwydServer, type GlewlwydServer } from '../fixtures/glewlwydServer';
import { freeLoopbackPort } from '../fixtures/listenOnLoopback';
import { startSdkProtectedMcpServer, type SdkProtectedMcpServer } from '../fixtures/sdkProtectedMcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';
import { startCli } from './cliProcess';
import { statusOf, storedCredential, type StoredCredential } from './storedCredentials';

/** Short enough to wait for: glewlwyd's clock cannot be moved, so the tests let tokens really expire. */
const ACCESS_TOKEN_SECONDS = 10;
/** Each command's bound, the browser's included: Chromium on a loaded machine needs more than the harness's 20 s. */
const TIMEOUT = ['--timeout', '60'];

async function signIn(cli: CliHarness, ...options: string[]): Promise<void> {
  const login = await cli.run('login', ...options, ...TIMEOUT);
  assert.equal(login.code, 0, `${login.stderr} (pages: ${JSON.stringify(cli.browser.history.slice(-3))})`);
}

/** Waits out the stored access token's lifetime, by the wall clock that glewlwyd and the MCP server read too. */
async function untilExpired(credential: StoredCredential): Promise<void> {
  await sleep(Math.max(0, credential.expiresAt! - Date.now()) + 1_000);
}

/** glewlwyd's access tokens are JWTs (RFC 9068). */
function claimsOf(accessToken: string): { aud?: string; scope?: string; cnf?: { jkt?: string } } {
  return JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { aud?: string; scope?: string; cnf?: { jkt?: string } };
}

async function snapshot(directory: string): Promise<Map<string, string>> {
  const files = await readdir(directory);
  return new Map(await Promise.all(files.map(async (file) => [file, await readFile(join(directory, file), 'utf8')] as const)));
}

async function restore(directory: string, files: Map<string, string>): Promise<void> {
  for (const [file, text] of files) await writeFile(join(directory, file), text, { mode: 0o600 });
}

function mcpAnswerTo(mcp: SdkProtectedMcpServer, accessToken: string): Promise<Response> {
  return fetch(mcp.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'test', version: '1' } } }),
    signal: AbortSignal.timeout(5_000),
  });
}

describe('glewlwyd 2.7 (Debian package)', function () {
  this.timeout(120_000);
  let glewlwyd: GlewlwydServer;
  let mcp: SdkProtectedMcpServer;
  let browser: ChromiumTestBrowser;
  let cli: CliHarness;

  before(async function () {
    glewlwyd = await startGlewlwydServer({ accessTokenSeconds: ACCESS_TOKEN_SECONDS });
    mcp = await startSdkProtectedMcpServer(glewlwyd);
  });
  after(async function () {
    await mcp?.close();
    await glewlwyd?.close();
  });
  beforeEach(async function () {
    browser = createChromiumTestBrowser({ login: glewlwyd.user.login, password: glewlwyd.user.password });
    cli = await createCliHarness({}, {}, browser);
  });
  afterEach(async function () {
    await cli.dispose();
    await browser.close();
  });

  it('lists the tools from a cold store: discovery from the 401, registration answered with 200, sign-in on its login page', async function () {
    const result = await cli.run('tools', mcp.url, ...TIMEOUT);
    assert.equal(result.code, 0, `${result.stderr} (pages: ${JSON.stringify(browser.history.slice(-3))})`);
    assert.match(result.stdout, /^echo — /m);
    assert.equal(cli.browserOpens, 1);
    const pages = browser.history.map((visit) => new URL(visit.url).pathname);
    assert.deepEqual([...new Set(pages)], ['/login.html'], 'its own login page, no other');
    assert.match(browser.lastFinalUrl ?? '', /[?&]iss=/, 'RFC 9207: the issuer in the redirect');
    const status = await statusOf(cli);
    assert.equal(status.issuer, glewlwyd.issuer);
    assert.equal(status.clientOrigin, 'dynamic-registration');
    // The quirk MCP Keyring copes with: RFC 7591 §3.2.1 says 201.
    const registration = await fetch(String(glewlwyd.metadata.registration_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:1/callback'], token_endpoint_auth_method: 'none' }),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(registration.status, 200);
  });

  it('calls a tool with the token glewlwyd issued for the MCP server (audience = its URL)', async function () {
    await signIn(cli, mcp.url);
    const echo = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"through glewlwyd"}');
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout.trim(), 'through glewlwyd');
    const claims = claimsOf((await storedCredential(cli)).accessToken);
    assert.equal(claims.aud, mcp.url);
    assert.equal(claims.scope, 'mcp:read');
  });

  // glewlwyd matches redirect URIs exactly, ports included (RFC 8252 §7.3 asks it to allow any loopback port): a
  // registration made from one port serves only that port, so a sign-in from another port registers anew.
  it('signs in again from another loopback port with a registration of its own (redirect URIs matched exactly)', async function () {
    assert.equal((await cli.run('login', mcp.url, '--port', String(await freeLoopbackPort()), ...TIMEOUT)).code, 0);
    const again = await cli.run('login', mcp.url, '--port', String(await freeLoopbackPort()), ...TIMEOUT);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(cli.browserOpens, 2);
    assert.notEqual(browser.history.at(-1)?.status, 403, 'glewlwyd refused the authorization request');
  });

  it('refreshes after the access token expired, with no browser; the old token is refused and the refresh token rotated', async function () {
    await signIn(cli, mcp.url);
    const before = await storedCredential(cli);
    await untilExpired(before);
    assert.equal((await mcpAnswerTo(mcp, before.accessToken)).status, 401, 'glewlwyd\'s token really expired');
    const call = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"after expiry"}');
    assert.equal(call.code, 0, call.stderr);
    assert.equal(call.stdout.trim(), 'after expiry');
    assert.equal(cli.browserOpens, 1, 'no second sign-in');
    const after = await storedCredential(cli);
    assert.notEqual(after.accessToken, before.accessToken);
    assert.notEqual(after.refreshToken, before.refreshToken, 'one-time refresh tokens rotate');
  });

  it('refreshes once when two processes sharing a store ask at the same moment, and the credential works after', async function () {
    await signIn(cli, mcp.url);
    const before = await storedCredential(cli);
    await untilExpired(before);
    const runs = await Promise.all([1, 2].map(() => startCli(['token', mcp.url, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true }).done));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.equal(runs[0]!.stdout, runs[1]!.stdout, 'both got the one refreshed token');
    assert.notEqual(runs[0]!.stdout.trim(), before.accessToken);
    const call = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"still signed in"}');
    assert.equal(call.code, 0, call.stderr);
    assert.equal(cli.browserOpens, 1);
  });

  it('shows the stored sign-in in status without printing a secret', async function () {
    await signIn(cli, mcp.url);
    const status = await statusOf(cli);
    assert.equal(status.resource, mcp.url);
    assert.equal(status.hasRefreshToken, true);
    assert.equal(status.needsSignIn, false);
    assert.ok(typeof status.expiresAt === 'number' && typeof status.obtainedAt === 'number');
    assert.equal(status.expiresAt - status.obtainedAt, ACCESS_TOKEN_SECONDS * 1000);
    const credential = await storedCredential(cli);
    assert.equal((await cli.run('status', mcp.url)).code, 0);
    assert.ok(!cli.transcript.includes(credential.accessToken) && !cli.transcript.includes(credential.refreshToken!));
  });

  it('logs out by revoking at glewlwyd: the refresh token is dead there afterwards', async function () {
    await signIn(cli, mcp.url);
    const credential = await storedCredential(cli);
    const saved = await snapshot(cli.storeDirectory);
    const logout = await cli.run('logout', mcp.url);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /revoked the refresh token and access token/);
    assert.equal(await cli.storeContents().then((contents) => contents.includes(credential.refreshToken!)), false);
    // The same refresh the test above makes succeed, from the credential as it was before the logout.
    await restore(cli.storeDirectory, saved);
    await untilExpired(credential);
    const call = await startCli(['call', mcp.url, 'echo', '--args', '{"text":"after logout"}', '--store', cli.storeDirectory, '--no-browser', '--timeout', '5'], { fromSource: true }).done;
    assert.equal(call.code, 1, 'it asks for a new sign-in, which nobody answers');
    // glewlwyd answers the revoked refresh token with a bare HTTP 400 (no invalid_grant body).
    assert.equal((await statusOf(cli)).needsSignIn, true, 'glewlwyd refused the revoked refresh token');
  });

  it('refuses to register a client for the device flow: it wants its own grant name and a redirect URI', async function () {
    const result = await cli.run('tools', mcp.url, '--device', ...TIMEOUT);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mcp-keyring: registration_failed: .*invalid_client_metadata/m);
    assert.equal(cli.browserOpens, 0);
    assert.equal(await cli.storeContents(), '');
  });

  it('signs in by device authorization (RFC 8628) on its device page, with a client its administrator created', async function () {
    const clientId = await glewlwyd.addPublicClient(['device_authorization', 'refresh_token']);
    const result = await cli.run('tools', mcp.url, '--device', '--client-id', clientId, ...TIMEOUT);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /To sign in, open \S+\/api\/oidc\/device and enter the code /);
    assert.match(result.stdout, /^echo — /m);
  });

  it('binds tokens to a DPoP key (RFC 9449) at its token endpoint, on sign-in and on refresh', async function () {
    const login = await cli.run('login', mcp.url, '--dpop', ...TIMEOUT);
    assert.equal(login.code, 0, login.stderr);
    const signedIn = await storedCredential(cli) as StoredCredential & { tokenType: string; dpopKey: JWK };
    assert.equal(signedIn.tokenType, 'dpop');
    const { kty, crv, x, y } = signedIn.dpopKey;
    const thumbprint = await calculateJwkThumbprint({ kty, crv, x, y });
    assert.equal(claimsOf(signedIn.accessToken).cnf?.jkt, thumbprint);
    await untilExpired(signedIn);
    const token = await cli.run('token', mcp.url);
    assert.equal(token.code, 0, token.stderr);
    const refreshed = await storedCredential(cli);
    assert.notEqual(refreshed.accessToken, signedIn.accessToken);
    assert.equal(claimsOf(refreshed.accessToken).cnf?.jkt, thumbprint, 'the refreshed token is bound to the same key');
    assert.equal(cli.browserOpens, 1);
  });
});
