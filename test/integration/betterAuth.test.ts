// Signing in to better-auth with @better-auth/oauth-provider, deployed as apps deploy it (issuer at /api/auth, the
// app's own sign-in and consent pages, an SDK-built MCP server checking its JWTs): the habits issue #17 lists, each
// shown at the server, and the command line's checklist through them.
import assert from 'node:assert/strict';
import { BETTER_AUTH_ACCESS_TOKEN_SECONDS, startBetterAuthServer, type BetterAuthServer } from '../fixtures/betterAuthServer';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oauth from 'oauth4webapi';
import { freeLoopbackPort } from '../fixtures/listenOnLoopback';
import { createTestBrowser } from '../fixtures/testBrowser';
import { createCliHarness, type CliHarness } from './cliHarness';
import { startCli } from './cliProcess';
import { ageStoredCredential, mcpAnswerTo, statusOf, storedCredential } from './storedCredentials';

const TIMEOUT_MS = 5_000;

function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields), signal: AbortSignal.timeout(TIMEOUT_MS) });
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
}

function refreshAt(server: BetterAuthServer, clientId: string, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
  return postForm(server.metadata.token_endpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });
}

describe('better-auth with @better-auth/oauth-provider', function () {
  let server: BetterAuthServer;
  let cli: CliHarness;

  /** The stored access token expires at the MCP server, and the stored credential is dated back by its lifetime. */
  async function letTokenExpire(): Promise<void> {
    server.expire((await storedCredential(cli)).accessToken);
    await ageStoredCredential(cli, BETTER_AUTH_ACCESS_TOKEN_SECONDS + 1);
  }

  /** A sign-in without MCP Keyring, for what the server answers to scopes MCP Keyring would not ask for. */
  async function tokenResponseFor(scope: string): Promise<Record<string, unknown>> {
    const registration = await postJson(server.metadata.registration_endpoint!, { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', application_type: 'native' });
    const { client_id: clientId } = (await registration.json()) as { client_id: string };
    const redirectUri = `http://127.0.0.1:${await freeLoopbackPort()}/callback`;
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const authorization = new URL(server.metadata.authorization_endpoint);
    authorization.search = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope, resource: server.mcpUrl, state: oauth.generateRandomState(),
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    }).toString();
    const browser = createTestBrowser({ email: server.account.email, password: server.account.password });
    await browser.open(authorization.href);
    const code = new URL(browser.lastFinalUrl!).searchParams.get('code')!;
    const token = await postForm(server.metadata.token_endpoint, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: codeVerifier, resource: server.mcpUrl });
    assert.equal(token.status, 200);
    return (await token.json()) as Record<string, unknown>;
  }

  async function login(...args: string[]): Promise<void> {
    const result = await cli.run('login', server.mcpUrl, ...args);
    assert.equal(result.code, 0, result.stderr);
  }

  before(async function () {
    server = await startBetterAuthServer();
  });
  after(async function () {
    await server?.close();
  });
  beforeEach(async function () {
    cli = await createCliHarness({ email: server.account.email, password: server.account.password });
  });
  afterEach(async function () {
    await cli.dispose();
  });

  describe('its habits', function () {
    it('has an issuer with a path, whose metadata MCP Keyring finds by RFC 8414 path insertion', async function () {
      assert.equal(server.issuer, `${server.origin}/api/auth`);
      assert.equal(server.metadata.issuer, server.issuer);
      const before = server.requestCount('/.well-known/oauth-authorization-server/api/auth');
      await login();
      assert.equal(server.requestCount('/.well-known/oauth-authorization-server/api/auth'), before + 1);
      assert.equal((await statusOf(cli)).issuer, server.issuer);
    });

    it('registers clients only where the deployment opted in: without it, MCP Keyring asks for a client id and signs in with one an administrator made', async function () {
      const closed = await startBetterAuthServer({ registration: false });
      try {
        const refused = await postJson(`${closed.issuer}/oauth2/register`, { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', application_type: 'native' });
        assert.ok(refused.status >= 400 && refused.status < 500, `registration answered ${refused.status}`);
        const withoutClient = await cli.run('tools', closed.mcpUrl);
        assert.equal(withoutClient.code, 1);
        assert.match(withoutClient.stderr, /client/i);
        assert.equal(cli.browserOpens, 0);
        const clientId = await closed.createClient(['http://127.0.0.1/callback']);
        const withClient = await cli.run('tools', closed.mcpUrl, '--client-id', clientId);
        assert.equal(withClient.code, 0, withClient.stderr);
        assert.match(withClient.stdout, /^echo — /m);
        assert.equal((await statusOf(cli)).clientOrigin, 'pre-registered');
      } finally {
        await closed.close();
      }
    });

    it('accepts loopback redirect URIs only from native clients; MCP Keyring registers as one, once per redirect URI', async function () {
      const web = await postJson(`${server.issuer}/oauth2/register`, { redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' });
      assert.equal(web.status, 400);
      assert.equal(((await web.json()) as { error: string }).error, 'invalid_redirect_uri');
      const registrations = server.requestCount('/api/auth/oauth2/register');
      for (const port of [await freeLoopbackPort(), await freeLoopbackPort()]) await login('--port', String(port));
      // A registration is reused only for its exact redirect URI (servers that match ports exactly refuse another).
      assert.equal(server.requestCount('/api/auth/oauth2/register'), registrations + 2);
      assert.equal(cli.browserOpens, 2);
    });

    it('issues tokens only for a registered audience: another resource gets invalid_target, the MCP server\'s works', async function () {
      await login();
      const { refreshToken } = await storedCredential(cli);
      const clientId = (await statusOf(cli)).clientId as string;
      const elsewhere = await refreshAt(server, clientId, refreshToken!, { resource: `${server.origin}/other` });
      assert.equal(elsewhere.status, 400);
      assert.equal(((await elsewhere.json()) as { error: string }).error, 'invalid_target');
      const call = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"for the registered audience"}');
      assert.equal(call.code, 0, call.stderr);
      await letTokenExpire();
      const afterRefresh = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"refreshed for it"}');
      assert.equal(afterRefresh.code, 0, afterRefresh.stderr);
      assert.equal(afterRefresh.stdout.trim(), 'refreshed for it');
      assert.equal(cli.browserOpens, 1);
    });

    it('rotates refresh tokens strictly: reusing a rotated one revokes the whole family, and MCP Keyring then signs in again', async function () {
      await login();
      const { refreshToken: first } = await storedCredential(cli);
      const clientId = (await statusOf(cli)).clientId as string;
      await letTokenExpire();
      assert.equal((await cli.run('call', server.mcpUrl, 'whoami')).code, 0);
      const { refreshToken: second } = await storedCredential(cli);
      assert.notEqual(second, first);
      const reuse = await refreshAt(server, clientId, first!);
      assert.equal(reuse.status, 400);
      assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
      const family = await refreshAt(server, clientId, second!);
      assert.equal(family.status, 400, 'the current refresh token died with the reused one');
      await letTokenExpire();
      const call = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"signed in again"}');
      assert.equal(call.code, 0, call.stderr);
      assert.equal(call.stdout.trim(), 'signed in again');
      assert.equal(cli.browserOpens, 2, 'a refused refresh leads to a new sign-in, never to a loop');
    });

    it('issues a refresh token only with offline_access, which MCP Keyring asks for because the server lists it', async function () {
      assert.equal((await tokenResponseFor('mcp:read')).refresh_token, undefined);
      assert.equal(typeof (await tokenResponseFor('mcp:read offline_access')).refresh_token, 'string');
      assert.ok(server.metadata.scopes_supported?.includes('offline_access'));
      await login();
      const status = await statusOf(cli);
      assert.ok((status.scopes as string[]).includes('offline_access'));
      assert.equal(status.hasRefreshToken, true);
    });

    it('signs ID tokens with EdDSA only, and MCP Keyring signs in with openid all the same', async function () {
      assert.deepEqual(server.metadata.id_token_signing_alg_values_supported, ['EdDSA']);
      const { id_token: idToken } = await tokenResponseFor('openid mcp:read');
      assert.equal(typeof idToken, 'string');
      assert.equal((decodeProtectedHeader(idToken as string) as { alg: string }).alg, 'EdDSA');
      // oauth4webapi holds an ID token's algorithm to the server's list (to RS256 where it lists none).
      await login('--scope', 'openid mcp:read');
      const status = await statusOf(cli);
      assert.ok((status.scopes as string[]).includes('openid'));
      assert.equal(status.account, server.account.userId);
    });

    it('adds expires_at to its token responses; MCP Keyring times the token by expires_in', async function () {
      await login();
      const status = await statusOf(cli);
      assert.equal((status.expiresAt as number) - (status.obtainedAt as number), BETTER_AUTH_ACCESS_TOKEN_SECONDS * 1000);
      const { refreshToken } = await storedCredential(cli);
      const refreshed = await refreshAt(server, status.clientId as string, refreshToken!);
      assert.equal(refreshed.status, 200);
      const body = (await refreshed.json()) as { expires_in: number; expires_at: number };
      assert.equal(body.expires_in, BETTER_AUTH_ACCESS_TOKEN_SECONDS);
      assert.equal(typeof body.expires_at, 'number');
    });
  });

  describe('the command line', function () {
    it('lists the tools from a cold store: discovery from the 401, registration, sign-in and consent on the app\'s pages', async function () {
      const counted = ['/.well-known/oauth-protected-resource/mcp', '/api/auth/oauth2/register', '/api/auth/oauth2/token'];
      const before = counted.map((path) => server.requestCount(path));
      const result = await cli.run('tools', server.mcpUrl);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^echo — /m);
      assert.match(result.stdout, /^whoami — /m);
      assert.equal(cli.browserOpens, 1);
      assert.deepEqual(cli.browser.history.map((visit) => `${visit.method} ${new URL(visit.url).pathname} ${visit.status}`), [
        'GET /api/auth/oauth2/authorize 302',
        'GET /sign-in 200',
        'POST /api/auth/sign-in/email 302',
        'GET /consent 200',
        'POST /consent 303',
      ]);
      assert.deepEqual(counted.map((path, index) => server.requestCount(path) - before[index]!), [1, 1, 1]);
    });

    it('calls a tool as the person who signed in', async function () {
      await login();
      const echo = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"through better-auth"}');
      assert.equal(echo.code, 0, echo.stderr);
      assert.equal(echo.stdout.trim(), 'through better-auth');
      const whoami = await cli.run('call', server.mcpUrl, 'whoami');
      assert.equal((JSON.parse(whoami.stdout) as { sub: string }).sub, server.account.userId);
    });

    it('refreshes an expired access token with no browser; the MCP server refuses the old one', async function () {
      await login();
      const before = await storedCredential(cli);
      await letTokenExpire();
      const tokenRequests = server.requestCount('/api/auth/oauth2/token');
      const call = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"after expiry"}');
      assert.equal(call.code, 0, call.stderr);
      assert.equal(call.stdout.trim(), 'after expiry');
      assert.equal(cli.browserOpens, 1, 'no second sign-in');
      assert.equal(server.requestCount('/api/auth/oauth2/token'), tokenRequests + 1);
      const after = await storedCredential(cli);
      assert.notEqual(after.accessToken, before.accessToken);
      assert.notEqual(after.refreshToken, before.refreshToken);
      assert.equal((await mcpAnswerTo(server.mcpUrl, before.accessToken)).status, 401);
      assert.equal((await mcpAnswerTo(server.mcpUrl, after.accessToken)).status, 200);
    });

    it('refreshes once when two processes sharing a store ask at the same moment, and the credential works after', async function () {
      await login();
      await letTokenExpire();
      const tokenRequests = server.requestCount('/api/auth/oauth2/token');
      const runs = await Promise.all([1, 2].map(() => startCli(['token', server.mcpUrl, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true }).done));
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      assert.equal(runs[0]!.stdout, runs[1]!.stdout);
      assert.equal(server.requestCount('/api/auth/oauth2/token'), tokenRequests + 1, 'one refresh: a second would have reused the rotated token and revoked the family');
      const call = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"still signed in"}');
      assert.equal(call.code, 0, call.stderr);
      assert.equal(cli.browserOpens, 1);
    });

    it('shows the stored sign-in in status without printing a secret', async function () {
      await login();
      const status = await statusOf(cli);
      assert.equal(status.issuer, server.issuer);
      assert.equal(status.resource, server.mcpUrl);
      assert.equal(status.clientOrigin, 'dynamic-registration');
      assert.equal(status.hasRefreshToken, true);
      assert.equal(status.needsSignIn, false);
      const credential = await storedCredential(cli);
      assert.equal((await cli.run('status', server.mcpUrl)).code, 0);
      assert.ok(!cli.transcript.includes(credential.accessToken) && !cli.transcript.includes(credential.refreshToken!));
    });

    it('logs out by revoking: the refresh token is dead at the server', async function () {
      await login();
      const credential = await storedCredential(cli);
      const clientId = (await statusOf(cli)).clientId as string;
      const revocations = server.requestCount('/api/auth/oauth2/revoke');
      const logout = await cli.run('logout', server.mcpUrl);
      assert.equal(logout.code, 0, logout.stderr);
      assert.ok(server.requestCount('/api/auth/oauth2/revoke') > revocations);
      assert.equal((await cli.storeContents()).includes(credential.refreshToken!), false);
      const refresh = await refreshAt(server, clientId, credential.refreshToken!);
      assert.equal(refresh.status, 400);
      assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
    });

    it('signs in with DPoP where the MCP server asks for it: bound tokens, a tool call, a refresh with no browser', async function () {
      assert.ok((server.metadata.dpop_signing_alg_values_supported as string[] | undefined)?.includes('ES256'));
      const dpopServer = await startBetterAuthServer({ dpop: true });
      try {
        const tools = await cli.run('tools', dpopServer.mcpUrl);
        assert.equal(tools.code, 0, tools.stderr);
        assert.match(tools.stdout, /^echo — /m);
        const status = await statusOf(cli);
        assert.equal(status.dpopBound, true);
        const { accessToken } = await storedCredential(cli);
        assert.equal(typeof (decodeJwt(accessToken).cnf as { jkt?: unknown } | undefined)?.jkt, 'string', 'better-auth bound the token to the key');
        assert.equal((await mcpAnswerTo(dpopServer.mcpUrl, accessToken)).status, 401, 'the bound token is refused as a Bearer token');
        dpopServer.expire(accessToken);
        await ageStoredCredential(cli, BETTER_AUTH_ACCESS_TOKEN_SECONDS + 1);
        const tokenRequests = dpopServer.requestCount('/api/auth/oauth2/token');
        const call = await cli.run('call', dpopServer.mcpUrl, 'echo', '--args', '{"text":"bound to a key"}');
        assert.equal(call.code, 0, call.stderr);
        assert.equal(call.stdout.trim(), 'bound to a key');
        assert.equal(dpopServer.requestCount('/api/auth/oauth2/token'), tokenRequests + 1);
        assert.equal(cli.browserOpens, 1);
      } finally {
        await dpopServer.close();
      }
    });

    it('offers no device authorization: --device stops at once, saying so', async function () {
      assert.equal(server.metadata.device_authorization_endpoint, undefined);
      const result = await cli.run('tools', server.mcpUrl, '--device');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^mcp-keyring: device_flow_unavailable: /m);
      assert.equal(cli.browserOpens, 0);
    });
  });
});
