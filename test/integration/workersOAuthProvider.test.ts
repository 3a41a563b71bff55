// Signing in to @cloudflare/workers-oauth-provider, the library behind Cloudflare's and many other remote MCP
// servers, running in workerd as those servers do: the MCP endpoint behind the provider's apiHandler, the sign-in
// page in its default handler. The checklist of issue #17 through the real command line, for the current release and
// for 0.1.0, which deployed servers still run: it publishes no resource metadata, matches redirect URIs exactly (port
// included), and makes a `resource` it is sent the token's audience, which its own API then compares with its origin.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startWorkersOAuthServer, type WorkersOAuthRelease, type WorkersOAuthServer } from '../fixtures/workersOAuthServer';
import { createCliHarness, type CliHarness } from './cliHarness';
import { ageStoredCredential, statusOf, storedCredential } from './storedCredentials';
import { startCli } from './cliProcess';
import { createTestBrowser, type TestBrowser } from '../fixtures/testBrowser';

/** The provider's shortest access token lifetime, which the fixture uses. */
const ACCESS_TOKEN_LIFETIME_SECONDS = 60;

/**
 * Lets a token lifetime and a second pass on both sides: the Worker's clock moves, and the stored credential is
 * dated back by as much, as if this process had slept through it.
 */
async function letTokenExpire(server: WorkersOAuthServer, cli: CliHarness): Promise<void> {
  const elapsedSeconds = ACCESS_TOKEN_LIFETIME_SECONDS + 1;
  await server.advanceClock(elapsedSeconds);
  await ageStoredCredential(cli, elapsedSeconds);
}

function mcpAnswerTo(server: WorkersOAuthServer, accessToken: string): Promise<Response> {
  return fetch(server.mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    signal: AbortSignal.timeout(5_000),
  });
}

/** A browser that, once told to `meet(n)`, holds each sign-in page until `n` of them are waiting, then opens them all. */
function meetingBrowser(inner: TestBrowser): TestBrowser & { meet(count: number): void } {
  let count = 1;
  let waiting: (() => void)[] = [];
  return {
    meet: (n) => { count = n; },
    async open(url) {
      if (count > 1) {
        const turn = new Promise<void>((resolve) => waiting.push(resolve));
        if (waiting.length >= count) {
          waiting.forEach((release) => release());
          waiting = [];
          count = 1;
        }
        await turn;
      }
      return inner.open(url);
    },
    get lastFinalUrl() { return inner.lastFinalUrl; },
    get lastFinalStatus() { return inner.lastFinalStatus; },
    get history() { return inner.history; },
  };
}

/** The `resource` and `redirect_uri` of each authorization request the command line sent the browser to. */
function authorizationRequests(cli: CliHarness): { resource: string | null; redirectUri: string | null }[] {
  return cli.openedUrls.map((opened) => {
    const { searchParams } = new URL(opened);
    return { resource: searchParams.get('resource'), redirectUri: searchParams.get('redirect_uri') };
  });
}

/** Holds a port on 127.0.0.1 the way another program would, until the returned function frees it. */
async function occupy(port: number): Promise<() => Promise<void>> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

interface Release {
  readonly release: WorkersOAuthRelease;
  readonly title: string;
  /** RFC 9728 metadata at the path-aware URL, named in the 401; 0.1.0 has none. */
  readonly publishesResourceMetadata: boolean;
}

const RELEASES: readonly Release[] = [
  { release: 'current', title: 'the current release', publishesResourceMetadata: true },
  { release: '0.1', title: 'the 0.1.0 release', publishesResourceMetadata: false },
];

describe('@cloudflare/workers-oauth-provider in workerd', function () {
  let cli: CliHarness;

  beforeEach(async function () {
    cli = await createCliHarness();
  });
  afterEach(async function () {
    await cli.dispose();
  });

  for (const { release, title, publishesResourceMetadata } of RELEASES) {
    describe(title, function () {
      let server: WorkersOAuthServer;

      before(async function () {
        server = await startWorkersOAuthServer({ release });
      });
      after(async function () {
        await server?.close();
      });

      it('lists the tools from a cold store: discovery from the 401, dynamic registration, sign-in on its page', async function () {
        const before = await server.requestCounts();
        const result = await cli.run('tools', server.mcpUrl);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^echo — /m);
        assert.match(result.stdout, /^whoami — /m);
        assert.equal(cli.browserOpens, 1);
        assert.deepEqual(cli.browser.history.map((visit) => `${visit.method} ${visit.status}`), ['GET 200', 'POST 302']);
        const after = await server.requestCounts();
        const increase = (path: string) => (after[path] ?? 0) - (before[path] ?? 0);
        assert.equal(increase('/.well-known/oauth-protected-resource/mcp'), 1);
        assert.equal(increase('/.well-known/oauth-protected-resource'), publishesResourceMetadata ? 0 : 1, 'the root location is tried only when the path-aware one has nothing');
        assert.equal(increase('/register'), 1);
        assert.equal(increase('/token'), 1);
      });

      it(publishesResourceMetadata
        ? 'names the resource from its resource metadata in the authorization request (RFC 8707)'
        : 'names no resource to a server that published no resource metadata, so the token is one its API accepts', async function () {
        const result = await cli.run('call', server.mcpUrl, 'whoami');
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(authorizationRequests(cli).map((request) => request.resource), [publishesResourceMetadata ? server.mcpUrl : null]);
      });

      it('calls a tool as the person who signed in', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        const echo = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"through workerd"}');
        assert.equal(echo.code, 0, echo.stderr);
        assert.equal(echo.stdout.trim(), 'through workerd');
        const whoami = await cli.run('call', server.mcpUrl, 'whoami');
        assert.equal((JSON.parse(whoami.stdout) as { sub: string }).sub, 'alice');
      });

      it('signs in again on the loopback port its registration was made for, with that registration', async function () {
        const before = await server.requestCounts();
        for (let signIn = 0; signIn < 2; signIn++) {
          const login = await cli.run('login', server.mcpUrl);
          assert.equal(login.code, 0, login.stderr);
        }
        const after = await server.requestCounts();
        assert.equal((after['/register'] ?? 0) - (before['/register'] ?? 0), 1);
        const [first, second] = authorizationRequests(cli);
        assert.equal(second!.redirectUri, first!.redirectUri);
      });

      it('registers anew for another port when the registered one is taken, and signs in there', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        const registeredPort = Number(new URL(authorizationRequests(cli)[0]!.redirectUri!).port);
        const before = (await server.requestCounts())['/register'] ?? 0;
        const free = await occupy(registeredPort);
        try {
          const login = await cli.run('login', server.mcpUrl);
          assert.equal(login.code, 0, login.stderr);
        } finally {
          await free();
        }
        assert.equal((await server.requestCounts())['/register'], before + 1);
        const [first, second] = authorizationRequests(cli);
        assert.notEqual(second!.redirectUri, first!.redirectUri);
        const call = await cli.run('call', server.mcpUrl, 'whoami');
        assert.equal(call.code, 0, call.stderr);
      });

      it('runs two sign-ins at the same moment, each on its own port with its own state and verifier, and both succeed', async function () {
        // The person opens neither sign-in page before both are waiting, so the two sign-ins surely overlap: without
        // that, one could end before the other listens, and both would use the registered port in turn.
        const browser = meetingBrowser(createTestBrowser());
        const pair = await createCliHarness({}, {}, browser);
        try {
          assert.equal((await pair.run('login', server.mcpUrl)).code, 0);
          const before = (await server.requestCounts())['/register'] ?? 0;
          browser.meet(2);
          const runs = await Promise.all([pair.run('login', server.mcpUrl), pair.run('login', server.mcpUrl)]);
          for (const run of runs) assert.equal(run.code, 0, run.stderr);
          const [, first, second] = pair.openedUrls.map((opened) => new URL(opened).searchParams);
          assert.notEqual(first!.get('redirect_uri'), second!.get('redirect_uri'), 'one listens on the registered port, the other registers for another');
          assert.notEqual(first!.get('state'), second!.get('state'));
          assert.notEqual(first!.get('code_challenge'), second!.get('code_challenge'));
          assert.equal((await server.requestCounts())['/register'], before + 1);
          const call = await pair.run('call', server.mcpUrl, 'whoami');
          assert.equal(call.code, 0, call.stderr);
        } finally {
          await pair.dispose();
        }
      });

      it('after a sign-in that got no callback because the server forgot its registration, registers anew on the next', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        assert.equal((await cli.run('logout', server.mcpUrl)).code, 0);
        await server.forgetClients();
        const stuck = await cli.run('tools', server.mcpUrl, '--timeout', '2');
        assert.equal(stuck.code, 1);
        // The provider refuses the unknown client on its page (the fixture's page answers 500); nothing comes back.
        assert.equal(cli.browser.history.at(-1)!.status, 500);
        assert.match(stuck.stderr, /^mcp-keyring: timeout: no sign-in callback arrived within 2 s; if the authorization server showed an error, it may no longer know the client registered there earlier: the next sign-in registers a new one$/m);
        const before = (await server.requestCounts())['/register'] ?? 0;
        const tools = await cli.run('tools', server.mcpUrl);
        assert.equal(tools.code, 0, tools.stderr);
        assert.equal((await server.requestCounts())['/register'], before + 1);
      });

      it('refreshes an expired access token with no browser, and the old token is refused', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        const before = await storedCredential(cli);
        await letTokenExpire(server, cli);
        const tokenRequests = (await server.requestCounts())['/token'] ?? 0;
        const call = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"after expiry"}');
        assert.equal(call.code, 0, call.stderr);
        assert.equal(call.stdout.trim(), 'after expiry');
        assert.equal(cli.browserOpens, 1, 'no second sign-in');
        assert.equal((await server.requestCounts())['/token'], tokenRequests + 1);
        const after = await storedCredential(cli);
        assert.notEqual(after.accessToken, before.accessToken);
        assert.notEqual(after.refreshToken, before.refreshToken, 'the provider rotates refresh tokens');
        assert.equal((await mcpAnswerTo(server, before.accessToken)).status, 401);
      });

      it('refreshes once when two processes sharing a store ask at the same moment, and the credential works after', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        await letTokenExpire(server, cli);
        const tokenRequests = (await server.requestCounts())['/token'] ?? 0;
        const runs = await Promise.all([1, 2].map(() => startCli(['token', server.mcpUrl, '--store', cli.storeDirectory, '--no-browser'], { fromSource: true }).done));
        for (const run of runs) assert.equal(run.code, 0, run.stderr);
        assert.equal(runs[0]!.stdout, runs[1]!.stdout);
        assert.equal((await server.requestCounts())['/token'], tokenRequests + 1);
        const call = await cli.run('call', server.mcpUrl, 'echo', '--args', '{"text":"still signed in"}');
        assert.equal(call.code, 0, call.stderr);
        assert.equal(cli.browserOpens, 1);
      });

      it('shows the stored sign-in in status without printing a secret', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        const status = await statusOf(cli);
        assert.equal(status.issuer, server.origin);
        assert.equal(status.resource, server.mcpUrl);
        assert.equal(status.clientOrigin, 'dynamic-registration');
        assert.equal(status.hasRefreshToken, true);
        assert.equal(status.needsSignIn, false);
        assert.ok(typeof status.expiresAt === 'number' && typeof status.obtainedAt === 'number');
        assert.equal(status.expiresAt - status.obtainedAt, ACCESS_TOKEN_LIFETIME_SECONDS * 1000);
        const credential = await storedCredential(cli);
        assert.equal((await cli.run('status', server.mcpUrl)).code, 0);
        assert.ok(!cli.transcript.includes(credential.accessToken) && !cli.transcript.includes(credential.refreshToken!));
      });

      it('logs out by revoking at the token endpoint: the refresh token and the access token are dead at the server', async function () {
        assert.equal((await cli.run('login', server.mcpUrl)).code, 0);
        const credential = await storedCredential(cli);
        const clientId = (await statusOf(cli)).clientId as string;
        const logout = await cli.run('logout', server.mcpUrl);
        assert.equal(logout.code, 0, logout.stderr);
        assert.equal(await cli.storeContents().then((contents) => contents.includes(credential.refreshToken!)), false);
        const refresh = await fetch(server.tokenEndpoint, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.refreshToken!, client_id: clientId }),
          signal: AbortSignal.timeout(5_000),
        });
        assert.equal(refresh.status, 400);
        assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
        assert.equal((await mcpAnswerTo(server, credential.accessToken)).status, 401);
      });

      it('offers neither device authorization nor DPoP: --device stops at once, saying so', async function () {
        const metadata = (await (await fetch(`${server.origin}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(5_000) })).json()) as Record<string, unknown>;
        assert.equal(metadata.device_authorization_endpoint, undefined);
        assert.equal(metadata.dpop_signing_alg_values_supported, undefined);
        const result = await cli.run('tools', server.mcpUrl, '--device');
        assert.equal(result.code, 1);
        assert.match(result.stderr, /^mcp-keyring: device_flow_unavailable: /m);
        assert.equal(cli.browserOpens, 0);
      });

      if (!publishesResourceMetadata) {
        it('serves no resource metadata, and its 401 names none', async function () {
          for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
            assert.equal((await fetch(`${server.origin}${path}`, { signal: AbortSignal.timeout(5_000) })).status, 404, path);
          }
          const challenge = await fetch(server.mcpUrl, { method: 'POST', signal: AbortSignal.timeout(5_000) });
          assert.equal(challenge.status, 401);
          assert.doesNotMatch(challenge.headers.get('www-authenticate') ?? '', /resource_metadata/);
        });
      }
    });
  }
});
