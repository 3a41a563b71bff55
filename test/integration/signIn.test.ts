// The command line against real servers in the shapes deployments use: oidc-provider as the authorization server,
// MCP servers built with the official SDKs (stateful 2025-11-25 and stateless 2026-07-28).
import assert from 'node:assert/strict';
import { startAuthorizationServer, type AuthorizationServer } from '../fixtures/authorizationServer';
import { startMcpServer, type McpServer } from '../fixtures/mcpServer';
import { createCliHarness, type CliHarness } from './cliHarness';
import { createKeyringOver } from './testKeyring';
import { createTestBrowser } from '../fixtures/testBrowser';
import { MemoryStore } from '../unit/core/fakes';

/** Nothing the user did not ask to see: no token, refresh token or client secret in anything printed. */
async function assertNoSecretPrinted(cli: CliHarness, mcp: McpServer, extraSecrets: string[] = []): Promise<void> {
  const stored = await cli.storeContents();
  const refreshTokens = [...stored.matchAll(/"refreshToken\\?":\\?"([^"\\]+)/g)].map((match) => match[1]!);
  for (const secret of [...mcp.seenTokens, ...refreshTokens, ...extraSecrets]) {
    assert.ok(!cli.transcript.includes(secret), 'a secret appeared in the command line output');
  }
}

for (const sdk of ['v1', 'v2'] as const) {
  describe(`signing in to a server with path-aware resource metadata and a separate authorization server (SDK ${sdk})`, function () {
    let as: AuthorizationServer;
    let mcp: McpServer;
    let cli: CliHarness;

    before(async function () {
      as = await startAuthorizationServer();
      mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as, sdk });
    });
    after(async function () {
      await mcp.close();
      await as.close();
    });
    beforeEach(async function () {
      cli = await createCliHarness();
    });
    afterEach(async function () {
      await cli.dispose();
    });

    it('lists the tools after signing in when the server first answers 401', async function () {
      const tokensSeen = mcp.seenTokens.length;
      const result = await cli.run('tools', mcp.url, '--json');
      assert.equal(result.code, 0, result.stderr);
      const listed = JSON.parse(result.stdout) as { protocolVersion: string; tools: { name: string }[] };
      assert.deepEqual(listed.tools.map((tool) => tool.name).sort(), ['admin_action', 'echo', 'whoami']);
      assert.equal(listed.protocolVersion, sdk === 'v1' ? '2025-11-25' : '2026-07-28');
      assert.equal(cli.browserOpens, 1);
      assert.ok(mcp.seenTokens.length > tokensSeen, 'the server saw no token from this run');
      await assertNoSecretPrinted(cli, mcp);
    });

    it('calls a tool with arguments and reuses the stored credential without a second sign-in', async function () {
      assert.equal((await cli.run('login', mcp.url)).code, 0);
      const tokenRequests = as.requestCount('token');
      const result = await cli.run('call', mcp.url, 'echo', '--args', '{"text":"hello keyring"}');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'hello keyring');
      assert.equal(cli.browserOpens, 1);
      assert.equal(as.requestCount('token'), tokenRequests, 'a valid stored token needs no token request');
    });

    it('signs in again within the discovery lifetime with nothing but the browser step and the token request', async function () {
      const keyring = createKeyringOver(new MemoryStore(), createTestBrowser());
      const first = await keyring.signIn(mcp.url);
      const mcpRequests = mcp.requestLog.length;
      const [metadataRequests, registrations, tokenRequests] = [as.requestCount('discovery'), as.requestCount('registration'), as.requestCount('token')];
      const again = await keyring.signIn(mcp.url);
      assert.equal(mcp.requestLog.length, mcpRequests, 'the 401 challenge and resource metadata are remembered with the discovery');
      assert.equal(as.requestCount('discovery'), metadataRequests);
      assert.equal(as.requestCount('registration'), registrations);
      assert.equal(as.requestCount('token'), tokenRequests + 1);
      assert.deepEqual(again.scopes, first.scopes, 'the remembered challenge still chooses the scopes');
    });

    it('sends the resource indicator so the access token is audience-bound to the MCP server', async function () {
      assert.equal((await cli.run('login', mcp.url)).code, 0);
      const result = await cli.run('call', mcp.url, 'whoami');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /mcp:read/);
      const token = (await cli.run('token', mcp.url)).stdout.trim();
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: string };
      assert.equal(payload.aud, mcp.url);
    });

    it('steps up to the union of granted and challenged scopes when a tool demands more', async function () {
      assert.equal((await cli.run('login', mcp.url)).code, 0);
      const result = await cli.run('call', mcp.url, 'admin_action', '--json');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(cli.browserOpens, 2, 'step-up needs one more consent');
      const status = JSON.parse((await cli.run('status', mcp.url, '--json')).stdout) as { scopes: string[] }[];
      assert.ok(status[0]!.scopes.includes('mcp:admin') && status[0]!.scopes.includes('mcp:read'));
    });
  });
}

describe('signing in to a server with root resource metadata and an issuer that has a path', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    as = await startAuthorizationServer({ issuerPath: '/tenant/a', metadataLocations: ['oidc-path-append'] });
    mcp = await startMcpServer({ shape: 'root-metadata', authorizationServer: as });
    cli = await createCliHarness();
  });
  after(async function () {
    await cli.dispose();
    await mcp.close();
    await as.close();
  });

  it('finds the metadata through the RFC 8414, OpenID insertion and OpenID append ladder and signs in', async function () {
    const result = await cli.run('tools', mcp.url);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /echo/);
  });

  it('explains every discovery step in diagnose', async function () {
    const result = await cli.run('diagnose', mcp.url, '--json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { steps: { url: string; status: number }[]; discovery: { authorizationServer: { issuer: string } } };
    const urls = report.steps.map((step) => step.url);
    const origin = new URL(mcp.url).origin;
    const asOrigin = new URL(as.issuer).origin;
    assert.deepEqual(urls, [
      `${origin}/.well-known/oauth-protected-resource/mcp`,
      `${origin}/.well-known/oauth-protected-resource`,
      `${asOrigin}/.well-known/oauth-authorization-server/tenant/a`,
      `${asOrigin}/.well-known/openid-configuration/tenant/a`,
      `${asOrigin}/tenant/a/.well-known/openid-configuration`,
    ]);
    assert.deepEqual(report.steps.map((step) => step.status), [404, 200, 404, 404, 200]);
    assert.equal(report.discovery.authorizationServer.issuer, as.issuer);
  });
});

describe('signing in with a pre-registered client where the authorization server offers no registration', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;

  before(async function () {
    as = await startAuthorizationServer({
      registration: false,
      clients: [
        { client_id: 'public-app', token_endpoint_auth_method: 'none', application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code', 'refresh_token'] },
        { client_id: 'confidential-app', client_secret: 'confidential-app-secret-value', token_endpoint_auth_method: 'client_secret_post', application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code', 'refresh_token'] },
      ],
    });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });

  it('fails with a clear message naming --client-id and the redirect URI to allow when no client is given', async function () {
    const cli = await createCliHarness();
    const result = await cli.run('login', mcp.url);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /registration_unavailable/);
    assert.match(result.stderr, /--client-id/);
    assert.match(result.stderr, /http:\/\/127\.0\.0\.1\/callback/);
    assert.equal(await cli.storeContents(), '');
    await cli.dispose();
  });

  it('signs in with a public pre-registered client', async function () {
    const cli = await createCliHarness();
    const result = await cli.run('tools', mcp.url, '--client-id', 'public-app');
    assert.equal(result.code, 0, result.stderr);
    const status = JSON.parse((await cli.run('status', '--json')).stdout) as { clientId: string; clientOrigin: string }[];
    assert.equal(status[0]!.clientId, 'public-app');
    assert.equal(status[0]!.clientOrigin, 'pre-registered');
    await cli.dispose();
  });

  it('authenticates a confidential client with client_secret_post, the secret taken from the environment and never printed', async function () {
    const cli = await createCliHarness({}, { MCP_KEYRING_CLIENT_SECRET: 'confidential-app-secret-value' });
    const result = await cli.run('tools', mcp.url, '--client-id', 'confidential-app', '--client-auth', 'client_secret_post', '--verbose');
    assert.equal(result.code, 0, result.stderr);
    await assertNoSecretPrinted(cli, mcp, ['confidential-app-secret-value']);
    await cli.dispose();
  });
});

describe('signing in to a legacy server that is its own authorization server', function () {
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    mcp = await startMcpServer({ shape: 'legacy-own-as' });
    cli = await createCliHarness();
  });
  after(async function () {
    await cli.dispose();
    await mcp.close();
  });

  it('asks for scopes by name when the server suggests none and the authorization server refuses an empty request', async function () {
    const result = await cli.run('login', mcp.url);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /access_denied: .*--scope/);
    assert.equal((await cli.run('status', '--json')).stdout.trim(), '[]');
  });

  it('treats the server origin as the issuer and signs in with the scopes the user names, naming no resource', async function () {
    const result = await cli.run('tools', mcp.url, '--json', '--scope', 'mcp:read');
    assert.equal(result.code, 0, result.stderr);
    // The 2025-03-26 revision knows no `resource`; the server's own audience (its default resource) binds the token.
    assert.equal(new URL(cli.openedUrls.at(-1)!).searchParams.has('resource'), false);
    const status = JSON.parse((await cli.run('status', '--json')).stdout) as { issuer: string }[];
    assert.equal(status[0]!.issuer, new URL(mcp.url).origin);
  });
});

describe('signing in to a legacy server that publishes no metadata at all', function () {
  let mcp: McpServer;
  let cli: CliHarness;

  before(async function () {
    mcp = await startMcpServer({
      shape: 'legacy-own-as',
      authorizationServerOptions: { metadataLocations: [], routes: { authorization: '/authorize', token: '/token', registration: '/register' } },
    });
    cli = await createCliHarness();
  });
  after(async function () {
    await cli.dispose();
    await mcp.close();
  });

  it('falls back to /authorize, /token and /register on the server origin', async function () {
    const result = await cli.run('tools', mcp.url, '--scope', 'mcp:read');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse((await cli.run('diagnose', mcp.url, '--json')).stdout) as { discovery: { metadataSource: string; authorizationServer: { token_endpoint: string } } };
    assert.equal(report.discovery.metadataSource, 'defaults');
    assert.equal(report.discovery.authorizationServer.token_endpoint, `${new URL(mcp.url).origin}/token`);
  });
});

describe('consent and sign-out', function () {
  let as: AuthorizationServer;
  let mcp: McpServer;

  before(async function () {
    as = await startAuthorizationServer({ accessTokenFormat: 'opaque' });
    mcp = await startMcpServer({ shape: 'path-metadata', authorizationServer: as });
  });
  after(async function () {
    await mcp.close();
    await as.close();
  });

  it('reports denied consent clearly and stores no credential', async function () {
    const cli = await createCliHarness({ consent: 'deny' });
    const result = await cli.run('login', mcp.url);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /access_denied/);
    assert.doesNotMatch(await cli.storeContents(), /accessToken/);
    assert.equal((await cli.run('status', '--json')).stdout.trim(), '[]');
    await cli.dispose();
  });

  it('revokes the refresh token and the access token at the server on logout, then forgets them', async function () {
    const cli = await createCliHarness();
    assert.equal((await cli.run('login', mcp.url)).code, 0);
    const stored = await cli.storeContents();
    const refreshToken = /"refreshToken\\?":\\?"([^"\\]+)/.exec(stored)?.[1];
    const accessToken = (await cli.run('token', mcp.url)).stdout.trim();
    assert.ok(refreshToken, 'a refresh token was stored');
    assert.equal((await as.introspect(refreshToken)).active, true);

    const result = await cli.run('logout', mcp.url, '--json');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((JSON.parse(result.stdout) as { revoked: string[] }).revoked, ['refresh_token', 'access_token']);
    assert.equal((await as.introspect(refreshToken)).active, false);
    assert.equal((await as.introspect(accessToken)).active, false);
    assert.doesNotMatch(await cli.storeContents(), /accessToken|refreshToken/);
    await cli.dispose();
  });
});
